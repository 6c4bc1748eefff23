/* Narrowband speech (a phone line: G.711, 8 kHz, nothing above 4 kHz) for
 * a wideband acoustic model (embedded_private.h, "narrowband").
 *
 * The en-us model's front end spreads 25 mel filters from 130 to 6800 Hz;
 * on a phone line the five or so above 4 kHz see only the resampler's
 * floor, so every frame's cepstrum is far from anything the model was
 * trained on, and the decoder hears "what number should i call you on" as
 * "what little guy called on".  An 8 kHz model is not packaged, so the
 * upper band is filled instead: multiplying by (-1)^n mirrors the spectrum
 * around 4 kHz (f → 8000 - f), so a share of the speech's own 0-4 kHz
 * spectrum is folded into 4-8 kHz.  Crude bandwidth extension, but the
 * upper filters then carry energy that rises and falls with the speech, and
 * it costs one multiply per sample. */
#include <math.h>
#include <string.h>

#include "embedded/embedded_private.h"

/* 31-tap half-band low-pass (Hamming-windowed sinc, cut-off 4 kHz at
 * 16 kHz): what is left after it is what lies above 4 kHz. */
#define TAPS 31

static double low_pass(const int16_t *pcm, size_t n, size_t at)
{
	static double h[TAPS];
	static gsize ready;
	if (g_once_init_enter(&ready)) {
		for (int k = 0; k < TAPS; k++) {
			int m = k - TAPS / 2;
			double sinc = m == 0 ? 0.5 : sin(G_PI * m / 2.0) / (G_PI * m);
			h[k] = sinc * (0.54 - 0.46 * cos(2 * G_PI * k / (TAPS - 1)));
		}
		g_once_init_leave(&ready, 1);
	}
	double acc = 0.0;
	for (int k = 0; k < TAPS; k++) {
		long i = (long)at + k - TAPS / 2;
		if (i >= 0 && (size_t)i < n)
			acc += h[k] * pcm[i];
	}
	return acc;
}

bool sb_narrowband(const int16_t *pcm, size_t n)
{
	/* Every 4th sample is enough to tell a phone line from a wideband one. */
	double all = 0.0, high = 0.0;
	for (size_t i = TAPS; i + TAPS < n; i += 4) {
		double low = low_pass(pcm, n, i), x = pcm[i];
		all += x * x;
		high += (x - low) * (x - low);
	}
	/* Wideband speech keeps a few percent of its energy above 4 kHz (the
	 * fricatives); a phone line keeps the resampler's leakage and the
	 * dither, far below 0.1%.  Quiet audio says nothing either way. */
	return all > 1e4 * (double)n / 4 && high < all * 1e-3;
}

void sb_fold_upper_band(int16_t *pcm, size_t n, double gain)
{
	for (size_t i = 0; i < n; i++) {
		double mirrored = (i & 1) ? -pcm[i] : pcm[i];
		double v = pcm[i] + gain * mirrored;
		pcm[i] = (int16_t)CLAMP(lrint(v), INT16_MIN, INT16_MAX);
	}
}

/* Folding gives the upper filters energy, not the right energy: a phone
 * line's cepstra stay far from the same speech's wideband ones.  This 13 x 13
 * matrix takes a frame's cepstrum (the utterance's mean taken out, as the
 * decoder's cepstral mean normalisation does) to the least-squares
 * estimate of its wideband cepstrum.  It was fitted on real people's
 * speech (pocketsphinx-testdata's recordings, 37 s), through the project's
 * own μ-law line and fold, by build/tests/tools/narrowband_fit, which
 * prints this table; tests/unit/test_narrowband checks that it still does,
 * and that the map brings cepstra of recordings it was not fitted on
 * closer.  Not fitted on espeak-ng: the accuracy measures use its voices. */
#include "embedded/narrowband_map.inc"

void sb_cepstrum_transform(const float matrix[SB_NARROWBAND_CEPSTRA][SB_NARROWBAND_CEPSTRA],
                           float *cepstrum)
{
	float out[SB_NARROWBAND_CEPSTRA];
	for (int k = 0; k < SB_NARROWBAND_CEPSTRA; k++) {
		double sum = 0.0;
		for (int j = 0; j < SB_NARROWBAND_CEPSTRA; j++)
			sum += (double)matrix[k][j] * cepstrum[j];
		out[k] = (float)sum;
	}
	memcpy(cepstrum, out, sizeof out);
}

void sb_narrowband_map(float *cepstrum)
{
	sb_cepstrum_transform(narrowband_map, cepstrum);
}
