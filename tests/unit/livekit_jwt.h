/* JWTs made here for the LiveKit token tests (test_livekit.c) and fuzz
 * target (fuzz_livekit.c): a header and claims of the test's choosing,
 * signed HS256 with a secret, as an attacker who knows it would. */
#ifndef SB_TESTS_LIVEKIT_JWT_H
#define SB_TESTS_LIVEKIT_JWT_H

#include <string.h>

#include <glib.h>

static inline char *lk_test_b64url(const void *data, gsize len)
{
	char *s = g_base64_encode(data, len);
	for (char *c = s; *c; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c == '=' ? '\0' : *c;
	return s;
}

/* header "." payload (payload_len bytes), signed with secret; g_free. */
static inline char *lk_test_token(const char *header, const void *payload, gsize payload_len,
                                  const char *secret)
{
	char *h = lk_test_b64url(header, strlen(header));
	char *p = lk_test_b64url(payload, payload_len);
	char *signed_part = g_strdup_printf("%s.%s", h, p);
	guint8 mac[32];
	gsize mac_len = sizeof(mac);
	GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret));
	g_hmac_update(hmac, (const guchar *)signed_part, -1);
	g_hmac_get_digest(hmac, mac, &mac_len);
	g_hmac_unref(hmac);
	char *sig = lk_test_b64url(mac, mac_len);
	char *token = g_strdup_printf("%s.%s", signed_part, sig);
	g_free(h);
	g_free(p);
	g_free(signed_part);
	g_free(sig);
	return token;
}

#endif
