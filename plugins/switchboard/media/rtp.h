/* RTP (RFC 3550) header parsing and writing, and the RFC 6464 audio-level
 * header extension.  Every byte comes from the network, so the parser
 * checks every length before it reads. */
#ifndef SB_MEDIA_RTP_H
#define SB_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_RTP_HEADER_SIZE 12

typedef struct sb_rtp_packet {
	uint8_t payload_type;
	bool marker;
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	const uint8_t *payload;
	size_t payload_len;
	int audio_level; /* RFC 6464 level 0..127 (-dBov), or -1 when absent */
	bool voice;      /* RFC 6464 V bit */
} sb_rtp_packet;

/* audio_level_ext_id: the one-byte extension id (1..14) carrying the audio
 * level, or 0 to ignore extensions.  Returns false for anything that is not
 * a well-formed RTP packet (wrong version, truncated, bad padding). */
bool sb_rtp_parse(const uint8_t *buf, size_t len, int audio_level_ext_id, sb_rtp_packet *out);

/* Looks like RTCP (RFC 5761 demultiplexing: payload types 64-95). */
bool sb_rtp_is_rtcp(const uint8_t *buf, size_t len);

/* Writes a 12-byte header; returns SB_RTP_HEADER_SIZE. */
size_t sb_rtp_write_header(uint8_t *buf, uint8_t payload_type, bool marker, uint16_t seq,
                           uint32_t timestamp, uint32_t ssrc);

#endif
