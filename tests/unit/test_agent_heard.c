/* What the caller heard: chunks played out by the mixer, confirmed by a
 * listener's marks, cut at a barge-in (agent_heard.h). */
#include <glib.h>

#include "agent/agent_private.h"

static void test_played_and_confirmed(void)
{
	sb_heard *h = sb_heard_new();
	g_assert_false(sb_heard_active(h));
	sb_heard_new_answer(h);
	g_assert_cmpuint(sb_heard_chunk(h, 0, "First."), ==, 1);
	g_assert_cmpuint(sb_heard_chunk(h, 100, "Second."), ==, 2);
	g_assert_cmpuint(sb_heard_chunk(h, 200, "Third."), ==, 3);
	/* Half of the first chunk: nothing played out yet. */
	sb_heard_played(h, 50, 300);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 0);
	/* The second began: the first is out. */
	sb_heard_played(h, 120, 300);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 1);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 0);
	/* Everything out at once: the last one is reported. */
	sb_heard_played(h, 300, 300);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 3);
	/* Only the first echoed. */
	sb_heard_confirm(h, 1);
	g_assert_true(sb_heard_active(h));
	g_assert_false(sb_heard_all(h));
	char *heard = sb_heard_answer(h);
	g_assert_cmpstr(heard, ==, "First.");
	g_free(heard);
	sb_heard_confirm(h, 3);
	g_assert_true(sb_heard_all(h));
	heard = sb_heard_answer(h);
	g_assert_cmpstr(heard, ==, "First. Second. Third.");
	g_free(heard);
	sb_heard_free(h);
}

static void test_cleared_and_new_answer(void)
{
	sb_heard *h = sb_heard_new();
	sb_heard_new_answer(h);
	sb_heard_chunk(h, 0, "Hello.");
	sb_heard_played(h, 10, 10);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 1);
	sb_heard_confirm(h, 1);
	/* A new answer: only its own chunks count. */
	sb_heard_new_answer(h);
	sb_heard_chunk(h, 10, "One.");
	sb_heard_chunk(h, 20, "Two.");
	sb_heard_played(h, 25, 30);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 2);
	sb_heard_confirm(h, 2);
	char *heard = sb_heard_answer(h);
	g_assert_cmpstr(heard, ==, "One.");
	g_free(heard);
	/* Barge-in: the rest never plays; its late echoes are stale. */
	sb_heard_cleared(h);
	g_assert_cmpuint(sb_heard_take_played(h), ==, 0);
	sb_heard_confirm(h, 3);
	heard = sb_heard_answer(h);
	g_assert_cmpstr(heard, ==, "One.");
	g_free(heard);
	/* Unknown ids are ignored. */
	sb_heard_confirm(h, 99);
	heard = sb_heard_answer(h);
	g_assert_cmpstr(heard, ==, "One.");
	g_free(heard);
	sb_heard_free(h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent_heard/played_and_confirmed", test_played_and_confirmed);
	g_test_add_func("/agent_heard/cleared_and_new_answer", test_cleared_and_new_answer);
	return g_test_run();
}
