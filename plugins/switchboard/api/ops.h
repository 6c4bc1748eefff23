/* The one table of operations behind every API: the Janus API (plugin.c),
 * the Admin API's message_plugin, and later REST.  An operation takes the
 * request body and a context saying who asks, and returns the JSON answer
 * (an error object on failure) — never written twice. */
#ifndef SB_OPS_H
#define SB_OPS_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "core/sb.h"

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

typedef struct sb_op_ctx {
	struct sb_session *session; /* the caller's Janus handle, or NULL */
	bool admin;                 /* trusted (Admin API): secrets not asked */
	json_t *jsep;               /* offer, borrowed */
	json_t *jsep_out;           /* answer, owned by whoever made the ctx */
	sb_op_later *later;         /* see above; NULL: the answer cannot wait */
} sb_op_ctx;

/* The context's later answer, now the op's; NULL when there is none. */
sb_op_later *sb_op_take_later(sb_op_ctx *ctx);

/* Answered later with an event on the Janus API (join, configure, leave). */
#define SB_OP_ASYNC 0x1
/* Needs a Janus handle: refused through the Admin API. */
#define SB_OP_SESSION 0x2
/* Trusted callers only (Admin API, REST with the API key). */
#define SB_OP_ADMIN 0x4

typedef json_t *(*sb_op_fn)(json_t *body, sb_op_ctx *ctx);

typedef struct sb_op {
	const char *name;
	sb_op_fn run;
	unsigned flags;
} sb_op;

/* Modules add their own operations (dial, transfer …) at start-up, before
 * any request runs; the table must outlive the plugin. */
void sb_ops_register(const sb_op *table, size_t count);
void sb_ops_unregister_all(void);
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
/* The room the body names (a reference for *out), with its secret checked
 * when need_secret and the caller is not trusted; NULL, or the error to
 * answer (bad name, no such room, wrong secret). */
json_t *sb_ops_room(json_t *body, sb_op_ctx *ctx, bool need_secret, struct sb_room **out);
/* Looks up body.request, checks the op may run in ctx, runs it. */
json_t *sb_ops_dispatch(json_t *body, sb_op_ctx *ctx);
/* Runs a request as a trusted caller (REST with the API key, a module on
 * its own behalf); takes ownership of request. */
json_t *sb_ops_run_trusted(json_t *request);
/* The same where the caller can wait: NULL when the op took later (it
 * answers through it); otherwise later is still the caller's. */
json_t *sb_ops_run_trusted_later(json_t *request, sb_op_later *later);
/* {"switchboard":"event","error_code":code,"error":text} */
json_t *sb_ops_error(sb_error code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The same with a name for programs ("invalid_state", "chat_not_held") and
 * the HTTP status REST answers it with (sb_rest_op_failed):
 * {…, "error_name": name, "http_status": status}. */
json_t *sb_ops_error_named(sb_error code, const char *name, int http_status, const char *fmt,
                           ...) G_GNUC_PRINTF(4, 5);

#endif
