/* The WebSocket client thread shared by every streaming provider
 * (Deepgram today): one thread running its own GMainContext with one
 * libsoup-3.0 SoupSession.  All libsoup objects are used on that thread
 * only; other threads hand work over with sb_ws_run().
 *
 * The thread starts on first use; sb_ws_shutdown() closes the
 * connections still open (up to half a second for their close frames),
 * stops and joins it. */
#ifndef SB_WS_CLIENT_H
#define SB_WS_CLIENT_H

#include <stdbool.h>

#include <glib-object.h>
#include <libsoup/soup.h>

/* Runs fn(data) later on the WS thread (never inline, even when called
 * from it), then destroy(data).  When the thread is shut down, destroy
 * runs at once and false is returned. */
bool sb_ws_run(GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* A source on the WS thread's context: sb_ws_timeout(ms, fn, data,
 * destroy) — WS thread only; returns the source (unref'd already, use
 * g_source_destroy to stop it). */
GSource *sb_ws_timeout(guint ms, GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* WS thread only. */
SoupSession *sb_ws_session(void);
bool sb_ws_on_thread(void);
/* Objects to close at shutdown: a SoupWebsocketConnection is closed, a
 * GCancellable cancelled.  The set holds a reference until unhold. */
void sb_ws_hold(GObject *obj);
void sb_ws_unhold(GObject *obj);

bool sb_ws_init(void);
void sb_ws_shutdown(void);

#endif
