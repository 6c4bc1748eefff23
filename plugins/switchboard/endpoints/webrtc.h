/* Browser participants: a Janus handle (session) and its PeerConnection.
 * Negotiates Opus, relays the mix-minus through the Janus core, and feeds
 * incoming RTP into the participant. */
#ifndef SB_WEBRTC_H
#define SB_WEBRTC_H

#include <jansson.h>
#include <plugins/plugin.h>
#include <refcount.h>

#include "room/participant.h"
#include "core/sb.h"

typedef struct sb_session {
	janus_plugin_session *handle;
	janus_refcount ref;
	GMutex mutex;
	sb_participant *participant; /* strong, guarded by mutex */
	volatile gint started;       /* PeerConnection up */
	volatile gint hangingup;
	volatile gint destroyed;
} sb_session;

void sb_webrtc_init(janus_callbacks *gateway, janus_plugin *plugin);

sb_session *sb_session_new(janus_plugin_session *handle);
static inline void sb_session_ref(sb_session *s) { janus_refcount_increase(&s->ref); }
static inline void sb_session_unref(sb_session *s) { janus_refcount_decrease(&s->ref); }
/* The session's participant, referenced, or NULL. */
sb_participant *sb_session_participant(sb_session *s);
void sb_session_set_participant(sb_session *s, sb_participant *p);

/* A web participant bound to this session (not yet in a room). */
sb_participant *sb_web_participant_new(sb_session *s, const char *display, const char *role,
                                       const char *identity, bool muted, int sampling_rate);

/* Answers a JSEP offer for p: Opus only, audio level and mid extensions.
 * Returns the answer JSEP, or NULL with *error and error_text set. */
json_t *sb_webrtc_answer(sb_participant *p, json_t *offer, sb_error *error, char *error_text,
                         size_t error_len);

/* Janus callbacks, forwarded by plugin.c. */
void sb_webrtc_setup_media(sb_session *s);
void sb_webrtc_hangup_media(sb_session *s);
void sb_webrtc_incoming_rtp(sb_session *s, janus_plugin_rtp *packet);
/* Sends an event to the session's handle (borrowed). */
void sb_session_push_event(sb_session *s, const char *transaction, json_t *event, json_t *jsep);

#endif
