#include "media/media.h"

#include <math.h>
#include <string.h>

#include <glib.h>

/* Voicing is measured at 8 kHz: a pitch period (2.5–10 ms, 100–400 Hz)
 * spans 20–80 samples there, whatever the stream's rate. */
#define VOICING_RATE 8000
#define VOICING_MAX_SAMPLES (SB_VAD_MAX_FRAME_MS * VOICING_RATE / 1000)
#define PITCH_LAG_MIN (VOICING_RATE / 400)
#define PITCH_LAG_MAX (VOICING_RATE / 100)
/* One talker's frames correlate with themselves a period later far better
 * than noise does: over an onset, white and pink noise average ~0.25,
 * street rumble ~0.45, six voices at once (babble) ~0.5, a talker at 10 dB
 * SNR over any of them 0.7–0.8 (tests/unit/test_vad_noise.c). */
#define VOICING_MIN 0.6f
/* Right after digital silence (the floor knows nothing of the room). */
#define VOICING_MIN_UNKNOWN_ROOM (VOICING_MIN + 0.1f)
#define NO_SIGNAL_DB -90.0f
/* The background is known after this many frames of it (300 ms). */
#define BACKGROUND_MIN_FRAMES 15
/* Samples at 8 kHz: a hum's period stays this close to its median over an
 * onset; a voice's moves further (espeak-ng's flattest: ~0.8). */
#define MACHINE_PITCH_SPREAD 0.4f
/* Above the background's median level (babble, street) to count as loud. */
#define BACKGROUND_MARGIN_DB 6.0f

float sb_frame_dbfs(const int16_t *pcm, int samples)
{
	if (samples <= 0)
		return -100.0f;
	double sum = 0.0;
	for (int i = 0; i < samples; i++)
		sum += (double)pcm[i] * pcm[i];
	double rms = sqrt(sum / samples) / 32768.0;
	if (rms < 1e-5)
		return -100.0f;
	return (float)(20.0 * log10(rms));
}

/* The best normalised autocorrelation at a pitch lag, and that lag (in
 * samples at 8 kHz, refined between samples). */
static float voicing_and_period(const int16_t *pcm, int samples, int rate, float *period)
{
	*period = 0.0f;
	int step = rate / VOICING_RATE;
	if (step < 1 || rate % VOICING_RATE || samples <= 0)
		return 0.0f;
	int n = samples / step;
	if (n > VOICING_MAX_SAMPLES)
		n = VOICING_MAX_SAMPLES;
	if (n <= PITCH_LAG_MAX + PITCH_LAG_MIN)
		return 0.0f;
	/* Averaging `step` samples is the low-pass of the decimation; the
	 * first difference then tilts pink and brown noise towards white, so
	 * their low-frequency rumble does not pass for a pitch. */
	float x[VOICING_MAX_SAMPLES];
	float prev = 0.0f;
	for (int i = 0; i < n; i++) {
		float sum = 0.0f;
		for (int k = 0; k < step; k++)
			sum += pcm[i * step + k];
		float v = sum / (float)step;
		x[i] = v - 0.9f * prev;
		prev = v;
	}
	float r[PITCH_LAG_MAX + 2] = {0};
	int best = 0;
	for (int lag = PITCH_LAG_MIN; lag <= PITCH_LAG_MAX + 1 && lag < n; lag++) {
		double xy = 0.0, xx = 0.0, yy = 0.0;
		for (int i = 0; i + lag < n; i++) {
			xy += (double)x[i] * x[i + lag];
			xx += (double)x[i] * x[i];
			yy += (double)x[i + lag] * x[i + lag];
		}
		if (xx > 0.0 && yy > 0.0)
			r[lag] = (float)(xy / sqrt(xx * yy));
		if (lag <= PITCH_LAG_MAX && (!best || r[lag] > r[best]))
			best = lag;
	}
	/* A parabola through the peak and its neighbours. */
	float offset = 0.0f;
	if (best > PITCH_LAG_MIN && best < PITCH_LAG_MAX) {
		float den = r[best - 1] - 2.0f * r[best] + r[best + 1];
		if (den < 0.0f)
			offset = 0.5f * (r[best - 1] - r[best + 1]) / den;
	}
	*period = (float)best + offset;
	return r[best] > 0.0f ? r[best] : 0.0f;
}

float sb_frame_voicing(const int16_t *pcm, int samples, int rate)
{
	float period;
	return voicing_and_period(pcm, samples, rate, &period);
}

/* Insertion sort: SB_VAD_HISTORY values at most, mostly in order. */
static void sort_floats(float *v, int n)
{
	for (int i = 1; i < n; i++) {
		float x = v[i];
		int j = i - 1;
		for (; j >= 0 && v[j] > x; j--)
			v[j + 1] = v[j];
		v[j + 1] = x;
	}
}

/* The level of what is heard outside turns: the median of those frames. */
static float background_level(const sb_vad *vad)
{
	float sorted[SB_VAD_HISTORY];
	int n = vad->background_len;
	memcpy(sorted, vad->background, sizeof(float) * (size_t)n);
	sort_floats(sorted, n);
	return n ? sorted[n / 2] : -100.0f;
}

static void add_background(sb_vad *vad, float db)
{
	if (db <= NO_SIGNAL_DB)
		return; /* digital silence says nothing of the room's noise */
	vad->background[vad->background_pos] = db;
	vad->background_pos = (vad->background_pos + 1) % SB_VAD_HISTORY;
	if (vad->background_len < SB_VAD_HISTORY)
		vad->background_len++;
}

/* A quiet frame outside a turn: it and the loud run before it, which did
 * not become a turn, are the room's background.  A run that becomes a turn
 * is speech and never counts. */
static void end_of_run(sb_vad *vad, float db)
{
	int run = MIN(vad->voiced_ms / vad->cfg.frame_ms, SB_VAD_ONSET_FRAMES);
	int last = vad->voiced_ms / vad->cfg.frame_ms - 1;
	for (int i = run - 1; i >= 0; i--)
		add_background(vad, vad->onset_db[(last - i) % SB_VAD_ONSET_FRAMES]);
	add_background(vad, db);
}

/* A voice's pitch wanders; a motor's or the mains' hum holds it to a
 * fraction of a sample, frame after frame. */
static bool machine_pitch(const float *period, int n)
{
	float sorted[SB_VAD_ONSET_FRAMES];
	memcpy(sorted, period, sizeof(float) * (size_t)n);
	sort_floats(sorted, n);
	float median = sorted[n / 2];
	int held = 0;
	for (int i = 0; i < n; i++)
		held += fabsf(period[i] - median) <= MACHINE_PITCH_SPREAD;
	/* One frame's estimate may slip (noise over the hum). */
	return n >= 3 && held >= n - 1;
}

/* The onset's frames (the last onset_ms of loud ones) sound like a talker:
 * periodic on the whole, at a pitch that moves. */
static bool onset_is_a_voice(const sb_vad *vad)
{
	if (vad->cfg.energy_only)
		return true;
	int n = MIN(vad->cfg.onset_ms / vad->cfg.frame_ms, SB_VAD_ONSET_FRAMES);
	n = MIN(n, vad->voiced_ms / vad->cfg.frame_ms);
	if (n <= 0)
		return false;
	int last = (vad->voiced_ms / vad->cfg.frame_ms - 1) % SB_VAD_ONSET_FRAMES;
	float sum = 0.0f, period[SB_VAD_ONSET_FRAMES];
	for (int i = 0; i < n; i++) {
		int slot = (last - i + SB_VAD_ONSET_FRAMES) % SB_VAD_ONSET_FRAMES;
		sum += vad->onset_voicing[slot];
		period[i] = vad->onset_period[slot];
	}
	/* Right after digital silence nothing is known of the room yet: a
	 * single clear voice is wanted, not a café's murmur. */
	float wanted = vad->background_len >= BACKGROUND_MIN_FRAMES ? VOICING_MIN
	                                                            : VOICING_MIN_UNKNOWN_ROOM;
	return sum / (float)n >= wanted && !machine_pitch(period, n);
}

void sb_vad_init(sb_vad *vad, const sb_vad_config *cfg)
{
	static const sb_vad_config defaults = {.frame_ms = 20,
	                                       .onset_ms = 100,
	                                       .hangover_ms = 300,
	                                       .margin_db = 9.0f,
	                                       .min_level_db = -50.0f};
	vad->cfg = cfg ? *cfg : defaults;
	if (vad->cfg.frame_ms <= 0 || vad->cfg.frame_ms > SB_VAD_MAX_FRAME_MS)
		vad->cfg.frame_ms = 20;
	vad->noise_db = -100.0f;
	vad->history_len = 0;
	vad->history_pos = 0;
	vad->voiced_ms = 0;
	vad->quiet_ms = 0;
	vad->in_speech = false;
	vad->last_db = -100.0f;
	vad->last_voicing = 0.0f;
	vad->background_len = 0;
	vad->background_pos = 0;
}

sb_vad_event sb_vad_process(sb_vad *vad, const int16_t *pcm, int samples, float floor_db)
{
	float db = sb_frame_dbfs(pcm, samples);
	vad->last_db = db;
	vad->history[vad->history_pos] = db;
	vad->history_pos = (vad->history_pos + 1) % SB_VAD_HISTORY;
	if (vad->history_len < SB_VAD_HISTORY)
		vad->history_len++;
	float floor = db;
	for (int i = 0; i < vad->history_len; i++)
		if (vad->history[i] < floor)
			floor = vad->history[i];
	vad->noise_db = floor;
	float threshold = vad->noise_db + vad->cfg.margin_db;
	if (threshold < vad->cfg.min_level_db)
		threshold = vad->cfg.min_level_db;
	if (floor_db > threshold)
		threshold = floor_db;
	if (!vad->cfg.energy_only) {
		/* Babble and street noise swing well above their quietest
		 * moments; one talker stands out from their usual level. */
		if (vad->background_len >= BACKGROUND_MIN_FRAMES) {
			float background = background_level(vad) + BACKGROUND_MARGIN_DB;
			if (background > threshold)
				threshold = background;
		}
	}
	bool loud = db > threshold;
	if (!vad->in_speech && !vad->cfg.energy_only) {
		if (!loud)
			end_of_run(vad, db);
	}

	const int step = vad->cfg.frame_ms;
	if (!vad->in_speech) {
		vad->voiced_ms = loud ? vad->voiced_ms + step : 0;
		vad->last_voicing = 0.0f;
		if (loud && !vad->cfg.energy_only) {
			/* Loud enough; is it a voice?  Only then is the pitch
			 * search paid. */
			int rate = samples * 1000 / step;
			int slot = (vad->voiced_ms / step - 1) % SB_VAD_ONSET_FRAMES;
			if (vad->voiced_ms / step > SB_VAD_ONSET_FRAMES)
				add_background(vad, vad->onset_db[slot]); /* out of the ring */
			vad->onset_db[slot] = db;
			vad->last_voicing =
			        voicing_and_period(pcm, samples, rate, &vad->onset_period[slot]);
			vad->onset_voicing[slot] = vad->last_voicing;
		}
		if (vad->voiced_ms >= vad->cfg.onset_ms && onset_is_a_voice(vad)) {
			vad->in_speech = true;
			vad->quiet_ms = 0;
			return SB_VAD_SPEECH_START;
		}
		return SB_VAD_SILENCE;
	}
	/* Inside a turn, energy alone: unvoiced sounds ("s", "f") are words. */
	vad->quiet_ms = loud ? 0 : vad->quiet_ms + step;
	if (vad->quiet_ms >= vad->cfg.hangover_ms) {
		vad->in_speech = false;
		vad->voiced_ms = 0;
		return SB_VAD_SPEECH_END;
	}
	return SB_VAD_SPEECH;
}
