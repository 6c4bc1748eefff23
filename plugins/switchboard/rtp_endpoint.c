#include "rtp_endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <debug.h>

#include "media/rtp.h"

typedef struct rtp_endpoint {
	int fd;
	uint64_t key;
	struct sockaddr_storage remote;
	socklen_t remote_len;
	uint16_t local_port;
	sb_participant *participant; /* weak: the participant owns us */
} rtp_endpoint;

static const sb_settings *settings;
static GMutex mutex;
static GHashTable *endpoints; /* key -> rtp_endpoint* (weak) */
static uint64_t next_key = 1;
static uint16_t next_port;
static int epoll_fd = -1, wake_fd = -1;
static GThread *io_thread;
static volatile gint running;
static sb_rtp_endpoint_stats stats;

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void handle_readable(uint64_t key)
{
	g_mutex_lock(&mutex);
	rtp_endpoint *ep = endpoints ? g_hash_table_lookup(endpoints, &key) : NULL;
	sb_participant *p = ep ? ep->participant : NULL;
	int fd = ep ? ep->fd : -1;
	struct sockaddr_storage expected;
	if (ep) {
		expected = ep->remote;
		sb_participant_ref(p);
	}
	g_mutex_unlock(&mutex);
	if (!p)
		return;
	uint8_t buf[2048];
	/* Bounded: one burst per wake-up keeps other sockets served. */
	for (int i = 0; i < 32; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		ssize_t len = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
		if (len < 0)
			break;
		if (!same_address(&from, &expected)) {
			__atomic_add_fetch(&stats.foreign_packets, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (sb_rtp_is_rtcp(buf, (size_t)len)) {
			__atomic_add_fetch(&stats.rtcp_packets, 1, __ATOMIC_RELAXED);
			continue;
		}
		sb_participant_incoming_rtp(p, buf, (size_t)len, -1);
	}
	sb_participant_unref(p);
}

static gpointer io_main(gpointer data)
{
	(void)data;
	struct epoll_event events[64];
	while (g_atomic_int_get(&running)) {
		int n = epoll_wait(epoll_fd, events, 64, 1000);
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == 0) {
				uint64_t v;
				ssize_t r = read(wake_fd, &v, sizeof(v));
				(void)r;
				continue;
			}
			handle_readable(events[i].data.u64);
		}
	}
	return NULL;
}

bool sb_rtp_endpoints_start(const sb_settings *s)
{
	settings = s;
	next_port = s->rtp_port_min;
	endpoints = g_hash_table_new(g_int64_hash, g_int64_equal);
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (epoll_fd < 0 || wake_fd < 0)
		return false;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
	g_atomic_int_set(&running, 1);
	io_thread = g_thread_new("sb rtp io", io_main, NULL);
	return io_thread != NULL;
}

void sb_rtp_endpoints_stop(void)
{
	if (!io_thread)
		return;
	g_atomic_int_set(&running, 0);
	uint64_t one = 1;
	ssize_t r = write(wake_fd, &one, sizeof(one));
	(void)r;
	g_thread_join(io_thread);
	io_thread = NULL;
	close(epoll_fd);
	close(wake_fd);
	epoll_fd = wake_fd = -1;
	g_mutex_lock(&mutex);
	g_hash_table_destroy(endpoints);
	endpoints = NULL;
	g_mutex_unlock(&mutex);
}

/* Binds a socket on the next free port of the range (wrapping once). */
static int bind_in_range(uint16_t *port_out)
{
	struct sockaddr_in local = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, settings->rtp_ip, &local.sin_addr) != 1)
		return -1;
	int span = settings->rtp_port_max - settings->rtp_port_min + 1;
	for (int tries = 0; tries < span; tries++) {
		g_mutex_lock(&mutex);
		uint16_t port = next_port;
		next_port = port >= settings->rtp_port_max ? settings->rtp_port_min : port + 1;
		g_mutex_unlock(&mutex);
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		local.sin_port = htons(port);
		if (bind(fd, (struct sockaddr *)&local, sizeof(local)) == 0) {
			*port_out = port;
			return fd;
		}
		close(fd);
	}
	return -1;
}

static void endpoint_send_rtp(sb_participant *p, const uint8_t *packet, size_t len)
{
	rtp_endpoint *ep = p->transport;
	/* Non-blocking: if the kernel buffer is full the frame is dropped, the
	 * mixer never waits. */
	ssize_t r = sendto(ep->fd, packet, len, MSG_DONTWAIT, (struct sockaddr *)&ep->remote,
	                   ep->remote_len);
	(void)r;
}

static void endpoint_removed(sb_participant *p)
{
	rtp_endpoint *ep = p->transport;
	g_mutex_lock(&mutex);
	if (endpoints)
		g_hash_table_remove(endpoints, &ep->key);
	g_mutex_unlock(&mutex);
	if (epoll_fd >= 0)
		epoll_ctl(epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
	g_atomic_int_set(&p->media_ready, 0);
}

static void endpoint_free(void *transport)
{
	rtp_endpoint *ep = transport;
	g_mutex_lock(&mutex);
	if (endpoints && g_hash_table_lookup(endpoints, &ep->key) == ep)
		g_hash_table_remove(endpoints, &ep->key);
	g_mutex_unlock(&mutex);
	if (ep->fd >= 0) {
		if (epoll_fd >= 0)
			epoll_ctl(epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
		close(ep->fd);
		__atomic_sub_fetch(&stats.open, 1, __ATOMIC_RELAXED);
	}
	g_free(ep);
}

static const sb_participant_ops rtp_ops = {
        .send_rtp = endpoint_send_rtp,
        .send_event = NULL,
        .removed = endpoint_removed,
        .free_transport = endpoint_free,
};

sb_participant *sb_rtp_endpoint_create(const sb_rtp_endpoint_params *params, sb_error *error)
{
	rtp_endpoint *ep = g_new0(rtp_endpoint, 1);
	ep->fd = -1;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ep->remote;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ep->remote;
	if (params->remote_port == 0) {
		*error = SB_ERROR_INVALID_ELEMENT;
		g_free(ep);
		return NULL;
	}
	if (inet_pton(AF_INET, params->remote_ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(params->remote_port);
		ep->remote_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, params->remote_ip, &v6->sin6_addr) == 1) {
		/* Our sockets are IPv4 (rtp_ip); refuse rather than never deliver. */
		*error = SB_ERROR_INVALID_ELEMENT;
		g_free(ep);
		return NULL;
	} else {
		*error = SB_ERROR_INVALID_ELEMENT;
		g_free(ep);
		return NULL;
	}
	ep->fd = bind_in_range(&ep->local_port);
	if (ep->fd < 0) {
		*error = SB_ERROR_LIMIT;
		g_free(ep);
		return NULL;
	}
	__atomic_add_fetch(&stats.open, 1, __ATOMIC_RELAXED);
	sb_participant_params pp = {
	        .kind = SB_KIND_RTP,
	        .display = params->display,
	        .codec = params->codec,
	        .payload_type = params->payload_type >= 0
	                                ? params->payload_type
	                                : sb_codec_default_payload_type(params->codec),
	        .audio_level_ext_id = params->audio_level_ext_id,
	        .sampling_rate = params->sampling_rate,
	        .jitter_min_frames = settings->jitter_min_frames,
	        .jitter_max_frames = settings->jitter_max_frames,
	        .encoder = {.bitrate = settings->opus_bitrate,
	                    .complexity = settings->opus_complexity,
	                    .fec = settings->opus_fec,
	                    .expected_loss_pct = settings->opus_fec ? 10 : 0},
	        .ops = &rtp_ops,
	        .transport = ep,
	};
	sb_participant *p = sb_participant_new(&pp);
	if (!p) {
		endpoint_free(ep);
		*error = SB_ERROR_UNKNOWN;
		return NULL;
	}
	ep->participant = p;
	g_mutex_lock(&mutex);
	ep->key = next_key++;
	g_hash_table_insert(endpoints, &ep->key, ep);
	g_mutex_unlock(&mutex);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ep->key};
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ep->fd, &ev);
	g_atomic_int_set(&p->media_ready, 1);
	return p;
}

void sb_rtp_endpoint_local(sb_participant *p, const char **ip, uint16_t *port)
{
	rtp_endpoint *ep = p->transport;
	*ip = settings->rtp_ip;
	*port = ep->local_port;
}

void sb_rtp_endpoints_get_stats(sb_rtp_endpoint_stats *out)
{
	out->open = __atomic_load_n(&stats.open, __ATOMIC_RELAXED);
	out->foreign_packets = __atomic_load_n(&stats.foreign_packets, __ATOMIC_RELAXED);
	out->rtcp_packets = __atomic_load_n(&stats.rtcp_packets, __ATOMIC_RELAXED);
}
