#include "media/media.h"

#include <math.h>
#include <string.h>

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

/* Pitch lags at 8 kHz: 400 Hz down to 60 Hz, and one more each side so
 * that a peak at either end can be seen to be one. */
#define PITCH_RATE 8000
#define LAG_MIN 20
#define LAG_MAX 133
/* A frame with a voice's pitch: a peak this high, standing this far above
 * the dip before it (a low rumble's autocorrelation falls smoothly from
 * lag 0 and has small bumps, no such peak). */
#define PITCHED 0.55f
#define PROMINENCE 0.3f
/* From one pitched frame to the next a voice's period moves less than
 * this; in babble the strongest peak jumps from one talker to another. */
#define LAG_DRIFT 0.15f
/* A pitched onset at least this much louder (power: 5 dB) than the
 * unpitched background of the last second or so. */
#define BACKGROUND_MARGIN 3.16
/* Measured through G.711 (espeak-ng, sox to 8 kHz mu-law and back): every
 * digit, "yes" and "no" said alone by en-us opens a turn, so do sentences
 * in three voices; brown, pink and white noise, brown noise swelling like
 * traffic and six voices babbling at once open none (energy alone opens
 * on the traffic and the babble; without the background margin the
 * babble opened one turn in 5 s); a sentence said 10 dB over that babble
 * opens its turn. */

/* The analysis window: history (the last frame) then this frame, at 8 kHz
 * and lightly pre-emphasised (a voice's low harmonics are its pitch; a
 * rumble's energy is lower still); history becomes this frame. */
static void window_8k(float history_8k[SB_VAD_PITCH_WINDOW / 2], const int16_t *pcm, int samples,
                      int rate, float y[SB_VAD_PITCH_WINDOW])
{
	enum { HALF = SB_VAD_PITCH_WINDOW / 2 };
	memcpy(y, history_8k, sizeof(float) * HALF);
	/* To 8 kHz by averaging: the pitch lives far below 4 kHz. */
	int step = rate > PITCH_RATE ? rate / PITCH_RATE : 1;
	int n8 = samples / step;
	if (n8 > HALF)
		n8 = HALF;
	float last = 0.0f;
	for (int i = 0; i < HALF; i++) {
		float v = 0.0f;
		if (i < n8) {
			for (int k = 0; k < step; k++)
				v += pcm[i * step + k];
			v /= (float)step;
		}
		y[HALF + i] = v - 0.5f * last;
		last = v;
	}
	memcpy(history_8k, y + HALF, sizeof(float) * HALF);
}

/* The highest prominent normalised autocorrelation peak at a pitch lag:
 * this frame against itself a lag earlier (reaching into the last one),
 * so that every lag is measured over the same 20 ms. */
static float pitch_of(const float y[SB_VAD_PITCH_WINDOW], int *lag_out)
{
	enum { HALF = SB_VAD_PITCH_WINDOW / 2 };
	double now = 0.0;
	for (int i = HALF; i < SB_VAD_PITCH_WINDOW; i++)
		now += (double)y[i] * y[i];
	/* The energy of the lagged window, slid one sample at a time. */
	double then = 0.0;
	for (int i = HALF - (LAG_MIN - 1); i < SB_VAD_PITCH_WINDOW - (LAG_MIN - 1); i++)
		then += (double)y[i] * y[i];
	float r[LAG_MAX + 2];
	for (int lag = LAG_MIN - 1; lag <= LAG_MAX + 1; lag++) {
		if (lag > LAG_MIN - 1) {
			float in = y[HALF - lag], out = y[SB_VAD_PITCH_WINDOW - lag];
			then += (double)in * in - (double)out * out;
		}
		double num = 0.0;
		for (int i = HALF; i < SB_VAD_PITCH_WINDOW; i++)
			num += (double)y[i] * y[i - lag];
		r[lag] = now > 1.0 && then > 1.0 ? (float)(num / sqrt(now * then)) : 0.0f;
	}
	float best = 0.0f, dip = r[LAG_MIN - 1];
	int best_lag = 0;
	for (int lag = LAG_MIN; lag <= LAG_MAX; lag++) {
		if (r[lag] > r[lag - 1] && r[lag] >= r[lag + 1] && r[lag] - dip >= PROMINENCE &&
		    r[lag] > best) {
			best = r[lag];
			best_lag = lag;
		}
		if (r[lag] < dip)
			dip = r[lag];
	}
	if (lag_out)
		*lag_out = best_lag;
	return best;
}

float sb_frame_pitch(float history_8k[SB_VAD_PITCH_WINDOW / 2], const int16_t *pcm, int samples,
                     int rate, int *lag)
{
	float y[SB_VAD_PITCH_WINDOW];
	window_8k(history_8k, pcm, samples, rate, y);
	return pitch_of(y, lag);
}

void sb_vad_init(sb_vad *vad, const sb_vad_config *cfg)
{
	static const sb_vad_config defaults = {
	        .frame_ms = 20, .onset_ms = 100, .hangover_ms = 300,
	        .margin_db = 12.0f, .min_level_db = -50.0f};
	vad->cfg = cfg ? *cfg : defaults;
	if (vad->cfg.frame_ms <= 0)
		vad->cfg.frame_ms = 20;
	if (vad->cfg.rate <= 0)
		vad->cfg.rate = 16000;
	if (vad->cfg.onset_voiced_ms == 0)
		vad->cfg.onset_voiced_ms = 100;
	vad->pitched_ms = 0;
	vad->pitched_power = 0.0;
	vad->rise_power = 0.0;
	vad->background = 0.0;
	vad->background_frames = 0;
	vad->last_lag = 0;
	vad->last_pitch = 0.0f;
	memset(vad->history_8k, 0, sizeof(vad->history_8k));
	vad->noise_db = -100.0f;
	vad->history_len = 0;
	vad->history_pos = 0;
	vad->voiced_ms = 0;
	vad->quiet_ms = 0;
	vad->in_speech = false;
	vad->last_db = -100.0f;
}

sb_vad_event sb_vad_process(sb_vad *vad, const int16_t *pcm, int samples, float floor_db)
{
	float db = sb_frame_dbfs(pcm, samples);
	double power = pow(10.0, db / 10.0);
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
	bool voiced = db > threshold;

	/* Only an onset needs the pitch (the cost of one frame's analysis
	 * is spared inside a turn and in silence). */
	float y[SB_VAD_PITCH_WINDOW];
	window_8k(vad->history_8k, pcm, samples, vad->cfg.rate, y);
	int lag = 0;
	vad->last_pitch = !vad->in_speech && voiced && vad->cfg.onset_voiced_ms > 0
	                          ? pitch_of(y, &lag)
	                          : 0.0f;

	const int step = vad->cfg.frame_ms;
	if (!vad->in_speech) {
		vad->voiced_ms = voiced ? vad->voiced_ms + step : 0;
		/* Unbroken: six voices babbling line up for a frame or two, a
		 * caller's vowel holds its pitch for 100 ms and more. */
		bool pitched = vad->last_pitch >= PITCHED;
		bool same_voice = vad->pitched_ms == 0 || fabsf((float)(lag - vad->last_lag)) <=
		                                                  LAG_DRIFT * (float)vad->last_lag;
		if (!pitched || !same_voice)
			vad->pitched_ms = 0, vad->pitched_power = 0.0;
		if (pitched && vad->pitched_ms == 0 && vad->rise_power > 0.0) {
			/* The voice began in the last frame, out of quiet: there
			 * its first period had none before it to match, so its
			 * pitch could not show, or showed a period the voice does
			 * not hold.  Without this a vowel's pitched time depended
			 * on where the frames fell on it: the "o" of an "okay"
			 * held 100 ms starting on a frame's edge and 80 ms
			 * starting 2-6 ms after it (as the echo canceller's
			 * resampling at 48 kHz moves it). */
			vad->pitched_ms = step;
			vad->pitched_power = vad->rise_power;
		}
		if (pitched) {
			vad->pitched_ms += step;
			vad->pitched_power += power;
		} else {
			/* What there is around a voice: silence, a fan, the café. */
			vad->background = vad->background_frames
			                          ? 0.98 * vad->background + 0.02 * power
			                          : power;
			vad->background_frames++;
		}
		vad->last_lag = pitched ? lag : 0;
		vad->rise_power = voiced && vad->voiced_ms == step ? power : 0.0;
		/* A voice in a café is louder than the café; the café's own
		 * moments of one clear voice are not. */
		double frames = vad->pitched_ms / (double)step;
		bool above = frames > 0 &&
		             vad->pitched_power / frames >= BACKGROUND_MARGIN * vad->background;
		if (vad->voiced_ms >= vad->cfg.onset_ms &&
		    (vad->cfg.onset_voiced_ms < 0 ||
		     (vad->pitched_ms >= vad->cfg.onset_voiced_ms && above))) {
			vad->in_speech = true;
			vad->quiet_ms = 0;
			return SB_VAD_SPEECH_START;
		}
		return SB_VAD_SILENCE;
	}
	vad->quiet_ms = voiced ? 0 : vad->quiet_ms + step;
	if (vad->quiet_ms >= vad->cfg.hangover_ms) {
		vad->in_speech = false;
		vad->voiced_ms = 0;
		return SB_VAD_SPEECH_END;
	}
	return SB_VAD_SPEECH;
}
