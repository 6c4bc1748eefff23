/* libFuzzer target for the Server-Sent Events parser, which reads what an
 * LLM provider (or anyone answering at its base_url) streams back.  Besides
 * memory safety it checks a property: the events must be the same when the
 * body arrives whole and when it arrives in pieces split anywhere (the
 * first input byte seeds the piece sizes). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool collect(void *user, const char *event, const char *data, size_t len, const char *id)
{
	GString *log = user;
	/* Lengths first, so no event boundary can be forged by the content. */
	g_string_append_printf(log, "%zu:%zu:%zu:", strlen(event), len, strlen(id));
	g_string_append(log, event);
	g_string_append_len(log, data, (gssize)len);
	g_string_append(log, id);
	return true;
}

static char *run(const char *body, size_t len, uint8_t seed, size_t *out_len)
{
	GString *log = g_string_new(NULL);
	sb_sse_parser *p = sb_sse_new(collect, log);
	size_t i = 0;
	uint32_t x = seed ? seed : len + 1; /* seed 0: one piece */
	while (i < len) {
		size_t n = len - i;
		if (seed) {
			x = x * 1103515245u + 12345u;
			n = MIN(n, (size_t)(x >> 16) % 17 + 1);
		}
		if (!sb_sse_feed(p, body + i, n))
			break;
		i += n;
	}
	sb_sse_free(p);
	*out_len = log->len;
	return g_string_free(log, FALSE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	size_t whole_len, split_len;
	char *whole = run(body, len, 0, &whole_len);
	char *split = run(body, len, data[0] | 1, &split_len);
	if (whole_len != split_len || memcmp(whole, split, whole_len) != 0)
		__builtin_trap();
	g_free(whole);
	g_free(split);
	return 0;
}
