/* Webhook signatures as LiveKit makes them (net.h, sb_outbox_body_token):
 * apart from the outbox so that what only signs needs nothing else. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "net/net.h"

static char *base64url(const guchar *data, gsize len)
{
	char *text = g_base64_encode(data, len);
	gsize out = 0;
	for (gsize i = 0; text[i] && text[i] != '='; i++)
		text[out++] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
	text[out] = '\0';
	return text;
}

char *sb_outbox_body_token(const char *issuer, const char *secret, const char *body, size_t len,
                           gint64 now_s)
{
	guint8 digest[32];
	gsize digest_len = sizeof(digest);
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *)body, (gssize)len);
	g_checksum_get_digest(sum, digest, &digest_len);
	g_checksum_free(sum);
	char *body_sha = g_base64_encode(digest, sizeof(digest)); /* standard, padded */
	json_t *claims = json_pack("{ss sI sI sI ss}", "iss", issuer, "nbf", (json_int_t)now_s,
	                           "iat", (json_int_t)now_s, "exp", (json_int_t)(now_s + 5 * 60),
	                           "sha256", body_sha);
	g_free(body_sha);
	char *claims_text = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char *h = base64url((const guchar *)header, sizeof(header) - 1);
	char *c = base64url((const guchar *)claims_text, strlen(claims_text));
	free(claims_text);
	char *signed_part = g_strdup_printf("%s.%s", h, c);
	guint8 mac[32];
	gsize mac_len = sizeof(mac);
	GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret));
	g_hmac_update(hmac, (const guchar *)signed_part, (gssize)strlen(signed_part));
	g_hmac_get_digest(hmac, mac, &mac_len);
	g_hmac_unref(hmac);
	char *signature = base64url(mac, sizeof(mac));
	char *token = g_strdup_printf("%s.%s", signed_part, signature);
	g_free(h);
	g_free(c);
	g_free(signed_part);
	g_free(signature);
	return token;
}
