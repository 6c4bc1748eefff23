/* Who may do what: the REST bearer key and signed join tokens (JWT HS256
 * through libjwt).  Secrets are compared in constant time; nothing here
 * touches Janus, so the file is unit-tested on its own (test_auth). */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <glib.h>
#include <jwt.h>

bool sb_auth_equal(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	/* Walk the candidate's length whatever the key is. */
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)(lb ? b[i % lb] : 0);
	return diff == 0;
}

bool sb_auth_bearer_ok(const char *header, const char *api_key)
{
	if (!header || !api_key || !*api_key)
		return false;
	while (*header == ' ')
		header++;
	if (g_ascii_strncasecmp(header, "Bearer ", 7) != 0)
		return false;
	header += 7;
	while (*header == ' ')
		header++;
	return sb_auth_equal(header, api_key);
}

char *sb_auth_token_sign(const char *secret, const sb_join_claims *c, int ttl_seconds)
{
	if (!secret || !c->room)
		return NULL;
	jwt_t *jwt = NULL;
	if (jwt_new(&jwt) != 0)
		return NULL;
	time_t now = time(NULL);
	int rc = jwt_add_grant(jwt, "room", c->room);
	if (c->identity)
		rc |= jwt_add_grant(jwt, "sub", c->identity);
	if (c->name)
		rc |= jwt_add_grant(jwt, "name", c->name);
	rc |= jwt_add_grant(jwt, "role", c->role ? c->role : "caller");
	if (c->room_admin)
		rc |= jwt_add_grant_bool(jwt, "admin", 1);
	if (c->console)
		rc |= jwt_add_grant(jwt, "scope", "console");
	if (c->dial)
		rc |= jwt_add_grant_bool(jwt, "dial", 1);
	rc |= jwt_add_grant(jwt, "iss", "switchboard");
	rc |= jwt_add_grant_int(jwt, "iat", (long)now);
	rc |= jwt_add_grant_int(jwt, "exp", (long)(now + ttl_seconds));
	rc |= jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
	char *encoded = rc == 0 ? jwt_encode_str(jwt) : NULL;
	char *token = encoded ? g_strdup(encoded) : NULL;
	if (encoded)
		free(encoded); /* malloc-ed by libjwt 1.x */
	jwt_free(jwt);
	return token;
}

/* base64url without padding, as JWT uses it. */
static guchar *base64url_decode(const char *text, gsize *len)
{
	size_t n = strlen(text);
	if (n > 1024)
		return NULL;
	char *std = g_malloc(n + 4);
	size_t i;
	for (i = 0; i < n; i++)
		std[i] = text[i] == '-' ? '+' : (text[i] == '_' ? '/' : text[i]);
	while (i % 4)
		std[i++] = '=';
	std[i] = '\0';
	guchar *out = g_base64_decode(std, len);
	g_free(std);
	return out;
}

struct jwt *sb_auth_jwt_decode_hs256(const char *secret, const char *token, sb_token_status *status)
{
	*status = SB_TOKEN_MALFORMED;
	if (!secret || !token || !*token || strlen(token) > 4096)
		return NULL;
	/* Refuse anything but HS256 before libjwt looks at it ("alg":"none"). */
	char **parts = g_strsplit(token, ".", 4);
	bool shaped = g_strv_length(parts) == 3 && *parts[2];
	gsize header_len = 0;
	guchar *header = shaped ? base64url_decode(parts[0], &header_len) : NULL;
	bool hs256 = header && header_len < 512 &&
	             g_strstr_len((const char *)header, (gssize)header_len, "\"HS256\"") != NULL;
	g_free(header);
	g_strfreev(parts);
	if (!shaped || !hs256)
		return NULL;
	jwt_t *jwt = NULL;
	if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0 ||
	    !jwt) {
		*status = SB_TOKEN_BAD_SIGNATURE;
		return NULL;
	}
	if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		jwt_free(jwt);
		return NULL;
	}
	*status = SB_TOKEN_OK;
	return jwt;
}

sb_token_status sb_auth_token_verify(const char *secret, const char *token, const char *room,
                                     sb_join_claims *claims)
{
	memset(claims, 0, sizeof(*claims));
	sb_token_status status;
	jwt_t *jwt = sb_auth_jwt_decode_hs256(secret, token, &status);
	if (!jwt)
		return status;
	long exp = jwt_get_grant_int(jwt, "exp");
	const char *token_room = jwt_get_grant(jwt, "room");
	if (exp <= 0 || exp <= (long)time(NULL))
		status = SB_TOKEN_EXPIRED;
	else if (!token_room || (room && strcmp(token_room, room) != 0))
		status = SB_TOKEN_WRONG_ROOM;
	else {
		claims->room = g_strdup(token_room);
		claims->identity = g_strdup(jwt_get_grant(jwt, "sub"));
		claims->name = g_strdup(jwt_get_grant(jwt, "name"));
		claims->role = g_strdup(jwt_get_grant(jwt, "role"));
		/* Only a JSON true grants (a string "true" is not a grant). */
		claims->room_admin = jwt_get_grant_bool(jwt, "admin") == 1;
		claims->console = !g_strcmp0(jwt_get_grant(jwt, "scope"), "console");
		claims->dial = jwt_get_grant_bool(jwt, "dial") == 1;
		claims->expires = exp;
	}
	jwt_free(jwt);
	return status;
}

void sb_join_claims_clear(sb_join_claims *claims)
{
	g_free(claims->room);
	g_free(claims->identity);
	g_free(claims->name);
	g_free(claims->role);
	g_free(claims->metadata);
	memset(claims, 0, sizeof(*claims));
}

const char *sb_token_status_text(sb_token_status status)
{
	switch (status) {
	case SB_TOKEN_OK: return "valid";
	case SB_TOKEN_MALFORMED: return "malformed token";
	case SB_TOKEN_BAD_SIGNATURE: return "invalid token signature";
	case SB_TOKEN_EXPIRED: return "token expired";
	case SB_TOKEN_WRONG_ROOM: return "token is for another room";
	}
	return "invalid token";
}

char *sb_auth_random_secret(void)
{
	guint8 bytes[32];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
		/* Only before the kernel's pool is ready; GLib's PRNG is seeded from
		 * /dev/urandom, an acceptable fallback for a local default. */
		for (size_t i = 0; i < sizeof(bytes); i += 4) {
			guint32 r = g_random_int();
			memcpy(bytes + i, &r, 4);
		}
	}
	char *b64 = g_base64_encode(bytes, sizeof(bytes));
	for (char *c = b64; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
		else if (*c == '=')
			*c = '\0';
	}
	return b64;
}
