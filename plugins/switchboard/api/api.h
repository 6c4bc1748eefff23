/* The API module: every way in.  One table of operations behind the Janus
 * API, the Admin API and REST; the embedded HTTP server with its REST
 * routes, WebSockets and notifications; API keys and join tokens.  Modules
 * register their operations, routes and WebSockets here at start-up; this
 * module never calls them by name. */
#ifndef SB_API_API_H
#define SB_API_API_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>
#include <libsoup/soup.h>

#include "core/core.h"

/* ---- ops ----
 * The one table of operations behind every API: the Janus API (plugin.c),
 * the Admin API's message_plugin, and REST (rest.c).  An operation takes the
 * request body and a context saying who asks, and returns the JSON answer
 * (an error object on failure) — never written twice. */
struct sb_session;
struct sb_room;

/* An answer that comes later (one a language model writes).  Where the
 * caller can wait — the Janus API (an event on the handle) and REST routes
 * that answer asynchronously — the context offers one; an op that waits
 * takes it (sb_op_take_later), returns NULL, and finishes it exactly once,
 * from any thread.  Where nobody can wait (the Admin API) there is none,
 * and the op answers at once with what it has. */
typedef struct sb_op_later sb_op_later;
struct sb_op_later {
	/* Delivers answer (taken; an error object is fine) and frees later. */
	void (*finish)(sb_op_later *later, json_t *answer);
};

/* Who asks (docs/security.md): what a request proved.  Every context has
 * one; the dispatcher checks it against the operation's access level
 * before the operation runs. */
typedef enum sb_principal_kind {
	SB_WHO_GUEST = 0,   /* a Janus API client that proved nothing (yet) */
	SB_WHO_PARTICIPANT, /* joined with a join token */
	SB_WHO_CONSOLE,     /* a human agent or supervisor, by a console token */
	SB_WHO_OPERATOR,    /* Admin API, REST master key, the plugin itself */
} sb_principal_kind;

typedef struct sb_principal {
	sb_principal_kind kind;
	char identity[SB_DISPLAY_MAX + 1]; /* the token's sub: an agent id for console */
	char role[16];                     /* caller | agent | supervisor ("" guest) */
	char room[SB_ROOM_NAME_MAX + 1];   /* the room its token names ("" none) */
	bool room_admin;                   /* may steer that room */
	bool dial;                         /* console: may reach numbers and URIs */
} sb_principal;

/* The operator: no check applies. */
extern const sb_principal sb_principal_operator;

typedef struct sb_op_ctx {
	struct sb_session *session; /* the caller's Janus handle, or NULL */
	sb_principal who;           /* what the request proved */
	json_t *jsep;               /* offer, borrowed */
	json_t *jsep_out;           /* answer, owned by whoever made the ctx */
	sb_op_later *later;         /* see above; NULL: the answer cannot wait */
} sb_op_ctx;

static inline bool sb_op_by_operator(const sb_op_ctx *ctx)
{
	return ctx->who.kind == SB_WHO_OPERATOR;
}

/* The context's later answer, now the op's; NULL when there is none. */
sb_op_later *sb_op_take_later(sb_op_ctx *ctx);

/* Answered later with an event on the Janus API (join, configure, leave). */
#define SB_OP_ASYNC 0x1
/* Needs a Janus handle: refused through the Admin API. */
#define SB_OP_SESSION 0x2

/* Who may run an operation (docs/security.md, "Operations").  The default,
 * 0, is the strictest: a table entry that says nothing is the operator's. */
typedef enum sb_access {
	SB_ACCESS_OPERATOR = 0, /* Admin API, REST master key */
	SB_ACCESS_CONSOLE,      /* + human agents and supervisors by their token */
	SB_ACCESS_ROOM_ADMIN,   /* + an admin token for body.room, or its secret */
	SB_ACCESS_MEMBER,       /* + whoever is in body.room, or holds a token for it */
	SB_ACCESS_ANYONE,       /* everyone; the op limits guests to what is theirs */
} sb_access;

typedef json_t *(*sb_op_fn)(json_t *body, sb_op_ctx *ctx);

typedef struct sb_op {
	const char *name;
	sb_op_fn run;
	unsigned flags;
	sb_access access;
} sb_op;

/* Modules add their own operations (dial, transfer …) at start-up, before
 * any request runs; the table must outlive the plugin. */
void sb_ops_register(const sb_op *table, size_t count);
/* Forgets what every module registered (ops, routes, WebSockets' routes,
 * stats, metrics), once the modules are finished. */
void sb_api_unregister_all(void);
/* Sessions that are not room participants (WhatsApp conversations): the
 * source appends {"type","room"?,…} objects of the given type (NULL: all)
 * to list.  Called on request threads; must not block. */
typedef void (*sb_session_source)(json_t *list, const char *type);
void sb_ops_register_sessions(sb_session_source source);
const sb_op *sb_ops_find(const char *request);
/* A module's counters in the `stats` answer, under name (a new JSON
 * object per call; request threads, must not block). */
typedef json_t *(*sb_stats_source)(void);
void sb_ops_register_stats(const char *name, sb_stats_source source);

/* A module's part in the core room ops, registered at start-up (before
 * any request runs), forgotten by sb_api_unregister_all.
 * join_answer: after a successful `join` (the Janus API's handler thread,
 * no lock held), adds the fields of that module the new member needs to
 * answer (the video module: its VideoRoom and pin).  It must not block.
 * agent_config_check: before `create` keeps a room's agent config (the
 * agent module says what a config may name): NULL, or the error to answer. */
struct sb_participant;
typedef void (*sb_join_answer_hook)(struct sb_room *room, struct sb_participant *p, json_t *answer);
void sb_ops_register_join_answer(sb_join_answer_hook hook);
typedef json_t *(*sb_agent_config_check)(json_t *config);
void sb_ops_register_agent_config_check(sb_agent_config_check check);
/* Another kind of join token (a LiveKit access token), checked wherever
 * a join token is (join, and a token a request carries): its module
 * verifies token for room (NULL: any) and fills claims as
 * sb_auth_token_verify does, and returns an sb_token_status (an int here:
 * the enum is declared below).  It answers SB_TOKEN_MALFORMED for a token
 * that is not of its kind; then the answer of our own check stands.  One
 * verifier; set at start-up, forgotten by sb_api_unregister_all.  Any
 * request thread; must not block. */
struct sb_join_claims;
typedef int (*sb_join_token_verifier)(const char *token, const char *room,
                                      struct sb_join_claims *claims);
void sb_ops_register_join_token_verifier(sb_join_token_verifier verifier);

/* What a Janus handle proved so far (a join token), kept by the API for
 * the handle's later requests; a guest until then.  plugin.c forgets it
 * when the handle goes. */
void sb_ops_session_principal(struct sb_session *session, sb_principal *out);
void sb_ops_session_forget(struct sb_session *session);

/* Request validation shared by every module's ops: a table of fields
 * ending with {NULL}; returns NULL or the error to answer. */
typedef enum { SB_F_STRING, SB_F_INTEGER, SB_F_BOOLEAN } sb_field_type;
typedef struct sb_field {
	const char *name;
	sb_field_type type;
	bool required;
	json_int_t max; /* strings: max length; integers: max value */
	json_int_t min; /* integers: min value */
} sb_field;
json_t *sb_ops_check_fields(json_t *body, const sb_field *fields);
/* What a back end keeps on rooms and participants (ops participant_update
 * and room_metadata; LiveKit's metadata and attributes): bounded. */
#define SB_METADATA_MAX 16384
#define SB_ATTRIBUTES_MAX 64
#define SB_ATTRIBUTE_KEY_MAX 128
#define SB_ATTRIBUTE_VALUE_MAX 2048
/* Fields most ops take. */
#define SB_OPS_ROOM_FIELD {"room", SB_F_STRING, true, SB_ROOM_NAME_MAX, 0}
#define SB_OPS_SECRET_FIELD {"secret", SB_F_STRING, false, SB_SECRET_MAX, 0}
#define SB_OPS_ID_FIELD {"id", SB_F_INTEGER, true, (json_int_t)1 << 53, 1}
/* One string field: present (when required), 1..max characters. */
bool sb_ops_string_ok(json_t *body, const char *name, bool required, size_t max);
/* Returns the missing/invalid element error from the calling op when
 * body.name is not such a string. */
#define SB_OPS_CHECK_STRING(body, name, required, max)                                             \
	do {                                                                                       \
		if (!sb_ops_string_ok(body, name, required, max))                                  \
			return sb_ops_error(                                                       \
			        json_object_get(body, name) ? SB_ERROR_INVALID_ELEMENT             \
			                                    : SB_ERROR_MISSING_ELEMENT,            \
			        "%s must be a string of 1 to %d characters", name, (int)(max));    \
	} while (0)
/* {"switchboard": kind}, the start of an op's answer. */
json_t *sb_ops_answer(const char *kind);
/* The room the body names (a reference for *out); NULL, or the error to
 * answer (bad name, no such room).  Who may touch it was checked by the
 * dispatcher, from the op's access level. */
json_t *sb_ops_room(json_t *body, sb_op_ctx *ctx, struct sb_room **out);
/* Looks up body.request, checks the op may run in ctx, runs it. */
json_t *sb_ops_dispatch(json_t *body, sb_op_ctx *ctx);
/* Runs a request as the operator (REST with the API key, a module on its
 * own behalf); takes ownership of request. */
json_t *sb_ops_run_trusted(json_t *request);
/* The same where the caller can wait: NULL when the op took later (it
 * answers through it); otherwise later is still the caller's. */
json_t *sb_ops_run_trusted_later(json_t *request, sb_op_later *later);
/* A private room a join may bring into being on this node when it is
 * missing (the console's desks, which follow their agent to whichever node
 * their call is on): called with the room and the join's token, which the
 * maker checks; true when the room is there now.  One maker (console/);
 * set at start-up, NULL at stop. */
typedef bool (*sb_join_room_maker)(const char *room, const char *token);
void sb_ops_set_join_room_maker(sb_join_room_maker maker);
/* An Admin API request (message_plugin; trusted: Janus checked its
 * admin_secret).  In a cluster, one about a room another node holds is
 * carried to that node and answered with its answer (the carrier below).
 * Borrows message.  Janus's admin request threads may wait on it. */
json_t *sb_ops_run_admin(json_t *message);
/* Carries request to the node at location (sb_ops_room_missing's) and
 * gives its op answer (new reference; NULL: answer here).  Waits, bounded;
 * cluster/ sets it. */
typedef json_t *(*sb_admin_carrier)(json_t *request, json_t *location);
void sb_ops_set_admin_carrier(sb_admin_carrier carrier);
/* A request to /api/admin with this header gets the op's answer as is
 * (200, the Admin API's shape) instead of REST's: how a node's Admin API
 * hears the holder's answer. */
#define SB_OP_ANSWER_HEADER "X-Switchboard-Op-Answer"
/* Runs a request as who (a REST request's principal); takes request. */
json_t *sb_ops_run_as(json_t *request, const sb_principal *who, sb_op_later *later);
/* A limit refused the request (docs/security.md, "Limits"): counted in
 * switchboard_limit_refusals_total{limit}, answered 493 / REST 429
 * limit_reached with the limit's name.  limit: a static string. */
json_t *sb_ops_limit_error(const char *limit, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* {"switchboard":"event","error_code":code,"error":text} */
json_t *sb_ops_error(sb_error code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* An op about a room this node does not have: in a cluster where another
 * node holds it, SB_ERROR_ROOM_ELSEWHERE naming that node with its
 * "location" (where to send the request), else SB_ERROR_NO_SUCH_ROOM. */
json_t *sb_ops_room_missing(const char *name);
/* The same with a name for programs ("invalid_state", "chat_not_held") and
 * the HTTP status REST answers it with (sb_rest_op_failed):
 * {…, "error_name": name, "http_status": status}. */
json_t *sb_ops_error_named(sb_error code, const char *name, int http_status, const char *fmt,
                           ...) G_GNUC_PRINTF(4, 5);

/* ---- rest ----
 * REST routes: the HTTP face of the ops table, with the HTTP semantics of
 * the systems Switchboard replaces (see DESIGN.md section 4). */

typedef struct sb_rest_request {
	const char *method;
	const char *path;
	const char *param; /* the {name} segment of the route, decoded */
	GHashTable *query;
	json_t *body;      /* parsed JSON object, or NULL */
	/* For routes that check signatures (Twilio webhooks): the query string
	 * as received (NULL if none), the raw body, its content type, the
	 * decoded form fields (SB_REST_FORM routes; last value wins), the
	 * peer's address and the request headers (read with sb_rest_header). */
	const char *raw_query;
	const char *raw_body;
	size_t raw_body_len;
	const char *content_type;
	GHashTable *form;
	const char *remote_ip;
	void *headers;
	/* SB_REST_ASYNC routes only: the pending reply.  The handler takes it
	 * and returns 0 to answer later with sb_rest_finish (any thread, once),
	 * or answers now as usual (then the reply is dropped). */
	struct sb_rest_reply *reply;
	/* What the request proved: the operator (the master key), a human
	 * agent (a console token, on SB_REST_CONSOLE routes), or a guest
	 * (SB_REST_PUBLIC routes without either). */
	sb_principal who;
} sb_rest_request;

/* A request header, or NULL. */
const char *sb_rest_header(const sb_rest_request *req, const char *name);

/* Returns the HTTP status; sets *json, or *text with *text_type (g_free-able). */
typedef int (*sb_rest_handler)(const sb_rest_request *req, json_t **json, char **text,
                               const char **text_type);

#define SB_REST_PUBLIC 0x1 /* no API key needed (the handler checks a signature) */
#define SB_REST_FORM 0x2   /* takes application/x-www-form-urlencoded bodies too */
#define SB_REST_RAW 0x4    /* takes any body; JSON is still parsed when it is JSON */
#define SB_REST_ASYNC 0x8  /* may answer later (req->reply, sb_rest_finish) */
/* A 200 answer with *text is a file to send: *text is its path (g_free-able;
 * the handler vouches for it), *text_type its content type.  Sent with
 * Content-Length, Accept-Ranges and single byte ranges (206). */
#define SB_REST_FILE 0x10
/* Also takes a human agent's console token instead of the master key; the
 * route's ops then run as that agent (docs/security.md). */
#define SB_REST_CONSOLE 0x20
/* The body is the handler's to read (raw_body, content_type), never
 * parsed or refused here: a protocol with its own errors (Twirp). */
#define SB_REST_OPAQUE 0x40
/* The route acts on the room its JSON body names ("room"): in a cluster a
 * request about a room another node holds is carried there, as the routes
 * under /rooms/{name} are (forwarding, below). */
#define SB_REST_BODY_ROOM 0x100

/* Answers a request whose handler returned 0: from any thread, exactly
 * once; takes json, or text (g_free-able) with its static text_type. */
typedef struct sb_rest_reply sb_rest_reply;
void sb_rest_finish(sb_rest_reply *reply, int status, json_t *json, char *text,
                    const char *text_type);

/* ---- forwarding (a cluster) ----
 * A REST request about a room (a route under /rooms/{name} or
 * /room/{name}, or an SB_REST_BODY_ROOM route's body.room) this node
 * does not hold may be carried to the node that does (cluster/ sets the
 * forwarder).  It runs on the HTTP thread after the request's own checks
 * (key, body); true: it took the request and answers reply later
 * (sb_rest_finish), false: the route runs here as usual.  A request that
 * was forwarded already (SB_FORWARDED_HEADER) is never forwarded again,
 * and file routes (recordings) never are. */
#define SB_FORWARDED_HEADER "X-Switchboard-Forwarded"
typedef bool (*sb_rest_forwarder)(const sb_rest_request *req, const char *room,
                                  json_t *location, sb_rest_reply *reply);
void sb_rest_set_forwarder(sb_rest_forwarder forwarder);
/* The same for a route that names its room in its body (LiveKit's Twirp
 * calls): true when the request went to the room's node and reply will be
 * answered from there; false when the room is here or nowhere else, there
 * is no cluster, or the request was forwarded already. */
bool sb_rest_forward_room(const sb_rest_request *req, const char *room, sb_rest_reply *reply);
/* The same to the node at location (an op answer's "location": where a
 * new room goes when this node takes none); location is borrowed. */
bool sb_rest_forward_to(const sb_rest_request *req, json_t *location, sb_rest_reply *reply);

/* A list route (SB_REST_CLUSTER_LIST: /sessions, /api/agents, /api/queue)
 * answers for the whole cluster: after the route's own 200 answer the
 * gatherer (cluster/ sets it) gets a reference to that answer, its own in
 * any case, and may take the reply: ask the other nodes the same request
 * and answer later with their items added (true); false: the local answer
 * goes out as is.  Never for a request that was forwarded already. */
#define SB_REST_CLUSTER_LIST 0x80
typedef bool (*sb_rest_gatherer)(const sb_rest_request *req, json_t *local,
                                 sb_rest_reply *reply);
void sb_rest_set_gatherer(sb_rest_gatherer gatherer);

typedef struct sb_rest_route {
	const char *method;
	const char *pattern; /* "{}" matches one path segment */
	sb_rest_handler handler;
	unsigned flags;
	/* A route that is one operation with the body as its fields: handler
	 * NULL, op its name (sb_rest_run_op, 200). */
	const char *op;
} sb_rest_route;

/* Modules add their routes at start-up, before the server starts; the table
 * must outlive the server.  Core routes win on a clash. */
void sb_rest_register(const sb_rest_route *routes, size_t count);
void sb_rest_unregister_all(void);

/* An op's error answer as an HTTP error: sets *out and returns the status
 * (the op's http_status and error_name when it named the error, else from
 * its error_code: 400, 403, 404, 409, 503 …), or 0 when r is not an
 * error.  r stays the caller's. */
int sb_rest_op_failed(json_t *r, json_t **out);
/* An op's answer (taken) as the route's: ok_status with the answer as the
 * body, or the error as above. */
int sb_rest_op_answer(json_t *r, int ok_status, json_t **out);
/* The request's JSON body (a copy) as the fields of operation op: the body
 * cannot pick another operation. */
json_t *sb_rest_op_request(const sb_rest_request *req, const char *op);
/* Runs operation op as a trusted caller with the request's JSON body as
 * its fields (a copy: the body cannot pick another operation), plus the
 * path's {} under param_name when given; answers as sb_rest_op_answer.
 * On an SB_REST_ASYNC route the op may answer later (sb_op_later, above):
 * then it returns 0 and the reply is sent when the op finishes. */
int sb_rest_run_op(const sb_rest_request *req, const char *op, const char *param_name,
                   int ok_status, json_t **out);

enum { SB_REST_MATCH = 0, SB_REST_NO_ROUTE, SB_REST_WRONG_METHOD };
int sb_rest_match(const char *method, const char *path, const sb_rest_route **route,
                  char **param);

/* ---- http ----
 * The embedded HTTP + WebSocket server (libsoup 3) on its own thread and
 * GMainContext: REST routes (rest.c), static pages, /ws/notifications
 * (notify.c).  Requests only run operations from the ops table, which never
 * block on media threads. */

struct sb_rest_request;

/* A WebSocket route of a module, at path or path/<one segment>.
 * authorize runs before the handshake (HTTP thread) and returns 0 to
 * accept, else an HTTP status and a message (g_free-able) — the route's
 * own check replaces the API key.  connected runs on the HTTP thread with
 * the open connection (borrowed: ref it). */
typedef struct sb_http_websocket {
	const char *path;
	int (*authorize)(const struct sb_rest_request *req, char **message);
	void (*connected)(SoupWebsocketConnection *conn, const char *path, GUri *uri);
} sb_http_websocket;

/* Before sb_http_start; the route is copied. */
void sb_http_register_websocket(const sb_http_websocket *route);

/* A WebSocket client that stops reading: libsoup would queue every later
 * frame for it without a bound.  One of these per client (HTTP thread)
 * counts what is handed over while its TCP connection makes no progress
 * (nothing acknowledged, bytes still unsent); a client that reads, however
 * slowly, keeps acknowledging.  fd -1 (no socket found): never cut. */
typedef struct sb_ws_backpressure {
	int fd;         /* the TCP socket under the WebSocket (not ours), or -1 */
	size_t backlog; /* bytes handed over with no progress */
	guint64 acked;  /* what the peer had acknowledged then */
} sb_ws_backpressure;

/* send_buffer > 0 sets the socket's SO_SNDBUF (small: a stall shows soon). */
void sb_ws_backpressure_init(sb_ws_backpressure *bp, SoupWebsocketConnection *conn,
                             int send_buffer);
/* Before handing len bytes over: false once more than max_backlog bytes
 * went without progress — the caller closes the client. */
bool sb_ws_backpressure_keeping_up(sb_ws_backpressure *bp, size_t len, size_t max_backlog);

bool sb_http_start(const sb_settings *settings);
void sb_http_stop(void);
/* Work and timers for the HTTP thread, from any thread, as sb_loop_invoke
 * and sb_loop_timeout (core/core.h): never run in place; once the server is
 * stopping or gone (or never started), destroy(data) runs at once and the
 * answer is false / NULL. */
bool sb_http_invoke(gint priority, GSourceFunc fn, gpointer data, GDestroyNotify destroy);
GSource *sb_http_timeout(guint ms, GSourceFunc fn, gpointer data, GDestroyNotify destroy);

typedef struct sb_http_stats {
	uint64_t requests;
	uint64_t responses_2xx, responses_4xx, responses_5xx;
	uint64_t unauthorized;
} sb_http_stats;
void sb_http_get_stats(sb_http_stats *out);

/* {"error":{"code":code,"message":message}}: a REST error's body. */
json_t *sb_http_error(const char *code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* A REST handler's failure: sets *out to that body and returns status. */
int sb_rest_error(json_t **out, int status, const char *code, const char *fmt, ...)
        G_GNUC_PRINTF(4, 5);

/* ---- auth ----
 * Who may do what: the REST bearer key and signed join tokens (JWT HS256
 * via libjwt).  No Janus dependency, so unit-tested on its own. */

/* Constant-time comparison (the time depends only on the lengths). */
bool sb_auth_equal(const char *a, const char *b);

/* "Bearer <key>" (case-insensitive scheme) against the key. */
bool sb_auth_bearer_ok(const char *authorization_header, const char *api_key);

/* What a join token says (docs/security.md): who joins which room as
 * what, and what more it may do there.  A console token is a human
 * agent's: it names their desk room and lets them use the console. */
typedef struct sb_join_claims {
	char *room;
	char *identity;  /* "sub" */
	char *name;
	char *role;      /* caller | agent | supervisor */
	bool room_admin; /* "admin": may steer room */
	bool console;    /* "scope": "console" */
	bool dial;       /* "dial": a console token may reach numbers and URIs */
	int64_t expires; /* unix seconds */
	/* From other kinds of token (sb_join_token_verifier): */
	char *metadata;   /* the back end's text about the participant */
	bool listen_only; /* may not publish audio */
} sb_join_claims;

/* A signed token from claims (expires ignored: ttl_seconds from now); NULL
 * on failure.  g_free the result. */
char *sb_auth_token_sign(const char *secret, const sb_join_claims *claims, int ttl_seconds);

typedef enum {
	SB_TOKEN_OK = 0,
	SB_TOKEN_MALFORMED,   /* not a JWT, or wrong algorithm */
	SB_TOKEN_BAD_SIGNATURE,
	SB_TOKEN_EXPIRED,
	SB_TOKEN_WRONG_ROOM,
} sb_token_status;

/* The token decoded when it is a JWT signed with HS256 under secret, and
 * nothing else ("alg":"none" or another algorithm is refused before libjwt
 * looks at it): a libjwt handle to jwt_free, status SB_TOKEN_OK.  Else NULL
 * and SB_TOKEN_MALFORMED or SB_TOKEN_BAD_SIGNATURE.  The claims, exp
 * included, are the caller's to check. */
struct jwt;
struct jwt *sb_auth_jwt_decode_hs256(const char *secret, const char *token, sb_token_status *status);

/* Verifies signature, algorithm (HS256 only), expiry and room (NULL: any
 * room).  On success fills claims (free with sb_join_claims_clear). */
sb_token_status sb_auth_token_verify(const char *secret, const char *token, const char *room,
                                     sb_join_claims *claims);
void sb_join_claims_clear(sb_join_claims *claims);
/* The principal a verified join token makes. */
void sb_principal_from_claims(sb_principal *who, const sb_join_claims *claims);
const char *sb_token_status_text(sb_token_status status);

/* A random URL-safe secret of 32 bytes of entropy; g_free it. */
char *sb_auth_random_secret(void);

/* ---- metrics ----
 * GET /metrics (Prometheus text): the core's counters, then each
 * registered module's lines.  Sources register at start-up (before the
 * HTTP server starts) and run on the HTTP thread: they must not block. */
typedef void (*sb_metrics_source)(GString *out);
void sb_metrics_register(const char *name, sb_metrics_source source);
/* "# HELP name help" and "# TYPE name type" */
void sb_metrics_header(GString *out, const char *name, const char *type, const char *help);
/* One unlabelled sample with its HELP and TYPE lines. */
void sb_metrics_value(GString *out, const char *name, const char *type, const char *help,
                      long long value);

#endif
