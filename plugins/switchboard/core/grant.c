/* Signed grants: "<expires>.<hex HMAC-SHA256(secret, purpose "\n" subject
 * "\n" expires)>".  What Switchboard hands to a third party that will hand
 * it back (the X-Room of a <Dial><Sip>, the room of a Media Stream): the
 * purpose keeps a grant made for one door from opening another, the
 * expiry bounds how long a leaked one is worth anything.  Pure; no state. */
#include "core/core.h"

#include <string.h>

#define GRANT_HEX_LEN 64
#define GRANT_EXPIRES_MAX_DIGITS 19

static char *grant_mac(const char *secret, const char *purpose, const char *subject,
                       gint64 expires_s)
{
	char *data = g_strdup_printf("%s\n%s\n%" G_GINT64_FORMAT, purpose, subject, expires_s);
	char *mac = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)secret,
	                                      strlen(secret), data, -1);
	g_free(data);
	return mac;
}

char *sb_grant_sign(const char *secret, const char *purpose, const char *subject, gint64 expires_s)
{
	if (!secret || !*secret || !purpose || !subject)
		return NULL;
	char *mac = grant_mac(secret, purpose, subject, expires_s);
	char *grant = g_strdup_printf("%" G_GINT64_FORMAT ".%s", expires_s, mac);
	g_free(mac);
	return grant;
}

/* Equal lengths are checked by the caller; the time depends on n only. */
static bool equal_ct(const char *a, const char *b, size_t n)
{
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

sb_grant_status sb_grant_verify(const char *secret, const char *purpose, const char *subject,
                                const char *grant, gint64 now_s)
{
	if (!grant || !*grant)
		return SB_GRANT_MISSING;
	const char *dot = strchr(grant, '.');
	size_t digits = dot ? (size_t)(dot - grant) : 0;
	if (!dot || digits == 0 || digits > GRANT_EXPIRES_MAX_DIGITS ||
	    strlen(dot + 1) != GRANT_HEX_LEN)
		return SB_GRANT_MALFORMED;
	for (size_t i = 0; i < digits; i++)
		if (!g_ascii_isdigit(grant[i]))
			return SB_GRANT_MALFORMED;
	char given[GRANT_HEX_LEN + 1];
	for (size_t i = 0; i < GRANT_HEX_LEN; i++) {
		if (!g_ascii_isxdigit(dot[1 + i]))
			return SB_GRANT_MALFORMED;
		given[i] = g_ascii_tolower(dot[1 + i]);
	}
	given[GRANT_HEX_LEN] = '\0';
	gint64 expires = g_ascii_strtoll(grant, NULL, 10);
	if (!secret || !*secret || !purpose || !subject)
		return SB_GRANT_WRONG;
	char *mac = grant_mac(secret, purpose, subject, expires);
	bool ok = strlen(mac) == GRANT_HEX_LEN && equal_ct(mac, given, GRANT_HEX_LEN);
	g_free(mac);
	if (!ok)
		return SB_GRANT_WRONG;
	/* Checked after the MAC: only a grant we made can say it expired. */
	return expires < now_s ? SB_GRANT_EXPIRED : SB_GRANT_OK;
}
