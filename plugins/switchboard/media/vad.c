#include "media/media.h"

#include <math.h>

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

void sb_vad_init(sb_vad *vad, const sb_vad_config *cfg)
{
	static const sb_vad_config defaults = {
	        .frame_ms = 20, .onset_ms = 100, .hangover_ms = 300,
	        .margin_db = 12.0f, .min_level_db = -50.0f};
	vad->cfg = cfg ? *cfg : defaults;
	if (vad->cfg.frame_ms <= 0)
		vad->cfg.frame_ms = 20;
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

	const int step = vad->cfg.frame_ms;
	if (!vad->in_speech) {
		vad->voiced_ms = voiced ? vad->voiced_ms + step : 0;
		if (vad->voiced_ms >= vad->cfg.onset_ms) {
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
