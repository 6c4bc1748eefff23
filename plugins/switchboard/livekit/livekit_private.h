/* Inside the LiveKit module (private interface): token.c checks LiveKit
 * access tokens and says which grant each RPC needs (pure: unit-tested in
 * tests/unit/test_livekit.c); twirp.c is the Twirp transport and its
 * errors; room_service.c maps RoomService onto the ops table; livekit.c
 * starts it all and verifies join tokens for the Janus API. */
#ifndef SB_LIVEKIT_LIVEKIT_PRIVATE_H
#define SB_LIVEKIT_LIVEKIT_PRIVATE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "livekit/livekit.h"

/* ---- token.c ---- */

/* Clock skew LiveKit forgives on exp and nbf (its tokenLeeway). */
#define SB_LK_LEEWAY_S 60
/* Longer tokens are refused before they are decoded. */
#define SB_LK_TOKEN_MAX 8192

/* API key -> secret, both owned: from [livekit] keys (an object of
 * strings) and the LIVEKIT_API_KEY / LIVEKIT_API_SECRET pair (NULL when
 * not set).  Entries that are not non-empty strings are left out and
 * counted in *skipped. */
GHashTable *sb_lk_keys_new(json_t *configured, const char *env_key, const char *env_secret,
                           int *skipped);

/* What a verified token says (livekit.md 2.3).  Strings owned (NULL when
 * absent); free with sb_lk_claims_clear. */
typedef struct sb_lk_claims {
	char *api_key;  /* iss */
	char *identity; /* sub */
	char *name;
	char *metadata;
	json_t *attributes; /* object of strings, or NULL */
	gint64 expires;     /* exp, unix seconds */
	/* video grant */
	bool room_create, room_list, room_record, room_admin, room_join;
	char *room;
	char *destination_room;
	bool can_publish;      /* absent: true */
	bool can_subscribe;    /* absent: true */
	bool can_publish_data; /* absent: can_publish */
	bool hidden;
	/* sip grant */
	bool sip_admin, sip_call;
} sb_lk_claims;

typedef enum {
	SB_LK_TOKEN_OK = 0,
	SB_LK_TOKEN_MALFORMED,   /* not a JWT, not HS256, claims not JSON */
	SB_LK_TOKEN_UNKNOWN_KEY, /* iss is no configured API key */
	SB_LK_TOKEN_BAD_SIGNATURE,
	SB_LK_TOKEN_EXPIRED, /* or no exp at all */
	SB_LK_TOKEN_NOT_YET_VALID,
} sb_lk_token_status;

/* Verifies a token at now_s (with the leeway): HS256 only, iss a key of
 * keys, the signature by that key's secret, exp required, nbf honoured.
 * On success fills *claims; otherwise *claims is zeroed. */
sb_lk_token_status sb_lk_token_verify(GHashTable *keys, const char *token, gint64 now_s,
                                      sb_lk_claims *claims);
void sb_lk_claims_clear(sb_lk_claims *claims);
/* LiveKit's words for a refused token ("invalid API key" …). */
const char *sb_lk_token_status_text(sb_lk_token_status status);

/* The grant an RPC needs (livekit.md 2.4). */
typedef enum {
	SB_LK_NEED_ROOM_CREATE,
	SB_LK_NEED_ROOM_LIST,
	SB_LK_NEED_ROOM_ADMIN,      /* + video.room == the request's room */
	SB_LK_NEED_ROOM_ADMIN_MOVE, /* + destinationRoom == the request's */
	SB_LK_NEED_ROOM_RECORD,
	SB_LK_NEED_SIP_ADMIN,
	SB_LK_NEED_SIP_CALL,
	SB_LK_NEED_SIP_CALL_ROOM_ADMIN, /* sip.call and room admin of the room */
} sb_lk_need;

/* false: no such service or method. */
bool sb_lk_rpc_need(const char *service, const char *method, sb_lk_need *need);
/* Does a token with claims hold need for room (and destination, for
 * moves)?  Room matches are exact; an empty or NULL room never matches. */
bool sb_lk_claims_allow(const sb_lk_claims *claims, sb_lk_need need, const char *room,
                        const char *destination_room);

/* ---- twirp.c ---- */

/* The HTTP status of a Twirp error code (livekit.md 1.5); 500 unknown. */
int sb_lk_twirp_status(const char *code);
/* {"code","msg"}: a Twirp error body; sets *out, returns its status. */
int sb_lk_twirp_error(json_t **out, const char *code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* A request field by its JSON name or its proto name (both are accepted,
 * livekit.md 1.4); NULL when absent or null. */
json_t *sb_lk_field(json_t *body, const char *json_name, const char *proto_name);

/* The canonical proto3 JSON of a message given with its proto field names
 * (what webhooks carry, livekit.md 4.1): lowerCamelCase names, zero values
 * (false, 0, "", "0", empty lists and maps, enums' zero names) left out;
 * map keys (attributes) kept as they are.  A new value. */
json_t *sb_lk_protojson(json_t *message);

/* Registers the Twirp routes (before the HTTP server starts); keys are
 * borrowed until sb_lk_twirp_forget. */
void sb_lk_twirp_register(GHashTable *keys);
void sb_lk_twirp_forget(void);

/* One method of a service: body is the decoded request (an object), the
 * grant was checked.  Sets *out to the answer or a Twirp error; returns
 * the HTTP status. */
typedef int (*sb_lk_method_fn)(json_t *body, const sb_lk_claims *claims, json_t **out);
/* A method that may answer later: 0 when it took reply (and answers with
 * sb_lk_twirp_finish, once, from any thread), else as sb_lk_method_fn. */
struct sb_rest_reply;
typedef int (*sb_lk_method_later_fn)(json_t *body, const sb_lk_claims *claims,
                                     struct sb_rest_reply *reply, json_t **out);
typedef struct sb_lk_method {
	const char *name;
	sb_lk_method_fn run;
	sb_lk_method_later_fn run_later; /* instead of run when set */
} sb_lk_method;

/* The later answer of a run_later method (out taken), counted as any. */
void sb_lk_twirp_finish(struct sb_rest_reply *reply, int status, json_t *out);

/* ---- room_service.c ---- */

/* RoomService methods Switchboard has (the others answer unimplemented). */
extern const sb_lk_method sb_lk_room_service[];
extern const size_t sb_lk_room_service_count;

/* The glue every service uses (room_service.c): a string field in either
 * casing (false: there but not a string); the Twirp errors for a body that
 * is not what it should be and a room that is not there; the room a body
 * names, by LiveKit's rules and ours (0, or the error's status); an op's
 * error as a Twirp error (0 when it is none); an op run as the operator
 * (admin_of NULL) or as the admin of room admin_of (request taken), and
 * the same answering 0 with *answer or the error's status. */
bool sb_lk_string_field(json_t *body, const char *json_name, const char *proto_name,
                        const char **out);
int sb_lk_malformed(json_t **out);
int sb_lk_room_missing(json_t **out);
int sb_lk_room_name(json_t *body, const char *json_name, const char **name, json_t **out);
int sb_lk_op_failed(json_t *answer, json_t **out);
json_t *sb_lk_run(json_t *request, const char *admin_of);
int sb_lk_run_ok(json_t *request, const char *admin_of, json_t **answer, json_t **out);

/* LiveKit's view of a room and a participant, as the Twirp answers give
 * them (snake_case: sb_lk_protojson makes webhook bodies of them).  The
 * sid is the same for the life of one room of that name. */
struct sb_room;
struct sb_participant;
char *sb_lk_room_sid(struct sb_room *room);
json_t *sb_lk_room_info(struct sb_room *room);
json_t *sb_lk_participant_info(struct sb_participant *p);

/* ---- agent_dispatch.c ---- */

/* AgentDispatchService: a dispatch turns the room's AI agent on. */
extern const sb_lk_method sb_lk_agent_dispatch_service[];
extern const size_t sb_lk_agent_dispatch_service_count;
/* Adds what an agent's metadata may carry ([livekit] dispatch_metadata:
 * variables, config) to an `agent` request; true when it added anything
 * (the op must then run as the operator).  Any thread. */
bool sb_lk_agent_with_metadata(json_t *request, const char *metadata);
/* Reads [livekit] dispatch_metadata; false (logged) for a bad value. */
bool sb_lk_dispatch_start(json_t *section);
void sb_lk_dispatch_stop(void);

/* ---- sip_service.c ---- */

/* SIP: CreateSIPParticipant (a call out) and TransferSIPParticipant (a
 * REFER), answered when the call's outcome is known. */
extern const sb_lk_method sb_lk_sip_service[];
extern const size_t sb_lk_sip_service_count;
void sb_lk_sip_start(void);
void sb_lk_sip_stop(void);

/* ---- sip_trunks.c ----
 * LiveKit's SIP trunks and dispatch rules: in memory and in the store,
 * changed only through the operator's ops sip_object_* (docs/security.md). */
#define SB_LK_SIP_OBJECTS_MAX 1000
typedef enum { SB_LK_INBOUND = 0, SB_LK_OUTBOUND, SB_LK_RULE, SB_LK_KINDS } sb_lk_kind;
struct sb_acl;
typedef struct sb_lk_sip_object {
	char *id; /* ST_… or SDR_… */
	sb_lk_kind kind;
	json_t *body;           /* LiveKit's snake_case fields, without id and times */
	struct sb_acl *allowed; /* inbound: allowed_addresses parsed; NULL: any */
	gint64 created_ms, updated_ms;
} sb_lk_sip_object;
/* Loads the store's rows and registers the ops (before requests run). */
void sb_lk_sip_objects_start(void);
void sb_lk_sip_objects_stop(void);
/* reader sees the objects of each kind (creation order) under the lock:
 * it must copy what it keeps and never block.  Any thread. */
typedef void (*sb_lk_sip_reader)(GPtrArray *const objects[SB_LK_KINDS], void *user);
void sb_lk_sip_objects_read(sb_lk_sip_reader reader, void *user);
/* Does list (an array of strings) hold s? */
bool sb_lk_list_holds(json_t *list, const char *s);

/* ---- sip_admin.c ---- */

/* The trunk and dispatch-rule RPCs of livekit.SIP, on the ops above. */
extern const sb_lk_method sb_lk_sip_admin_service[];
extern const size_t sb_lk_sip_admin_service_count;

/* ---- sip_routing.c ---- */

/* The SIP bridge's inbound router: trunks, then dispatch rules. */
void sb_lk_routing_start(void);
void sb_lk_routing_stop(void);

/* ---- egress.c ---- */

/* Egress: a room composite egress is the room's recording. */
extern const sb_lk_method sb_lk_egress_service[];
extern const size_t sb_lk_egress_service_count;
void sb_lk_egress_start(void);
void sb_lk_egress_stop(void);

/* ---- webhook.c ----
 * Webhooks in LiveKit's format (livekit.md 4): [livekit] webhook_urls get
 * room_started, room_finished, participant_joined, participant_left,
 * track_published and the egresses' egress_started / egress_ended,
 * signed with webhook_api_key's secret, in order, with retries.  Keys are borrowed until sb_lk_webhooks_stop. */
bool sb_lk_webhooks_start(json_t *section, GHashTable *keys);
/* egress_started / egress_ended with an EgressInfo (snake_case, borrowed);
 * nothing when no webhook is configured.  Any thread. */
void sb_lk_webhook_egress(const char *event, const char *room_name, json_t *egress_info);
void sb_lk_webhooks_stop(void);

#endif
