/* Menus the phone way, on a fake clock: a key or a word picks an option,
 * a number is keyed in or said, silence and wrong choices are retried
 * and then given up on, and a bad gather is refused with its place. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "menus/menus.h"

#define MS 1000

static json_t *sales_menu(void)
{
	json_error_t e;
	json_t *m = json_loads(
	        "{\"prompt\": \"For sales press or say 1. For support press or say 2.\","
	        " \"timeout_ms\": 4000, \"retries\": 1, \"variable\": \"department\","
	        " \"options\": ["
	        "  {\"key\": \"1\", \"words\": [\"sales\", \"buy something\"], \"value\": "
	        "\"sales\","
	        "   \"say\": \"Putting you through to sales.\", \"queue\": \"sales\"},"
	        "  {\"key\": \"2\", \"words\": [\"support\", \"help\"], \"agent\": true},"
	        "  {\"key\": \"*\", \"menu\": {\"prompt\": \"Again?\", \"options\": "
	        "    [{\"key\": \"1\"}]}}],"
	        " \"otherwise\": {\"queue\": \"general\"}}",
	        0, &e);
	g_assert_nonnull(m);
	return m;
}

static const char *status_of(sb_menu_step s)
{
	return json_string_value(json_object_get(s.outcome, "status"));
}

static void test_key_picks_option(void)
{
	json_t *spec = sales_menu();
	char *error = NULL;
	g_assert_true(sb_menu_check(spec, true, &error));
	sb_menu *m = sb_menu_new(spec);
	sb_menu_step s = sb_menu_start(m);
	g_assert_cmpstr(s.say, ==, "For sales press or say 1. For support press or say 2.");
	g_assert_false(s.done);
	sb_menu_played(m, 1000 * MS);
	s = sb_menu_key(m, '1', 2000 * MS);
	g_assert_true(s.done);
	g_assert_cmpstr(status_of(s), ==, "matched");
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "input")), ==, "dtmf");
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "value")), ==, "sales");
	g_assert_cmpstr(json_string_value(json_object_get(s.action, "queue")), ==, "sales");
	/* Over: nothing more is taken. */
	s = sb_menu_key(m, '2', 2100 * MS);
	g_assert_false(s.done);
	g_assert_null(s.say);
	sb_menu_free(m);
	json_decref(spec);
}

static void test_words_pick_option(void)
{
	json_t *spec = sales_menu();
	const char *said[] = {"I want to buy something please", "two", "option 2", "SUPPORT",
	                      "two two two"};
	const char *want[] = {"1", "2", "2", "2", "2"};
	for (size_t i = 0; i < G_N_ELEMENTS(said); i++) {
		sb_menu *m = sb_menu_new(spec);
		sb_menu_start(m);
		sb_menu_played(m, 0);
		bool taken = false;
		sb_menu_step s = sb_menu_speech(m, said[i], 100 * MS, &taken);
		g_assert_true(taken);
		g_assert_true(s.done);
		g_assert_cmpstr(status_of(s), ==, "matched");
		g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "key")), ==, want[i]);
		g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "speech")), ==,
		                said[i]);
		sb_menu_free(m);
	}
	/* "sales and support" names two options: no choice, asked again. */
	sb_menu *m = sb_menu_new(spec);
	sb_menu_start(m);
	bool taken = false;
	sb_menu_step s = sb_menu_speech(m, "sales and support", 0, &taken);
	g_assert_false(s.done);
	g_assert_nonnull(strstr(s.say, "isn't one of the choices"));
	g_assert_nonnull(strstr(s.say, "For sales press"));
	/* Two keys said is no choice either. */
	sb_menu_start(m);
	s = sb_menu_speech(m, "one two", 0, &taken);
	g_assert_false(s.done);
	/* "salesman" is not "sales": whole words only. */
	s = sb_menu_speech(m, "salesman", 0, &taken);
	g_assert_true(s.done);
	g_assert_cmpstr(status_of(s), ==, "no_match");
	g_assert_cmpstr(json_string_value(json_object_get(s.action, "queue")), ==, "general");
	sb_menu_free(m);
	json_decref(spec);
}

static void test_silence_retries_then_gives_up(void)
{
	json_t *spec = sales_menu();
	sb_menu *m = sb_menu_new(spec);
	sb_menu_start(m);
	/* The wait starts once the prompt has been played, not before. */
	g_assert_false(sb_menu_tick(m, 60000 * MS).done);
	sb_menu_played(m, 60000 * MS);
	sb_menu_step s = sb_menu_tick(m, 63999 * MS);
	g_assert_null(s.say);
	s = sb_menu_tick(m, 64000 * MS);
	g_assert_false(s.done);
	g_assert_nonnull(strstr(s.say, "Sorry, I didn't get that. For sales"));
	sb_menu_played(m, 70000 * MS);
	s = sb_menu_tick(m, 74000 * MS);
	g_assert_true(s.done);
	g_assert_cmpstr(status_of(s), ==, "no_input");
	g_assert_cmpint(json_integer_value(json_object_get(s.outcome, "attempts")), ==, 2);
	g_assert_cmpstr(json_string_value(json_object_get(s.action, "queue")), ==, "general");
	sb_menu_free(m);
	json_decref(spec);
}

static void test_number_by_keys(void)
{
	json_t *spec =
	        json_pack("{s:s, s:i, s:i, s:{s:s, s:s}}", "prompt",
	                  "Key in your order number, then press hash.", "min_digits", 3,
	                  "max_digits", 8, "then", "tool", "lookup_order", "argument", "order");
	char *error = NULL;
	g_assert_true(sb_menu_check(spec, true, &error));
	sb_menu *m = sb_menu_new(spec);
	sb_menu_start(m);
	/* Keys while the prompt plays count (the caller knew already). */
	const char *keys = "12345#";
	sb_menu_step s = {0};
	for (const char *k = keys; *k; k++)
		s = sb_menu_key(m, *k, 100 * MS);
	g_assert_true(s.done);
	g_assert_cmpstr(status_of(s), ==, "collected");
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "digits")), ==, "12345");
	g_assert_cmpstr(json_string_value(json_object_get(s.action, "tool")), ==, "lookup_order");
	sb_menu_free(m);

	/* Without the finish key: the pause after the last key ends it. */
	m = sb_menu_new(spec);
	sb_menu_start(m);
	sb_menu_played(m, 0);
	sb_menu_key(m, '4', 1000 * MS);
	sb_menu_key(m, '2', 1500 * MS);
	sb_menu_key(m, '7', 2000 * MS);
	g_assert_false(sb_menu_tick(m, 4999 * MS).done);
	s = sb_menu_tick(m, 5000 * MS);
	g_assert_true(s.done);
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "digits")), ==, "427");
	sb_menu_free(m);

	/* Too short is a wrong answer: asked again, the keys forgotten. */
	m = sb_menu_new(spec);
	sb_menu_start(m);
	sb_menu_key(m, '9', 0);
	s = sb_menu_key(m, '#', 0);
	g_assert_false(s.done);
	g_assert_nonnull(strstr(s.say, "Key in your order number"));
	sb_menu_key(m, '1', 0);
	sb_menu_key(m, '2', 0);
	sb_menu_key(m, '3', 0);
	s = sb_menu_key(m, '#', 0);
	g_assert_true(s.done);
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "digits")), ==, "123");
	g_assert_cmpint(json_integer_value(json_object_get(s.outcome, "attempts")), ==, 2);
	sb_menu_free(m);

	/* max_digits ends it without the finish key. */
	m = sb_menu_new(spec);
	sb_menu_start(m);
	for (int i = 0; i < 7; i++)
		g_assert_false(sb_menu_key(m, '5', 0).done);
	s = sb_menu_key(m, '6', 0);
	g_assert_true(s.done);
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "digits")), ==, "55555556");
	sb_menu_free(m);
	json_decref(spec);
}

static void test_number_by_voice(void)
{
	json_t *spec = json_pack("{s:s, s:s}", "prompt", "Say or key in your order number.",
	                         "input", "dtmf speech");
	sb_menu *m = sb_menu_new(spec);
	sb_menu_start(m);
	bool taken = false;
	sb_menu_step s = sb_menu_speech(m, "it's one two three four five", 0, &taken);
	g_assert_true(taken);
	g_assert_true(s.done);
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "digits")), ==, "12345");
	g_assert_cmpstr(json_string_value(json_object_get(s.outcome, "input")), ==, "speech");
	sb_menu_free(m);
	json_decref(spec);

	/* Keys only: the driver keeps the words for the agent. */
	spec = json_pack("{s:s, s:s}", "prompt", "Key it in.", "input", "dtmf");
	m = sb_menu_new(spec);
	sb_menu_start(m);
	s = sb_menu_speech(m, "one two", 0, &taken);
	g_assert_false(taken);
	g_assert_false(s.done);
	sb_menu_free(m);
	json_decref(spec);

	char *d = sb_menu_spoken_digits("double seven oh 4, and 12");
	g_assert_cmpstr(d, ==, "770412");
	g_free(d);
	d = sb_menu_spoken_digits("no numbers here");
	g_assert_cmpstr(d, ==, "");
	g_free(d);
}

static void test_bad_gathers(void)
{
	static const struct {
		const char *json;
		bool actions;
		const char *error;
	} cases[] = {
	        {"[]", true, "a gather must be an object"},
	        {"{}", true, "prompt: a string of 1-1000 characters"},
	        {"{\"prompt\": \"x\", \"input\": \"fax\"}", true, "input:"},
	        {"{\"prompt\": \"x\", \"timeout_ms\": 10}", true, "timeout_ms: 500-60000"},
	        {"{\"prompt\": \"x\", \"retries\": 9}", true, "retries: 0-5"},
	        {"{\"prompt\": \"x\", \"colour\": 1}", true, "unknown key colour"},
	        {"{\"prompt\": \"x\", \"options\": []}", true, "options: a list of 1-12"},
	        {"{\"prompt\": \"x\", \"options\": [{\"key\": \"12\"}]}", true,
	         "options[0]: key: one of 0-9 * #"},
	        {"{\"prompt\": \"x\", \"options\": [{\"key\": \"1\"}, {\"key\": \"1\"}]}", true,
	         "options[1].key: 1 is taken already"},
	        {"{\"prompt\": \"x\", \"options\": [{\"key\": \"1\", \"queue\": \"a b\"}]}", true,
	         "options[0].queue: 1-64 of"},
	        {"{\"prompt\": \"x\", \"options\": [{\"key\": \"1\", \"queue\": \"a\", "
	         "\"end_call\": "
	         "true}]}",
	         true, "options[0]: one of queue, tool, menu and end_call at most"},
	        {"{\"prompt\": \"x\", \"options\": [{\"key\": \"1\"}], \"max_digits\": 3}", true,
	         "a menu (options) takes no max_digits"},
	        {"{\"prompt\": \"x\", \"min_digits\": 5, \"max_digits\": 3}", true,
	         "min_digits: 1-max_digits"},
	        {"{\"prompt\": \"x\", \"then\": {\"queue\": \"a\"}}", false,
	         "then is the operator's"},
	        {"{\"prompt\": \"x\", \"options\": [{\"key\": \"1\", \"queue\": \"a\"}]}", false,
	         "options[0].queue: an option of the gather tool has key, words and value only"},
	        {"{\"prompt\": \"a\", \"options\": [{\"key\": \"1\", \"menu\": {\"prompt\": \"b\", "
	         "\"options\": [{\"key\": \"1\", \"menu\": {\"prompt\": \"c\", \"options\": "
	         "[{\"key\": \"1\", \"menu\": {\"prompt\": \"d\", \"options\": [{\"key\": \"1\", "
	         "\"menu\": {\"prompt\": \"e\"}}]}}]}}]}}]}",
	         true, "menus nest 4 levels at most"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		json_t *g = json_loads(cases[i].json, 0, NULL);
		g_assert_nonnull(g);
		char *error = NULL;
		g_assert_false(sb_menu_check(g, cases[i].actions, &error));
		if (!strstr(error, cases[i].error))
			g_error("case %zu: \"%s\" lacks \"%s\"", i, error, cases[i].error);
		g_free(error);
		json_decref(g);
	}
	/* The tool's schema describes what the check takes. */
	json_t *params = sb_menu_tool_parameters();
	g_assert_nonnull(params);
	g_assert_cmpstr(json_string_value(json_object_get(params, "type")), ==, "object");
	g_assert_nonnull(json_object_get(json_object_get(params, "properties"), "options"));
	json_decref(params);
}

/* What the drivers are told to do: one reading of action and outcome. */
static void test_actions(void)
{
	json_t *spec = sales_menu();
	const struct {
		char key;
		sb_menu_do what;
	} cases[] = {{'1', SB_MENU_DO_QUEUE}, {'2', SB_MENU_DO_AGENT}, {'*', SB_MENU_DO_SUBMENU}};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		sb_menu *m = sb_menu_new(spec);
		sb_menu_start(m);
		sb_menu_step s = sb_menu_key(m, cases[i].key, 0);
		g_assert_true(s.done);
		sb_menu_action a = sb_menu_action_of(m, &s);
		sb_menu_free(m); /* what the action holds outlives the gather */
		g_assert_cmpint(a.what, ==, cases[i].what);
		if (cases[i].key == '1') {
			g_assert_cmpstr(a.say, ==, "Putting you through to sales.");
			g_assert_cmpstr(json_string_value(json_object_get(a.handoff, "queue")), ==,
			                "sales");
			g_assert_cmpstr(json_string_value(json_object_get(a.handoff, "reason")), ==,
			                "menu");
			g_assert_cmpstr(json_string_value(json_object_get(
			                        json_object_get(a.handoff, "menu"), "status")),
			                ==, "matched");
			g_assert_cmpstr(json_string_value(json_object_get(a.variables, "department")),
			                ==, "sales");
		} else if (cases[i].key == '*') {
			g_assert_cmpstr(json_string_value(json_object_get(a.submenu, "prompt")), ==,
			                "Again?");
			g_assert_null(a.handoff);
		} else {
			g_assert_null(a.say);
			g_assert_null(a.arguments);
		}
		sb_menu_action_clear(&a);
	}
	json_decref(spec);

	/* A number into a tool: the fixed arguments and the digits as the one
	 * named. */
	spec = json_pack("{s:s, s:{s:s, s:s, s:{s:s}}}", "prompt", "Your order number?", "then",
	                 "tool", "lookup_order", "argument", "order", "arguments", "source",
	                 "menu");
	char *error = NULL;
	g_assert_true(sb_menu_check(spec, true, &error));
	sb_menu *m = sb_menu_new(spec);
	sb_menu_start(m);
	sb_menu_step s = {0};
	for (const char *k = "12345#"; *k; k++)
		s = sb_menu_key(m, *k, 0);
	g_assert_true(s.done);
	sb_menu_action a = sb_menu_action_of(m, &s);
	sb_menu_free(m);
	g_assert_cmpint(a.what, ==, SB_MENU_DO_TOOL);
	g_assert_cmpstr(a.tool, ==, "lookup_order");
	g_assert_cmpstr(json_string_value(json_object_get(a.arguments, "order")), ==, "12345");
	g_assert_cmpstr(json_string_value(json_object_get(a.arguments, "source")), ==, "menu");
	g_assert_null(a.variables); /* the gather names no variable */
	sb_menu_action_clear(&a);
	json_decref(spec);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/menus/key_picks_option", test_key_picks_option);
	g_test_add_func("/menus/words_pick_option", test_words_pick_option);
	g_test_add_func("/menus/silence_retries_then_gives_up", test_silence_retries_then_gives_up);
	g_test_add_func("/menus/number_by_keys", test_number_by_keys);
	g_test_add_func("/menus/number_by_voice", test_number_by_voice);
	g_test_add_func("/menus/bad_gathers", test_bad_gathers);
	g_test_add_func("/menus/actions", test_actions);
	return g_test_run();
}
