/* The "pocketsphinx" speech recogniser: CMU PocketSphinx (Debian's
 * 5prealpha), en-us acoustic model, a JSGF grammar generated from the
 * knowledge base (grammar.c), and the general en-us language model as a
 * fallback when the grammar cannot explain what was said.  This file is the
 * streams; the models and the decoder pools they borrow from are
 * pocketsphinx_models.c.
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
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <pocketsphinx.h>

#include "core/core.h"
#include "embedded/embedded_private.h"

#define PARTIAL_EVERY (SB_AGENT_RATE * 3 / 10) /* a partial hypothesis per 300 ms */
#define MAX_UTTERANCE (SB_AGENT_RATE * 15)     /* audio kept for the fallback */
#define MAX_BACKLOG (SB_AGENT_RATE * 30)       /* queued audio beyond this is dropped */
#define MIN_FALLBACK (SB_AGENT_RATE * 3 / 10)  /* shorter: not worth a LM pass */
/* A whole pass at every pause costs the utterance so far again each time;
 * past this the live search has adapted to the line and answers alone. */
#define MAX_SO_FAR_PASS (SB_AGENT_RATE * 6)
/* A number checked at a pause stands at the end of the utterance when no
 * more than this came after: the rest of the hangover, not a word. */
#define MAX_AFTER_CHECK (SB_AGENT_RATE * 6 / 10)

static uint64_t lm_passes;

uint64_t sb_pocketsphinx_lm_passes(void)
{
	return __atomic_load_n(&lm_passes, __ATOMIC_RELAXED);
}

/* ---- streams ---- */

typedef enum { MSG_AUDIO, MSG_END, MSG_PAUSE, MSG_QUIT } msg_kind;

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
	sb_ps_model *m;
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
	/* A number checked at a pause (check_number): how much audio there
	 * was, and the language model's words if they won (NULL: the
	 * grammar's stand).  Reused at the end of the utterance when little
	 * came after: the silence that ended the turn, in which the grammar
	 * may hear other digits ("two eight three zero", then "two eight two
	 * three zero"), but no word more. */
	bool checked;
	guint checked_len;
	char *checked_words;
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
	g_free(s->checked_words);
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

/* The audio's cepstra, mapped towards wideband ones (narrowband.c), into
 * the search: what ps_process_raw() does, with the map between the front
 * end and the features. */
static void process_mapped(ps_decoder_t *ps, GArray *audio)
{
	fe_t *fe = ps_get_fe(ps);
	mfcc_t **cep = NULL;
	int32 frames = 0;
	if (fe_process_utt(fe, (const int16 *)audio->data, audio->len, &cep, &frames) < 0) {
		if (cep)
			fe_free_2d(cep);
		return;
	}
	double sum[SB_NARROWBAND_CEPSTRA] = {0};
	for (int32 f = 0; f < frames; f++) {
		float c[SB_NARROWBAND_CEPSTRA];
		for (int j = 0; j < SB_NARROWBAND_CEPSTRA; j++)
			c[j] = (float)cep[f][j];
		sb_narrowband_map(c);
		for (int j = 0; j < SB_NARROWBAND_CEPSTRA; j++) {
			cep[f][j] = (mfcc_t)c[j];
			sum[j] += c[j];
		}
	}
	/* Fed in blocks, the search normalises by a running mean: start it at
	 * this utterance's own, as the whole-utterance mean the model knows. */
	if (frames > 0) {
		mfcc_t mean[SB_NARROWBAND_CEPSTRA];
		for (int j = 0; j < SB_NARROWBAND_CEPSTRA; j++)
			mean[j] = (mfcc_t)(sum[j] / frames);
		cmn_live_set(ps_get_feat(ps)->cmn_struct, mean);
	}
	/* Not as one whole utterance: with it, the two-pass search of this
	 * pocketsphinx rewinds past its feature buffer on a long one
	 * ("Circular feature buffer cannot be rewound"). */
	ps_process_cep(ps, cep, frames, FALSE, FALSE);
	fe_free_2d(cep);
}

/* One pass over the whole utterance; NULL when nothing was recognised or,
 * with a grammar, when the grammar does not explain what was said. */
static char *decode_whole(ps_decoder_t *ps, GArray *audio, double reject, bool mapped)
{
	char *text = NULL;
	/* Decoders are shared by every caller: the mapped cepstra must not
	 * leave their mean behind for the next caller's utterance (it cost
	 * G.722 callers 17 of 264 held-out phrasings). */
	mapped = mapped && fe_get_output_size(ps_get_fe(ps)) == SB_NARROWBAND_CEPSTRA;
	cmn_t *cmn = ps_get_feat(ps)->cmn_struct;
	mfcc_t mean[SB_NARROWBAND_CEPSTRA];
	if (mapped)
		cmn_live_get(cmn, mean);
	if (ps_start_utt(ps) == 0) {
		if (mapped)
			process_mapped(ps, audio);
		else
			ps_process_raw(ps, (const int16 *)audio->data, audio->len, FALSE, TRUE);
		ps_end_utt(ps);
		if (mapped)
			cmn_live_set(cmn, mean);
		/* NULL when no path reached the grammar's end: not in it. */
		const char *hyp = ps_get_hyp(ps, NULL);
		double u = hyp && *hyp && reject > 0 ? unexplained_speech(ps, audio) : 0.0;
		if (u > reject && reject > 0)
			g_debug("pocketsphinx: \"%s\" leaves %.0f%% of the speech unexplained: "
			        "not in the grammar",
			        hyp, u * 100);
		else
			text = hyp && *hyp ? g_strdup(hyp) : NULL;
	}
	return text;
}

/* What the grammar could not explain may still be worth passing on: the
 * general language model has a go. */
static char *fallback_decode(sb_stt_stream *s, GArray *audio, bool mapped)
{
	if (audio->len < MIN_FALLBACK)
		return NULL;
	ps_decoder_t *lm = sb_ps_fallback_acquire(s->m);
	if (!lm)
		return NULL;
	__atomic_add_fetch(&lm_passes, 1, __ATOMIC_RELAXED);
	char *text = decode_whole(lm, audio, 0.0, mapped);
	sb_ps_give_back(s->m, DEC_LM, lm);
	return text;
}

static void end_live(sb_stt_stream *s)
{
	if (!s->live)
		return;
	ps_end_utt(s->live);
	/* Back to the pool between utterances: decoders follow the people
	 * speaking, not the calls. */
	sb_ps_give_back(s->m, DEC_LIVE, s->live);
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
		s->live = sb_ps_acquire(s->m, DEC_LIVE, &error);
		if (!s->live) {
			fail(s, error);
			return;
		}
		if (ps_start_utt(s->live) < 0) {
			sb_ps_give_back(s->m, DEC_LIVE, s->live);
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

/* The grammar's pass over the whole utterance kept so far: *text, or NULL
 * when the grammar cannot explain it.  false: no decoder (the stream has
 * failed, and said so). */
static bool whole_pass(sb_stt_stream *s, GArray *audio, char **text)
{
	char *error = NULL;
	ps_decoder_t *ps = sb_ps_acquire(s->m, DEC_FINAL, &error);
	if (!ps) {
		fail(s, error);
		return false;
	}
	*text = decode_whole(ps, audio, sb_ps_model_reject(s->m), false);
	sb_ps_give_back(s->m, DEC_FINAL, ps);
	return true;
}

/* The utterance as the acoustic model should hear it: a phone line's
 * (nothing above 4 kHz) with its upper band filled (narrowband.c).  A new
 * reference; *mapped: whether its cepstra are to be mapped too. */
static GArray *line_audio(sb_stt_stream *s, bool *mapped)
{
	double fold = sb_ps_model_fold(s->m);
	const int16_t *pcm = (const int16_t *)s->audio->data;
	*mapped = false;
	if (fold <= 0 || !sb_narrowband(pcm, s->audio->len))
		return g_array_ref(s->audio);
	*mapped = sb_ps_model_maps_narrowband(s->m);
	GArray *folded = g_array_sized_new(FALSE, FALSE, sizeof(int16_t), s->audio->len);
	g_array_append_vals(folded, pcm, s->audio->len);
	sb_fold_upper_band((int16_t *)folded->data, folded->len, fold);
	return folded;
}

static int digit_words(const char *text)
{
	static const char *const digits[] = {"zero", "one", "two",   "three", "four",
	                                     "five", "six", "seven", "eight", "nine"};
	g_auto(GStrv) words = g_strsplit(text, " ", -1);
	int n = 0;
	for (int i = 0; words[i]; i++)
		for (size_t d = 0; d < G_N_ELEMENTS(digits); d++)
			n += strcmp(words[i], digits[d]) == 0;
	return n;
}

/* The grammar's order numbers soak up speech it does not hold: ten words
 * that can follow one another in any order explain almost any sound ("do
 * you accept visa" as "two eight two three zero").  When the grammar heard
 * a number, the language model hears the utterance again, and its words
 * win when they hold no number and name another topic of the knowledge
 * base ("do you accept visa" word for word, on G.722).  Its words alone
 * are not enough: over a μ-law line it hears real numbers as anything
 * ("one one one one one" as "want want want want want"), and a caller
 * who says "order" is talking about one. */
static bool needs_check(sb_stt_stream *s, const char *grammar_text)
{
	return grammar_text && sb_ps_model_checks_numbers(s->m) && digit_words(grammar_text) >= 3;
}

/* The language model's words when they should stand for the utterance
 * heard so far instead of the grammar's number, else NULL. */
static char *words_instead_of_number(sb_stt_stream *s, const char *grammar_text)
{
	bool mapped;
	g_autoptr(GArray) heard = line_audio(s, &mapped);
	char *free_text = fallback_decode(s, heard, mapped);
	if (!free_text || digit_words(free_text) >= 2 ||
	    sb_ps_model_keyword_topic(s->m, free_text) != SB_PS_OTHER_TOPIC) {
		g_free(free_text);
		return NULL;
	}
	g_debug("pocketsphinx: the grammar's \"%s\" is \"%s\" to the language model", grammar_text,
	        free_text);
	return free_text;
}

/* The language-model pass costs a few hundred ms, which the turn would
 * wait for; checked at the caller's pause (on_pause), most of it is spent
 * while the agent waits for the turn to be over anyway. */
static char *check_number(sb_stt_stream *s, char *grammar_text)
{
	if (!needs_check(s, grammar_text))
		return grammar_text;
	char *words = s->checked && s->audio->len >= s->checked_len &&
	                              s->audio->len - s->checked_len <= MAX_AFTER_CHECK
	                      ? g_steal_pointer(&s->checked_words)
	                      : words_instead_of_number(s, grammar_text);
	if (!words)
		return grammar_text;
	g_free(grammar_text);
	return words;
}

static void forget_check(sb_stt_stream *s)
{
	s->checked = false;
	g_clear_pointer(&s->checked_words, g_free);
}

/* What the caller said so far: the caller is quiet and the agent waits to
 * know whether the sentence is over.  The live search is what partials
 * say, and on a line it has not adapted to it hears "my order number is"
 * as "what are" (a complete question: the caller would be cut off); so a
 * whole pass over the utterance so far, as the final's (a few tens of ms
 * for a sentence's start), and the live search when the grammar cannot
 * explain the words yet or the utterance is long. */
static void on_pause(sb_stt_stream *s)
{
	if (s->failed || !s->events.paused)
		return;
	g_autofree char *whole = NULL;
	if (s->audio->len && (s->audio->len <= MAX_SO_FAR_PASS || !s->live) &&
	    !whole_pass(s, s->audio, &whole))
		return;
	const char *hyp = whole ? whole : s->live ? ps_get_hyp(s->live, NULL) : NULL;
	emit(s, s->events.paused, hyp ? hyp : "");
	forget_check(s);
	if (needs_check(s, whole)) {
		s->checked_words = words_instead_of_number(s, whole);
		s->checked = true;
		s->checked_len = s->audio->len;
	}
}

static void on_end(sb_stt_stream *s)
{
	if (s->failed)
		return;
	end_live(s);
	g_autofree char *text = NULL;
	if (s->audio->len) {
		/* The grammar hears the line as it is: what it knows (a menu's
		 * "two", "okay") it hears as before. */
		if (!whole_pass(s, s->audio, &text))
			return;
		if (text) {
			text = check_number(s, text);
		} else {
			bool mapped;
			g_autoptr(GArray) heard = line_audio(s, &mapped);
			text = fallback_decode(s, heard, mapped);
		}
		g_array_set_size(s->audio, 0);
	}
	forget_check(s);
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
		else if (!cancelled && kind == MSG_PAUSE)
			on_pause(s);
		g_free(mg);
		if (kind == MSG_QUIT)
			break;
	}
	end_live(s);
	stream_unref(s);
	sb_ps_worker_done();
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
	sb_ps_quiet();
	sb_stt_stream *s = g_new0(sb_stt_stream, 1);
	s->refs = 2;
	sb_gate_init(&s->gate);
	s->events = *events;
	s->user = user;
	/* Loading happens on the worker: open() returns at once. */
	s->m = sb_ps_model_get(cfg ? cfg->extra : NULL);
	s->partials = events->partial && sb_extra_bool(cfg ? cfg->extra : NULL, "partials", true);
	s->queue = g_async_queue_new();
	s->audio = g_array_new(FALSE, FALSE, sizeof(int16_t));
	s->dither = 2463534242u;
	sb_ps_worker_started();
	/* Detached: release() need not wait for a decode to finish, and
	 * sb_pocketsphinx_shutdown() waits for the workers to end. */
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

static void ps_pause(sb_stt_stream *s)
{
	if (s)
		push(s, MSG_PAUSE, NULL, 0);
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
        .pause = ps_pause,
        .release = ps_release,
};
