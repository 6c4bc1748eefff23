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

/* ---- inbound routing ----
 * Where an INVITE goes when it names no signed room (X-Room with
 * X-Room-Signature stays first and unchanged): a feature module may route
 * it (LiveKit's trunks and dispatch rules).  Without a router, or when the
 * router has no opinion, the call gets a room of its own, as always. */
typedef struct sb_sip_inbound {
	const char *source; /* the INVITE's source address ("" unknown) */
	const char *called; /* the request-URI's user, else the To user; NULL none */
	const char *caller; /* the From user; NULL none */
} sb_sip_inbound;

/* The router's answer.  status 0: no opinion (no trunks configured); 200:
 * into room; anything else: refused with that SIP status and warning.
 * With auth_user and auth_password set the INVITE must prove them by
 * digest (challenged with 401 under auth_realm) before it goes anywhere.
 * Every string owned (g_free), attributes/metadata set on the participant
 * once it is in the room; user is the router's, handed to joined. */
typedef struct sb_sip_route {
	int status;
	char *warning;
	char *room, *identity, *display;
	char *auth_user, *auth_password, *auth_realm;
	json_t *attributes; /* {string: string} or NULL */
	char *metadata;
	void *user;
	GDestroyNotify free_user;
} sb_sip_route;

/* The SIP thread: must answer from memory, never block. */
typedef void (*sb_sip_router)(const sb_sip_inbound *call, sb_sip_route *route);
/* The SIP thread, once the routed caller is in room (participant p):
 * must not block. */
struct sb_participant;
typedef void (*sb_sip_routed)(const sb_sip_route *route, const char *room,
                              struct sb_participant *p);
/* Set by a feature module at start-up (before calls come), cleared with
 * NULLs before it finishes.  One router. */
void sb_sip_set_inbound_router(sb_sip_router router, sb_sip_routed routed);
void sb_sip_route_clear(sb_sip_route *route);

typedef struct sb_sip_stats {
	guint64 invites, answered, outbound, rejected_acl, rejected_auth, rejected_limit,
	        rejected_codec, rejected_room, rejected_other, ended, rtp_timeouts, refers,
	        refers_failed, dtmf_in, info_dtmf, reinvites, rejected_source, rejected_account,
	        rejected_signature, rejected_route;
} sb_sip_stats;
void sb_sip_get_stats(sb_sip_stats *out);

#endif
