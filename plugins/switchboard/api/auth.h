/* Who may do what: the REST bearer key and signed join tokens (JWT HS256
 * via libjwt).  No Janus dependency, so unit-tested on its own. */
#ifndef SB_AUTH_H
#define SB_AUTH_H

#include <stdbool.h>
#include <stdint.h>

/* Constant-time comparison (the time depends only on the lengths). */
bool sb_auth_equal(const char *a, const char *b);

/* "Bearer <key>" (case-insensitive scheme) against the key. */
bool sb_auth_bearer_ok(const char *authorization_header, const char *api_key);

typedef struct sb_join_claims {
	char *room;
	char *identity;
	char *name;
	char *role; /* caller | agent | supervisor */
	int64_t expires; /* unix seconds */
} sb_join_claims;

/* A signed token for one room; NULL on failure.  g_free the result. */
char *sb_auth_token_issue(const char *secret, const char *room, const char *identity,
                          const char *name, const char *role, int ttl_seconds);

typedef enum {
	SB_TOKEN_OK = 0,
	SB_TOKEN_MALFORMED,   /* not a JWT, or wrong algorithm */
	SB_TOKEN_BAD_SIGNATURE,
	SB_TOKEN_EXPIRED,
	SB_TOKEN_WRONG_ROOM,
} sb_token_status;

/* Verifies signature, algorithm (HS256 only), expiry and room.  On success
 * fills claims (free with sb_join_claims_clear). */
sb_token_status sb_auth_token_verify(const char *secret, const char *token, const char *room,
                                     sb_join_claims *claims);
void sb_join_claims_clear(sb_join_claims *claims);
const char *sb_token_status_text(sb_token_status status);

/* A random URL-safe secret of 32 bytes of entropy; g_free it. */
char *sb_auth_random_secret(void);

#endif
