/* GET /metrics in Prometheus text: the core's counters, then what each
 * module registered.  Sources run on the HTTP thread and must not block:
 * they read counters, so a scrape never waits on a media thread. */
#include "api/api_private.h"

#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "api/api.h"
#include "endpoints/endpoints.h"

/* GET /metrics: the core's counters (rooms, participants, mixer, RTP,
 * HTTP), then what each module registered, in the order they started. */

#define SOURCES_MAX 16
static struct {
	const char *name;
	sb_metrics_source source;
} sources[SOURCES_MAX];
static size_t source_count;

void sb_metrics_register(const char *name, sb_metrics_source source)
{
	g_assert(source_count < SOURCES_MAX);
	sources[source_count].name = name;
	sources[source_count].source = source;
	source_count++;
}

void sb_metrics_unregister_all(void)
{
	source_count = 0;
}

void sb_metrics_header(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sb_metrics_value(GString *out, const char *name, const char *type, const char *help,
                      long long value)
{
	sb_metrics_header(out, name, type, help);
	g_string_append_printf(out, "%s %lld\n", name, value);
}

static long long stat_field(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	return (long long)json_integer_value(v);
}

/* Counters of the `stats` request (one source of truth with the Admin API). */
static void plugin_metrics(GString *out)
{
	sb_op_ctx ctx = {.who = sb_principal_operator};
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
	        {"switchboard_mixer_echo_frames_total", "counter", "Frames of legs echo-cancelled from what they were sent.", "mixer", "echo_frames"},
	        {"switchboard_mixer_denoised_frames_total", "counter", "Frames of legs through noise suppression or automatic gain.", "mixer", "denoised_frames"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(simple); i++)
		sb_metrics_value(out, simple[i].name, simple[i].type, simple[i].help, stat_field(s, simple[i].a, simple[i].b));

	sb_metrics_header(out, "switchboard_participants", "gauge", "Participants by kind.");
	const char *key;
	json_t *value;
	json_object_foreach(json_object_get(s, "participants"), key, value)
		g_string_append_printf(out, "switchboard_participants{kind=\"%s\"} %lld\n", key,
		                       (long long)json_integer_value(value));
	sb_metrics_header(out, "switchboard_packets_total", "counter",
	       "RTP packets of current participants, by direction and fate.");
	static const char *packet_kinds[] = {"in", "out", "invalid", "wrong_pt", "dropped"};
	for (size_t i = 0; i < G_N_ELEMENTS(packet_kinds); i++)
		g_string_append_printf(out, "switchboard_packets_total{type=\"%s\"} %lld\n",
		                       packet_kinds[i], stat_field(s, "packets", packet_kinds[i]));
	json_decref(s);
}

static void http_metrics(GString *out)
{
	sb_http_stats hs;
	sb_http_get_stats(&hs);
	sb_metrics_header(out, "switchboard_http_requests_total", "counter", "HTTP requests by status class.");
	g_string_append_printf(out, "switchboard_http_requests_total{code=\"2xx\"} %" G_GUINT64_FORMAT "\n"
	                            "switchboard_http_requests_total{code=\"4xx\"} %" G_GUINT64_FORMAT "\n"
	                            "switchboard_http_requests_total{code=\"5xx\"} %" G_GUINT64_FORMAT "\n",
	                       hs.responses_2xx, hs.responses_4xx, hs.responses_5xx);
	sb_metrics_value(out, "switchboard_http_unauthorized_total", "counter", "Requests refused for their key.",
	       (long long)hs.unauthorized);
	sb_metrics_value(out, "switchboard_notification_clients", "gauge", "Open /ws/notifications sockets.",
	       sb_notify_clients());
	sb_metrics_value(out, "switchboard_notification_clients_dropped_total", "counter",
	                 "Notification clients closed for falling too far behind.",
	                 (long long)sb_notify_dropped());
	sb_rtp_endpoint_stats rs;
	sb_rtp_endpoints_get_stats(&rs);
	sb_metrics_value(out, "switchboard_rtp_latched_total", "counter",
	                 "RTP legs moved to their real source address (symmetric RTP).",
	                 (long long)rs.latched);
	sb_metrics_value(out, "switchboard_rtp_rtcp_packets_total", "counter",
	                 "RTCP packets received.", (long long)rs.rtcp_packets);
	sb_metrics_value(out, "switchboard_rtp_srtp_failures_total", "counter",
	                 "SRTP packets that failed authentication (dropped).",
	                 (long long)rs.srtp_failures);
	sb_metrics_value(out, "switchboard_rtp_join_refused_total", "counter",
	                 "rtp_join requests to an address outside [security] rtp_join_allow.",
	                 (long long)rs.join_refused);
	sb_metrics_value(out, "switchboard_rtp_timeouts_total", "counter",
	                 "rtp_join participants removed after rtp_timeout seconds without media.",
	                 (long long)rs.idle_removed);
}

char *sb_metrics_prometheus(void)
{
	GString *out = g_string_new(NULL);
	plugin_metrics(out);
	http_metrics(out);
	sb_ops_limits_metrics(out);
	for (size_t i = 0; i < source_count; i++)
		sources[i].source(out);
	return g_string_free(out, FALSE);
}
