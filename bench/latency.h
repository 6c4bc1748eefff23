/* latency — the burst-onset probe of loadgen's --latency mode.
 *
 * A talker sends a 1 s cycle: a loud 1 kHz tone burst (200 ms) and then a
 * quiet floor (low noise or digital silence). Every listener decodes what it
 * receives; the first decoded frame louder than LAT_LOUD_DBOV after at least
 * LAT_ARM_FRAMES quiet frames is the burst arriving. Its receive time
 * (CLOCK_MONOTONIC, taken when the packet is read) minus the send time of
 * the burst's first loud packet is one mouth-to-ear sample through the
 * mixer. Kept apart from loadgen.c so the detector's rules stay in one
 * small place. */
#ifndef BENCH_LATENCY_H
#define BENCH_LATENCY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define LAT_LOUD_DBOV 30         /* a decoded frame louder than -30 dBov: the burst */
#define LAT_QUIET_DBOV 45        /* quieter than -45 dBov: the floor between bursts */
#define LAT_ARM_FRAMES 5         /* 100 ms of floor before the next onset counts */
#define LAT_MATCH_NS 900000000LL /* onset later than this after a burst: not it */

/* One cycle of PCM (period_frames x 960 samples at 48 kHz, mono): a tone of
 * tone_dbov (RMS) for burst_frames, then the floor: white noise of floor_dbov
 * (RMS), or zeros when floor_dbov >= 127. Deterministic. Caller frees. */
int16_t *lat_make_cycle(int period_frames, int burst_frames, int tone_dbov, int floor_dbov);

/* Per room: the burst its talker sent last. */
struct lat_room {
	int64_t burst_ns; /* send time of the burst's first loud packet */
	int burst_id;     /* 1, 2, …; 0: none sent yet */
	bool counted;     /* sent inside the measured window (eligible) */
};

/* Per listener: the onset detector. */
struct lat_listener {
	int quiet_run;  /* consecutive quiet frames */
	bool armed;     /* a quiet period has passed: next loud frame is an onset */
	int last_burst; /* burst already measured by this listener */
};

struct lat_stats {
	double *ms; /* samples, milliseconds */
	int n, cap;
	int unmatched; /* onsets with no burst to match (should be 0) */
	int late;      /* onsets of a burst already measured or too old */
	int expected;  /* eligible bursts x listeners */
};

/* Feeds one decoded frame's level (dBov, 0 loud … 127 silent) received at
 * rx_ns by a listener of room r. Returns true when it measured a sample. */
bool lat_on_frame(struct lat_stats *st, struct lat_listener *l, const struct lat_room *r, int level,
                  int64_t rx_ns);

/* {"samples","expected","missed","unmatched","late","min_ms","p50_ms",
 *  "p95_ms","max_ms","mean_ms","values_ms":[…]} */
json_t *lat_report(const struct lat_stats *st);
void lat_free(struct lat_stats *st);

#endif
