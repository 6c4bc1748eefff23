/* The "local" language model: a deterministic dialog engine over the
 * knowledge base (embedded.h, "kb").  No model, no network: an utterance is normalised,
 * slots (the caller's name, an order number) are taken out, and what is left
 * is matched against intent phrases and FAQ questions by weighted token
 * overlap.  Per-call state lives in the request's memory object, so the
 * engine itself is stateless and every call can run on any worker.
 *
 * The summary for warm transfers is in local_summary.c; the provider (the
 * engine behind the asynchronous LLM interface) is local_provider.c. */
#include <string.h>

#include <glib.h>

#include "core/core.h"
#include "embedded/embedded.h"

#define MATCH_THRESHOLD 0.5
#define MAX_TOPICS 32

/* ---- matching ---- */

/* Words that carry little meaning in a question: they still count, a
 * quarter as much, so "that's all" (all stop words) can match. */
static const char *const stop_words[] = {
        "a",    "an",   "the",   "is",     "are",  "am",   "was",  "i",    "you",  "your",
        "my",   "me",   "we",    "our",    "us",   "to",   "of",   "for",  "on",   "in",
        "at",   "do",   "does",  "did",    "can",  "could", "would", "will", "please", "it",
        "this", "that", "with",  "and",    "be",   "there", "have", "has", "about", "just",
        "so",   "some", "any",   "want",   "like", "need", "know", "tell", "ok",   "okay",
        "yes",  "well", "um",    "uh",     "hmm",  "oh",   "then", "now",  "if",   "or",
        "get",  "not",  "no",    "really", "very", "also", "too",  "he",   "she",  "they"};
static const char *const question_words[] = {"what", "when", "where", "how", "who", "why", "which"};

static bool in_list(const char *w, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return true;
	return false;
}

static bool is_stop(const char *w)
{
	return in_list(w, stop_words, G_N_ELEMENTS(stop_words));
}

static double weight(const char *w)
{
	if (is_stop(w))
		return 0.25;
	return in_list(w, question_words, G_N_ELEMENTS(question_words)) ? 0.6 : 1.0;
}

/* Plural and third-person "s" off ("hours" = "hour"): enough stemming for
 * a knowledge base written by people, applied to both sides alike. */
static char *stem(const char *w)
{
	size_t n = strlen(w);
	if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's')
		return g_strndup(w, n - 1);
	return g_strdup(w);
}

/* Unique stems of tokens, with their total weight. */
static GHashTable *stem_set(GPtrArray *tokens, double *total)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	*total = 0.0;
	for (guint i = 0; i < tokens->len; i++) {
		char *s = stem(tokens->pdata[i]);
		if (g_hash_table_contains(set, s)) {
			g_free(s);
			continue;
		}
		*total += weight(tokens->pdata[i]);
		g_hash_table_add(set, s);
	}
	return set;
}

/* Whether phrase occurs in utt as a run of consecutive tokens. */
static bool contains_run(GPtrArray *utt, GPtrArray *phrase)
{
	for (guint i = 0; phrase->len && i + phrase->len <= utt->len; i++) {
		guint k = 0;
		while (k < phrase->len && strcmp(utt->pdata[i + k], phrase->pdata[k]) == 0)
			k++;
		if (k == phrase->len)
			return true;
	}
	return false;
}

/* Weighted Dice overlap of the two token sets; a phrase said verbatim
 * inside a longer utterance ("ok bye then") scores at least 0.8, more the
 * more of the utterance it explains, so the longest phrase said wins. */
static double score(GPtrArray *utt, GHashTable *uset, double uw, const char *phrase)
{
	g_autoptr(GPtrArray) p = sb_kb_tokens(phrase);
	if (!p->len || !utt->len)
		return 0.0;
	double pw, common = 0.0, content = 0.0, content_common = 0.0;
	g_autoptr(GHashTable) pset = stem_set(p, &pw);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, pset);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (!g_hash_table_contains(uset, key))
			continue;
		/* The weight of the first token with this stem. */
		for (guint i = 0; i < p->len; i++) {
			g_autofree char *s = stem(p->pdata[i]);
			if (strcmp(s, key) == 0) {
				common += weight(p->pdata[i]);
				content_common += weight(p->pdata[i]) == 1.0;
				break;
			}
		}
	}
	if (contains_run(utt, p))
		return MAX(2.0 * common / (pw + uw), 0.8 + 0.2 * MIN(1.0, pw / uw));
	/* Enough of the phrase must have been said: half its meaningful
	 * words, or most of a phrase of small words ("it is" is not "no,
	 * that's it", however well the few words it has overlap). */
	for (guint i = 0; i < p->len; i++)
		content += weight(p->pdata[i]) == 1.0;
	if (content > 0 ? content_common < 0.5 * content : common < 0.6 * pw)
		return 0.0;
	return 2.0 * common / (pw + uw);
}

typedef struct match {
	json_t *intent; /* one of these two, or neither */
	json_t *faq;
	double score;
} match;

static void consider(match *best, GPtrArray *utt, GHashTable *uset, double uw, json_t *phrases,
                     json_t *intent, json_t *faq)
{
	size_t i;
	json_t *v;
	json_array_foreach(phrases, i, v) {
		double s = score(utt, uset, uw, json_string_value(v));
		if (s > best->score) {
			best->score = s;
			best->intent = intent;
			best->faq = faq;
		}
	}
}

static match best_match(json_t *kb, GPtrArray *utt)
{
	match best = {NULL, NULL, 0.0};
	double uw;
	g_autoptr(GHashTable) uset = stem_set(utt, &uw);
	if (!utt->len)
		return best;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kb, "intents"), i, v)
		consider(&best, utt, uset, uw, json_object_get(v, "phrases"), v, NULL);
	json_array_foreach(json_object_get(kb, "faqs"), i, v) {
		g_autoptr(json_t) q = json_pack("[O]", json_object_get(v, "question"));
		consider(&best, utt, uset, uw, q, NULL, v);
		consider(&best, utt, uset, uw, json_object_get(v, "paraphrases"), NULL, v);
	}
	if (best.score < MATCH_THRESHOLD)
		best.intent = best.faq = NULL;
	return best;
}

/* Whether m is nothing, or a short phrase said inside a much longer
 * utterance ("right" in "are you guys open right now", "yeah" in "hi yeah
 * what time are you open until"): a filler word, not what the caller
 * asked, which an entry's keywords may tell better. */
static bool weak_match(const match *m, GPtrArray *utt)
{
	if (!m->intent && !m->faq)
		return true;
	json_t *phrases = json_object_get(m->intent ? m->intent : m->faq,
	                                  m->intent ? "phrases" : "paraphrases");
	size_t i;
	json_t *v;
	json_array_foreach(phrases, i, v)
	{
		g_autoptr(GPtrArray) p = sb_kb_tokens(json_string_value(v));
		if (p->len > 1 || 3 * p->len >= utt->len)
			continue;
		if (contains_run(utt, p))
			return true;
	}
	return false;
}

/* How many of an entry's keywords utt says: a word by its stem ("refunds"
 * = "refund"), several words as a run ("money back"). */
static int keyword_hits(json_t *keywords, GPtrArray *utt, GHashTable *uset)
{
	int hits = 0;
	size_t i;
	json_t *v;
	json_array_foreach(keywords, i, v)
	{
		g_autoptr(GPtrArray) k = sb_kb_tokens(json_string_value(v));
		if (k->len == 1) {
			g_autofree char *st = stem(k->pdata[0]);
			hits += g_hash_table_contains(uset, st);
		} else {
			hits += k->len > 1 && contains_run(utt, k);
		}
	}
	return hits;
}

/* When no phrase is close enough: the entry whose "keywords" the caller
 * said most, if one alone leads.  Callers word things their own way ("is
 * the item under warranty", "can I talk to somebody"), and on a phone line
 * the recogniser's language model gets the topic's word right more often
 * than the words around it.  An entry without keywords (goodbye in the
 * demo: a misheard word must not end the call) is never reached this way. */
static match keyword_match(json_t *kb, GPtrArray *utt)
{
	match best = {NULL, NULL, 0.0};
	double uw;
	g_autoptr(GHashTable) uset = stem_set(utt, &uw);
	int top = 0, ties = 0;
	const char *sections[] = {"intents", "faqs"};
	for (size_t s = 0; s < G_N_ELEMENTS(sections); s++) {
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(kb, sections[s]), i, v)
		{
			int hits = keyword_hits(json_object_get(v, "keywords"), utt, uset);
			if (hits > top) {
				top = hits;
				ties = 0;
				best.intent = s == 0 ? v : NULL;
				best.faq = s == 1 ? v : NULL;
			} else if (hits && hits == top) {
				ties++;
			}
		}
	}
	if (!top || ties)
		best.intent = best.faq = NULL;
	best.score = top;
	return best;
}

/* ---- slots ---- */

/* Words after "i am" / "this is" that are not names ("i am calling …"). */
static const char *const not_names[] = {"calling",  "looking", "trying", "here",  "fine",
                                        "good",     "sorry",   "not",    "still", "just",
                                        "waiting",  "having",  "going",  "happy", "upset",
                                        "interested", "a",     "the",    "very",  "so"};

static bool known_name(json_t *kb, const char *w)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kb, "names"), i, v)
		if (g_ascii_strcasecmp(json_string_value(v), w) == 0)
			return true;
	return false;
}

static char *capitalise(const char *w)
{
	gunichar first = g_utf8_get_char(w);
	char buf[8] = {0};
	g_unichar_to_utf8(g_unichar_totitle(first), buf);
	return g_strconcat(buf, g_utf8_next_char(w), NULL);
}

/* "my name is john" anywhere in utt → "John"; the pattern's tokens are
 * removed from utt so the rest can still be matched ("… and I need help
 * with my order").  Patterns of stop words only ("i am {name}") accept a
 * known name, or an unknown one that ends the utterance. */
static char *take_name(json_t *kb, GPtrArray *utt)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(sb_kb_intent(kb, "give_name"), "patterns"), i, v) {
		const char *pat = json_string_value(v), *slot = strstr(pat, "{name}");
		if (!slot)
			continue;
		g_autofree char *before = g_strndup(pat, (gsize)(slot - pat));
		g_autoptr(GPtrArray) pre = sb_kb_tokens(before);
		bool weak = true;
		for (guint k = 0; k < pre->len; k++)
			weak = weak && is_stop(pre->pdata[k]);
		for (guint s = 0; s + pre->len < utt->len; s++) {
			guint k = 0;
			while (k < pre->len && strcmp(utt->pdata[s + k], pre->pdata[k]) == 0)
				k++;
			const char *cand = utt->pdata[s + k];
			if (k < pre->len || is_stop(cand) || g_ascii_isdigit(cand[0]) ||
			    in_list(cand, not_names, G_N_ELEMENTS(not_names)))
				continue;
			if (weak && !known_name(kb, cand) && s + k + 1 != utt->len)
				continue;
			char *name = capitalise(cand);
			g_ptr_array_remove_range(utt, s, k + 1);
			return name;
		}
	}
	return NULL;
}

static gpointer copy_string(gconstpointer s, gpointer unused)
{
	(void)unused;
	return g_strdup(s);
}

/* Whether utt says the number the way an order_status pattern does
 * ("it's {order}", "my order number is {order}"). */
static bool order_pattern(json_t *intent, GPtrArray *utt, const char *number)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(intent, "patterns"), i, v) {
		g_autoptr(GString) p = g_string_new(json_string_value(v));
		g_string_replace(p, "{order}", number, 0);
		g_autoptr(GPtrArray) pt = sb_kb_tokens(p->str);
		if (pt->len > 1 && contains_run(utt, pt))
			return true;
	}
	return false;
}

/* The first number of three digits or more: order numbers. */
static char *take_number(GPtrArray *utt)
{
	for (guint i = 0; i < utt->len; i++) {
		const char *w = utt->pdata[i];
		if (strlen(w) >= 3 && strspn(w, "0123456789") == strlen(w)) {
			char *n = g_strdup(w);
			g_ptr_array_remove_index(utt, i);
			return n;
		}
	}
	return NULL;
}

/* ---- answers ---- */

typedef struct turn {
	json_t *kb;
	json_t *memory;
	const char *language;
	GString *reply;
	const char *tool;
	json_t *offered; /* names of the business's tools offered, or NULL */
	json_t *call;    /* {"name","arguments"}: a business tool to call instead */
} turn;

static void say(turn *t, json_t *text, json_t *vars)
{
	const char *tmpl = sb_kb_text(text, t->language);
	if (!tmpl)
		return;
	g_autofree char *s = sb_kb_fill(t->kb, tmpl, vars);
	if (t->reply->len)
		g_string_append_c(t->reply, ' ');
	g_string_append(t->reply, s);
}

static void say_default(turn *t, json_t *text, const char *dflt, json_t *vars)
{
	g_autoptr(json_t) d = json_string(dflt);
	say(t, text ? text : d, vars);
}

static json_t *vars_of(json_t *memory)
{
	json_t *vars = json_object();
	const char *keys[] = {"name", "order"};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (json_is_string(json_object_get(memory, keys[i])))
			json_object_set(vars, keys[i], json_object_get(memory, keys[i]));
	return vars;
}

static bool offered(turn *t, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(t->offered, i, v) if (name && !g_strcmp0(json_string_value(v), name))
		return true;
	return false;
}

/* The intent's tool when the business offers it: its arguments filled
 * from the call's memory, and the intent remembered for the answer. */
static bool call_tool(turn *t, json_t *intent, const char *tool, json_t *vars)
{
	if (!offered(t, tool))
		return false;
	json_t *args = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(intent, "arguments"), key, v) {
		g_autofree char *filled = sb_kb_fill(t->kb, json_string_value(v), vars);
		json_object_set_new(args, key, json_string(filled));
	}
	t->call = json_pack("{s:s, s:o}", "name", tool, "arguments", args);
	json_object_set(t->memory, "tool_intent", json_object_get(intent, "name"));
	return true;
}

static void answer_order(turn *t, json_t *intent)
{
	g_autoptr(json_t) vars = vars_of(t->memory);
	const char *order = json_string_value(json_object_get(t->memory, "order"));
	json_t *status = json_object_get(json_object_get(t->kb, "orders"), order ? order : "");
	json_object_del(t->memory, "awaiting");
	/* The business's order system knows better than the demo table. */
	const char *tool = json_string_value(json_object_get(intent, "tool"));
	if (order && !json_object_get(intent, "arguments") &&
	    offered(t, tool ? tool : "lookup_order")) {
		t->call = json_pack("{s:s, s:{s:s}}", "name", tool ? tool : "lookup_order",
		                    "arguments", "order", order);
		json_object_set_new(t->memory, "tool_intent", json_string("order_status"));
		return;
	}
	if (order && call_tool(t, intent, tool, vars))
		return;
	if (!order) {
		json_object_set_new(t->memory, "awaiting", json_string("order_number"));
		say_default(t, json_object_get(intent, "ask"), "What is your order number?", vars);
	} else if (json_is_string(status)) {
		json_object_set(vars, "status", status);
		say_default(t, json_object_get(intent, "answer"), "Order {order} {status}.", vars);
	} else {
		say_default(t, json_object_get(intent, "not_found"), "I couldn't find order {order}.",
		            vars);
	}
}

static void answer_intent(turn *t, json_t *intent)
{
	const char *name = json_string_value(json_object_get(intent, "name"));
	g_autoptr(json_t) vars = vars_of(t->memory);
	bool named = json_object_get(vars, "name") != NULL;
	if (strcmp(name, "order_status") == 0) {
		answer_order(t, intent);
		return;
	}
	if (strcmp(name, "ask_name") == 0 && !named) {
		json_object_set_new(t->memory, "awaiting", json_string("name"));
		say_default(t, json_object_get(intent, "unknown"), "What is your name?", vars);
		return;
	}
	json_t *text = json_object_get(intent, "answer");
	if (strcmp(name, "goodbye") == 0) {
		if (named && json_object_get(intent, "answer_named"))
			text = json_object_get(intent, "answer_named");
		t->tool = "end_call";
	} else if (strcmp(name, "talk_to_human") == 0) {
		t->tool = "transfer_to_human";
	} else if (call_tool(t, intent, json_string_value(json_object_get(intent, "tool")), vars)) {
		return; /* the answer comes from the business's system */
	} else if (json_is_string(json_object_get(intent, "tool"))) {
		t->tool = json_string_value(json_object_get(intent, "tool"));
	}
	say(t, text, vars);
}

static void remember_topic(json_t *memory, const char *topic)
{
	json_object_set_new(memory, "topic", json_string(topic));
	json_object_set_new(memory, "last", json_string(topic));
	json_t *topics = json_object_get(memory, "topics");
	if (!json_is_array(topics)) {
		topics = json_array();
		json_object_set_new(memory, "topics", topics);
	}
	if (json_array_size(topics) >= MAX_TOPICS)
		json_array_remove(topics, 0);
	json_array_append_new(topics, json_string(topic));
}

/* The first sentence of s: "Nice to meet you, John." when more follows. */
static void truncate_to_sentence(GString *s, gsize from)
{
	for (gsize i = from; i < s->len; i++) {
		if (strchr(".!?", s->str[i]) && (i + 1 == s->len || s->str[i + 1] == ' ')) {
			g_string_truncate(s, i + 1);
			return;
		}
	}
}

char *sb_local_reply(json_t *kb, json_t *memory, const char *utterance, const char *language,
                     char **tool_out)
{
	return sb_local_turn(kb, memory, utterance, language, NULL, tool_out, NULL);
}

char *sb_local_turn(json_t *kb, json_t *memory, const char *utterance, const char *language,
                    json_t *functions, char **tool_out, json_t **call_out)
{
	g_autoptr(json_t) scratch = json_is_object(memory) ? json_incref(memory) : json_object();
	turn t = {kb, scratch, language, g_string_new(NULL), NULL, functions, NULL};
	if (call_out)
		*call_out = NULL;
	json_object_del(scratch, "tool_intent");
	g_autoptr(GPtrArray) utt = sb_kb_tokens(utterance);
	if (tool_out)
		*tool_out = NULL;
	if (!utt->len) {
		say_default(&t, json_object_get(kb, "reprompt"), "Sorry, I didn't hear you. How can I help?",
		            NULL);
		json_object_set_new(scratch, "last", json_string("empty"));
		return g_string_free(t.reply, FALSE);
	}
	json_object_set_new(scratch, "turns",
	                    json_integer(json_integer_value(json_object_get(scratch, "turns")) + 1));
	const char *awaiting = json_string_value(json_object_get(scratch, "awaiting"));

	char *name = take_name(kb, utt);
	/* "What is your name?" — "John." */
	if (!name && awaiting && strcmp(awaiting, "name") == 0 && utt->len == 1 &&
	    !is_stop(utt->pdata[0]) && !g_ascii_isdigit(((char *)utt->pdata[0])[0])) {
		name = capitalise(utt->pdata[0]);
		g_ptr_array_set_size(utt, 0);
	}
	if (name) {
		json_object_set_new(scratch, "name", json_string(name));
		json_object_del(scratch, "awaiting");
		g_autoptr(json_t) vars = vars_of(scratch);
		json_t *give = sb_kb_intent(kb, "give_name");
		say_default(&t, give ? json_object_get(give, "answer") : NULL,
		            "Nice to meet you, {name}.", vars);
		remember_topic(scratch, "give_name");
		g_free(name);
	}
	gsize name_reply_end = t.reply->len;
	json_t *order_intent = sb_kb_intent(kb, "order_status");
	g_autoptr(GPtrArray) said = g_ptr_array_copy(utt, copy_string, NULL);
	g_autofree char *number = take_number(utt);
	bool order_said = number && order_intent && order_pattern(order_intent, said, number);
	match m = best_match(kb, utt);
	if (!number && weak_match(&m, utt)) {
		match k = keyword_match(kb, utt);
		if (k.intent || k.faq || (!m.intent && !m.faq))
			m = k;
	}
	const char *intent = m.intent ? json_string_value(json_object_get(m.intent, "name")) : NULL;
	/* "Hi, my name is John": the name greeting already says hello. */
	if (t.reply->len && intent && strcmp(intent, "hello") == 0) {
		m.intent = NULL;
		intent = NULL;
	}
	awaiting = json_string_value(json_object_get(scratch, "awaiting"));

	/* A number is an order number unless the rest is clearly about
	 * something else ("it's 12345", "order one two three four five"). */
	bool about_order = order_said || (!m.intent && !m.faq) ||
	                   (intent && strcmp(intent, "order_status") == 0) ||
	                   (awaiting && strcmp(awaiting, "order_number") == 0);
	if (number && order_intent && about_order) {
		json_object_set_new(scratch, "order", json_string(number));
		answer_order(&t, order_intent);
		remember_topic(scratch, "order_status");
	} else if (m.intent) {
		answer_intent(&t, m.intent);
		remember_topic(scratch, intent);
	} else if (m.faq) {
		g_autoptr(json_t) vars = vars_of(scratch);
		say(&t, json_object_get(m.faq, "answer"), vars);
		remember_topic(scratch, json_string_value(json_object_get(m.faq, "id")));
	} else if (t.reply->len) {
		/* Only a name: "Nice to meet you, John. How can I help you today?" */
	} else if (awaiting && strcmp(awaiting, "order_number") == 0) {
		say_default(&t, NULL,
		            "Sorry, I didn't get the order number. Please say the digits one by one.",
		            NULL);
		json_object_set_new(scratch, "last", json_string("fallback"));
	} else {
		say(&t, json_object_get(kb, "fallback"), NULL);
		json_object_set_new(scratch, "last", json_string("fallback"));
	}
	/* With another answer after it, the name greeting keeps only its
	 * first sentence, not its "How can I help you today?". */
	if (name_reply_end && t.reply->len > name_reply_end) {
		g_autofree char *rest = g_strdup(t.reply->str + name_reply_end);
		g_string_truncate(t.reply, name_reply_end);
		truncate_to_sentence(t.reply, 0);
		g_string_append(t.reply, rest);
	}
	if (tool_out && t.tool)
		*tool_out = g_strdup(t.tool);
	if (call_out)
		*call_out = t.call;
	else
		json_decref(t.call);
	return g_string_free(t.reply, FALSE);
}

/* The results of the tools called since the caller's last turn, oldest
 * first (borrowed from messages). */
static GPtrArray *tool_results(json_t *messages)
{
	GPtrArray *out = g_ptr_array_new();
	size_t n = json_array_size(messages);
	while (n > 0 && !g_strcmp0(json_string_value(json_object_get(json_array_get(messages, n - 1),
	                                                             "role")),
	                           "tool"))
		n--;
	for (size_t i = n; i < json_array_size(messages); i++)
		g_ptr_array_add(out, json_array_get(messages, i));
	return out;
}

char *sb_local_tool_reply(json_t *kb, json_t *memory, json_t *messages, const char *language)
{
	g_autoptr(GPtrArray) results = tool_results(messages);
	GString *reply = g_string_new(NULL);
	bool unanswered = false;
	for (guint i = 0; i < results->len; i++) {
		const char *content = json_string_value(json_object_get(results->pdata[i], "content"));
		g_autoptr(json_t) result = content ? json_loads(content, 0, NULL) : NULL;
		const char *say = json_string_value(json_object_get(result, "say"));
		if (say && *say && !json_object_get(result, "error"))
			g_string_append_printf(reply, "%s%s", reply->len ? " " : "", say);
		else
			unanswered = true;
	}
	if (unanswered || !reply->len) {
		/* The back end did not say: the knowledge base's own answer. */
		const char *name = json_string_value(json_object_get(memory, "tool_intent"));
		json_t *intent = sb_kb_intent(kb, name ? name : "");
		g_autoptr(json_t) vars = vars_of(memory);
		turn t = {kb, memory, language, g_string_new(NULL), NULL, NULL, NULL};
		if (intent && !strcmp(name, "order_status"))
			answer_order(&t, intent);
		else if (intent)
			say(&t, json_object_get(intent, "answer"), vars);
		else
			say(&t, json_object_get(kb, "fallback"), NULL);
		g_string_append_printf(reply, "%s%s", reply->len ? " " : "", t.reply->str);
		g_string_free(t.reply, TRUE);
		json_decref(t.call);
	}
	json_object_del(memory, "tool_intent");
	return g_string_free(reply, FALSE);
}
