/* HTTP Digest (RFC 2617, MD5, qop=auth or none) for inbound SIP requests
 * from PBXs that authenticate.  Nonces are stateless: a timestamp signed
 * with a per-process secret, valid for a few minutes. */
#ifndef SB_SIP_DIGEST_H
#define SB_SIP_DIGEST_H

#include <stdbool.h>

#include <glib.h>

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

#endif
