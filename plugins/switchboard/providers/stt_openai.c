/* STT: OpenAI-compatible /audio/transcriptions (OpenAI whisper-1 or
 * gpt-4o-mini-transcribe, Groq, a local whisper server …), type "openai".
 *
 * Buffers one utterance of 16 kHz PCM; at end_of_speech it POSTs
 * multipart/form-data to {base_url}/audio/transcriptions with the parts
 * model, response_format=json, language (ISO 639-1, when configured) and
 * file (a WAV built in memory, audio/wav); the reply {"text": "…"} becomes
 * one final event.  No partials: the service is not streaming.
 *
 * Language detection, when language is "auto", or none and extra
 * detect_language is true: response_format=verbose_json and no language
 * part; the reply's "language" (an English name, "arabic") goes out as a
 * language event just before the final. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "providers/providers_private.h"
#include "net/net.h"
#include "providers/providers.h"

#define MAX_SECONDS 120
#define MIN_SAMPLES (SB_AGENT_RATE / 5) /* the API refuses clips under 0.1 s */
#define MAX_REPLY (1024 * 1024)

typedef struct utterance utterance;

struct sb_stt_stream {
	sb_stt_base base; /* first; base.lock guards pcm and utts too */
	char *model;
	char *language;
	bool detect;     /* verbose_json: the reply names the language */
	GArray *pcm;     /* int16: the utterance being spoken */
	GPtrArray *utts; /* utterance*: requests in flight */
};

struct utterance {
	sb_stt_stream *s;
	sb_fetch_request *req;
	GString *reply;
};

static void stream_unref(sb_stt_stream *s)
{
	if (!g_atomic_int_dec_and_test(&s->base.ref))
		return;
	sb_stt_base_clear(&s->base);
	g_free(s->model);
	g_free(s->language);
	g_array_free(s->pcm, TRUE);
	g_ptr_array_free(s->utts, TRUE);
	g_free(s);
}

static void utterance_free(utterance *u)
{
	sb_fetch_release(u->req);
	g_string_free(u->reply, TRUE);
	stream_unref(u->s);
	g_free(u);
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	utterance *u = user;
	if (u->reply->len + len > MAX_REPLY)
		return false;
	g_string_append_len(u->reply, data, (gssize)len);
	return true;
}

static void on_done(void *user, long status, const char *error)
{
	utterance *u = user;
	sb_stt_stream *s = u->s;
	g_mutex_lock(&s->base.lock);
	bool mine = g_ptr_array_remove(s->utts, u); /* else release() owns it */
	g_mutex_unlock(&s->base.lock);
	if (!mine)
		return;
	char *text = NULL;
	const char *lang = NULL;
	char *err = NULL;
	if (status != 0 && (status < 200 || status >= 300)) {
		err = sb_fetch_error_text(status, u->reply->str, u->reply->len);
	} else if (error) {
		err = g_strdup_printf("request failed: %s", error);
	} else {
		json_t *root = json_loadb(u->reply->str, u->reply->len, 0, NULL);
		json_t *t = json_object_get(root, "text");
		if (json_is_string(t)) {
			text = g_strstrip(g_strdup(json_string_value(t)));
			if (s->detect)
				lang = sb_language_code(
				        json_string_value(json_object_get(root, "language")));
		} else {
			err = g_strdup("bad reply: no \"text\" in the transcription");
		}
		json_decref(root);
	}
	if (err) {
		sb_stt_base_emit(&s->base, s->base.ev.failed, err);
	} else {
		if (lang)
			sb_stt_base_emit(&s->base, s->base.ev.language, lang);
		sb_stt_base_emit(&s->base, s->base.ev.final, text);
	}
	g_free(text);
	g_free(err);
	utterance_free(u);
}

static void append_part(GByteArray *b, const char *boundary, const char *name, const char *value)
{
	char *head = g_strdup_printf("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n",
	                             boundary, name);
	g_byte_array_append(b, (const guint8 *)head, (guint)strlen(head));
	g_byte_array_append(b, (const guint8 *)value, (guint)strlen(value));
	g_byte_array_append(b, (const guint8 *)"\r\n", 2);
	g_free(head);
}

/* The multipart body: model, response_format, language?, file. */
static GByteArray *build_body(sb_stt_stream *s, const int16_t *pcm, size_t n, const char *boundary)
{
	GByteArray *b = g_byte_array_sized_new((guint)(n * 2 + 1024));
	append_part(b, boundary, "model", s->model);
	append_part(b, boundary, "response_format", s->detect ? "verbose_json" : "json");
	if (s->language)
		append_part(b, boundary, "language", s->language);
	char *head =
	        g_strdup_printf("--%s\r\nContent-Disposition: form-data; name=\"file\"; "
	                        "filename=\"utterance.wav\"\r\nContent-Type: audio/wav\r\n\r\n",
	                        boundary);
	g_byte_array_append(b, (const guint8 *)head, (guint)strlen(head));
	g_free(head);
	uint8_t wav[44];
	sb_wav_header(wav, SB_AGENT_RATE, (uint32_t)n);
	g_byte_array_append(b, wav, sizeof(wav));
	for (size_t i = 0; i < n; i++) {
		uint16_t v = (uint16_t)pcm[i];
		guint8 le[2] = {(guint8)(v & 0xff), (guint8)(v >> 8)};
		g_byte_array_append(b, le, 2);
	}
	char *tail = g_strdup_printf("\r\n--%s--\r\n", boundary);
	g_byte_array_append(b, (const guint8 *)tail, (guint)strlen(tail));
	g_free(tail);
	return b;
}

static void send_utterance(sb_stt_stream *s, GArray *pcm)
{
	if (pcm->len < MIN_SAMPLES) { /* pad a blip with silence rather than fail */
		guint old = pcm->len;
		g_array_set_size(pcm, MIN_SAMPLES);
		memset(&g_array_index(pcm, int16_t, old), 0, (MIN_SAMPLES - old) * sizeof(int16_t));
	}
	char boundary[48];
	g_snprintf(boundary, sizeof(boundary), "sb-%08x%08x", g_random_int(), g_random_int());
	GByteArray *body = build_body(s, (const int16_t *)(void *)pcm->data, pcm->len, boundary);
	char *ctype = g_strdup_printf("Content-Type: multipart/form-data; boundary=%s", boundary);
	const char *headers[] = {ctype, "Accept: application/json", s->base.auth, NULL};
	sb_fetch_options opt = {
	        .method = "POST",
	        .url = s->base.url,
	        .headers = headers,
	        .body = body->data,
	        .body_len = body->len,
	        .connect_timeout_ms = MIN(s->base.timeout_ms, 10000),
	        .total_timeout_ms = s->base.timeout_ms,
	};
	utterance *u = g_new0(utterance, 1);
	u->s = s;
	u->reply = g_string_new(NULL);
	g_atomic_int_inc(&s->base.ref);
	sb_fetch_callbacks cb = {.body = on_body, .done = on_done};
	/* Listed before the worker can finish it (on_done looks it up). */
	g_mutex_lock(&s->base.lock);
	g_ptr_array_add(s->utts, u);
	char *error = NULL;
	sb_fetch_request *req = sb_fetch_submit(&opt, &cb, u, &error);
	u->req = req;
	if (!req)
		g_ptr_array_remove(s->utts, u);
	g_mutex_unlock(&s->base.lock);
	/* From here on u may already be answered and freed (on_done). */
	if (!req) {
		g_warning("stt openai: %s", error);
		g_free(error);
		utterance_free(u);
	}
	g_byte_array_free(body, TRUE);
	g_free(ctype);
}

static sb_stt_stream *openai_open(const sb_provider_config *cfg, const sb_stt_events *events,
                                  void *user, char **error)
{
	sb_stt_stream *s = g_new0(sb_stt_stream, 1);
	if (!sb_stt_base_init(&s->base, "openai stt", cfg, events, user, error)) {
		g_free(s);
		return NULL;
	}
	s->base.url = sb_url_join(cfg->base_url, "audio/transcriptions");
	s->base.auth =
	        cfg->api_key ? g_strdup_printf("Authorization: Bearer %s", cfg->api_key) : NULL;
	s->model = g_strdup(cfg->model ? cfg->model : "whisper-1");
	bool auto_lang = cfg->language && !g_ascii_strcasecmp(cfg->language, "auto");
	json_t *ask = json_object_get(cfg->extra, "detect_language");
	bool asked = json_is_true(ask) ||
	             (json_is_string(ask) && !g_ascii_strcasecmp(json_string_value(ask), "true"));
	s->detect = auto_lang || (asked && !(cfg->language && *cfg->language));
	/* The API wants ISO 639-1: "en-US" -> "en". */
	if (cfg->language && *cfg->language && !auto_lang)
		s->language = g_strndup(cfg->language, strcspn(cfg->language, "-_"));
	s->pcm = g_array_new(FALSE, FALSE, sizeof(int16_t));
	s->utts = g_ptr_array_new();
	return s;
}

static void openai_audio(sb_stt_stream *s, const int16_t *pcm, size_t samples)
{
	g_mutex_lock(&s->base.lock);
	if (!s->base.released && s->pcm->len + samples <= (size_t)MAX_SECONDS * SB_AGENT_RATE)
		g_array_append_vals(s->pcm, pcm, (guint)samples);
	g_mutex_unlock(&s->base.lock);
}

static void openai_end_of_speech(sb_stt_stream *s)
{
	g_mutex_lock(&s->base.lock);
	GArray *pcm = s->base.released ? NULL : s->pcm;
	if (pcm)
		s->pcm = g_array_new(FALSE, FALSE, sizeof(int16_t));
	g_mutex_unlock(&s->base.lock);
	if (!pcm)
		return;
	send_utterance(s, pcm);
	g_array_free(pcm, TRUE);
}

static void openai_release(sb_stt_stream *s)
{
	if (!s)
		return;
	sb_stt_base_release(&s->base);
	g_mutex_lock(&s->base.lock);
	GPtrArray *utts = s->utts;
	s->utts = g_ptr_array_new();
	g_mutex_unlock(&s->base.lock);
	for (guint i = 0; i < utts->len; i++)
		utterance_free(utts->pdata[i]); /* waits for a callback in progress */
	g_ptr_array_free(utts, TRUE);
	stream_unref(s);
}

const sb_stt_provider sb_stt_openai = {
        .type = "openai",
        .open = openai_open,
        .audio = openai_audio,
        .end_of_speech = openai_end_of_speech,
        .release = openai_release,
};
