/* Plain RTP participants: a UDP socket each (and an RTCP one when asked),
 * all read by one I/O thread through epoll, so a thousand legs cost one
 * thread, not a thousand; the mixer writes with non-blocking sendto and
 * drops a frame rather than wait.  The module's one mutex guards the
 * endpoint table and the remote addresses (latching moves them), held for
 * a copy and never across I/O. */
#include "endpoints/endpoints.h"

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

#include "media/media.h"

/* epoll keys: endpoint key << 1, low bit set for the RTCP socket. */
#define RTCP_KEY_BIT 1u

typedef struct rtp_endpoint {
	int fd, rtcp_fd;
	uint64_t key;
	struct sockaddr_storage remote; /* guarded by the module mutex */
	socklen_t remote_len;
	uint16_t local_port;
	bool symmetric;
	bool latched;
	int dtmf_pt;
	sb_rtp_dtmf_handler on_dtmf;
	void (*on_removed)(void *user, sb_participant *p);
	void *user;
	sb_dtmf_detector detector; /* I/O thread only */
	GMutex dtmf_mutex;
	sb_dtmf_sender sender;     /* pushed by anyone, played by the mixer */
	volatile gint64 last_rx_us;
	sb_srtp *srtp; /* SDES-SRTP, or NULL for plain RTP */
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

/* Symmetric RTP (NAT): the first RTP packets from an address other than
 * the signalled one, before any came from the signalled one, move the
 * remote there — once per endpoint. */
static bool latch_source(rtp_endpoint *ep, const struct sockaddr_storage *from,
                         socklen_t from_len, struct sockaddr_storage *expected)
{
	bool moved = false;
	g_mutex_lock(&mutex);
	if (ep->symmetric && !ep->latched && from->ss_family == AF_INET) {
		ep->remote = *from;
		ep->remote_len = from_len;
		ep->latched = true;
		*expected = *from;
		moved = true;
	}
	g_mutex_unlock(&mutex);
	if (moved)
		__atomic_add_fetch(&stats.latched, 1, __ATOMIC_RELAXED);
	return moved;
}

static void handle_dtmf(rtp_endpoint *ep, sb_participant *p, const uint8_t *buf, size_t len)
{
	sb_rtp_packet pkt;
	if (!sb_rtp_parse(buf, len, 0, &pkt)) {
		sb_participant_count_invalid(p);
		return;
	}
	char digit = sb_dtmf_detect(&ep->detector, pkt.timestamp, pkt.payload, pkt.payload_len);
	if (digit) {
		__atomic_add_fetch(&stats.dtmf_in, 1, __ATOMIC_RELAXED);
		if (ep->on_dtmf)
			ep->on_dtmf(ep->user, p, digit);
	}
}

static void handle_readable(uint64_t epoll_key)
{
	uint64_t key = epoll_key >> 1;
	bool rtcp = (epoll_key & RTCP_KEY_BIT) != 0;
	g_mutex_lock(&mutex);
	rtp_endpoint *ep = endpoints ? g_hash_table_lookup(endpoints, &key) : NULL;
	sb_participant *p = ep ? ep->participant : NULL;
	int fd = ep ? (rtcp ? ep->rtcp_fd : ep->fd) : -1;
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
		if (rtcp) {
			/* Reports only feed counters: the jitter buffer adapts on
			 * its own and we never retransmit. */
			__atomic_add_fetch(&stats.rtcp_packets, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (sb_rtp_is_rtcp(buf, (size_t)len)) {
			__atomic_add_fetch(&stats.rtcp_packets, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (!same_address(&from, &expected) &&
		    (__atomic_load_n(&ep->last_rx_us, __ATOMIC_RELAXED) != 0 || len < SB_RTP_HEADER_SIZE ||
		     (buf[0] >> 6) != 2 || !latch_source(ep, &from, from_len, &expected))) {
			__atomic_add_fetch(&stats.foreign_packets, 1, __ATOMIC_RELAXED);
			continue;
		}
		size_t n = (size_t)len;
		if (ep->srtp && !sb_srtp_unprotect(ep->srtp, buf, &n)) {
			__atomic_add_fetch(&stats.srtp_failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		len = (ssize_t)n;
		__atomic_store_n(&ep->last_rx_us, g_get_monotonic_time(), __ATOMIC_RELAXED);
		if (ep->dtmf_pt > 0 && len >= 2 && (buf[1] & 0x7f) == ep->dtmf_pt) {
			handle_dtmf(ep, p, buf, (size_t)len);
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

static int bind_port(const struct sockaddr_in *base, uint16_t port)
{
	struct sockaddr_in local = *base;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	local.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) == 0)
		return fd;
	close(fd);
	return -1;
}

/* Binds a socket on the next free port of the range (wrapping once); with
 * rtcp_fd, an even port for RTP and the odd one above it for RTCP. */
static int bind_in_range(uint16_t *port_out, int *rtcp_fd)
{
	struct sockaddr_in local = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, settings->rtp_ip, &local.sin_addr) != 1)
		return -1;
	int span = settings->rtp_port_max - settings->rtp_port_min + 1;
	for (int tries = 0; tries < span; tries++) {
		g_mutex_lock(&mutex);
		uint16_t port = next_port;
		if (rtcp_fd && (port & 1))
			port = port >= settings->rtp_port_max ? settings->rtp_port_min : port + 1;
		next_port = port >= settings->rtp_port_max ? settings->rtp_port_min : port + 1;
		if (rtcp_fd)
			next_port = port + 1 >= settings->rtp_port_max ? settings->rtp_port_min : port + 2;
		g_mutex_unlock(&mutex);
		if (rtcp_fd && ((port & 1) || port + 1 > settings->rtp_port_max))
			continue;
		int fd = bind_port(&local, port);
		if (fd < 0)
			continue;
		if (rtcp_fd) {
			*rtcp_fd = bind_port(&local, (uint16_t)(port + 1));
			if (*rtcp_fd < 0) {
				close(fd);
				continue;
			}
		}
		*port_out = port;
		return fd;
	}
	return -1;
}

/* Mixer thread: a queued DTMF digit replaces this audio frame with a
 * telephone-event packet in the same sequence.  A busy lock just means the
 * digit goes out one frame later. */
static bool dtmf_instead(rtp_endpoint *ep, sb_participant *p, const uint8_t *audio,
                         uint8_t *event_packet)
{
	if (ep->dtmf_pt <= 0 || !g_mutex_trylock(&ep->dtmf_mutex))
		return false;
	uint8_t payload[4];
	uint32_t ts = 0;
	bool marker = false;
	uint32_t frame_ts = (uint32_t)audio[4] << 24 | (uint32_t)audio[5] << 16 |
	                    (uint32_t)audio[6] << 8 | audio[7];
	bool send = sb_dtmf_sender_next(&ep->sender, frame_ts, sb_codec_rtp_ts_step(p->codec),
	                                 payload, &ts, &marker);
	g_mutex_unlock(&ep->dtmf_mutex);
	if (!send)
		return false;
	uint16_t seq = (uint16_t)(audio[2] << 8 | audio[3]);
	uint32_t ssrc = (uint32_t)audio[8] << 24 | (uint32_t)audio[9] << 16 |
	                (uint32_t)audio[10] << 8 | audio[11];
	sb_rtp_write_header(event_packet, (uint8_t)ep->dtmf_pt, marker, seq, ts, ssrc);
	memcpy(event_packet + SB_RTP_HEADER_SIZE, payload, 4);
	return true;
}

static void endpoint_send_rtp(sb_participant *p, const uint8_t *packet, size_t len)
{
	rtp_endpoint *ep = p->transport;
	uint8_t event[SB_RTP_HEADER_SIZE + 4];
	if (len >= SB_RTP_HEADER_SIZE && dtmf_instead(ep, p, packet, event)) {
		packet = event;
		len = sizeof(event);
		__atomic_add_fetch(&stats.dtmf_out_packets, 1, __ATOMIC_RELAXED);
	}
	uint8_t secured[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD + SB_SRTP_TAG_LEN];
	if (ep->srtp) {
		size_t n = len;
		if (len > SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD)
			return;
		memcpy(secured, packet, len);
		if (!sb_srtp_protect(ep->srtp, secured, &n))
			return;
		packet = secured;
		len = n;
	}
	g_mutex_lock(&mutex);
	struct sockaddr_storage remote = ep->remote;
	socklen_t remote_len = ep->remote_len;
	g_mutex_unlock(&mutex);
	/* Non-blocking: if the kernel buffer is full the frame is dropped, the
	 * mixer never waits. */
	ssize_t r = sendto(ep->fd, packet, len, MSG_DONTWAIT, (struct sockaddr *)&remote, remote_len);
	(void)r;
}

static void endpoint_removed(sb_participant *p)
{
	rtp_endpoint *ep = p->transport;
	g_mutex_lock(&mutex);
	if (endpoints)
		g_hash_table_remove(endpoints, &ep->key);
	g_mutex_unlock(&mutex);
	if (epoll_fd >= 0) {
		epoll_ctl(epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
		if (ep->rtcp_fd >= 0)
			epoll_ctl(epoll_fd, EPOLL_CTL_DEL, ep->rtcp_fd, NULL);
	}
	sb_participant_set_media_ready(p, false);
	if (ep->on_removed)
		ep->on_removed(ep->user, p);
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
	if (ep->rtcp_fd >= 0) {
		if (epoll_fd >= 0)
			epoll_ctl(epoll_fd, EPOLL_CTL_DEL, ep->rtcp_fd, NULL);
		close(ep->rtcp_fd);
	}
	g_mutex_clear(&ep->dtmf_mutex);
	sb_srtp_free(ep->srtp);
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
	ep->fd = ep->rtcp_fd = -1;
	if (params->reserved_fd > 0) {
		/* Ours from now on, closed by endpoint_free even on failure. */
		ep->fd = params->reserved_fd;
		ep->rtcp_fd = params->reserved_rtcp_fd;
		ep->local_port = params->reserved_port;
	}
	g_mutex_init(&ep->dtmf_mutex);
	sb_dtmf_sender_init(&ep->sender);
	ep->symmetric = params->symmetric;
	ep->dtmf_pt = params->dtmf_payload_type;
	ep->on_dtmf = params->on_dtmf;
	ep->on_removed = params->on_removed;
	if (params->srtp_our_key || params->srtp_their_key) {
		ep->srtp = sb_srtp_new(params->srtp_our_key, params->srtp_their_key);
		if (!ep->srtp) {
			*error = SB_ERROR_INVALID_ELEMENT;
			endpoint_free(ep);
			return NULL;
		}
	}
	ep->user = params->user;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ep->remote;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ep->remote;
	if (params->remote_port == 0) {
		*error = SB_ERROR_INVALID_ELEMENT;
		endpoint_free(ep);
		return NULL;
	}
	if (inet_pton(AF_INET, params->remote_ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(params->remote_port);
		ep->remote_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, params->remote_ip, &v6->sin6_addr) == 1) {
		/* Our sockets are IPv4 (rtp_ip); refuse rather than never deliver. */
		*error = SB_ERROR_INVALID_ELEMENT;
		endpoint_free(ep);
		return NULL;
	} else {
		*error = SB_ERROR_INVALID_ELEMENT;
		endpoint_free(ep);
		return NULL;
	}
	if (params->reserved_fd <= 0)
		ep->fd = bind_in_range(&ep->local_port, params->rtcp ? &ep->rtcp_fd : NULL);
	if (ep->fd < 0) {
		*error = SB_ERROR_LIMIT;
		endpoint_free(ep);
		return NULL;
	}
	if (params->reserved_fd <= 0)
		__atomic_add_fetch(&stats.open, 1, __ATOMIC_RELAXED);
	sb_participant_params pp = {
	        .kind = params->kind == SB_KIND_WEB ? SB_KIND_RTP : params->kind,
	        .display = params->display,
	        .interface = params->interface,
	        .info = params->info,
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
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ep->key << 1};
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ep->fd, &ev);
	if (ep->rtcp_fd >= 0) {
		struct epoll_event rev = {.events = EPOLLIN, .data.u64 = ep->key << 1 | RTCP_KEY_BIT};
		epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ep->rtcp_fd, &rev);
	}
	sb_participant_set_media_ready(p, true);
	return p;
}

void sb_rtp_endpoint_local(sb_participant *p, const char **ip, uint16_t *port)
{
	rtp_endpoint *ep = p->transport;
	*ip = settings->rtp_ip;
	*port = ep->local_port;
}

int sb_rtp_socket_reserve(uint16_t *port, int *rtcp_fd)
{
	if (rtcp_fd)
		*rtcp_fd = -1;
	int fd = bind_in_range(port, rtcp_fd);
	if (fd >= 0)
		__atomic_add_fetch(&stats.open, 1, __ATOMIC_RELAXED);
	return fd;
}

void sb_rtp_socket_release(int fd, int rtcp_fd)
{
	if (fd >= 0) {
		close(fd);
		__atomic_sub_fetch(&stats.open, 1, __ATOMIC_RELAXED);
	}
	if (rtcp_fd >= 0)
		close(rtcp_fd);
}

gint64 sb_rtp_endpoint_last_rx(sb_participant *p)
{
	rtp_endpoint *ep = p->transport;
	return __atomic_load_n(&ep->last_rx_us, __ATOMIC_RELAXED);
}

bool sb_rtp_endpoint_send_dtmf(sb_participant *p, const char *digits)
{
	rtp_endpoint *ep = p->transport;
	if (ep->dtmf_pt <= 0)
		return false;
	g_mutex_lock(&ep->dtmf_mutex);
	bool ok = sb_dtmf_sender_push(&ep->sender, digits);
	g_mutex_unlock(&ep->dtmf_mutex);
	return ok;
}

bool sb_rtp_endpoint_set_remote(sb_participant *p, const char *ip, uint16_t port)
{
	rtp_endpoint *ep = p->transport;
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (port == 0 || !ip || inet_pton(AF_INET, ip, &v4.sin_addr) != 1)
		return false;
	g_mutex_lock(&mutex);
	if (!ep->latched) {
		memset(&ep->remote, 0, sizeof(ep->remote));
		memcpy(&ep->remote, &v4, sizeof(v4));
		ep->remote_len = sizeof(v4);
	}
	g_mutex_unlock(&mutex);
	return true;
}

void sb_rtp_endpoints_get_stats(sb_rtp_endpoint_stats *out)
{
	out->latched = __atomic_load_n(&stats.latched, __ATOMIC_RELAXED);
	out->dtmf_in = __atomic_load_n(&stats.dtmf_in, __ATOMIC_RELAXED);
	out->srtp_failures = __atomic_load_n(&stats.srtp_failures, __ATOMIC_RELAXED);
	out->dtmf_out_packets = __atomic_load_n(&stats.dtmf_out_packets, __ATOMIC_RELAXED);
	out->open = __atomic_load_n(&stats.open, __ATOMIC_RELAXED);
	out->foreign_packets = __atomic_load_n(&stats.foreign_packets, __ATOMIC_RELAXED);
	out->rtcp_packets = __atomic_load_n(&stats.rtcp_packets, __ATOMIC_RELAXED);
}
