/* Knowing when the caller is done: silence alone cuts callers off when
 * they pause inside a sentence ("my order number is … one two three").
 * What the recogniser has heard so far tells an unfinished sentence (a
 * trailing "and", "um", "is", a number still short of an order number's
 * digits) from a complete question; the agent waits longer (bounded) for
 * the one and less for the other, as for one of the knowledge base's whole
 * sentences: the recogniser's grammar is in an end state there.  Words as
 * the dialog engine sees them (sb_kb_tokens: lower case, numbers joined
 * into digits). */
#include "agent/agent_private.h"

#include <string.h>

#include <glib.h>

#include "embedded/embedded.h"

/* A sentence that ends with one of these is not over. */
static const char *const open_words[] = {
        "and",   "um",   "uh",     "er",      "erm",  "hmm",  "so",  "but", "or",  "the",
        "a",     "an",   "to",     "of",      "for",  "with", "is",  "are", "was", "my",
        "your",  "our",  "number", "because", "then", "if",   "at",  "in",  "on",  "from",
        "about", "like", "that",   "which",   "also", "plus", "its", "am"};
/* …and one that begins with one of these, long enough, asks something. */
static const char *const question_words[] = {"what", "where", "when",  "how",   "why",
                                             "who",  "which", "can",   "could", "do",
                                             "does", "will",  "would", "is",    "are"};
/* Digits a number needs before it may be complete (the knowledge base's
 * order numbers have five). */
#define NUMBER_DIGITS 5
#define QUESTION_WORDS 4

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w, list[i]))
			return true;
	return false;
}

static bool all_digits(const char *w)
{
	if (!*w)
		return false;
	for (const char *c = w; *c; c++)
		if (!g_ascii_isdigit(*c))
			return false;
	return true;
}

struct sb_turn_ends {
	GHashTable *sentences; /* normalised (sb_kb_normalise), owned */
};

/* The grammar (embedded/grammar.c) lets a caller go on after these. */
static const char *const lead_intents[] = {"hello", "thanks", "give_name"};

/* A string or a language map's every string. */
static void add_texts(sb_turn_ends *ends, json_t *text)
{
	if (json_is_string(text)) {
		char *n = sb_kb_normalise(json_string_value(text));
		if (*n)
			g_hash_table_add(ends->sentences, n);
		else
			g_free(n);
		return;
	}
	const char *language;
	json_t *v;
	json_object_foreach(text, language, v) add_texts(ends, v);
}

static void add_list(sb_turn_ends *ends, json_t *list)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) add_texts(ends, v);
}

sb_turn_ends *sb_turn_ends_new(json_t *kb)
{
	sb_turn_ends *ends = g_new0(sb_turn_ends, 1);
	ends->sentences = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kb, "intents"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "name"));
		if (!name || !in_list(name, lead_intents, G_N_ELEMENTS(lead_intents)))
			add_list(ends, json_object_get(v, "phrases"));
	}
	json_array_foreach(json_object_get(kb, "faqs"), i, v)
	{
		add_texts(ends, json_object_get(v, "question"));
		add_list(ends, json_object_get(v, "paraphrases"));
	}
	return ends;
}

void sb_turn_ends_free(sb_turn_ends *ends)
{
	if (!ends)
		return;
	g_hash_table_destroy(ends->sentences);
	g_free(ends);
}

sb_turn_shape sb_turn_shape_of(const char *heard, const sb_turn_ends *ends)
{
	g_autoptr(GPtrArray) words = sb_kb_tokens(heard);
	if (words->len == 0)
		return SB_TURN_UNSURE;
	const char *last = words->pdata[words->len - 1];
	if (in_list(last, open_words, G_N_ELEMENTS(open_words)))
		return SB_TURN_OPEN;
	if (all_digits(last) && strlen(last) < NUMBER_DIGITS)
		return SB_TURN_OPEN;
	if (ends) {
		g_autofree char *sentence = sb_kb_normalise(heard);
		if (g_hash_table_contains(ends->sentences, sentence))
			return SB_TURN_COMPLETE;
	}
	if (words->len >= QUESTION_WORDS &&
	    in_list(words->pdata[0], question_words, G_N_ELEMENTS(question_words)))
		return SB_TURN_COMPLETE;
	return SB_TURN_UNSURE;
}

int sb_turn_wait_ms(sb_turn_shape shape, const sb_turn_waits *w)
{
	switch (shape) {
	case SB_TURN_OPEN:
		return w->max_ms;
	case SB_TURN_COMPLETE:
		return w->min_ms;
	default:
		return w->base_ms;
	}
}
