/* The agent's VAD: speech-like bursts start and end turns; steady noise,
 * clicks and short coughs do not; its own echo does not either. */
#include <glib.h>
#include <math.h>

#include "media/media.h"

#define RATE 16000
#define FRAME 320

/* "Syllables": a voice at 220 Hz with a 3 Hz wobble of 30 Hz (the phase
 * is the integral of that pitch) and two harmonics, 160 ms on, 40 ms off. */
static double voice_at(double t, double f0, double wobble_hz)
{
	double phase =
	        2 * M_PI * (f0 * t - 30.0 / (2 * M_PI * wobble_hz) * cos(2 * M_PI * wobble_hz * t));
	return (sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase)) / 1.75;
}

static void speechish(int16_t *out, int frame_index, double amplitude)
{
	for (int i = 0; i < FRAME; i++) {
		int n = frame_index * FRAME + i;
		double t = (double)n / RATE;
		double on = fmod(t, 0.2) < 0.16 ? 1.0 : 0.05;
		out[i] = (int16_t)(amplitude * on * voice_at(t, 220, 3));
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
	/* Onset: 100 ms of voice holding one pitch, so at the 5th voiced frame
	 * at the earliest.  Here the talk begins 60 ms before a syllable ends;
	 * the syllable's edge (frame 3, half voice, half quiet) breaks the
	 * pitch, and frames 4-8 (the soft gap, then the next syllable) confirm
	 * it.  End: 300 ms of quiet. */
	g_assert_cmpint(start_at, ==, 8);
	g_assert_cmpint(end_at, ==, 14);
}

/* A vowel of 100 ms out of quiet (a low voice: 100 Hz, a 10 ms period),
 * swelling and fading, starting `offset` samples into a frame. */
static void vowel(int16_t *out, int frame_index, int offset)
{
	for (int i = 0; i < FRAME; i++) {
		double t = (double)(frame_index * FRAME + i - offset) / RATE;
		double phase = 2 * M_PI * 100 * t;
		double envelope = t < 0 || t >= 0.1 ? 0.0 : sqrt(sin(M_PI * t / 0.1));
		out[i] = (int16_t)(8000 * envelope *
		                   (sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase)) /
		                   1.75);
	}
}

/* It opens a turn at the same frame wherever the frames fall on it: the
 * frame it begins in counts, though its pitch can hardly show there (its
 * first period has none before it to match).  Without that, this vowel
 * opened a frame later when it began 9 ms or more into a frame, and an
 * espeak-ng "okay" whose "o" began 2-6 ms in (as the echo canceller's
 * resampling at 48 kHz makes it) opened only at its "ay", 200 ms later
 * (tests/unit/test_echo_onset). */
static void test_onset_anywhere_in_a_frame(void)
{
	for (int offset_ms = 0; offset_ms < 20; offset_ms++) {
		sb_vad vad;
		sb_vad_init(&vad, NULL);
		int16_t f[FRAME];
		int started = -1;
		for (int k = 0; k < 40; k++) {
			if (k < 25)
				silence(f);
			else
				vowel(f, k - 25, offset_ms * RATE / 1000);
			if (sb_vad_process(&vad, f, FRAME, -INFINITY) == SB_VAD_SPEECH_START)
				started = k - 25;
		}
		if (g_test_verbose())
			g_printerr("vowel %d ms into a frame: onset at frame %d\n", offset_ms,
			           started);
		g_assert_cmpint(started, ==, 4);
	}
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

/* Traffic: brown noise (leaky integrated white noise, most of its energy
 * low) swelling and fading as cars pass, 0.3 Hz. */
static void street(int16_t *out, int frame_index, GRand *r, double *state, double amplitude)
{
	for (int i = 0; i < FRAME; i++) {
		double t = (double)(frame_index * FRAME + i) / RATE;
		*state = 0.995 * *state + (g_rand_double(r) * 2 - 1);
		double swell = 0.55 + 0.45 * sin(2 * M_PI * 0.3 * t);
		out[i] = (int16_t)CLAMP(amplitude * swell * *state / 14.0, -32767, 32767);
	}
}

/* Café babble: six voices (100-240 Hz, each with its own wobble), each
 * talking in syllables of its own length most of the time, summed. */
static double babble_at(double t)
{
	static const double f0[6] = {104, 131, 158, 187, 213, 239};
	static const double syllable[6] = {0.17, 0.21, 0.13, 0.19, 0.23, 0.15};
	double sum = 0;
	for (int v = 0; v < 6; v++) {
		double on = fmod(t + 0.037 * v, syllable[v]) < syllable[v] * 0.75 ? 1.0 : 0.0;
		sum += on * voice_at(t + 0.11 * v, f0[v], 2.0 + 0.7 * v);
	}
	return sum / 6;
}

static void babble(int16_t *out, int frame_index, double amplitude)
{
	for (int i = 0; i < FRAME; i++)
		out[i] = (int16_t)(amplitude * babble_at((double)(frame_index * FRAME + i) / RATE));
}

/* Feeds `frames` frames of a noise to a VAD with the pitch gate and to one
 * without it; returns the turns each started. */
typedef void (*noise_fn)(int16_t *out, int frame_index, void *ctx);

static void turns_in(noise_fn fn, void *ctx, int frames, int *with_pitch, int *energy_alone)
{
	sb_vad pitched, energy;
	sb_vad_config energy_only = {.frame_ms = 20,
	                             .onset_ms = 100,
	                             .hangover_ms = 300,
	                             .margin_db = 12.0f,
	                             .min_level_db = -50.0f,
	                             .onset_voiced_ms = -1};
	sb_vad_init(&pitched, NULL);
	sb_vad_init(&energy, &energy_only);
	*with_pitch = *energy_alone = 0;
	int16_t f[FRAME];
	for (int k = 0; k < frames; k++) {
		fn(f, k, ctx);
		*with_pitch += sb_vad_process(&pitched, f, FRAME, -INFINITY) == SB_VAD_SPEECH_START;
		*energy_alone +=
		        sb_vad_process(&energy, f, FRAME, -INFINITY) == SB_VAD_SPEECH_START;
	}
}

typedef struct traffic {
	GRand *r;
	double state;
} traffic;

static void traffic_frame(int16_t *out, int frame_index, void *ctx)
{
	traffic *t = ctx;
	street(out, frame_index, t->r, &t->state, 3000);
}

/* The café gets louder and quieter as people come and go (0.2 Hz). */
static void cafe_frame(int16_t *out, int frame_index, void *ctx)
{
	(void)ctx;
	babble(out, frame_index, 6000);
	double swell = 0.55 + 0.45 * sin(2 * M_PI * 0.2 * frame_index * FRAME / RATE);
	for (int i = 0; i < FRAME; i++)
		out[i] = (int16_t)(out[i] * swell);
}

/* A caller 10 dB over the café (by RMS), from 4 s on. */
static void caller_in_cafe_frame(int16_t *out, int frame_index, void *ctx)
{
	(void)ctx;
	babble(out, frame_index, 6000);
	if (frame_index < 200)
		return;
	int16_t voice[FRAME];
	speechish(voice, frame_index, 6000 * 3.16 * 1.9); /* babble RMS is ~1/1.9 of one voice's */
	for (int i = 0; i < FRAME; i++)
		out[i] = (int16_t)CLAMP(out[i] + voice[i], -32767, 32767);
}

static void test_street_and_babble_are_not_speech(void)
{
	int pitched, energy;
	traffic t = {g_rand_new_with_seed(11), 0};
	turns_in(traffic_frame, &t, 1000, &pitched, &energy); /* 20 s */
	g_test_message("traffic: %d turns by energy alone, %d with the pitch", energy, pitched);
	g_assert_cmpint(energy, >, 0); /* loud enough to fool energy alone */
	g_assert_cmpint(pitched, ==, 0);
	g_rand_free(t.r);
	turns_in(cafe_frame, NULL, 1000, &pitched, &energy);
	g_test_message("cafe babble: %d turns by energy alone, %d with the pitch", energy, pitched);
	g_assert_cmpint(energy, >, 0);
	g_assert_cmpint(pitched, ==, 0);
	/* A caller in that café, 10 dB over it, is heard. */
	turns_in(caller_in_cafe_frame, NULL, 400, &pitched, &energy);
	g_assert_cmpint(pitched, >=, 1);
	/* The pitch of a voice and of noise. */
	float history[SB_VAD_PITCH_WINDOW / 2] = {0};
	int16_t f[FRAME];
	for (int k = 0; k < 3; k++)
		speechish(f, k, 8000);
	g_assert_cmpfloat(sb_frame_pitch(history, f, FRAME, RATE, NULL), >, 0.8f);
	GRand *r = g_rand_new_with_seed(3);
	for (int k = 0; k < 3; k++)
		noise(f, r, 8000);
	g_assert_cmpfloat(sb_frame_pitch(history, f, FRAME, RATE, NULL), <, 0.4f);
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
	g_test_add_func("/vad/onset-anywhere-in-a-frame", test_onset_anywhere_in_a_frame);
	g_test_add_func("/vad/steady-noise", test_steady_noise_is_not_speech);
	g_test_add_func("/vad/clicks-and-coughs", test_clicks_and_coughs);
	g_test_add_func("/vad/street-and-babble", test_street_and_babble_are_not_speech);
	g_test_add_func("/vad/echo-floor", test_echo_floor);
	g_test_add_func("/vad/levels", test_levels);
	return g_test_run();
}
