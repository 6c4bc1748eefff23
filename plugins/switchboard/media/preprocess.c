/* Noise suppression and automatic gain on a leg's decoded audio, with
 * speexdsp's preprocessor: one state per inbound leg, run on the thread
 * that decodes the leg (the mixer's), one 20 ms frame at a time at the
 * room's rate.  Off unless configured: a leg that wants neither gets no
 * state and pays nothing. */
#include "media/media.h"

#include <math.h>

#include <glib.h>
#include <speex/speex_preprocess.h>

struct sb_preprocess {
	SpeexPreprocessState *state;
	int frame_samples;
};

bool sb_preprocess_options_valid(const sb_preprocess_options *opts, const char **why)
{
	if (opts->noise_suppression_db < SB_PREPROCESS_NS_DB_MIN ||
	    opts->noise_suppression_db > SB_PREPROCESS_NS_DB_MAX) {
		*why = "noise_suppression_db must be in -60..-3 (dB of attenuation)";
		return false;
	}
	if (opts->agc_level_dbfs < SB_PREPROCESS_AGC_DBFS_MIN ||
	    opts->agc_level_dbfs > SB_PREPROCESS_AGC_DBFS_MAX) {
		*why = "agc_level_dbfs must be in -40..-6";
		return false;
	}
	return true;
}

sb_preprocess *sb_preprocess_new(int rate, const sb_preprocess_options *opts)
{
	const char *why;
	if (!opts || (!opts->noise_suppression && !opts->agc) ||
	    !sb_preprocess_options_valid(opts, &why))
		return NULL;
	if (rate != 8000 && rate != 16000 && rate != 48000)
		return NULL;
	int frame = rate / 50;
	SpeexPreprocessState *st = speex_preprocess_state_init(frame, rate);
	if (!st)
		return NULL;
	int on = 1, off = 0;
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DENOISE,
	                     opts->noise_suppression ? &on : &off);
	if (opts->noise_suppression) {
		int db = opts->noise_suppression_db;
		speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &db);
	}
	if (opts->agc) {
		/* speexdsp's AGC exists in its floating-point build only (the
		 * distributions'); refused, the leg keeps its level. */
		float level = (float)(32768.0 * pow(10.0, opts->agc_level_dbfs / 20.0));
		if (speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC, &on) == 0)
			speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
	}
	speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DEREVERB, &off);
	sb_preprocess *p = g_new0(sb_preprocess, 1);
	p->state = st;
	p->frame_samples = frame;
	return p;
}

void sb_preprocess_free(sb_preprocess *p)
{
	if (!p)
		return;
	speex_preprocess_state_destroy(p->state);
	g_free(p);
}

int sb_preprocess_run(sb_preprocess *p, int16_t *pcm, int samples)
{
	if (!p || samples != p->frame_samples)
		return -1;
	speex_preprocess_run(p->state, pcm);
	int prob = 0;
	speex_preprocess_ctl(p->state, SPEEX_PREPROCESS_GET_PROB, &prob);
	return prob;
}
