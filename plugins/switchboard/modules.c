/* The table of feature modules: order matters.  A module starts after
 * what it uses (the console before transfer and Twilio; the engines and
 * providers before the agent) and stops before it; shared worker threads
 * (the provider chains' timer, the outbound HTTP and WebSocket clients)
 * stop last, once nobody can start a request on them. */
#include "modules.h"

#include <debug.h>

#include "agent/agent.h"
#include "analysis/analysis.h"
#include "cluster/cluster.h"
#include "console/console.h"
#include "embedded/embedded.h"
#include "livekit/livekit.h"
#include "net/net.h"
#include "providers/providers.h"
#include "recording/recording.h"
#include "sip/sip.h"
#include "store/store.h"
#include "tools/tools.h"
#include "transfer/transfer.h"
#include "twilio/twilio.h"
#include "video/video.h"
#include "webhooks/webhooks.h"

typedef struct sb_module {
	const char *name;
	bool (*start)(const sb_settings *settings);
	void (*stop)(void);
	void (*finish)(void);
} sb_module;

static void net_finish(void)
{
	sb_ws_shutdown();
	sb_fetch_shutdown();
}

/* The engines that need no key: registered as providers, and loaded now
 * (about 0.35 s) rather than in the first call's face. */
static bool embedded_start(const sb_settings *settings)
{
	sb_stt_provider_register(&sb_stt_pocketsphinx);
	sb_llm_provider_register(&sb_llm_local);
	sb_tts_provider_register(&sb_tts_espeak);
	char *error = NULL;
	if (!sb_pocketsphinx_preload(json_object_get(settings->providers, "pocketsphinx"), 2, true,
	                             &error)) {
		JANUS_LOG(LOG_WARN, "[switchboard] pocketsphinx: %s\n", error ? error : "?");
		g_clear_pointer(&error, g_free);
	}
	if (!sb_espeak_init(&error)) {
		JANUS_LOG(LOG_WARN, "[switchboard] espeak-ng: %s\n", error ? error : "?");
		g_clear_pointer(&error, g_free);
	}
	return true;
}

static void embedded_finish(void)
{
	sb_pocketsphinx_shutdown();
	sb_espeak_shutdown();
	sb_llm_local_shutdown();
}

/* Once no agent, dialog or summary uses a chain. */
static void providers_finish(void)
{
	sb_providers_current_deinit();
	sb_chain_shutdown();
}

static const sb_module modules[] = {
        {"net", NULL, NULL, net_finish},
        /* Early, so it stops late: the other modules' last events are
         * queued (and spooled) too. */
        {"webhooks", sb_webhooks_start, sb_webhooks_stop, NULL},
        {"the embedded engines", embedded_start, NULL, embedded_finish},
        {"providers", NULL, NULL, providers_finish},
        {"MCP clients", sb_mcp_module_start, NULL, sb_mcp_module_finish},
        {"the AI agent", sb_agent_module_start, NULL, sb_agent_module_finish},
        {"store", sb_store_module_start, sb_store_module_stop, sb_store_module_finish},
        /* Before anything that makes rooms (console desks, SIP, Twilio). */
        {"the cluster", sb_cluster_start, sb_cluster_stop, sb_cluster_finish},
        {"console", sb_console_start, sb_console_stop, sb_console_finish},
        {"the SIP bridge", sb_sip_start, sb_sip_stop, NULL},
        {"transfer", sb_transfer_module_start, sb_transfer_module_stop, sb_transfer_module_finish},
        {"Twilio", sb_twilio_start, sb_twilio_stop, NULL},
        {"recording", sb_recording_module_start, sb_recording_module_stop, NULL},
        {"video", sb_video_module_start, sb_video_module_stop, NULL},
        {"LiveKit's server API", sb_livekit_start, NULL, sb_livekit_finish},
        {"the analysis of every call", sb_analysis_start, sb_analysis_stop, sb_analysis_finish},
};
static bool started[G_N_ELEMENTS(modules)];

void sb_modules_start(const sb_settings *settings)
{
	for (size_t i = 0; i < G_N_ELEMENTS(modules); i++) {
		started[i] = !modules[i].start || modules[i].start(settings);
		if (!started[i])
			JANUS_LOG(LOG_ERR, "[switchboard] %s did not start: that part is OFF\n",
			          modules[i].name);
	}
}

void sb_modules_stop(void)
{
	for (size_t i = G_N_ELEMENTS(modules); i-- > 0;)
		if (started[i] && modules[i].stop)
			modules[i].stop();
}

void sb_modules_finish(void)
{
	for (size_t i = G_N_ELEMENTS(modules); i-- > 0;) {
		if (started[i] && modules[i].finish)
			modules[i].finish();
		started[i] = false;
	}
}
