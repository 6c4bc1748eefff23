/* The embedded engine's analysis of a call (analysis/local.c): outcome,
 * goal, sentiment over the call and at its end, fields by pattern and by
 * name, and the fields schemas it takes and refuses. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "analysis/analysis_private.h"
#include "embedded/embedded.h"

#ifndef SB_SOURCE_DIR
#define SB_SOURCE_DIR "."
#endif

static json_t *kb;

/* A log as the bus leaves it: lines "C:" (the caller, with its mood as
 * the live annotator scores it) and "A:" (the agent). */
static json_t *log_of(const char *const *lines, int agent_turns)
{
	json_t *log = json_pack("{s[]si}", "lines", "agent_turns", agent_turns);
	for (int i = 0; lines[i]; i++) {
		bool caller = lines[i][0] == 'C';
		const char *text = lines[i] + 3;
		json_array_append_new(json_object_get(log, "lines"),
		                      json_pack("{sssbsisi}", "text", text, "caller", caller, "at",
		                                1000 * i, "mood",
		                                caller ? sb_local_mood(kb, text, NULL) : 0));
	}
	return log;
}

static void test_resolved_and_happy(void)
{
	const char *const lines[] = {"A: Hello, how can I help?", "C: what are your opening hours",
	                             "A: We are open Monday to Friday, nine to five.",
	                             "C: great thank you that is perfect", NULL};
	g_autoptr(json_t) log = log_of(lines, 2);
	g_autoptr(json_t) a = sb_analysis_local(kb, log, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(a, "engine")), ==, "local");
	g_assert_cmpstr(json_string_value(json_object_get(a, "disposition")), ==, "resolved");
	g_assert_true(json_is_true(json_object_get(a, "goal_met")));
	json_t *s = json_object_get(a, "sentiment");
	g_assert_cmpstr(json_string_value(json_object_get(s, "overall")), ==, "positive");
	g_assert_cmpstr(json_string_value(json_object_get(s, "end")), ==, "positive");
	g_assert_cmpfloat(json_real_value(json_object_get(s, "score")), >, 0.0);
	g_assert_cmpuint(json_array_size(json_object_get(s, "timeline")), ==, 2);
	g_assert_nonnull(strstr(json_string_value(json_object_get(a, "summary")), "hours"));
	g_assert_cmpint(json_integer_value(json_object_get(a, "caller_turns")), ==, 2);
}

/* Angry at first, calmer at the end: the end is what it is. */
static void test_sentiment_end_differs(void)
{
	const char *const lines[] = {"C: this is terrible and useless and wrong",
	                             "A: I am sorry to hear that.",
	                             "C: my order is late again, awful",
	                             "A: Let me check.",
	                             "C: ok",
	                             "C: thanks",
	                             NULL};
	g_autoptr(json_t) log = log_of(lines, 2);
	g_autoptr(json_t) a = sb_analysis_local(kb, log, NULL);
	json_t *s = json_object_get(a, "sentiment");
	g_assert_cmpstr(json_string_value(json_object_get(s, "overall")), ==, "negative");
	g_assert_cmpstr(json_string_value(json_object_get(s, "end")), ==, "positive");
	g_assert_cmpfloat(json_real_value(json_object_get(s, "score")), <, 0.0);
	g_assert_cmpfloat(json_real_value(json_object_get(s, "score")), >=, -1.0);
	/* "not good" is not positive. */
	g_assert_cmpint(sb_local_mood(kb, "that is not good", NULL), <, 0);
}

static void test_outcomes(void)
{
	const char *const none[] = {"A: Hello, how can I help?", NULL};
	g_autoptr(json_t) silent = log_of(none, 0);
	g_autoptr(json_t) a = sb_analysis_local(kb, silent, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(a, "disposition")), ==, "abandoned");
	g_assert_false(json_is_true(json_object_get(a, "goal_met")));
	json_object_set_new(silent, "status", json_string("busy"));
	g_autoptr(json_t) b = sb_analysis_local(kb, silent, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(b, "disposition")), ==, "failed");

	const char *const chat[] = {"C: hello", "A: Hi!", "C: blah blah flibber", NULL};
	g_autoptr(json_t) log = log_of(chat, 2);
	g_autoptr(json_t) c = sb_analysis_local(kb, log, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(c, "disposition")), ==, "unresolved");
	json_object_set_new(log, "handoff", json_true());
	g_autoptr(json_t) d = sb_analysis_local(kb, log, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(d, "disposition")), ==, "escalated");
	g_assert_false(json_is_true(json_object_get(d, "goal_met")));
	json_object_set_new(log, "transferred", json_true());
	g_autoptr(json_t) e = sb_analysis_local(kb, log, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(e, "disposition")), ==, "transferred");
	g_assert_true(json_is_true(json_object_get(e, "goal_met")));
	/* A tool that did something is substance too. */
	json_object_del(log, "handoff");
	json_object_del(log, "transferred");
	json_object_set_new(log, "tools_ok", json_integer(1));
	g_autoptr(json_t) f = sb_analysis_local(kb, log, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(f, "disposition")), ==, "resolved");
	/* No log at all: an analysis still, of nothing. */
	g_autoptr(json_t) g = sb_analysis_local(NULL, NULL, NULL);
	g_assert_cmpstr(json_string_value(json_object_get(g, "disposition")), ==, "abandoned");
}

static void test_fields(void)
{
	g_autoptr(json_t) schema =
	        json_loads("{\"type\":\"object\",\"properties\":{"
	                   "\"order_number\":{\"type\":\"string\"},"
	                   "\"callback_time\":{\"type\":\"string\"},"
	                   "\"email\":{\"type\":\"string\"},"
	                   "\"ticket\":{\"type\":\"integer\",\"pattern\":\"ticket (\\\\d+)\"},"
	                   "\"wants_refund\":{\"type\":\"boolean\",\"pattern\":\"refund\"},"
	                   "\"nothing\":{\"type\":\"string\"}}}",
	                   0, NULL);
	g_assert_nonnull(schema);
	char *error = NULL;
	g_assert_true(sb_analysis_schema_ok(schema, &error));
	const char *const lines[] = {"C: my order number is 12345",
	                             "C: call me back tomorrow at 3 pm please",
	                             "C: it is jane.doe@example.com and ticket 778", NULL};
	g_autoptr(json_t) log = log_of(lines, 1);
	g_autoptr(json_t) a = sb_analysis_local(kb, log, schema);
	json_t *f = json_object_get(a, "fields");
	g_assert_cmpstr(json_string_value(json_object_get(f, "order_number")), ==, "12345");
	g_assert_cmpstr(json_string_value(json_object_get(f, "callback_time")), ==,
	                "tomorrow at 3 pm");
	g_assert_cmpstr(json_string_value(json_object_get(f, "email")), ==, "jane.doe@example.com");
	g_assert_cmpint(json_integer_value(json_object_get(f, "ticket")), ==, 778);
	g_assert_true(json_is_null(json_object_get(f, "wants_refund")));
	g_assert_true(json_is_null(json_object_get(f, "nothing")));
	g_assert_cmpuint(json_object_size(f), ==, 6);
}

static void test_bad_schemas(void)
{
	const char *bad[] = {"[]",
	                     "{\"type\":\"array\"}",
	                     "{\"type\":\"object\"}",
	                     "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\"}}}",
	                     "{\"type\":\"object\",\"properties\":{\"a\":7}}",
	                     "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
	                     "\"pattern\":\"(unclosed\"}}}",
	                     NULL};
	for (const char **b = bad; *b; b++) {
		g_autoptr(json_t) schema = json_loads(*b, JSON_DECODE_ANY, NULL);
		g_assert_nonnull(schema);
		char *error = NULL;
		g_assert_false(sb_analysis_schema_ok(schema, &error));
		g_assert_nonnull(error);
		g_assert_nonnull(strstr(error, "[analysis] fields"));
		g_free(error);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	char *error = NULL;
	kb = sb_kb_load(SB_SOURCE_DIR "/conf/knowledge-base.json", &error);
	g_assert_nonnull(kb);
	g_test_add_func("/analysis/resolved", test_resolved_and_happy);
	g_test_add_func("/analysis/sentiment_end", test_sentiment_end_differs);
	g_test_add_func("/analysis/outcomes", test_outcomes);
	g_test_add_func("/analysis/fields", test_fields);
	g_test_add_func("/analysis/bad_schemas", test_bad_schemas);
	int rc = g_test_run();
	sb_llm_local_shutdown();
	json_decref(kb);
	return rc;
}
