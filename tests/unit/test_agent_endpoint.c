/* Knowing when the caller is done (agent_endpoint.c): an unfinished
 * sentence waits longer, a complete question less, within the configured
 * bounds. */
#include <glib.h>

#include "agent/agent_private.h"

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
		g_assert_cmpint(sb_turn_shape_of(open[i]), ==, SB_TURN_OPEN);
	const char *complete[] = {"what are your opening hours", "where is my order today",
	                          "can i talk to a human"};
	for (size_t i = 0; i < G_N_ELEMENTS(complete); i++)
		g_assert_cmpint(sb_turn_shape_of(complete[i]), ==, SB_TURN_COMPLETE);
	const char *unsure[] = {"", "hello", "my order number is one two three four five",
	                        "thank you", "where is it"};
	for (size_t i = 0; i < G_N_ELEMENTS(unsure); i++)
		g_assert_cmpint(sb_turn_shape_of(unsure[i]), ==, SB_TURN_UNSURE);
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
	g_test_add_func("/agent_endpoint/waits", test_waits);
	return g_test_run();
}
