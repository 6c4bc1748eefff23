/* A bigram language model of the knowledge base's own wording, in ARPA
 * text.  The general en-us model knows how English goes but not what a
 * shop's callers ask about: over a phone line it explains "what's your
 * number" as "what's your" and silence, because "number" after "your" is
 * no likelier to it than any other word.  Interpolated with it
 * (pocketsphinx_models.c), this one makes the knowledge base's words
 * likely where its sentences put them, while the general model still
 * covers wordings the knowledge base never lists.
 *
 * Trained on the sentences the grammar is made of (intent phrases, FAQ
 * questions and paraphrases) and on each keyword as a sentence of its own.
 * Smoothing is absolute discounting, interpolated with the unigrams, which
 * an ARPA backoff model states exactly: a seen bigram's probability
 * includes its share of the unigram, and the backoff weight of a history
 * is the discounted mass. */
#include <math.h>
#include <string.h>

#include "embedded/embedded.h"

/* The discount on each seen bigram (Ney's D for data this small: a
 * history followed by many words in one sentence each keeps about half of
 * its mass for words it was never seen with); at most half a bigram's
 * count, for the sentences that weigh less than one. */
#define DISCOUNT 0.5
/* The weight of each "{order}" pattern with one digit in the slot: the ten
 * of them together weigh about one sentence. */
#define ORDER_DIGIT_WEIGHT 0.1
/* Added to every unigram count, so that a word seen once is not a hundred
 * times less likely than one seen in every sentence. */
#define UNIGRAM_ADD 0.5

/* Counts are weighted: a double per key. */
typedef struct counts {
	GHashTable *unigrams;   /* word → count */
	GHashTable *bigrams;    /* "w1 w2" → count */
	GHashTable *history;    /* w1 → bigrams starting with it */
	GHashTable *discounted; /* w1 → what discounting took off its bigrams */
	double tokens;          /* unigram tokens, </s> included, <s> not */
} counts;

static void bump(GHashTable *table, const char *key, double by)
{
	double *v = g_hash_table_lookup(table, key);
	if (!v) {
		v = g_new0(double, 1);
		g_hash_table_insert(table, g_strdup(key), v);
	}
	*v += by;
}

static double count_of(GHashTable *table, const char *key)
{
	double *v = g_hash_table_lookup(table, key);
	return v ? *v : 0.0;
}

static double discount(double count)
{
	return MIN(DISCOUNT, count / 2);
}

static void add_weighted(counts *c, const char *text, double weight, sb_kb_known_fn known,
                         void *user)
{
	if (!text)
		return;
	g_autoptr(GPtrArray) words = sb_kb_words(text);
	if (!words->len)
		return;
	/* A sentence with a word the recogniser cannot say is left out whole:
	 * its bigrams across the gap would be false. */
	for (guint i = 0; i < words->len; i++)
		if (known && !known(words->pdata[i], user))
			return;
	const char *prev = "<s>";
	for (guint i = 0; i <= words->len; i++) {
		const char *w = i < words->len ? words->pdata[i] : "</s>";
		bump(c->unigrams, w, weight);
		c->tokens += weight;
		g_autofree char *pair = g_strdup_printf("%s %s", prev, w);
		bump(c->bigrams, pair, weight);
		bump(c->history, prev, weight);
		prev = w;
	}
}

static void add_sentence(counts *c, const char *text, sb_kb_known_fn known, void *user)
{
	add_weighted(c, text, 1.0, known, user);
}

static void add_list(counts *c, json_t *array, sb_kb_known_fn known, void *user)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v)
	{
		const char *s = json_string_value(v);
		if (s && !strchr(s, '{')) /* patterns with a slot: below */
			add_sentence(c, s, known, user);
	}
}

static const char *const digit_words[10] = {"zero", "one", "two",   "three", "four",
                                            "five", "six", "seven", "eight", "nine"};

/* Order numbers, so that this model can hear them too (the recogniser
 * asks it whether a number the grammar heard was one): each {order}
 * pattern with every digit in the slot, and one sentence in which every
 * digit follows every other once (a de Bruijn sequence), not a hundred
 * sentences that would make digits the likeliest words of all. */
static void add_order_numbers(counts *c, json_t *patterns, sb_kb_known_fn known, void *user)
{
	size_t i;
	json_t *v;
	json_array_foreach(patterns, i, v)
	{
		const char *s = json_string_value(v);
		const char *slot = s ? strstr(s, "{order}") : NULL;
		if (!slot || strchr(slot + 7, '{'))
			continue;
		g_autofree char *before = g_strndup(s, (gsize)(slot - s));
		for (int d = 0; d < 10; d++) {
			g_autofree char *line =
			        g_strdup_printf("%s %s %s", before, digit_words[d], slot + 7);
			add_weighted(c, line, ORDER_DIGIT_WEIGHT, known, user);
		}
	}
	/* B(10, 2): 00 10 20 … as the cycle 0 0 1 0 2 …, closed by its
	 * first digit. */
	int seq[101], len = 0;
	/* Lyndon words of length 1 or 2 in order: (0) (0 1) (0 2) … (0 9) (1)
	 * (1 2) … (8 9) (9). */
	for (int a = 0; a < 10; a++) {
		seq[len++] = a;
		for (int b = a + 1; b < 10; b++) {
			seq[len++] = a;
			seq[len++] = b;
		}
	}
	seq[len++] = seq[0];
	GString *line = g_string_new(NULL);
	for (int k = 0; k < len; k++)
		g_string_append_printf(line, "%s%s", k ? " " : "", digit_words[seq[k]]);
	add_sentence(c, line->str, known, user);
	g_string_free(line, TRUE);
}

static double unigram_p(const counts *c, const char *w, double vocabulary)
{
	return (count_of(c->unigrams, w) + UNIGRAM_ADD) / (c->tokens + UNIGRAM_ADD * vocabulary);
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The table's keys, sorted: the model's text is stable, so it can be
 * diffed and tested. */
static GPtrArray *sorted_keys(GHashTable *table)
{
	GPtrArray *keys = g_ptr_array_new();
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, table);
	while (g_hash_table_iter_next(&it, &k, NULL))
		g_ptr_array_add(keys, k);
	g_ptr_array_sort(keys, compare_strings);
	return keys;
}

/* The model's text: the unigrams with their backoff weights, then the
 * seen bigrams. */
static char *arpa_text(counts *c)
{
	g_autoptr(GPtrArray) words = sorted_keys(c->unigrams);
	g_autoptr(GPtrArray) pairs = sorted_keys(c->bigrams);
	double vocabulary = words->len;
	/* A history's backoff weight is the mass its bigrams gave up. */
	for (guint i = 0; i < pairs->len; i++) {
		const char *pair = pairs->pdata[i];
		g_autofree char *first = g_strndup(pair, strcspn(pair, " "));
		bump(c->discounted, first, discount(count_of(c->bigrams, pair)));
	}
	GString *out = g_string_new(NULL);
	g_string_append_printf(out, "\\data\\\nngram 1=%u\nngram 2=%u\n\n\\1-grams:\n",
	                       words->len + 1, pairs->len);
	/* <s> only begins sentences: no probability, a backoff weight. */
	double bo = count_of(c->discounted, "<s>") / count_of(c->history, "<s>");
	g_string_append_printf(out, "-99 <s> %.6f\n", log10(bo));
	for (guint i = 0; i < words->len; i++) {
		const char *w = words->pdata[i];
		double h = count_of(c->history, w);
		g_string_append_printf(out, "%.6f %s", log10(unigram_p(c, w, vocabulary)), w);
		if (h > 0)
			g_string_append_printf(out, " %.6f", log10(count_of(c->discounted, w) / h));
		g_string_append_c(out, '\n');
	}
	g_string_append(out, "\n\\2-grams:\n");
	for (guint i = 0; i < pairs->len; i++) {
		const char *pair = pairs->pdata[i];
		g_autofree char *first = g_strndup(pair, strcspn(pair, " "));
		const char *second = pair + strlen(first) + 1;
		double h = count_of(c->history, first), n = count_of(c->bigrams, pair);
		double backoff = count_of(c->discounted, first) / h;
		double p = (n - discount(n)) / h + backoff * unigram_p(c, second, vocabulary);
		g_string_append_printf(out, "%.6f %s\n", log10(p), pair);
	}
	g_string_append(out, "\n\\end\\\n");
	return g_string_free(out, FALSE);
}

char *sb_kb_domain_arpa(json_t *kb, sb_kb_known_fn known, void *user)
{
	counts c = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
	            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
	            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
	            g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), 0};
	const char *sections[] = {"intents", "faqs"};
	for (size_t s = 0; s < G_N_ELEMENTS(sections); s++) {
		size_t i;
		json_t *entry;
		json_array_foreach(json_object_get(kb, sections[s]), i, entry)
		{
			add_list(&c, json_object_get(entry, "phrases"), known, user);
			add_sentence(&c, json_string_value(json_object_get(entry, "question")),
			             known, user);
			add_list(&c, json_object_get(entry, "paraphrases"), known, user);
			add_list(&c, json_object_get(entry, "keywords"), known, user);
			const char *name = json_string_value(json_object_get(entry, "name"));
			if (name && strcmp(name, "order_status") == 0)
				add_order_numbers(&c, json_object_get(entry, "patterns"), known,
				                  user);
		}
	}
	char *arpa = c.tokens > 0 ? arpa_text(&c) : NULL;
	g_hash_table_destroy(c.unigrams);
	g_hash_table_destroy(c.bigrams);
	g_hash_table_destroy(c.history);
	g_hash_table_destroy(c.discounted);
	return arpa;
}
