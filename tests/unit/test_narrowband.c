/* The narrowband cepstral map (narrowband.c): still what the fit on
 * pocketsphinx-testdata's recordings gives, and it brings a line's cepstra
 * closer to the wideband ones on speakers it was not fitted on. */
#include <math.h>

#include <glib.h>

#include "../tools/narrowband_fit.h"

static void apply_shipped(float *cepstrum, void *unused)
{
	(void)unused;
	sb_narrowband_map(cepstrum);
}

static nb_corpus *load(const char *const *paths)
{
	char *error = NULL;
	nb_corpus *c = nb_corpus_load(paths, &error);
	if (!c)
		g_error("%s", error);
	return c;
}

/* The shipped table is the fit of every recording: regenerated, not
 * edited (build/tests/tools/narrowband_fit prints it). */
static void test_shipped_is_the_fit(void)
{
	const char *every[32];
	int n = 0;
	for (int i = 0; nb_librivox[i]; i++)
		every[n++] = nb_librivox[i];
	for (int i = 0; nb_others[i]; i++)
		every[n++] = nb_others[i];
	every[n] = NULL;
	nb_corpus *all = load(every);
	float fitted[NB_DIM][NB_DIM];
	nb_fit(all, fitted);
	for (int j = 0; j < NB_DIM; j++) {
		/* The shipped map's column j: what it makes of the unit vector. */
		float unit[NB_DIM] = {0};
		unit[j] = 1.0f;
		sb_narrowband_map(unit);
		for (int k = 0; k < NB_DIM; k++)
			g_assert_cmpfloat_with_epsilon(unit[k], fitted[k][j], 1e-4);
	}
	double raw = nb_distance(all, NULL, NULL), mapped = nb_distance(all, apply_shipped, NULL);
	g_test_message("all %d frames: distance %.1f -> %.1f", nb_corpus_frames(all), raw, mapped);
	g_assert_cmpfloat(mapped, <, raw * 0.6);
	nb_corpus_free(all);
}

/* Fitted on one group of speakers, tried on the other: the map must
 * generalise, not remember (measured 43 % and 51 % closer). */
static void test_other_speakers(void)
{
	nb_corpus *groups[2] = {load(nb_librivox), load(nb_others)};
	for (int g = 0; g < 2; g++) {
		float map[NB_DIM][NB_DIM];
		nb_fit(groups[g], map);
		nb_corpus *other = groups[1 - g];
		double raw = nb_distance(other, NULL, NULL);
		double mapped = nb_distance(other, nb_apply_matrix, map);
		g_test_message("fitted on group %d, tried on the other: %.1f -> %.1f", g, raw,
		               mapped);
		g_assert_cmpfloat(mapped, <, raw * 0.75);
	}
	for (int g = 0; g < 2; g++)
		nb_corpus_free(groups[g]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/narrowband/shipped-is-the-fit", test_shipped_is_the_fit);
	g_test_add_func("/narrowband/other-speakers", test_other_speakers);
	return g_test_run();
}
