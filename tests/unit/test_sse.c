/* The Server-Sent Events parser: the WHATWG parsing rules, and the same
 * events whatever the chunking. */
#include <glib.h>
#include <string.h>

#include "net/net.h"

typedef struct {
	GString *log;
	int stop_after; /* 0: never */
	int n;
} collect;

static bool on_event(void *user, const char *event, const char *data, size_t len, const char *id)
{
	collect *c = user;
	g_string_append_printf(c->log, "[%s|", event);
	g_string_append_len(c->log, data, (gssize)len);
	g_string_append_printf(c->log, "|%s]", id);
	c->n++;
	return !(c->stop_after && c->n >= c->stop_after);
}

/* Parses input fed in pieces of `step` bytes (0: all at once). */
static char *parse(const char *input, size_t len, size_t step)
{
	collect c = {g_string_new(NULL), 0, 0};
	sb_sse_parser *p = sb_sse_new(on_event, &c);
	if (step == 0)
		step = len ? len : 1;
	for (size_t i = 0; i < len; i += step)
		sb_sse_feed(p, input + i, MIN(step, len - i));
	sb_sse_free(p);
	return g_string_free(c.log, FALSE);
}

static void expect(const char *input, const char *want)
{
	size_t len = strlen(input);
	for (size_t step = 0; step <= len; step++) {
		char *got = parse(input, len, step);
		if (strcmp(got, want) != 0)
			g_error("input %s, chunks of %zu: got %s, want %s", input, step, got, want);
		g_free(got);
	}
}

static void test_basic(void)
{
	expect("data: hello\n\n", "[message|hello|]");
	expect("event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\n",
	       "[add|73857293|][remove|2153|]");
	/* Nothing without the blank line that ends the event. */
	expect("data: lost", "");
	expect("data: lost\n", "");
}

static void test_multiline_and_spaces(void)
{
	expect("data: first\ndata: second\n\n", "[message|first\nsecond|]");
	expect("data:no space\n\n", "[message|no space|]");
	expect("data:  two spaces\n\n", "[message| two spaces|]");
	/* "data" alone is a data line with an empty value. */
	expect("data\ndata\n\n", "[message|\n|]");
	expect("data:\n\n", "[message||]");
	/* A colon in the value stays. */
	expect("data: a: b\n\n", "[message|a: b|]");
	/* "data " (with a space, no colon) is another field name. */
	expect("data : x\n\n", "");
}

static void test_line_endings(void)
{
	expect("data: a\r\n\r\n", "[message|a|]");
	expect("data: a\r\rdata: b\r\r", "[message|a|][message|b|]");
	expect("data: a\ndata: b\r\ndata: c\r\r\n", "[message|a\nb\nc|]");
	/* CRLF split across chunks is one line end, not two. */
	expect("data: x\r\ndata: y\r\n\r\n", "[message|x\ny|]");
}

static void test_comments_and_unknown(void)
{
	expect(": a comment\ndata: x\n: another\n\n", "[message|x|]");
	expect(":\n\n", "");
	expect("retry: 1000\nfoo: bar\ndata: x\n\n", "[message|x|]");
	/* An event with fields but no data dispatches nothing, and its type
	 * does not leak into the next event. */
	expect("event: ping\n\ndata: y\n\n", "[message|y|]");
}

static void test_ids(void)
{
	expect("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
	       "[message|a|1][message|b|1][message|c|]");
	static const char nul_id[] = "id: 7\ndata: a\n\nid: x\0y\ndata: b\n\n";
	char *got = parse(nul_id, sizeof(nul_id) - 1, 0);
	g_assert_cmpstr(got, ==, "[message|a|7][message|b|7]");
	g_free(got);
}

static void test_bom(void)
{
	expect("\xEF\xBB\xBF"
	       "data: x\n\n",
	       "[message|x|]");
	/* Only at the very start. */
	expect("data: a\n\n\xEF\xBB\xBF"
	       "data: b\n\n",
	       "[message|a|]");
}

static void test_openai_and_anthropic_shapes(void)
{
	expect("data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n",
	       "[message|{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}|][message|[DONE]|]");
	expect("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
	       "[message_stop|{\"type\":\"message_stop\"}|]");
}

static void test_stop(void)
{
	collect c = {g_string_new(NULL), 1, 0};
	sb_sse_parser *p = sb_sse_new(on_event, &c);
	const char *s = "data: a\n\ndata: b\n\n";
	g_assert_false(sb_sse_feed(p, s, strlen(s)));
	g_assert_false(sb_sse_feed(p, s, strlen(s)));
	g_assert_cmpstr(c.log->str, ==, "[message|a|]");
	g_assert_null(sb_sse_error(p));
	sb_sse_free(p);
	g_string_free(c.log, TRUE);
}

static void test_limits(void)
{
	collect c = {g_string_new(NULL), 0, 0};
	sb_sse_parser *p = sb_sse_new(on_event, &c);
	char *chunk = g_malloc(64 * 1024);
	memset(chunk, 'x', 64 * 1024);
	g_assert_true(sb_sse_feed(p, "data: ", 6));
	bool ok = true;
	for (int i = 0; i < 20 && ok; i++)
		ok = sb_sse_feed(p, chunk, 64 * 1024);
	g_assert_false(ok);
	g_assert_cmpstr(sb_sse_error(p), ==, "line too long");
	sb_sse_free(p);
	g_free(chunk);
	g_string_free(c.log, TRUE);
}

/* A long stream in random chunkings gives the same events. */
static void test_random_chunks(void)
{
	GString *in = g_string_new(NULL);
	for (int i = 0; i < 200; i++) {
		g_string_append_printf(in, "%sid: %d%s", i % 3 ? "" : ": c\r\n", i,
		                       i % 2 ? "\r\n" : "\n");
		g_string_append_printf(in, "event: e%d\rdata: line %d\ndata: more\r\n\n", i % 5, i);
	}
	char *want = parse(in->str, in->len, 0);
	GRand *r = g_rand_new_with_seed(42);
	for (int round = 0; round < 50; round++) {
		collect c = {g_string_new(NULL), 0, 0};
		sb_sse_parser *p = sb_sse_new(on_event, &c);
		size_t i = 0;
		while (i < in->len) {
			size_t n = MIN((size_t)g_rand_int_range(r, 1, 40), in->len - i);
			sb_sse_feed(p, in->str + i, n);
			i += n;
		}
		g_assert_cmpstr(c.log->str, ==, want);
		g_assert_cmpuint(sb_sse_events(p), ==, 200);
		sb_sse_free(p);
		g_string_free(c.log, TRUE);
	}
	g_rand_free(r);
	g_free(want);
	g_string_free(in, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sse/basic", test_basic);
	g_test_add_func("/sse/multiline-and-spaces", test_multiline_and_spaces);
	g_test_add_func("/sse/line-endings", test_line_endings);
	g_test_add_func("/sse/comments-and-unknown-fields", test_comments_and_unknown);
	g_test_add_func("/sse/ids", test_ids);
	g_test_add_func("/sse/bom", test_bom);
	g_test_add_func("/sse/openai-and-anthropic-shapes", test_openai_and_anthropic_shapes);
	g_test_add_func("/sse/stop", test_stop);
	g_test_add_func("/sse/limits", test_limits);
	g_test_add_func("/sse/random-chunks", test_random_chunks);
	return g_test_run();
}
