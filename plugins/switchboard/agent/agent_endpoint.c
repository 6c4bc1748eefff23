/* Knowing when the caller is done: silence alone cuts callers off when
 * they pause inside a sentence ("my order number is … one two three").
 * What the recogniser has heard so far tells an unfinished sentence (a
 * trailing "and", "um", "is", a number still short of an order number's
 * digits) from a complete question; the agent waits longer (bounded) for
 * the one and less for the other.  Words as the dialog engine sees them
 * (sb_kb_tokens: lower case, numbers joined into digits). */
#include "agent/agent_private.h"

#include <string.h>

#include <glib.h>

#include "embedded/embedded.h"

/* A sentence that ends with one of these is not over. */
static const char *const open_words[] = {
        "and",   "um",   "uh",     "er",      "erm",  "hmm",  "so",   "but", "or",  "the",
        "a",     "an",   "to",     "of",      "for",  "with", "is",   "are", "was", "my",
        "your",  "our",  "number", "because", "then", "if",   "at",   "in",  "on",  "from",
        "about", "like", "that",   "which",   "also", "plus", "its",  "am"};
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

sb_turn_shape sb_turn_shape_of(const char *heard)
{
	g_autoptr(GPtrArray) words = sb_kb_tokens(heard);
	if (words->len == 0)
		return SB_TURN_UNSURE;
	const char *last = words->pdata[words->len - 1];
	if (in_list(last, open_words, G_N_ELEMENTS(open_words)))
		return SB_TURN_OPEN;
	if (all_digits(last) && strlen(last) < NUMBER_DIGITS)
		return SB_TURN_OPEN;
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
