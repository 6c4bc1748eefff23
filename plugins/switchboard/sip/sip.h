/* The SIP trunk bridge: a sofia-sip user agent on its own thread.  Inbound
 * INVITEs (a Twilio Elastic SIP trunk, <Dial><Sip>, a PBX) become
 * participants of kind sip in a room; outbound calls dial a number or URI
 * into a room; blind transfer by REFER; DTMF both ways; hold by re-INVITE.
 * Everyone else reaches it through these calls (the ops in sip_api.c). */
#ifndef SB_SIP_H
#define SB_SIP_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "core/core.h"

/* Module lifecycle (plugin.c modules[]). */
bool sb_sip_start(const sb_settings *settings);
void sb_sip_stop(void);

/* X-Room-Signature for room: what lets an INVITE that names the room (in
 * X-Room or its request-URI) enter it (docs/security.md).  Signed with
 * [sip] room_secret, else [auth] jwt_secret; valid for [sip]
 * room_signature_ttl seconds.  Whoever sends a call into a room puts it
 * beside X-Room (the Twilio <Dial><Sip>).  g_free; NULL when there is no
 * secret.  Any thread; needs no running SIP bridge. */
char *sb_sip_room_signature(const sb_settings *settings, const char *room);

typedef struct sb_sip_dial_params {
	const char *room;    /* created (ephemeral) when missing */
	const char *target;  /* E.164 number (+14155550100) or sip:/sips: URI */
	const char *from;    /* E.164 or URI; NULL: [sip] from */
	const char *display; /* the participant's name; NULL: the target */
	const char *identity; /* the participant's identity (LiveKit's); NULL: none */
} sb_sip_dial_params;

/* Starts an outbound call.  Returns its call id (g_free), or NULL with
 * *error set (a message for the API, g_free).  Progress arrives as
 * call_status events: ringing, answered, busy, no-answer, failed,
 * completed; once answered the leg is a participant of the room. */
char *sb_sip_dial(const sb_sip_dial_params *params, char **error);
/* Ends a call (BYE, CANCEL or a final response) by call id, CallSid or
 * participant id (decimal).  False: no such call. */
bool sb_sip_hangup(const char *call);
/* Blind transfer by REFER; the result arrives as call_status events
 * transfer_accepted / transfer_failed / transferred.  False with *error. */
bool sb_sip_refer(const char *call, const char *target, char **error);
/* Sends digits (RFC 4733) on the call's media.  False with *error. */
bool sb_sip_send_dtmf(const char *call, const char *digits, char **error);
/* Live calls as JSON (id, call_sid, room, direction, state, from, to …). */
json_t *sb_sip_calls_json(void);
guint sb_sip_calls_active(void);

typedef struct sb_sip_stats {
	guint64 invites, answered, outbound, rejected_acl, rejected_auth, rejected_limit,
	        rejected_codec, rejected_room, rejected_other, ended, rtp_timeouts, refers,
	        refers_failed, dtmf_in, info_dtmf, reinvites, rejected_source, rejected_account,
	        rejected_signature;
} sb_sip_stats;
void sb_sip_get_stats(sb_sip_stats *out);

#endif
