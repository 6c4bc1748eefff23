/* One SIP call leg and the registry of live legs.  A leg is created by the
 * SIP thread (inbound) or an API thread (dial), lives in the registry until
 * it ends, and is read by anyone under the registry lock; its SIP state
 * (the nua handle) belongs to the SIP thread alone. */
#ifndef SB_SIP_CALL_H
#define SB_SIP_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

#include "room/participant.h"
#include "sip/sdp.h"

typedef enum {
	SIP_CALL_DIALING = 0, /* outbound, before a final answer */
	SIP_CALL_ACTIVE,      /* answered, in its room */
	SIP_CALL_ENDING,      /* BYE/CANCEL sent or received */
	SIP_CALL_ENDED,
} sip_call_state;

struct nua_handle_s;

typedef struct sip_call {
	gint ref;
	char *id;       /* what the API calls it: the CallSid, else SIP<hex> */
	char *call_sid; /* X-Twilio-CallSid, or NULL */
	char *sip_call_id;
	char *room;
	char *from, *to, *display;
	bool outbound;
	volatile gint state;            /* sip_call_state */
	gint64 created_us, answered_us; /* monotonic */
	json_t *info;                   /* caller ID, headers: for /sessions */

	/* SIP thread only. */
	struct nua_handle_s *nh;
	bool auth_tried;
	bool peer_hold;
	bool refer_pending;
	char *end_reason;
	uint64_t sdp_session, sdp_version;
	char *crypto;    /* our a=crypto value when the media is SRTP */
	char *their_key; /* the peer's SRTP key (base64) */
	sb_sdp_choice choice;
	int reserved_fd, reserved_rtcp_fd; /* outbound: the offered socket */
	uint16_t reserved_port;

	/* Set once answered (SIP thread), read by anyone under the lock. */
	sb_participant *participant;
} sip_call;

sip_call *sip_call_new(const char *id, bool outbound);
void sip_call_ref(sip_call *c);
void sip_call_unref(sip_call *c);
/* Appends a status to the call's story: call_status on the bus. */
void sip_call_publish_status(sip_call *c, const char *status, int sip_code, const char *reason);
json_t *sip_call_to_json(sip_call *c);
/* The participant is published under the registry lock, so lookups by
 * participant id see it whole.  p is referenced (NULL clears). */
void sip_call_set_participant(sip_call *c, sb_participant *p);
/* Referenced, or NULL. */
sb_participant *sip_call_participant(sip_call *c);

/* The registry: calls by id; lookups by id, CallSid or participant id. */
void sip_calls_init(void);
void sip_calls_deinit(void);
void sip_calls_add(sip_call *c);
void sip_calls_remove(sip_call *c);
/* Referenced, or NULL. */
sip_call *sip_calls_find(const char *key);
/* Every live call, referenced (g_ptr_array_unref). */
GPtrArray *sip_calls_snapshot(void);
guint sip_calls_count(void);

#endif
