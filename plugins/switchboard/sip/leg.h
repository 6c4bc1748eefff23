/* What a SIP call does to rooms and media: which room an INVITE lands in,
 * the offer/answer, the RTP participant, DTMF, hold, and the end of the
 * leg.  Called on the SIP thread (sip.c) except where noted. */
#ifndef SB_SIP_LEG_H
#define SB_SIP_LEG_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <jansson.h>

#include "sip/call.h"
#include "sip/sip.h"
#include "sip/sip_config.h"

void sip_leg_init(const sip_config *config);
void sip_leg_deinit(void);

typedef struct sip_leg_inbound {
	const char *call_id, *call_sid, *x_room, *uri_user, *from_user, *to_user;
	const char *sdp;
	size_t sdp_len;
	json_t *info; /* borrowed */
} sip_leg_inbound;

typedef struct sip_leg_answer {
	int status; /* when refused: 404, 486, 488, 503 … */
	const char *phrase;
	char *sdp; /* when accepted (g_free) */
} sip_leg_answer;

/* An inbound INVITE: picks or creates the room, negotiates, joins the
 * caller.  Returns the registered call (referenced) with the answer SDP,
 * or NULL with the refusal in answer. */
sip_call *sip_leg_accept(const sip_config *config, const sip_leg_inbound *in,
                         sip_leg_answer *answer);
/* After the 200 OK went out. */
void sip_leg_answered(sip_call *call);
/* A re-INVITE (hold/unhold, new address): returns 200 with *answer_sdp or
 * an error status. */
int sip_leg_reinvite(sip_call *call, const char *sdp, size_t len, char **answer_sdp);
/* SIP INFO with a DTMF body; true if it carried a digit. */
bool sip_leg_info_dtmf(sip_call *call, const char *content_type, const char *body, size_t len);

/* Outbound: any thread — validates, registers the call (dialing). */
sip_call *sip_leg_prepare_dial(const sip_config *config, const sb_sip_dial_params *params,
                               char **error);
/* Outbound on the SIP thread: reserves the RTP socket, returns the offer. */
char *sip_leg_offer(const sip_config *config, sip_call *call);
/* The 200 OK to our INVITE: joins the room.  False: unusable answer. */
bool sip_leg_connect(sip_call *call, const char *sdp, size_t len);

/* E.164 (+14155550100) → sip:+14155550100@trunk; sip:/sips: URIs checked
 * and kept.  NULL when it is neither (any thread). */
char *sip_leg_target_uri(const sip_config *config, const char *target);

/* The leg is over: leaves its room, tells the world, leaves the registry.
 * Safe to call twice. */
void sip_leg_finish(sip_call *call, const char *outcome);
/* How long no media came from the peer (since answer if none ever came). */
gint64 sip_leg_media_idle_us(sip_call *call, gint64 now_us);
/* Any thread. */
bool sip_leg_send_dtmf(sip_call *call, const char *digits, char **error);
guint64 sip_leg_dtmf_received(void);
guint64 sip_leg_ended(void);

/* In sip.c: asks the SIP thread to hang up (any thread). */
void sip_request_hangup(sip_call *call, const char *reason);
/* In sip_api.c: the ops and REST routes. */
void sip_api_register(const sip_config *config);

#endif
