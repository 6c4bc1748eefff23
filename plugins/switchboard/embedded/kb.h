/* The agent's knowledge base (conf/knowledge-base.json): what the embedded
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
 *   faqs      [{id, question, paraphrases [..], answer text}]
 *   mood      {"negative": [words], "positive": [words]}: summary lexicon
 *             (optional; a built-in one is used otherwise)
 *
 * Placeholders in texts: {company} {phone} {address} {hours} {website}
 * {name} {order} {status}; any other {…} is a validation error. */
#ifndef SB_KB_H
#define SB_KB_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

/* g_autoptr(json_t) for the providers' own files (guarded: another module
 * may define the same). */
#ifndef SB_JSON_AUTOPTR
#define SB_JSON_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
#endif

/* Where the knowledge base is when nothing says otherwise: $SWITCHBOARD_KB,
 * else SB_KB_DEFAULT_PATH (set by the build to conf/ of the checkout). */
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

#endif
