#include "metrics.h"

#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "agent.h"
#include "http.h"
#include "providers/chain.h"
#include "notify.h"
#include "ops.h"

static void metric(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static json_int_t field(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	return json_integer_value(v);
}

char *sb_metrics_prometheus(void)
{
	/* The same counters as the `stats` request: one source of truth. */
	sb_op_ctx ctx = {.admin = true};
	json_t *req = json_pack("{ss}", "request", "stats");
	json_t *s = sb_ops_dispatch(req, &ctx);
	json_decref(req);
	GString *out = g_string_new(NULL);

	metric(out, "switchboard_rooms", "gauge", "Rooms open.");
	g_string_append_printf(out, "switchboard_rooms %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "rooms", NULL));
	metric(out, "switchboard_rooms_mixing", "gauge", "Rooms with participants, being mixed.");
	g_string_append_printf(out, "switchboard_rooms_mixing %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "mixer", "rooms_active"));
	metric(out, "switchboard_participants", "gauge", "Participants by kind.");
	const char *key;
	json_t *value;
	json_object_foreach(json_object_get(s, "participants"), key, value)
		g_string_append_printf(out, "switchboard_participants{kind=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
		                       key, json_integer_value(value));
	metric(out, "switchboard_packets_total", "counter",
	       "RTP packets of current participants, by direction and fate.");
	static const char *packet_kinds[] = {"in", "out", "invalid", "wrong_pt", "dropped"};
	for (size_t i = 0; i < G_N_ELEMENTS(packet_kinds); i++)
		g_string_append_printf(out, "switchboard_packets_total{type=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
		                       packet_kinds[i], field(s, "packets", packet_kinds[i]));
	metric(out, "switchboard_rtp_foreign_packets_total", "counter",
	       "Plain RTP packets from an unexpected address (dropped).");
	g_string_append_printf(out, "switchboard_rtp_foreign_packets_total %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "rtp", "foreign_packets"));
	metric(out, "switchboard_rtp_sockets", "gauge", "Plain RTP sockets open.");
	g_string_append_printf(out, "switchboard_rtp_sockets %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "rtp", "open"));
	metric(out, "switchboard_mixer_ticks_total", "counter", "Mixer frames processed.");
	g_string_append_printf(out, "switchboard_mixer_ticks_total %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "mixer", "ticks"));
	metric(out, "switchboard_mixer_late_frames_total", "counter",
	       "Mixer frames that finished after their deadline.");
	g_string_append_printf(out, "switchboard_mixer_late_frames_total %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "mixer", "late_frames"));
	metric(out, "switchboard_mixer_encodes_total", "counter", "Frames encoded by the mixer.");
	g_string_append_printf(out, "switchboard_mixer_encodes_total %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "mixer", "encodes"));
	metric(out, "switchboard_mixer_forwards_total", "counter",
	       "One-voice mixes sent as the speaker's own packet (no encode).");
	g_string_append_printf(out, "switchboard_mixer_forwards_total %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "mixer", "forwards"));
	metric(out, "switchboard_mixer_decodes_total", "counter", "Frames decoded or concealed.");
	g_string_append_printf(out, "switchboard_mixer_decodes_total %" JSON_INTEGER_FORMAT "\n",
	                       field(s, "mixer", "decodes"));
	json_decref(s);

	sb_http_stats hs;
	sb_http_get_stats(&hs);
	metric(out, "switchboard_http_requests_total", "counter", "HTTP requests by status class.");
	g_string_append_printf(out, "switchboard_http_requests_total{code=\"2xx\"} %" G_GUINT64_FORMAT "\n",
	                       hs.responses_2xx);
	g_string_append_printf(out, "switchboard_http_requests_total{code=\"4xx\"} %" G_GUINT64_FORMAT "\n",
	                       hs.responses_4xx);
	g_string_append_printf(out, "switchboard_http_requests_total{code=\"5xx\"} %" G_GUINT64_FORMAT "\n",
	                       hs.responses_5xx);
	metric(out, "switchboard_http_unauthorized_total", "counter", "Requests refused for their key.");
	g_string_append_printf(out, "switchboard_http_unauthorized_total %" G_GUINT64_FORMAT "\n",
	                       hs.unauthorized);
	metric(out, "switchboard_notification_clients", "gauge", "Open /ws/notifications sockets.");
	g_string_append_printf(out, "switchboard_notification_clients %u\n", sb_notify_clients());

	sb_agent_stats as;
	sb_agents_get_stats(&as);
	metric(out, "switchboard_agents", "gauge", "AI agents in rooms now.");
	g_string_append_printf(out, "switchboard_agents %" G_GUINT64_FORMAT "\n", as.agents);
	metric(out, "switchboard_agent_turns_total", "counter", "Caller turns the agent answered.");
	g_string_append_printf(out, "switchboard_agent_turns_total %" G_GUINT64_FORMAT "\n", as.turns);
	metric(out, "switchboard_agent_barge_ins_total", "counter", "Answers cut off by a caller.");
	g_string_append_printf(out, "switchboard_agent_barge_ins_total %" G_GUINT64_FORMAT "\n", as.barge_ins);
	metric(out, "switchboard_agent_failed_turns_total", "counter",
	       "Turns where every language model failed (the agent apologised).");
	g_string_append_printf(out, "switchboard_agent_failed_turns_total %" G_GUINT64_FORMAT "\n",
	                       as.provider_errors);
	metric(out, "switchboard_agent_frames_dropped_total", "counter",
	       "Audio frames an agent could not keep up with.");
	g_string_append_printf(out, "switchboard_agent_frames_dropped_total %" G_GUINT64_FORMAT "\n",
	                       as.frames_dropped);

	/* Per provider: requests, failures, fallbacks, breaker state. */
	json_t *chains = sb_chain_stats();
	static const char *counters[] = {"requests", "successes", "failures", "timeouts", "fallbacks",
	                                 "skipped"};
	for (size_t c = 0; c < G_N_ELEMENTS(counters); c++) {
		char name[96];
		g_snprintf(name, sizeof(name), "switchboard_provider_%s_total", counters[c]);
		metric(out, name, "counter", "Provider calls by kind and provider name.");
		const char *kind;
		json_t *providers;
		json_object_foreach(chains, kind, providers) {
			const char *provider;
			json_t *st;
			json_object_foreach(providers, provider, st)
				g_string_append_printf(out, "%s{kind=\"%s\",provider=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
				                       name, kind, provider,
				                       json_integer_value(json_object_get(st, counters[c])));
		}
	}
	metric(out, "switchboard_provider_breaker_open", "gauge", "1 while a provider's circuit breaker is open.");
	const char *kind;
	json_t *providers;
	json_object_foreach(chains, kind, providers) {
		const char *provider;
		json_t *st;
		json_object_foreach(providers, provider, st) {
			const char *state = json_string_value(json_object_get(st, "breaker"));
			g_string_append_printf(out, "switchboard_provider_breaker_open{kind=\"%s\",provider=\"%s\"} %d\n",
			                       kind, provider, state && strcmp(state, "closed") != 0);
		}
	}
	json_decref(chains);
	return g_string_free(out, FALSE);
}
