/* A thread with a GLib main loop of its own: the way a module gets work off
 * threads that must not wait (the mixer, the ICE loop, bus publishers) and
 * runs its timers.  One implementation, so that every such thread starts,
 * takes work and stops the same way.
 *
 * The loop is referenced: whoever started it stops it once, and a thread
 * that may still post to it after that (a module whose work arrives from
 * curl or provider threads) keeps a reference, so that a post racing with
 * the stop finds a stopped loop — and has its data destroyed — rather than
 * freed memory. */
#include "core/core.h"

struct sb_loop {
	gint ref;
	GMainContext *context; /* NULL once stopped */
	GMainLoop *loop;
	GThread *thread;
	GMutex lock; /* guards stopping and context against invoke; the start */
	GCond started;
	int state; /* 0 starting, 1 running, -1 setup failed */
	bool stopping;
	bool background;
	bool (*setup)(sb_loop *l, void *user);
	void (*teardown)(sb_loop *l, void *user);
	void *user;
};

static void loop_free(sb_loop *l)
{
	g_mutex_clear(&l->lock);
	g_cond_clear(&l->started);
	g_free(l);
}

sb_loop *sb_loop_ref(sb_loop *l)
{
	if (l)
		g_atomic_int_inc(&l->ref);
	return l;
}

void sb_loop_unref(sb_loop *l)
{
	if (l && g_atomic_int_dec_and_test(&l->ref))
		loop_free(l);
}

static void set_state(sb_loop *l, int state)
{
	g_mutex_lock(&l->lock);
	l->state = state;
	g_cond_signal(&l->started);
	g_mutex_unlock(&l->lock);
}

static gpointer loop_main(gpointer data)
{
	sb_loop *l = data;
	if (l->background)
		sb_thread_background();
	l->thread = g_thread_self(); /* before setup, which may ask */
	g_main_context_push_thread_default(l->context);
	bool ok = !l->setup || l->setup(l, l->user);
	set_state(l, ok ? 1 : -1);
	if (ok) {
		g_main_loop_run(l->loop);
		if (l->teardown)
			l->teardown(l, l->user);
	}
	g_main_context_pop_thread_default(l->context);
	return NULL;
}

static void release(sb_loop *l)
{
	g_main_loop_unref(l->loop);
	/* Sources still attached (timers) are destroyed with the context,
	 * running their destroy notifies. */
	g_mutex_lock(&l->lock);
	GMainContext *context = l->context;
	l->context = NULL;
	g_mutex_unlock(&l->lock);
	g_main_context_unref(context);
	sb_loop_unref(l);
}

sb_loop *sb_loop_start_with(const char *name, bool background,
                            bool (*setup)(sb_loop *l, void *user),
                            void (*teardown)(sb_loop *l, void *user), void *user)
{
	sb_loop *l = g_new0(sb_loop, 1);
	l->ref = 1;
	g_mutex_init(&l->lock);
	g_cond_init(&l->started);
	l->background = background;
	l->setup = setup;
	l->teardown = teardown;
	l->user = user;
	l->context = g_main_context_new();
	l->loop = g_main_loop_new(l->context, FALSE);
	GThread *thread = g_thread_new(name, loop_main, l);
	g_mutex_lock(&l->lock);
	while (l->state == 0)
		g_cond_wait(&l->started, &l->lock);
	bool ok = l->state > 0;
	g_mutex_unlock(&l->lock);
	if (!ok) {
		g_thread_join(thread);
		l->stopping = true;
		release(l);
		return NULL;
	}
	return l;
}

sb_loop *sb_loop_start(const char *name, bool background)
{
	return sb_loop_start_with(name, background, NULL, NULL, NULL);
}

GMainContext *sb_loop_context(sb_loop *l)
{
	g_mutex_lock(&l->lock);
	GMainContext *context = l->context;
	g_mutex_unlock(&l->lock);
	return context;
}

bool sb_loop_is_current(sb_loop *l)
{
	return l && g_thread_self() == l->thread;
}

static bool attach(sb_loop *l, GSource *source)
{
	g_mutex_lock(&l->lock);
	bool ok = !l->stopping;
	if (ok)
		g_source_attach(source, l->context);
	g_mutex_unlock(&l->lock);
	g_source_unref(source);
	return ok;
}

bool sb_loop_invoke_full(sb_loop *l, gint priority, GSourceFunc fn, gpointer data,
                         GDestroyNotify destroy)
{
	if (!l) {
		if (destroy)
			destroy(data);
		return false;
	}
	GSource *idle = g_idle_source_new();
	g_source_set_priority(idle, priority);
	g_source_set_callback(idle, fn, data, destroy);
	/* A source that is never attached is destroyed by its last unref,
	 * which runs destroy: the caller's data is freed either way. */
	return attach(l, idle);
}

bool sb_loop_invoke(sb_loop *l, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	return sb_loop_invoke_full(l, G_PRIORITY_DEFAULT_IDLE, fn, data, destroy);
}

GSource *sb_loop_timeout(sb_loop *l, guint ms, GSourceFunc fn, gpointer data,
                         GDestroyNotify destroy)
{
	GSource *timer = g_timeout_source_new(ms);
	g_source_set_callback(timer, fn, data, destroy);
	if (!l) {
		g_source_unref(timer); /* runs destroy */
		return NULL;
	}
	g_source_ref(timer);
	if (!attach(l, timer)) {
		g_source_unref(timer);
		return NULL;
	}
	/* The context keeps it alive; the caller's pointer is for
	 * g_source_destroy only while the timer has not fired. */
	g_source_unref(timer);
	return timer;
}

static gboolean quit(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

void sb_loop_stop(sb_loop *l)
{
	if (!l)
		return;
	g_mutex_lock(&l->lock);
	l->stopping = true;
	/* Low priority: work queued before the stop runs first. */
	GSource *src = g_idle_source_new();
	g_source_set_priority(src, G_PRIORITY_LOW);
	g_source_set_callback(src, quit, l->loop, NULL);
	g_source_attach(src, l->context);
	g_source_unref(src);
	g_mutex_unlock(&l->lock);
	g_thread_join(l->thread);
	release(l);
}
