/* Audio codecs used in rooms: Opus, G.711 mu-law/A-law, G.722.
 *
 * Every decoder produces mono int16 PCM at the room's mixing rate and every
 * encoder consumes it, so the mixer never sees a codec's native rate:
 * resampling (speexdsp) lives inside this module.  All frames are 20 ms.
 * Nothing here depends on Janus, so it is unit-tested on its own. */
#ifndef SB_MEDIA_CODEC_H
#define SB_MEDIA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_FRAME_MS 20
/* Largest frame we ever handle: 20 ms at 48 kHz. */
#define SB_MAX_FRAME_SAMPLES 960
/* Largest encoded payload we produce or accept for one frame. */
#define SB_MAX_PAYLOAD 1500

typedef enum {
	SB_CODEC_OPUS = 0,
	SB_CODEC_PCMU,
	SB_CODEC_PCMA,
	SB_CODEC_G722,
	SB_CODEC_COUNT
} sb_codec_id;

/* "opus", "pcmu", "pcma", "g722" (lower case). */
const char *sb_codec_name(sb_codec_id codec);
/* Case-insensitive; false for an unknown name. */
bool sb_codec_from_name(const char *name, sb_codec_id *out);
/* Static payload type (0, 8, 9) or our default dynamic one for Opus (111). */
int sb_codec_default_payload_type(sb_codec_id codec);
/* RTP clock rate: 48000 for Opus, 8000 for G.711 and (per RFC 3551) G.722. */
int sb_codec_rtp_clock(sb_codec_id codec);
/* Samples per 20 ms frame at the given rate. */
static inline int sb_frame_samples(int rate) { return rate / (1000 / SB_FRAME_MS); }

typedef struct sb_decoder sb_decoder;

/* out_rate: 8000, 16000 or 48000.  NULL on failure. */
sb_decoder *sb_decoder_new(sb_codec_id codec, int out_rate);
void sb_decoder_free(sb_decoder *dec);
/* Decodes one packet's payload into one 20 ms frame at out_rate.
 * Returns the number of samples written (sb_frame_samples(out_rate)),
 * or -1 for a payload the codec rejects (the caller counts and conceals). */
int sb_decoder_decode(sb_decoder *dec, const uint8_t *payload, size_t len, int16_t *pcm);
/* Fills one 20 ms frame for a lost packet.  When the next packet's payload is
 * known (next != NULL) and the codec carries in-band FEC (Opus), the frame is
 * recovered from it; otherwise packet-loss concealment.  Returns samples. */
int sb_decoder_conceal(sb_decoder *dec, const uint8_t *next, size_t next_len, int16_t *pcm);

typedef struct sb_encoder_options {
	int bitrate;    /* bits/s, 0 = codec default (Opus: 32000) */
	int complexity; /* Opus 0..10, -1 = default (10 like Janus AudioBridge) */
	bool fec;       /* Opus in-band FEC */
	int expected_loss_pct; /* Opus, with fec */
} sb_encoder_options;

typedef struct sb_encoder sb_encoder;

/* in_rate: 8000, 16000 or 48000.  opts may be NULL for defaults. */
sb_encoder *sb_encoder_new(sb_codec_id codec, int in_rate, const sb_encoder_options *opts);
void sb_encoder_free(sb_encoder *enc);
/* Encodes one 20 ms frame (sb_frame_samples(in_rate) samples).
 * Returns payload bytes, or -1 on error. */
int sb_encoder_encode(sb_encoder *enc, const int16_t *pcm, uint8_t *out, size_t max);
/* RTP timestamp increment per 20 ms frame for this codec (960, 160, 160). */
uint32_t sb_codec_rtp_ts_step(sb_codec_id codec);

#endif
