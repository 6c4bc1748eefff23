/* Browser participants: one session per Janus handle, holding the web
 * participant it joined as.  Janus calls in on its own threads — media
 * callbacks on the handle's ICE loop, requests on the transport's and our
 * handler thread — so the session's state is atomics and one short lock
 * around the participant pointer; incoming RTP takes that lock once per
 * packet and never anything longer. */
#include "endpoints/endpoints.h"

#include <string.h>

#include <debug.h>
#include <rtp.h>
#include <sdp-utils.h>

#include "room/room.h"
#include "core/core.h"

static janus_callbacks *gateway;
static janus_plugin *plugin_self;

struct sb_session {
	janus_plugin_session *handle; /* read-only; referenced until freed */
	janus_refcount ref;
	GMutex mutex;                 /* a leaf lock */
	sb_participant *participant;  /* strong, guarded by mutex */
	volatile gint started;        /* PeerConnection up: the ICE loop's callbacks */
	volatile gint hangingup;      /* hangup_media in progress */
	volatile gint destroyed;      /* plugin.c, once, on destroy_session */
};

void sb_webrtc_init(janus_callbacks *gw, janus_plugin *plugin)
{
	gateway = gw;
	plugin_self = plugin;
}

static void session_free(const janus_refcount *ref)
{
	sb_session *s = janus_refcount_containerof(ref, sb_session, ref);
	/* The core holds a reference on the handle for us until now. */
	janus_refcount_decrease(&s->handle->ref);
	g_mutex_clear(&s->mutex);
	g_free(s);
}

sb_session *sb_session_new(janus_plugin_session *handle)
{
	sb_session *s = g_new0(sb_session, 1);
	s->handle = handle;
	g_mutex_init(&s->mutex);
	janus_refcount_init(&s->ref, session_free);
	janus_refcount_increase(&handle->ref);
	return s;
}

void sb_session_ref(sb_session *s) { janus_refcount_increase(&s->ref); }
void sb_session_unref(sb_session *s) { janus_refcount_decrease(&s->ref); }
bool sb_session_started(sb_session *s) { return g_atomic_int_get(&s->started); }
void sb_session_set_destroyed(sb_session *s) { g_atomic_int_set(&s->destroyed, 1); }
bool sb_session_destroyed(sb_session *s) { return g_atomic_int_get(&s->destroyed); }

sb_participant *sb_session_participant(sb_session *s)
{
	g_mutex_lock(&s->mutex);
	sb_participant *p = s->participant;
	if (p)
		sb_participant_ref(p);
	g_mutex_unlock(&s->mutex);
	return p;
}

void sb_session_set_participant(sb_session *s, sb_participant *p)
{
	if (p)
		sb_participant_ref(p);
	g_mutex_lock(&s->mutex);
	sb_participant *old = s->participant;
	s->participant = p;
	g_mutex_unlock(&s->mutex);
	if (old)
		sb_participant_unref(old);
}

void sb_session_push_event(sb_session *s, const char *transaction, json_t *event, json_t *jsep)
{
	if (g_atomic_int_get(&s->destroyed))
		return;
	gateway->push_event(s->handle, plugin_self, transaction, event, jsep);
}

static void web_send_rtp(sb_participant *p, const uint8_t *packet, size_t len)
{
	sb_session *s = p->transport;
	if (!g_atomic_int_get(&s->started) || g_atomic_int_get(&s->hangingup) ||
	    g_atomic_int_get(&s->destroyed))
		return;
	janus_plugin_rtp rtp = {.mindex = -1, .video = FALSE, .buffer = (char *)packet,
	                        .length = (uint16_t)len};
	janus_plugin_rtp_extensions_reset(&rtp.extensions);
	gateway->relay_rtp(s->handle, &rtp);
}

static void web_send_event(sb_participant *p, json_t *event)
{
	sb_session_push_event(p->transport, NULL, event, NULL);
}

static void web_removed(sb_participant *p)
{
	sb_session *s = p->transport;
	sb_participant_set_media_ready(p, false);
	g_mutex_lock(&s->mutex);
	bool mine = s->participant == p;
	if (mine)
		s->participant = NULL;
	g_mutex_unlock(&s->mutex);
	if (mine)
		sb_participant_unref(p);
	/* Leaving the room ends the call's media, like AudioBridge's leave. */
	if (g_atomic_int_get(&s->started) && !g_atomic_int_get(&s->destroyed))
		gateway->close_pc(s->handle);
}

static void web_free_transport(void *transport) { sb_session_unref(transport); }

static const sb_participant_ops web_ops = {
        .send_rtp = web_send_rtp,
        .send_event = web_send_event,
        .removed = web_removed,
        .free_transport = web_free_transport,
};

sb_participant *sb_web_participant_new(sb_session *s, const char *display, const char *role,
                                       const char *identity, bool muted, int sampling_rate)
{
	const sb_settings *cfg = sb_plugin_settings;
	sb_session_ref(s);
	sb_participant_params pp = {
	        .kind = SB_KIND_WEB,
	        .display = display,
	        .role = role,
	        .identity = identity,
	        .muted = muted,
	        .codec = SB_CODEC_OPUS,
	        .payload_type = sb_codec_default_payload_type(SB_CODEC_OPUS),
	        .audio_level_ext_id = 0, /* the core parses extensions for us */
	        .sampling_rate = sampling_rate,
	        .jitter_min_frames = cfg->jitter_min_frames,
	        .jitter_max_frames = cfg->jitter_max_frames,
	        .encoder = {.bitrate = cfg->opus_bitrate,
	                    .complexity = cfg->opus_complexity,
	                    .fec = cfg->opus_fec,
	                    .expected_loss_pct = cfg->opus_fec ? 10 : 0},
	        .ops = &web_ops,
	        .transport = s,
	};
	sb_participant *p = sb_participant_new(&pp);
	if (!p)
		sb_session_unref(s);
	return p;
}

json_t *sb_webrtc_answer(sb_participant *p, json_t *offer, sb_error *error, char *error_text,
                         size_t error_len)
{
	const char *type = json_string_value(json_object_get(offer, "type"));
	const char *sdp = json_string_value(json_object_get(offer, "sdp"));
	if (!type || !sdp || strcasecmp(type, "offer") != 0) {
		*error = SB_ERROR_INVALID_SDP;
		g_snprintf(error_text, error_len, "JSEP must be an offer with an sdp");
		return NULL;
	}
	char parse_error[200];
	janus_sdp *parsed = janus_sdp_parse(sdp, parse_error, sizeof(parse_error));
	if (!parsed) {
		*error = SB_ERROR_INVALID_SDP;
		g_snprintf(error_text, error_len, "Invalid SDP: %s", parse_error);
		return NULL;
	}
	if (!janus_sdp_mline_find(parsed, JANUS_SDP_AUDIO)) {
		janus_sdp_destroy(parsed);
		*error = SB_ERROR_INVALID_SDP;
		g_snprintf(error_text, error_len, "The offer has no audio");
		return NULL;
	}
	int pt = janus_sdp_get_codec_pt(parsed, -1, "opus");
	if (pt < 0) {
		janus_sdp_destroy(parsed);
		*error = SB_ERROR_INVALID_SDP;
		g_snprintf(error_text, error_len, "The offer has no Opus");
		return NULL;
	}
	janus_sdp *answer = janus_sdp_generate_answer(parsed);
	bool audio_done = false;
	for (GList *l = parsed->m_lines; l; l = l->next) {
		janus_sdp_mline *m = l->data;
		if (m->type != JANUS_SDP_AUDIO || audio_done)
			continue; /* video goes to VideoRoom; everything else rejected */
		audio_done = true;
		janus_sdp_generate_answer_mline(parsed, answer, m,
		        JANUS_SDP_OA_MLINE, JANUS_SDP_AUDIO,
		        JANUS_SDP_OA_CODEC, "opus",
		        JANUS_SDP_OA_FMTP, "useinbandfec=1",
		        JANUS_SDP_OA_DIRECTION, JANUS_SDP_SENDRECV,
		        JANUS_SDP_OA_ACCEPT_EXTMAP, JANUS_RTP_EXTMAP_MID,
		        JANUS_SDP_OA_ACCEPT_EXTMAP, JANUS_RTP_EXTMAP_AUDIO_LEVEL,
		        JANUS_SDP_OA_DONE);
	}
	janus_sdp_destroy(parsed);
	char *text = janus_sdp_write(answer);
	janus_sdp_destroy(answer);
	if (!text) {
		*error = SB_ERROR_INVALID_SDP;
		g_snprintf(error_text, error_len, "Could not write the answer");
		return NULL;
	}
	sb_participant_set_payload_type(p, pt);
	json_t *jsep = json_pack("{ssss}", "type", "answer", "sdp", text);
	g_free(text);
	return jsep;
}

void sb_webrtc_setup_media(sb_session *s)
{
	g_atomic_int_set(&s->hangingup, 0);
	g_atomic_int_set(&s->started, 1);
	sb_participant *p = sb_session_participant(s);
	if (p) {
		sb_participant_set_media_ready(p, true);
		sb_participant_unref(p);
	}
}

void sb_webrtc_hangup_media(sb_session *s)
{
	if (!g_atomic_int_compare_and_exchange(&s->hangingup, 0, 1))
		return;
	g_atomic_int_set(&s->started, 0);
	sb_participant *p = sb_session_participant(s);
	if (p) {
		sb_participant_set_media_ready(p, false);
		sb_room *room = sb_participant_room(p);
		if (room) {
			sb_room_remove(room, p, "leaving");
			sb_room_unref(room);
		}
		sb_participant_unref(p);
	}
	g_atomic_int_set(&s->hangingup, 0);
}

void sb_webrtc_incoming_rtp(sb_session *s, janus_plugin_rtp *packet)
{
	if (packet->video || g_atomic_int_get(&s->hangingup) || g_atomic_int_get(&s->destroyed))
		return;
	/* A short lock and a reference: the participant may leave meanwhile. */
	sb_participant *p = sb_session_participant(s);
	if (!p)
		return;
	if (sb_participant_media_ready(p))
		sb_participant_incoming_rtp(p, (const uint8_t *)packet->buffer, packet->length,
		                            packet->extensions.audio_level);
	sb_participant_unref(p);
}
