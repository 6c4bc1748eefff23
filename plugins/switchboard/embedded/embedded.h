/* What the embedded providers (local dialog engine, pocketsphinx, espeak-ng)
 * offer beyond the provider interface: the dialog engine as pure functions
 * (tests, summaries for warm transfer) and process-wide start-up/shut-down
 * for the engines whose models are loaded once per process.
 *
 * Plugin life cycle: at init, optionally sb_pocketsphinx_preload() and
 * sb_espeak_init() (both also happen lazily on first use); at destroy,
 * after every stream/call/job is released: sb_pocketsphinx_shutdown(),
 * sb_espeak_shutdown(), sb_llm_local_shutdown(). */
#ifndef SB_EMBEDDED_H
#define SB_EMBEDDED_H

#include <stdbool.h>

#include <jansson.h>

#include "embedded/kb.h"
#include "providers/provider.h"

/* The descriptors (also reachable by type through registry.c). */
extern const sb_llm_provider sb_llm_local;
extern const sb_stt_provider sb_stt_pocketsphinx;
extern const sb_tts_provider sb_tts_espeak;

/* ---- local dialog engine (llm_local.c) ---- */

/* One caller turn: the agent's answer (g_free), the tool it calls in
 * *tool_out ("transfer_to_human", "end_call" or NULL; g_free) when tool_out
 * is not NULL.  memory (a JSON object, may be NULL) carries the call's state
 * between turns and is updated:
 *   name      "John"           the caller's name
 *   order     "12345"          the order number being discussed
 *   awaiting  "order_number"   | "name": what the last answer asked for
 *   topic     last matched FAQ id or intent name
 *   last      what this turn matched: a topic, "fallback" or "empty"
 *   topics    [every topic matched, oldest first, at most 32]
 *   turns     caller turns so far
 * language picks the answer text ("ar" → Arabic where the KB has it). */
char *sb_local_reply(json_t *kb, json_t *memory, const char *utterance, const char *language,
                     char **tool_out);

/* Extractive summary of a call, for the human who takes it over.
 * transcript: [{"role": "user"|"assistant", "content"}] or
 * [{"speaker", "text"}] (speaker "assistant"/"agent"/"ai"/"bot" is the AI,
 * anything else the caller); memory: the call's memory or NULL.  Returns a
 * new object:
 *   caller     {"name": "John"|null, "order": "12345"|null}
 *   issue      first substantive caller utterance ("" when none)
 *   details    [up to 3 substantive caller utterances]
 *   topics     [matched FAQ ids / intents, in order, unique]
 *   tried      [the AI's answers, up to the last 5, greeting left out]
 *   mood       "negative" | "neutral" | "positive"
 *   mood_score positive minus negative lexicon words said by the caller
 *   mood_words [the lexicon words heard]
 *   next_step  a suggestion for the human agent
 *   turns      caller utterances
 *   text       all of it as one paragraph */
json_t *sb_local_summary(json_t *kb, json_t *memory, json_t *transcript);

/* Waits for the dialog worker threads and frees the knowledge-base cache. */
void sb_llm_local_shutdown(void);
/* Forgets the knowledge bases read so far: the next answers read the
 * files again (the reload_kb operation). */
void sb_llm_local_forget_kb(void);

/* ---- pocketsphinx (stt_pocketsphinx.c) ---- */

/* Loads the dictionary and grammar for extra's paths and settings (the
 * provider's config object: "hmm", "dict", "lm", "kb", "beam", "wbeam",
 * "reject", "fallback"; NULL: the defaults) and creates decoders for
 * `decoders` simultaneous speakers (two grammar decoders each: the final
 * pass and the live partials), plus the fallback language-model decoder
 * when with_lm.  Blocking (measured: dictionary and grammar 0.03 s, 15 ms
 * per grammar decoder, 0.25-0.3 s and ~90 MB for the LM decoder): call from
 * plugin init, not from a media thread.  Without it the first stream pays
 * this on its worker thread (its first final comes ~0.1 s later; the first
 * out-of-grammar utterance ~0.3 s later).  error may be NULL. */
bool sb_pocketsphinx_preload(json_t *extra, int decoders, bool with_lm, char **error);
/* ps_set_jsgf_string() without its leak (the tests load grammars too);
 * ps is a ps_decoder_t*.  0 on success. */
struct ps_decoder_s;
int sb_ps_set_jsgf(struct ps_decoder_s *ps, const char *name, const char *jsgf_text);
/* Frees every model and decoder; every stream must have been released. */
void sb_pocketsphinx_shutdown(void);

/* ---- espeak-ng (tts_espeak.c) ---- */

/* Starts the synthesis thread and initialises espeak-ng (blocking, ~20 ms);
 * false with *error when espeak-ng's data cannot be found. */
bool sb_espeak_init(char **error);
/* Stops the thread (pending jobs end with done("shutdown")), terminates
 * espeak-ng.  Every job must have been released. */
void sb_espeak_shutdown(void);

/* The espeak-ng voice for a language ("en" → "en-us", "ar" → "ar"); a
 * voice given in config wins.  Static string or the argument. */
const char *sb_espeak_voice_for(const char *language, const char *voice);

#endif
