/* Knowing when the caller is done (agent_endpoint.c): an unfinished
 * sentence waits longer, a complete question or one of the knowledge
 * base's whole sentences less, within the configured bounds. */
#include <glib.h>

#include "agent/agent_private.h"
#include "embedded/embedded.h"

static void test_shapes(void)
{
	const char *open[] = {"my order number is",
	                      "i need help with my order and",
	                      "um",
	                      "my order number is one two three",
	                      "it's",
	                      "can i talk to",
	                      "what are your"};
	for (size_t i = 0; i < G_N_ELEMENTS(open); i++)
		g_assert_cmpint(sb_turn_shape_of(open[i], NULL), ==, SB_TURN_OPEN);
	const char *complete[] = {"what are your opening hours", "where is my order today",
	                          "can i talk to a human"};
	for (size_t i = 0; i < G_N_ELEMENTS(complete); i++)
		g_assert_cmpint(sb_turn_shape_of(complete[i], NULL), ==, SB_TURN_COMPLETE);
	const char *unsure[] = {"", "hello", "my order number is one two three four five",
	                        "thank you", "where is it"};
	for (size_t i = 0; i < G_N_ELEMENTS(unsure); i++)
		g_assert_cmpint(sb_turn_shape_of(unsure[i], NULL), ==, SB_TURN_UNSURE);
}

/* Where the knowledge base's grammar ends: its sentences, not the leads a
 * caller goes on after, nor a part of a sentence. */
static void test_knowledge_base_ends(void)
{
	char *error = NULL;
	json_t *kb = sb_kb_load(SB_SOURCE_DIR "/conf/knowledge-base.json", &error);
	g_assert_null(error);
	g_assert_nonnull(kb);
	sb_turn_ends *ends = sb_turn_ends_new(kb);
	const char *complete[] = {
	        "goodbye",           "talk to a human", "I need help with my order",
	        "speak to an agent", "opening hours",   "ما هي ساعات العمل"};
	for (size_t i = 0; i < G_N_ELEMENTS(complete); i++) {
		g_assert_cmpint(sb_turn_shape_of(complete[i], ends), ==, SB_TURN_COMPLETE);
		g_assert_cmpint(sb_turn_shape_of(complete[i], NULL), !=, SB_TURN_COMPLETE);
	}
	const char *not_over[] = {"hello", "thank you", "help with my order", "talk to a",
	                          "what are your"};
	for (size_t i = 0; i < G_N_ELEMENTS(not_over); i++)
		g_assert_cmpint(sb_turn_shape_of(not_over[i], ends), !=, SB_TURN_COMPLETE);
	g_assert_cmpint(sb_turn_shape_of("what are your", ends), ==, SB_TURN_OPEN);
	sb_turn_ends_free(ends);
	sb_turn_ends *none = sb_turn_ends_new(NULL);
	g_assert_cmpint(sb_turn_shape_of("goodbye", none), ==, SB_TURN_UNSURE);
	sb_turn_ends_free(none);
	json_decref(kb);
}

static void test_waits(void)
{
	sb_turn_waits w = {.min_ms = 250, .base_ms = 300, .max_ms = 1200};
	g_assert_cmpint(sb_turn_wait_ms(SB_TURN_OPEN, &w), ==, 1200);
	g_assert_cmpint(sb_turn_wait_ms(SB_TURN_COMPLETE, &w), ==, 250);
	g_assert_cmpint(sb_turn_wait_ms(SB_TURN_UNSURE, &w), ==, 300);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent_endpoint/shapes", test_shapes);
	g_test_add_func("/agent_endpoint/knowledge_base_ends", test_knowledge_base_ends);
	g_test_add_func("/agent_endpoint/waits", test_waits);
	return g_test_run();
}
