/* Which events a webhook receives: the defaults, patterns, and a bad
 * [webhooks] events refused whole. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "webhooks/webhooks_private.h"

static void test_defaults(void)
{
	char *error = NULL;
	GPtrArray *f = sb_webhook_filter_new(NULL, &error);
	g_assert_nonnull(f);
	g_assert_null(error);
	g_assert_true(sb_webhook_filter_wants(f, "call_status"));
	g_assert_true(sb_webhook_filter_wants(f, "transfer_accepted"));
	g_assert_true(sb_webhook_filter_wants(f, "transfer_failed"));
	g_assert_true(sb_webhook_filter_wants(f, "agent_turn"));
	g_assert_true(sb_webhook_filter_wants(f, "recording_stopped"));
	g_assert_false(sb_webhook_filter_wants(f, "transcript"));
	g_assert_false(sb_webhook_filter_wants(f, "agent_state"));
	g_assert_false(sb_webhook_filter_wants(f, "transfer")); /* the pattern needs its '_' */
	g_assert_false(sb_webhook_filter_wants(f, NULL));
	sb_webhook_filter_free(f);
}

static void test_patterns(void)
{
	char *error = NULL;
	json_t *events = json_pack("[sss]", "transcript", "agent_*", "call_status");
	GPtrArray *f = sb_webhook_filter_new(events, &error);
	g_assert_nonnull(f);
	g_assert_true(sb_webhook_filter_wants(f, "transcript"));
	g_assert_true(sb_webhook_filter_wants(f, "agent_state"));
	g_assert_true(sb_webhook_filter_wants(f, "call_status"));
	g_assert_false(sb_webhook_filter_wants(f, "room_created"));
	g_assert_false(sb_webhook_filter_wants(f, "call_status_x"));
	sb_webhook_filter_free(f);
	json_decref(events);
	events = json_pack("[s]", "*");
	f = sb_webhook_filter_new(events, &error);
	g_assert_true(sb_webhook_filter_wants(f, "anything_at_all"));
	sb_webhook_filter_free(f);
	json_decref(events);
	events = json_array(); /* asks for nothing: nothing goes */
	f = sb_webhook_filter_new(events, &error);
	g_assert_nonnull(f);
	g_assert_false(sb_webhook_filter_wants(f, "call_status"));
	sb_webhook_filter_free(f);
	json_decref(events);
}

static void test_bad(void)
{
	const char *bad[] = {"\"call_status\"", "[\"call_status\", 7]", "[\"\"]", "{\"a\": 1}",
	                     NULL};
	for (const char **b = bad; *b; b++) {
		json_t *events = json_loads(*b, JSON_DECODE_ANY, NULL);
		g_assert_nonnull(events);
		char *error = NULL;
		g_assert_null(sb_webhook_filter_new(events, &error));
		g_assert_nonnull(error);
		g_assert_nonnull(strstr(error, "[webhooks] events"));
		g_free(error);
		json_decref(events);
	}
	char name[80];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	json_t *events = json_pack("[s]", name); /* longer than any event's name */
	char *error = NULL;
	g_assert_null(sb_webhook_filter_new(events, &error));
	g_free(error);
	json_decref(events);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/webhooks/filter/defaults", test_defaults);
	g_test_add_func("/webhooks/filter/patterns", test_patterns);
	g_test_add_func("/webhooks/filter/bad", test_bad);
	return g_test_run();
}
