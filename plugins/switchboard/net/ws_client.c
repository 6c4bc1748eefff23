/* The WebSocket client thread (ws_client.h). */
#include "net/net.h"

static struct {
	GMutex lock;
	GCond cond;
	GThread *thread;
	GMainContext *ctx;
	GMainLoop *loop;
	SoupSession *session; /* WS thread only */
	GHashTable *held;     /* WS thread only: GObject* -> ref */
	bool ready;
	bool closed;
} w;

static void close_held(void)
{
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, w.held);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (SOUP_IS_WEBSOCKET_CONNECTION(key)) {
			SoupWebsocketConnection *c = key;
			if (soup_websocket_connection_get_state(c) == SOUP_WEBSOCKET_STATE_OPEN)
				soup_websocket_connection_close(c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
				                                "shutting down");
		} else if (G_IS_CANCELLABLE(key)) {
			g_cancellable_cancel(key);
		}
	}
}

static gpointer ws_thread(gpointer data)
{
	(void)data;
	g_main_context_push_thread_default(w.ctx);
	/* Room for 20+ concurrent calls' handshakes to one host. */
	w.session = soup_session_new_with_options("max-conns", 512, "max-conns-per-host", 256, NULL);
	w.held = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_object_unref, NULL);
	g_mutex_lock(&w.lock);
	w.ready = true;
	g_cond_broadcast(&w.cond);
	g_mutex_unlock(&w.lock);

	g_main_loop_run(w.loop);

	/* Close what is still open and give the peers a moment to answer. */
	close_held();
	gint64 deadline = g_get_monotonic_time() + 500 * 1000;
	while (g_hash_table_size(w.held) > 0 && g_get_monotonic_time() < deadline)
		if (!g_main_context_iteration(w.ctx, FALSE))
			g_usleep(5000);
	g_hash_table_destroy(w.held);
	w.held = NULL;
	g_object_unref(w.session);
	w.session = NULL;
	while (g_main_context_iteration(w.ctx, FALSE))
		;
	g_main_context_pop_thread_default(w.ctx);
	return NULL;
}

static bool start_locked(void)
{
	if (w.closed)
		return false;
	if (w.thread)
		return true;
	w.ctx = g_main_context_new();
	w.loop = g_main_loop_new(w.ctx, FALSE);
	w.ready = false;
	w.thread = g_thread_new("sb-ws", ws_thread, NULL);
	while (!w.ready)
		g_cond_wait(&w.cond, &w.lock);
	return true;
}

bool sb_ws_init(void)
{
	g_mutex_lock(&w.lock);
	w.closed = false;
	bool ok = start_locked();
	g_mutex_unlock(&w.lock);
	return ok;
}

bool sb_ws_run(GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	g_mutex_lock(&w.lock);
	if (!start_locked()) {
		g_mutex_unlock(&w.lock);
		if (destroy)
			destroy(data);
		return false;
	}
	GSource *src = g_idle_source_new();
	g_source_set_priority(src, G_PRIORITY_DEFAULT);
	g_source_set_callback(src, fn, data, destroy);
	g_source_attach(src, w.ctx);
	g_source_unref(src);
	g_mutex_unlock(&w.lock);
	return true;
}

GSource *sb_ws_timeout(guint ms, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	GSource *src = g_timeout_source_new(ms);
	g_source_set_callback(src, fn, data, destroy);
	g_source_attach(src, w.ctx);
	g_source_unref(src);
	return src;
}

SoupSession *sb_ws_session(void)
{
	return w.session;
}

bool sb_ws_on_thread(void)
{
	return w.thread && g_thread_self() == w.thread;
}

void sb_ws_hold(GObject *obj)
{
	if (w.held && !g_hash_table_contains(w.held, obj))
		g_hash_table_add(w.held, g_object_ref(obj));
}

void sb_ws_unhold(GObject *obj)
{
	if (w.held)
		g_hash_table_remove(w.held, obj);
}

static gboolean quit(gpointer data)
{
	(void)data;
	g_main_loop_quit(w.loop);
	return G_SOURCE_REMOVE;
}

void sb_ws_shutdown(void)
{
	g_mutex_lock(&w.lock);
	w.closed = true;
	GThread *t = w.thread;
	if (t) {
		GSource *src = g_idle_source_new();
		g_source_set_priority(src, G_PRIORITY_LOW);
		g_source_set_callback(src, quit, NULL, NULL);
		g_source_attach(src, w.ctx);
		g_source_unref(src);
	}
	g_mutex_unlock(&w.lock);
	if (!t)
		return;
	g_thread_join(t);
	g_mutex_lock(&w.lock);
	w.thread = NULL;
	GMainLoop *loop = w.loop;
	GMainContext *ctx = w.ctx;
	w.loop = NULL;
	w.ctx = NULL;
	g_mutex_unlock(&w.lock);
	/* Sources still attached are destroyed with the context. */
	g_main_loop_unref(loop);
	g_main_context_unref(ctx);
}
