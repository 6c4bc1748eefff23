/* Unit tests for the knowledge base (kb.c, grammar.c, domain_lm.c): the demo
 * file loads; broken files are refused with an error naming the entry; the
 * generated JSGF grammar covers the FAQs, intents, names and numbers, uses
 * only words of the CMU dictionary, and loads in pocketsphinx. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/ngram_model.h>

#include "embedded/embedded.h"

#ifndef SB_SOURCE_DIR
#define SB_SOURCE_DIR "."
#endif
#define KB_PATH SB_SOURCE_DIR "/conf/knowledge-base.json"
#define MODEL_DIR "/usr/share/pocketsphinx/model/en-us"

static json_t *kb;

static void test_load(void)
{
	char *error = NULL;
	json_t *k = sb_kb_load(KB_PATH, &error);
	g_assert_null(error);
	g_assert_nonnull(k);
	g_assert_cmpstr(json_string_value(json_object_get(json_object_get(k, "company"), "name")), ==,
	                "Bluebird Supplies");
	g_assert_nonnull(sb_kb_intent(k, "talk_to_human"));
	g_assert_null(sb_kb_intent(k, "nope"));
	/* Language maps: exact, primary subtag, English fallback. */
	json_t *greeting = json_object_get(k, "greeting");
	g_assert_true(g_str_has_prefix(sb_kb_text(greeting, "ar"), "مرحبا"));
	g_assert_true(g_str_has_prefix(sb_kb_text(greeting, "ar-SA"), "مرحبا"));
	g_assert_true(g_str_has_prefix(sb_kb_text(greeting, "fr"), "Hello"));
	g_assert_true(g_str_has_prefix(sb_kb_text(greeting, NULL), "Hello"));
	g_autoptr(json_t) vars = json_pack("{s:s}", "name", "John");
	g_autofree char *filled = sb_kb_fill(k, "{company}, {name}, {phone}, {status}.", vars);
	g_assert_cmpstr(filled, ==, "Bluebird Supplies, John, +1 555 0100, .");
	json_decref(k);

	/* Not there; not JSON. */
	g_assert_null(sb_kb_load("/nonexistent/kb.json", &error));
	g_assert_nonnull(strstr(error, "/nonexistent/kb.json"));
	g_free(error);
	g_autofree char *tmp = NULL;
	int fd = g_file_open_tmp("kb-XXXXXX.json", &tmp, NULL);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(g_file_set_contents(tmp, "{\n \"company\": {\n", -1, NULL));
	close(fd);
	g_assert_null(sb_kb_load(tmp, &error));
	g_assert_nonnull(strstr(error, "line"));
	g_test_message("%s", error);
	g_free(error);
	g_unlink(tmp);
}

/* Each broken knowledge base: what to break (a JSON patch applied to the
 * demo file) and words the error must contain. */
static void expect_invalid(const char *patch_json, const char *remove_path, const char *expected)
{
	g_autoptr(json_t) k = json_deep_copy(kb);
	if (patch_json) {
		g_autoptr(json_t) patch = json_loads(patch_json, 0, NULL);
		g_assert_nonnull(patch);
		json_object_update(k, patch);
	}
	if (remove_path) {
		/* "intents/1" or "faqs/0/answer" or "company/name" */
		g_auto(GStrv) parts = g_strsplit(remove_path, "/", -1);
		json_t *parent = k;
		guint n = g_strv_length(parts);
		for (guint i = 0; i + 1 < n; i++)
			parent = json_is_array(parent) ? json_array_get(parent, atoi(parts[i]))
			                               : json_object_get(parent, parts[i]);
		if (json_is_array(parent))
			json_array_remove(parent, atoi(parts[n - 1]));
		else
			json_object_del(parent, parts[n - 1]);
	}
	char *error = NULL;
	g_assert_false(sb_kb_validate(k, &error));
	g_test_message("expected error: %s", error);
	if (!strstr(error, expected))
		g_error("error \"%s\" lacks \"%s\"", error, expected);
	g_free(error);
}

static void test_validation(void)
{
	char *error = NULL;
	g_autoptr(json_t) arr = json_array();
	g_assert_false(sb_kb_validate(arr, &error));
	g_assert_cmpstr(error, ==, "the knowledge base must be a JSON object");
	g_free(error);

	expect_invalid(NULL, "company/name", "company.name is missing");
	expect_invalid("{\"company\": {\"name\": \"X\", \"phone\": 5}}", NULL,
	               "company.phone must be a string");
	expect_invalid(NULL, "greeting", "greeting is missing");
	expect_invalid("{\"greeting\": {\"ar\": \"مرحبا\"}}", NULL, "greeting has no \"en\"");
	expect_invalid("{\"fallback\": \"Sorry {nmae}\"}", NULL,
	               "fallback: unknown placeholder \"{nmae}\"");
	expect_invalid("{\"version\": 2}", NULL, "only version 1");
	expect_invalid(NULL, "faqs/0/answer", "faqs[0] (\"hours\").answer is missing");
	expect_invalid(NULL, "faqs/1/question", "faqs[1] (\"address\"): \"question\" is missing");
	expect_invalid("{\"faqs\": [{\"id\": \"a\", \"question\": \"q\", \"answer\": \"x\"},"
	               " {\"id\": \"a\", \"question\": \"r\", \"answer\": \"y\"}]}",
	               NULL, "faqs[1] (\"a\"): duplicate id");
	expect_invalid("{\"faqs\": [{\"id\": \"a\", \"question\": \"q\", \"answer\": \"x\","
	               " \"paraphrases\": [\"ok\", 3]}]}",
	               NULL, "faqs[0] (\"a\").paraphrases[1] must be a non-empty string");
	expect_invalid(NULL, "intents/1", "intents: \"goodbye\" is required");
	expect_invalid(NULL, "intents/0/phrases", "intents[0] (\"talk_to_human\"): needs \"phrases\"");
	expect_invalid("{\"intents\": [{\"name\": \"talk_to_human\", \"phrases\": [\"human\"], "
	               "\"answer\": \"ok\"}, {\"name\": \"goodbye\", \"phrases\": [\"bye\"], "
	               "\"answer\": \"bye\"}, {\"name\": \"give_name\", \"patterns\": [\"my name\"], "
	               "\"answer\": \"hi\"}]}",
	               NULL, "intents[2] (\"give_name\").patterns[0]: must contain {name}");
	expect_invalid("{\"intents\": [{\"name\": \"talk_to_human\", \"phrases\": [\"human\"], "
	               "\"answer\": \"ok\"}, {\"name\": \"talk_to_human\", \"phrases\": [\"x\"], "
	               "\"answer\": \"y\"}]}",
	               NULL, "intents[1] (\"talk_to_human\"): duplicate intent name");
	expect_invalid("{\"orders\": {\"A12\": \"lost\"}}", NULL, "orders.A12: keys are digits");
	expect_invalid("{\"names\": [\"mary ann\"]}", NULL, "names[0] must be one word");
	expect_invalid("{\"mood\": {\"negative\": \"bad\"}}", NULL, "mood.negative must be an array");
	expect_invalid("{\"faqs\": {}}", NULL, "faqs must be an array");
}

/* ---- grammar ---- */

static GHashTable *dict;

static GHashTable *read_dict(void)
{
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(MODEL_DIR "/cmudict-en-us.dict", &text, NULL, NULL));
	GHashTable *d = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	/* strchr, not g_strsplit: ASan's strstr checks the whole rest of the
	 * 3 MB text on every call (a minute instead of 50 ms). */
	for (char *l = text, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = 0;
		char *sp = strchr(l, ' ');
		if (sp)
			g_hash_table_add(d, g_strndup(l, (gsize)(sp - l)));
	}
	return d;
}

static bool in_dict(const char *word, void *user)
{
	return g_hash_table_contains(user, word);
}

/* The grammar's words: everything that is not syntax or a <rule>. */
static GPtrArray *grammar_words(const char *jsgf)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(jsgf, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (g_str_has_prefix(*l, "#JSGF") || g_str_has_prefix(*l, "grammar "))
			continue;
		char *eq = strchr(*l, '=');
		const char *body = eq ? eq + 1 : *l;
		g_autofree char *clean = g_strdup(body);
		for (char *p = clean; *p; p++)
			if (strchr("|;[]()+*", *p))
				*p = ' ';
		g_auto(GStrv) toks = g_strsplit_set(clean, " \t", -1);
		for (char **t = toks; *t; t++)
			if (**t && **t != '<')
				g_ptr_array_add(words, g_strdup(*t));
	}
	return words;
}

/* A whole line of the grammar, or one alternative of a rule. */
static bool has_alternative(const char *g, const char *alt)
{
	if (strstr(alt, " = ")) /* a whole rule */
		return strstr(g, alt) != NULL;
	const char *pre[] = {"| ", "= "}, *post[] = {"\n", ";"};
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < 2; k++) {
			g_autofree char *s = g_strconcat(pre[i], alt, post[k], NULL);
			if (strstr(g, s))
				return true;
		}
	return false;
}

static void test_jsgf(void)
{
	g_autofree char *g = sb_kb_jsgf(kb);
	g_test_message("%s", g);
	g_assert_true(g_str_has_prefix(g, "#JSGF V1.0;"));
	const char *expected[] = {
	        "public <utterance> = [<prefix> [<prefix>] [and]] <part> | <number>;",
	        "<number> = <digit> <digit> <digit>+;",
	        "what are your opening hours",
	        "when are you open",
	        "talk to a human",
	        "i need help with my order",
	        "thank you bye",
	        "my name is <name>",
	        "it's <number>",
	        "what's the status of my order",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
		if (!has_alternative(g, expected[i]))
			g_error("grammar lacks \"%s\"", expected[i]);
	/* Arabic phrases are not for an English acoustic model. */
	g_assert_null(strstr(g, "السلامة"));
	g_assert_null(strstr(g, "{"));

	/* Filtered by the CMU dictionary: every word is in it. */
	g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *fg = sb_kb_jsgf_filtered(kb, in_dict, dict, dropped);
	g_autoptr(GPtrArray) words = grammar_words(fg);
	g_assert_cmpuint(words->len, >, 100);
	for (guint i = 0; i < words->len; i++)
		if (!g_hash_table_contains(dict, words->pdata[i]))
			g_error("grammar word \"%s\" is not in the dictionary", (char *)words->pdata[i]);
	g_assert_cmpuint(dropped->len, ==, 0); /* the demo file only uses known words */

	/* A knowledge base with made-up words: they are dropped, the rest stays. */
	g_autoptr(json_t) k = json_deep_copy(kb);
	json_t *faq = json_array_get(json_object_get(k, "faqs"), 0);
	json_array_append_new(json_object_get(faq, "paraphrases"),
	                      json_string("is northwind open on Sundays"));
	json_array_append_new(json_object_get(k, "names"), json_string("xqzzy"));
	json_array_append_new(json_object_get(faq, "paraphrases"), json_string("Flibbertigibbetzz"));
	g_autofree char *kg = sb_kb_jsgf_filtered(k, in_dict, dict, dropped);
	g_assert_cmpuint(dropped->len, ==, 3);
	const char *unknown[] = {"northwind", "xqzzy", "flibbertigibbetzz"};
	for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++)
		g_assert_true(g_ptr_array_find_with_equal_func(dropped, unknown[i], g_str_equal, NULL));
	g_assert_true(has_alternative(kg, "is open on sundays"));
	g_assert_null(strstr(kg, "xqzzy"));
	g_assert_null(strstr(kg, "flibbertigibbetzz"));
}

/* The generated grammar loads in pocketsphinx with the full dictionary. */
static void test_jsgf_loads(void)
{
	err_set_logfp(NULL);
	g_autofree char *g = sb_kb_jsgf_filtered(kb, in_dict, dict, NULL);
	cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", MODEL_DIR "/en-us", "-dict",
	                               MODEL_DIR "/cmudict-en-us.dict", NULL);
	g_assert_nonnull(config);
	ps_decoder_t *ps = ps_init(config);
	g_assert_nonnull(ps);
	g_assert_cmpint(sb_ps_set_jsgf(ps, "kb", g), ==, 0);
	g_assert_cmpint(ps_set_search(ps, "kb"), ==, 0);
	ps_free(ps);
	cmd_ln_free_r(config);

	/* And through the provider's own loader (grammar-sized dictionary),
	 * with an unknown word in the knowledge base and without one. */
	g_autoptr(json_t) k = json_deep_copy(kb);
	json_array_append_new(json_object_get(k, "names"), json_string("xqzzy"));
	g_autofree char *tmp = NULL;
	int fd = g_file_open_tmp("kb-XXXXXX.json", &tmp, NULL);
	close(fd);
	g_assert_cmpint(json_dump_file(k, tmp, 0), ==, 0);
	g_autoptr(json_t) extra = json_pack("{s:s}", "kb", tmp);
	char *error = NULL;
	gint64 t0 = g_get_monotonic_time();
	g_assert_true(sb_pocketsphinx_preload(extra, 2, false, &error));
	g_test_message("preload (dictionary, grammar, 2 decoders): %.3f s",
	               (g_get_monotonic_time() - t0) / 1e6);
	g_assert_null(error);
	g_unlink(tmp);

	g_autoptr(json_t) bad = json_pack("{s:s}", "hmm", "/nonexistent/model");
	g_assert_false(sb_pocketsphinx_preload(bad, 1, false, &error));
	g_assert_nonnull(strstr(error, "no acoustic model in /nonexistent/model"));
	g_free(error);
	sb_pocketsphinx_shutdown();
}

/* The probability of word after history (NULL: the unigram). */
static double lm_p(ngram_model_t *lm, logmath_t *lmath, const char *word, const char *history)
{
	return logmath_exp(lmath, history ? ngram_probv(lm, word, history, NULL)
	                                  : ngram_probv(lm, word, NULL));
}

static ngram_model_t *read_arpa(const char *arpa, logmath_t *lmath)
{
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("domain-XXXXXX.arpa", &path, NULL);
	g_assert_cmpint(fd, >=, 0);
	close(fd);
	g_assert_true(g_file_set_contents(path, arpa, -1, NULL));
	ngram_model_t *lm = ngram_model_read(NULL, path, NGRAM_ARPA, lmath);
	g_unlink(path);
	g_assert_nonnull(lm);
	return lm;
}

/* The knowledge base's bigram model (domain_lm.c): a proper distribution
 * after every history, the knowledge base's word likelier where its
 * sentences put it, every digit after every digit, unknown words out. */
static void test_domain_lm(void)
{
	err_set_logfp(NULL);
	g_autofree char *arpa = sb_kb_domain_arpa(kb, in_dict, dict);
	g_assert_nonnull(arpa);
	logmath_t *lmath = logmath_init(1.0001, 0, 0);
	ngram_model_t *lm = read_arpa(arpa, lmath);
	uint32 const *counts = ngram_model_get_counts(lm);
	g_assert_cmpuint(counts[0], >, 100);
	g_assert_cmpuint(counts[1], >, counts[0]);

	/* Sums to one after a seen history, a rare one and the start (</s>
	 * included, <s> never predicted). */
	const char *histories[] = {"your", "warranty", "<s>", "two"};
	for (size_t h = 0; h < G_N_ELEMENTS(histories); h++) {
		double sum = 0;
		for (int32 wid = 0; wid < (int32)counts[0]; wid++) {
			const char *w = ngram_word(lm, wid);
			if (strcmp(w, "<s>") != 0)
				sum += lm_p(lm, lmath, w, histories[h]);
		}
		g_test_message("P(. | %s) sums to %.4f", histories[h], sum);
		g_assert_cmpfloat(fabs(sum - 1.0), <, 0.01);
	}
	/* "your number" is a keyword: after "your", "number" is far likelier
	 * than on its own; "warranty" after "your" stays a backed-off guess. */
	g_assert_cmpfloat(lm_p(lm, lmath, "number", "your"), >,
	                  5 * lm_p(lm, lmath, "number", NULL));
	g_assert_cmpfloat(lm_p(lm, lmath, "number", "your"), >,
	                  5 * lm_p(lm, lmath, "warranty", "your"));
	/* Order numbers: any digit after any digit, and a number after "is"
	 * ("my order number is {order}") as often as the sentences have one
	 * there (the ten digits of a pattern weigh one sentence). */
	static const char *const digits[] = {"zero", "one", "two",   "three", "four",
	                                     "five", "six", "seven", "eight", "nine"};
	double after_is = 0;
	for (int a = 0; a < 10; a++) {
		after_is += lm_p(lm, lmath, digits[a], "is");
		for (int b = 0; b < 10; b++)
			g_assert_cmpfloat(lm_p(lm, lmath, digits[b], digits[a]), >,
			                  lm_p(lm, lmath, digits[b], NULL));
	}
	g_test_message("P(a digit | is) = %.3f", after_is);
	g_assert_cmpfloat(after_is, >, 0.1);
	ngram_model_free(lm);

	/* A sentence with a word the recogniser cannot say is left out whole;
	 * one with only known words is in. */
	g_autoptr(json_t) k = json_deep_copy(kb);
	json_t *faq = json_array_get(json_object_get(k, "faqs"), 0);
	json_array_append_new(json_object_get(faq, "paraphrases"),
	                      json_string("do northwind hours xqzzy"));
	json_array_append_new(json_object_get(faq, "paraphrases"),
	                      json_string("are you open at midnight"));
	g_autofree char *filtered = sb_kb_domain_arpa(k, in_dict, dict);
	lm = read_arpa(filtered, lmath);
	g_assert_cmpint(ngram_wid(lm, "xqzzy"), ==, ngram_unknown_wid(lm));
	g_assert_cmpint(ngram_wid(lm, "northwind"), ==, ngram_unknown_wid(lm));
	g_assert_cmpint(ngram_wid(lm, "midnight"), !=, ngram_unknown_wid(lm));
	ngram_model_free(lm);
	logmath_free(lmath);

	/* Nothing to learn from: no model. */
	g_autoptr(json_t) empty = json_pack("{s:[], s:[]}", "intents", "faqs");
	g_assert_null(sb_kb_domain_arpa(empty, in_dict, dict));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	char *error = NULL;
	kb = sb_kb_load(KB_PATH, &error);
	if (!kb)
		g_error("%s", error);
	dict = read_dict();
	g_test_add_func("/kb/load", test_load);
	g_test_add_func("/kb/validation", test_validation);
	g_test_add_func("/kb/jsgf", test_jsgf);
	g_test_add_func("/kb/jsgf-loads", test_jsgf_loads);
	g_test_add_func("/kb/domain-lm", test_domain_lm);
	int rc = g_test_run();
	g_hash_table_destroy(dict);
	json_decref(kb);
	return rc;
}
