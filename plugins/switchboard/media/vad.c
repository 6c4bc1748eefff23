#include "media/media.h"

#include <math.h>
#include <string.h>

#include <glib.h>

/* Voicing is measured at 8 kHz: a pitch period
 * (2.5–16.7 ms, 60–400 Hz) spans 20–133 samples there, whatever the
 * stream's rate. */
#define VOICING_RATE 8000
#define VOICING_MAX_SAMPLES (SB_VAD_MAX_FRAME_MS * VOICING_RATE / 1000)
/* What is kept of the past for the next frame's pitch search. */
#define VOICING_KEEP (PITCH_LAG_MAX + 2)
#define PITCH_LAG_MIN (VOICING_RATE / 400)
#define PITCH_LAG_MAX (VOICING_RATE / 60) /* espeak-ng's en-us says ~90 Hz */
/* Correlated over 20 ms, against up to 16.7 ms before: the VAD keeps the
 * previous frame for that. */
#define VOICING_WINDOW (VOICING_RATE / 50)
/* One talker's frames correlate with themselves a period later far better
 * than noise does: over an onset, white and pink noise average ~0.25,
 * street rumble ~0.45, six voices at once (babble) ~0.5, a talker at 10 dB
 * SNR over any of them 0.7–0.8 (tests/unit/test_vad_noise.c). */
#define VOICING_MIN 0.6f
/* Right after digital silence (the floor knows nothing of the room): the
 * onset's mean, and every one of its frames. */
#define VOICING_MIN_UNKNOWN_ROOM 0.7f
#define VOICING_MIN_EACH_UNKNOWN_ROOM 0.5f
#define UNKNOWN_ROOM_ONSET_FRAMES 5
#define NO_SIGNAL_DB -90.0f
/* The background is known after this many frames of it (300 ms). */
#define BACKGROUND_MIN_FRAMES 15
#define BACKGROUND_FORGET_MS 1000
/* Sound without a break this long before a turn: the room has a murmur. */
#define MURMUR_MS 1000
/* Samples at 8 kHz: a hum's period stays this close to its median over an
 * onset; a voice's moves further (espeak-ng's flattest: ~0.8). */
#define MACHINE_PITCH_SPREAD 0.4f
/* Above the background's median level (babble, street) to count as loud. */
#define BACKGROUND_MARGIN_DB 6.0f
/* From one frame to the next a talker's pitch moves less than this. */
#define PITCH_JUMP 0.12f

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

/* Decimates to 8 kHz (averaging `step` samples, then a one-pole low-pass:
 * a voice's harmonics are clearest below 2 kHz, breath and hiss above)
 * and takes the first difference, which tilts pink and brown noise towards
 * white so their low-frequency rumble does not pass for a pitch.  state
 * carries both filters over from the previous call.  Returns the samples
 * written. */
static int voicing_input(const int16_t *pcm, int samples, int step, float state[2], float *x,
                         int room)
{
	int n = MIN(samples / step, room);
	for (int i = 0; i < n; i++) {
		float sum = 0.0f;
		for (int k = 0; k < step; k++)
			sum += pcm[i * step + k];
		state[0] = 0.5f * state[0] + 0.5f * (sum / (float)step);
		x[i] = state[0] - 0.9f * state[1];
		state[1] = state[0];
	}
	return n;
}

/* The best normalised correlation between the last `window` samples of x
 * and the same a pitch period earlier, and that period (samples at 8 kHz,
 * refined between samples).  x holds at least window + PITCH_LAG_MAX + 1. */
static float voicing_and_period(const float *x, int n, int window, float *period)
{
	*period = 0.0f;
	if (window <= 0 || n < window + PITCH_LAG_MAX + 1)
		return 0.0f;
	const float *now = x + n - window;
	double energy = 0.0;
	for (int i = 0; i < window; i++)
		energy += (double)now[i] * now[i];
	if (energy <= 0.0)
		return 0.0f;
	float r[PITCH_LAG_MAX + 2] = {0};
	int best = PITCH_LAG_MIN;
	for (int lag = PITCH_LAG_MIN; lag <= PITCH_LAG_MAX + 1; lag++) {
		const float *then = now - lag;
		double xy = 0.0, yy = 0.0;
		for (int i = 0; i < window; i++) {
			xy += (double)now[i] * then[i];
			yy += (double)then[i] * then[i];
		}
		if (yy > 0.0)
			r[lag] = (float)(xy / sqrt(energy * yy));
		if (lag <= PITCH_LAG_MAX && r[lag] > r[best])
			best = lag;
	}
	/* Two periods correlate about as well as one: the shortest lag that
	 * nearly matches the best is the pitch, so it does not jump octaves
	 * from frame to frame. */
	for (int lag = PITCH_LAG_MIN + 1; lag < best; lag++) {
		if (r[lag] >= 0.9f * r[best] && r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1]) {
			best = lag;
			break;
		}
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
	int step = rate / VOICING_RATE;
	if (step < 1 || rate % VOICING_RATE || samples <= 0)
		return 0.0f;
	float x[2 * VOICING_MAX_SAMPLES], state[2] = {0.0f, 0.0f}, period;
	int n = voicing_input(pcm, samples, step, state, x, 2 * VOICING_MAX_SAMPLES);
	return voicing_and_period(x, n, VOICING_WINDOW, &period);
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

/* How many frames an onset is judged on. */
static int onset_frames(const sb_vad *vad)
{
	return CLAMP(vad->cfg.onset_ms / vad->cfg.frame_ms, 1, SB_VAD_ONSET_FRAMES);
}

/* A quiet frame outside a turn: it and the loud run before it, which did
 * not become a turn, are the room's background.  A run that becomes a turn
 * is speech and never counts. */
static void end_of_run(sb_vad *vad, float db)
{
	int run = MIN(vad->voiced_ms / vad->cfg.frame_ms, onset_frames(vad));
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
static bool onset_is_a_voice(const sb_vad *vad, float threshold, bool room_known)
{
	if (vad->cfg.energy_only)
		return true;
	/* In an unknown room a short barge-in onset is no evidence yet. */
	int n = room_known ? onset_frames(vad) : MAX(onset_frames(vad), UNKNOWN_ROOM_ONSET_FRAMES);
	if (vad->voiced_ms / vad->cfg.frame_ms < n)
		return false;
	int last = (vad->voiced_ms / vad->cfg.frame_ms - 1) % SB_VAD_ONSET_FRAMES;
	float sum = 0.0f, least = 1.0f, period[SB_VAD_ONSET_FRAMES];
	for (int i = 0; i < n; i++) {
		int slot = (last - i + SB_VAD_ONSET_FRAMES) % SB_VAD_ONSET_FRAMES;
		/* Loud against what is known of the room now, not only when
		 * each frame came (the background may have just been learnt). */
		if (vad->onset_db[slot] <= threshold)
			return false;
		sum += vad->onset_voicing[slot];
		least = MIN(least, vad->onset_voicing[slot]);
		period[i] = vad->onset_period[slot];
	}
	if (machine_pitch(period, n))
		return false;
	/* One talker's pitch glides from frame to frame; a murmur's strongest
	 * period jumps from one talker to another. */
	int jumps = 0;
	for (int i = 1; i < n; i++)
		jumps += fabsf(period[i] - period[i - 1]) >
		         PITCH_JUMP * MAX(period[i], period[i - 1]);
	/* Once the room is known, its murmur is below the bar already. */
	if (room_known)
		return jumps <= 1 && sum / (float)n >= VOICING_MIN;
	/* Right after digital silence nothing is known of the room yet: one
	 * clear voice is wanted, voiced in every frame, its pitch gliding
	 * throughout, not a café's murmur where a talker stands out for a
	 * moment (measured on 40 seeds of six-voice babble: 4 false starts
	 * against 21 without this; espeak-ng talkers: none missed). */
	if (jumps > 0)
		return false;
	return sum / (float)n >= VOICING_MIN_UNKNOWN_ROOM && least >= VOICING_MIN_EACH_UNKNOWN_ROOM;
}

void sb_vad_init(sb_vad *vad, const sb_vad_config *cfg)
{
	static const sb_vad_config defaults = {.frame_ms = 20,
	                                       .onset_ms = 100,
	                                       .hangover_ms = 300,
	                                       .margin_db = 9.0f,
	                                       .min_level_db = -50.0f};
	memset(vad, 0, sizeof(*vad)); /* no history, no background, no turn */
	vad->cfg = cfg ? *cfg : defaults;
	if (vad->cfg.frame_ms <= 0 || vad->cfg.frame_ms > SB_VAD_MAX_FRAME_MS)
		vad->cfg.frame_ms = 20;
	vad->noise_db = -100.0f;
	vad->last_db = -100.0f;
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
	bool room_known = false;
	/* After a while of digital silence (a muted or gated leg, a talker
	 * between turns on a clean line) what was learnt of the room is old:
	 * the next voice starts in an unknown room again. */
	vad->no_signal_ms = db <= NO_SIGNAL_DB ? vad->no_signal_ms + vad->cfg.frame_ms : 0;
	vad->signal_ms = db > NO_SIGNAL_DB ? MIN(vad->signal_ms + vad->cfg.frame_ms, 3600000) : 0;
	if (vad->no_signal_ms >= BACKGROUND_FORGET_MS)
		vad->background_len = 0;
	if (!vad->cfg.energy_only) {
		/* Babble and street noise swing well above their quietest
		 * moments; one talker stands out from their usual level. */
		room_known = vad->background_len >= BACKGROUND_MIN_FRAMES;
		if (room_known) {
			float background = background_level(vad) + BACKGROUND_MARGIN_DB;
			if (background > threshold)
				threshold = background;
		}
	}
	bool loud = db > threshold;
	/* This frame after the last, at 8 kHz, for the pitch search. */
	int rate = samples * 1000 / vad->cfg.frame_ms, step8k = rate / VOICING_RATE;
	bool can_voice = !vad->cfg.energy_only && step8k >= 1 && rate % VOICING_RATE == 0;
	if (can_voice) {
		float *x = vad->voicing_buf;
		memmove(x, x + vad->voicing_len - MIN(vad->voicing_len, VOICING_KEEP),
		        sizeof(float) * (size_t)MIN(vad->voicing_len, VOICING_KEEP));
		int kept = MIN(vad->voicing_len, VOICING_KEEP);
		vad->voicing_len = kept + voicing_input(pcm, samples, step8k, vad->voicing_filter,
		                                        x + kept, SB_VAD_VOICING_BUF - kept);
	}
	if (!vad->in_speech && !vad->cfg.energy_only) {
		if (!loud)
			end_of_run(vad, db);
	}

	const int step = vad->cfg.frame_ms;
	if (!vad->in_speech) {
		vad->voiced_ms = loud ? vad->voiced_ms + step : 0;
		if (vad->voiced_ms == step)
			vad->run_over_murmur = room_known && vad->signal_ms >= MURMUR_MS + step;
		vad->last_voicing = 0.0f;
		if (loud && !vad->cfg.energy_only) {
			/* Loud enough; is it a voice?  Only then is the pitch
			 * search paid. */
			int slot = (vad->voiced_ms / step - 1) % SB_VAD_ONSET_FRAMES;
			/* A loud run that has not become a turn by now (no voice:
			 * a murmur, traffic) is the room's background from here. */
			int count = vad->voiced_ms / step;
			if (count > onset_frames(vad))
				add_background(vad, vad->onset_db[(count - 1 - onset_frames(vad)) %
				                                  SB_VAD_ONSET_FRAMES]);
			vad->onset_db[slot] = db;
			vad->last_voicing = 0.0f;
			vad->onset_period[slot] = 0.0f;
			if (can_voice)
				vad->last_voicing =
				        voicing_and_period(vad->voicing_buf, vad->voicing_len,
				                           MIN(VOICING_WINDOW, samples / step8k),
				                           &vad->onset_period[slot]);
			vad->onset_voicing[slot] = vad->last_voicing;
		}
		if (vad->voiced_ms >= vad->cfg.onset_ms &&
		    onset_is_a_voice(vad, threshold, room_known)) {
			vad->in_speech = true;
			vad->quiet_ms = 0;
			/* A murmur heard without a break before the turn's first
			 * loud frame, not learnt from the words that begin it (on a
			 * clean line, silence comes between a caller's words). */
			vad->turn_over_murmur = vad->run_over_murmur;
			return SB_VAD_SPEECH_START;
		}
		return SB_VAD_SILENCE;
	}
	/* Inside a turn, in a quiet room, energy alone: unvoiced sounds ("s",
	 * "f") are words.  Over a murmur known before the turn began (a café)
	 * its loudest moments must not hold the turn open after the talker
	 * stopped: only voiced frames do, the hangover bridges the consonants
	 * between them. */
	if (loud && vad->turn_over_murmur && can_voice) {
		float period;
		vad->last_voicing =
		        voicing_and_period(vad->voicing_buf, vad->voicing_len,
		                           MIN(VOICING_WINDOW, samples / step8k), &period);
		loud = vad->last_voicing >= VOICING_MIN;
	}
	vad->quiet_ms = loud ? 0 : vad->quiet_ms + step;
	if (vad->quiet_ms >= vad->cfg.hangover_ms) {
		vad->in_speech = false;
		vad->voiced_ms = 0;
		return SB_VAD_SPEECH_END;
	}
	return SB_VAD_SPEECH;
}
