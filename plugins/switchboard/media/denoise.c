/* Noise suppression and automatic gain for one inbound leg (media.h,
 * "denoise"): speexdsp's preprocessor, its spectral noise estimate and
 * suppressor and its AGC, with its own VAD and dereverberation off (the
 * agent's VAD decides what is speech; dereverberation smears phones). */
#include "media/media.h"

#include <math.h>

#include <glib.h>
#include <speex/speex_preprocess.h>

struct sb_denoise {
	SpeexPreprocessState *state; /* owned */
	int samples;
};

sb_denoise *sb_denoise_new(int rate, int samples, const sb_denoise_config *cfg)
{
	if (!cfg || (!cfg->suppress && !cfg->agc) || rate < 8000 || rate > 48000 ||
	    samples != rate / 50)
		return NULL;
	SpeexPreprocessState *st = speex_preprocess_state_init(samples, rate);
	if (!st)
		return NULL;
	int on = 1, off = 0;
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DEREVERB, &off);
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DENOISE, cfg->suppress ? &on : &off);
	if (cfg->suppress) {
		int db = -CLAMP(cfg->suppress_db ? cfg->suppress_db : 15, 1, 60);
		speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &db);
	}
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC, cfg->agc ? &on : &off);
	if (cfg->agc) {
		/* The target is in sample units; the gain is bounded, so that
		 * a silent line's hiss is not pumped up to speech level. */
		int dbfs = CLAMP(cfg->agc_level_dbfs ? cfg->agc_level_dbfs : -20, -40, -6);
		float level = 32768.0f * powf(10.0f, (float)dbfs / 20.0f);
		int max_gain = CLAMP(cfg->agc_max_gain_db ? cfg->agc_max_gain_db : 20, 0, 40);
		speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
		speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &max_gain);
	}
	sb_denoise *d = g_new0(sb_denoise, 1);
	d->state = st;
	d->samples = samples;
	return d;
}

void sb_denoise_free(sb_denoise *d)
{
	if (!d)
		return;
	speex_preprocess_state_destroy(d->state);
	g_free(d);
}

void sb_denoise_process(sb_denoise *d, int16_t *pcm)
{
	speex_preprocess_run(d->state, pcm);
}
