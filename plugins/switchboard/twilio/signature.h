/* X-Twilio-Signature: Twilio signs every webhook and WebSocket handshake
 * with HMAC-SHA1(auth_token, URL + sorted POST parameters), base64.  The
 * URL is the one Twilio called (our public base URL, not what the socket
 * saw).  JSON bodies are signed through the URL alone, which then carries
 * bodySHA256=<hex sha256 of the body>.  Pure functions, no I/O: unit
 * tested against vectors computed independently (Node's crypto). */
#ifndef SB_TWILIO_SIGNATURE_H
#define SB_TWILIO_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/* Form pairs of an x-www-form-urlencoded body, in order, repeats kept:
 * a GPtrArray of g_strdup'd strings name0, value0, name1, value1 …
 * NULL when the body is not valid form encoding (bad %-escape, NUL). */
GPtrArray *sb_twilio_form_pairs(const char *body, size_t len);

/* The signature of url + the pairs sorted by name then value (pairs may be
 * NULL).  g_free. */
char *sb_twilio_sign(const char *auth_token, const char *url, GPtrArray *pairs);

/* Whether signature is valid for url and the pairs, in constant time,
 * with the URL also tried with its default port added or removed (:443 /
 * :80), as Twilio's own SDKs do. */
bool sb_twilio_signature_ok(const char *auth_token, const char *url, GPtrArray *pairs,
                            const char *signature);

/* The whole check for a request: form bodies by their pairs; a URL with a
 * bodySHA256 parameter by the URL alone plus the body's hash.  *why gets a
 * static reason on failure. */
bool sb_twilio_request_ok(const char *auth_token, const char *url, const char *body,
                          size_t body_len, bool is_form, const char *signature, const char **why);

/* The value of a query parameter of url (decoded), or NULL.  g_free. */
char *sb_twilio_query_param(const char *url, const char *name);

/* "a&b" comparison in constant time for equal lengths. */
bool sb_twilio_equal(const char *a, const char *b);

#endif
