/* audio — what loadgen and floor both do to sound: read the speech WAV,
 * measure a frame's level, and G.711 mu-law.  No Janus, no sockets. */
#ifndef BENCH_AUDIO_H
#define BENCH_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#define AUDIO_RATE 48000
#define AUDIO_FRAME_SAMPLES 960 /* 20 ms at 48 kHz */
#define AUDIO_ULAW_SAMPLES 160  /* 20 ms at 8 kHz, one byte each */

/* A 48 kHz mono 16-bit PCM WAV: its samples (malloc; the caller frees) and
 * their count, or NULL with the reason on stderr. */
int16_t *audio_read_wav48(const char *path, size_t *count);

/* RMS level of n samples in -dBov, 0..127 (127: digital silence), as
 * RFC 6464 counts it. */
uint8_t audio_frame_level(const int16_t *samples, int n);

/* G.711 mu-law (ITU-T G.711, the segment/bias form). */
uint8_t audio_linear_to_ulaw(int16_t sample);
int16_t audio_ulaw_to_linear(uint8_t byte);

/* One 20 ms frame of 48 kHz PCM (960 samples) as 160 mu-law bytes at
 * 8 kHz: each output sample the mean of six input samples (a crude
 * low-pass before the decimation; enough for load whose content only needs
 * to be speech-like).  Returns 160. */
int audio_encode_ulaw_frame(const int16_t *pcm48, unsigned char *out);

#endif
