/* Echo cancellation of one leg: a far end played into an echo path
 * (a delay and a loss, as a speakerphone and the network make it) comes
 * back cancelled, at every rate a room mixes at; the near end's own voice
 * comes through; a leg that heard nothing is left alone. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "media/media.h"

#define MAX_SECONDS 8

/* Speech-like: noise through a resonance, in 150 ms syllables with gaps,
 * different for each seed. */
static void voice(int16_t *out, int samples, int rate, guint32 seed, double amplitude)
{
	GRand *r = g_rand_new_with_seed(seed);
	double y1 = 0, y2 = 0;
	double f0 = 500 + g_rand_double(r) * 700;
	double pole = 0.97, w = 2 * M_PI * f0 / rate;
	for (int i = 0; i < samples; i++) {
		double x = g_rand_double(r) * 2 - 1;
		double y = x + 2 * pole * cos(w) * y1 - pole * pole * y2;
		y2 = y1;
		y1 = y;
		double t = (double)i / rate;
		double envelope = fmod(t, 0.2) < 0.15 ? sin(M_PI * fmod(t, 0.2) / 0.15) : 0.0;
		out[i] = (int16_t)CLAMP(amplitude * 0.05 * y * envelope, -32767, 32767);
	}
	g_rand_free(r);
}

static double energy(const int16_t *pcm, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += (double)pcm[i] * pcm[i];
	return sum;
}

/* Echo return loss enhancement (dB) over the last two seconds of `seconds`
 * of far-end talk, the near end silent. */
static double erle(int rate, int delay_ms, double gain_db, int seconds)
{
	const int n = rate / 50, total = rate * seconds, delay = rate * delay_ms / 1000;
	int16_t *far = g_new0(int16_t, total);
	int16_t *near = g_new0(int16_t, total);
	voice(far, total, rate, 7, 12000);
	double gain = pow(10, gain_db / 20);
	for (int i = delay; i < total; i++)
		near[i] = (int16_t)(far[i - delay] * gain);
	sb_echo *e = sb_echo_new(rate, 400);
	g_assert_nonnull(e);
	double in = 0, out = 0;
	for (int f = 0; f + n <= total; f += n) {
		int16_t frame[SB_MAX_FRAME_SAMPLES];
		memcpy(frame, near + f, sizeof(int16_t) * n);
		/* The mixer gives what it sent the frame before. */
		const int16_t *sent = f >= n ? far + f - n : NULL;
		double before = energy(frame, n);
		bool changed = sb_echo_process(e, frame, sent, n);
		g_assert_true(changed || !sent);
		if (f >= total - 2 * rate) {
			in += before;
			out += energy(frame, n);
		}
	}
	sb_echo_stats stats;
	sb_echo_get_stats(e, &stats);
	g_assert_cmpuint(stats.frames, >, (guint64)(total / n) - 3);
	sb_echo_free(e);
	g_free(far);
	g_free(near);
	return 10 * log10(in / (out + 1));
}

static void test_cancels(void)
{
	static const int rates[] = {8000, 16000, 48000};
	static const int delays[] = {60, 150, 250, 300};
	static const double gains[] = {-6, -20};
	for (unsigned r = 0; r < G_N_ELEMENTS(rates); r++)
		for (unsigned d = 0; d < G_N_ELEMENTS(delays); d++)
			for (unsigned g = 0; g < G_N_ELEMENTS(gains); g++) {
				double db = erle(rates[r], delays[d], gains[g], 6);
				if (g_test_verbose())
					g_printerr(
					        "rate %d delay %d ms gain %.0f dB: ERLE %.1f dB\n",
					        rates[r], delays[d], gains[g], db);
				g_assert_cmpfloat(db, >=, 20.0);
			}
}

/* The caller talks over the far end: what comes out is their voice, not
 * the echo's remains. */
static void test_double_talk(void)
{
	const int rate = 16000, n = 320, total = rate * MAX_SECONDS, delay = rate * 120 / 1000;
	int16_t *far = g_new0(int16_t, total), *talk = g_new0(int16_t, total);
	int16_t *near = g_new0(int16_t, total);
	voice(far, total, rate, 7, 12000);
	voice(talk, total, rate, 99, 12000);
	const int talk_from = rate * 5; /* the filter has converged by then */
	for (int i = 0; i < total; i++)
		near[i] = (int16_t)((i >= delay ? far[i - delay] / 2 : 0) +
		                    (i >= talk_from ? talk[i] : 0));
	sb_echo *e = sb_echo_new(rate, 400);
	double talk_energy = 0, out_energy = 0;
	for (int f = 0; f + n <= total; f += n) {
		int16_t frame[320];
		memcpy(frame, near + f, sizeof(frame));
		sb_echo_process(e, frame, f >= n ? far + f - n : NULL, n);
		if (f >= talk_from) {
			talk_energy += energy(talk + f, n);
			out_energy += energy(frame, n);
		}
	}
	double db = 10 * log10(out_energy / talk_energy);
	if (g_test_verbose())
		g_printerr("double talk: out/near-end voice %.1f dB\n", db);
	/* Suppression dips during double talk, but the voice is there. */
	g_assert_cmpfloat(db, >, -6.0);
	g_assert_cmpfloat(db, <, 3.0);
	sb_echo_free(e);
	g_free(far);
	g_free(talk);
	g_free(near);
}

/* Nothing was sent to the leg: at the room's own inner rate its audio is
 * left exactly as it was; the filter rests again once the far end has been
 * quiet longer than the tail. */
static void test_rest(void)
{
	const int rate = 16000, n = 320;
	sb_echo *e = sb_echo_new(rate, 200);
	int16_t frame[320], copy[320], far[320];
	voice(frame, n, rate, 3, 8000);
	memcpy(copy, frame, sizeof(frame));
	g_assert_false(sb_echo_process(e, frame, NULL, n));
	g_assert_cmpmem(frame, sizeof(frame), copy, sizeof(copy));
	voice(far, n, rate, 4, 8000);
	g_assert_true(sb_echo_process(e, frame, far, n));
	memset(far, 0, sizeof(far));
	int live = 0;
	for (int i = 0; i < 50; i++) {
		voice(frame, n, rate, 5 + i, 8000);
		live += sb_echo_process(e, frame, far, n);
	}
	g_assert_cmpint(live, ==, 10); /* 200 ms of tail */
	sb_echo_free(e);
}

/* A leg with no echo path (a headset, a phone whose own canceller sends
 * digital silence back): once the far end has been heard not coming back,
 * a caller talking under it, quieter than the agent, is not taken for its
 * echo.  src_silence: the leg's silence is digital zeros (else -60 dBFS
 * line noise). */
static double no_echo_talk_db(bool digital_silence)
{
	const int rate = 16000, n = 320, total = rate * 6;
	int16_t *far = g_new0(int16_t, total), *talk = g_new0(int16_t, total);
	int16_t *near = g_new0(int16_t, total);
	voice(far, total, rate, 7, 12000);
	voice(talk, total, rate, 99, 12000 / 3.16); /* 10 dB under the far end */
	const int talk_from = rate * 2;
	GRand *r = g_rand_new_with_seed(11);
	for (int i = 0; i < total; i++)
		near[i] = (int16_t)((i >= talk_from ? talk[i] : 0) +
		                    (digital_silence ? 0 : g_rand_int_range(r, -33, 34)));
	g_rand_free(r);
	sb_echo *e = sb_echo_new(rate, 400);
	double talk_energy = 0, out_energy = 0;
	for (int f = 0; f + n <= total; f += n) {
		int16_t frame[320];
		memcpy(frame, near + f, sizeof(frame));
		sb_echo_process(e, frame, f >= n ? far + f - n : NULL, n);
		if (f >= talk_from) {
			talk_energy += energy(talk + f, n);
			out_energy += energy(frame, n);
		}
	}
	sb_echo_free(e);
	g_free(far);
	g_free(talk);
	g_free(near);
	return 10 * log10(out_energy / talk_energy);
}

static void test_no_echo_path(void)
{
	double digital = no_echo_talk_db(true), noisy = no_echo_talk_db(false);
	if (g_test_verbose())
		g_printerr("no echo path: voice 10 dB under the far end comes out at %.1f dB "
		           "(digital silence), %.1f dB (line noise)\n",
		           digital, noisy);
	g_assert_cmpfloat(digital, >, -6.0);
	g_assert_cmpfloat(noisy, >, -6.0);
}

static void test_bad_arguments(void)
{
	g_assert_null(sb_echo_new(44100, 400));
	g_assert_null(sb_echo_new(16000, 50));
	g_assert_null(sb_echo_new(16000, 5000));
	g_assert_null(sb_echo_new(4000, 400));
	sb_echo *e = sb_echo_new(16000, 400);
	int16_t frame[960] = {0};
	g_assert_false(sb_echo_process(e, frame, NULL, 960)); /* not a 20 ms frame */
	sb_echo_free(e);
	sb_echo_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/echo/cancels", test_cancels);
	g_test_add_func("/echo/double_talk", test_double_talk);
	g_test_add_func("/echo/rest", test_rest);
	g_test_add_func("/echo/no_echo_path", test_no_echo_path);
	g_test_add_func("/echo/bad_arguments", test_bad_arguments);
	return g_test_run();
}
