#include "metrics.h"

#include <glib.h>
#include <jansson.h>

#include "http.h"
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
	return g_string_free(out, FALSE);
}
