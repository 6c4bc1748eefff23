/* A thread with a GLib main loop of its own: the way a module gets work off
 * threads that must not wait (the mixer, the ICE loop, bus publishers) and
 * runs its timers.  One implementation, so that every such thread starts,
 * takes work and stops the same way. */
#include "core/core.h"

struct sb_loop {
	GMainContext *context;
	GMainLoop *loop;
	GThread *thread;
	GMutex lock; /* guards stopping against invoke */
	bool stopping;
	bool background;
};

static gpointer loop_main(gpointer data)
{
	sb_loop *l = data;
	if (l->background)
		sb_thread_background();
	g_main_context_push_thread_default(l->context);
	g_main_loop_run(l->loop);
	g_main_context_pop_thread_default(l->context);
	return NULL;
}

sb_loop *sb_loop_start(const char *name, bool background)
{
	sb_loop *l = g_new0(sb_loop, 1);
	g_mutex_init(&l->lock);
	l->background = background;
	l->context = g_main_context_new();
	l->loop = g_main_loop_new(l->context, FALSE);
	l->thread = g_thread_new(name, loop_main, l);
	return l;
}

GMainContext *sb_loop_context(sb_loop *l)
{
	return l->context;
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

bool sb_loop_invoke(sb_loop *l, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	if (!l) {
		if (destroy)
			destroy(data);
		return false;
	}
	GSource *idle = g_idle_source_new();
	g_source_set_callback(idle, fn, data, destroy);
	/* A source that is never attached is destroyed by its last unref,
	 * which runs destroy: the caller's data is freed either way. */
	return attach(l, idle);
}

GSource *sb_loop_timeout(sb_loop *l, guint ms, GSourceFunc fn, gpointer data,
                         GDestroyNotify destroy)
{
	GSource *timer = g_timeout_source_new(ms);
	g_source_set_callback(timer, fn, data, destroy);
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
	/* Sources still attached (timers) are destroyed with the context,
	 * running their destroy notifies. */
	g_main_loop_unref(l->loop);
	g_main_context_unref(l->context);
	g_mutex_clear(&l->lock);
	g_free(l);
}
