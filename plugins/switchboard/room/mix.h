/* The arithmetic of mixing: sums, mix-minus, the limiter, levels, and the
 * plan that decides how few encodes a room needs per frame.  Pure functions
 * on plain arrays; the mixer (mixer.c) drives them. */
#ifndef SB_MIX_H
#define SB_MIX_H

#include <stdbool.h>
#include <stdint.h>

/* Peak limiter: instant attack, smooth release, never wraps or clips.
 * Below the threshold it is the identity, so mix-minus stays exact. */
typedef struct sb_limiter {
	float envelope;
	float release; /* per-sample decay of the envelope */
} sb_limiter;

#define SB_LIMITER_THRESHOLD 29491.0f /* -0.9 dBFS */

void sb_limiter_init(sb_limiter *lim, int sample_rate);
void sb_limiter_process(sb_limiter *lim, const int32_t *in, int16_t *out, int n);

void sb_mix_clear(int32_t *acc, int n);
void sb_mix_add(int32_t *acc, const int16_t *frame, int n);
/* out = all - own: what a contributor hears. */
void sb_mix_minus(const int32_t *all, const int16_t *own, int32_t *out, int n);
bool sb_mix_is_silent(const int32_t *acc, int n);

/* RMS level in -dBov, as RFC 6464: 0 = full scale, 127 = silence. */
int sb_level_dbov(const int16_t *pcm, int n);
/* The same level from a mean square already at hand. */
int sb_level_of_mean_square(double mean_square);

/* Encode-once planning.  Every listener who is not contributing hears the
 * same full mix, so the full mix is encoded once per codec; a contributor
 * hears the full mix minus itself, which only it needs. */
/* The codec id of listeners who take PCM (the AI agent). */
#define SB_MIX_PCM 99

typedef struct sb_mix_member {
	int codec;        /* codec id of the listener's output */
	bool contributing;/* its frame is in the full mix */
	bool listening;   /* it has an output (needs a mix) */
} sb_mix_member;

typedef struct sb_mix_job {
	int minus;  /* -1: the full mix; otherwise the member index left out */
	int codec;
	bool silent;/* nothing to hear: send the codec's silence frame */
	int source; /* the mix is this one member's frame alone, or -1: its
	               packet can be forwarded as it came, with no encoding */
} sb_mix_job;

/* Fills jobs (capacity >= n + number of codecs) and job_of[n] (-1 for members
 * that do not listen); returns the number of jobs. */
int sb_mix_plan(const sb_mix_member *members, int n, sb_mix_job *jobs, int *job_of);

#endif
