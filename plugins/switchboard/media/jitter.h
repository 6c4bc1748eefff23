/* Per-participant jitter buffer for 20 ms audio packets.
 *
 * Written here rather than taken from speexdsp because Opus in-band FEC
 * needs to look at the packet *after* a gap before that packet's own turn,
 * which speexdsp's JitterBuffer cannot do.
 *
 * Producer: the network thread (ICE loop / RTP socket thread) calls
 * sb_jitter_put.  Consumer: the mixer calls sb_jitter_get once per 20 ms
 * tick.  Both are O(1) and take a short internal mutex; neither blocks. */
#ifndef SB_MEDIA_JITTER_H
#define SB_MEDIA_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/codec.h"

typedef struct sb_jitter sb_jitter;

typedef struct sb_jitter_stats {
	uint64_t received;   /* packets accepted */
	uint64_t late;       /* arrived after their playout slot: dropped */
	uint64_t duplicate;  /* same sequence number twice: dropped */
	uint64_t overflow;   /* buffer full (sender too fast / clock skew): dropped */
	uint64_t lost;       /* slots played with no packet (concealed) */
	uint64_t recovered;  /* of those, recovered with FEC from the next packet */
	uint64_t reset;      /* resynchronisations after a sequence/timestamp jump */
	uint64_t invalid;    /* empty or larger than SB_MAX_PAYLOAD, or a stray far
	                        out of sequence that no next packet confirmed: dropped */
	int depth;           /* current target delay, in frames */
} sb_jitter_stats;

/* min_frames/max_frames: bounds of the adaptive playout delay (in 20 ms
 * frames), e.g. 1 and 10.  ts_step: RTP timestamp increment per frame. */
sb_jitter *sb_jitter_new(int min_frames, int max_frames, uint32_t ts_step);
void sb_jitter_free(sb_jitter *jb);

/* Queues a copy of one packet's payload.  Returns false (and counts why) when
 * the packet is dropped: late, duplicate, oversized or buffer full. */
bool sb_jitter_put(sb_jitter *jb, uint16_t seq, uint32_t rtp_ts, const uint8_t *payload, size_t len);

/* The same, carrying the packet's RFC 6464 audio level (-1: unknown), which
 * comes back from sb_jitter_get_level with the packet: the mixer can skip
 * decoding silence. */
bool sb_jitter_put_level(sb_jitter *jb, uint16_t seq, uint32_t rtp_ts, const uint8_t *payload,
                         size_t len, int level);

typedef enum {
	SB_JITTER_EMPTY = 0, /* nothing to play: not started yet, or stream idle */
	SB_JITTER_PACKET,    /* payload holds the packet due now */
	SB_JITTER_LOST,      /* the packet due now is missing; if next_len > 0,
	                        payload holds the following packet (for FEC) */
} sb_jitter_result;

/* Takes the frame due at this tick.  payload must hold SB_MAX_PAYLOAD bytes;
 * *len receives its length.  Prebuffering: returns EMPTY until the target
 * delay is reached.  After a long gap with no packets (the sender stopped,
 * e.g. DTX or a muted browser) it returns EMPTY rather than LOST forever. */
sb_jitter_result sb_jitter_get(sb_jitter *jb, uint8_t *payload, size_t *len);

/* The same; *level is the packet's level for SB_JITTER_PACKET, else -1. */
sb_jitter_result sb_jitter_get_level(sb_jitter *jb, uint8_t *payload, size_t *len, int *level);

void sb_jitter_get_stats(sb_jitter *jb, sb_jitter_stats *out);

#endif
