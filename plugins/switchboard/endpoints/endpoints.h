/* Endpoints: how a participant's audio reaches a room — a browser's
 * PeerConnection through the Janus core (webrtc), or a plain RTP socket
 * (rtp_endpoint, also under every SIP leg). */
#ifndef SB_ENDPOINTS_ENDPOINTS_H
#define SB_ENDPOINTS_ENDPOINTS_H

#include <stdint.h>
#include <jansson.h>
#include <plugins/plugin.h>
#include <refcount.h>

#include "core/core.h"
#include "room/room.h"

/* ---- webrtc ----
 * Browser participants: a Janus handle (session) and its PeerConnection.
 * Negotiates Opus, relays the mix-minus through the Janus core, and feeds
 * incoming RTP into the participant.  A session is opaque: its state
 * (webrtc.c) changes only through these functions, from any thread. */
typedef struct sb_session sb_session;

void sb_webrtc_init(janus_callbacks *gateway, janus_plugin *plugin);

/* A session for a new Janus handle (it keeps a reference on the handle
 * until it is freed), with one reference. */
sb_session *sb_session_new(janus_plugin_session *handle);
void sb_session_ref(sb_session *s);
void sb_session_unref(sb_session *s);
/* The session's participant, referenced, or NULL. */
sb_participant *sb_session_participant(sb_session *s);
void sb_session_set_participant(sb_session *s, sb_participant *p);
/* The PeerConnection is up (setup_media came, hangup_media did not). */
bool sb_session_started(sb_session *s);
/* The handle went (destroy_session): nothing is sent on it any more. */
void sb_session_set_destroyed(sb_session *s);
bool sb_session_destroyed(sb_session *s);

/* A web participant bound to this session (not yet in a room). */
sb_participant *sb_web_participant_new(sb_session *s, const char *display, const char *role,
                                       const char *identity, bool muted, int sampling_rate);

/* Answers a JSEP offer for p: Opus only, audio level and mid extensions.
 * Returns the answer JSEP, or NULL with *error and error_text set. */
json_t *sb_webrtc_answer(sb_participant *p, json_t *offer, sb_error *error, char *error_text,
                         size_t error_len);

/* Janus callbacks, forwarded by plugin.c. */
void sb_webrtc_setup_media(sb_session *s);
void sb_webrtc_hangup_media(sb_session *s);
void sb_webrtc_incoming_rtp(sb_session *s, janus_plugin_rtp *packet);
/* Sends an event to the session's handle (borrowed). */
void sb_session_push_event(sb_session *s, const char *transaction, json_t *event, json_t *jsep);

/* ---- acl ----
 * Address lists ("127.0.0.1, 54.172.60.0/30, ::1": commas or spaces):
 * who may send SIP INVITEs ([sip] allow), where rtp_join may send audio
 * ([security] rtp_join_allow).  Built once, then read by any thread. */
typedef struct sb_acl sb_acl;

/* Returns NULL and sets *bad to the first entry that is not an address or
 * CIDR (g_free).  NULL or "" gives an empty list. */
sb_acl *sb_acl_parse(const char *list, char **bad);
void sb_acl_free(sb_acl *acl);
/* An empty list, and no list (NULL), allow nobody. */
bool sb_acl_allows(const sb_acl *acl, const char *ip);
guint sb_acl_count(const sb_acl *acl);

/* ---- rtp_endpoint ----
 * Plain RTP participants (rtp_join) and SIP legs: a UDP socket (and its
 * RTCP pair when asked) on a random port of the configured range per
 * participant, read by the mixer at each tick once the leg is mixed
 * (before that, and RTCP, by one I/O thread through epoll), written by the
 * mixer.
 * Media is accepted from the address the caller gave (rtp_join's target,
 * the SDP's); a symmetric leg (SIP, NAT) moves to another source only
 * after SRTP authenticated a packet from it, or, for plain RTP, after
 * [security] rtp_latch_packets consecutive packets from it over that many
 * packet times with none from the current source meanwhile: a single
 * forged packet moves nothing.  rtp_join sends only to addresses in
 * [security] rtp_join_allow, and an rtp_join participant that sends
 * nothing for [security] rtp_timeout seconds is removed. */

bool sb_rtp_endpoints_start(const sb_settings *settings);
void sb_rtp_endpoints_stop(void);

/* A DTMF digit arrived (RFC 4733), on the thread reading the leg (its
 * mixer's or the I/O thread); must not block. */
typedef void (*sb_rtp_dtmf_handler)(void *user, sb_participant *p, char digit);

typedef struct sb_rtp_endpoint_params {
	sb_kind kind;          /* SB_KIND_RTP (the default) or SB_KIND_SIP */
	const char *interface; /* for /sessions; NULL: from the kind */
	json_t *info;          /* call info shown by /sessions (copied) */
	bool symmetric;        /* latch onto the real source (NAT) */
	bool rtcp;             /* an RTCP socket on the odd port above RTP */
	int dtmf_payload_type; /* telephone-event; 0: none */
	/* SDES-SRTP keys (base64, AES_CM_128_HMAC_SHA1_80); NULL: plain RTP. */
	const char *srtp_our_key, *srtp_their_key;
	sb_rtp_dtmf_handler on_dtmf;
	/* The participant left its room (kick, room closed): the owner of the
	 * leg hangs up.  Request thread; must not block. */
	void (*on_removed)(void *user, sb_participant *p);
	void *user; /* for on_dtmf and on_removed */
	/* A socket from sb_rtp_socket_reserve (its port went into an offer);
	 * taken over by the endpoint, even when creation fails.  0: bind a new one. */
	int reserved_fd, reserved_rtcp_fd;
	uint16_t reserved_port;
	const char *remote_ip;
	uint16_t remote_port;
	const char *display;
	const char *identity; /* NULL: none (the participant's kind and id name it) */
	sb_codec_id codec;
	int payload_type;      /* -1: the codec's default */
	int audio_level_ext_id;/* 0: none */
	int sampling_rate;     /* the room's */
} sb_rtp_endpoint_params;

/* Creates an RTP participant with its socket (not yet in a room).
 * Returns NULL with *error set (SB_ERROR_INVALID_ELEMENT for a bad address,
 * SB_ERROR_UNAUTHORIZED for an rtp_join target outside [security]
 * rtp_join_allow, SB_ERROR_LIMIT when no port is free). */
sb_participant *sb_rtp_endpoint_create(const sb_rtp_endpoint_params *params, sb_error *error);
/* Binds a socket on a random port (and its RTCP pair, the odd port above,
 * when rtcp_fd) before the participant exists, for an SDP offer.  Returns
 * the fd or -1 (no free port); give it to sb_rtp_endpoint_create or
 * release it with sb_rtp_socket_release. */
int sb_rtp_socket_reserve(uint16_t *port, int *rtcp_fd);
void sb_rtp_socket_release(int fd, int rtcp_fd);

/* Our side of the socket. */
void sb_rtp_endpoint_local(sb_participant *p, const char **ip, uint16_t *port);
/* Monotonic time (us) of the last packet accepted from the peer; 0: none. */
gint64 sb_rtp_endpoint_last_rx(sb_participant *p);
/* Queues digits (0-9 * # A-D, w = pause) as RFC 4733 events in the
 * outgoing stream; false when there is no telephone-event or no room. */
bool sb_rtp_endpoint_send_dtmf(sb_participant *p, const char *digits);
/* A new remote address (re-INVITE, signalled): ignored once the leg moved
 * to a source of its own (NAT). */
bool sb_rtp_endpoint_set_remote(sb_participant *p, const char *ip, uint16_t port);

typedef struct sb_rtp_endpoint_stats {
	uint64_t open;           /* sockets open now */
	uint64_t foreign_packets;/* from an unexpected address: dropped */
	uint64_t rtcp_packets;   /* RTCP (rtcp-mux or the RTCP socket): counted */
	uint64_t latched;        /* symmetric RTP: remote moved to the real source */
	uint64_t dtmf_in;        /* digits received as RFC 4733 events */
	uint64_t dtmf_out_packets;
	uint64_t srtp_failures; /* packets that failed SRTP authentication (dropped) */
	uint64_t join_refused;  /* rtp_join targets outside rtp_join_allow */
	uint64_t idle_removed;  /* rtp_join participants silent for rtp_timeout */
} sb_rtp_endpoint_stats;
void sb_rtp_endpoints_get_stats(sb_rtp_endpoint_stats *out);

#endif
