/* Inside the SIP module (private interface): its configuration, SDP
 * offer/answer, admission (rate limits, X-Room signatures), digest auth,
 * calls and legs.  The parsers and checks (sdp, admission, digest) are
 * pure and unit-tested and fuzzed alone. */
#ifndef SB_SIP_SIP_PRIVATE_H
#define SB_SIP_SIP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "core/core.h"
#include "endpoints/endpoints.h"
#include "media/media.h"
#include "room/room.h"
#include "sip/sip.h"

/* ---- sip_config ----
 * The [sip] section of the plugin configuration, read once at start. */
#define SIP_MAX_X_HEADERS 20

typedef struct sip_config {
	bool enabled;
	char *ip; /* where the UA listens */
	int port, tls_port;
	char *cert_dir; /* agent.pem (+ cafile.pem): enables TLS */
	char *media_ip; /* the address in our SDP; default the RTP ip */
	char *allow;    /* allow-list of sources for INVITEs; empty: nobody */
	/* X-Room-Signature: [sip] room_secret, else [auth] jwt_secret. */
	char *room_secret;
	bool rooms_require_token; /* rooms the bridge creates need a join token */
	/* sip_account_check: X-Twilio-AccountSid must be this ([twilio]
	 * account_sid); NULL with the check on: every INVITE is refused. */
	bool account_check;
	char *account_sid;
	char *auth_user, *auth_password, *realm; /* inbound digest, optional */
	char *trunk;                       /* host for E.164 numbers: {trunk}.pstn.twilio.com */
	char *trunk_user, *trunk_password; /* outbound digest */
	char *from;                        /* our identity on outbound calls */
	sb_codec_id codecs[SB_CODEC_COUNT];
	int codec_count;
	enum { SIP_SRTP_OFF, SIP_SRTP_OPTIONAL, SIP_SRTP_REQUIRED } srtp;
	bool create_unknown_rooms; /* a request-URI naming a missing room */
	int max_calls;
	double calls_per_second, calls_burst;
	double calls_per_source, calls_per_source_burst; /* per source address */
	int rtp_timeout, session_timer, ring_timeout; /* seconds */
	int max_participants_hint;
	char *user_agent;
	const sb_settings *settings;
} sip_config;

void sip_config_load(sip_config *c, const sb_settings *settings);
void sip_config_clear(sip_config *c);

/* ---- sdp ----
 * SDP offer/answer for SIP legs (RFC 3264), audio only: what the peer
 * offers or answers (address, port, codecs, telephone-event, direction,
 * SDES crypto), the choice of one codec by our preferences, and our own
 * offers and answers.  Every byte comes from the network: the parser checks
 * lengths and refuses what it does not understand rather than guess. */

#define SB_SDP_MAX_FORMATS 32
#define SB_SDP_MAX_TEXT 16384

typedef enum {
	SB_SDP_SENDRECV = 0,
	SB_SDP_SENDONLY,
	SB_SDP_RECVONLY,
	SB_SDP_INACTIVE,
} sb_sdp_direction;

typedef struct sb_sdp_format {
	int pt;
	char name[24]; /* "PCMU", "opus", "telephone-event" (as sent) */
	int rate;
	int channels;
} sb_sdp_format;

typedef struct sb_sdp {
	char ip[64];      /* media-level c= or else session-level */
	uint16_t port;    /* 0: audio refused/removed */
	bool secure;      /* RTP/SAVP */
	char crypto[128]; /* first a=crypto with AES_CM_128_HMAC_SHA1_80: "tag suite inline:key" */
	sb_sdp_format formats[SB_SDP_MAX_FORMATS];
	int format_count;
	sb_sdp_direction direction;
	bool rtcp_mux;
} sb_sdp;

/* Returns false with a short reason in *error (g_free) for anything
 * without exactly one usable audio stream description. */
bool sb_sdp_parse(const char *text, size_t len, sb_sdp *out, char **error);

typedef struct sb_sdp_choice {
	sb_codec_id codec;
	int pt;      /* the peer's payload type for it */
	int dtmf_pt; /* telephone-event at the codec's clock; 0: none */
} sb_sdp_choice;

/* The first codec of prefs (in our order) the offer also has.  False: no
 * usable codec (the call gets 488). */
bool sb_sdp_choose(const sb_sdp *offer, const sb_codec_id *prefs, int pref_count,
                   sb_sdp_choice *out);
/* In an answer to our offer: the first codec the peer kept (its order). */
bool sb_sdp_choose_answer(const sb_sdp *answer, sb_sdp_choice *out);

typedef struct sb_sdp_local {
	const char *ip;
	uint16_t port;
	uint64_t session_id, version;
	/* An answer lists one codec; an offer lists all of prefs. */
	const sb_sdp_choice *answer; /* NULL for an offer */
	const sb_codec_id *prefs;
	int pref_count;
	sb_sdp_direction direction;
	const char *crypto; /* our a=crypto line value, or NULL */
} sb_sdp_local;

/* g_free-able SDP text. */
char *sb_sdp_build(const sb_sdp_local *local);

const char *sb_sdp_direction_name(sb_sdp_direction d);
/* What we answer to a direction the peer offers. */
sb_sdp_direction sb_sdp_answer_direction(sb_sdp_direction offered);

/* ---- admission ----
 * Who may call in, how often, and into which room: token buckets for the
 * call rate (one for all, one per source address in a bounded table) and
 * Switchboard's signature on the room an INVITE names.  Pure data without
 * locks: the SIP thread is the only user of a bucket; the signature
 * functions are pure. */

typedef struct sb_rate_limit {
	double tokens, per_second, burst;
	gint64 last_us;
} sb_rate_limit;

/* per_second <= 0: unlimited. */
void sb_rate_limit_init(sb_rate_limit *r, double per_second, double burst);
bool sb_rate_limit_take(sb_rate_limit *r, gint64 now_us);
/* Seconds until a token is back (at least 1): the Retry-After. */
int sb_rate_limit_retry_after(const sb_rate_limit *r);

/* A bucket per source address, at most max_sources of them: when the
 * table is full, buckets that refilled (idle sources, nothing to remember)
 * go first, else the one used longest ago. */
typedef struct sb_source_limits sb_source_limits;
sb_source_limits *sb_source_limits_new(double per_second, double burst, guint max_sources);
void sb_source_limits_free(sb_source_limits *l);
/* False: that source is over its rate; *retry_after (s) says when to try. */
bool sb_source_limits_take(sb_source_limits *l, const char *source, gint64 now_us,
                           int *retry_after);
guint sb_source_limits_count(const sb_source_limits *l);

/* X-Room-Signature: "<expires>.<hex HMAC-SHA256(secret, "switchboard-sip-room\n"
 * room "\n" expires)>", expires in Unix seconds.  (g_free) */
char *sip_room_sign(const char *secret, const char *room, gint64 expires_s);
typedef enum {
	SIP_ROOM_SIG_OK = 0,
	SIP_ROOM_SIG_MISSING,
	SIP_ROOM_SIG_MALFORMED,
	SIP_ROOM_SIG_EXPIRED,
	SIP_ROOM_SIG_WRONG, /* another room, another secret, or forged */
} sip_room_sig_status;
/* Checks signature for room at now_s, in constant time for the HMAC. */
sip_room_sig_status sip_room_verify(const char *secret, const char *room, const char *signature,
                                    gint64 now_s);
const char *sip_room_sig_text(sip_room_sig_status status);

/* ---- digest ----
 * HTTP Digest (RFC 2617, MD5, qop=auth or none) for inbound SIP requests
 * from PBXs that authenticate.  Nonces are stateless: a timestamp signed
 * with a per-process secret, valid for a few minutes. */

/* The WWW-Authenticate value for a challenge (g_free). */
char *sb_digest_challenge(const char *realm, const char *secret, gint64 now_s);

typedef struct sb_digest_credentials {
	const char *username, *realm, *nonce, *uri, *response, *qop, *nc, *cnonce, *algorithm;
} sb_digest_credentials;

/* Reads the parameters of an Authorization header value after "Digest "
 * (or its sofia param list joined with commas) into creds; the strings
 * point into *storage (g_free it).  False when malformed. */
bool sb_digest_parse(const char *value, sb_digest_credentials *creds, char **storage);

/* True when the response matches user/password for method, and the nonce
 * is ours and fresh (max_age_s). */
bool sb_digest_verify(const sb_digest_credentials *creds, const char *method, const char *username,
                      const char *password, const char *realm, const char *secret, gint64 now_s,
                      int max_age_s);

/* ---- call ----
 * One SIP call leg and the registry of live legs.  A leg is created by the
 * SIP thread (inbound) or an API thread (dial), lives in the registry until
 * it ends, and is read by anyone under the registry lock; its SIP state
 * (the nua handle) belongs to the SIP thread alone. */

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
	char *identity; /* the leg participant's identity (outbound, or routed), or NULL */
	bool outbound;
	volatile gint state;            /* sip_call_state */
	gint64 created_us, answered_us; /* monotonic */
	json_t *info;                   /* caller ID, headers: for /sessions */

	/* SIP thread only. */
	struct nua_handle_s *nh;
	bool auth_tried;
	bool to_trunk; /* outbound to [sip] trunk: its challenge gets our credentials */
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

/* ---- leg ----
 * What a SIP call does to rooms and media: which room an INVITE lands in,
 * the offer/answer, the RTP participant, DTMF, hold, and the end of the
 * leg.  Called on the SIP thread (sip.c) except where noted. */

void sip_leg_init(const sip_config *config);
void sip_leg_deinit(void);

typedef struct sip_leg_inbound {
	const char *call_id, *call_sid, *x_room, *uri_user, *from_user, *to_user;
	const char *room_signature; /* X-Room-Signature */
	const char *sdp;
	size_t sdp_len;
	json_t *info; /* borrowed */
	const sb_sip_route *route; /* the inbound router's room (status 200), or NULL */
} sip_leg_inbound;

typedef struct sip_leg_answer {
	int status; /* when refused: 403, 404, 486, 488, 503 … */
	const char *phrase;
	const char *warning; /* a Warning header's text, or NULL */
	char *sdp; /* when accepted (g_free) */
} sip_leg_answer;

/* An inbound INVITE: checks the room it names is signed for it (403), picks
 * or creates the room, negotiates, joins the caller.  Returns the
 * registered call (referenced) with the answer SDP, or NULL with the
 * refusal in answer. */
sip_call *sip_leg_accept(const sip_config *config, const sip_leg_inbound *in,
                         sip_leg_answer *answer);
/* The inbound router's routed hook, for a caller now in room (sip.c). */
void sip_route_joined(const sb_sip_route *route, const char *room, sb_participant *p);
/* The room the INVITE names itself (X-Room, or a request-URI user that is
 * not a number), which only its signature opens; NULL: none. */
const char *sip_leg_named_room(const sip_leg_inbound *in);
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
