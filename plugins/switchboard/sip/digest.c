/* HTTP Digest (RFC 2617, MD5) for PBXs that authenticate.  Nonces are
 * stateless — a timestamp signed with a per-process secret — so nothing
 * is kept per challenge. */
#include "sip/sip_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *md5_hex(const char *text)
{
	return g_compute_checksum_for_string(G_CHECKSUM_MD5, text, -1);
}

static char *nonce_for(gint64 ts, const char *secret)
{
	char stamp[32];
	g_snprintf(stamp, sizeof(stamp), "%" G_GINT64_FORMAT, ts);
	char *mac = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)secret,
	                                      strlen(secret), stamp, -1);
	mac[32] = '\0';
	char *nonce = g_strdup_printf("%s.%s", stamp, mac);
	g_free(mac);
	return nonce;
}

char *sb_digest_challenge(const char *realm, const char *secret, gint64 now_s)
{
	char *nonce = nonce_for(now_s, secret);
	char *v = g_strdup_printf("Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, qop=\"auth\"",
	                          realm, nonce);
	g_free(nonce);
	return v;
}

bool sb_digest_parse(const char *value, sb_digest_credentials *creds, char **storage)
{
	memset(creds, 0, sizeof(*creds));
	*storage = NULL;
	if (!value || strlen(value) > 2048)
		return false;
	const char *p = value;
	while (*p == ' ')
		p++;
	if (!g_ascii_strncasecmp(p, "Digest", 6))
		p += 6;
	/* Copy, then cut into name=value pairs in place. */
	char *buf = g_strdup(p);
	*storage = buf;
	char *s = buf;
	while (*s) {
		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		if (!*s)
			break;
		char *name = s;
		while (*s && *s != '=' && *s != ',')
			s++;
		if (*s != '=')
			return false;
		*s++ = '\0';
		g_strstrip(name);
		char *val;
		if (*s == '"') {
			val = ++s;
			while (*s && *s != '"')
				s++;
			if (*s != '"')
				return false;
			*s++ = '\0';
		} else {
			val = s;
			while (*s && *s != ',')
				s++;
			if (*s)
				*s++ = '\0';
			g_strstrip(val);
		}
		const char **slot = NULL;
		if (!g_ascii_strcasecmp(name, "username"))
			slot = &creds->username;
		else if (!g_ascii_strcasecmp(name, "realm"))
			slot = &creds->realm;
		else if (!g_ascii_strcasecmp(name, "nonce"))
			slot = &creds->nonce;
		else if (!g_ascii_strcasecmp(name, "uri"))
			slot = &creds->uri;
		else if (!g_ascii_strcasecmp(name, "response"))
			slot = &creds->response;
		else if (!g_ascii_strcasecmp(name, "qop"))
			slot = &creds->qop;
		else if (!g_ascii_strcasecmp(name, "nc"))
			slot = &creds->nc;
		else if (!g_ascii_strcasecmp(name, "cnonce"))
			slot = &creds->cnonce;
		else if (!g_ascii_strcasecmp(name, "algorithm"))
			slot = &creds->algorithm;
		if (slot)
			*slot = val;
	}
	return creds->username && creds->realm && creds->nonce && creds->uri && creds->response;
}

static bool nonce_fresh(const char *nonce, const char *secret, gint64 now_s, int max_age_s)
{
	char *end = NULL;
	gint64 ts = g_ascii_strtoll(nonce, &end, 10);
	if (!end || *end != '.' || ts > now_s + 5 || now_s - ts > max_age_s)
		return false;
	char *expected = nonce_for(ts, secret);
	bool ok = strlen(expected) == strlen(nonce);
	unsigned diff = 0;
	for (size_t i = 0; ok && expected[i]; i++)
		diff |= (unsigned)(expected[i] ^ nonce[i]);
	g_free(expected);
	return ok && diff == 0;
}

bool sb_digest_verify(const sb_digest_credentials *c, const char *method, const char *username,
                      const char *password, const char *realm, const char *secret, gint64 now_s,
                      int max_age_s)
{
	if (!c->username || strcmp(c->username, username) != 0 || strcmp(c->realm, realm) != 0)
		return false;
	if (c->algorithm && g_ascii_strcasecmp(c->algorithm, "MD5") != 0)
		return false;
	if (!nonce_fresh(c->nonce, secret, now_s, max_age_s))
		return false;
	char *a1 = g_strdup_printf("%s:%s:%s", username, realm, password);
	char *a2 = g_strdup_printf("%s:%s", method, c->uri);
	char *ha1 = md5_hex(a1), *ha2 = md5_hex(a2);
	char *kd;
	if (c->qop) {
		if (g_ascii_strcasecmp(c->qop, "auth") != 0 || !c->nc || !c->cnonce) {
			g_free(a1), g_free(a2), g_free(ha1), g_free(ha2);
			return false;
		}
		kd = g_strdup_printf("%s:%s:%s:%s:%s:%s", ha1, c->nonce, c->nc, c->cnonce, c->qop,
		                     ha2);
	} else {
		kd = g_strdup_printf("%s:%s:%s", ha1, c->nonce, ha2);
	}
	char *expected = md5_hex(kd);
	bool ok = strlen(expected) == strlen(c->response);
	unsigned diff = 0;
	for (size_t i = 0; ok && expected[i]; i++)
		diff |= (unsigned)(g_ascii_tolower(c->response[i]) ^ expected[i]);
	g_free(a1), g_free(a2), g_free(ha1), g_free(ha2), g_free(kd), g_free(expected);
	return ok && diff == 0;
}
