/* TTS: OpenAI-compatible /audio/speech, type "openai".
 *
 * POST {base_url}/audio/speech {model, input, voice, response_format:
 * "pcm"} with Authorization: Bearer; the response body is raw 24 kHz
 * 16-bit signed little-endian mono samples, streamed as they are made,
 * resampled here to 16 kHz (tts_http.c).  Optional extra: speed,
 * instructions (gpt-4o-mini-tts). */
#include <glib.h>
#include <jansson.h>

#include "providers/providers_private.h"

#define OPENAI_PCM_RATE 24000

static sb_tts_job *openai_speak(const sb_provider_config *cfg, const char *text,
                                const sb_tts_events *events, void *user, char **error)
{
	if (!cfg || !cfg->base_url || !events) {
		if (error)
			*error = g_strdup("openai tts: no base_url");
		return NULL;
	}
	if (!text || !*text) {
		if (error)
			*error = g_strdup("openai tts: no text");
		return NULL;
	}
	json_t *body =
	        json_pack("{s:s, s:s, s:s, s:s}", "model",
	                  cfg->model ? cfg->model : "gpt-4o-mini-tts", "input", text, "voice",
	                  cfg->voice ? cfg->voice : "alloy", "response_format", "pcm");
	double speed;
	if (sb_cfg_double(cfg, "speed", &speed))
		json_object_set_new(body, "speed", json_real(speed));
	const char *instructions = sb_cfg_str(cfg, "instructions");
	if (instructions)
		json_object_set_new(body, "instructions", json_string(instructions));
	char *auth =
	        cfg->api_key ? g_strdup_printf("Authorization: Bearer %s", cfg->api_key) : NULL;
	const char *headers[] = {"Content-Type: application/json", auth, NULL};
	sb_tts_job *job = sb_tts_http_start(cfg, "audio/speech", body, headers, OPENAI_PCM_RATE,
	                                    events, user, error);
	g_free(auth);
	return job;
}

const sb_tts_provider sb_tts_openai = {
        .type = "openai",
        .speak = openai_speak,
        .release = sb_tts_http_release,
};
