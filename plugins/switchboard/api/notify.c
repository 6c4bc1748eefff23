/* WS /ws/notifications: every event of the bus, as a JSON text frame, to
 * every client — on the HTTP thread, which owns the client list: the bus
 * listener only posts there, so publishers never wait on a slow socket.
 *
 * A client that stops reading must not make us hold every later event for
 * it: libsoup queues what the socket does not take, without a bound.  We
 * count what we hand a client while its TCP connection makes no progress
 * (bytes unsent, none acknowledged since the last event); beyond a bound
 * the client is closed (policy violation) and counted, and the others go
 * on.  A client that reads, however slowly, keeps acknowledging. */
#include "api/api_private.h"

#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include <debug.h>

#include "core/core.h"
#include "api/api.h"

/* Bytes a client may be handed without reading before it is dropped, and
 * its socket's send buffer (small, so that a stall shows soon). */
#define NOTIFY_MAX_BACKLOG (1024 * 1024)
#define NOTIFY_SNDBUF (64 * 1024)

typedef struct client {
	SoupWebsocketConnection *conn; /* strong */
	int fd;                        /* the TCP socket under it; -1: unknown */
	size_t backlog;                /* bytes handed over with no progress */
	guint64 acked;                 /* what the peer had acknowledged then */
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

/* The socket under a WebSocket, or -1: libsoup hands us its own stream
 * (SoupIOStream, "base-iostream") over a TLS connection ("base-io-stream")
 * or over the socket connection itself. */
static int socket_fd(SoupWebsocketConnection *conn)
{
	static const char *const wrappers[] = {"base-iostream", "base-io-stream"};
	GIOStream *io = soup_websocket_connection_get_io_stream(conn);
	for (int depth = 0; io && !G_IS_SOCKET_CONNECTION(io) && depth < 4; depth++) {
		GIOStream *base = NULL;
		for (size_t i = 0; !base && i < G_N_ELEMENTS(wrappers); i++)
			if (g_object_class_find_property(G_OBJECT_GET_CLASS(io), wrappers[i]))
				g_object_get(io, wrappers[i], &base, NULL);
		if (base)
			g_object_unref(base); /* still owned by the stream over it */
		io = base;
	}
	if (!io || !G_IS_SOCKET_CONNECTION(io))
		return -1;
	GSocket *sock = g_socket_connection_get_socket(G_SOCKET_CONNECTION(io));
	return sock ? g_socket_get_fd(sock) : -1;
}

/* Unsent (or unacknowledged) bytes in the kernel's queue of fd, or -1. */
static int unsent(int fd)
{
	int n = 0;
	return fd >= 0 && ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

/* Bytes the peer has acknowledged so far (Linux TCP_INFO), or 0. */
static guint64 acknowledged(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
		return 0;
	return info.tcpi_bytes_acked;
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
	c->fd = socket_fd(conn);
	if (c->fd >= 0) {
		int size = NOTIFY_SNDBUF;
		(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
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

/* A client is keeping up while nothing waits for it, or while its peer
 * acknowledged something since the last event; else what we hand it piles
 * up in libsoup's queue, and past the bound the client goes.  Without a
 * socket to look at (-1), nobody is dropped. */
static bool keeping_up(client *c, size_t len)
{
	if (c->fd < 0)
		return true;
	guint64 acked = acknowledged(c->fd);
	if (unsent(c->fd) == 0 || acked != c->acked) {
		c->acked = acked;
		c->backlog = 0;
	}
	c->backlog += len;
	return c->backlog <= NOTIFY_MAX_BACKLOG;
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
		if (!keeping_up(c, len)) {
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
	subscription = sb_events_subscribe(on_event, NULL);
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
