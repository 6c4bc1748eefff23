/* The core's loop threads (core/loop.c): set-up and tear-down on the
 * thread, a failed set-up, work queued before a stop runs, work posted
 * after it is destroyed unrun, a reference outliving the stop, timers. */
#include <glib.h>

#include "core/core.h"

typedef struct {
	gint ran, destroyed, setup_on_thread, teardown_on_thread;
	GThread *thread;
} counts;

static gboolean count_run(gpointer data)
{
	counts *c = data;
	g_atomic_int_inc(&c->ran);
	return G_SOURCE_REMOVE;
}

static void count_destroy(gpointer data)
{
	counts *c = data;
	g_atomic_int_inc(&c->destroyed);
}

static bool setup_ok(sb_loop *l, void *user)
{
	counts *c = user;
	c->thread = g_thread_self();
	c->setup_on_thread =
	        sb_loop_is_current(l) && g_main_context_get_thread_default() == sb_loop_context(l);
	return true;
}

static bool setup_fails(sb_loop *l, void *user)
{
	(void)l, (void)user;
	return false;
}

static void teardown(sb_loop *l, void *user)
{
	counts *c = user;
	c->teardown_on_thread = c->thread == g_thread_self() && sb_loop_is_current(l);
}

static void test_hooks(void)
{
	counts c = {0};
	sb_loop *l = sb_loop_start_with("test loop", false, setup_ok, teardown, &c);
	g_assert_nonnull(l);
	g_assert_true(c.setup_on_thread);
	g_assert_false(sb_loop_is_current(l));
	sb_loop_stop(l);
	g_assert_true(c.teardown_on_thread);

	counts d = {0};
	g_assert_null(sb_loop_start_with("test loop", false, setup_fails, teardown, &d));
	g_assert_false(d.teardown_on_thread);
}

static gboolean slow_run(gpointer data)
{
	g_usleep(20000);
	return count_run(data);
}

static void test_stop_runs_queued(void)
{
	counts c = {0};
	sb_loop *l = sb_loop_start("test loop", false);
	for (int i = 0; i < 5; i++)
		g_assert_true(sb_loop_invoke(l, slow_run, &c, count_destroy));
	g_assert_true(sb_loop_invoke_full(l, G_PRIORITY_HIGH, count_run, &c, count_destroy));
	sb_loop_stop(l);
	g_assert_cmpint(c.ran, ==, 6);
	g_assert_cmpint(c.destroyed, ==, 6);
}

static void test_after_stop(void)
{
	counts c = {0};
	sb_loop *l = sb_loop_start("test loop", false);
	sb_loop *kept = sb_loop_ref(l);
	sb_loop_stop(l);
	g_assert_null(sb_loop_context(kept));
	g_assert_false(sb_loop_invoke(kept, count_run, &c, count_destroy));
	g_assert_null(sb_loop_timeout(kept, 1, count_run, &c, count_destroy));
	g_assert_false(sb_loop_invoke(NULL, count_run, &c, count_destroy));
	g_assert_cmpint(c.ran, ==, 0);
	g_assert_cmpint(c.destroyed, ==, 3);
	sb_loop_unref(kept);
}

static void test_timers(void)
{
	counts fired = {0}, pending = {0};
	sb_loop *l = sb_loop_start("test loop", true);
	g_assert_nonnull(sb_loop_timeout(l, 1, count_run, &fired, count_destroy));
	g_assert_nonnull(sb_loop_timeout(l, 60000, count_run, &pending, count_destroy));
	gint64 until = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
	while (!g_atomic_int_get(&fired.ran) && g_get_monotonic_time() < until)
		g_usleep(1000);
	sb_loop_stop(l);
	g_assert_cmpint(fired.ran, ==, 1);
	g_assert_cmpint(fired.destroyed, ==, 1);
	/* A timer still pending at the stop is destroyed, never run. */
	g_assert_cmpint(pending.ran, ==, 0);
	g_assert_cmpint(pending.destroyed, ==, 1);
}

static void test_state_path(void)
{
	g_setenv("SWITCHBOARD_STATE_DIR", "/tmp/sb-state", TRUE);
	char *p = sb_state_path("switchboard.db");
	g_assert_cmpstr(p, ==, "/tmp/sb-state/switchboard.db");
	g_free(p);
	g_unsetenv("SWITCHBOARD_STATE_DIR");
	p = sb_state_path("recordings");
	char *want = g_build_filename(g_get_user_state_dir(), "switchboard", "recordings", NULL);
	g_assert_cmpstr(p, ==, want);
	g_free(want);
	g_free(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/loop/hooks", test_hooks);
	g_test_add_func("/loop/stop-runs-queued", test_stop_runs_queued);
	g_test_add_func("/loop/after-stop", test_after_stop);
	g_test_add_func("/loop/timers", test_timers);
	g_test_add_func("/util/state-path", test_state_path);
	return g_test_run();
}
