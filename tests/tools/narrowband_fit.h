/* Fitting and checking the narrowband cepstral map (narrowband.c): the same
 * recordings of people heard wideband and through the project's μ-law line,
 * cepstrum by cepstrum. */
#ifndef SB_TESTS_NARROWBAND_FIT_H
#define SB_TESTS_NARROWBAND_FIT_H

#include <stdbool.h>

#include "embedded/embedded_private.h"

#define NB_DIM SB_NARROWBAND_CEPSTRA

/* The recordings of people in pocketsphinx-testdata, in two groups that
 * share no speaker: a reader of an audiobook (librivox) and the rest. */
#define NB_TESTDATA "/usr/share/pocketsphinx/test/data"
extern const char *const nb_librivox[];
extern const char *const nb_others[];

typedef struct nb_corpus nb_corpus;

/* Cepstra of the recordings (WAV, or raw 16 kHz 16-bit when the name ends
 * in .raw) wideband and over the μ-law line (folded as the recogniser
 * folds it), frame-aligned, each recording's mean taken out.  NULL with
 * *error when a file is missing or the front end does not start. */
nb_corpus *nb_corpus_load(const char *const *paths, char **error);
void nb_corpus_free(nb_corpus *c);
int nb_corpus_frames(const nb_corpus *c);

/* The least-squares map from line cepstra to wideband ones. */
void nb_fit(const nb_corpus *c, float map[NB_DIM][NB_DIM]);

/* Mean squared distance per frame between the wideband cepstra and the
 * line's, after map (NULL: the line's as they are). */
typedef void nb_map_fn(float *cepstrum, void *user);
double nb_distance(const nb_corpus *c, nb_map_fn *map, void *user);
/* map with a fitted matrix (user: float[NB_DIM][NB_DIM]). */
void nb_apply_matrix(float *cepstrum, void *matrix);

#endif
