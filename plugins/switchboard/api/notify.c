/* WS /ws/notifications: every event of the bus, as a JSON text frame, to
 * every client — on the HTTP thread, which owns the client list: the bus
 * listener only posts there, so publishers never wait on a slow socket.
 *
 * A client that stops reading must not make us hold every later event for
 * it: past a bound of bytes handed over without progress
 * (sb_ws_backpressure) it is closed (policy violation) and counted, and the
 * others go on. */
#include "api/api_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "api/api.h"

/* Bytes a client may be handed without reading before it is dropped, and
 * its socket's send buffer (small, so that a stall shows soon). */
#define NOTIFY_MAX_BACKLOG (1024 * 1024)
#define NOTIFY_SNDBUF (64 * 1024)

typedef struct client {
	SoupWebsocketConnection *conn; /* strong */
	sb_ws_backpressure pressure;
} client;

static GPtrArray *clients; /* client*, HTTP thread only */
static unsigned subscription;
static volatile gint client_count;
static guint64 dropped;

static void client_free(gpointer data)
{
	client *c = data;
	g_object_unref(c->conn);
	g_free(c);
}

static client *find_client(SoupWebsocketConnection *conn, guint *index)
{
	for (guint i = 0; clients && i < clients->len; i++) {
		client *c = g_ptr_array_index(clients, i);
		if (c->conn == conn) {
			if (index)
				*index = i;
			return c;
		}
	}
	return NULL;
}

static void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
	(void)data;
	guint i;
	if (find_client(conn, &i)) {
		g_ptr_array_remove_index(clients, i);
		g_atomic_int_add(&client_count, -1);
	}
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
	client *c = g_new0(client, 1);
	c->conn = g_object_ref(conn);
	sb_ws_backpressure_init(&c->pressure, conn, NOTIFY_SNDBUF);
	g_ptr_array_add(clients, c);
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
	size_t len = strlen(text);
	GPtrArray *slow = NULL;
	for (guint i = 0; clients && i < clients->len; i++) {
		client *c = g_ptr_array_index(clients, i);
		if (soup_websocket_connection_get_state(c->conn) != SOUP_WEBSOCKET_STATE_OPEN)
			continue;
		if (!sb_ws_backpressure_keeping_up(&c->pressure, len, NOTIFY_MAX_BACKLOG)) {
			if (!slow)
				slow = g_ptr_array_new();
			g_ptr_array_add(slow, c->conn);
			continue;
		}
		soup_websocket_connection_send_text(c->conn, text);
	}
	/* Closing emits "closed" (which edits the list) only once the close
	 * handshake ends; the list is not walked meanwhile. */
	for (guint i = 0; slow && i < slow->len; i++) {
		SoupWebsocketConnection *conn = g_ptr_array_index(slow, i);
		__atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
		JANUS_LOG(LOG_WARN, "[switchboard] notifications: a client fell %d KiB behind: closed\n",
		          NOTIFY_MAX_BACKLOG / 1024);
		soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
		                                "too far behind");
		/* Whatever it still had queued is not ours to wait for. */
		guint index;
		if (find_client(conn, &index) &&
		    soup_websocket_connection_get_state(conn) != SOUP_WEBSOCKET_STATE_CLOSED) {
			g_signal_handlers_disconnect_by_data(conn, NULL);
			g_ptr_array_remove_index(clients, index);
			g_atomic_int_add(&client_count, -1);
		}
	}
	if (slow)
		g_ptr_array_unref(slow);
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
	clients = g_ptr_array_new_with_free_func(client_free);
	soup_server_add_websocket_handler(server, SB_NOTIFY_PATH, NULL, NULL, on_connect, NULL, NULL);
	/* Cluster-wide: a client on any node hears every node's events. */
	subscription = sb_events_subscribe_cluster(on_event, NULL);
}

void sb_notify_detach(void)
{
	sb_events_unsubscribe(subscription);
	subscription = 0;
	GPtrArray *all = clients;
	clients = NULL;
	for (guint i = 0; all && i < all->len; i++) {
		SoupWebsocketConnection *c = ((client *)g_ptr_array_index(all, i))->conn;
		g_signal_handlers_disconnect_by_data(c, NULL);
		if (soup_websocket_connection_get_state(c) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "shutting down");
	}
	if (all)
		g_ptr_array_unref(all);
	g_atomic_int_set(&client_count, 0);
}

unsigned sb_notify_clients(void) { return (unsigned)g_atomic_int_get(&client_count); }

guint64 sb_notify_dropped(void) { return __atomic_load_n(&dropped, __ATOMIC_RELAXED); }
