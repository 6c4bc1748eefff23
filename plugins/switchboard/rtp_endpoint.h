/* Plain RTP participants (rtp_join): a UDP socket from the configured port
 * range per participant, all read by one I/O thread (epoll), written by the
 * mixer.  Packets from any address but the one given at join are dropped
 * and counted: the way the SIP bridge and external media enter a room. */
#ifndef SB_RTP_ENDPOINT_H
#define SB_RTP_ENDPOINT_H

#include <stdint.h>

#include "participant.h"
#include "sb.h"
#include "settings.h"

bool sb_rtp_endpoints_start(const sb_settings *settings);
void sb_rtp_endpoints_stop(void);

typedef struct sb_rtp_endpoint_params {
	const char *remote_ip;
	uint16_t remote_port;
	const char *display;
	sb_codec_id codec;
	int payload_type;      /* -1: the codec's default */
	int audio_level_ext_id;/* 0: none */
	int sampling_rate;     /* the room's */
} sb_rtp_endpoint_params;

/* Creates an RTP participant with its socket (not yet in a room).
 * Returns NULL with *error set (SB_ERROR_INVALID_ELEMENT for a bad address,
 * SB_ERROR_LIMIT when no port is free). */
sb_participant *sb_rtp_endpoint_create(const sb_rtp_endpoint_params *params, sb_error *error);
/* Our side of the socket. */
void sb_rtp_endpoint_local(sb_participant *p, const char **ip, uint16_t *port);

typedef struct sb_rtp_endpoint_stats {
	uint64_t open;           /* sockets open now */
	uint64_t foreign_packets;/* from an unexpected address: dropped */
	uint64_t rtcp_packets;   /* RTCP on the RTP port (rtcp-mux): ignored */
} sb_rtp_endpoint_stats;
void sb_rtp_endpoints_get_stats(sb_rtp_endpoint_stats *out);

#endif
