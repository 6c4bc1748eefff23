/* TTS: ElevenLabs streaming text to speech, type "elevenlabs".
 *
 * POST {base_url}/text-to-speech/{voice_id}/stream?output_format=pcm_16000
 * (default base https://api.elevenlabs.io/v1) with the xi-api-key header
 * and {text, model_id}; the body is raw 16 kHz s16le PCM, streamed, which
 * is exactly what the agent plays (tts_http.c).  voice = the voice id,
 * model = the model id. */
#include <glib.h>
#include <jansson.h>

#include "providers/providers_private.h"

static sb_tts_job *elevenlabs_speak(const sb_provider_config *cfg, const char *text,
                                    const sb_tts_events *events, void *user, char **error)
{
	if (!cfg || !cfg->base_url || !cfg->voice || !events) {
		if (error)
			*error = g_strdup("elevenlabs: no base_url or voice");
		return NULL;
	}
	if (!text || !*text) {
		if (error)
			*error = g_strdup("elevenlabs: no text");
		return NULL;
	}
	json_t *body = json_pack("{s:s, s:s}", "text", text, "model_id",
	                         cfg->model ? cfg->model : "eleven_multilingual_v2");
	char *voice = g_uri_escape_string(cfg->voice, NULL, FALSE);
	char *path = g_strdup_printf("text-to-speech/%s/stream?output_format=pcm_16000", voice);
	char *key = cfg->api_key ? g_strdup_printf("xi-api-key: %s", cfg->api_key) : NULL;
	const char *headers[] = {"Content-Type: application/json", key, NULL};
	sb_tts_job *job =
	        sb_tts_http_start(cfg, path, body, headers, SB_AGENT_RATE, events, user, error);
	g_free(voice);
	g_free(path);
	g_free(key);
	return job;
}

const sb_tts_provider sb_tts_elevenlabs = {
        .type = "elevenlabs",
        .speak = elevenlabs_speak,
        .release = sb_tts_http_release,
};
