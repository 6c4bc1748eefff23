/* Slow WebSocket readers.  libsoup queues whatever the socket does not take,
 * without a bound, so a client that stops reading would make us hold every
 * later frame for it.  We count what we hand a client while its TCP
 * connection makes no progress (bytes unsent, none acknowledged since the
 * last frame); past the caller's bound the client is not keeping up.  A
 * client that reads, however slowly, keeps acknowledging and is never cut. */
#include "api/api.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

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
	return ioctl(fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

/* Bytes the peer has acknowledged so far (Linux TCP_INFO), or 0. */
static guint64 acknowledged(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
		return 0;
	return info.tcpi_bytes_acked;
}

void sb_ws_backpressure_init(sb_ws_backpressure *bp, SoupWebsocketConnection *conn, int send_buffer)
{
	memset(bp, 0, sizeof(*bp));
	bp->fd = socket_fd(conn);
	if (bp->fd >= 0 && send_buffer > 0)
		(void)setsockopt(bp->fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof(send_buffer));
}

bool sb_ws_backpressure_keeping_up(sb_ws_backpressure *bp, size_t len, size_t max_backlog)
{
	if (bp->fd < 0)
		return true;
	guint64 acked = acknowledged(bp->fd);
	if (unsent(bp->fd) == 0 || acked != bp->acked) {
		bp->acked = acked;
		bp->backlog = 0;
	}
	bp->backlog += len;
	return bp->backlog <= max_backlog;
}
