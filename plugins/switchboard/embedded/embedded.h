/* The embedded module: an AI agent with no key and no network — the
 * knowledge base (and the speech grammar made from it), the local dialog
 * engine and its extractive summary, pocketsphinx and espeak-ng.  The
 * engines are providers (providers/providers.h) like the cloud ones. */
#ifndef SB_EMBEDDED_EMBEDDED_H
#define SB_EMBEDDED_EMBEDDED_H

#include <stdbool.h>
#include <glib.h>
#include <jansson.h>

#include "providers/providers.h"

/* ---- kb ----
 * The agent's knowledge base (conf/knowledge-base.json): what the embedded
 * dialog engine (llm_local.c) answers from, and what the embedded speech
 * recogniser (stt_pocketsphinx.c) expects to hear (a JSGF grammar generated
 * from the same file, so the two can never disagree).
 *
 * Format (JSON object; "text" below is either a string, taken as English, or
 * a language map {"en": "…", "ar": "…"} which must contain "en"):
 *
 *   version   1
 *   company   {"name" (required), "phone", "address", "hours", "website"}:
 *             strings, available to every text as {name-of-field} except
 *             "name", which is {company}
 *   greeting  text: what the agent says first
 *   fallback  text: the answer to anything not understood
 *   reprompt  text: the answer to silence / empty input (optional)
 *   names     [first names]: single words the recogniser accepts in
 *             "my name is <name>" (the dialog engine takes any name)
 *   orders    {"12345": "status phrase"}: the demo order database;
 *             "Order {order} {status}."
 *   intents   [{name, phrases [..], patterns [..], answer text, …}]
 *             names with built-in behaviour:
 *               talk_to_human  answer, then tool transfer_to_human {reason}
 *               goodbye        answer (answer_named when the name is known),
 *                              then tool end_call {}
 *               order_status   phrases ask about an order; patterns give the
 *                              number ("it's {order}"); "ask" asks for it,
 *                              "answer" gives {status}, "not_found"
 *               give_name      patterns with {name} ("my name is {name}")
 *               ask_name       answer with {name}, "unknown" without
 *             talk_to_human and goodbye are required; any other intent is
 *             small talk: phrases → answer (optional "tool": a tool name)
 *             tools      an intent's "tool" naming one of the business's
 *                        tools ([agent] tools) with "arguments" {"key":
 *                        "text with {placeholders}"} calls it instead of
 *                        answering, and speaks its "say" (else "answer");
 *                        order_status calls "lookup_order" {"order"} when
 *                        that tool is configured (its "tool" may name
 *                        another), else answers from "orders"
 *   faqs      [{id, question, paraphrases [..], answer text}]
 *   keywords  (an intent's or a FAQ's, optional) [words or short runs]
 *             that point to it however the rest is worded ("refund",
 *             "money back"): when no phrase matches, the entry whose
 *             keywords the caller said most, if one alone leads.  Not in
 *             the grammar.  Leave them out where a wrong guess costs (the
 *             demo's goodbye ends the call)
 *   mood      {"negative": [words], "positive": [words]}: summary lexicon
 *             (optional; a built-in one is used otherwise)
 *
 * Placeholders in texts: {company} {phone} {address} {hours} {website}
 * {name} {order} {status}; any other {…} is a validation error. */
/* g_autoptr(json_t) for the providers' own files (guarded: another module
 * may define the same). */
#ifndef SB_JSON_AUTOPTR
#define SB_JSON_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
#endif

/* Where the knowledge base is when nothing says otherwise: $SWITCHBOARD_KB
 * (scripts/janus-private.sh sets conf/ of the checkout), else the installed
 * one, $(pkgdatadir)/knowledge-base.json. */
const char *sb_kb_default_path(void);

/* Reads and validates; a new reference, or NULL with *error (g_free) saying
 * which file, which entry and what is wrong. */
json_t *sb_kb_load(const char *path, char **error);

/* Checks a parsed knowledge base; false with *error (g_free) on the first
 * problem, e.g. "faqs[2] (\"returns\"): \"answer\" is missing". */
bool sb_kb_validate(json_t *kb, char **error);

/* The text of a language map (or plain string) in language, else English.
 * Borrowed from the json; NULL when absent. */
const char *sb_kb_text(json_t *text, const char *language);

/* An intent by name, borrowed; NULL when the knowledge base has none. */
json_t *sb_kb_intent(json_t *kb, const char *name);

/* Replaces {company} … {status} in template; vars may be NULL and holds the
 * per-call values ("name", "order", "status" as strings).  g_free. */
char *sb_kb_fill(json_t *kb, const char *template_text, json_t *vars);

/* ---- text as the dialog engine sees it ---- */

/* Lower case, punctuation gone, contractions expanded ("what's" → "what
 * is"), numbers spoken as words joined into digits ("one two three four
 * five" → "12345", "forty two" → "42").  A GPtrArray of g_strdup'd tokens
 * (free with g_ptr_array_unref). */
GPtrArray *sb_kb_tokens(const char *text);

/* The tokens joined by single spaces.  g_free. */
char *sb_kb_normalise(const char *text);

/* ---- text as the recogniser sees it ---- */

/* Spoken words: lower case, apostrophes kept ("what's"), digits spelled one
 * by one ("42" → "four two"), only [a-z'] words (an English acoustic model
 * cannot hear other scripts).  g_ptr_array_unref. */
GPtrArray *sb_kb_words(const char *text);

/* A JSGF grammar for everything the knowledge base understands: FAQ
 * questions and paraphrases, intent phrases, "my name is <name>" with the
 * names list, order numbers as digit sequences.  One public rule,
 * <utterance>: one of those, optionally after one or two greetings, thanks
 * or "my name is <name>" (intents hello, thanks, give_name) and "and":
 * "hi, my name is john and i need help with my order".  g_free. */
char *sb_kb_jsgf(json_t *kb);

/* The same, keeping only the words known() accepts (the recogniser's
 * dictionary): a phrase loses its unknown words, a phrase left empty is
 * dropped.  Dropped words are appended to dropped (g_strdup'd) if not NULL. */
typedef bool (*sb_kb_known_fn)(const char *word, void *user);
char *sb_kb_jsgf_filtered(json_t *kb, sb_kb_known_fn known, void *user, GPtrArray *dropped);

/* A bigram language model (ARPA text) of the knowledge base's wording:
 * intent phrases, FAQ questions and paraphrases, and each keyword as a
 * sentence of its own; sentences with a word known() rejects (may be NULL)
 * or a slot are left out.  The recogniser interpolates it with its general
 * model (domain_lm.c).  NULL when no sentence is left; g_free. */
char *sb_kb_domain_arpa(json_t *kb, sb_kb_known_fn known, void *user);

/* ---- embedded ----
 * What the embedded providers (local dialog engine, pocketsphinx, espeak-ng)
 * offer beyond the provider interface: the dialog engine as pure functions
 * (tests, summaries for warm transfer) and process-wide start-up/shut-down
 * for the engines whose models are loaded once per process.
 *
 * Plugin life cycle: at init, optionally sb_pocketsphinx_preload() and
 * sb_espeak_init() (both also happen lazily on first use); at destroy,
 * after every stream/call/job is released: sb_pocketsphinx_shutdown(),
 * sb_espeak_shutdown(), sb_llm_local_shutdown(). */

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

/* The same turn where the business offers tools (functions: their names,
 * a JSON array, may be NULL): an intent whose tool is offered answers
 * nothing yet and sets *call_out to {"name", "arguments"} (new
 * reference) — order_status with a number calls "lookup_order" (or the
 * intent's "tool") with {"order": "12345"}; another intent with "tool"
 * and "arguments" ({"key": "text with {name} {order}"}) calls that tool.
 * Otherwise *call_out is NULL and the answer is the knowledge base's.
 * memory gains "tool_intent" (the intent that called). */
char *sb_local_turn(json_t *kb, json_t *memory, const char *utterance, const char *language,
                    json_t *functions, char **tool_out, json_t **call_out);

/* The answer once the tools called have answered: messages ends with
 * their results ({"role": "tool", "content": a JSON text}).  Each result's
 * "say" is spoken as is; a result without one (an error, a timeout, a
 * back end with nothing to say) gets the knowledge base's answer for the
 * intent that called (orders: the "orders" table).  g_free. */
char *sb_local_tool_reply(json_t *kb, json_t *memory, json_t *messages, const char *language);

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
/* The mood of one utterance as the summary counts it: positive minus
 * negative words of the knowledge base's "mood" lexicon (or the built-in
 * one), a negation ("not", "never") flipping the next word.  The words
 * heard are added to words (an array, unique) when it is not NULL.  Any
 * thread; kb may be NULL. */
int sb_local_mood(json_t *kb, const char *text, json_t *words);

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

/* Language-model passes so far, process-wide: the fallback's and the
 * number checks'.  What a test counts to see a pass spared. */
uint64_t sb_pocketsphinx_lm_passes(void);

/* ---- espeak-ng (tts_espeak.c) ---- */

/* Starts the synthesis thread and initialises espeak-ng (blocking, ~20 ms);
 * false with *error when espeak-ng's data cannot be found. */
bool sb_espeak_init(char **error);
/* Stops the thread (pending jobs end with done("shutdown")), terminates
 * espeak-ng.  Every job must have been released. */
void sb_espeak_shutdown(void);

/* The espeak-ng voice for a language ("en" → "en-us", "ar" → "ar"); a
 * voice given in config wins when it speaks that language.  Static string
 * or an argument. */
const char *sb_espeak_voice_for(const char *language, const char *voice);

#endif
