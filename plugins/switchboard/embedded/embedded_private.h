/* Inside the embedded module (private interface): the engines' config
 * lookups, and the pocketsphinx models and decoder pools that the streams
 * (stt_pocketsphinx.c) borrow from (pocketsphinx_models.c). */
#ifndef SB_EMBEDDED_EMBEDDED_PRIVATE_H
#define SB_EMBEDDED_EMBEDDED_PRIVATE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embedded/embedded.h"

/* ---- config ----
 * An engine's settings come from its provider config object: values are
 * JSON or, from the .jcfg, strings. */

/* A non-empty string, else dflt. */
static inline const char *sb_extra_str(json_t *extra, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(extra, key));
	return v && *v ? v : dflt;
}

/* A JSON integer or a non-empty string (atoi), else dflt. */
static inline int sb_extra_int(json_t *extra, const char *key, int dflt)
{
	json_t *v = json_object_get(extra, key);
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	return json_is_string(v) && *json_string_value(v) ? atoi(json_string_value(v)) : dflt;
}

/* A JSON boolean, or a string other than "false", "no" and "0"; else dflt. */
static inline bool sb_extra_bool(json_t *extra, const char *key, bool dflt)
{
	json_t *v = json_object_get(extra, key);
	if (json_is_boolean(v))
		return json_is_true(v);
	const char *s = json_string_value(v);
	return s ? strcmp(s, "false") != 0 && strcmp(s, "no") != 0 && strcmp(s, "0") != 0 : dflt;
}

/* ---- pocketsphinx models (pocketsphinx_models.c) ----
 * One model per set of paths and settings, loaded on first use; decoders
 * of three kinds pooled per model and borrowed while needed.  The calls
 * may block (loading, a bounded pool): streams make them on their own
 * worker threads. */

typedef enum {
	DEC_FINAL, /* grammar, wide beams, whole utterances */
	DEC_LIVE,  /* grammar, default beams, frame by frame, for partials */
	DEC_LM,    /* general language model, the fallback */
	DEC_KINDS
} sb_ps_dec_kind;

typedef struct sb_ps_model sb_ps_model;
typedef struct ps_decoder_s ps_decoder_t;

/* Sphinx's own logging to GLib (errors only), once per process. */
void sb_ps_quiet(void);
/* The model for extra's settings (NULL: the defaults), made but not
 * loaded; it lives until sb_pocketsphinx_shutdown(). */
sb_ps_model *sb_ps_model_get(json_t *extra);
/* A decoder of that kind: an idle one, a new one, or (bounded pools) the
 * next one given back.  NULL with *error when the model does not load. */
ps_decoder_t *sb_ps_acquire(sb_ps_model *m, sb_ps_dec_kind kind, char **error);
void sb_ps_give_back(sb_ps_model *m, sb_ps_dec_kind kind, ps_decoder_t *ps);
/* The share of unexplained speech above which the grammar lost. */
double sb_ps_model_reject(sb_ps_model *m);
/* The level of the upper band folded into narrowband speech (0: none). */
double sb_ps_model_fold(sb_ps_model *m);
/* Whether a folded line's cepstra are mapped (narrowband.c) for the LM pass. */
bool sb_ps_model_maps_narrowband(sb_ps_model *m);
/* Whether a number the grammar heard is checked against the LM decoder. */
bool sb_ps_model_checks_numbers(sb_ps_model *m);
/* Which of the knowledge base's keywords text holds: one of the topic that
 * takes order numbers (an intent with an {order} pattern) wins over any
 * other. */
typedef enum { SB_PS_NO_KEYWORD, SB_PS_NUMBER_TOPIC, SB_PS_OTHER_TOPIC } sb_ps_keyword_topic;
sb_ps_keyword_topic sb_ps_model_keyword_topic(sb_ps_model *m, const char *text);
/* A language-model decoder for the fallback; NULL when there is none (no
 * LM, or it failed once: logged, and the fallback is off from then on). */
ps_decoder_t *sb_ps_fallback_acquire(sb_ps_model *m);
/* A stream's worker thread starts and ends: the shutdown waits for the
 * last one before it frees the models. */
void sb_ps_worker_started(void);
void sb_ps_worker_done(void);

/* ---- narrowband (narrowband.c) ----
 * Phone-line speech (nothing above 4 kHz, 16 kHz samples) made closer to
 * what the wideband acoustic model was trained on. */

/* Whether the audio is band-limited to 4 kHz (G.711, a narrowband leg). */
bool sb_narrowband(const int16_t *pcm, size_t samples);
/* Mirrors the 0-4 kHz band into 4-8 kHz at gain (0..1) of the original
 * level, in place. */
void sb_fold_upper_band(int16_t *pcm, size_t samples, double gain);
/* A folded phone line's cepstrum (its utterance's mean taken out) mapped
 * to the wideband one the acoustic model expects, in place. */
#define SB_NARROWBAND_CEPSTRA 13
void sb_narrowband_map(float *cepstrum);
/* cepstrum := matrix · cepstrum (the map above is one such matrix). */
void sb_cepstrum_transform(const float matrix[SB_NARROWBAND_CEPSTRA][SB_NARROWBAND_CEPSTRA],
                           float *cepstrum);

#endif
