/* The pocketsphinx models and decoders (embedded_private.h, "pocketsphinx
 * models"), apart from the streams that use them (stt_pocketsphinx.c).
 *
 * Cost, measured on this machine: a decoder with the full 134k-word
 * dictionary and the en-us LM takes 0.25 s and ~90 MB; a decoder with only
 * the grammar's few hundred words takes 10-20 ms and ~5 MB.  So:
 *  - a model (per set of paths) is loaded once per process: the dictionary
 *    is read once, only to pick the grammar's pronunciations, then freed;
 *  - decoders are pooled and borrowed only while needed, so pools grow to
 *    the number of people speaking at the same moment, not of calls;
 *  - the LM decoder (the fallback) is created on first need, at most
 *    "fallback_decoders" of them (default 1), shared by all streams: it only
 *    re-decodes the utterances the grammar rejected.
 * Streams' worker threads are counted here, so that the shutdown frees the
 * models only once the last one has let go. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <sphinxbase/ngram_model.h>

#include "embedded/embedded_private.h"

#define MODEL_DIR "/usr/share/pocketsphinx/model/en-us"

/* A pool of decoders of one kind; max 0 means unbounded. */
typedef struct pool {
	GPtrArray *idle;
	int created;
	int max;
	GCond freed;
} pool;

struct sb_ps_model {
	char *hmm, *dict, *lm, *kb_path;
	char *beam, *wbeam; /* for DEC_FINAL */
	char *lm_lw, *lm_wip; /* the LM decoder's language weight and word insertion penalty */
	double reject;      /* unexplained speech above which the grammar lost */
	double fold;        /* narrowband speech: the upper band's level, 0 none */
	bool map;           /* and its cepstra mapped (narrowband.c) */
	bool fallback;
	int lm_vocabulary; /* the LM decoder's words: this many most frequent, 0 all */
	double domain_weight; /* the knowledge base's bigrams in the LM decoder, 0 none */
	bool check_numbers;   /* a number the grammar heard is checked by the LM decoder */
	GMutex lock; /* everything below */
	bool loaded;
	char *error;   /* why loading failed */
	char *jsgf;    /* the grammar, for every grammar decoder */
	GPtrArray *words; /* "word\tphones", alternates as "word(2)" */
	GPtrArray *lm_words; /* the same for the LM decoder; NULL: the whole dictionary */
	int domain_fd;       /* a memfd with the domain model (ARPA), or -1 */
	/* Every keyword of the knowledge base, as " words " (spaces around,
	 * for whole-word search), and whether its topic is the one that takes
	 * order numbers: see sb_ps_model_keyword_topic(). */
	GPtrArray *keywords;
	GArray *keyword_takes_number; /* bool per keyword */
	pool pools[DEC_KINDS];
	double load_seconds, decoder_seconds[DEC_KINDS];
};

static GMutex models_lock; /* also serialises ps_init() */
static GHashTable *models; /* "hmm|dict|lm|kb|fallback|beams" → model* */
static int live_workers;
static GCond workers_gone;

/* ---- sphinx logging: errors to GLib, chatter dropped ---- */

static void sphinx_log(void *user, err_lvl_t level, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void sphinx_log(void *user, err_lvl_t level, const char *fmt, ...)
{
	(void)user;
	if (level < ERR_ERROR)
		return;
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_strchomp(msg);
	/* Expected for speech outside the grammar (the fallback handles it). */
	if (strstr(msg, "does not match the grammar"))
		g_debug("pocketsphinx: %s", msg);
	else
		g_message("pocketsphinx: %s", msg);
}

void sb_ps_quiet(void)
{
	static gsize done;
	if (g_once_init_enter(&done)) {
		/* First: with a callback set, the log file can no longer be
		 * changed, and ps_init() dumps its whole config to it. */
		err_set_logfp(NULL);
		err_set_callback(sphinx_log, NULL);
		g_once_init_leave(&done, 1);
	}
}

/* ---- models ---- */

static void model_free(gpointer data)
{
	sb_ps_model *m = data;
	for (int k = 0; k < DEC_KINDS; k++) {
		g_ptr_array_unref(m->pools[k].idle);
		g_cond_clear(&m->pools[k].freed);
	}
	if (m->words)
		g_ptr_array_unref(m->words);
	if (m->lm_words)
		g_ptr_array_unref(m->lm_words);
	if (m->keywords)
		g_ptr_array_unref(m->keywords);
	if (m->keyword_takes_number)
		g_array_unref(m->keyword_takes_number);
	if (m->domain_fd >= 0)
		close(m->domain_fd);
	g_free(m->jsgf);
	g_free(m->error);
	g_free(m->hmm);
	g_free(m->dict);
	g_free(m->lm);
	g_free(m->kb_path);
	g_free(m->beam);
	g_free(m->wbeam);
	g_free(m->lm_lw);
	g_free(m->lm_wip);
	g_mutex_clear(&m->lock);
	g_free(m);
}

static void decoder_free(gpointer ps)
{
	ps_free(ps);
}

/* A number of the provider's config, which .jcfg files give as strings. */
static double extra_double(json_t *extra, const char *key, double dflt)
{
	json_t *v = json_object_get(extra, key);
	return json_is_number(v)   ? json_number_value(v)
	       : json_is_string(v) ? g_ascii_strtod(json_string_value(v), NULL)
	                           : dflt;
}

/* The model for these paths, created (not loaded) on first use. */
sb_ps_model *sb_ps_model_get(json_t *extra)
{
	const char *hmm = sb_extra_str(extra, "hmm", MODEL_DIR "/en-us");
	const char *dict = sb_extra_str(extra, "dict", MODEL_DIR "/cmudict-en-us.dict");
	const char *lm = sb_extra_str(extra, "lm", MODEL_DIR "/en-us.lm.bin");
	const char *kb = sb_extra_str(extra, "kb", sb_kb_default_path());
	bool fallback = sb_extra_bool(extra, "fallback", true);
	/* Wider than pocketsphinx's defaults (1e-48, 7e-29): +5% right for
	 * twice the search; still ~5% of real time. */
	const char *beam = sb_extra_str(extra, "beam", "1e-80");
	const char *wbeam = sb_extra_str(extra, "wbeam", "1e-60");
	/* The LM decoder's weights.  A language weight over pocketsphinx's
	 * 6.5 trusts the (knowledge base's) model more than a phone line's
	 * muffled sounds, and prunes more: on the dev phrasings 9 got as many
	 * right on G.722 and 3 more of 70 on μ-law, for 20 % less CPU. */
	const char *lm_lw = sb_extra_str(extra, "lm_lw", "9");
	const char *lm_wip = sb_extra_str(extra, "lm_wip", "0.65");
	double reject = extra_double(extra, "reject", 0.3);
	/* The language model's most frequent words, and the grammar's: see
	 * lm_vocabulary_locked(). */
	int lm_vocabulary = MAX(0, sb_extra_int(extra, "lm_vocabulary", 3000));
	double fold = extra_double(extra, "narrowband_fold", 0.5);
	/* How much the knowledge base's own bigrams weigh against the general
	 * model's: domain_lm.c. */
	double domain_weight = CLAMP(extra_double(extra, "domain_lm_weight", 0.5), 0.0, 0.99);
	bool check_numbers = sb_extra_bool(extra, "check_numbers", true);
	/* A folded line's cepstra mapped towards wideband ones (narrowband.c). */
	bool map = sb_extra_bool(extra, "narrowband_map", true);
	g_autofree char *key =
	        g_strdup_printf("%s|%s|%s|%s|%d|%s|%s|%g|%d|%g|%g|%d|%s|%s|%d", hmm, dict, lm, kb,
	                        fallback, beam, wbeam, reject, lm_vocabulary, fold, domain_weight,
	                        check_numbers, lm_lw, lm_wip, map);
	g_mutex_lock(&models_lock);
	if (!models)
		models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, model_free);
	sb_ps_model *m = g_hash_table_lookup(models, key);
	if (!m) {
		m = g_new0(sb_ps_model, 1);
		m->hmm = g_strdup(hmm);
		m->dict = g_strdup(dict);
		m->lm = g_strdup(lm);
		m->kb_path = g_strdup(kb);
		m->fallback = fallback;
		m->beam = g_strdup(beam);
		m->wbeam = g_strdup(wbeam);
		m->lm_lw = g_strdup(lm_lw);
		m->lm_wip = g_strdup(lm_wip);
		m->reject = reject;
		m->lm_vocabulary = lm_vocabulary;
		m->domain_weight = domain_weight;
		m->check_numbers = check_numbers;
		m->domain_fd = -1;
		m->fold = CLAMP(fold, 0.0, 1.0);
		m->map = map;
		g_mutex_init(&m->lock);
		for (int k = 0; k < DEC_KINDS; k++) {
			m->pools[k].idle = g_ptr_array_new_with_free_func(decoder_free);
			g_cond_init(&m->pools[k].freed);
		}
		m->pools[DEC_LM].max = MAX(1, sb_extra_int(extra, "fallback_decoders", 1));
		g_hash_table_insert(models, g_steal_pointer(&key), m);
	}
	g_mutex_unlock(&models_lock);
	return m;
}

/* CMU dictionary: "word PH ON ES", alternates as "word(2) …". */
static GHashTable *read_dict(const char *path, char **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) gerr = NULL;
	if (!g_file_get_contents(path, &text, NULL, &gerr)) {
		*error = g_strdup_printf("pocketsphinx: dictionary: %s", gerr->message);
		return NULL;
	}
	GHashTable *d = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *sp = strpbrk(line, " \t");
		if (!sp || line[0] == '#')
			continue;
		*sp = 0;
		g_hash_table_insert(d, g_strdup(line), g_strdup(g_strstrip(sp + 1)));
	}
	return d;
}

typedef struct known_ctx {
	GHashTable *dict;
	GHashTable *used;
} known_ctx;

static bool known(const char *word, void *user)
{
	known_ctx *k = user;
	if (!g_hash_table_contains(k->dict, word))
		return false;
	g_hash_table_add(k->used, g_strdup(word));
	return true;
}

static bool in_dict(const char *word, void *dict)
{
	return g_hash_table_contains(dict, word);
}

/* The knowledge base's bigram model (domain_lm.c) into a memfd, which every
 * LM decoder reads by its /proc path: no file on disk to leave behind.
 * m->lock held. */
static void domain_model_locked(sb_ps_model *m, json_t *kb, GHashTable *dict)
{
	g_autofree char *arpa = sb_kb_domain_arpa(kb, in_dict, dict);
	if (!arpa)
		return;
	int fd = memfd_create("switchboard-domain-lm", MFD_CLOEXEC);
	size_t len = strlen(arpa), done = 0;
	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, arpa + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_message("pocketsphinx: the knowledge base's language model: %s",
			          g_strerror(errno));
			close(fd);
			fd = -1;
			break;
		}
		done += (size_t)n;
	}
	m->domain_fd = fd;
}

/* The LM decoder's search: the general model, interpolated with the
 * knowledge base's when there is one. */
static int set_lm_search(sb_ps_model *m, ps_decoder_t *ps)
{
	if (m->domain_fd < 0)
		return ps_set_lm_file(ps, "lm", m->lm) < 0 ? -1 : ps_set_search(ps, "lm");
	logmath_t *lmath = ps_get_logmath(ps);
	cmd_ln_t *config = ps_get_config(ps);
	g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", m->domain_fd);
	ngram_model_t *parts[2] = {ngram_model_read(config, m->lm, NGRAM_AUTO, lmath),
	                           ngram_model_read(config, path, NGRAM_ARPA, lmath)};
	if (!parts[0] || !parts[1]) {
		for (int i = 0; i < 2; i++)
			if (parts[i])
				ngram_model_free(parts[i]);
		return -1;
	}
	char *names[2] = {"general", "domain"};
	const float32 weights[2] = {(float32)(1.0 - m->domain_weight), (float32)m->domain_weight};
	/* The set and the search each take their own reference (sphinxbase
	 * retains what it is given), so ours are dropped whatever happens. */
	ngram_model_t *set = ngram_model_set_init(config, parts, names, weights, 2);
	for (int i = 0; i < 2; i++)
		ngram_model_free(parts[i]);
	int rc = set ? ps_set_lm(ps, "lm", set) : -1;
	if (set)
		ngram_model_free(set);
	return rc < 0 ? -1 : ps_set_search(ps, "lm");
}

/* "word\tphones" for word and its alternate pronunciations, onto out. */
static void add_pronunciations(GPtrArray *out, GHashTable *dict, const char *w)
{
	for (int alt = 1; alt < 10; alt++) {
		g_autofree char *name = alt == 1 ? g_strdup(w) : g_strdup_printf("%s(%d)", w, alt);
		const char *phones = g_hash_table_lookup(dict, name);
		if (!phones)
			break;
		g_ptr_array_add(out, g_strdup_printf("%s\t%s", name, phones));
	}
}

typedef struct scored_word {
	int32 score;
	const char *word;
} scored_word;

static int by_score_desc(const void *a, const void *b)
{
	int32 x = ((const scored_word *)a)->score, y = ((const scored_word *)b)->score;
	return (x < y) - (x > y);
}

/* The words of every "keywords" list of the knowledge base, onto set. */
static void add_keyword_words(json_t *kb, GHashTable *set)
{
	const char *sections[] = {"intents", "faqs"};
	for (size_t s = 0; s < G_N_ELEMENTS(sections); s++) {
		size_t i, j;
		json_t *entry, *k;
		json_array_foreach(json_object_get(kb, sections[s]), i, entry)
		{
			json_array_foreach(json_object_get(entry, "keywords"), j, k)
			{
				g_autoptr(GPtrArray) words = sb_kb_words(json_string_value(k));
				for (guint w = 0; w < words->len; w++)
					g_hash_table_add(set, g_strdup(words->pdata[w]));
			}
		}
	}
}

static bool takes_order_number(json_t *entry)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(entry, "patterns"), i, v)
	{
		if (json_is_string(v) && strstr(json_string_value(v), "{order}"))
			return true;
	}
	return false;
}

/* The knowledge base's keywords, normalised as the recogniser writes
 * words.  m->lock held. */
static void keywords_locked(sb_ps_model *m, json_t *kb)
{
	m->keywords = g_ptr_array_new_with_free_func(g_free);
	m->keyword_takes_number = g_array_new(FALSE, FALSE, sizeof(bool));
	const char *sections[] = {"intents", "faqs"};
	for (size_t s = 0; s < G_N_ELEMENTS(sections); s++) {
		size_t i, j;
		json_t *entry, *k;
		json_array_foreach(json_object_get(kb, sections[s]), i, entry)
		{
			bool number = takes_order_number(entry);
			json_array_foreach(json_object_get(entry, "keywords"), j, k)
			{
				g_autoptr(GPtrArray) words = sb_kb_words(json_string_value(k));
				if (!words->len)
					continue;
				g_ptr_array_add(words, NULL);
				g_autofree char *joined = g_strjoinv(" ", (char **)words->pdata);
				g_ptr_array_add(m->keywords, g_strdup_printf(" %s ", joined));
				g_array_append_val(m->keyword_takes_number, number);
			}
		}
	}
}

/* The words the language-model decoder may hear: the LM's most frequent
 * m->lm_vocabulary words, plus the grammar's and the knowledge base's
 * keywords (what the dialog engine listens for).  With the whole 134k-word
 * dictionary, a phone line's muffled speech is explained by rare words
 * ("what number should i call you on" → "what little guy called on"); the
 * few thousand most frequent keep the LM's statistics, cost less to search,
 * and cover how callers word things.  m->lock held. */
static void lm_vocabulary_locked(sb_ps_model *m, json_t *kb, GHashTable *dict,
                                 GHashTable *grammar_words)
{
	logmath_t *lmath = logmath_init(1.0001, 0, 0);
	/* The model keeps a reference of its own (logmath_retain): ours goes
	 * either way. */
	ngram_model_t *lm = ngram_model_read(NULL, m->lm, NGRAM_AUTO, lmath);
	logmath_free(lmath);
	if (!lm)
		return;
	g_autoptr(GArray) unigrams = g_array_new(FALSE, FALSE, sizeof(scored_word));
	/* Unigram by unigram (this sphinxbase does not export its iterators). */
	int32 n = (int32)ngram_model_get_counts(lm)[0];
	for (int32 wid = 0; wid < n; wid++) {
		const char *w = ngram_word(lm, wid);
		if (w && g_hash_table_contains(dict, w) && !g_hash_table_contains(grammar_words, w))
			g_array_append_val(unigrams, ((scored_word){ngram_score(lm, w, NULL), w}));
	}
	qsort(unigrams->data, unigrams->len, sizeof(scored_word), by_score_desc);
	m->lm_words = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < unigrams->len && i < (guint)m->lm_vocabulary; i++)
		add_pronunciations(m->lm_words, dict, g_array_index(unigrams, scored_word, i).word);
	g_autoptr(GHashTable) own = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	add_keyword_words(kb, own);
	GHashTableIter it;
	gpointer w;
	g_hash_table_iter_init(&it, grammar_words);
	while (g_hash_table_iter_next(&it, &w, NULL))
		g_hash_table_add(own, g_strdup(w));
	/* Skipping the frequent words already taken (a word listed twice
	 * would be added twice). */
	for (guint i = 0; i < unigrams->len && i < (guint)m->lm_vocabulary; i++)
		g_hash_table_remove(own, g_array_index(unigrams, scored_word, i).word);
	g_hash_table_iter_init(&it, own);
	while (g_hash_table_iter_next(&it, &w, NULL))
		add_pronunciations(m->lm_words, dict, w);
	ngram_model_free(lm);
}

/* Reads the dictionary and knowledge base, makes the grammar.  m->lock held. */
static bool model_load_locked(sb_ps_model *m)
{
	if (m->loaded)
		return !m->error;
	m->loaded = true;
	gint64 t0 = g_get_monotonic_time();
	g_autofree char *mdef = g_build_filename(m->hmm, "mdef", NULL);
	if (!g_file_test(mdef, G_FILE_TEST_IS_REGULAR)) {
		/* Checked here: pocketsphinx may exit() on a bad model. */
		m->error = g_strdup_printf("pocketsphinx: no acoustic model in %s", m->hmm);
		return false;
	}
	if (m->fallback && !g_file_test(m->lm, G_FILE_TEST_IS_REGULAR))
		m->fallback = false; /* grammar only; not an error */
	char *error = NULL;
	g_autoptr(json_t) kb = sb_kb_load(m->kb_path, &error);
	g_autoptr(GHashTable) dict = kb ? read_dict(m->dict, &error) : NULL;
	if (!dict) {
		m->error = error;
		return false;
	}
	known_ctx k = {dict, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
	g_autoptr(GPtrArray) dropped = g_ptr_array_new_with_free_func(g_free);
	m->jsgf = sb_kb_jsgf_filtered(kb, known, &k, dropped);
	if (dropped->len) {
		g_ptr_array_add(dropped, NULL);
		g_autofree char *list = g_strjoinv(", ", (char **)dropped->pdata);
		g_message("pocketsphinx: not in the dictionary, left out of the grammar: %s", list);
	}
	/* Only the grammar's pronunciations are kept (with alternates). */
	keywords_locked(m, kb);
	m->words = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer w;
	g_hash_table_iter_init(&it, k.used);
	while (g_hash_table_iter_next(&it, &w, NULL))
		add_pronunciations(m->words, dict, w);
	if (m->fallback && m->lm_vocabulary > 0) {
		lm_vocabulary_locked(m, kb, dict, k.used);
		if (m->domain_weight > 0)
			domain_model_locked(m, kb, dict);
	}
	g_hash_table_destroy(k.used);
	m->load_seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	return true;
}

/* ps_set_jsgf_string() of this pocketsphinx never frees the parsed
 * grammar (~70 KB per decoder); this is the same without the leak. */
int sb_ps_set_jsgf(ps_decoder_t *ps, const char *name, const char *jsgf_text)
{
	jsgf_t *jsgf = jsgf_parse_string(jsgf_text, NULL);
	jsgf_rule_t *rule = jsgf ? jsgf_get_public_rule(jsgf) : NULL;
	fsg_model_t *fsg = rule ? jsgf_build_fsg(jsgf, rule, ps_get_logmath(ps),
	                                         cmd_ln_float32_r(ps_get_config(ps), "-lw"))
	                        : NULL;
	int rc = fsg ? ps_set_fsg(ps, name, fsg) : -1;
	if (fsg)
		fsg_model_free(fsg);
	if (jsgf)
		jsgf_grammar_free(jsgf);
	return rc;
}

static ps_decoder_t *decoder_new(sb_ps_model *m, sb_ps_dec_kind kind, char **error)
{
	gint64 t0 = g_get_monotonic_time();
	g_mutex_lock(&models_lock);
	/* Grammar decoders get no -dict: the few words the grammar needs are
	 * added one by one (10 ms and 5 MB instead of 0.1 s and 25 MB). */
	bool own_words = kind != DEC_LM || m->lm_words;
	cmd_ln_t *config = kind == DEC_LM && m->lm_words
	                           ? cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm, "-lw",
	                                         m->lm_lw, "-wip", m->lm_wip, NULL)
	                   : kind == DEC_LM ? cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm,
	                                                  "-dict", m->dict, "-lm", m->lm, NULL)
	                   : kind == DEC_FINAL
	                           ? cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm, "-beam",
	                                         m->beam, "-pbeam", m->beam, "-wbeam", m->wbeam,
	                                         "-remove_silence", "no", NULL)
	                           : cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm, NULL);
	ps_decoder_t *ps = config ? ps_init(config) : NULL;
	cmd_ln_free_r(config);
	g_mutex_unlock(&models_lock);
	if (!ps) {
		*error = g_strdup_printf("pocketsphinx: cannot load %s",
		                         kind == DEC_LM ? m->lm : m->hmm);
		return NULL;
	}
	GPtrArray *words = kind == DEC_LM ? m->lm_words : m->words;
	for (guint i = 0; own_words && i < words->len; i++) {
		g_auto(GStrv) wp = g_strsplit(words->pdata[i], "\t", 2);
		ps_add_word(ps, wp[0], wp[1], i + 1 == words->len);
	}
	if (kind == DEC_LM && own_words && set_lm_search(m, ps) < 0) {
		*error = g_strdup_printf("pocketsphinx: cannot load %s", m->lm);
		ps_free(ps);
		return NULL;
	}
	if (kind != DEC_LM) {
		if (sb_ps_set_jsgf(ps, "kb", m->jsgf) < 0 || ps_set_search(ps, "kb") < 0) {
			*error = g_strdup("pocketsphinx: the knowledge-base grammar does not load");
			ps_free(ps);
			return NULL;
		}
	}
	g_mutex_lock(&m->lock);
	m->decoder_seconds[kind] = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	g_mutex_unlock(&m->lock);
	return ps;
}

/* Borrows a decoder: an idle one, a new one, or (bounded pools) waits. */
ps_decoder_t *sb_ps_acquire(sb_ps_model *m, sb_ps_dec_kind kind, char **error)
{
	pool *p = &m->pools[kind];
	g_mutex_lock(&m->lock);
	if (!model_load_locked(m)) {
		*error = g_strdup(m->error);
		g_mutex_unlock(&m->lock);
		return NULL;
	}
	while (!p->idle->len && p->max && p->created >= p->max)
		g_cond_wait(&p->freed, &m->lock);
	ps_decoder_t *ps = p->idle->len ? g_ptr_array_steal_index_fast(p->idle, p->idle->len - 1) : NULL;
	if (!ps)
		p->created++;
	g_mutex_unlock(&m->lock);
	if (ps)
		return ps;
	/* Created outside m->lock: other streams keep using the pool. */
	ps = decoder_new(m, kind, error);
	if (!ps) {
		g_mutex_lock(&m->lock);
		p->created--;
		g_cond_signal(&p->freed);
		g_mutex_unlock(&m->lock);
	}
	return ps;
}

void sb_ps_give_back(sb_ps_model *m, sb_ps_dec_kind kind, ps_decoder_t *ps)
{
	pool *p = &m->pools[kind];
	g_mutex_lock(&m->lock);
	g_ptr_array_add(p->idle, ps);
	g_cond_signal(&p->freed);
	g_mutex_unlock(&m->lock);
}

bool sb_pocketsphinx_preload(json_t *extra, int decoders, bool with_lm, char **error_out)
{
	g_autofree char *local_error = NULL;
	char **error = error_out ? error_out : &local_error;
	sb_ps_quiet();
	sb_ps_model *m = sb_ps_model_get(extra);
	g_autoptr(GPtrArray) got = g_ptr_array_new();
	bool ok = true;
	/* Both grammar kinds: a final pass and a live decoder per speaker. */
	for (int i = 0; ok && i < 2 * MAX(1, decoders); i++) {
		ps_decoder_t *ps = sb_ps_acquire(m, i % 2 ? DEC_LIVE : DEC_FINAL, error);
		ok = ps != NULL;
		if (ok)
			g_ptr_array_add(got, ps);
	}
	for (guint i = 0; i < got->len; i++)
		sb_ps_give_back(m, i % 2 ? DEC_LIVE : DEC_FINAL, got->pdata[i]);
	if (ok && with_lm && m->fallback) {
		ps_decoder_t *ps = sb_ps_acquire(m, DEC_LM, error);
		ok = ps != NULL;
		if (ok)
			sb_ps_give_back(m, DEC_LM, ps);
	}
	g_mutex_lock(&m->lock);
	if (ok)
		g_message("pocketsphinx: ready: dictionary and grammar %.3f s; one decoder: "
		          "final %.3f s, live %.3f s, language model %.3f s",
		          m->load_seconds, m->decoder_seconds[DEC_FINAL],
		          m->decoder_seconds[DEC_LIVE], m->decoder_seconds[DEC_LM]);
	g_mutex_unlock(&m->lock);
	return ok;
}

void sb_ps_worker_started(void)
{
	g_mutex_lock(&models_lock);
	live_workers++;
	g_mutex_unlock(&models_lock);
}

void sb_ps_worker_done(void)
{
	g_mutex_lock(&models_lock);
	live_workers--;
	g_cond_broadcast(&workers_gone);
	g_mutex_unlock(&models_lock);
}

double sb_ps_model_reject(sb_ps_model *m)
{
	return m->reject; /* set once, when the model is made */
}

double sb_ps_model_fold(sb_ps_model *m)
{
	return m->fold; /* set once, when the model is made */
}

bool sb_ps_model_maps_narrowband(sb_ps_model *m)
{
	return m->map && m->fold > 0;
}

bool sb_ps_model_checks_numbers(sb_ps_model *m)
{
	return m->check_numbers; /* set once, when the model is made */
}

sb_ps_keyword_topic sb_ps_model_keyword_topic(sb_ps_model *m, const char *text)
{
	g_autofree char *padded = g_strdup_printf(" %s ", text);
	sb_ps_keyword_topic found = SB_PS_NO_KEYWORD;
	/* keywords is set once, when the model loads, before any decoder
	 * exists: a stream that has text has a loaded model. */
	for (guint i = 0; m->keywords && i < m->keywords->len; i++) {
		if (!strstr(padded, m->keywords->pdata[i]))
			continue;
		if (g_array_index(m->keyword_takes_number, bool, i))
			return SB_PS_NUMBER_TOPIC;
		found = SB_PS_OTHER_TOPIC;
	}
	return found;
}

ps_decoder_t *sb_ps_fallback_acquire(sb_ps_model *m)
{
	g_mutex_lock(&m->lock);
	bool enabled = m->fallback;
	g_mutex_unlock(&m->lock);
	if (!enabled)
		return NULL;
	char *error = NULL;
	ps_decoder_t *lm = sb_ps_acquire(m, DEC_LM, &error);
	if (!lm) {
		g_message("%s; no fallback from now on", error);
		g_free(error);
		g_mutex_lock(&m->lock);
		m->fallback = false;
		g_mutex_unlock(&m->lock);
	}
	return lm;
}

void sb_pocketsphinx_shutdown(void)
{
	g_mutex_lock(&models_lock);
	while (live_workers > 0) /* released streams finish their last message */
		g_cond_wait(&workers_gone, &models_lock);
	GHashTable *all = models;
	models = NULL;
	g_mutex_unlock(&models_lock);
	if (all)
		g_hash_table_destroy(all);
}
