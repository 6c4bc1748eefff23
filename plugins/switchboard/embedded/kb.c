/* Knowledge base: loading, validation, templates and text normalisation
 * (embedded.h, "kb", gives the format).  Pure functions, no threads: the providers call
 * them from their own workers. */
#include "embedded/embedded.h"

#include <stdlib.h>
#include <string.h>

/* The build sets it to $(pkgdatadir): an installed plugin knows no path
 * into the tree it was built from. */
#ifndef SB_DATA_DIR
#define SB_DATA_DIR "/usr/local/share/switchboard"
#endif

const char *sb_kb_default_path(void)
{
	const char *env = g_getenv("SWITCHBOARD_KB");
	return env && *env ? env : SB_DATA_DIR "/knowledge-base.json";
}

/* ---- validation ---- */

static const char *const placeholders[] = {"company", "phone", "address", "hours", "website",
                                           "name",    "order", "status",  NULL};

/* Every {…} in s must be a known placeholder: a typo would otherwise be
 * spoken to callers verbatim. */
static bool check_placeholders(const char *s, const char *where, char **error)
{
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end) {
			*error = g_strdup_printf("%s: unclosed \"{\"", where);
			return false;
		}
		bool known = false;
		for (int i = 0; placeholders[i] && !known; i++)
			known = strlen(placeholders[i]) == (size_t)(end - p - 1) &&
			        strncmp(placeholders[i], p + 1, (size_t)(end - p - 1)) == 0;
		if (!known) {
			*error = g_strdup_printf("%s: unknown placeholder \"%.*s\"", where,
			                         (int)(end - p + 1), p);
			return false;
		}
	}
	return true;
}

/* A text: a non-empty string, or a language map with a non-empty "en". */
static bool check_text(json_t *v, bool required, const char *where, char **error)
{
	if (!v) {
		if (required)
			*error = g_strdup_printf("%s is missing", where);
		return !required;
	}
	if (json_is_string(v)) {
		if (!*json_string_value(v)) {
			*error = g_strdup_printf("%s is empty", where);
			return false;
		}
		return check_placeholders(json_string_value(v), where, error);
	}
	if (!json_is_object(v)) {
		*error = g_strdup_printf("%s must be a string or an object of languages", where);
		return false;
	}
	const char *lang;
	json_t *s;
	json_object_foreach(v, lang, s) {
		g_autofree char *sub = g_strdup_printf("%s.%s", where, lang);
		if (!json_is_string(s) || !*json_string_value(s)) {
			*error = g_strdup_printf("%s must be a non-empty string", sub);
			return false;
		}
		if (!check_placeholders(json_string_value(s), sub, error))
			return false;
	}
	if (!json_is_string(json_object_get(v, "en"))) {
		*error = g_strdup_printf("%s has no \"en\" text (English is the fallback)", where);
		return false;
	}
	return true;
}

/* An optional array of non-empty strings (min: least count when present). */
static bool check_strings(json_t *v, size_t min, const char *where, char **error)
{
	if (!v)
		return true;
	if (!json_is_array(v) || json_array_size(v) < min) {
		*error = g_strdup_printf("%s must be an array of %sstrings", where,
		                         min ? "one or more " : "");
		return false;
	}
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s) {
		if (!json_is_string(s) || !*json_string_value(s)) {
			*error = g_strdup_printf("%s[%zu] must be a non-empty string", where, i);
			return false;
		}
	}
	return true;
}

/* "arguments": {"name": "text with {placeholders}"} for the intent's tool. */
static bool check_tool_arguments(json_t *args, const char *where, char **error)
{
	if (!args)
		return true;
	if (!json_is_object(args)) {
		*error = g_strdup_printf("%s.arguments must be an object of strings", where);
		return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(args, key, v) {
		g_autofree char *w = g_strdup_printf("%s.arguments.%s", where, key);
		if (!json_is_string(v)) {
			*error = g_strdup_printf("%s must be a string", w);
			return false;
		}
		if (!check_text(v, true, w, error))
			return false;
	}
	return true;
}

static bool check_intent(json_t *it, size_t i, GHashTable *seen, char **error)
{
	const char *name = json_string_value(json_object_get(it, "name"));
	if (!json_is_object(it) || !name || !*name) {
		*error = g_strdup_printf("intents[%zu]: \"name\" is missing", i);
		return false;
	}
	g_autofree char *where = g_strdup_printf("intents[%zu] (\"%s\")", i, name);
	if (g_hash_table_contains(seen, name)) {
		*error = g_strdup_printf("%s: duplicate intent name", where);
		return false;
	}
	g_hash_table_add(seen, (gpointer)name);
	json_t *phrases = json_object_get(it, "phrases"), *patterns = json_object_get(it, "patterns");
	if (!phrases && !patterns) {
		*error = g_strdup_printf("%s: needs \"phrases\" or \"patterns\"", where);
		return false;
	}
	g_autofree char *w1 = g_strdup_printf("%s.phrases", where);
	g_autofree char *w2 = g_strdup_printf("%s.patterns", where);
	if (!check_strings(phrases, 1, w1, error) || !check_strings(patterns, 1, w2, error))
		return false;
	const char *slot = strcmp(name, "give_name") == 0      ? "{name}"
	                   : strcmp(name, "order_status") == 0 ? "{order}"
	                                                       : NULL;
	size_t j;
	json_t *p;
	json_array_foreach(patterns, j, p) {
		if (!slot || !strstr(json_string_value(p), slot)) {
			*error = g_strdup_printf("%s.patterns[%zu]: must contain %s", where, j,
			                         slot ? slot : "{name} (give_name) or {order} (order_status)");
			return false;
		}
	}
	static const char *const texts[] = {"answer", "answer_named", "ask", "not_found", "unknown"};
	for (size_t k = 0; k < G_N_ELEMENTS(texts); k++) {
		g_autofree char *w = g_strdup_printf("%s.%s", where, texts[k]);
		if (!check_text(json_object_get(it, texts[k]), k == 0, w, error))
			return false;
	}
	g_autofree char *wk = g_strdup_printf("%s.keywords", where);
	if (!check_strings(json_object_get(it, "keywords"), 0, wk, error))
		return false;
	json_t *tool = json_object_get(it, "tool");
	if (tool && !json_is_string(tool)) {
		*error = g_strdup_printf("%s.tool must be a string", where);
		return false;
	}
	return check_tool_arguments(json_object_get(it, "arguments"), where, error);
}

static bool check_faq(json_t *f, size_t i, GHashTable *seen, char **error)
{
	const char *id = json_string_value(json_object_get(f, "id"));
	if (!json_is_object(f) || !id || !*id) {
		*error = g_strdup_printf("faqs[%zu]: \"id\" is missing", i);
		return false;
	}
	g_autofree char *where = g_strdup_printf("faqs[%zu] (\"%s\")", i, id);
	if (g_hash_table_contains(seen, id)) {
		*error = g_strdup_printf("%s: duplicate id", where);
		return false;
	}
	g_hash_table_add(seen, (gpointer)id);
	json_t *q = json_object_get(f, "question");
	if (!json_is_string(q) || !*json_string_value(q)) {
		*error = g_strdup_printf("%s: \"question\" is missing", where);
		return false;
	}
	g_autofree char *wp = g_strdup_printf("%s.paraphrases", where);
	g_autofree char *wa = g_strdup_printf("%s.answer", where);
	g_autofree char *wk = g_strdup_printf("%s.keywords", where);
	return check_strings(json_object_get(f, "paraphrases"), 0, wp, error) &&
	       check_strings(json_object_get(f, "keywords"), 0, wk, error) &&
	       check_text(json_object_get(f, "answer"), true, wa, error);
}

static bool check_sections(json_t *kb, char **error)
{
	json_t *company = json_object_get(kb, "company");
	if (!json_is_object(company) || !json_is_string(json_object_get(company, "name"))) {
		*error = g_strdup("company.name is missing");
		return false;
	}
	const char *key;
	json_t *v;
	json_object_foreach(company, key, v) {
		if (!json_is_string(v)) {
			*error = g_strdup_printf("company.%s must be a string", key);
			return false;
		}
	}
	if (!check_text(json_object_get(kb, "greeting"), true, "greeting", error) ||
	    !check_text(json_object_get(kb, "fallback"), true, "fallback", error) ||
	    !check_text(json_object_get(kb, "reprompt"), false, "reprompt", error) ||
	    !check_strings(json_object_get(kb, "names"), 0, "names", error))
		return false;
	size_t i;
	json_array_foreach(json_object_get(kb, "names"), i, v) {
		if (strchr(json_string_value(v), ' ')) {
			*error = g_strdup_printf("names[%zu] must be one word", i);
			return false;
		}
	}
	json_t *orders = json_object_get(kb, "orders");
	if (orders && !json_is_object(orders)) {
		*error = g_strdup("orders must be an object {\"number\": \"status\"}");
		return false;
	}
	json_object_foreach(orders, key, v) {
		if (!json_is_string(v) || strspn(key, "0123456789") != strlen(key) || !*key) {
			*error = g_strdup_printf("orders.%s: keys are digits, values strings", key);
			return false;
		}
	}
	json_t *mood = json_object_get(kb, "mood");
	if (mood && (!json_is_object(mood) ||
	             !check_strings(json_object_get(mood, "negative"), 0, "mood.negative", error) ||
	             !check_strings(json_object_get(mood, "positive"), 0, "mood.positive", error))) {
		if (!*error)
			*error = g_strdup("mood must be an object {negative, positive}");
		return false;
	}
	return true;
}

bool sb_kb_validate(json_t *kb, char **error)
{
	*error = NULL;
	if (!json_is_object(kb)) {
		*error = g_strdup("the knowledge base must be a JSON object");
		return false;
	}
	json_t *version = json_object_get(kb, "version");
	if (version && json_integer_value(version) != 1) {
		*error = g_strdup("version: only version 1 is known");
		return false;
	}
	if (!check_sections(kb, error))
		return false;
	json_t *intents = json_object_get(kb, "intents"), *faqs = json_object_get(kb, "faqs");
	if (!json_is_array(intents) || !json_is_array(faqs)) {
		*error = g_strdup(!json_is_array(intents) ? "intents must be an array"
		                                          : "faqs must be an array");
		return false;
	}
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	size_t i;
	json_t *v;
	json_array_foreach(intents, i, v) {
		if (!check_intent(v, i, seen, error))
			return false;
	}
	static const char *const required[] = {"talk_to_human", "goodbye"};
	for (size_t k = 0; k < G_N_ELEMENTS(required); k++) {
		if (!g_hash_table_contains(seen, required[k])) {
			*error = g_strdup_printf("intents: \"%s\" is required (the agent's %s tool)",
			                         required[k], k == 0 ? "transfer" : "end_call");
			return false;
		}
	}
	g_hash_table_remove_all(seen);
	json_array_foreach(faqs, i, v) {
		if (!check_faq(v, i, seen, error))
			return false;
	}
	return true;
}

json_t *sb_kb_load(const char *path, char **error)
{
	*error = NULL;
	json_error_t jerr;
	json_t *kb = json_load_file(path, 0, &jerr);
	if (!kb) {
		*error = g_strdup_printf("knowledge base %s: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	char *why = NULL;
	if (!sb_kb_validate(kb, &why)) {
		*error = g_strdup_printf("knowledge base %s: %s", path, why);
		g_free(why);
		json_decref(kb);
		return NULL;
	}
	return kb;
}

/* ---- texts and templates ---- */

const char *sb_kb_text(json_t *text, const char *language)
{
	if (json_is_string(text))
		return json_string_value(text);
	if (!json_is_object(text))
		return NULL;
	if (language && *language) {
		const char *s = json_string_value(json_object_get(text, language));
		if (s)
			return s;
		/* "ar-EG" → "ar" */
		g_autofree char *primary = g_strndup(language, strcspn(language, "-_"));
		s = json_string_value(json_object_get(text, primary));
		if (s)
			return s;
	}
	return json_string_value(json_object_get(text, "en"));
}

json_t *sb_kb_intent(json_t *kb, const char *name)
{
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(kb, "intents"), i, it) {
		const char *n = json_string_value(json_object_get(it, "name"));
		if (n && strcmp(n, name) == 0)
			return it;
	}
	return NULL;
}

char *sb_kb_fill(json_t *kb, const char *template_text, json_t *vars)
{
	GString *out = g_string_new(NULL);
	json_t *company = json_object_get(kb, "company");
	const char *p = template_text ? template_text : "";
	while (*p) {
		const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
		if (!close) {
			g_string_append(out, p);
			break;
		}
		g_string_append_len(out, p, open - p);
		g_autofree char *key = g_strndup(open + 1, (gsize)(close - open - 1));
		const char *val = json_string_value(json_object_get(vars, key));
		if (!val)
			val = json_string_value(
			        json_object_get(company, strcmp(key, "company") == 0 ? "name" : key));
		g_string_append(out, val ? val : "");
		p = close + 1;
	}
	return g_string_free(out, FALSE);
}

/* ---- tokens ---- */

/* Splits into lower-case words of letters/digits/inner apostrophes (any
 * script: the dialog engine may get Arabic text from a cloud recogniser). */
static GPtrArray *split_words(const char *text)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	GString *w = g_string_new(NULL);
	/* Recognisers and webhooks may hand us anything: invalid UTF-8 becomes
	 * U+FFFD, a separator. */
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	for (const char *p = valid;; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == 0x2019)
			c = '\'';
		if (c && (g_unichar_isalnum(c) || g_unichar_ismark(c) || (c == '\'' && w->len))) {
			g_string_append_unichar(w, g_unichar_tolower(c));
			continue;
		}
		while (w->len && w->str[w->len - 1] == '\'')
			g_string_truncate(w, w->len - 1);
		if (w->len)
			g_ptr_array_add(words, g_strdup(w->str));
		g_string_truncate(w, 0);
		if (!c)
			break;
	}
	g_string_free(w, TRUE);
	return words;
}

static const struct {
	const char *from, *to;
} contractions[] = {{"can't", "can not"}, {"won't", "will not"}, {"let's", "let us"},
                    {"i'm", "i am"},      {"ain't", "is not"},   {"o'clock", "oclock"}};
static const struct {
	const char *suffix, *to;
} suffixes[] = {{"n't", " not"}, {"'re", " are"}, {"'ve", " have"},
                {"'ll", " will"}, {"'d", " would"}, {"'s", " is"}};

static void add_expanded(GPtrArray *out, const char *w)
{
	for (size_t i = 0; i < G_N_ELEMENTS(contractions); i++) {
		if (strcmp(w, contractions[i].from) == 0) {
			g_auto(GStrv) parts = g_strsplit(contractions[i].to, " ", -1);
			for (char **p = parts; *p; p++)
				g_ptr_array_add(out, g_strdup(*p));
			return;
		}
	}
	size_t n = strlen(w);
	for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		size_t s = strlen(suffixes[i].suffix);
		if (n > s && strcmp(w + n - s, suffixes[i].suffix) == 0) {
			g_ptr_array_add(out, g_strndup(w, n - s));
			g_ptr_array_add(out, g_strdup(suffixes[i].to + 1));
			return;
		}
	}
	/* Other apostrophes ("o'brien") only split hairs: drop them. */
	char *plain = g_strdup(w), *d = plain;
	for (const char *s = w; *s; s++)
		if (*s != '\'')
			*d++ = *s;
	*d = 0;
	g_ptr_array_add(out, plain);
}

static const char *const units[] = {"zero", "one", "two",   "three", "four",
                                    "five", "six", "seven", "eight", "nine"};
static const char *const teens[] = {"ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const tens[] = {"twenty", "thirty",  "forty",  "fifty",
                                   "sixty",  "seventy", "eighty", "ninety"};

static int word_index(const char *w, const char *const *list, int n)
{
	for (int i = 0; w && i < n; i++)
		if (strcmp(w, list[i]) == 0)
			return i;
	return -1;
}

static bool is_digits(const char *w)
{
	return w && *w && strspn(w, "0123456789") == strlen(w);
}

static bool numberish(const char *w)
{
	return is_digits(w) || word_index(w, units, 10) >= 0 || word_index(w, teens, 10) >= 0 ||
	       word_index(w, tens, 8) >= 0;
}

/* Joins spoken numbers into digits: callers read order numbers digit by
 * digit ("one two three four five") or in pairs ("twelve thirty four"). */
static GPtrArray *join_numbers(GPtrArray *in)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	GString *num = g_string_new(NULL);
	for (guint i = 0; i < in->len; i++) {
		const char *w = in->pdata[i], *next = i + 1 < in->len ? in->pdata[i + 1] : NULL;
		int u, t, x;
		if (is_digits(w)) {
			g_string_append(num, w);
		} else if ((u = word_index(w, units, 10)) >= 0) {
			g_string_append_c(num, (char)('0' + u));
		} else if (strcmp(w, "oh") == 0 && (num->len || numberish(next))) {
			g_string_append_c(num, '0');
		} else if ((t = word_index(w, teens, 10)) >= 0) {
			g_string_append_printf(num, "%d", 10 + t);
		} else if ((x = word_index(w, tens, 8)) >= 0) {
			int unit = word_index(next, units, 10);
			if (unit > 0)
				i++;
			g_string_append_printf(num, "%d", (x + 2) * 10 + (unit > 0 ? unit : 0));
		} else if ((strcmp(w, "double") == 0 || strcmp(w, "triple") == 0) &&
		           (u = word_index(next, units, 10)) >= 0) {
			for (int k = w[0] == 'd' ? 2 : 3; k > 0; k--)
				g_string_append_c(num, (char)('0' + u));
			i++;
		} else {
			if (num->len)
				g_ptr_array_add(out, g_strdup(num->str));
			g_string_truncate(num, 0);
			g_ptr_array_add(out, g_strdup(w));
		}
	}
	if (num->len)
		g_ptr_array_add(out, g_strdup(num->str));
	g_string_free(num, TRUE);
	return out;
}

GPtrArray *sb_kb_tokens(const char *text)
{
	g_autoptr(GPtrArray) words = split_words(text);
	g_autoptr(GPtrArray) expanded = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < words->len; i++)
		add_expanded(expanded, words->pdata[i]);
	return join_numbers(expanded);
}

char *sb_kb_normalise(const char *text)
{
	g_autoptr(GPtrArray) t = sb_kb_tokens(text);
	g_ptr_array_add(t, NULL);
	return g_strjoinv(" ", (char **)t->pdata);
}

GPtrArray *sb_kb_words(const char *text)
{
	g_autoptr(GPtrArray) words = split_words(text);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < words->len; i++) {
		const char *w = words->pdata[i];
		if (is_digits(w)) {
			for (const char *d = w; *d; d++)
				g_ptr_array_add(out, g_strdup(units[*d - '0']));
			continue;
		}
		/* English acoustic model: only ASCII letters (and "what's"). */
		if (strspn(w, "abcdefghijklmnopqrstuvwxyz'") == strlen(w))
			g_ptr_array_add(out, g_strdup(w));
	}
	return out;
}
