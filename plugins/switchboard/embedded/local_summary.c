/* Extractive call summary for warm transfers (sb_local_summary in
 * embedded.h): who called, about what, what the AI already said, how the
 * caller feels, what to do next.  Every sentence is taken from the call or
 * the knowledge base; nothing is invented, so it is safe to show a human
 * agent without review. */
#include <string.h>

#include <glib.h>

#include "embedded/embedded.h"

/* Used when the knowledge base has no "mood" lexicon. */
static const char *const negative_default[] = {"angry",   "annoyed", "upset",   "terrible",
                                               "awful",   "bad",     "broken",  "late",
                                               "worst",   "useless", "wrong",   "frustrated",
                                               "problem", "ridiculous", "disappointed"};
static const char *const positive_default[] = {"great", "thanks", "thank",     "good",
                                               "perfect", "excellent", "happy", "helpful"};

/* Topics that are manners, not an issue. */
static const char *const small_talk[] = {"hello", "thanks", "give_name", "goodbye", "ask_name"};

static bool listed(const char *w, json_t *lexicon, const char *const *dflt, size_t n)
{
	if (json_is_array(lexicon)) {
		size_t i;
		json_t *v;
		json_array_foreach(lexicon, i, v)
			if (g_ascii_strcasecmp(json_string_value(v), w) == 0)
				return true;
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, dflt[i]) == 0)
			return true;
	return false;
}

static bool is_ai(json_t *entry)
{
	const char *who = json_string_value(json_object_get(entry, "role"));
	if (!who)
		who = json_string_value(json_object_get(entry, "speaker"));
	static const char *const ai[] = {"assistant", "agent", "ai", "bot", "system"};
	for (size_t i = 0; who && i < G_N_ELEMENTS(ai); i++)
		if (g_ascii_strcasecmp(who, ai[i]) == 0)
			return true;
	return false;
}

static const char *text_of(json_t *entry)
{
	const char *t = json_string_value(json_object_get(entry, "content"));
	return t ? t : json_string_value(json_object_get(entry, "text"));
}

static void add_unique_string(json_t *array, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return;
	json_array_append_new(array, json_string(s));
}

static bool has(json_t *array, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static char *next_step(json_t *kb, json_t *s, json_t *scratch)
{
	GString *out = g_string_new(NULL);
	const char *order = json_string_value(json_object_get(json_object_get(s, "caller"), "order"));
	json_t *topics = json_object_get(s, "topics");
	const char *awaiting = json_string_value(json_object_get(scratch, "awaiting"));
	if (json_integer_value(json_object_get(s, "mood_score")) < 0)
		g_string_append(out, "Apologise for the trouble. ");
	if (has(topics, "talk_to_human"))
		g_string_append(out, "The caller asked for a person: greet them by name and ");
	else
		g_string_append(out, "Confirm the caller's need and ");
	if (order) {
		const char *status =
		        json_string_value(json_object_get(json_object_get(kb, "orders"), order));
		if (status)
			g_string_append_printf(out, "follow up on order %s, which %s.", order, status);
		else
			g_string_append_printf(out, "verify order number %s, which was not found.",
			                       order);
	} else if (awaiting && strcmp(awaiting, "order_number") == 0) {
		g_string_append(out, "ask for the order number.");
	} else if (*json_string_value(json_object_get(s, "issue"))) {
		g_string_append_printf(out, "resolve: \"%s\".",
		                       json_string_value(json_object_get(s, "issue")));
	} else {
		g_string_append(out, "ask how you can help.");
	}
	return g_string_free(out, FALSE);
}

static char *as_text(json_t *s)
{
	GString *t = g_string_new("Caller: ");
	json_t *caller = json_object_get(s, "caller");
	const char *name = json_string_value(json_object_get(caller, "name"));
	const char *order = json_string_value(json_object_get(caller, "order"));
	g_string_append(t, name ? name : "name unknown");
	if (order)
		g_string_append_printf(t, ", order %s", order);
	const char *issue = json_string_value(json_object_get(s, "issue"));
	g_string_append_printf(t, ". Issue: %s%s%s.", *issue ? "\"" : "", *issue ? issue : "none stated",
	                       *issue ? "\"" : "");
	json_t *topics = json_object_get(s, "topics"), *tried = json_object_get(s, "tried");
	size_t i;
	json_t *v;
	if (json_array_size(topics)) {
		g_string_append(t, " Topics:");
		json_array_foreach(topics, i, v)
			g_string_append_printf(t, "%s %s", i ? "," : "", json_string_value(v));
		g_string_append_c(t, '.');
	}
	if (json_array_size(tried)) {
		g_string_append(t, " The assistant said:");
		json_array_foreach(tried, i, v)
			g_string_append_printf(t, "%s \"%s\"", i ? ";" : "", json_string_value(v));
		g_string_append_c(t, '.');
	}
	g_string_append_printf(t, " Mood: %s. Next step: %s",
	                       json_string_value(json_object_get(s, "mood")),
	                       json_string_value(json_object_get(s, "next_step")));
	return g_string_free(t, FALSE);
}

/* Positive minus negative lexicon words in tokens; the words heard are
 * added to words (unique) when it is not NULL. */
static int tokens_mood(json_t *lex, GPtrArray *tokens, json_t *words)
{
	int mood = 0;
	for (guint k = 0; k < tokens->len; k++) {
		const char *w = tokens->pdata[k];
		/* "not good" is not positive: a negation flips the next word. */
		bool negated = k > 0 && (strcmp(tokens->pdata[k - 1], "not") == 0 ||
		                         strcmp(tokens->pdata[k - 1], "never") == 0);
		int d = listed(w, json_object_get(lex, "negative"), negative_default,
		               G_N_ELEMENTS(negative_default))
		                ? -1
		        : listed(w, json_object_get(lex, "positive"), positive_default,
		                 G_N_ELEMENTS(positive_default))
		                ? 1
		                : 0;
		if (d && words)
			add_unique_string(words, w);
		mood += negated ? -d : d;
	}
	return mood;
}

int sb_local_mood(json_t *kb, const char *text, json_t *words)
{
	g_autoptr(GPtrArray) tokens = sb_kb_tokens(text ? text : "");
	return tokens_mood(json_object_get(kb, "mood"), tokens, words);
}

json_t *sb_local_summary(json_t *kb, json_t *memory, json_t *transcript)
{
	/* Replaying the caller's words through the dialog engine on a scratch
	 * memory finds name, order and topics even without the call's memory. */
	g_autoptr(json_t) scratch = json_object();
	json_t *s = json_object(), *details = json_array(), *topics = json_array(),
	       *tried = json_array(), *mood_words = json_array();
	json_t *lex = json_object_get(kb, "mood");
	const char *greeting = sb_kb_text(json_object_get(kb, "greeting"), "en");
	g_autofree char *greeting_filled = greeting ? sb_kb_fill(kb, greeting, NULL) : NULL;
	int turns = 0, mood = 0;
	const char *issue = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(transcript, i, e) {
		const char *text = text_of(e);
		if (!text || !*text)
			continue;
		if (is_ai(e)) {
			if (!greeting_filled || strcmp(text, greeting_filled) != 0)
				add_unique_string(tried, text);
			continue;
		}
		turns++;
		size_t before = json_array_size(json_object_get(scratch, "topics"));
		g_free(sb_local_reply(kb, scratch, text, "en", NULL));
		const char *last = json_string_value(json_object_get(scratch, "last"));
		g_autoptr(GPtrArray) tokens = sb_kb_tokens(text);
		/* Everything this turn matched ("hi, my name is John" is one). */
		json_t *all = json_object_get(scratch, "topics");
		bool manners = true;
		for (size_t k = before; k < json_array_size(all); k++) {
			const char *topic = json_string_value(json_array_get(all, k));
			add_unique_string(topics, topic);
			manners = manners && listed(topic, NULL, small_talk, G_N_ELEMENTS(small_talk));
		}
		/* Unanswered questions are issues too, if they are sentences. */
		bool substantive = last && strcmp(last, "empty") != 0 &&
		                   (strcmp(last, "fallback") == 0 ? tokens->len >= 3 : !manners);
		if (substantive) {
			if (!issue)
				issue = text;
			if (json_array_size(details) < 3)
				json_array_append_new(details, json_string(text));
		}
		mood += tokens_mood(lex, tokens, mood_words);
	}
	while (json_array_size(tried) > 5)
		json_array_remove(tried, 0);
	json_t *caller = json_object();
	const char *keys[] = {"name", "order"};
	for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
		json_t *v = json_object_get(memory, keys[k]);
		if (!json_is_string(v))
			v = json_object_get(scratch, keys[k]);
		json_object_set_new(caller, keys[k], json_is_string(v) ? json_incref(v) : json_null());
	}
	json_object_set_new(s, "caller", caller);
	json_object_set_new(s, "issue", json_string(issue ? issue : ""));
	json_object_set_new(s, "details", details);
	json_object_set_new(s, "topics", topics);
	json_object_set_new(s, "tried", tried);
	json_object_set_new(s, "mood",
	                    json_string(mood < 0 ? "negative" : mood > 0 ? "positive" : "neutral"));
	json_object_set_new(s, "mood_score", json_integer(mood));
	json_object_set_new(s, "mood_words", mood_words);
	json_object_set_new(s, "turns", json_integer(turns));
	char *step = next_step(kb, s, memory && json_object_get(memory, "awaiting") ? memory : scratch);
	json_object_set_new(s, "next_step", json_string(step));
	g_free(step);
	char *text = as_text(s);
	json_object_set_new(s, "text", json_string(text));
	g_free(text);
	return s;
}
