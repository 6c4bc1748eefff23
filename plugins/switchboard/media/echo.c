/* Echo cancellation of one leg (media.h, "echo").
 *
 * The far end is exact: it is what the mixer sent the leg.  The MDF filter
 * adapts to the path from there back into the leg's capture (the network
 * both ways, the jitter buffer, the phone's loudspeaker and microphone);
 * the preprocessor then suppresses the residual the filter reports.
 *
 * The filter takes seconds of speech to converge, and a call's first
 * sound is the agent's greeting.  So a gate works beside it from the first
 * frames: it finds the echo path's delay by correlating the loudness of
 * what was sent with the loudness of what came back, learns how loud the
 * echo comes back (the echo return loss), and where what came back is no
 * louder than the echo of what was sent at that delay it is taken for
 * echo alone and attenuated.  Louder is the caller talking ("double
 * talk"), and goes through. */
#include "media/media.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <speex/speex_resampler.h>

#define INNER_MAX_RATE 16000
#define INNER_MAX_SAMPLES (INNER_MAX_RATE / 1000 * SB_FRAME_MS)
/* Quality 3 of 10: the voice band is untouched and it costs a few
 * microseconds a frame. */
#define RESAMPLE_QUALITY 3
/* A far end quieter than this (-70 dBFS over a frame) puts no echo in the
 * capture that the noise floor would not hide. */
#define AUDIBLE_SUM_SQUARES(n) ((double)(n)*10.4 * 10.4)

/* Only what was sent at least this loud (-50 dBFS) teaches the echo
 * return loss: the echo of quieter sounds drowns in the line's noise, and
 * would teach a loss far greater than the path's. */
#define TEACHING_MEAN_SQUARE (103.6 * 103.6)

/* The loss starts out as 0 dB weighed as three frames of speech at
 * -20 dBFS: a first frame whose echo is late or lost must not teach it
 * alone. */
#define LOSS_PRIOR_SUM (3 * 3277.0 * 3277.0)

#define MAX_LAGS (1000 / SB_FRAME_MS + 2)
/* The loudness statistics' memory: about 0.7 s. */
#define GATE_DECAY 0.97
/* A lag correlating better than this is the echo path's delay. */
#define GATE_CONFIDENT 0.6
/* Louder than the echo would be by this much is the caller's voice; the
 * frame-to-frame spread of an echo's loudness is smaller. */
#define DOUBLE_TALK_DB 6.0
/* What the gate leaves of echo alone, and how long it stays open after
 * the caller's voice (the gaps between their syllables). */
#define GATE_FLOOR 0.03
#define GATE_HOLD_FRAMES 4
#define GATE_ONSET_FRAMES 2
/* The filter's span once the delay is known: the echo path's own length
 * (a loudspeaker's and a room's reverberation are tens of ms), and frames
 * either side for the jitter buffers moving it. */
#define FILTER_FRAMES 8
#define FILTER_LEAD_FRAMES 2

/* A fourth-order low-pass (two Butterworth sections) at the telephone
 * band's edge.  The gate compares loudness in that band only: a phone leg
 * sends none of what lies above it back, so a sibilant's echo would seem
 * to come back 20 dB down and a vowel's 6 dB, and no one return loss
 * would fit both. */
#define BAND_EDGE_HZ 3400.0
typedef struct biquad {
	double b0, b1, b2, a1, a2;
	double x1, x2, y1, y2;
} biquad;
typedef struct band_filter {
	bool pass_all; /* the rate has no more than the band */
	biquad section[2];
} band_filter;

typedef struct echo_gate {
	int lags;                    /* the tail in frames, plus one */
	uint64_t frame;              /* frames seen: the rings' clock */
	double far_energy[MAX_LAGS]; /* mean square per frame, a ring */
	double far_mean[MAX_LAGS], far_var[MAX_LAGS], covariance[MAX_LAGS];
	double near_mean, near_var;
	int lag; /* the delay, in frames; -1: not known */
	/* Echo return loss (dB): the energy that came back over the energy
	 * sent at the lag, summed over frames of echo alone (so the loud ones
	 * count most, not the gaps between words).  Starts at 0 dB: until it
	 * is learnt an echo may be as loud as what was sent. */
	double return_loss_db;
	double echo_sum, sent_sum;
	int talk_frames; /* in a row that looked like talk */
	int hold;        /* frames the gate stays open */
	double gain;     /* applied at the end of the last frame */
} echo_gate;

struct sb_echo {
	int rate, inner_rate, inner_n;
	int tail_frames;
	int quiet_frames; /* since the far end was last audible */
	/* The filter spans filter_frames of the echo path, starting
	 * predelay_frames after what was sent: a short filter where the echo
	 * is converges in a second of speech, a whole tail's in five. */
	int filter_frames, predelay_frames;
	int16_t far_history[MAX_LAGS][INNER_MAX_SAMPLES]; /* by gate.frame */
	SpeexEchoState *filter;
	SpeexPreprocessState *suppress;
	/* NULL when the room mixes at inner_rate. */
	SpeexResamplerState *capture_down, *sent_down, *clean_up;
	echo_gate gate;
	band_filter far_band, near_band;
	sb_echo_stats stats;
};

static void band_filter_init(band_filter *f, int rate)
{
	memset(f, 0, sizeof(*f));
	f->pass_all = rate <= 2 * BAND_EDGE_HZ * 1.1;
	double w0 = 2 * M_PI * BAND_EDGE_HZ / rate, c = cos(w0);
	double alpha = sin(w0) / (2 * M_SQRT1_2), a0 = 1 + alpha;
	for (int i = 0; i < 2; i++) {
		biquad *q = &f->section[i];
		q->b0 = q->b2 = (1 - c) / 2 / a0;
		q->b1 = (1 - c) / a0;
		q->a1 = -2 * c / a0;
		q->a2 = (1 - alpha) / a0;
	}
}

/* The mean square of pcm within the band. */
static double band_energy(band_filter *f, const int16_t *pcm, int n)
{
	double sum = 0;
	for (int i = 0; i < n; i++) {
		double v = pcm[i];
		for (int k = 0; k < 2 && !f->pass_all; k++) {
			biquad *q = &f->section[k];
			double y = q->b0 * v + q->b1 * q->x1 + q->b2 * q->x2 - q->a1 * q->y1 -
			           q->a2 * q->y2;
			q->x2 = q->x1;
			q->x1 = v;
			q->y2 = q->y1;
			q->y1 = y;
			v = y;
		}
		sum += v * v;
	}
	return sum / n;
}

sb_echo *sb_echo_new(int rate, int tail_ms)
{
	if (rate < 8000 || rate > 48000 || rate % 1000 || tail_ms < 100 || tail_ms > 1000)
		return NULL;
	sb_echo *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->rate = rate;
	e->inner_rate = rate < INNER_MAX_RATE ? rate : INNER_MAX_RATE;
	e->inner_n = e->inner_rate / 1000 * SB_FRAME_MS;
	e->tail_frames = (tail_ms + SB_FRAME_MS - 1) / SB_FRAME_MS;
	e->quiet_frames = e->tail_frames + 1; /* nothing sent yet: at rest */
	e->gate.lags = e->tail_frames + 1;
	e->gate.lag = -1;
	e->gate.gain = 1.0;
	e->gate.echo_sum = e->gate.sent_sum = LOSS_PRIOR_SUM;
	band_filter_init(&e->far_band, e->inner_rate);
	band_filter_init(&e->near_band, e->inner_rate);
	/* Until the gate finds the delay the filter starts at no delay. */
	e->filter_frames = e->tail_frames < FILTER_FRAMES ? e->tail_frames : FILTER_FRAMES;
	e->filter = speex_echo_state_init(e->inner_n, e->inner_n * e->filter_frames);
	e->suppress = speex_preprocess_state_init(e->inner_n, e->inner_rate);
	bool ok = e->filter && e->suppress;
	if (ok) {
		speex_echo_ctl(e->filter, SPEEX_ECHO_SET_SAMPLING_RATE, &e->inner_rate);
		speex_preprocess_ctl(e->suppress, SPEEX_PREPROCESS_SET_ECHO_STATE, e->filter);
	}
	if (ok && rate != e->inner_rate) {
		int err = 0;
		e->capture_down = speex_resampler_init(
		        1, (spx_uint32_t)rate, (spx_uint32_t)e->inner_rate, RESAMPLE_QUALITY, &err);
		e->sent_down = speex_resampler_init(
		        1, (spx_uint32_t)rate, (spx_uint32_t)e->inner_rate, RESAMPLE_QUALITY, &err);
		e->clean_up = speex_resampler_init(1, (spx_uint32_t)e->inner_rate,
		                                   (spx_uint32_t)rate, RESAMPLE_QUALITY, &err);
		/* The two downsamplers delay both sides of the filter alike;
		 * the upsampler delays what the room hears by a constant. */
		ok = e->capture_down && e->sent_down && e->clean_up;
	}
	if (!ok) {
		sb_echo_free(e);
		return NULL;
	}
	return e;
}

void sb_echo_free(sb_echo *e)
{
	if (!e)
		return;
	if (e->suppress)
		speex_preprocess_state_destroy(e->suppress);
	if (e->filter)
		speex_echo_state_destroy(e->filter);
	if (e->capture_down)
		speex_resampler_destroy(e->capture_down);
	if (e->sent_down)
		speex_resampler_destroy(e->sent_down);
	if (e->clean_up)
		speex_resampler_destroy(e->clean_up);
	free(e);
}

/* in (n samples) to out (want samples; zero-filled should the resampler
 * ever give fewer). */
static void resample(SpeexResamplerState *r, const int16_t *in, int n, int16_t *out, int want)
{
	spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)want;
	speex_resampler_process_int(r, 0, in, &in_len, out, &out_len);
	if ((int)out_len < want)
		memset(out + out_len, 0, (size_t)(want - (int)out_len) * sizeof(*out));
}

static double sum_squares(const int16_t *pcm, int n)
{
	double sum = 0.0;
	for (int i = 0; i < n; i++)
		sum += (double)pcm[i] * pcm[i];
	return sum;
}

/* The far end's energy at frame `ago` frames back (0: this one). */
static double far_at(const echo_gate *g, int ago)
{
	if (ago < 0 || ago >= g->lags || (uint64_t)ago > g->frame)
		return 0.0;
	return g->far_energy[(g->frame - (uint64_t)ago) % MAX_LAGS];
}

/* Learns the delay from this frame's loudness on both sides. */
static void gate_learn_delay(echo_gate *g, double far_energy, double near_energy)
{
	g->far_energy[g->frame % MAX_LAGS] = far_energy;
	const double a = GATE_DECAY, y = sqrt(near_energy);
	g->near_mean = a * g->near_mean + (1 - a) * y;
	g->near_var = a * g->near_var + (1 - a) * (y - g->near_mean) * (y - g->near_mean);
	double best = GATE_CONFIDENT;
	int best_lag = -1;
	for (int lag = 0; lag < g->lags && (uint64_t)lag <= g->frame; lag++) {
		double x = sqrt(far_at(g, lag));
		g->far_mean[lag] = a * g->far_mean[lag] + (1 - a) * x;
		double dx = x - g->far_mean[lag];
		g->far_var[lag] = a * g->far_var[lag] + (1 - a) * dx * dx;
		g->covariance[lag] = a * g->covariance[lag] + (1 - a) * dx * (y - g->near_mean);
		double norm = sqrt(g->far_var[lag] * g->near_var);
		double correlation = norm > 0 ? g->covariance[lag] / norm : 0;
		if (correlation > best) {
			best = correlation;
			best_lag = lag;
		}
	}
	/* Until the statistics span the tail twice, a correlation is as
	 * likely a coincidence of the greeting's first words. */
	if (best_lag >= 0 && g->frame >= 2 * (uint64_t)g->lags)
		g->lag = best_lag;
}

/* Moves the filter's span over the delay the gate found, should it have
 * left it; the filter then learns the path anew. */
static void place_filter(sb_echo *e)
{
	int lag = e->gate.lag;
	if (lag < 0 || (lag >= e->predelay_frames + FILTER_LEAD_FRAMES / 2 &&
	                lag < e->predelay_frames + e->filter_frames - FILTER_LEAD_FRAMES))
		return;
	int predelay = lag - FILTER_LEAD_FRAMES;
	if (predelay < 0)
		predelay = 0;
	if (predelay > e->tail_frames - e->filter_frames)
		predelay = e->tail_frames - e->filter_frames;
	if (predelay == e->predelay_frames)
		return;
	e->predelay_frames = predelay;
	speex_echo_state_reset(e->filter);
}

/* The gain for this frame: GATE_FLOOR for echo alone, 1 otherwise. */
static double gate_decide(echo_gate *g, double near_energy, int n)
{
	double echo_source = 0;
	if (g->lag >= 0) /* a frame either side: jitter buffers move by one */
		for (int ago = g->lag - 1; ago <= g->lag + 1; ago++)
			echo_source = fmax(echo_source, far_at(g, ago));
	else
		for (int ago = 0; ago < g->lags; ago++)
			echo_source = fmax(echo_source, far_at(g, ago));
	bool talk;
	if (echo_source * n <= AUDIBLE_SUM_SQUARES(n)) {
		/* Nothing to echo, so nothing to take out; but only a voice
		 * holds the gate open into the next echo, or every pause
		 * would let the first frames of the next words through. */
		if (near_energy * n > AUDIBLE_SUM_SQUARES(n))
			g->hold = GATE_HOLD_FRAMES;
		else if (g->hold > 0)
			g->hold--;
		return 1.0;
	} else {
		double ratio_db = 10 * log10((near_energy + 1e-3) / echo_source);
		talk = ratio_db > g->return_loss_db + DOUBLE_TALK_DB;
		/* Echo alone teaches the loss, against what the decision
		 * compares the frame with; before the delay is known that is
		 * the loudest of the last second, so the loss learnt is on the
		 * large side until it is.  A leg with no echo path (a headset,
		 * a phone with its own canceller, DTX) sends back silence,
		 * often digital: its echo is no louder than inaudible, and so
		 * it teaches — else its loss would stay at the 0 dB prior and a
		 * caller quieter than the agent would never be heard over it.
		 * A louder path is learnt slowly, from what looked like talk. */
		if (!talk && echo_source > TEACHING_MEAN_SQUARE) {
			double echo = fmax(near_energy, AUDIBLE_SUM_SQUARES(1));
			g->echo_sum = GATE_DECAY * g->echo_sum + echo;
			g->sent_sum = GATE_DECAY * g->sent_sum + echo_source;
			g->return_loss_db = 10 * log10((g->echo_sum + 1e-3) / g->sent_sum);
		} else if (talk && g->lag >= 0) {
			g->return_loss_db += 0.02;
		}
	}
	/* One loud frame is as often the echo's own spread as a voice; a
	 * voice is still there in the next. */
	g->talk_frames = talk ? g->talk_frames + 1 : 0;
	if (g->talk_frames >= GATE_ONSET_FRAMES)
		g->hold = GATE_HOLD_FRAMES;
	else if (g->hold > 0)
		g->hold--;
	return g->hold > 0 ? 1.0 : GATE_FLOOR;
}

/* Ramps from the last frame's gain to this one's (no clicks). */
static void gate_apply(echo_gate *g, int16_t *pcm, int n, double gain)
{
	for (int i = 0; i < n; i++) {
		double k = g->gain + (gain - g->gain) * (i + 1) / n;
		pcm[i] = (int16_t)lrint(pcm[i] * k);
	}
	g->gain = gain;
}

bool sb_echo_process(sb_echo *e, int16_t *capture, const int16_t *sent, int samples)
{
	if (samples != e->rate / 1000 * SB_FRAME_MS)
		return false;
	static const int16_t silence[SB_MAX_FRAME_SAMPLES];
	int16_t far[INNER_MAX_SAMPLES], near[INNER_MAX_SAMPLES], clean[INNER_MAX_SAMPLES];
	const int n = e->inner_n;
	const bool resampled = e->capture_down != NULL;

	const int16_t *far_in = sent ? sent : silence;
	if (resampled)
		resample(e->sent_down, far_in, samples, far, n);
	else
		memcpy(far, far_in, (size_t)n * sizeof(*far));
	e->quiet_frames = sum_squares(far, n) > AUDIBLE_SUM_SQUARES(n) ? 0 : e->quiet_frames + 1;
	/* At rest the filter's memory of the far end is tail_frames of quiet,
	 * exactly what it would be had it run on. */
	bool live = e->quiet_frames <= e->tail_frames;
	if (!live && !resampled)
		return false;

	if (resampled)
		resample(e->capture_down, capture, samples, near, n);
	else
		memcpy(near, capture, (size_t)n * sizeof(*near));
	if (live) {
		double far_energy = band_energy(&e->far_band, far, n);
		double near_energy = band_energy(&e->near_band, near, n);
		gate_learn_delay(&e->gate, far_energy, near_energy);
		double gain = gate_decide(&e->gate, near_energy, n);
		place_filter(e);
		memcpy(e->far_history[e->gate.frame % MAX_LAGS], far, (size_t)n * sizeof(*far));
		const int16_t *far_then =
		        e->gate.frame >= (uint64_t)e->predelay_frames
		                ? e->far_history[(e->gate.frame - (uint64_t)e->predelay_frames) %
		                                 MAX_LAGS]
		                : silence;
		e->gate.frame++;
		speex_echo_cancellation(e->filter, near, far_then, clean);
		speex_preprocess_run(e->suppress, clean);
		gate_apply(&e->gate, clean, n, gain);
		e->stats.frames++;
		e->stats.energy_in += sum_squares(near, n);
		e->stats.energy_out += sum_squares(clean, n);
	} else {
		memcpy(clean, near, (size_t)n * sizeof(*clean));
	}
	if (resampled)
		resample(e->clean_up, clean, n, capture, samples);
	else
		memcpy(capture, clean, (size_t)n * sizeof(*capture));
	return true;
}

void sb_echo_get_stats(const sb_echo *e, sb_echo_stats *out)
{
	*out = e->stats;
}
