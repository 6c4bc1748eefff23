/* WS /ws/notifications: every event of the bus, to every client, as a JSON
 * text frame.  The bus listener only posts to the HTTP thread, which owns
 * the client list: publishers never wait on a slow socket. */
#include "api/api_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "api/api.h"

static GPtrArray *clients; /* SoupWebsocketConnection*, HTTP thread only */
static unsigned subscription;
static volatile gint client_count;

static void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
	(void)data;
	if (clients && g_ptr_array_remove(clients, conn))
		g_atomic_int_add(&client_count, -1);
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
	(void)data;
	(void)message;
	/* The socket is one-way; a ping-like text gets a pong so clients can
	 * check liveness, anything else is ignored. */
	if (type == SOUP_WEBSOCKET_DATA_TEXT)
		soup_websocket_connection_send_text(conn, "{\"type\":\"pong\"}");
}

static void on_connect(SoupServer *server, SoupServerMessage *msg, const char *path,
                       SoupWebsocketConnection *conn, gpointer data)
{
	(void)server;
	(void)msg;
	(void)path;
	(void)data;
	g_ptr_array_add(clients, g_object_ref(conn));
	g_atomic_int_add(&client_count, 1);
	g_signal_connect(conn, "closed", G_CALLBACK(on_closed), NULL);
	g_signal_connect(conn, "message", G_CALLBACK(on_message), NULL);
	/* Tells the client it is in, and the time base of events. */
	char hello[96];
	g_snprintf(hello, sizeof(hello), "{\"type\":\"connected\",\"timestamp\":%" G_GINT64_FORMAT "}",
	           g_get_real_time() / 1000);
	soup_websocket_connection_send_text(conn, hello);
}

static gboolean broadcast(gpointer data)
{
	const char *text = data;
	for (guint i = 0; clients && i < clients->len; i++) {
		SoupWebsocketConnection *c = g_ptr_array_index(clients, i);
		if (soup_websocket_connection_get_state(c) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_send_text(c, text);
	}
	return G_SOURCE_REMOVE;
}

/* Any thread: hands the text to the HTTP thread. */
static void on_event(json_t *notification, void *user)
{
	(void)user;
	if (g_atomic_int_get(&client_count) == 0)
		return;
	sb_http_invoke(G_PRIORITY_DEFAULT, broadcast, json_dumps(notification, JSON_COMPACT),
	               g_free);
}

void sb_notify_attach(SoupServer *server)
{
	clients = g_ptr_array_new_with_free_func(g_object_unref);
	soup_server_add_websocket_handler(server, SB_NOTIFY_PATH, NULL, NULL, on_connect, NULL, NULL);
	subscription = sb_events_subscribe(on_event, NULL);
}

void sb_notify_detach(void)
{
	sb_events_unsubscribe(subscription);
	subscription = 0;
	GPtrArray *all = clients;
	clients = NULL;
	for (guint i = 0; all && i < all->len; i++) {
		SoupWebsocketConnection *c = g_ptr_array_index(all, i);
		g_signal_handlers_disconnect_by_data(c, NULL);
		if (soup_websocket_connection_get_state(c) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "shutting down");
	}
	if (all)
		g_ptr_array_unref(all);
	g_atomic_int_set(&client_count, 0);
}

unsigned sb_notify_clients(void) { return (unsigned)g_atomic_int_get(&client_count); }
