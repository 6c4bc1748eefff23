/* Phone-path recognition measured end to end (phone_eval.h): espeak-ng →
 * the project's codec → pocketsphinx → the local engine.  The providers
 * are driven through their public interfaces, exactly as the agent drives
 * them, so what is measured is what a caller gets (minus the network). */
#include "phone_eval.h"

#include <string.h>

#include "embedded/embedded.h"
#include "media/media.h"

#define RATE 16000

struct phone_eval {
	json_t *kb;
	json_t *stt_extra;  /* the recogniser's config */
	GMutex engine_lock; /* the engine's turns share the kb's reference counts */
};

static const char *const line_names[PHONE_LINES] = {"clean", "pcmu", "g722", "text"};

const char *phone_line_name(phone_line line)
{
	return line < PHONE_LINES ? line_names[line] : "?";
}

bool phone_line_from_name(const char *name, phone_line *out)
{
	for (int i = 0; i < PHONE_LINES; i++)
		if (g_ascii_strcasecmp(name, line_names[i]) == 0) {
			*out = (phone_line)i;
			return true;
		}
	return false;
}

phone_eval *phone_eval_new(const char *kb_path, json_t *settings, char **error)
{
	json_t *kb = sb_kb_load(kb_path, error);
	if (!kb)
		return NULL;
	phone_eval *ev = g_new0(phone_eval, 1);
	ev->kb = kb;
	/* As the agent configures it by default, but with one language-model
	 * decoder per core: the tool runs trials side by side. */
	ev->stt_extra = json_pack("{ss si}", "kb", kb_path, "fallback_decoders",
	                          (int)g_get_num_processors());
	json_object_update(ev->stt_extra, settings);
	g_mutex_init(&ev->engine_lock);
	return ev;
}

void phone_eval_free(phone_eval *ev)
{
	if (!ev)
		return;
	json_decref(ev->kb);
	json_decref(ev->stt_extra);
	g_mutex_clear(&ev->engine_lock);
	g_free(ev);
}

/* ---- waiting for a provider's events ---- */

typedef struct waiter {
	GMutex lock;
	GCond cond;
	bool done;
	char *text; /* final text, or error */
	bool failed;
	GArray *audio; /* synthesis */
	gint64 done_at;
	bool paused; /* the recogniser answered a pause() */
} waiter;

static void waiter_init(waiter *w)
{
	memset(w, 0, sizeof(*w));
	g_mutex_init(&w->lock);
	g_cond_init(&w->cond);
}

static void waiter_clear(waiter *w)
{
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->cond);
	g_free(w->text);
}

static void waiter_finish(waiter *w, const char *text, bool failed)
{
	g_mutex_lock(&w->lock);
	if (!w->done) {
		w->text = g_strdup(text ? text : "");
		w->failed = failed;
		w->done = true;
		w->done_at = g_get_monotonic_time();
	}
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
}

static bool waiter_wait(waiter *w, int seconds)
{
	gint64 deadline = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
	g_mutex_lock(&w->lock);
	while (!w->done && g_cond_wait_until(&w->cond, &w->lock, deadline))
		;
	bool done = w->done;
	g_mutex_unlock(&w->lock);
	return done;
}

/* ---- speaking ---- */

static void on_tts_audio(void *user, const int16_t *pcm, size_t samples)
{
	waiter *w = user;
	g_array_append_vals(w->audio, pcm, (guint)samples);
}

static void on_tts_done(void *user, const char *error)
{
	waiter_finish(user, error, error != NULL);
}

GArray *phone_eval_speak(phone_eval *ev, const char *text, const char *voice, char **error)
{
	(void)ev;
	waiter w;
	waiter_init(&w);
	w.audio = g_array_new(FALSE, TRUE, sizeof(int16_t));
	sb_provider_config cfg = {.name = "espeak-ng", .type = "espeak-ng", .voice = voice};
	static const sb_tts_events events = {.audio = on_tts_audio, .done = on_tts_done};
	sb_tts_job *job = sb_tts_espeak.speak(&cfg, text, &events, &w, error);
	bool ok = job && waiter_wait(&w, 30) && !w.failed;
	if (job)
		sb_tts_espeak.release(job);
	if (!ok && job)
		*error = g_strdup_printf("espeak-ng: %s", w.text ? w.text : "timed out");
	GArray *audio = w.audio;
	waiter_clear(&w);
	if (!ok)
		g_array_unref(audio);
	return ok ? audio : NULL;
}

/* ---- the line ---- */

GArray *phone_eval_line(GArray *in, phone_line line)
{
	GArray *out = g_array_new(FALSE, TRUE, sizeof(int16_t));
	if (line == PHONE_LINE_CLEAN) {
		g_array_append_vals(out, in->data, in->len);
		return out;
	}
	sb_codec_id codec = line == PHONE_LINE_PCMU ? SB_CODEC_PCMU : SB_CODEC_G722;
	/* At the agent's rate on both sides, as the mixer uses the codecs:
	 * resampling to 8 kHz and back is part of the μ-law line. */
	sb_encoder *enc = sb_encoder_new(codec, RATE, NULL);
	sb_decoder *dec = sb_decoder_new(codec, RATE);
	const int frame = sb_frame_samples(RATE);
	for (guint o = 0; enc && dec && o < in->len; o += (guint)frame) {
		int16_t pcm[SB_MAX_FRAME_SAMPLES] = {0};
		memcpy(pcm, (int16_t *)in->data + o,
		       MIN((guint)frame, in->len - o) * sizeof(int16_t));
		uint8_t payload[SB_MAX_PAYLOAD];
		int bytes = sb_encoder_encode(enc, pcm, payload, sizeof(payload));
		int16_t back[SB_MAX_FRAME_SAMPLES];
		int n = bytes > 0 ? sb_decoder_decode(dec, payload, (size_t)bytes, back) : -1;
		if (n > 0)
			g_array_append_vals(out, back, (guint)n);
	}
	sb_encoder_free(enc);
	sb_decoder_free(dec);
	return out;
}

/* ---- recognising and answering ---- */

static void on_final(void *user, const char *text)
{
	waiter_finish(user, text, false);
}

static void on_failed(void *user, const char *error)
{
	waiter_finish(user, error, true);
}

static void on_paused(void *user, const char *text)
{
	(void)text;
	waiter *w = user;
	g_mutex_lock(&w->lock);
	w->paused = true;
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
}

static bool wait_paused(waiter *w, int seconds)
{
	gint64 deadline = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
	g_mutex_lock(&w->lock);
	while (!w->paused && !w->done && g_cond_wait_until(&w->cond, &w->lock, deadline))
		;
	bool paused = w->paused;
	g_mutex_unlock(&w->lock);
	return paused;
}

static char *recognise(phone_eval *ev, GArray *audio, int pause_ms, double *decode_ms, char **error)
{
	sb_provider_config cfg = {.name = "pocketsphinx",
	                          .type = "pocketsphinx",
	                          .language = "en",
	                          .extra = ev->stt_extra};
	/* No partials: the final text comes from its own whole-utterance pass
	 * either way, and the live search would only cost CPU here. */
	static const sb_stt_events events = {
	        .final = on_final, .failed = on_failed, .paused = on_paused};
	waiter w;
	waiter_init(&w);
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &events, &w, error);
	if (!s) {
		waiter_clear(&w);
		return NULL;
	}
	const int16_t *pcm = (const int16_t *)audio->data;
	for (guint o = 0; o < audio->len; o += 320) /* 20 ms pieces, as the agent feeds */
		sb_stt_pocketsphinx.audio(s, pcm + o, MIN((guint)320, audio->len - o));
	if (pause_ms > 0) {
		/* As the agent asks at the caller's first quiet moment, then
		 * feeds the rest of its hangover. */
		sb_stt_pocketsphinx.pause(s);
		if (!wait_paused(&w, 60))
			g_message("phone_eval: no answer to pause()");
		static const int16_t quiet[320];
		for (int o = 0; o < pause_ms * RATE / 1000; o += 320) {
			g_usleep(20 * 1000); /* as it comes, in real time */
			sb_stt_pocketsphinx.audio(s, quiet, 320);
		}
	}
	gint64 t0 = g_get_monotonic_time();
	sb_stt_pocketsphinx.end_of_speech(s);
	bool ok = waiter_wait(&w, 60) && !w.failed;
	sb_stt_pocketsphinx.release(s);
	*decode_ms = (double)(w.done_at - t0) / 1000.0;
	char *text = ok ? g_strdup(w.text) : NULL;
	if (!ok)
		*error = g_strdup_printf("pocketsphinx: %s", w.text ? w.text : "timed out");
	waiter_clear(&w);
	return text;
}

bool phone_eval_run(phone_eval *ev, GArray *audio, phone_trial *t, char **error)
{
	if (t->line == PHONE_LINE_TEXT) {
		t->audio_ms = t->decode_ms = 0;
		t->heard = g_strdup(t->text);
	} else {
		t->audio_ms = audio->len * 1000.0 / RATE;
		t->heard = recognise(ev, audio, t->pause_ms, &t->decode_ms, error);
	}
	if (!t->heard)
		return false;
	g_autoptr(json_t) memory = json_object();
	g_mutex_lock(&ev->engine_lock);
	/* The reply itself does not matter: the topic it chose is in memory. */
	g_free(sb_local_reply(ev->kb, memory, t->heard, "en", NULL));
	const char *last = json_string_value(json_object_get(memory, "last"));
	t->topic = g_strdup(last ? last : "fallback");
	g_mutex_unlock(&ev->engine_lock);
	/* Nothing heard is nothing understood. */
	const char *got = strcmp(t->topic, "empty") == 0 ? "fallback" : t->topic;
	t->right = strcmp(got, t->expected) == 0;
	return true;
}

char *phone_eval_digits(const char *text)
{
	static const char *const digits[] = {"zero", "one", "two",   "three", "four",
	                                     "five", "six", "seven", "eight", "nine"};
	g_auto(GStrv) words = g_strsplit(text ? text : "", " ", -1);
	GString *out = g_string_new(NULL);
	for (int i = 0; words[i]; i++)
		for (size_t d = 0; d < G_N_ELEMENTS(digits); d++)
			if (strcmp(words[i], digits[d]) == 0)
				g_string_append_printf(out, "%s%s", out->len ? " " : "", digits[d]);
	return g_string_free(out, FALSE);
}

json_t *phone_eval_load_set(const char *path, const char *split, json_t **root, char **error)
{
	json_error_t jerr;
	*root = json_load_file(path, 0, &jerr);
	if (!*root) {
		*error = g_strdup_printf("%s:%d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	json_t *set = json_object_get(*root, split);
	if (!json_is_array(set)) {
		*error = g_strdup_printf("%s: no \"%s\" array", path, split);
		g_clear_pointer(root, json_decref);
		return NULL;
	}
	return set;
}
