/* The WebSocket client thread (net.h): one core loop thread (sb_loop) that
 * owns a libsoup SoupSession.  libsoup objects belong to the thread whose
 * context was the default when they were made, so the session is made by
 * the loop's set-up hook on that thread, and every use of it is work handed
 * over with sb_ws_run().  Connections still open at shutdown are closed by
 * the tear-down hook, which gives the peers half a second to answer the
 * close frames before the session goes. */
#include "net/net.h"

#include "core/core.h"

static struct {
	GMutex lock;   /* loop and closed */
	sb_loop *loop; /* NULL before the start and from the shutdown on */
	bool closed;
	SoupSession *session; /* WS thread only */
	GHashTable *held;     /* WS thread only: GObject* -> ref */
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

static bool ws_setup(sb_loop *loop, void *user)
{
	(void)loop;
	(void)user;
	/* Room for 20+ concurrent calls' handshakes to one host. */
	w.session =
	        soup_session_new_with_options("max-conns", 512, "max-conns-per-host", 256, NULL);
	w.held = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_object_unref, NULL);
	return true;
}

static void ws_teardown(sb_loop *loop, void *user)
{
	(void)user;
	GMainContext *ctx = sb_loop_context(loop);
	/* Close what is still open and give the peers a moment to answer. */
	close_held();
	gint64 deadline = g_get_monotonic_time() + 500 * 1000;
	while (g_hash_table_size(w.held) > 0 && g_get_monotonic_time() < deadline)
		if (!g_main_context_iteration(ctx, FALSE))
			g_usleep(5000);
	g_hash_table_destroy(w.held);
	w.held = NULL;
	g_object_unref(w.session);
	w.session = NULL;
	while (g_main_context_iteration(ctx, FALSE))
		;
}

/* A reference to the loop, started on first use; NULL once shut down. */
static sb_loop *loop_get(void)
{
	g_mutex_lock(&w.lock);
	if (!w.closed && !w.loop)
		w.loop = sb_loop_start_with("sb-ws", false, ws_setup, ws_teardown, NULL);
	sb_loop *loop = sb_loop_ref(w.loop);
	g_mutex_unlock(&w.lock);
	return loop;
}

bool sb_ws_init(void)
{
	g_mutex_lock(&w.lock);
	w.closed = false;
	g_mutex_unlock(&w.lock);
	sb_loop *loop = loop_get();
	sb_loop_unref(loop);
	return loop != NULL;
}

/* The reference keeps a loop being shut down meanwhile valid: the work
 * is then refused (destroyed) like work after the shutdown. */
bool sb_ws_run(GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	sb_loop *loop = loop_get();
	bool ok = sb_loop_invoke_full(loop, G_PRIORITY_DEFAULT, fn, data, destroy);
	sb_loop_unref(loop);
	return ok;
}

GSource *sb_ws_timeout(guint ms, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	sb_loop *loop = loop_get();
	GSource *src = sb_loop_timeout(loop, ms, fn, data, destroy);
	sb_loop_unref(loop);
	return src;
}

SoupSession *sb_ws_session(void)
{
	return w.session;
}

bool sb_ws_on_thread(void)
{
	g_mutex_lock(&w.lock);
	bool on = sb_loop_is_current(w.loop);
	g_mutex_unlock(&w.lock);
	return on;
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

void sb_ws_shutdown(void)
{
	g_mutex_lock(&w.lock);
	w.closed = true;
	sb_loop *loop = w.loop;
	w.loop = NULL;
	g_mutex_unlock(&w.lock);
	/* Not under the lock: work on the WS thread may still call sb_ws_run
	 * (it is refused) while the loop drains. */
	sb_loop_stop(loop);
}
