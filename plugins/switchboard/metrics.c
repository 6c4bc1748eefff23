#include "metrics.h"

#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "agent.h"
#include "http.h"
#include "notify.h"
#include "ops.h"
#include "providers/chain.h"
#include "twilio/media_stream.h"
#include "twilio/rest_client.h"

static void header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One unlabelled sample with its HELP and TYPE lines. */
static void metric(GString *out, const char *name, const char *type, const char *help,
                   long long value)
{
	header(out, name, type, help);
	g_string_append_printf(out, "%s %lld\n", name, value);
}

static long long field(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	return (long long)json_integer_value(v);
}

/* Counters of the `stats` request (one source of truth with the Admin API). */
static void plugin_metrics(GString *out)
{
	sb_op_ctx ctx = {.admin = true};
	json_t *req = json_pack("{ss}", "request", "stats");
	json_t *s = sb_ops_dispatch(req, &ctx);
	json_decref(req);
	static const struct {
		const char *name, *type, *help, *a, *b;
	} simple[] = {
	        {"switchboard_rooms", "gauge", "Rooms open.", "rooms", NULL},
	        {"switchboard_rooms_mixing", "gauge", "Rooms with participants, being mixed.", "mixer", "rooms_active"},
	        {"switchboard_rtp_foreign_packets_total", "counter", "Plain RTP packets from an unexpected address (dropped).", "rtp", "foreign_packets"},
	        {"switchboard_rtp_sockets", "gauge", "Plain RTP sockets open.", "rtp", "open"},
	        {"switchboard_mixer_ticks_total", "counter", "Mixer frames processed.", "mixer", "ticks"},
	        {"switchboard_mixer_late_frames_total", "counter", "Mixer frames that finished after their deadline.", "mixer", "late_frames"},
	        {"switchboard_mixer_encodes_total", "counter", "Frames encoded by the mixer.", "mixer", "encodes"},
	        {"switchboard_mixer_forwards_total", "counter", "One-voice mixes sent as the speaker's own packet (no encode).", "mixer", "forwards"},
	        {"switchboard_mixer_decodes_total", "counter", "Frames decoded or concealed.", "mixer", "decodes"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(simple); i++)
		metric(out, simple[i].name, simple[i].type, simple[i].help, field(s, simple[i].a, simple[i].b));

	header(out, "switchboard_participants", "gauge", "Participants by kind.");
	const char *key;
	json_t *value;
	json_object_foreach(json_object_get(s, "participants"), key, value)
		g_string_append_printf(out, "switchboard_participants{kind=\"%s\"} %lld\n", key,
		                       (long long)json_integer_value(value));
	header(out, "switchboard_packets_total", "counter",
	       "RTP packets of current participants, by direction and fate.");
	static const char *packet_kinds[] = {"in", "out", "invalid", "wrong_pt", "dropped"};
	for (size_t i = 0; i < G_N_ELEMENTS(packet_kinds); i++)
		g_string_append_printf(out, "switchboard_packets_total{type=\"%s\"} %lld\n",
		                       packet_kinds[i], field(s, "packets", packet_kinds[i]));
	json_decref(s);
}

static void http_metrics(GString *out)
{
	sb_http_stats hs;
	sb_http_get_stats(&hs);
	header(out, "switchboard_http_requests_total", "counter", "HTTP requests by status class.");
	g_string_append_printf(out, "switchboard_http_requests_total{code=\"2xx\"} %" G_GUINT64_FORMAT "\n"
	                            "switchboard_http_requests_total{code=\"4xx\"} %" G_GUINT64_FORMAT "\n"
	                            "switchboard_http_requests_total{code=\"5xx\"} %" G_GUINT64_FORMAT "\n",
	                       hs.responses_2xx, hs.responses_4xx, hs.responses_5xx);
	metric(out, "switchboard_http_unauthorized_total", "counter", "Requests refused for their key.",
	       (long long)hs.unauthorized);
	metric(out, "switchboard_notification_clients", "gauge", "Open /ws/notifications sockets.",
	       sb_notify_clients());
}

static void agent_metrics(GString *out)
{
	sb_agent_stats as;
	sb_agents_get_stats(&as);
	metric(out, "switchboard_agents", "gauge", "AI agents in rooms now.", (long long)as.agents);
	metric(out, "switchboard_agent_turns_total", "counter", "Caller turns the agent answered.",
	       (long long)as.turns);
	metric(out, "switchboard_agent_barge_ins_total", "counter", "Answers cut off by a caller.",
	       (long long)as.barge_ins);
	metric(out, "switchboard_agent_failed_turns_total", "counter",
	       "Turns where every language model failed (the agent apologised).",
	       (long long)as.provider_errors);
	metric(out, "switchboard_agent_frames_dropped_total", "counter",
	       "Audio frames an agent could not keep up with.", (long long)as.frames_dropped);
}

/* Per provider: requests, failures, fallbacks, breaker state. */
static void provider_metrics(GString *out)
{
	json_t *chains = sb_chain_stats();
	static const char *counters[] = {"requests", "successes", "failures", "timeouts", "fallbacks",
	                                 "skipped", NULL};
	const char *kind, *provider;
	json_t *providers, *st;
	for (const char **c = counters; *c; c++) {
		char name[96];
		g_snprintf(name, sizeof(name), "switchboard_provider_%s_total", *c);
		header(out, name, "counter", "Provider calls by kind and provider name.");
		json_object_foreach(chains, kind, providers)
			json_object_foreach(providers, provider, st)
				g_string_append_printf(out, "%s{kind=\"%s\",provider=\"%s\"} %lld\n", name, kind,
				                       provider, field(st, *c, NULL));
	}
	header(out, "switchboard_provider_breaker_open", "gauge",
	       "1 while a provider's circuit breaker is open.");
	json_object_foreach(chains, kind, providers) {
		json_object_foreach(providers, provider, st) {
			const char *state = json_string_value(json_object_get(st, "breaker"));
			g_string_append_printf(out, "switchboard_provider_breaker_open{kind=\"%s\",provider=\"%s\"} %d\n",
			                       kind, provider, state && strcmp(state, "closed") != 0);
		}
	}
	json_decref(chains);
}

static void twilio_metrics(GString *out)
{
	sb_twilio_stream_stats ts;
	sb_twilio_streams_get_stats(&ts);
	metric(out, "switchboard_twilio_streams", "gauge", "Twilio Media Streams sockets open.", (long long)ts.open);
	header(out, "switchboard_twilio_stream_frames_total", "counter", "Media Streams audio frames by direction and fate.");
	g_string_append_printf(out, "switchboard_twilio_stream_frames_total{type=\"in\"} %llu\n"
	                            "switchboard_twilio_stream_frames_total{type=\"out\"} %llu\n"
	                            "switchboard_twilio_stream_frames_total{type=\"dropped\"} %llu\n",
	                       (unsigned long long)ts.frames_in, (unsigned long long)ts.frames_out,
	                       (unsigned long long)ts.frames_dropped);
	metric(out, "switchboard_twilio_stream_bad_messages_total", "counter",
	       "Media Streams messages refused (binary, bad JSON or base64, out of order).", (long long)ts.bad_messages);
	metric(out, "switchboard_twilio_stream_clears_total", "counter", "Barge-ins sent to Twilio as clear.",
	       (long long)ts.clears);
	sb_twilio_rest_stats rs;
	sb_twilio_rest_get_stats(&rs);
	metric(out, "switchboard_twilio_rest_requests_total", "counter", "Twilio REST requests sent (retries included).",
	       (long long)rs.requests);
	metric(out, "switchboard_twilio_rest_retries_total", "counter", "Twilio REST retries after 429/5xx or no answer.",
	       (long long)rs.retries);
	metric(out, "switchboard_twilio_rest_failures_total", "counter", "Twilio REST calls that failed for good.",
	       (long long)rs.failures);
}

char *sb_metrics_prometheus(void)
{
	GString *out = g_string_new(NULL);
	plugin_metrics(out);
	http_metrics(out);
	agent_metrics(out);
	provider_metrics(out);
	twilio_metrics(out);
	return g_string_free(out, FALSE);
}
