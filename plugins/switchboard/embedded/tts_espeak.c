/* The "espeak-ng" speech synthesiser: libespeak-ng, many languages, no
 * network.  libespeak-ng keeps global state and is not thread-safe, so one
 * dedicated thread owns it and takes jobs from a queue; it synthesises in
 * AUDIO_OUTPUT_SYNCHRONOUS mode, and every block of audio espeak hands to the
 * callback is resampled 22050 → 16000 Hz (speexdsp) and delivered at once,
 * so the caller hears the first words while the rest is being made.
 * espeak-ng runs at tens of times real time, so one thread serves many
 * calls; a job is one sentence or so, which keeps the queue fair. */
#include <stdlib.h>
#include <string.h>

#include <espeak-ng/speak_lib.h>
#include <glib.h>
#include <speex/speex_resampler.h>

#include "core/core.h"
#include "embedded/embedded_private.h"
#include "providers/providers.h"

struct sb_tts_job {
	gint refs;    /* the caller's and the queue's */
	sb_gate gate; /* every event; closed by release() */
	sb_tts_events events;
	void *user;
	char *text;
	char *voice;
	int rate;  /* words per minute, 0: espeak's default */
	int pitch; /* 0-100, -1: default */
	SpeexResamplerState *resampler; /* synthesis thread only */
};

static struct {
	GMutex lock;
	GCond ready_cond;
	GThread *thread;
	GAsyncQueue *queue;
	bool ready; /* initialisation finished (well or not) */
	int rate;   /* espeak's output rate, <= 0 when it failed */
	char *current_voice;
} engine;

/* Queued to stop the thread. */
static struct sb_tts_job quit_job;

static void job_unref(sb_tts_job *j)
{
	if (!g_atomic_int_dec_and_test(&j->refs))
		return;
	if (j->resampler)
		speex_resampler_destroy(j->resampler);
	g_free(j->text);
	g_free(j->voice);
	sb_gate_clear(&j->gate);
	g_free(j);
}

/* A released job is not spoken any further. */
static bool cancelled(sb_tts_job *j)
{
	return sb_gate_closed(&j->gate);
}

static void finish(sb_tts_job *j, const char *error)
{
	if (sb_gate_enter(&j->gate)) {
		j->events.done(j->user, error);
		sb_gate_leave(&j->gate);
	}
}

/* Resamples and delivers; in is NULL to flush the resampler's tail. */
static void deliver(sb_tts_job *j, const short *in, int samples)
{
	if (!j->resampler) {
		int err = 0;
		j->resampler = speex_resampler_init(1, (spx_uint32_t)engine.rate, SB_AGENT_RATE,
		                                    SPEEX_RESAMPLER_QUALITY_DEFAULT, &err);
		if (!j->resampler)
			return;
	}
	short zeros[256] = {0};
	if (!in) { /* the filter's delay line still holds the last samples */
		in = zeros;
		samples = MIN((int)G_N_ELEMENTS(zeros),
		              speex_resampler_get_input_latency(j->resampler));
	}
	while (samples > 0) {
		int16_t out[2048];
		spx_uint32_t in_len = (spx_uint32_t)samples, out_len = G_N_ELEMENTS(out);
		speex_resampler_process_int(j->resampler, 0, in, &in_len, out, &out_len);
		if (out_len && sb_gate_enter(&j->gate)) {
			j->events.audio(j->user, out, out_len);
			sb_gate_leave(&j->gate);
		}
		if (in_len == 0 && out_len == 0)
			break;
		in += in_len;
		samples -= (int)in_len;
	}
}

static int synth_callback(short *wav, int samples, espeak_EVENT *events)
{
	sb_tts_job *j = events ? events->user_data : NULL;
	if (!j)
		return 0;
	if (cancelled(j))
		return 1; /* abort this synthesis */
	if (wav && samples > 0)
		deliver(j, wav, samples);
	return 0;
}

static void set_voice(const char *voice)
{
	if (engine.current_voice && strcmp(engine.current_voice, voice) == 0)
		return;
	if (espeak_SetVoiceByName(voice) != EE_OK) {
		/* "ar-EG" → "ar"; anything unknown → American English */
		g_autofree char *primary = g_strndup(voice, strcspn(voice, "-_"));
		if (espeak_SetVoiceByName(primary) != EE_OK) {
			g_message("espeak-ng: no voice \"%s\", using en-us", voice);
			espeak_SetVoiceByName("en-us");
		}
	}
	g_free(engine.current_voice);
	engine.current_voice = g_strdup(voice);
}

static void synthesize(sb_tts_job *j)
{
	if (engine.rate <= 0) {
		finish(j, "espeak-ng: initialisation failed (is espeak-ng-data installed?)");
		return;
	}
	set_voice(j->voice);
	espeak_SetParameter(espeakRATE, j->rate > 0 ? j->rate : espeakRATE_NORMAL, 0);
	espeak_SetParameter(espeakPITCH, j->pitch >= 0 ? j->pitch : 50, 0);
	espeak_ERROR err = EE_OK;
	if (*j->text)
		err = espeak_Synth(j->text, strlen(j->text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
		                   NULL, j);
	if (cancelled(j))
		return;
	if (err != EE_OK) {
		finish(j, "espeak-ng: synthesis failed");
		return;
	}
	if (j->resampler)
		deliver(j, NULL, 0);
	finish(j, NULL);
}

static gpointer synth_thread(gpointer data)
{
	/* Its own reference: shutdown clears engine.queue before joining. */
	GAsyncQueue *queue = data;
	sb_thread_background();
	/* 60 ms blocks: small enough that the first audio leaves quickly. */
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 60, NULL, espeakINITIALIZE_DONT_EXIT);
	if (rate > 0)
		espeak_SetSynthCallback(synth_callback);
	g_mutex_lock(&engine.lock);
	engine.rate = rate;
	engine.ready = true;
	g_cond_broadcast(&engine.ready_cond);
	g_mutex_unlock(&engine.lock);
	for (;;) {
		sb_tts_job *j = g_async_queue_pop(queue);
		if (j == &quit_job)
			break;
		if (!cancelled(j))
			synthesize(j);
		job_unref(j);
	}
	/* Whatever was queued after the quit: told, not spoken. */
	sb_tts_job *j;
	while ((j = g_async_queue_try_pop(queue))) {
		if (j == &quit_job)
			continue;
		finish(j, "espeak-ng: shutdown");
		job_unref(j);
	}
	if (rate > 0)
		espeak_Terminate();
	g_free(engine.current_voice);
	engine.current_voice = NULL;
	g_async_queue_unref(queue);
	return NULL;
}

/* Starts the thread once; the caller holds engine.lock. */
static void start_locked(void)
{
	if (engine.thread)
		return;
	engine.ready = false;
	engine.queue = g_async_queue_new();
	engine.thread = g_thread_new("sb-espeak", synth_thread, g_async_queue_ref(engine.queue));
}

bool sb_espeak_init(char **error)
{
	g_mutex_lock(&engine.lock);
	start_locked();
	while (!engine.ready)
		g_cond_wait(&engine.ready_cond, &engine.lock);
	bool ok = engine.rate > 0;
	g_mutex_unlock(&engine.lock);
	if (!ok && error)
		*error = g_strdup("espeak-ng: initialisation failed (is espeak-ng-data installed?)");
	return ok;
}

void sb_espeak_shutdown(void)
{
	g_mutex_lock(&engine.lock);
	GThread *t = engine.thread;
	GAsyncQueue *q = engine.queue;
	engine.thread = NULL;
	engine.queue = NULL;
	g_mutex_unlock(&engine.lock);
	if (!t)
		return;
	g_async_queue_push(q, &quit_job);
	g_thread_join(t);
	g_async_queue_unref(q);
}

const char *sb_espeak_voice_for(const char *language, const char *voice)
{
	static const struct {
		const char *language, *voice;
	} map[] = {{"en", "en-us"}, {"en-us", "en-us"}, {"en-gb", "en-gb"}, {"en-uk", "en-gb"},
	           {"ar", "ar"},    {"zh", "cmn"},      {"pt", "pt-br"},    {"pt-br", "pt-br"},
	           {"pt-pt", "pt"}, {"es-mx", "es-419"}};
	/* espeak-ng's voices are languages: a voice configured for one
	 * ("en-us") does not speak another the conversation moved to. */
	if (voice && *voice &&
	    (!language || !*language || !sb_language_name(voice) ||
	     !g_strcmp0(sb_language_code(voice), sb_language_code(language))))
		return voice;
	if (!language || !*language)
		return "en-us";
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (g_ascii_strcasecmp(language, map[i].language) == 0)
			return map[i].voice;
	/* "ar-EG", "en-AU" …: the primary language's voice. */
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
		size_t n = strlen(map[i].language);
		if (g_ascii_strncasecmp(language, map[i].language, n) == 0 &&
		    (language[n] == '-' || language[n] == '_') && !strchr(map[i].language, '-'))
			return map[i].voice;
	}
	return language; /* espeak-ng knows most ISO 639-1 codes as voices */
}

static sb_tts_job *espeak_speak(const sb_provider_config *cfg, const char *text,
                                const sb_tts_events *events, void *user, char **error)
{
	if (!events || !events->audio || !events->done || !text) {
		*error = g_strdup("espeak-ng: text and audio/done events are required");
		return NULL;
	}
	sb_tts_job *j = g_new0(sb_tts_job, 1);
	j->refs = 2;
	sb_gate_init(&j->gate);
	j->events = *events;
	j->user = user;
	j->text = g_utf8_make_valid(text, -1);
	j->voice = g_strdup(sb_espeak_voice_for(cfg ? cfg->language : NULL, cfg ? cfg->voice : NULL));
	j->rate = CLAMP(sb_extra_int(cfg ? cfg->extra : NULL, "rate", 0), 0, espeakRATE_MAXIMUM);
	j->pitch = CLAMP(sb_extra_int(cfg ? cfg->extra : NULL, "pitch", -1), -1, 100);
	g_mutex_lock(&engine.lock);
	start_locked();
	g_async_queue_push(engine.queue, j);
	g_mutex_unlock(&engine.lock);
	return j;
}

static void espeak_release(sb_tts_job *j)
{
	if (!j)
		return;
	/* From inside our own callback (the synthesis thread) it does not
	 * wait; the callback returns 1 next time and espeak stops. */
	sb_gate_close(&j->gate);
	job_unref(j);
}

const sb_tts_provider sb_tts_espeak = {
        .type = "espeak-ng",
        .speak = espeak_speak,
        .release = espeak_release,
};
