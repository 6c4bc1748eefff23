/* REST routes: the HTTP face of the ops table, with the HTTP semantics of
 * the systems Switchboard replaces (see DESIGN.md section 4). */
#ifndef SB_REST_H
#define SB_REST_H

#include <glib.h>
#include <jansson.h>

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

/* Answers a request whose handler returned 0: from any thread, exactly
 * once; takes json, or text (g_free-able) with its static text_type. */
typedef struct sb_rest_reply sb_rest_reply;
void sb_rest_finish(sb_rest_reply *reply, int status, json_t *json, char *text,
                    const char *text_type);

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
 * On an SB_REST_ASYNC route the op may answer later (ops.h sb_op_later):
 * then it returns 0 and the reply is sent when the op finishes. */
int sb_rest_run_op(const sb_rest_request *req, const char *op, const char *param_name,
                   int ok_status, json_t **out);

enum { SB_REST_MATCH = 0, SB_REST_NO_ROUTE, SB_REST_WRONG_METHOD };
int sb_rest_match(const char *method, const char *path, const sb_rest_route **route,
                  char **param);

#endif
