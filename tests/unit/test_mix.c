/* Mixer arithmetic: mix-minus exactness, the limiter, levels, and the
 * encode-once plan. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "room/mix.h"

#define N 960

static void fill_sine(int16_t *out, int n, double freq, double amp, int rate)
{
	for (int i = 0; i < n; i++)
		out[i] = (int16_t)lrint(amp * sin(2.0 * M_PI * freq * i / rate));
}

static void test_mix_minus_exact(void)
{
	int16_t a[N], b[N], c[N], out[N];
	int32_t all[N], minus[N];
	fill_sine(a, N, 440, 8000, 48000);
	fill_sine(b, N, 880, 6000, 48000);
	fill_sine(c, N, 1320, 4000, 48000);
	sb_mix_clear(all, N);
	sb_mix_add(all, a, N);
	sb_mix_add(all, b, N);
	sb_mix_add(all, c, N);
	sb_limiter lim;
	sb_limiter_init(&lim, 48000);
	/* What a hears is exactly b + c: below the threshold the limiter is the
	 * identity. */
	sb_mix_minus(all, a, minus, N);
	sb_limiter_process(&lim, minus, out, N);
	for (int i = 0; i < N; i++)
		g_assert_cmpint(out[i], ==, b[i] + c[i]);
	sb_mix_minus(all, c, minus, N);
	sb_limiter_process(&lim, minus, out, N);
	for (int i = 0; i < N; i++)
		g_assert_cmpint(out[i], ==, a[i] + b[i]);
}

static void test_limiter_never_wraps(void)
{
	/* Four loud talkers: the naive int16 sum would wrap around. */
	int16_t t[N], out[N];
	int32_t all[N];
	fill_sine(t, N, 300, 30000, 48000);
	sb_mix_clear(all, N);
	for (int k = 0; k < 4; k++)
		sb_mix_add(all, t, N);
	sb_limiter lim;
	sb_limiter_init(&lim, 48000);
	sb_limiter_process(&lim, all, out, N);
	for (int i = 0; i < N; i++) {
		g_assert_cmpint(abs(out[i]), <=, (int)SB_LIMITER_THRESHOLD + 1);
		/* The sign follows the input: no wrap-around. */
		if (all[i] > 1000)
			g_assert_cmpint(out[i], >, 0);
		if (all[i] < -1000)
			g_assert_cmpint(out[i], <, 0);
	}
}

static void test_limiter_releases(void)
{
	int32_t loud[N], quiet[N];
	int16_t out[N];
	for (int i = 0; i < N; i++) {
		loud[i] = (i % 2) ? 100000 : -100000;
		quiet[i] = 1000;
	}
	sb_limiter lim;
	sb_limiter_init(&lim, 48000);
	sb_limiter_process(&lim, loud, out, N);
	/* Right after the burst the gain is still reduced... */
	sb_limiter_process(&lim, quiet, out, N);
	g_assert_cmpint(out[0], <, 1000);
	/* ...and recovers to unity within a few hundred ms. */
	for (int k = 0; k < 40; k++)
		sb_limiter_process(&lim, quiet, out, N);
	g_assert_cmpint(out[N - 1], ==, 1000);
}

static void test_level(void)
{
	int16_t s[N] = {0};
	g_assert_cmpint(sb_level_dbov(s, N), ==, 127);
	fill_sine(s, N, 1000, 32767, 48000);
	/* A full-scale sine has RMS 1/sqrt(2): 3 dBov. */
	g_assert_cmpint(sb_level_dbov(s, N), ==, 3);
	fill_sine(s, N, 1000, 327.67, 48000);
	g_assert_cmpint(sb_level_dbov(s, N), ==, 43);
	g_assert_cmpint(sb_level_dbov(s, 0), ==, 127);
}

static int count_jobs_for(const int *job_of, int n, int job)
{
	int c = 0;
	for (int i = 0; i < n; i++)
		c += job_of[i] == job;
	return c;
}

static void test_plan_encode_once(void)
{
	/* 20 listeners on Opus, two of them talking: the full mix once for the
	 * 18 others, and one mix-minus for each talker — 3 encodes, not 20. */
	sb_mix_member m[20];
	sb_mix_job jobs[20 + 4];
	int job_of[20];
	for (int i = 0; i < 20; i++)
		m[i] = (sb_mix_member){.codec = 0, .contributing = i == 3 || i == 11, .listening = true};
	int n = sb_mix_plan(m, 20, jobs, job_of);
	g_assert_cmpint(n, ==, 3);
	int full = job_of[0];
	g_assert_cmpint(jobs[full].minus, ==, -1);
	g_assert_false(jobs[full].silent);
	g_assert_cmpint(count_jobs_for(job_of, 20, full), ==, 18);
	g_assert_cmpint(jobs[job_of[3]].minus, ==, 3);
	g_assert_cmpint(jobs[job_of[11]].minus, ==, 11);
	g_assert_cmpint(count_jobs_for(job_of, 20, job_of[3]), ==, 1);
	/* Each talker hears only the other one: forwardable without encoding.
	 * The others hear two voices: that one is encoded. */
	g_assert_cmpint(jobs[job_of[3]].source, ==, 11);
	g_assert_cmpint(jobs[job_of[11]].source, ==, 3);
	g_assert_cmpint(jobs[full].source, ==, -1);
}

static void test_plan_codecs(void)
{
	/* Non-talkers on two codecs: the full mix is encoded once per codec. */
	sb_mix_member m[5] = {
	        {.codec = 0, .contributing = true, .listening = true},
	        {.codec = 0, .contributing = false, .listening = true},
	        {.codec = 1, .contributing = false, .listening = true},
	        {.codec = 1, .contributing = false, .listening = true},
	        {.codec = 2, .contributing = false, .listening = false},
	};
	sb_mix_job jobs[9];
	int job_of[5];
	int n = sb_mix_plan(m, 5, jobs, job_of);
	g_assert_cmpint(n, ==, 3);
	g_assert_cmpint(job_of[4], ==, -1);
	g_assert_cmpint(job_of[2], ==, job_of[3]);
	g_assert_cmpint(jobs[job_of[2]].codec, ==, 1);
	g_assert_cmpint(jobs[job_of[1]].codec, ==, 0);
	g_assert_cmpint(jobs[job_of[1]].minus, ==, -1);
	/* The only talker hears nothing: the pre-encoded silence, no encode. */
	g_assert_true(jobs[job_of[0]].silent);
	/* Everyone else hears that one voice alone. */
	g_assert_cmpint(jobs[job_of[1]].source, ==, 0);
	g_assert_cmpint(jobs[job_of[2]].source, ==, 0);
}

static void test_plan_silence(void)
{
	sb_mix_member m[3];
	sb_mix_job jobs[7];
	int job_of[3];
	for (int i = 0; i < 3; i++)
		m[i] = (sb_mix_member){.codec = 0, .contributing = false, .listening = true};
	int n = sb_mix_plan(m, 3, jobs, job_of);
	g_assert_cmpint(n, ==, 1);
	g_assert_true(jobs[0].silent);
	g_assert_cmpint(count_jobs_for(job_of, 3, 0), ==, 3);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mix/minus-exact", test_mix_minus_exact);
	g_test_add_func("/mix/limiter-never-wraps", test_limiter_never_wraps);
	g_test_add_func("/mix/limiter-releases", test_limiter_releases);
	g_test_add_func("/mix/level-dbov", test_level);
	g_test_add_func("/mix/plan-encode-once", test_plan_encode_once);
	g_test_add_func("/mix/plan-per-codec", test_plan_codecs);
	g_test_add_func("/mix/plan-silence", test_plan_silence);
	return g_test_run();
}
