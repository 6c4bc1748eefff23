#include "api/metrics.h"

#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "agent/agent.h"
#include "api/http.h"
#include "api/notify.h"
#include "api/ops.h"
#include "providers/chain.h"
#include "recording/recorder.h"
#include "endpoints/rtp_endpoint.h"
#include "sip/sip.h"
#include "store/api.h"
#include "transfer/transfer.h"
#include "transfer/transfer_ai.h"
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

/* The SIP bridge: calls by fate, refusals by reason. */
static void sip_metrics(GString *out)
{
	sb_sip_stats ss;
	sb_sip_get_stats(&ss);
	metric(out, "switchboard_sip_calls", "gauge", "SIP calls in progress.", sb_sip_calls_active());
	static const struct {
		const char *name, *help;
		size_t offset;
	} counters[] = {
	        {"switchboard_sip_invites_total", "INVITEs received (new calls).", G_STRUCT_OFFSET(sb_sip_stats, invites)},
	        {"switchboard_sip_answered_total", "Calls answered, both directions.", G_STRUCT_OFFSET(sb_sip_stats, answered)},
	        {"switchboard_sip_outbound_total", "Outbound calls placed.", G_STRUCT_OFFSET(sb_sip_stats, outbound)},
	        {"switchboard_sip_ended_total", "Call legs ended.", G_STRUCT_OFFSET(sb_sip_stats, ended)},
	        {"switchboard_sip_rtp_timeouts_total", "Calls hung up because media stopped.", G_STRUCT_OFFSET(sb_sip_stats, rtp_timeouts)},
	        {"switchboard_sip_refers_total", "Blind transfers (REFER) sent.", G_STRUCT_OFFSET(sb_sip_stats, refers)},
	        {"switchboard_sip_refers_failed_total", "Blind transfers that failed.", G_STRUCT_OFFSET(sb_sip_stats, refers_failed)},
	        {"switchboard_sip_reinvites_total", "re-INVITEs (hold, unhold, refresh).", G_STRUCT_OFFSET(sb_sip_stats, reinvites)},
	        {"switchboard_sip_dtmf_total", "DTMF digits received (RFC 4733 and INFO).", G_STRUCT_OFFSET(sb_sip_stats, dtmf_in)},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(counters); i++)
		metric(out, counters[i].name, "counter", counters[i].help,
		       (long long)G_STRUCT_MEMBER(guint64, &ss, counters[i].offset));
	header(out, "switchboard_sip_rejected_total", "counter", "INVITEs refused, by reason.");
	g_string_append_printf(out,
	                       "switchboard_sip_rejected_total{reason=\"acl\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_sip_rejected_total{reason=\"auth\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_sip_rejected_total{reason=\"limit\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_sip_rejected_total{reason=\"codec\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_sip_rejected_total{reason=\"room\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_sip_rejected_total{reason=\"other\"} %" G_GUINT64_FORMAT "\n",
	                       ss.rejected_acl, ss.rejected_auth, ss.rejected_limit, ss.rejected_codec,
	                       ss.rejected_room, ss.rejected_other);
	sb_rtp_endpoint_stats rs;
	sb_rtp_endpoints_get_stats(&rs);
	metric(out, "switchboard_rtp_latched_total", "counter",
	       "RTP legs moved to their real source address (symmetric RTP).", (long long)rs.latched);
	metric(out, "switchboard_rtp_rtcp_packets_total", "counter", "RTCP packets received.",
	       (long long)rs.rtcp_packets);
	metric(out, "switchboard_rtp_srtp_failures_total", "counter",
	       "SRTP packets that failed authentication (dropped).", (long long)rs.srtp_failures);
}

static void transfer_metrics(GString *out)
{
	sb_transfer_stats ts;
	sb_transfers_get_stats(&ts);
	header(out, "switchboard_transfers_total", "counter", "Warm transfers by outcome.");
	g_string_append_printf(out,
	                       "switchboard_transfers_total{outcome=\"started\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_transfers_total{outcome=\"completed\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_transfers_total{outcome=\"cancelled\"} %" G_GUINT64_FORMAT "\n"
	                       "switchboard_transfers_total{outcome=\"failed\"} %" G_GUINT64_FORMAT "\n",
	                       ts.started, ts.completed, ts.cancelled, ts.failed);
	metric(out, "switchboard_transfers_active", "gauge", "Warm transfers under way.",
	       (long long)ts.active);
	uint64_t model, fallback;
	sb_transfer_ai_get_stats(&model, &fallback);
	header(out, "switchboard_transfer_ai_answers_total", "counter",
	       "Summaries and assist answers asked of a language model, by who answered.");
	g_string_append_printf(
	        out,
	        "switchboard_transfer_ai_answers_total{by=\"model\"} %" G_GUINT64_FORMAT "\n"
	        "switchboard_transfer_ai_answers_total{by=\"fallback\"} %" G_GUINT64_FORMAT "\n",
	        model, fallback);
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

static void recording_metrics(GString *out)
{
	sb_recorder_stats rs;
	sb_recorder_get_stats(&rs);
	metric(out, "switchboard_recordings_active", "gauge", "Recordings running.",
	       (long long)rs.active);
	metric(out, "switchboard_recordings_started_total", "counter", "Recordings started.",
	       (long long)rs.started);
	metric(out, "switchboard_recording_bytes_total", "counter",
	       "Bytes of recording files written.", (long long)rs.bytes_written);
	metric(out, "switchboard_recording_frames_dropped_total", "counter",
	       "Frames dropped: the recorder's writer fell behind.", (long long)rs.dropped);
	metric(out, "switchboard_recording_write_errors_total", "counter",
	       "Recording files that could not be created or written.", (long long)rs.write_errors);
}

char *sb_metrics_prometheus(void)
{
	GString *out = g_string_new(NULL);
	plugin_metrics(out);
	http_metrics(out);
	agent_metrics(out);
	provider_metrics(out);
	sip_metrics(out);
	sb_store_module_metrics(out);
	transfer_metrics(out);
	twilio_metrics(out);
	recording_metrics(out);
	return g_string_free(out, FALSE);
}
