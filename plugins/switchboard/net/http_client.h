/* All outbound HTTP of the plugin (providers now, Twilio REST later) on ONE
 * libcurl multi worker thread.  submit() queues a request and returns at
 * once; body chunks and the completion come back as callbacks on the
 * worker thread, in order.  Connections are reused across requests (TLS
 * handshakes are paid once per host).
 *
 * Lifetime: every submitted request is released exactly once with
 * sb_http_release(), finished or not.  After release returns, no callback
 * for that request runs any more: from another thread it waits for a
 * callback in progress; from inside the request's own callback it does not
 * wait (the current callback is the last).
 *
 * The worker starts on first use; sb_http_shutdown() stops and joins it
 * (requests still running get done(0, "HTTP client shut down")). */
#ifndef SB_HTTP_CLIENT_H
#define SB_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sb_http_request sb_http_request;

typedef struct sb_http_callbacks {
	/* A piece of the response body (status is the HTTP status of the
	 * response it belongs to).  Return false to abort the transfer; done
	 * then reports "aborted".  May be NULL. */
	bool (*body)(void *user, long status, const char *data, size_t len);
	/* Always last, once: status is 0 when no response arrived; error is
	 * NULL when the transfer completed (whatever the status). */
	void (*done)(void *user, long status, const char *error);
} sb_http_callbacks;

typedef struct sb_http_options {
	const char *method; /* NULL: POST with a body, GET without */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" lines, copied */
	const void *body;           /* copied */
	size_t body_len;
	int connect_timeout_ms;    /* 0: 10 s */
	int first_byte_timeout_ms; /* until the first body byte; 0: none */
	int total_timeout_ms;      /* whole transfer; 0: none */
} sb_http_options;

/* Optional: starts the worker now (else on first submit).  After a
 * shutdown, init() allows use again. */
bool sb_http_init(void);
void sb_http_shutdown(void);

/* NULL with *error (g_free) when the request cannot be made (bad URL,
 * client shut down). */
sb_http_request *sb_http_submit(const sb_http_options *opt, const sb_http_callbacks *cb, void *user,
                                char **error);
void sb_http_release(sb_http_request *req);

/* Requests currently owned by the worker (for tests and /metrics). */
unsigned sb_http_active(void);

#endif
