/* The signature a business checks to know a tool request came from us:
 * HMAC-SHA256 of the exact body bytes, keyed with the tool's secret. */
#include "tools/tools_private.h"

#include <string.h>

char *sb_tool_signature(const char *secret, const char *body, size_t len)
{
	GHmac *mac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret));
	g_hmac_update(mac, (const guchar *)body, (gssize)len);
	char *sig = g_strdup_printf("sha256=%s", g_hmac_get_string(mac));
	g_hmac_unref(mac);
	return sig;
}
