/* Phone-path recognition measured end to end, without Janus: a caller's
 * phrasing spoken by an espeak-ng voice, passed through the project's own
 * codec (encode and decode, as a phone leg does), recognised by the
 * embedded recogniser and answered by the local engine, whose topic is
 * compared with the phrasing's label.  Used by tests/tools/phone_accuracy
 * (the whole set, figures for the README) and by
 * tests/unit/test_phone_accuracy (a sample, with a floor).
 *
 * The test set is tests/data/phone-phrasings.json: {"dev": [...],
 * "held_out": [...]}, each entry {"text", "topic"} where topic is an
 * intent name, a FAQ id, or "fallback" for what the agent should not
 * understand. */
#ifndef SB_TESTS_PHONE_EVAL_H
#define SB_TESTS_PHONE_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

/* The line a phrasing goes through. */
typedef enum {
	PHONE_LINE_CLEAN, /* 16 kHz as synthesised: the reference */
	PHONE_LINE_PCMU,  /* G.711 μ-law, 8 kHz (what Twilio sends) */
	PHONE_LINE_G722,  /* G.722, 16 kHz wideband */
	PHONE_LINE_TEXT,  /* no speech: the written words, the engine's ceiling */
	PHONE_LINES
} phone_line;

const char *phone_line_name(phone_line line);
bool phone_line_from_name(const char *name, phone_line *out);

/* One phrasing spoken once. */
typedef struct phone_trial {
	const char *text;     /* borrowed from the test set */
	const char *expected; /* borrowed */
	const char *voice;    /* borrowed */
	phone_line line;
	int pause_ms;     /* > 0: pause() at the end of the words, then this much silence,
	                     in real time */
	char *heard;      /* what the recogniser said (g_free) */
	char *topic;      /* what the engine understood: "fallback", "empty" … (g_free) */
	double decode_ms; /* end of speech → final text */
	double audio_ms;
	bool right;
} phone_trial;

/* The evaluation's settings; kb_path NULL: conf/knowledge-base.json of the
 * source tree given to phone_eval_new. */
typedef struct phone_eval phone_eval;

/* NULL with *error (g_free).  kb_path: the knowledge base for both the
 * recogniser and the engine; settings (may be NULL): the recogniser's
 * config beyond the defaults ("lm_vocabulary", "narrowband_fold" …),
 * copied. */
phone_eval *phone_eval_new(const char *kb_path, json_t *settings, char **error);
void phone_eval_free(phone_eval *ev);

/* Synthesises text with voice at 16 kHz.  A GArray of int16_t (unref),
 * NULL with *error. */
GArray *phone_eval_speak(phone_eval *ev, const char *text, const char *voice, char **error);

/* The audio after the line's encoder and decoder (new array); not for
 * PHONE_LINE_TEXT. */
GArray *phone_eval_line(GArray *pcm16k, phone_line line);

/* Recognises and answers: fills t->heard, t->topic, t->right, t->decode_ms.
 * On PHONE_LINE_TEXT audio is NULL and t->text is taken as heard.  Any
 * thread (the engine's turns are serialised inside). */
bool phone_eval_run(phone_eval *ev, GArray *audio, phone_trial *t, char **error);

/* The digit words of text ("zero" … "nine"), in order, space separated;
 * "" when it has none.  g_free. */
char *phone_eval_digits(const char *text);

/* Loads the test set; the array of the named split ("dev", "held_out"),
 * borrowed from *root (json_decref it). */
json_t *phone_eval_load_set(const char *path, const char *split, json_t **root, char **error);

#endif
