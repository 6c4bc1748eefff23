/* The agent's VAD: speech-like bursts start and end turns; steady noise,
 * clicks and short coughs do not; its own echo does not either. */
#include <glib.h>
#include <math.h>

#include "media/media.h"

#define RATE 16000
#define FRAME 320

/* "Syllables": 1 kHz-ish bursts with a pitch wobble, 160 ms on, 40 ms off. */
static void speechish(int16_t *out, int frame_index, double amplitude)
{
	for (int i = 0; i < FRAME; i++) {
		int n = frame_index * FRAME + i;
		double t = (double)n / RATE;
		double on = fmod(t, 0.2) < 0.16 ? 1.0 : 0.05;
		out[i] = (int16_t)(amplitude * on * sin(2 * M_PI * (220 + 30 * sin(2 * M_PI * 3 * t)) * t));
	}
}

static void noise(int16_t *out, GRand *r, double amplitude)
{
	for (int i = 0; i < FRAME; i++)
		out[i] = (int16_t)(amplitude * (g_rand_double(r) * 2 - 1));
}

static void silence(int16_t *out)
{
	for (int i = 0; i < FRAME; i++)
		out[i] = 0;
}

static void test_turn(void)
{
	sb_vad vad;
	sb_vad_init(&vad, NULL);
	int16_t f[FRAME];
	int frame = 0, start_at = -1, end_at = -1;
	for (int k = 0; k < 25; k++, frame++) { /* 0.5 s of quiet room */
		silence(f);
		g_assert_cmpint(sb_vad_process(&vad, f, FRAME, -INFINITY), ==, SB_VAD_SILENCE);
	}
	for (int k = 0; k < 75; k++, frame++) { /* 1.5 s of talk */
		speechish(f, frame, 8000);
		sb_vad_event e = sb_vad_process(&vad, f, FRAME, -INFINITY);
		if (e == SB_VAD_SPEECH_START)
			start_at = k;
		g_assert_cmpint(e, !=, SB_VAD_SPEECH_END); /* gaps between syllables are not the end */
	}
	for (int k = 0; k < 50; k++, frame++) {
		silence(f);
		if (sb_vad_process(&vad, f, FRAME, -INFINITY) == SB_VAD_SPEECH_END)
			end_at = k;
	}
	/* Onset: 100 ms = the 5th voiced frame. End: 300 ms of quiet. */
	g_assert_cmpint(start_at, ==, 4);
	g_assert_cmpint(end_at, ==, 14);
}

static void test_steady_noise_is_not_speech(void)
{
	sb_vad vad;
	sb_vad_init(&vad, NULL);
	GRand *r = g_rand_new_with_seed(7);
	int16_t f[FRAME];
	for (int k = 0; k < 500; k++) { /* 10 s of fan noise at about -30 dBFS */
		noise(f, r, 1800);
		g_assert_cmpint(sb_vad_process(&vad, f, FRAME, -INFINITY), ==, SB_VAD_SILENCE);
	}
	/* Speech over that noise still counts. */
	bool started = false;
	for (int k = 0; k < 30; k++) {
		speechish(f, k, 16000);
		for (int i = 0; i < FRAME; i++)
			f[i] = (int16_t)(f[i] / 2 + (int)(900 * (g_rand_double(r) * 2 - 1)));
		started |= sb_vad_process(&vad, f, FRAME, -INFINITY) == SB_VAD_SPEECH_START;
	}
	g_assert_true(started);
	g_rand_free(r);
}

static void test_clicks_and_coughs(void)
{
	sb_vad vad;
	sb_vad_init(&vad, NULL);
	int16_t f[FRAME];
	for (int round = 0; round < 20; round++) {
		int burst = round % 2 ? 2 : 4; /* 40 ms click, 80 ms cough */
		for (int k = 0; k < burst; k++) {
			speechish(f, k, 20000);
			g_assert_cmpint(sb_vad_process(&vad, f, FRAME, -INFINITY), ==, SB_VAD_SILENCE);
		}
		for (int k = 0; k < 10; k++) {
			silence(f);
			g_assert_cmpint(sb_vad_process(&vad, f, FRAME, -INFINITY), ==, SB_VAD_SILENCE);
		}
	}
}

static void test_echo_floor(void)
{
	/* While the agent talks at -20 dBFS, its echo coming back at -30 dBFS
	 * must not count; a caller talking over it louder does. */
	sb_vad vad;
	sb_vad_init(&vad, NULL);
	int16_t f[FRAME];
	for (int k = 0; k < 50; k++) {
		speechish(f, k, 1000); /* about -30 dBFS */
		g_assert_cmpint(sb_vad_process(&vad, f, FRAME, -26.0f), ==, SB_VAD_SILENCE);
	}
	bool started = false;
	for (int k = 0; k < 20; k++) {
		speechish(f, k, 12000);
		started |= sb_vad_process(&vad, f, FRAME, -26.0f) == SB_VAD_SPEECH_START;
	}
	g_assert_true(started);
}

static void test_levels(void)
{
	int16_t f[FRAME];
	silence(f);
	g_assert_cmpfloat(sb_frame_dbfs(f, FRAME), ==, -100.0f);
	for (int i = 0; i < FRAME; i++)
		f[i] = (int16_t)(32767 * sin(2 * M_PI * 1000 * i / RATE));
	g_assert_cmpfloat(fabsf(sb_frame_dbfs(f, FRAME) - (-3.01f)), <, 0.1f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vad/turn", test_turn);
	g_test_add_func("/vad/steady-noise", test_steady_noise_is_not_speech);
	g_test_add_func("/vad/clicks-and-coughs", test_clicks_and_coughs);
	g_test_add_func("/vad/echo-floor", test_echo_floor);
	g_test_add_func("/vad/levels", test_levels);
	return g_test_run();
}
