/* Noise suppression and automatic gain of an inbound leg (media/denoise.c):
 * noise alone is pushed down, a voice in it kept, a quiet voice raised
 * within the bounds; bad arguments give no state. */
#include <glib.h>
#include <math.h>

#include "media/media.h"

#define RATE 16000
#define FRAME 320

/* A voice-like tone: 180 Hz and two harmonics, with a slow wobble. */
static void voice(int16_t *out, int frame_index, double amplitude)
{
	for (int i = 0; i < FRAME; i++) {
		double t = (double)(frame_index * FRAME + i) / RATE;
		double phase = 2 * G_PI * (180 * t - 20.0 / (2 * G_PI * 2) * cos(2 * G_PI * 2 * t));
		out[i] = (int16_t)(amplitude *
		                   (sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase)) /
		                   1.75);
	}
}

static void noise(int16_t *out, GRand *r, double amplitude)
{
	for (int i = 0; i < FRAME; i++)
		out[i] = (int16_t)(amplitude * (g_rand_double(r) * 2 - 1));
}

static double energy(const int16_t *pcm)
{
	double sum = 0;
	for (int i = 0; i < FRAME; i++)
		sum += (double)pcm[i] * pcm[i];
	return sum;
}

static double db(double ratio)
{
	return 10 * log10(ratio);
}

static void test_noise_is_pushed_down(void)
{
	sb_denoise_config cfg = {.suppress = true, .suppress_db = 20};
	sb_denoise *d = sb_denoise_new(RATE, FRAME, &cfg);
	g_assert_nonnull(d);
	GRand *r = g_rand_new_with_seed(5);
	int16_t f[FRAME];
	double in = 0, out = 0;
	for (int k = 0; k < 250; k++) { /* 5 s of hiss at about -35 dBFS */
		noise(f, r, 1000);
		double before = energy(f);
		sb_denoise_process(d, f);
		if (k >= 100) { /* after it learnt the noise */
			in += before;
			out += energy(f);
		}
	}
	g_test_message("noise alone: %.1f dB", db(out / in));
	g_assert_cmpfloat(db(out / in), <, -10.0);
	/* A voice 10 dB over that noise keeps most of its energy. */
	double voice_in = 0, voice_out = 0;
	for (int k = 0; k < 100; k++) {
		int16_t v[FRAME];
		voice(v, k, 6000);
		noise(f, r, 1000);
		for (int i = 0; i < FRAME; i++)
			f[i] = (int16_t)CLAMP(f[i] + v[i], -32767, 32767);
		voice_in += energy(v);
		sb_denoise_process(d, f);
		if (k >= 25)
			voice_out += energy(f);
		else
			voice_in -= energy(v);
	}
	g_test_message("voice in the noise: %.1f dB", db(voice_out / voice_in));
	g_assert_cmpfloat(fabs(db(voice_out / voice_in)), <, 3.0);
	g_rand_free(r);
	sb_denoise_free(d);
}

static void test_quiet_voice_is_raised(void)
{
	sb_denoise_config cfg = {.agc = true, .agc_level_dbfs = -20, .agc_max_gain_db = 15};
	sb_denoise *d = sb_denoise_new(RATE, FRAME, &cfg);
	g_assert_nonnull(d);
	int16_t f[FRAME];
	double in = 0, out = 0;
	for (int k = 0; k < 400; k++) { /* 8 s of a voice at about -40 dBFS */
		voice(f, k, 400);
		double before = energy(f);
		sb_denoise_process(d, f);
		if (k >= 300) {
			in += before;
			out += energy(f);
		}
	}
	double gain = db(out / in);
	g_test_message("quiet voice: +%.1f dB", gain);
	g_assert_cmpfloat(gain, >, 6.0);
	g_assert_cmpfloat(gain, <, 15.5); /* bounded by agc_max_gain_db */
	sb_denoise_free(d);
}

static void test_bad_arguments(void)
{
	sb_denoise_config none = {0}, on = {.suppress = true};
	g_assert_null(sb_denoise_new(RATE, FRAME, NULL));
	g_assert_null(sb_denoise_new(RATE, FRAME, &none)); /* nothing asked for */
	g_assert_null(sb_denoise_new(4000, 80, &on));
	g_assert_null(sb_denoise_new(RATE, 100, &on)); /* not a 20 ms frame */
	for (int rate = 8000; rate <= 48000; rate *= 2) {
		if (rate == 32000)
			continue;
		sb_denoise *d = sb_denoise_new(rate, rate / 50, &on);
		g_assert_nonnull(d);
		sb_denoise_free(d);
	}
	sb_denoise *d = sb_denoise_new(48000, 960, &on);
	g_assert_nonnull(d);
	sb_denoise_free(d);
	sb_denoise_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/denoise/noise-is-pushed-down", test_noise_is_pushed_down);
	g_test_add_func("/denoise/quiet-voice-is-raised", test_quiet_voice_is_raised);
	g_test_add_func("/denoise/bad-arguments", test_bad_arguments);
	return g_test_run();
}
