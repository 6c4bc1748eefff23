/* The net module: Switchboard as a client of other servers — outbound HTTP
 * on one libcurl multi thread (fetch), one WebSocket client thread, and a
 * Server-Sent Events parser for streamed answers.  It knows nothing of
 * providers or Twilio, which use it. */
#ifndef SB_NET_NET_H
#define SB_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <glib-object.h>
#include <libsoup/soup.h>
#include <jansson.h>

/* ---- fetch ----
 * All outbound HTTP of the plugin (the cloud providers, Twilio's REST API)
 * on ONE libcurl multi worker thread.  submit() queues a request and returns at
 * once; body chunks and the completion come back as callbacks on the
 * worker thread, in order.  Connections are reused across requests (TLS
 * handshakes are paid once per host).
 *
 * Lifetime: every submitted request is released exactly once with
 * sb_fetch_release(), finished or not.  After release returns, no callback
 * for that request runs any more: from another thread it waits for a
 * callback in progress; from inside the request's own callback it does not
 * wait (the current callback is the last).
 *
 * The worker starts on first use; sb_fetch_shutdown() stops and joins it
 * (requests still running get done(0, "HTTP client shut down")). */
typedef struct sb_fetch_request sb_fetch_request;

typedef struct sb_fetch_callbacks {
	/* A piece of the response body (status is the HTTP status of the
	 * response it belongs to).  Return false to abort the transfer; done
	 * then reports "aborted".  May be NULL. */
	bool (*body)(void *user, long status, const char *data, size_t len);
	/* Always last, once: status is 0 when no response arrived; error is
	 * NULL when the transfer completed (whatever the status). */
	void (*done)(void *user, long status, const char *error);
	/* A response header, before the body: name as sent, value without
	 * the surrounding blanks (the status line and the blank line that
	 * ends the headers are not passed).  Redirects and interim (1xx)
	 * responses pass their headers too.  May be NULL. */
	void (*header)(void *user, const char *name, const char *value);
} sb_fetch_callbacks;

typedef struct sb_fetch_options {
	const char *method; /* NULL: POST with a body, GET without */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" lines, copied */
	const void *body;           /* copied */
	size_t body_len;
	int connect_timeout_ms;    /* 0: 10 s */
	int first_byte_timeout_ms; /* until the first body byte; 0: none */
	int total_timeout_ms;      /* whole transfer; 0: none */
} sb_fetch_options;

/* Optional: starts the worker now (else on first submit).  After a
 * shutdown, init() allows use again. */
bool sb_fetch_init(void);
void sb_fetch_shutdown(void);

/* NULL with *error (g_free) when the request cannot be made (bad URL,
 * client shut down). */
sb_fetch_request *sb_fetch_submit(const sb_fetch_options *opt, const sb_fetch_callbacks *cb,
                                  void *user, char **error);
void sb_fetch_release(sb_fetch_request *req);

/* Requests currently owned by the worker (for tests and /metrics). */
unsigned sb_fetch_active(void);

/* ---- ws_client ----
 * The WebSocket client thread shared by every streaming provider (the
 * Deepgram STT): one core loop thread (sb_loop) with one libsoup-3.0
 * SoupSession.  All libsoup objects are used on that thread only; other
 * threads hand work over with sb_ws_run().
 *
 * The thread starts on first use; sb_ws_shutdown() closes the
 * connections still open (up to half a second for their close frames),
 * stops and joins it. */

/* Runs fn(data) later on the WS thread (never inline, even when called
 * from it), then destroy(data).  When the thread is shut down, destroy
 * runs at once and false is returned. */
bool sb_ws_run(GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* A timer on the WS thread: sb_ws_timeout(ms, fn, data, destroy) — WS
 * thread only; returns the source (unref'd already, use g_source_destroy
 * to stop it), or NULL once shutting down (destroy has run). */
GSource *sb_ws_timeout(guint ms, GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* WS thread only. */
SoupSession *sb_ws_session(void);
bool sb_ws_on_thread(void);
/* Objects to close at shutdown: a SoupWebsocketConnection is closed, a
 * GCancellable cancelled.  The set holds a reference until unhold. */
void sb_ws_hold(GObject *obj);
void sb_ws_unhold(GObject *obj);

bool sb_ws_init(void);
void sb_ws_shutdown(void);

/* ---- outbox ----
 * Events POSTed to a list of URLs that may be down (webhooks): per URL one
 * queue, sent one at a time and in order, each event until the receiver
 * answers 2xx, retried after 1 s doubling to 30 s.  Bounded: 10,000
 * events per URL, past it the oldest waiting is dropped (counted).  What
 * waits is spooled (0600) to <state dir>/<spool_folder>/ at most once a
 * second and at stop, and read back at start: every event reaches a
 * receiver that is down for a while, across a restart too, at least once
 * (one on its way when the process died may come twice).
 *
 * push() takes any thread and only queues; the sending, the timers and
 * the spool run on the outbox's own loop thread, the HTTP on fetch's. */
typedef struct sb_outbox sb_outbox;

/* The headers of one attempt to send body (its signature, its type):
 * "Name: value" lines in a NULL-terminated array (g_strfreev'd by the
 * outbox).  On the outbox's thread, anew at every attempt. */
typedef char **(*sb_outbox_headers_fn)(void *user, const char *body, size_t len);

typedef struct sb_outbox_config {
	const char *name;           /* in logs: "[livekit] webhook" */
	const char *spool_folder;   /* under the state directory */
	const char *const *urls;    /* NULL-terminated, copied */
	sb_outbox_headers_fn headers;
	void *user; /* for headers; must outlive the outbox */
} sb_outbox_config;

typedef struct sb_outbox_stats {
	unsigned long long sent, failed_attempts, dropped;
	unsigned waiting;
} sb_outbox_stats;

/* NULL when its thread cannot start. */
sb_outbox *sb_outbox_start(const sb_outbox_config *config);
/* Queues body (a JSON object's text, copied) for every URL.  Any thread;
 * NULL box: nothing. */
void sb_outbox_push(sb_outbox *box, const char *body);
void sb_outbox_get_stats(sb_outbox *box, sb_outbox_stats *out);
/* Stops sending, spools what waits, frees.  NULL: nothing. */
void sb_outbox_stop(sb_outbox *box);

/* value: a list of URLs (or one string); the http(s) ones of reasonable
 * length, NULL-terminated (g_strfreev), the others left out with a log
 * line naming where ("[livekit] webhook_urls"). */
char **sb_outbox_urls(json_t *value, const char *where);

/* A webhook signature as LiveKit makes them: an HS256 JWT by secret, iss
 * issuer, five minutes' life, and the claim sha256 the body's SHA-256
 * (standard base64, padded).  g_free. */
char *sb_outbox_body_token(const char *issuer, const char *secret, const char *body, size_t len,
                           gint64 now_s);

/* ---- sse ----
 * An incremental Server-Sent Events parser (text/event-stream as the WHATWG
 * HTML standard, §9.2.5-9.2.6, defines it): feed it the body in chunks of
 * any size, split anywhere; it calls back once per dispatched event.
 *
 * Lines end in CRLF, LF or CR; a leading UTF-8 BOM is skipped; lines that
 * start with ':' are comments; "field: value" loses one space after the
 * colon; a line without a colon is a field with an empty value; data lines
 * are joined with '\n'; a blank line dispatches (nothing when no data
 * line came); the event type resets after each dispatch, the last event
 * id does not (an id containing NUL is ignored); "retry" and unknown
 * fields are ignored; an event not ended by a blank line at the end of the
 * stream is dropped. */

/* event: the type ("message" when none was given); data: NUL-terminated
 * but data_len is authoritative (a hostile stream may hold NULs); id: the
 * last event id ("" when none).  Return false to stop parsing: feed()
 * then returns false and ignores further input. */
typedef bool (*sb_sse_event_cb)(void *user, const char *event, const char *data, size_t data_len,
                                const char *id);

typedef struct sb_sse_parser sb_sse_parser;

#define SB_SSE_MAX_LINE (1024 * 1024)
#define SB_SSE_MAX_DATA (4 * 1024 * 1024)

sb_sse_parser *sb_sse_new(sb_sse_event_cb cb, void *user);
void sb_sse_free(sb_sse_parser *p);
/* false when the callback stopped the parser or a line / an event's data
 * went over the limits above (sb_sse_error() says which). */
bool sb_sse_feed(sb_sse_parser *p, const char *data, size_t len);
/* NULL, or why the parser stopped on its own. */
const char *sb_sse_error(const sb_sse_parser *p);
/* Events dispatched so far. */
size_t sb_sse_events(const sb_sse_parser *p);

#endif
