/* The narrowband map's corpus, fit and distance (narrowband_fit.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <pocketsphinx.h>
#include <sphinxbase/fe.h>

#include "narrowband_fit.h"
#include "phone_eval.h"

#define RATE 16000
/* pocketsphinx_models.c's narrowband_fold default: the map is fitted on
 * what the language-model pass hears. */
#define FOLD 0.5
/* The μ-law line's resampling delays it; found by correlation within this. */
#define MAX_LAG 400

const char *const nb_librivox[] = {
        NB_TESTDATA "/librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
        NB_TESTDATA "/librivox/sense_and_sensibility_01_austen_64kb-0880.wav",
        NB_TESTDATA "/librivox/sense_and_sensibility_01_austen_64kb-0890.wav",
        NB_TESTDATA "/librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
        NB_TESTDATA "/librivox/sense_and_sensibility_01_austen_64kb-0930.wav",
        NULL,
};
const char *const nb_others[] = {
        NB_TESTDATA "/cards/001.wav",
        NB_TESTDATA "/cards/002.wav",
        NB_TESTDATA "/cards/003.wav",
        NB_TESTDATA "/cards/004.wav",
        NB_TESTDATA "/cards/005.wav",
        NB_TESTDATA "/goforward.raw",
        NULL,
};

typedef struct frame {
	float c[NB_DIM];
} frame;

struct nb_corpus {
	GArray *wide, *line; /* a frame each 10 ms, aligned */
};

/* 16-bit mono samples of a WAV's data chunk, or of a whole .raw file. */
static GArray *read_pcm(const char *path, char **error)
{
	gchar *bytes = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	if (!g_file_get_contents(path, &bytes, &len, &gerr)) {
		*error = g_strdup_printf("%s (install pocketsphinx-testdata)", gerr->message);
		g_error_free(gerr);
		return NULL;
	}
	gsize at = 0, size = len;
	if (!g_str_has_suffix(path, ".raw")) {
		size = 0;
		for (gsize p = 12; p + 8 <= len;) {
			guint32 chunk = GUINT32_FROM_LE(*(guint32 *)(void *)(bytes + p + 4));
			if (memcmp(bytes + p, "data", 4) == 0) {
				at = p + 8;
				size = MIN(chunk, len - at);
				break;
			}
			p += 8 + chunk + (chunk & 1);
		}
		if (!size) {
			*error = g_strdup_printf("%s: no data chunk", path);
			g_free(bytes);
			return NULL;
		}
	}
	GArray *pcm = g_array_sized_new(FALSE, FALSE, sizeof(int16_t), (guint)(size / 2));
	g_array_append_vals(pcm, bytes + at, (guint)(size / 2));
	g_free(bytes);
	return pcm;
}

/* How many samples the line lags the original by. */
static int line_lag(const GArray *wide, const GArray *line)
{
	const int16_t *a = (const int16_t *)wide->data, *b = (const int16_t *)line->data;
	guint n = MIN(wide->len, line->len);
	int best = 0;
	double best_sum = -INFINITY;
	for (int lag = 0; lag < MAX_LAG && (guint)lag < n; lag++) {
		double sum = 0.0;
		for (guint i = 0; i + (guint)lag < n; i++)
			sum += (double)a[i] * b[i + (guint)lag];
		if (sum > best_sum) {
			best_sum = sum;
			best = lag;
		}
	}
	return best;
}

/* Cepstra of pcm, each coefficient's mean over the recording taken out. */
static void add_cepstra(fe_t *fe, const int16_t *pcm, size_t n, GArray *to, int32 *frames)
{
	mfcc_t **cep = NULL;
	int32 nfr = 0;
	fe_start_stream(fe);
	fe_start_utt(fe);
	fe_process_utt(fe, pcm, n, &cep, &nfr);
	nfr = MIN(nfr, *frames);
	*frames = nfr;
	double mean[NB_DIM] = {0};
	for (int32 f = 0; f < nfr; f++)
		for (int j = 0; j < NB_DIM; j++)
			mean[j] += cep[f][j] / (double)nfr;
	for (int32 f = 0; f < nfr; f++) {
		frame fr;
		for (int j = 0; j < NB_DIM; j++)
			fr.c[j] = (float)(cep[f][j] - mean[j]);
		g_array_append_val(to, fr);
	}
	fe_free_2d(cep);
	mfcc_t last[NB_DIM]; /* the partial frame at the end, dropped */
	int32 rest = 0;
	fe_end_utt(fe, last, &rest);
}

nb_corpus *nb_corpus_load(const char *const *paths, char **error)
{
	sb_ps_quiet();
	/* The front end of a decoder of the model the recogniser loads, with
	 * every frame kept (no silence removal), so that frames align. */
	cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm",
	                               "/usr/share/pocketsphinx/model/en-us/en-us",
	                               "-remove_silence", "no", NULL);
	ps_decoder_t *ps = config ? ps_init(config) : NULL;
	cmd_ln_free_r(config);
	if (!ps) {
		*error = g_strdup("pocketsphinx: the en-us model does not load");
		return NULL;
	}
	fe_t *fe = ps_get_fe(ps);
	if (fe_get_output_size(fe) != NB_DIM) {
		*error = g_strdup_printf("the front end gives %d cepstra, not %d",
		                         fe_get_output_size(fe), NB_DIM);
		ps_free(ps);
		return NULL;
	}
	nb_corpus *c = g_new0(nb_corpus, 1);
	c->wide = g_array_new(FALSE, FALSE, sizeof(frame));
	c->line = g_array_new(FALSE, FALSE, sizeof(frame));
	for (int i = 0; paths[i]; i++) {
		g_autoptr(GArray) wide = read_pcm(paths[i], error);
		if (!wide) {
			nb_corpus_free(c);
			ps_free(ps);
			return NULL;
		}
		g_autoptr(GArray) line = phone_eval_line(wide, PHONE_LINE_PCMU);
		int lag = line_lag(wide, line);
		size_t n = MIN(wide->len, line->len - (guint)lag);
		int16_t *heard = (int16_t *)line->data + lag;
		sb_fold_upper_band(heard, n, FOLD);
		int32 frames = G_MAXINT32;
		guint before = c->wide->len;
		add_cepstra(fe, (const int16_t *)wide->data, n, c->wide, &frames);
		int32 line_frames = frames;
		add_cepstra(fe, heard, n, c->line, &line_frames);
		/* The same samples make the same number of frames; keep the
		 * shorter should the front end ever differ. */
		g_array_set_size(c->wide, before + (guint)line_frames);
		g_array_set_size(c->line, before + (guint)line_frames);
	}
	ps_free(ps);
	return c;
}

void nb_corpus_free(nb_corpus *c)
{
	if (!c)
		return;
	g_array_free(c->wide, TRUE);
	g_array_free(c->line, TRUE);
	g_free(c);
}

int nb_corpus_frames(const nb_corpus *c)
{
	return (int)c->wide->len;
}

/* Solves a x = b (NB_DIM, partial pivoting) in place; b becomes x. */
static void solve(double a[NB_DIM][NB_DIM], double b[NB_DIM])
{
	for (int i = 0; i < NB_DIM; i++) {
		int p = i;
		for (int r = i + 1; r < NB_DIM; r++)
			if (fabs(a[r][i]) > fabs(a[p][i]))
				p = r;
		for (int k = 0; k < NB_DIM; k++) {
			double t = a[i][k];
			a[i][k] = a[p][k];
			a[p][k] = t;
		}
		double t = b[i];
		b[i] = b[p];
		b[p] = t;
		for (int r = i + 1; r < NB_DIM; r++) {
			double f = a[r][i] / a[i][i];
			for (int k = i; k < NB_DIM; k++)
				a[r][k] -= f * a[i][k];
			b[r] -= f * b[i];
		}
	}
	for (int i = NB_DIM - 1; i >= 0; i--) {
		for (int k = i + 1; k < NB_DIM; k++)
			b[i] -= a[i][k] * b[k];
		b[i] /= a[i][i];
	}
}

void nb_fit(const nb_corpus *c, float map[NB_DIM][NB_DIM])
{
	double xtx[NB_DIM][NB_DIM] = {{0}}, xty[NB_DIM][NB_DIM] = {{0}};
	for (guint f = 0; f < c->line->len; f++) {
		const float *x = g_array_index(c->line, frame, f).c;
		const float *y = g_array_index(c->wide, frame, f).c;
		for (int i = 0; i < NB_DIM; i++)
			for (int j = 0; j < NB_DIM; j++) {
				xtx[i][j] += (double)x[i] * x[j];
				xty[j][i] += (double)x[i] * y[j]; /* row j: output j */
			}
	}
	for (int k = 0; k < NB_DIM; k++) {
		double a[NB_DIM][NB_DIM], row[NB_DIM];
		memcpy(a, xtx, sizeof a);
		memcpy(row, xty[k], sizeof row);
		solve(a, row);
		for (int j = 0; j < NB_DIM; j++)
			map[k][j] = (float)row[j];
	}
}

void nb_apply_matrix(float *cepstrum, void *matrix)
{
	sb_cepstrum_transform(matrix, cepstrum);
}

double nb_distance(const nb_corpus *c, nb_map_fn *map, void *user)
{
	double sum = 0.0;
	for (guint f = 0; f < c->line->len; f++) {
		float x[NB_DIM];
		memcpy(x, g_array_index(c->line, frame, f).c, sizeof x);
		if (map)
			map(x, user);
		const float *y = g_array_index(c->wide, frame, f).c;
		for (int j = 0; j < NB_DIM; j++)
			sum += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
	}
	return c->line->len ? sum / c->line->len : 0.0;
}
