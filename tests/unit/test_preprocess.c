/* Noise suppression and AGC on an inbound leg (speexdsp's preprocessor):
 * steady noise comes out quieter, a voice over it keeps its level, a quiet
 * talker is brought up; off, there is no state and nothing changes; bad
 * options are refused.  And what a frame costs, at 16 and 48 kHz. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "media/media.h"

/* A voice-like vowel (140-180 Hz, three harmonics) at `amplitude`. */
static void vowel(int16_t *out, int n, int rate, long start, double amplitude)
{
	for (int i = 0; i < n; i++) {
		double t = (double)(start + i) / rate;
		double phase = 2 * M_PI * 160 * t - (20.0 / 3.0) * cos(2 * M_PI * 3 * t);
		double v = (sin(phase) + 0.5 * sin(2 * phase) + 0.3 * sin(3 * phase)) / 1.8;
		out[i] = (int16_t)(amplitude * v);
	}
}

static void add_noise(int16_t *out, int n, GRand *r, double amplitude)
{
	for (int i = 0; i < n; i++)
		out[i] = (int16_t)CLAMP(out[i] + amplitude * g_rand_double_range(r, -1.0, 1.0),
		                        -32768.0, 32767.0);
}

static void test_off_and_bad_options(void)
{
	sb_preprocess_options off = SB_PREPROCESS_DEFAULTS;
	g_assert_null(sb_preprocess_new(16000, &off));
	g_assert_null(sb_preprocess_new(16000, NULL));
	int16_t frame[320] = {1, 2, 3};
	g_assert_cmpint(sb_preprocess_run(NULL, frame, 320), ==, -1);
	g_assert_cmpint(frame[2], ==, 3);

	const char *why = NULL;
	sb_preprocess_options bad = SB_PREPROCESS_DEFAULTS;
	bad.noise_suppression = true;
	bad.noise_suppression_db = 10; /* a gain, not an attenuation */
	g_assert_false(sb_preprocess_options_valid(&bad, &why));
	g_assert_nonnull(strstr(why, "noise_suppression_db"));
	g_assert_null(sb_preprocess_new(16000, &bad));
	bad = (sb_preprocess_options)SB_PREPROCESS_DEFAULTS;
	bad.agc = true;
	bad.agc_level_dbfs = 0;
	g_assert_false(sb_preprocess_options_valid(&bad, &why));
	g_assert_nonnull(strstr(why, "agc_level_dbfs"));
	bad.agc_level_dbfs = -20;
	g_assert_null(sb_preprocess_new(44100, &bad)); /* not a room's rate */

	/* A frame that is not 20 ms is left as it is. */
	sb_preprocess *p = sb_preprocess_new(16000, &bad);
	g_assert_nonnull(p);
	g_assert_cmpint(sb_preprocess_run(p, frame, 160), ==, -1);
	g_assert_cmpint(frame[2], ==, 3);
	sb_preprocess_free(p);
}

static void test_noise_suppression(gconstpointer data)
{
	const int rate = GPOINTER_TO_INT(data), n = rate / 50;
	sb_preprocess_options o = SB_PREPROCESS_DEFAULTS;
	o.noise_suppression = true;
	sb_preprocess *p = sb_preprocess_new(rate, &o);
	g_assert_nonnull(p);
	GRand *r = g_rand_new_with_seed(3);
	int16_t f[960];
	double in_db = 0, out_db = 0;
	/* 3 s of hiss at -30 dBFS: the last second, after it has learnt it. */
	for (int k = 0; k < 150; k++) {
		memset(f, 0, sizeof f);
		add_noise(f, n, r, 1800);
		float before = sb_frame_dbfs(f, n);
		sb_preprocess_run(p, f, n);
		if (k >= 100) {
			in_db += before / 50.0;
			out_db += sb_frame_dbfs(f, n) / 50.0;
		}
	}
	g_test_message("%d Hz: hiss %.1f dBFS in, %.1f dBFS out", rate, in_db, out_db);
	g_assert_cmpfloat(out_db, <, in_db - 10.0);
	/* A voice 10 dB above it keeps its level (within 3 dB). */
	double voice_in = 0, voice_out = 0;
	for (int k = 0; k < 50; k++) {
		vowel(f, n, rate, (long)k * n, 5700 * 1.8 / 1.2);
		int16_t clean[960];
		memcpy(clean, f, sizeof(int16_t) * (size_t)n);
		add_noise(f, n, r, 1800);
		sb_preprocess_run(p, f, n);
		if (k >= 10) {
			voice_in += sb_frame_dbfs(clean, n) / 40.0;
			voice_out += sb_frame_dbfs(f, n) / 40.0;
		}
	}
	g_test_message("%d Hz: voice %.1f dBFS clean, %.1f dBFS out of the suppressor", rate,
	               voice_in, voice_out);
	g_assert_cmpfloat(fabs(voice_out - voice_in), <, 3.0);
	g_rand_free(r);
	sb_preprocess_free(p);
}

static void test_agc(void)
{
	const int rate = 16000, n = 320;
	sb_preprocess_options o = SB_PREPROCESS_DEFAULTS;
	o.agc = true;
	sb_preprocess *p = sb_preprocess_new(rate, &o);
	g_assert_nonnull(p);
	int16_t f[320];
	double out = 0;
	float in = 0;
	for (int k = 0; k < 250; k++) { /* 5 s of a quiet talker, -42 dBFS */
		vowel(f, n, rate, (long)k * n, 260);
		in = sb_frame_dbfs(f, n);
		sb_preprocess_run(p, f, n);
		if (k >= 200)
			out += sb_frame_dbfs(f, n) / 50.0;
	}
	g_test_message("AGC: a talker at %.1f dBFS comes out at %.1f dBFS", in, out);
	g_assert_cmpfloat(out, >, in + 6.0);
	sb_preprocess_free(p);
}

/* What it costs per 20 ms frame, both on: the mixer runs it per leg. */
static void test_cost(void)
{
	static const int rates[] = {16000, 48000};
	for (size_t i = 0; i < G_N_ELEMENTS(rates); i++) {
		int rate = rates[i], n = rate / 50;
		sb_preprocess_options o = SB_PREPROCESS_DEFAULTS;
		o.noise_suppression = o.agc = true;
		sb_preprocess *p = sb_preprocess_new(rate, &o);
		GRand *r = g_rand_new_with_seed(5);
		int16_t f[960];
		const int frames = 500;
		gint64 spent = 0;
		for (int k = 0; k < frames; k++) {
			vowel(f, n, rate, (long)k * n, 3000);
			add_noise(f, n, r, 1000);
			gint64 t0 = g_get_monotonic_time();
			sb_preprocess_run(p, f, n);
			spent += g_get_monotonic_time() - t0;
		}
		double us = (double)spent / frames;
		g_test_message("%d Hz: %.1f us per 20 ms frame (%.2f %% of one core per leg)", rate,
		               us, us / 200.0);
		/* Generous for a loaded 2-core machine under sanitizers. */
		g_assert_cmpfloat(us, <, 5000.0);
		g_rand_free(r);
		sb_preprocess_free(p);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/preprocess/off-and-bad-options", test_off_and_bad_options);
	g_test_add_data_func("/preprocess/noise-suppression/16000", GINT_TO_POINTER(16000),
	                     test_noise_suppression);
	g_test_add_data_func("/preprocess/noise-suppression/48000", GINT_TO_POINTER(48000),
	                     test_noise_suppression);
	g_test_add_func("/preprocess/agc", test_agc);
	g_test_add_func("/preprocess/cost", test_cost);
	return g_test_run();
}
