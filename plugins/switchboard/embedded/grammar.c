/* The recogniser's JSGF grammar, generated from the knowledge base.  A
 * domain grammar is what makes pocketsphinx usable here: the general en-us
 * model turns "I need help with my order" into nonsense, the grammar gets it
 * word for word. */
#include <string.h>

#include "embedded/embedded.h"

typedef struct filter {
	sb_kb_known_fn known;
	void *user;
	GPtrArray *dropped;
	GHashTable *dropped_seen;
} filter;

static bool keep_word(filter *f, const char *w)
{
	if (!f->known || f->known(w, f->user))
		return true;
	if (!g_hash_table_contains(f->dropped_seen, w)) {
		g_hash_table_add(f->dropped_seen, g_strdup(w));
		if (f->dropped)
			g_ptr_array_add(f->dropped, g_strdup(w));
	}
	return false;
}

/* The recognisable words of text, space separated; "" when none survive. */
static void append_words(GString *out, filter *f, const char *text)
{
	g_autoptr(GPtrArray) words = sb_kb_words(text);
	for (guint i = 0; i < words->len; i++) {
		if (!keep_word(f, words->pdata[i]))
			continue;
		if (out->len && out->str[out->len - 1] != ' ')
			g_string_append_c(out, ' ');
		g_string_append(out, words->pdata[i]);
	}
}

/* A phrase or a pattern with one slot ("my name is {name}") as a JSGF
 * expansion; NULL when it is left with no words and no slot. */
static char *expansion(filter *f, const char *phrase, const char *slot, const char *rule)
{
	GString *out = g_string_new(NULL);
	const char *at = slot ? strstr(phrase, slot) : NULL;
	if (at) {
		g_autofree char *before = g_strndup(phrase, (gsize)(at - phrase));
		append_words(out, f, before);
		g_string_append_printf(out, "%s%s", out->len ? " " : "", rule);
		append_words(out, f, at + strlen(slot));
	} else {
		append_words(out, f, phrase);
	}
	g_strstrip(out->str);
	if (!out->str[0]) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/* Adds unique expansions in insertion order (the grammar text is stable,
 * so a test or a human can diff it). */
static void add_unique(GPtrArray *list, GHashTable *seen, char *exp)
{
	if (!exp)
		return;
	if (g_hash_table_contains(seen, exp)) {
		g_free(exp);
		return;
	}
	g_hash_table_add(seen, exp);
	g_ptr_array_add(list, exp);
}

static bool has_string(json_t *array, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

static void add_strings(GPtrArray *list, GHashTable *seen, filter *f, json_t *array,
                        const char *slot, const char *rule)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v) {
		const char *s = json_string_value(v);
		if (s && (!slot || strstr(s, slot)))
			add_unique(list, seen, expansion(f, s, slot, rule));
	}
}

static void write_rule(GString *g, const char *name, bool public_rule, GPtrArray *alts)
{
	g_string_append_printf(g, "%s<%s> =", public_rule ? "public " : "", name);
	for (guint i = 0; i < alts->len; i++)
		g_string_append_printf(g, "%s%s", i ? "\n\t| " : " ", (char *)alts->pdata[i]);
	g_string_append(g, ";\n");
}

char *sb_kb_jsgf_filtered(json_t *kb, sb_kb_known_fn known, void *user, GPtrArray *dropped)
{
	filter f = {known, user, dropped, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
	/* The lists own their strings; the sets only index them. */
	g_autoptr(GPtrArray) digits = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) seen_d = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) seen_n = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) seen_p = g_hash_table_new(g_str_hash, g_str_equal);

	/* "oh" for zero is left out on purpose: it is inserted between digits
	 * far more often than callers say it. */
	static const char *const units[] = {"zero", "one", "two",   "three", "four",
	                                    "five", "six", "seven", "eight", "nine"};
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
		if (keep_word(&f, units[i]))
			add_unique(digits, seen_d, g_strdup(units[i]));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kb, "names"), i, v) {
		g_autoptr(GPtrArray) w = sb_kb_words(json_string_value(v));
		if (w->len == 1 && keep_word(&f, w->pdata[0]))
			add_unique(names, seen_n, g_strdup(w->pdata[0]));
	}

	/* What may come before the main part in the same breath ("hello, my
	 * name is john, i need help with my order"): greetings, thanks, the
	 * caller's name.  Only these: a free sequence of any two phrases makes
	 * the decoder split "one two three four five" into "… four" + "bye". */
	g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) seen_x = g_hash_table_new(g_str_hash, g_str_equal);
	bool bare_number = false;
	json_array_foreach(json_object_get(kb, "intents"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		bool prefix = name && (strcmp(name, "hello") == 0 || strcmp(name, "thanks") == 0 ||
		                       strcmp(name, "give_name") == 0);
		add_strings(parts, seen_p, &f, json_object_get(v, "phrases"), NULL, NULL);
		if (prefix)
			add_strings(prefixes, seen_x, &f, json_object_get(v, "phrases"), NULL, NULL);
		if (name && strcmp(name, "give_name") == 0 && names->len) {
			add_strings(parts, seen_p, &f, json_object_get(v, "patterns"), "{name}",
			            "<name>");
			add_strings(prefixes, seen_x, &f, json_object_get(v, "patterns"), "{name}",
			            "<name>");
		}
		/* A bare number is a whole utterance of its own (below): after
		 * "hey" it would only invite "hey eight". */
		if (name && strcmp(name, "order_status") == 0 && digits->len)
			add_strings(parts, seen_p, &f, json_object_get(v, "patterns"), "{order}",
			            "<number>");
		bare_number = bare_number || (name && strcmp(name, "order_status") == 0 &&
		                              has_string(json_object_get(v, "patterns"), "{order}"));
	}
	json_array_foreach(json_object_get(kb, "faqs"), i, v) {
		add_unique(parts, seen_p, expansion(&f, json_string_value(json_object_get(v, "question")),
		                                    NULL, NULL));
		add_strings(parts, seen_p, &f, json_object_get(v, "paraphrases"), NULL, NULL);
	}

	GString *g = g_string_new("#JSGF V1.0;\n\ngrammar switchboard;\n\n");
	if (digits->len) {
		write_rule(g, "digit", false, digits);
		/* Three digits or more, as the dialog engine wants order numbers:
		 * a one-word <number> would soak up any short word misheard. */
		g_string_append(g, "<number> = <digit> <digit> <digit>+;\n");
	}
	if (names->len)
		write_rule(g, "name", false, names);
	/* The bare number was added to parts with the patterns: take it out. */
	char *bare = g_hash_table_lookup(seen_p, "<number>");
	if (bare) {
		g_hash_table_remove(seen_p, bare);
		g_ptr_array_remove(parts, bare); /* frees it */
	}
	bare_number = bare_number && digits->len;
	if (!parts->len) /* nothing survived: still a valid grammar */
		add_unique(parts, seen_p, g_strdup(bare_number ? "<number>" : "<VOID>"));
	write_rule(g, "part", false, parts);
	const char *alt = bare_number ? " | <number>" : "";
	if (prefixes->len) {
		write_rule(g, "prefix", false, prefixes);
		g_string_append_printf(g, "public <utterance> = [<prefix> [<prefix>]%s] <part>%s;\n",
		                       keep_word(&f, "and") ? " [and]" : "", alt);
	} else {
		g_string_append_printf(g, "public <utterance> = <part>%s;\n", alt);
	}
	g_hash_table_destroy(f.dropped_seen);
	return g_string_free(g, FALSE);
}

char *sb_kb_jsgf(json_t *kb)
{
	return sb_kb_jsgf_filtered(kb, NULL, NULL, NULL);
}
