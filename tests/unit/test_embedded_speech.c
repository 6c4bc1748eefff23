/* The embedded speech stack end to end, through the provider interface the
 * agent uses (asynchronous, events on the providers' threads, bounded
 * waits): espeak-ng says a sentence, the 16 kHz audio goes into pocketsphinx
 * with the knowledge-base grammar, and the words must come back exactly;
 * the local dialog engine then answers them.  Also: Arabic synthesis,
 * partial hypotheses, the language-model fallback, cancellation. */
#include <string.h>

#include <glib.h>

#include "embedded/embedded.h"

#ifndef SB_SOURCE_DIR
#define SB_SOURCE_DIR "."
#endif
#define KB_PATH SB_SOURCE_DIR "/conf/knowledge-base.json"
#define WAIT_S 20

static json_t *kb;
static json_t *extra; /* {"kb": KB_PATH} */

/* ---- TTS ---- */

typedef struct tts_result {
	GMutex lock;
	GCond cond;
	GArray *pcm;
	int chunks;
	bool done;
	char *error;
	gint64 first_audio_us;
	int after_done;
	sb_tts_job *release_on_first; /* released inside the first audio event */
	bool released;
} tts_result;

static void tts_audio(void *user, const int16_t *pcm, size_t samples)
{
	tts_result *r = user;
	g_mutex_lock(&r->lock);
	r->after_done += r->done || r->released;
	if (!r->chunks)
		r->first_audio_us = g_get_monotonic_time();
	r->chunks++;
	g_array_append_vals(r->pcm, pcm, (guint)samples);
	sb_tts_job *j = r->release_on_first;
	r->release_on_first = NULL;
	g_mutex_unlock(&r->lock);
	if (j) {
		sb_tts_espeak.release(j);
		g_mutex_lock(&r->lock);
		r->released = true;
		g_cond_broadcast(&r->cond);
		g_mutex_unlock(&r->lock);
	}
}

static void tts_done(void *user, const char *error)
{
	tts_result *r = user;
	g_mutex_lock(&r->lock);
	r->after_done += r->done || r->released;
	r->done = true;
	r->error = g_strdup(error);
	g_cond_broadcast(&r->cond);
	g_mutex_unlock(&r->lock);
}

static const sb_tts_events tts_events = {tts_audio, tts_done};

static void tts_init(tts_result *r)
{
	memset(r, 0, sizeof(*r));
	g_mutex_init(&r->lock);
	g_cond_init(&r->cond);
	r->pcm = g_array_new(FALSE, TRUE, sizeof(int16_t));
}

static void tts_clear(tts_result *r)
{
	g_array_unref(r->pcm);
	g_free(r->error);
	g_mutex_clear(&r->lock);
	g_cond_clear(&r->cond);
}

/* Speaks text; returns 16 kHz audio (g_array_unref). */
static GArray *speak(const char *text, const char *language, double *synth_s, double *first_s)
{
	sb_provider_config cfg = {.name = "espeak", .type = "espeak-ng", .language = language};
	tts_result r;
	tts_init(&r);
	char *error = NULL;
	gint64 t0 = g_get_monotonic_time();
	sb_tts_job *job = sb_tts_espeak.speak(&cfg, text, &tts_events, &r, &error);
	g_assert_null(error);
	g_assert_nonnull(job);
	gint64 until = t0 + WAIT_S * G_TIME_SPAN_SECOND;
	g_mutex_lock(&r.lock);
	while (!r.done && g_cond_wait_until(&r.cond, &r.lock, until))
		;
	g_mutex_unlock(&r.lock);
	g_assert_true(r.done);
	g_assert_null(r.error);
	if (synth_s)
		*synth_s = (g_get_monotonic_time() - t0) / 1e6;
	if (first_s)
		*first_s = (r.first_audio_us - t0) / 1e6;
	sb_tts_espeak.release(job);
	g_assert_cmpint(r.after_done, ==, 0);
	GArray *pcm = g_array_ref(r.pcm);
	g_assert_cmpint(r.chunks, >, 1); /* streamed, not one block at the end */
	tts_clear(&r);
	return pcm;
}

/* ---- STT ---- */

typedef struct stt_result {
	GMutex lock;
	GCond cond;
	GPtrArray *finals;
	GPtrArray *partials;
	GPtrArray *so_far;
	char *failure;
} stt_result;

static void stt_partial(void *user, const char *text)
{
	stt_result *r = user;
	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->partials, g_strdup(text));
	g_mutex_unlock(&r->lock);
}

static void stt_final(void *user, const char *text)
{
	stt_result *r = user;
	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->finals, g_strdup(text));
	g_cond_broadcast(&r->cond);
	g_mutex_unlock(&r->lock);
}

static void stt_failed(void *user, const char *error)
{
	stt_result *r = user;
	g_mutex_lock(&r->lock);
	r->failure = g_strdup(error);
	g_cond_broadcast(&r->cond);
	g_mutex_unlock(&r->lock);
}

static void stt_paused(void *user, const char *text)
{
	stt_result *r = user;
	g_mutex_lock(&r->lock);
	g_ptr_array_add(r->so_far, g_strdup(text));
	g_cond_broadcast(&r->cond);
	g_mutex_unlock(&r->lock);
}

static const sb_stt_events stt_events = {
        .partial = stt_partial, .final = stt_final, .failed = stt_failed, .paused = stt_paused};

static void stt_init(stt_result *r)
{
	memset(r, 0, sizeof(*r));
	g_mutex_init(&r->lock);
	g_cond_init(&r->cond);
	r->finals = g_ptr_array_new_with_free_func(g_free);
	r->partials = g_ptr_array_new_with_free_func(g_free);
	r->so_far = g_ptr_array_new_with_free_func(g_free);
}

static void stt_clear(stt_result *r)
{
	g_ptr_array_unref(r->finals);
	g_ptr_array_unref(r->partials);
	g_ptr_array_unref(r->so_far);
	g_free(r->failure);
	g_mutex_clear(&r->lock);
	g_cond_clear(&r->cond);
}

/* Feeds audio as the agent does (20 ms frames, silence around the words),
 * ends the utterance and waits for final number `index`. */
static char *recognise(sb_stt_stream *s, stt_result *r, GArray *pcm, guint index, double *wait_s)
{
	int16_t silence[320] = {0};
	for (int i = 0; i < 10; i++)
		sb_stt_pocketsphinx.audio(s, silence, G_N_ELEMENTS(silence));
	for (guint off = 0; off < pcm->len; off += 320)
		sb_stt_pocketsphinx.audio(s, &g_array_index(pcm, int16_t, off),
		                          MIN(320, pcm->len - off));
	for (int i = 0; i < 10; i++)
		sb_stt_pocketsphinx.audio(s, silence, G_N_ELEMENTS(silence));
	gint64 t0 = g_get_monotonic_time();
	sb_stt_pocketsphinx.end_of_speech(s);
	gint64 until = t0 + WAIT_S * G_TIME_SPAN_SECOND;
	g_mutex_lock(&r->lock);
	while (r->finals->len <= index && !r->failure &&
	       g_cond_wait_until(&r->cond, &r->lock, until))
		;
	char *text = r->finals->len > index ? g_strdup(r->finals->pdata[index]) : NULL;
	g_mutex_unlock(&r->lock);
	g_assert_null(r->failure);
	g_assert_nonnull(text);
	if (wait_s)
		*wait_s = (g_get_monotonic_time() - t0) / 1e6;
	return text;
}

static void test_round_trip(void)
{
	static const struct {
		const char *say, *expect, *answer;
	} cases[] = {
	        {"What are your opening hours?", "what are your opening hours", "Monday to Friday"},
	        {"I need help with my order.", "i need help with my order", "What is your order number?"},
	        {"My order number is one two three four five.", "my order number is one two three four five",
	         "Order 12345 was shipped"},
	        {"My name is John.", "my name is john", "Nice to meet you, John."},
	        {"Can I talk to a real person?", "can i talk to a real person", "connecting you"},
	        {"Thank you, bye.", "thank you bye", "Goodbye John!"},
	};
	sb_provider_config cfg = {.name = "sphinx", .type = "pocketsphinx", .extra = extra};
	stt_result r;
	stt_init(&r);
	char *error = NULL;
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &stt_events, &r, &error);
	g_assert_null(error);
	g_assert_nonnull(s);
	g_autoptr(json_t) memory = json_object();
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		double synth_s, first_s, wait_s;
		g_autoptr(GArray) pcm = speak(cases[i].say, "en", &synth_s, &first_s);
		g_autofree char *heard = recognise(s, &r, pcm, i, &wait_s);
		g_test_message("espeak \"%s\": %.2f s of audio in %.3f s (first audio %.3f s); "
		               "pocketsphinx: \"%s\", final %.3f s after end of speech",
		               cases[i].say, pcm->len / 16000.0, synth_s, first_s, heard, wait_s);
		if (strcmp(heard, cases[i].expect) != 0)
			g_error("said \"%s\", heard \"%s\"", cases[i].say, heard);
		g_autofree char *answer = sb_local_reply(kb, memory, heard, "en", NULL);
		if (!strstr(answer, cases[i].answer))
			g_error("heard \"%s\", answered \"%s\"", heard, answer);
	}
	g_mutex_lock(&r.lock);
	g_assert_cmpuint(r.partials->len, >, 0); /* partials while speech goes on */
	g_test_message("partials: %u, e.g. \"%s\"", r.partials->len, (char *)r.partials->pdata[0]);
	g_mutex_unlock(&r.lock);
	/* End of speech without speech: an empty final, not silence. */
	sb_stt_pocketsphinx.end_of_speech(s);
	g_mutex_lock(&r.lock);
	gint64 until = g_get_monotonic_time() + WAIT_S * G_TIME_SPAN_SECOND;
	while (r.finals->len <= G_N_ELEMENTS(cases) && g_cond_wait_until(&r.cond, &r.lock, until))
		;
	g_assert_cmpuint(r.finals->len, ==, G_N_ELEMENTS(cases) + 1);
	g_assert_cmpstr(r.finals->pdata[G_N_ELEMENTS(cases)], ==, "");
	g_mutex_unlock(&r.lock);
	sb_stt_pocketsphinx.release(s);
	stt_clear(&r);
}

static void feed(sb_stt_stream *s, GArray *pcm)
{
	for (guint off = 0; off < pcm->len; off += 320)
		sb_stt_pocketsphinx.audio(s, &g_array_index(pcm, int16_t, off),
		                          MIN(320, pcm->len - off));
}

static char *wait_so_far(stt_result *r, guint index)
{
	gint64 until = g_get_monotonic_time() + WAIT_S * G_TIME_SPAN_SECOND;
	g_mutex_lock(&r->lock);
	while (r->so_far->len <= index && !r->failure &&
	       g_cond_wait_until(&r->cond, &r->lock, until))
		;
	char *text = r->so_far->len > index ? g_strdup(r->so_far->pdata[index]) : NULL;
	g_mutex_unlock(&r->lock);
	g_assert_null(r->failure);
	g_assert_nonnull(text);
	return text;
}

/* A caller pauses inside a sentence: asked at the pause, the recogniser
 * says what it heard up to there (however long ago its last partial was),
 * and the sentence goes on to one final.  Asked with nothing heard, it
 * answers "" at once. */
static void test_pause(void)
{
	sb_provider_config cfg = {.name = "sphinx", .type = "pocketsphinx", .extra = extra};
	stt_result r;
	stt_init(&r);
	char *error = NULL;
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &stt_events, &r, &error);
	g_assert_null(error);
	g_autoptr(GArray) first = speak("My order number is", "en", NULL, NULL);
	g_autoptr(GArray) second = speak("one two three four five.", "en", NULL, NULL);
	g_autoptr(GArray) quiet = g_array_new(FALSE, TRUE, sizeof(int16_t));
	g_array_set_size(quiet, 1600); /* 100 ms, as the agent asks */
	sb_stt_pocketsphinx.pause(s);
	g_autofree char *nothing = wait_so_far(&r, 0);
	g_assert_cmpstr(nothing, ==, "");
	feed(s, quiet);
	feed(s, first);
	feed(s, quiet);
	sb_stt_pocketsphinx.pause(s);
	g_autofree char *so_far = wait_so_far(&r, 1);
	g_test_message("heard at the pause: \"%s\"", so_far);
	g_assert_true(g_str_has_suffix(so_far, "order number is"));
	feed(s, second);
	feed(s, quiet);
	sb_stt_pocketsphinx.end_of_speech(s);
	gint64 until = g_get_monotonic_time() + WAIT_S * G_TIME_SPAN_SECOND;
	g_mutex_lock(&r.lock);
	while (r.finals->len < 1 && g_cond_wait_until(&r.cond, &r.lock, until))
		;
	g_assert_cmpuint(r.finals->len, ==, 1);
	/* One final with both halves (the whole-utterance decoder may drop a
	 * word of the first, depending on what it heard before: the slow run
	 * feeds it every phrase of the knowledge base first). */
	const char *final = r.finals->pdata[0];
	g_test_message("final: \"%s\"", final);
	g_assert_true(strstr(final, "order") != NULL);
	g_assert_true(g_str_has_suffix(final, "one two three four five"));
	g_mutex_unlock(&r.lock);
	sb_stt_pocketsphinx.release(s);
	stt_clear(&r);
}

/* Every phrase of the knowledge base (slow: -m slow): how many come back
 * word for word, and how many get the answer the written phrase gets. */
static void add_phrases(GPtrArray *out, json_t *array)
{
	size_t i;
	json_t *v;
	json_array_foreach(array, i, v)
	{
		g_autoptr(GString) p = g_string_new(json_string_value(v));
		g_string_replace(p, "{name}", "john", 0);
		g_string_replace(p, "{order}", "one two three four five", 0);
		g_autoptr(GPtrArray) w = sb_kb_words(p->str);
		g_autofree char *lower = g_ascii_strdown(p->str, -1);
		g_ptr_array_add(w, NULL);
		g_autofree char *spoken = g_strjoinv(" ", (char **)w->pdata);
		/* English phrases only, and not the bare order number */
		if (strcmp(spoken, lower) == 0 && strcmp(spoken, "one two three four five") != 0)
			g_ptr_array_add(out, g_strdup(spoken));
	}
}

static void test_all_phrases(void)
{
	if (!g_test_slow()) {
		g_test_skip("slow: run with -m slow");
		return;
	}
	g_autoptr(GPtrArray) phrases = g_ptr_array_new_with_free_func(g_free);
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kb, "intents"), i, v) {
		add_phrases(phrases, json_object_get(v, "phrases"));
		add_phrases(phrases, json_object_get(v, "patterns"));
	}
	json_array_foreach(json_object_get(kb, "faqs"), i, v) {
		g_autoptr(json_t) q = json_pack("[O]", json_object_get(v, "question"));
		add_phrases(phrases, q);
		add_phrases(phrases, json_object_get(v, "paraphrases"));
	}
	sb_provider_config cfg = {.name = "sphinx", .type = "pocketsphinx", .extra = extra};
	stt_result r;
	stt_init(&r);
	char *error = NULL;
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &stt_events, &r, &error);
	guint exact = 0, same_answer = 0;
	for (guint k = 0; k < phrases->len; k++) {
		const char *said = phrases->pdata[k];
		g_autoptr(GArray) pcm = speak(said, "en", NULL, NULL);
		g_autofree char *heard = recognise(s, &r, pcm, k, NULL);
		g_autofree char *a1 = sb_local_reply(kb, NULL, said, "en", NULL);
		g_autofree char *a2 = sb_local_reply(kb, NULL, heard, "en", NULL);
		exact += strcmp(said, heard) == 0;
		same_answer += strcmp(a1, a2) == 0;
		if (strcmp(said, heard) != 0)
			g_test_message("said \"%s\", heard \"%s\"%s", said, heard,
			               strcmp(a1, a2) == 0 ? " (same answer)" : "");
	}
	g_test_message("%u phrases: %u word for word, %u with the same answer", phrases->len,
	               exact, same_answer);
	g_assert_cmpuint(exact * 100, >=, phrases->len * 85);
	sb_stt_pocketsphinx.release(s);
	stt_clear(&r);
}

/* Words outside the grammar go to the general language model. */
static void test_fallback(void)
{
	sb_provider_config cfg = {.name = "sphinx", .type = "pocketsphinx", .extra = extra};
	stt_result r;
	stt_init(&r);
	char *error = NULL;
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &stt_events, &r, &error);
	g_autoptr(GArray) pcm = speak("The weather is lovely in Paris today.", "en", NULL, NULL);
	double wait_s;
	g_autofree char *heard = recognise(s, &r, pcm, 0, &wait_s);
	g_test_message("out of grammar: \"%s\" (%.3f s after end of speech, LM fallback)", heard,
	               wait_s);
	g_assert_cmpstr(heard, !=, "");
	g_autofree char *answer = sb_local_reply(kb, NULL, heard, "en", NULL);
	g_assert_true(g_str_has_prefix(answer, "Sorry, I didn't catch that."));
	sb_stt_pocketsphinx.release(s);
	stt_clear(&r);
}

/* Two calls at once, each with its own stream and worker. */
typedef struct parallel {
	GArray *pcm;
	char *heard;
} parallel;

static gpointer parallel_call(gpointer data)
{
	parallel *p = data;
	sb_provider_config cfg = {.name = "sphinx", .type = "pocketsphinx", .extra = extra};
	stt_result r;
	stt_init(&r);
	char *error = NULL;
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &stt_events, &r, &error);
	p->heard = recognise(s, &r, p->pcm, 0, NULL);
	sb_stt_pocketsphinx.release(s);
	stt_clear(&r);
	return NULL;
}

static void test_parallel(void)
{
	g_autoptr(GArray) a = speak("Where is my order?", "en", NULL, NULL);
	g_autoptr(GArray) b = speak("What is your phone number?", "en", NULL, NULL);
	parallel pa = {a, NULL}, pb = {b, NULL};
	GThread *ta = g_thread_new("call-a", parallel_call, &pa);
	GThread *tb = g_thread_new("call-b", parallel_call, &pb);
	g_thread_join(ta);
	g_thread_join(tb);
	g_assert_cmpstr(pa.heard, ==, "where is my order");
	g_assert_cmpstr(pb.heard, ==, "what is your phone number");
	g_free(pa.heard);
	g_free(pb.heard);
}

static void test_arabic(void)
{
	g_autofree char *greeting =
	        sb_kb_fill(kb, sb_kb_text(json_object_get(kb, "greeting"), "ar"), NULL);
	double synth_s;
	g_autoptr(GArray) pcm = speak(greeting, "ar", &synth_s, NULL);
	double energy = 0;
	for (guint i = 0; i < pcm->len; i++)
		energy += (double)g_array_index(pcm, int16_t, i) * g_array_index(pcm, int16_t, i);
	g_test_message("Arabic greeting \"%s\": %.2f s of audio in %.3f s", greeting,
	               pcm->len / 16000.0, synth_s);
	g_assert_cmpuint(pcm->len, >, 16000); /* more than a second of speech */
	g_assert_cmpfloat(energy / pcm->len, >, 1e4); /* and not silence */
	g_assert_cmpstr(sb_espeak_voice_for("ar-EG", NULL), ==, "ar");
	g_assert_cmpstr(sb_espeak_voice_for("en", NULL), ==, "en-us");
	g_assert_cmpstr(sb_espeak_voice_for("en-GB", NULL), ==, "en-gb");
	/* A configured voice wins for its own language; espeak-ng's voices
	 * are languages, so a conversation that moved to another one gets
	 * that language's voice.  A voice that names no language (mbrola's)
	 * is kept. */
	g_assert_cmpstr(sb_espeak_voice_for("en-US", "en-us+f3"), ==, "en-us+f3");
	g_assert_cmpstr(sb_espeak_voice_for(NULL, "en-us+f3"), ==, "en-us+f3");
	g_assert_cmpstr(sb_espeak_voice_for("fr", "en-us+f3"), ==, "fr");
	g_assert_cmpstr(sb_espeak_voice_for("ar", "en-gb"), ==, "ar");
	g_assert_cmpstr(sb_espeak_voice_for("en", "mb-en1"), ==, "mb-en1");
}

/* Released right away, or from inside its own first audio event: no
 * event after release() returns. */
static void test_tts_cancel(void)
{
	const char *text = "This is a long sentence that nobody will hear to the end, because the "
	                   "caller interrupts the agent as soon as it starts speaking.";
	for (int i = 0; i < 20; i++) {
		tts_result *r = g_new(tts_result, 1);
		tts_init(r);
		char *error = NULL;
		sb_tts_job *job = sb_tts_espeak.speak(NULL, text, &tts_events, r, &error);
		if (i % 2)
			g_usleep(1000);
		sb_tts_espeak.release(job);
		tts_clear(r);
		memset(r, 0xaa, sizeof(*r)); /* a late event would crash or trip ASan */
		g_free(r);
	}
	tts_result r;
	tts_init(&r);
	char *error = NULL;
	g_mutex_lock(&r.lock);
	r.release_on_first = sb_tts_espeak.speak(NULL, text, &tts_events, &r, &error);
	gint64 until = g_get_monotonic_time() + WAIT_S * G_TIME_SPAN_SECOND;
	while (!r.released && g_cond_wait_until(&r.cond, &r.lock, until))
		;
	g_assert_true(r.released);
	g_mutex_unlock(&r.lock);
	/* The next job runs: the engine was not left stuck. */
	g_autoptr(GArray) pcm = speak("Still here.", "en", NULL, NULL);
	g_assert_cmpuint(pcm->len, >, 8000);
	g_assert_cmpint(r.chunks, ==, 1);
	g_assert_false(r.done);
	tts_clear(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	char *error = NULL;
	kb = sb_kb_load(KB_PATH, &error);
	if (!kb)
		g_error("%s", error);
	extra = json_pack("{s:s}", "kb", KB_PATH);
	gint64 t0 = g_get_monotonic_time();
	if (!sb_espeak_init(&error))
		g_error("%s", error);
	g_test_message("espeak-ng init: %.3f s", (g_get_monotonic_time() - t0) / 1e6);
	t0 = g_get_monotonic_time();
	if (!sb_pocketsphinx_preload(extra, 2, true, &error))
		g_error("%s", error);
	g_test_message("pocketsphinx preload (dictionary, grammar, 2 decoders, LM): %.3f s",
	               (g_get_monotonic_time() - t0) / 1e6);
	g_test_add_func("/speech/round-trip", test_round_trip);
	g_test_add_func("/speech/all-phrases", test_all_phrases);
	g_test_add_func("/speech/pause", test_pause);
	g_test_add_func("/speech/fallback", test_fallback);
	g_test_add_func("/speech/parallel", test_parallel);
	g_test_add_func("/speech/arabic", test_arabic);
	g_test_add_func("/speech/tts-cancel", test_tts_cancel);
	int rc = g_test_run();
	sb_pocketsphinx_shutdown();
	sb_espeak_shutdown();
	json_decref(extra);
	json_decref(kb);
	return rc;
}
