/* Twilio's REST API (2010-04-01): create calls, hang up, send messages.
 * Form bodies with HTTP Basic AccountSid:AuthToken, through the plugin's
 * one libcurl worker (providers/http_client.h).  429 and 5xx (and no
 * answer at all) are retried with backoff; 4xx never is.  The result comes
 * back on the HTTP server's thread. */
#ifndef SB_TWILIO_REST_CLIENT_H
#define SB_TWILIO_REST_CLIENT_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

/* status: Twilio's HTTP status (0: no answer); body: its JSON (borrowed,
 * may be NULL); error: NULL on 2xx, else Twilio's message or the transport
 * error.  HTTP thread. */
typedef void (*sb_twilio_rest_done)(void *user, long status, json_t *body, const char *error);

/* POSTs the form pairs (name, value, name, value …; copied) to
 * {rest_base_url}/2010-04-01/Accounts/{AccountSid}{path}.  False with
 * *error (g_free) when nothing could be sent (no credentials). */
bool sb_twilio_rest_post(const char *path, GPtrArray *pairs, sb_twilio_rest_done done, void *user,
                         char **error);

/* Form encoding of the pairs (for tests and the body).  g_free. */
char *sb_twilio_form_encode(GPtrArray *pairs);

/* Cancels every retry timer and waits for nothing more (module stop). */
void sb_twilio_rest_shutdown(void);

typedef struct sb_twilio_rest_stats {
	guint64 requests, retries, failures;
} sb_twilio_rest_stats;
void sb_twilio_rest_get_stats(sb_twilio_rest_stats *out);

#endif
