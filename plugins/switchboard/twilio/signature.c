/* X-Twilio-Signature: HMAC-SHA1 of the URL Twilio called and the sorted
 * form pairs (or the URL alone, with bodySHA256, for JSON bodies).  Pure
 * functions, no I/O, compared in constant time: unit-tested against
 * vectors from Node's crypto and fuzzed. */
#include "twilio/twilio_private.h"

#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* application/x-www-form-urlencoded decoding: '+' is a space. */
static char *form_decode(const char *s, size_t n)
{
	GString *out = g_string_sized_new(n);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			g_string_append_c(out, ' ');
		} else if (c == '%') {
			if (i + 2 >= n) {
				g_string_free(out, TRUE);
				return NULL;
			}
			int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
			if (a < 0 || b < 0 || (a == 0 && b == 0)) {
				g_string_free(out, TRUE);
				return NULL;
			}
			g_string_append_c(out, (char)(a * 16 + b));
			i += 2;
		} else if (c == '\0') {
			g_string_free(out, TRUE);
			return NULL;
		} else {
			g_string_append_c(out, c);
		}
	}
	return g_string_free(out, FALSE);
}

GPtrArray *sb_twilio_form_pairs(const char *body, size_t len)
{
	GPtrArray *pairs = g_ptr_array_new_with_free_func(g_free);
	size_t i = 0;
	while (body && i < len) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		if (end > i) {
			size_t eq = i;
			while (eq < end && body[eq] != '=')
				eq++;
			char *name = form_decode(body + i, eq - i);
			char *value =
			        eq < end ? form_decode(body + eq + 1, end - eq - 1) : g_strdup("");
			if (!name || !value) {
				g_free(name);
				g_free(value);
				g_ptr_array_unref(pairs);
				return NULL;
			}
			g_ptr_array_add(pairs, name);
			g_ptr_array_add(pairs, value);
		}
		i = end + 1;
	}
	return pairs;
}

typedef struct {
	const char *name, *value;
} pair;

static int pair_cmp(const void *a, const void *b)
{
	const pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

char *sb_twilio_sign(const char *auth_token, const char *url, GPtrArray *pairs)
{
	GString *data = g_string_new(url);
	guint n = pairs ? pairs->len / 2 : 0;
	if (n) {
		pair *sorted = g_new(pair, n);
		for (guint i = 0; i < n; i++) {
			sorted[i].name = pairs->pdata[2 * i];
			sorted[i].value = pairs->pdata[2 * i + 1];
		}
		qsort(sorted, n, sizeof(pair), pair_cmp);
		for (guint i = 0; i < n; i++) {
			g_string_append(data, sorted[i].name);
			g_string_append(data, sorted[i].value);
		}
		g_free(sorted);
	}
	GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)auth_token, strlen(auth_token));
	g_hmac_update(hmac, (const guchar *)data->str, (gssize)data->len);
	guint8 digest[20];
	gsize dlen = sizeof(digest);
	g_hmac_get_digest(hmac, digest, &dlen);
	g_hmac_unref(hmac);
	g_string_free(data, TRUE);
	return g_base64_encode(digest, dlen);
}

bool sb_twilio_equal(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	/* Walk the expected string fully whatever the other says. */
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ (i < lb ? b[i] : 0));
	return diff == 0;
}

/* The URL with its default port added (when absent) or removed (when
 * present); NULL when it has no scheme we know. */
static char *other_port_form(const char *url)
{
	const char *scheme_end = strstr(url, "://");
	if (!scheme_end)
		return NULL;
	size_t scheme_len = (size_t)(scheme_end - url);
	const char *port = NULL;
	if (scheme_len == 5 && !g_ascii_strncasecmp(url, "https", 5))
		port = "443";
	else if (scheme_len == 3 && !g_ascii_strncasecmp(url, "wss", 3))
		port = "443";
	else if (scheme_len == 4 && !g_ascii_strncasecmp(url, "http", 4))
		port = "80";
	else if (scheme_len == 2 && !g_ascii_strncasecmp(url, "ws", 2))
		port = "80";
	if (!port)
		return NULL;
	const char *host = scheme_end + 3;
	const char *host_end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(host_end - host));
	const char *h = at ? at + 1 : host;
	const char *colon = NULL;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(host_end - h));
		if (close && close + 1 < host_end && close[1] == ':')
			colon = close + 1;
	} else {
		colon = memchr(h, ':', (size_t)(host_end - h));
	}
	if (colon) {
		size_t plen = (size_t)(host_end - colon - 1);
		if (plen != strlen(port) || strncmp(colon + 1, port, plen))
			return NULL; /* a non-default port is signed as is */
		return g_strdup_printf("%.*s%s", (int)(colon - url), url, host_end);
	}
	return g_strdup_printf("%.*s:%s%s", (int)(host_end - url), url, port, host_end);
}

bool sb_twilio_signature_ok(const char *auth_token, const char *url, GPtrArray *pairs,
                            const char *signature)
{
	if (!auth_token || !*auth_token || !url || !signature)
		return false;
	char *expected = sb_twilio_sign(auth_token, url, pairs);
	bool ok = sb_twilio_equal(expected, signature);
	g_free(expected);
	char *other = other_port_form(url);
	if (other) {
		expected = sb_twilio_sign(auth_token, other, pairs);
		ok |= sb_twilio_equal(expected, signature);
		g_free(expected);
		g_free(other);
	}
	return ok;
}

char *sb_twilio_query_param(const char *url, const char *name)
{
	const char *q = strchr(url, '?');
	if (!q)
		return NULL;
	q++;
	const char *hash = strchr(q, '#');
	size_t len = hash ? (size_t)(hash - q) : strlen(q);
	GPtrArray *pairs = sb_twilio_form_pairs(q, len);
	char *value = NULL;
	for (guint i = 0; pairs && i + 1 < pairs->len && !value; i += 2)
		if (!strcmp(pairs->pdata[i], name))
			value = g_strdup(pairs->pdata[i + 1]);
	if (pairs)
		g_ptr_array_unref(pairs);
	return value;
}

static bool request_ok(const char *auth_token, const char *url, const char *body, size_t body_len,
                       bool is_form, const char *signature, const char **why)
{
	if (!signature || !*signature) {
		*why = "missing X-Twilio-Signature";
		return false;
	}
	char *hash = sb_twilio_query_param(url, "bodySHA256");
	if (hash) {
		char *actual = g_compute_checksum_for_data(
		        G_CHECKSUM_SHA256, (const guchar *)(body ? body : ""), body ? body_len : 0);
		bool body_ok = !g_ascii_strcasecmp(actual, hash) && strlen(hash) == 64;
		g_free(actual);
		g_free(hash);
		if (!body_ok) {
			*why = "body does not match bodySHA256";
			return false;
		}
		if (!sb_twilio_signature_ok(auth_token, url, NULL, signature)) {
			*why = "wrong X-Twilio-Signature";
			return false;
		}
		return true;
	}
	/* Without bodySHA256 only a form body is covered by the signature:
	 * any other body would be trusted unsigned. */
	if (!is_form && body && body_len) {
		*why = "a body that is not a form needs bodySHA256 in the URL";
		return false;
	}
	GPtrArray *pairs = NULL;
	if (is_form && body && body_len) {
		pairs = sb_twilio_form_pairs(body, body_len);
		if (!pairs) {
			*why = "malformed form body";
			return false;
		}
	}
	bool ok = sb_twilio_signature_ok(auth_token, url, pairs, signature);
	if (pairs)
		g_ptr_array_unref(pairs);
	if (!ok)
		*why = "wrong X-Twilio-Signature";
	return ok;
}

bool sb_twilio_request_ok(const char *auth_token, const char *url, const char *body,
                          size_t body_len, bool is_form, const char *signature, char **error)
{
	const char *why = NULL;
	if (request_ok(auth_token, url, body, body_len, is_form, signature, &why))
		return true;
	*error = g_strdup(why);
	return false;
}
