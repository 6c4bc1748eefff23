/* latency — see latency.h. */
#define _GNU_SOURCE /* M_PI */
#include "latency.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define FRAME_SAMPLES 960
#define TONE_HZ 1000.0

int16_t *lat_make_cycle(int period_frames, int burst_frames, int tone_dbov, int floor_dbov)
{
	size_t n = (size_t)period_frames * FRAME_SAMPLES;
	size_t burst = (size_t)burst_frames * FRAME_SAMPLES;
	int16_t *pcm = calloc(n, sizeof *pcm);
	if (!pcm)
		return NULL;
	/* a sine's RMS is its peak / sqrt(2) */
	double peak = 32767.0 * pow(10.0, -tone_dbov / 20.0) * sqrt(2.0);
	if (peak > 32767.0)
		peak = 32767.0;
	for (size_t i = 0; i < burst && i < n; i++)
		pcm[i] = (int16_t)lrint(peak * sin(2.0 * M_PI * TONE_HZ * (double)i / RATE));
	if (floor_dbov < 127) {
		/* uniform white noise in [-a, a] has RMS a / sqrt(3) */
		double a = 32768.0 * pow(10.0, -floor_dbov / 20.0) * sqrt(3.0);
		uint32_t x = 0x9e3779b9u; /* xorshift32: same noise every run */
		for (size_t i = burst; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			pcm[i] = (int16_t)lrint(a * ((double)x / 2147483647.5 - 1.0));
		}
	}
	return pcm;
}

bool lat_on_frame(struct lat_stats *st, struct lat_listener *l, const struct lat_room *r, int level,
                  int64_t rx_ns)
{
	if (level >= LAT_QUIET_DBOV) {
		if (++l->quiet_run >= LAT_ARM_FRAMES)
			l->armed = true;
		return false;
	}
	l->quiet_run = 0;
	if (level >= LAT_LOUD_DBOV || !l->armed)
		return false; /* in between, or still inside a burst */
	l->armed = false;
	if (r->burst_id == 0) {
		st->unmatched++; /* loud before any burst was sent: something else */
		return false;
	}
	int64_t d = rx_ns - r->burst_ns;
	if (r->burst_id == l->last_burst || d < 0 || d > LAT_MATCH_NS) {
		if (r->counted)
			st->late++;
		return false;
	}
	l->last_burst = r->burst_id;
	if (!r->counted)
		return false; /* warm-up, or too close to the window's end */
	if (st->n == st->cap) {
		int cap = st->cap ? 2 * st->cap : 256;
		double *m = realloc(st->ms, (size_t)cap * sizeof *m);
		if (!m)
			return false;
		st->ms = m;
		st->cap = cap;
	}
	st->ms[st->n++] = (double)d / 1e6;
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* nearest rank on a sorted array */
static double pct(const double *v, int n, double q)
{
	int k = (int)ceil(q * n) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

json_t *lat_report(const struct lat_stats *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "samples", json_integer(st->n));
	json_object_set_new(o, "expected", json_integer(st->expected));
	json_object_set_new(o, "missed",
	                    json_integer(st->expected > st->n ? st->expected - st->n : 0));
	json_object_set_new(o, "unmatched", json_integer(st->unmatched));
	json_object_set_new(o, "late", json_integer(st->late));
	json_t *vals = json_array();
	for (int i = 0; i < st->n; i++)
		json_array_append_new(vals, json_real(round(st->ms[i] * 1000) / 1000));
	json_object_set_new(o, "values_ms", vals);
	if (st->n > 0) {
		double *v = malloc((size_t)st->n * sizeof *v);
		if (v) {
			memcpy(v, st->ms, (size_t)st->n * sizeof *v);
			qsort(v, (size_t)st->n, sizeof *v, cmp_double);
			double sum = 0;
			for (int i = 0; i < st->n; i++)
				sum += v[i];
			json_object_set_new(o, "min_ms", json_real(v[0]));
			json_object_set_new(o, "p50_ms", json_real(pct(v, st->n, 0.50)));
			json_object_set_new(o, "p95_ms", json_real(pct(v, st->n, 0.95)));
			json_object_set_new(o, "max_ms", json_real(v[st->n - 1]));
			json_object_set_new(o, "mean_ms", json_real(sum / st->n));
			free(v);
		}
	}
	return o;
}

void lat_free(struct lat_stats *st)
{
	free(st->ms);
	memset(st, 0, sizeof *st);
}
