/* The "pocketsphinx" speech recogniser: CMU PocketSphinx (Debian's
 * 5prealpha), en-us acoustic model, a JSGF grammar generated from the
 * knowledge base (grammar.c), and the general en-us language model as a
 * fallback when the grammar cannot explain what was said.
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
 *
 * Accuracy, measured on espeak-ng's voice saying the 106 phrases of the demo
 * knowledge base: decoding live (frame by frame) is right for 98% once the
 * decoder's cepstral mean has adapted, but for 75% on a fresh decoder; one
 * pass over the whole utterance (per-utterance normalisation, wide beams)
 * is right for 90-95% whatever came before.  So the final text comes from a
 * whole-utterance pass at end of speech (~5% of the utterance's duration,
 * e.g. 70 ms for 1.5 s), and partial hypotheses from a second, live decoder
 * fed as audio arrives.  Digital silence (all zeros) ruins the features:
 * audio gets a deterministic 1-LSB dither.
 *
 * Each stream has its own worker thread fed by a queue: audio() and
 * end_of_speech() never block; a ps_decoder_t is never used by two threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>

#include "core/core.h"
#include "embedded/embedded.h"

#define MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#define PARTIAL_EVERY (SB_AGENT_RATE * 3 / 10) /* a partial hypothesis per 300 ms */
#define MAX_UTTERANCE (SB_AGENT_RATE * 15)     /* audio kept for the fallback */
#define MAX_BACKLOG (SB_AGENT_RATE * 30)       /* queued audio beyond this is dropped */
#define MIN_FALLBACK (SB_AGENT_RATE * 3 / 10)  /* shorter: not worth a LM pass */

typedef enum {
	DEC_FINAL, /* grammar, wide beams, whole utterances */
	DEC_LIVE,  /* grammar, default beams, frame by frame, for partials */
	DEC_LM,    /* general language model, the fallback */
	DEC_KINDS
} dec_kind;

/* A pool of decoders of one kind; max 0 means unbounded. */
typedef struct pool {
	GPtrArray *idle;
	int created;
	int max;
	GCond freed;
} pool;

typedef struct model {
	char *hmm, *dict, *lm, *kb_path;
	char *beam, *wbeam; /* for DEC_FINAL */
	double reject;      /* unexplained speech above which the grammar lost */
	bool fallback;
	GMutex lock; /* everything below */
	bool loaded;
	char *error;   /* why loading failed */
	char *jsgf;    /* the grammar, for every grammar decoder */
	GPtrArray *words; /* "word\tphones", alternates as "word(2)" */
	pool pools[DEC_KINDS];
	double load_seconds, decoder_seconds[DEC_KINDS];
} model;

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

static void quiet_sphinx_once(void)
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
	model *m = data;
	for (int k = 0; k < DEC_KINDS; k++) {
		g_ptr_array_unref(m->pools[k].idle);
		g_cond_clear(&m->pools[k].freed);
	}
	if (m->words)
		g_ptr_array_unref(m->words);
	g_free(m->jsgf);
	g_free(m->error);
	g_free(m->hmm);
	g_free(m->dict);
	g_free(m->lm);
	g_free(m->kb_path);
	g_free(m->beam);
	g_free(m->wbeam);
	g_mutex_clear(&m->lock);
	g_free(m);
}

static void decoder_free(gpointer ps)
{
	ps_free(ps);
}

static const char *extra_str(json_t *extra, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(extra, key));
	return v && *v ? v : dflt;
}

static int extra_int(json_t *extra, const char *key, int dflt)
{
	json_t *v = json_object_get(extra, key);
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	return json_is_string(v) && *json_string_value(v) ? atoi(json_string_value(v)) : dflt;
}

static bool extra_bool(json_t *extra, const char *key, bool dflt)
{
	json_t *v = json_object_get(extra, key);
	if (json_is_boolean(v))
		return json_is_true(v);
	const char *s = json_string_value(v);
	return s ? strcmp(s, "false") != 0 && strcmp(s, "no") != 0 && strcmp(s, "0") != 0 : dflt;
}

/* The model for these paths, created (not loaded) on first use. */
static model *model_get(json_t *extra)
{
	const char *hmm = extra_str(extra, "hmm", MODEL_DIR "/en-us");
	const char *dict = extra_str(extra, "dict", MODEL_DIR "/cmudict-en-us.dict");
	const char *lm = extra_str(extra, "lm", MODEL_DIR "/en-us.lm.bin");
	const char *kb = extra_str(extra, "kb", sb_kb_default_path());
	bool fallback = extra_bool(extra, "fallback", true);
	/* Wider than pocketsphinx's defaults (1e-48, 7e-29): +5% right for
	 * twice the search; still ~5% of real time. */
	const char *beam = extra_str(extra, "beam", "1e-80");
	const char *wbeam = extra_str(extra, "wbeam", "1e-60");
	json_t *rj = json_object_get(extra, "reject");
	double reject = json_is_number(rj)   ? json_number_value(rj)
	                : json_is_string(rj) ? g_ascii_strtod(json_string_value(rj), NULL)
	                                     : 0.3;
	g_autofree char *key = g_strdup_printf("%s|%s|%s|%s|%d|%s|%s|%g", hmm, dict, lm, kb,
	                                       fallback, beam, wbeam, reject);
	g_mutex_lock(&models_lock);
	if (!models)
		models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, model_free);
	model *m = g_hash_table_lookup(models, key);
	if (!m) {
		m = g_new0(model, 1);
		m->hmm = g_strdup(hmm);
		m->dict = g_strdup(dict);
		m->lm = g_strdup(lm);
		m->kb_path = g_strdup(kb);
		m->fallback = fallback;
		m->beam = g_strdup(beam);
		m->wbeam = g_strdup(wbeam);
		m->reject = reject;
		g_mutex_init(&m->lock);
		for (int k = 0; k < DEC_KINDS; k++) {
			m->pools[k].idle = g_ptr_array_new_with_free_func(decoder_free);
			g_cond_init(&m->pools[k].freed);
		}
		m->pools[DEC_LM].max = MAX(1, extra_int(extra, "fallback_decoders", 1));
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

/* Reads the dictionary and knowledge base, makes the grammar.  m->lock held. */
static bool model_load_locked(model *m)
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
	m->words = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter it;
	gpointer w;
	g_hash_table_iter_init(&it, k.used);
	while (g_hash_table_iter_next(&it, &w, NULL)) {
		for (int alt = 1; alt < 10; alt++) {
			g_autofree char *name = alt == 1 ? g_strdup(w) : g_strdup_printf("%s(%d)", (char *)w, alt);
			const char *phones = g_hash_table_lookup(dict, name);
			if (!phones)
				break;
			g_ptr_array_add(m->words, g_strdup_printf("%s\t%s", name, phones));
		}
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

static ps_decoder_t *decoder_new(model *m, dec_kind kind, char **error)
{
	gint64 t0 = g_get_monotonic_time();
	g_mutex_lock(&models_lock);
	/* Grammar decoders get no -dict: the few words the grammar needs are
	 * added one by one (10 ms and 5 MB instead of 0.1 s and 25 MB). */
	cmd_ln_t *config =
	        kind == DEC_LM
	                ? cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm, "-dict", m->dict, "-lm",
	                              m->lm, NULL)
	        : kind == DEC_FINAL
	                ? cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm, "-beam", m->beam,
	                              "-pbeam", m->beam, "-wbeam", m->wbeam, "-remove_silence",
	                              "no", NULL)
	                : cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", m->hmm, NULL);
	ps_decoder_t *ps = config ? ps_init(config) : NULL;
	cmd_ln_free_r(config);
	g_mutex_unlock(&models_lock);
	if (!ps) {
		*error = g_strdup_printf("pocketsphinx: cannot load %s",
		                         kind == DEC_LM ? m->lm : m->hmm);
		return NULL;
	}
	if (kind != DEC_LM) {
		for (guint i = 0; i < m->words->len; i++) {
			g_auto(GStrv) wp = g_strsplit(m->words->pdata[i], "\t", 2);
			ps_add_word(ps, wp[0], wp[1], i + 1 == m->words->len);
		}
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
static ps_decoder_t *acquire(model *m, dec_kind kind, char **error)
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

static void give_back(model *m, dec_kind kind, ps_decoder_t *ps)
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
	quiet_sphinx_once();
	model *m = model_get(extra);
	g_autoptr(GPtrArray) got = g_ptr_array_new();
	bool ok = true;
	/* Both grammar kinds: a final pass and a live decoder per speaker. */
	for (int i = 0; ok && i < 2 * MAX(1, decoders); i++) {
		ps_decoder_t *ps = acquire(m, i % 2 ? DEC_LIVE : DEC_FINAL, error);
		ok = ps != NULL;
		if (ok)
			g_ptr_array_add(got, ps);
	}
	for (guint i = 0; i < got->len; i++)
		give_back(m, i % 2 ? DEC_LIVE : DEC_FINAL, got->pdata[i]);
	if (ok && with_lm && m->fallback) {
		ps_decoder_t *ps = acquire(m, DEC_LM, error);
		ok = ps != NULL;
		if (ok)
			give_back(m, DEC_LM, ps);
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

/* ---- streams ---- */

typedef enum { MSG_AUDIO, MSG_END, MSG_QUIT } msg_kind;

typedef struct msg {
	msg_kind kind;
	size_t samples;
	int16_t pcm[];
} msg;

struct sb_stt_stream {
	gint refs;    /* the caller's and the worker's */
	sb_gate gate; /* every event; closed by release() */
	sb_stt_events events;
	void *user;
	model *m;
	bool partials;
	GAsyncQueue *queue;
	gint backlog; /* queued samples */
	/* the worker's own */
	ps_decoder_t *live; /* borrowed for the utterance, for partials */
	GArray *audio;      /* the utterance, for the final pass */
	size_t since_partial, live_samples;
	char *last_partial;
	guint32 dither;
	bool failed; /* said once; the stream is then silent */
};

static void stream_unref(sb_stt_stream *s)
{
	if (!g_atomic_int_dec_and_test(&s->refs))
		return;
	msg *left;
	while ((left = g_async_queue_try_pop(s->queue)))
		g_free(left);
	g_async_queue_unref(s->queue);
	g_array_unref(s->audio);
	g_free(s->last_partial);
	sb_gate_clear(&s->gate);
	g_free(s);
}

static void emit(sb_stt_stream *s, void (*cb)(void *, const char *), const char *text)
{
	if (cb && sb_gate_enter(&s->gate)) {
		cb(s->user, text);
		sb_gate_leave(&s->gate);
	}
}

static void fail(sb_stt_stream *s, char *error)
{
	s->failed = true;
	emit(s, s->events.failed, error);
	g_free(error);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The share of the utterance's speech (10 ms frames within 20 dB of its
 * loudest) that the best path explains as silence or noise.  A grammar
 * forces any audio onto one of its sentences; when the words are not in
 * it, the decoder covers most of them with silence.  Measured on espeak-ng:
 * above 0.3 for 16 of 20 sentences outside the grammar, and for 5 of 106
 * inside it (all 5 misrecognised anyway).  Needs -remove_silence no, so
 * that frame numbers are times. */
static double unexplained_speech(ps_decoder_t *ps, GArray *audio)
{
	guint frames = audio->len / 160;
	if (!frames)
		return 0.0;
	g_autofree double *energy = g_new(double, frames);
	g_autofree double *sorted = g_new(double, frames);
	g_autofree bool *filler = g_new0(bool, frames);
	const int16_t *pcm = (const int16_t *)audio->data;
	for (guint f = 0; f < frames; f++) {
		double sum = 0.0;
		for (int k = 0; k < 160; k++)
			sum += (double)pcm[f * 160 + k] * pcm[f * 160 + k];
		energy[f] = sorted[f] = sum / 160;
	}
	qsort(sorted, frames, sizeof(double), compare_double);
	double loud = sorted[frames * 95 / 100];
	for (ps_seg_t *seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
		const char *w = ps_seg_word(seg);
		int sf, ef;
		ps_seg_frames(seg, &sf, &ef);
		if (w[0] == '<' || w[0] == '[' || w[0] == '+') /* <sil>, [NOISE], ++UH++ */
			for (int f = MAX(sf, 0); f <= ef && f < (int)frames; f++)
				filler[f] = true;
	}
	guint speech = 0, unexplained = 0;
	for (guint f = 0; f < frames; f++) {
		if (energy[f] > loud * 0.01 && energy[f] > 1e4) { /* RMS > 100 */
			speech++;
			unexplained += filler[f];
		}
	}
	return speech ? (double)unexplained / speech : 0.0;
}

/* One pass over the whole utterance; NULL when nothing was recognised or,
 * with a grammar, when the grammar does not explain what was said. */
static char *decode_whole(ps_decoder_t *ps, GArray *audio, double reject)
{
	char *text = NULL;
	if (ps_start_utt(ps) == 0) {
		ps_process_raw(ps, (const int16 *)audio->data, audio->len, FALSE, TRUE);
		ps_end_utt(ps);
		/* NULL when no path reached the grammar's end: not in it. */
		const char *hyp = ps_get_hyp(ps, NULL);
		double u = hyp && *hyp && reject > 0 ? unexplained_speech(ps, audio) : 0.0;
		if (u > reject && reject > 0)
			g_debug("pocketsphinx: \"%s\" leaves %.0f%% of the speech unexplained: "
			        "not in the grammar", hyp, u * 100);
		else
			text = hyp && *hyp ? g_strdup(hyp) : NULL;
	}
	return text;
}

/* What the grammar could not explain may still be worth passing on: the
 * general language model has a go. */
static char *fallback_decode(sb_stt_stream *s)
{
	model *m = s->m;
	g_mutex_lock(&m->lock);
	bool enabled = m->fallback;
	g_mutex_unlock(&m->lock);
	if (!enabled || s->audio->len < MIN_FALLBACK)
		return NULL;
	char *error = NULL;
	ps_decoder_t *lm = acquire(m, DEC_LM, &error);
	if (!lm) {
		g_message("%s; no fallback from now on", error);
		g_free(error);
		g_mutex_lock(&m->lock);
		m->fallback = false;
		g_mutex_unlock(&m->lock);
		return NULL;
	}
	char *text = decode_whole(lm, s->audio, 0.0);
	give_back(m, DEC_LM, lm);
	return text;
}

static void end_live(sb_stt_stream *s)
{
	if (!s->live)
		return;
	ps_end_utt(s->live);
	/* Back to the pool between utterances: decoders follow the people
	 * speaking, not the calls. */
	give_back(s->m, DEC_LIVE, s->live);
	s->live = NULL;
}

static void on_audio(sb_stt_stream *s, msg *mg)
{
	if (s->failed)
		return;
	/* 1-LSB dither, a quarter of the samples (what sphinxbase's -dither
	 * does, but deterministic and without its global random state). */
	for (size_t i = 0; i < mg->samples; i++) {
		s->dither ^= s->dither << 13;
		s->dither ^= s->dither >> 17;
		s->dither ^= s->dither << 5;
		if ((s->dither & 3) == 0 && mg->pcm[i] < INT16_MAX)
			mg->pcm[i]++;
	}
	g_array_append_vals(s->audio, mg->pcm, (guint)mg->samples);
	if (s->audio->len > MAX_UTTERANCE) /* keep the newest: the words just said */
		g_array_remove_range(s->audio, 0, s->audio->len - MAX_UTTERANCE / 2);
	if (!s->partials)
		return;
	if (!s->live) {
		char *error = NULL;
		s->live = acquire(s->m, DEC_LIVE, &error);
		if (!s->live) {
			fail(s, error);
			return;
		}
		if (ps_start_utt(s->live) < 0) {
			give_back(s->m, DEC_LIVE, s->live);
			s->live = NULL;
			return;
		}
		s->since_partial = s->live_samples = 0;
		g_clear_pointer(&s->last_partial, g_free);
	}
	ps_process_raw(s->live, (const int16 *)mg->pcm, mg->samples, FALSE, FALSE);
	s->live_samples += mg->samples;
	s->since_partial += mg->samples;
	if (s->since_partial >= PARTIAL_EVERY) {
		s->since_partial = 0;
		const char *hyp = ps_get_hyp(s->live, NULL);
		if (hyp && *hyp && g_strcmp0(hyp, s->last_partial) != 0) {
			g_free(s->last_partial);
			s->last_partial = g_strdup(hyp);
			emit(s, s->events.partial, hyp);
		}
	}
	/* No end of speech for a long time (audio fed through silence): a
	 * live search must not grow without bound, so it starts over. */
	if (s->live_samples > MAX_UTTERANCE)
		end_live(s);
}

static void on_end(sb_stt_stream *s)
{
	if (s->failed)
		return;
	end_live(s);
	g_autofree char *text = NULL;
	if (s->audio->len) {
		char *error = NULL;
		ps_decoder_t *ps = acquire(s->m, DEC_FINAL, &error);
		if (!ps) {
			fail(s, error);
			return;
		}
		text = decode_whole(ps, s->audio, s->m->reject);
		give_back(s->m, DEC_FINAL, ps);
		if (!text)
			text = fallback_decode(s);
		g_array_set_size(s->audio, 0);
	}
	emit(s, s->events.final, text ? text : "");
}

static gpointer stream_worker(gpointer data)
{
	sb_stt_stream *s = data;
	sb_thread_background();
	for (;;) {
		msg *mg = g_async_queue_pop(s->queue);
		msg_kind kind = mg->kind;
		if (kind == MSG_AUDIO)
			g_atomic_int_add(&s->backlog, -(gint)mg->samples);
		/* A released stream decodes nothing more. */
		bool cancelled = sb_gate_closed(&s->gate);
		if (!cancelled && kind == MSG_AUDIO)
			on_audio(s, mg);
		else if (!cancelled && kind == MSG_END)
			on_end(s);
		g_free(mg);
		if (kind == MSG_QUIT)
			break;
	}
	end_live(s);
	stream_unref(s);
	g_mutex_lock(&models_lock);
	live_workers--;
	g_cond_broadcast(&workers_gone);
	g_mutex_unlock(&models_lock);
	return NULL;
}

static void push(sb_stt_stream *s, msg_kind kind, const int16_t *pcm, size_t samples)
{
	msg *mg = g_malloc(sizeof(msg) + samples * sizeof(int16_t));
	mg->kind = kind;
	mg->samples = samples;
	if (samples)
		memcpy(mg->pcm, pcm, samples * sizeof(int16_t));
	g_async_queue_push(s->queue, mg);
}

static sb_stt_stream *ps_open(const sb_provider_config *cfg, const sb_stt_events *events,
                              void *user, char **error)
{
	if (!events || !events->final) {
		*error = g_strdup("pocketsphinx: a final event is required");
		return NULL;
	}
	const char *lang = cfg ? cfg->language : NULL;
	if (lang && *lang && g_ascii_strncasecmp(lang, "en", 2) != 0) {
		*error = g_strdup_printf("pocketsphinx: only English models are installed, not %s",
		                         lang);
		return NULL;
	}
	quiet_sphinx_once();
	sb_stt_stream *s = g_new0(sb_stt_stream, 1);
	s->refs = 2;
	sb_gate_init(&s->gate);
	s->events = *events;
	s->user = user;
	/* Loading happens on the worker: open() returns at once. */
	s->m = model_get(cfg ? cfg->extra : NULL);
	s->partials = events->partial && extra_bool(cfg ? cfg->extra : NULL, "partials", true);
	s->queue = g_async_queue_new();
	s->audio = g_array_new(FALSE, FALSE, sizeof(int16_t));
	s->dither = 2463534242u;
	g_mutex_lock(&models_lock);
	live_workers++;
	g_mutex_unlock(&models_lock);
	/* Detached: release() need not wait for a decode to finish, and
	 * sb_pocketsphinx_shutdown() waits for live_workers to reach zero. */
	g_thread_unref(g_thread_new("sb-sphinx", stream_worker, s));
	return s;
}

static void ps_audio(sb_stt_stream *s, const int16_t *pcm, size_t samples)
{
	if (!s || !pcm || !samples)
		return;
	/* A worker that cannot keep up must not eat all memory. */
	if (g_atomic_int_get(&s->backlog) > MAX_BACKLOG)
		return;
	g_atomic_int_add(&s->backlog, (gint)samples);
	push(s, MSG_AUDIO, pcm, samples);
}

static void ps_end_of_speech(sb_stt_stream *s)
{
	if (s)
		push(s, MSG_END, NULL, 0);
}

static void ps_release(sb_stt_stream *s)
{
	if (!s)
		return;
	/* From inside one of its events (the worker) it does not wait. */
	sb_gate_close(&s->gate);
	push(s, MSG_QUIT, NULL, 0);
	stream_unref(s);
}

const sb_stt_provider sb_stt_pocketsphinx = {
        .type = "pocketsphinx",
        .open = ps_open,
        .audio = ps_audio,
        .end_of_speech = ps_end_of_speech,
        .release = ps_release,
};
