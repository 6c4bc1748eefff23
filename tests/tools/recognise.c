/* Recognises a 16 kHz mono WAV with the embedded recogniser (pocketsphinx
 * and the grammar of a knowledge base) and prints the text: how the
 * end-to-end tests check what the agent actually said on the wire.
 *
 *   recognise speech.wav knowledge-base.json */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "embedded/embedded.h"

typedef struct result {
	GMutex lock;
	GCond done;
	char *text;
	bool finished;
} result;

static void on_partial(void *user, const char *text)
{
	(void)user;
	(void)text;
}

static void on_final(void *user, const char *text)
{
	result *r = user;
	g_mutex_lock(&r->lock);
	g_free(r->text);
	r->text = g_strdup(text);
	r->finished = true;
	g_cond_signal(&r->done);
	g_mutex_unlock(&r->lock);
}

static void on_failed(void *user, const char *error)
{
	fprintf(stderr, "recognise: %s\n", error);
	on_final(user, "");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: recognise speech.wav knowledge-base.json\n");
		return 2;
	}
	gchar *wav = NULL;
	gsize len = 0;
	if (!g_file_get_contents(argv[1], &wav, &len, NULL) || len < 44 || memcmp(wav, "RIFF", 4)) {
		fprintf(stderr, "recognise: %s is not a WAV file\n", argv[1]);
		return 2;
	}
	json_t *extra = json_pack("{ss}", "kb", argv[2]);
	sb_provider_config cfg = {.name = "pocketsphinx", .type = "pocketsphinx", .language = "en",
	                          .extra = extra};
	result r = {0};
	g_mutex_init(&r.lock);
	g_cond_init(&r.done);
	static const sb_stt_events events = {
	        .partial = on_partial, .final = on_final, .failed = on_failed};
	char *error = NULL;
	sb_stt_stream *s = sb_stt_pocketsphinx.open(&cfg, &events, &r, &error);
	if (!s) {
		fprintf(stderr, "recognise: %s\n", error ? error : "cannot open");
		return 1;
	}
	/* The samples after the 44-byte header, in 20 ms pieces. */
	const int16_t *pcm = (const int16_t *)(wav + 44);
	size_t samples = (len - 44) / 2;
	for (size_t o = 0; o < samples; o += 320)
		sb_stt_pocketsphinx.audio(s, pcm + o, MIN((size_t)320, samples - o));
	sb_stt_pocketsphinx.end_of_speech(s);
	g_mutex_lock(&r.lock);
	gint64 deadline = g_get_monotonic_time() + 30 * G_TIME_SPAN_SECOND;
	while (!r.finished && g_cond_wait_until(&r.done, &r.lock, deadline))
		;
	g_mutex_unlock(&r.lock);
	sb_stt_pocketsphinx.release(s);
	sb_pocketsphinx_shutdown();
	printf("%s\n", r.text ? r.text : "");
	int rc = r.finished ? 0 : 1;
	g_free(r.text);
	g_free(wav);
	json_decref(extra);
	return rc;
}
