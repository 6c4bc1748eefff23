/* Plain RTP participants: a UDP socket each (and an RTCP one when asked).
 * A leg being mixed is read by its mixer at each tick, just before its
 * frame is taken (poll_input), so a packet costs no thread wake-up; before
 * that, and for RTCP, one I/O thread reads every socket through epoll, so a
 * thousand legs cost one thread, not a thousand.  The mixer writes with
 * non-blocking sendto and drops a frame rather than wait.  The module's
 * mutex guards the endpoint table; each endpoint's remote_mutex its remote
 * address (latching moves it), so sends and reads of different legs never
 * wait on one lock.  Both are held for a copy, never across I/O.
 *
 * Nothing here trusts a packet's source address alone: ports are drawn at
 * random (a stranger cannot guess the next leg's), and a leg moves to a
 * new source only on proof — SRTP that authenticates, or a run of plain
 * RTP packets long enough that a forged one or a burst cannot make it
 * while the real peer talks (docs/security.md, "Media").  The same I/O
 * thread removes rtp_join participants that stopped sending. */
#include "endpoints/endpoints.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <debug.h>

#include "media/media.h"

/* epoll keys: endpoint key << 1, low bit set for the RTCP socket. */
#define RTCP_KEY_BIT 1u
/* Random ports tried before a sweep of the range from a random start. */
#define PORT_RANDOM_TRIES 64
/* The nominal packet interval a latching run is measured in. */
#define PACKET_TIME_US (20 * 1000)

typedef struct rtp_endpoint {
	int fd, rtcp_fd;
	uint64_t key;
	GMutex remote_mutex;
	struct sockaddr_storage remote; /* guarded by remote_mutex */
	socklen_t remote_len;
	uint16_t local_port;
	bool symmetric;
	bool latched; /* moved off the signalled address (remote_mutex) */
	bool join;    /* an rtp_join participant: rtp_timeout applies */
	gint64 created_us;
	/* Whoever reads the RTP socket holds read_mutex while it does: the I/O
	 * thread until the mixer first polls the leg (mixer_reads), then the
	 * mixer; the fields up to detector are that reader's. */
	GMutex read_mutex;
	volatile gint mixer_reads;
	/* A run of plain RTP packets from one new source. */
	struct sockaddr_storage candidate;
	int candidate_count;
	gint64 candidate_first_us;
	int dtmf_pt;
	sb_rtp_dtmf_handler on_dtmf;
	void (*on_removed)(void *user, sb_participant *p);
	void *user;
	sb_dtmf_detector detector; /* the reader's */
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
static int epoll_fd = -1, wake_fd = -1;
/* [security], read at start. */
static sb_acl *join_allow;
static gint64 idle_timeout_us; /* 0: never */
static int latch_packets;
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

/* The leg's peer is now at from (the leg's reader). */
static void move_remote(rtp_endpoint *ep, const struct sockaddr_storage *from, socklen_t from_len)
{
	g_mutex_lock(&ep->remote_mutex);
	ep->remote = *from;
	ep->remote_len = from_len;
	ep->latched = true;
	g_mutex_unlock(&ep->remote_mutex);
	ep->candidate_count = 0;
	__atomic_add_fetch(&stats.latched, 1, __ATOMIC_RELAXED);
}

/* An RTP packet (buf, *len) from an address that is not the leg's peer:
 * true when it proves the peer moved there (NAT), and the leg now follows
 * it; *len is then the plaintext's length.  An SRTP leg follows the first
 * packet that authenticates; a plain one a run of latch_packets packets
 * from that one source over (latch_packets - 1) packet times with nothing
 * from the current peer in between — a forged packet, or a burst slipped
 * between the peer's packets, is dropped and counted.  The leg's reader. */
static bool admit_new_source(rtp_endpoint *ep, uint8_t *buf, size_t *len,
                             const struct sockaddr_storage *from, socklen_t from_len, gint64 now)
{
	if (!ep->symmetric || *len < SB_RTP_HEADER_SIZE || (buf[0] >> 6) != 2 ||
	    from->ss_family != AF_INET) {
		__atomic_add_fetch(&stats.foreign_packets, 1, __ATOMIC_RELAXED);
		return false;
	}
	if (ep->srtp) {
		/* libsrtp changes nothing for a packet that fails: a stranger
		 * can neither move the leg nor disturb the real peer's stream. */
		if (!sb_srtp_unprotect(ep->srtp, buf, len)) {
			__atomic_add_fetch(&stats.srtp_failures, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&stats.foreign_packets, 1, __ATOMIC_RELAXED);
			return false;
		}
		move_remote(ep, from, from_len);
		return true;
	}
	if (ep->candidate_count == 0 || !same_address(from, &ep->candidate)) {
		ep->candidate = *from;
		ep->candidate_count = 0;
		ep->candidate_first_us = now;
	}
	ep->candidate_count++;
	if (ep->candidate_count < latch_packets ||
	    now - ep->candidate_first_us < (gint64)(latch_packets - 1) * PACKET_TIME_US) {
		__atomic_add_fetch(&stats.foreign_packets, 1, __ATOMIC_RELAXED);
		return false;
	}
	move_remote(ep, from, from_len);
	return true;
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

/* One datagram of the leg's RTP or RTCP socket (the leg's reader). */
static void handle_datagram(rtp_endpoint *ep, sb_participant *p, bool rtcp, uint8_t *buf,
                            size_t len, const struct sockaddr_storage *from, socklen_t from_len,
                            struct sockaddr_storage *expected, gint64 now)
{
	if (rtcp || sb_rtp_is_rtcp(buf, len)) {
		/* Reports only feed counters: the jitter buffer adapts on its
		 * own and we never retransmit. */
		__atomic_add_fetch(&stats.rtcp_packets, 1, __ATOMIC_RELAXED);
		return;
	}
	if (same_address(from, expected)) {
		ep->candidate_count = 0; /* the peer is still there */
		if (ep->srtp && !sb_srtp_unprotect(ep->srtp, buf, &len)) {
			__atomic_add_fetch(&stats.srtp_failures, 1, __ATOMIC_RELAXED);
			return;
		}
	} else if (admit_new_source(ep, buf, &len, from, from_len, now)) {
		*expected = *from;
	} else {
		return;
	}
	__atomic_store_n(&ep->last_rx_us, now, __ATOMIC_RELAXED);
	if (ep->dtmf_pt > 0 && len >= 2 && (buf[1] & 0x7f) == ep->dtmf_pt) {
		handle_dtmf(ep, p, buf, len);
		return;
	}
	sb_participant_incoming_rtp(p, buf, len, -1);
}

/* Read in batches with recvmmsg: one system call per read of a leg (a
 * leg sends one packet per 20 ms, so a batch is mostly one packet). */
#define READ_BATCH 16
/* Batches per read: a flooded socket does not starve the others. */
#define READ_BATCHES 4
/* What the mixer reads per leg and tick: a packet or two, so its buffers
 * fit on its stack. */
#define TICK_READ_BATCH 4
#define DATAGRAM_MAX 2048

typedef struct read_buffers {
	int count;
	uint8_t (*data)[DATAGRAM_MAX];
	struct sockaddr_storage *from;
} read_buffers;

/* Reads one of the leg's sockets until it is empty or READ_BATCHES batches
 * were read, under the leg's read_mutex; true when it came back empty. */
static bool drain_socket(rtp_endpoint *ep, sb_participant *p, bool rtcp, const read_buffers *bufs)
{
	int fd = rtcp ? ep->rtcp_fd : ep->fd;
	struct mmsghdr msgs[READ_BATCH];
	struct iovec iov[READ_BATCH];
	g_assert(bufs->count <= READ_BATCH);
	/* The address is copied once the socket is ours: a reader before us
	 * may have latched the leg to a new one (lock order read, then
	 * remote, as move_remote takes them). */
	g_mutex_lock(&ep->read_mutex);
	g_mutex_lock(&ep->remote_mutex);
	struct sockaddr_storage expected = ep->remote;
	g_mutex_unlock(&ep->remote_mutex);
	bool drained = false;
	for (int batch = 0; batch < READ_BATCHES && !drained; batch++) {
		for (int i = 0; i < bufs->count; i++) {
			iov[i] = (struct iovec){.iov_base = bufs->data[i], .iov_len = DATAGRAM_MAX};
			msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &bufs->from[i],
			                                       .msg_namelen = sizeof(bufs->from[i]),
			                                       .msg_iov = &iov[i],
			                                       .msg_iovlen = 1}};
		}
		int got = recvmmsg(fd, msgs, (unsigned)bufs->count, MSG_DONTWAIT, NULL);
		if (got < 0) {
			/* Empty.  Any other error (a queued ICMP error) was
			 * consumed by this call: read on, data may be behind it. */
			drained = errno == EAGAIN || errno == EWOULDBLOCK;
			continue;
		}
		drained = got < bufs->count;
		gint64 now = g_get_monotonic_time();
		for (int i = 0; i < got; i++)
			handle_datagram(ep, p, rtcp, bufs->data[i], msgs[i].msg_len, &bufs->from[i],
			                msgs[i].msg_hdr.msg_namelen, &expected, now);
	}
	g_mutex_unlock(&ep->read_mutex);
	return drained;
}

/* I/O thread only. */
static uint8_t io_data[READ_BATCH][DATAGRAM_MAX];
static struct sockaddr_storage io_from[READ_BATCH];

/* The sockets are edge-triggered: epoll reports a socket once per arrival
 * and does not poll it again after each wait, so a socket must be read
 * until it comes back empty, or re-armed. */
static void handle_readable(uint64_t epoll_key)
{
	uint64_t key = epoll_key >> 1;
	bool rtcp = (epoll_key & RTCP_KEY_BIT) != 0;
	g_mutex_lock(&mutex);
	rtp_endpoint *ep = endpoints ? g_hash_table_lookup(endpoints, &key) : NULL;
	sb_participant *p = ep ? ep->participant : NULL;
	if (p)
		sb_participant_ref(p);
	g_mutex_unlock(&mutex);
	if (!p)
		return;
	read_buffers bufs = {.count = READ_BATCH, .data = io_data, .from = io_from};
	if (!drain_socket(ep, p, rtcp, &bufs) && (rtcp || !g_atomic_int_get(&ep->mixer_reads))) {
		/* Re-arming an edge-triggered socket that still has data makes
		 * epoll report it again on the next wait. */
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = epoll_key};
		epoll_ctl(epoll_fd, EPOLL_CTL_MOD, rtcp ? ep->rtcp_fd : ep->fd, &ev);
	}
	sb_participant_unref(p);
}

/* The mixer, before it takes the leg's frame (sb_participant_ops.poll_input):
 * reading the socket here, at the tick, costs no wake-up of the I/O thread
 * per packet and gets the packet to the jitter buffer as early as it would
 * be played anyway.  The first call takes the socket off epoll for good;
 * the I/O thread keeps the RTCP socket and any event already in flight,
 * which read_mutex serialises with this. */
static void endpoint_poll_input(sb_participant *p)
{
	rtp_endpoint *ep = p->transport;
	if (!g_atomic_int_get(&ep->mixer_reads)) {
		g_atomic_int_set(&ep->mixer_reads, 1);
		if (epoll_fd >= 0)
			epoll_ctl(epoll_fd, EPOLL_CTL_DEL, ep->fd, NULL);
	}
	uint8_t data[TICK_READ_BATCH][DATAGRAM_MAX];
	struct sockaddr_storage from[TICK_READ_BATCH];
	read_buffers bufs = {.count = TICK_READ_BATCH, .data = data, .from = from};
	drain_socket(ep, p, false, &bufs);
}

/* rtp_join participants that sent nothing for rtp_timeout leave their
 * room (I/O thread, once a second).  They are collected under the lock and
 * removed after it: removal calls back into this module. */
static void remove_idle(gint64 now)
{
	if (idle_timeout_us <= 0)
		return;
	GPtrArray *idle = g_ptr_array_new_with_free_func((GDestroyNotify)sb_participant_unref);
	g_mutex_lock(&mutex);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, endpoints);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		rtp_endpoint *ep = value;
		gint64 last = __atomic_load_n(&ep->last_rx_us, __ATOMIC_RELAXED);
		if (ep->join && now - MAX(last, ep->created_us) > idle_timeout_us) {
			sb_participant_ref(ep->participant);
			g_ptr_array_add(idle, ep->participant);
		}
	}
	g_mutex_unlock(&mutex);
	for (guint i = 0; i < idle->len; i++) {
		sb_participant *p = g_ptr_array_index(idle, i);
		sb_room *room = sb_participant_room(p);
		if (!room)
			continue;
		JANUS_LOG(LOG_INFO,
		          "[switchboard] RTP participant %" G_GUINT64_FORMAT
		          " in %s sent nothing for %" G_GINT64_FORMAT
		          " s ([security] rtp_timeout): removed\n",
		          p->id, room->name, idle_timeout_us / G_USEC_PER_SEC);
		__atomic_add_fetch(&stats.idle_removed, 1, __ATOMIC_RELAXED);
		sb_room_remove(room, p, "leaving");
		sb_room_unref(room);
	}
	g_ptr_array_unref(idle);
}

static gpointer io_main(gpointer data)
{
	(void)data;
	struct epoll_event events[64];
	gint64 last_sweep = g_get_monotonic_time();
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
		gint64 now = g_get_monotonic_time();
		if (now - last_sweep >= G_USEC_PER_SEC) {
			last_sweep = now;
			remove_idle(now);
		}
	}
	return NULL;
}

/* [security] rtp_join_allow, rtp_timeout, rtp_latch_packets. */
static void load_security(const sb_settings *s)
{
	json_t *sec = sb_settings_section(s, "security");
	const char *allow = sb_section_string(sec, "rtp_join_allow", "127.0.0.0/8");
	char *bad = NULL;
	join_allow = sb_acl_parse(allow, &bad);
	if (!join_allow) {
		JANUS_LOG(
		        LOG_ERR,
		        "[switchboard] [security] rtp_join_allow: '%s' is not an address or CIDR; "
		        "rtp_join refuses every address\n",
		        bad);
		g_free(bad);
		join_allow = sb_acl_parse("", &bad);
	}
	idle_timeout_us = sb_section_int(sec, "rtp_timeout", 30, 0, 86400) * G_USEC_PER_SEC;
	latch_packets = (int)sb_section_int(sec, "rtp_latch_packets", 5, 2, 50);
}

bool sb_rtp_endpoints_start(const sb_settings *s)
{
	settings = s;
	load_security(s);
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
	sb_acl_free(join_allow);
	join_allow = NULL;
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

/* A uniform draw below n from the kernel's generator: which port a leg
 * gets must not be predictable from earlier ones. */
static guint32 random_below(guint32 n)
{
	guint32 r;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = g_random_int(); /* not reached on Linux >= 3.17 */
	return (guint32)(((guint64)r * n) >> 32);
}

/* Binds a socket on a random free port of the range; with rtcp_fd, an
 * even port for RTP and the odd one above it for RTCP.  PORT_RANDOM_TRIES
 * random ports, then one sweep from a random start (a nearly full range):
 * at most that many binds. */
static int bind_in_range(uint16_t *port_out, int *rtcp_fd)
{
	struct sockaddr_in local = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, settings->rtp_ip, &local.sin_addr) != 1)
		return -1;
	int step = rtcp_fd ? 2 : 1;
	int first = rtcp_fd ? (settings->rtp_port_min + 1) & ~1 : settings->rtp_port_min;
	int last = rtcp_fd ? settings->rtp_port_max - 1 : settings->rtp_port_max;
	if (last < first)
		return -1;
	guint32 slots = (guint32)((last - first) / step + 1);
	guint32 start = random_below(slots);
	guint32 tries = PORT_RANDOM_TRIES + slots;
	for (guint32 t = 0; t < tries; t++) {
		guint32 slot = t < PORT_RANDOM_TRIES ? random_below(slots)
		                                     : (start + t - PORT_RANDOM_TRIES) % slots;
		uint16_t port = (uint16_t)(first + (int)slot * step);
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
	g_mutex_lock(&ep->remote_mutex);
	struct sockaddr_storage remote = ep->remote;
	socklen_t remote_len = ep->remote_len;
	g_mutex_unlock(&ep->remote_mutex);
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
	g_mutex_clear(&ep->remote_mutex);
	g_mutex_clear(&ep->read_mutex);
	sb_srtp_free(ep->srtp);
	g_free(ep);
}

static const sb_participant_ops rtp_ops = {
        .send_rtp = endpoint_send_rtp,
        .poll_input = endpoint_poll_input,
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
	g_mutex_init(&ep->remote_mutex);
	g_mutex_init(&ep->read_mutex);
	sb_dtmf_sender_init(&ep->sender);
	ep->symmetric = params->symmetric;
	ep->join = params->kind != SB_KIND_SIP;
	ep->created_us = g_get_monotonic_time();
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
	/* rtp_join sends a room's audio where it is told: only where the
	 * operator allows (a SIP leg's address comes from its peer's SDP). */
	if (ep->join && !sb_acl_allows(join_allow, params->remote_ip)) {
		__atomic_add_fetch(&stats.join_refused, 1, __ATOMIC_RELAXED);
		JANUS_LOG(
		        LOG_WARN,
		        "[switchboard] rtp_join to %s refused: not in [security] rtp_join_allow\n",
		        params->remote_ip);
		*error = SB_ERROR_UNAUTHORIZED;
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
	        .identity = params->identity,
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
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = ep->key << 1};
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, ep->fd, &ev);
	if (ep->rtcp_fd >= 0) {
		struct epoll_event rev = {.events = EPOLLIN | EPOLLET,
		                          .data.u64 = ep->key << 1 | RTCP_KEY_BIT};
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
	g_mutex_lock(&ep->remote_mutex);
	if (!ep->latched) {
		memset(&ep->remote, 0, sizeof(ep->remote));
		memcpy(&ep->remote, &v4, sizeof(v4));
		ep->remote_len = sizeof(v4);
	}
	g_mutex_unlock(&ep->remote_mutex);
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
	out->join_refused = __atomic_load_n(&stats.join_refused, __ATOMIC_RELAXED);
	out->idle_removed = __atomic_load_n(&stats.idle_removed, __ATOMIC_RELAXED);
}
