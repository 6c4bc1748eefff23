/* The part the HTTP text-to-speech providers share (tts_openai.c,
 * tts_elevenlabs.c): POST a request whose response body is raw s16le mono
 * PCM at in_rate, deliver it as 16 kHz audio events as chunks arrive
 * (resampled with speexdsp when in_rate differs), then done.  A 2xx reply
 * without audio ends with done("no audio"); an HTTP error with the API's
 * message. */
#ifndef SB_TTS_HTTP_H
#define SB_TTS_HTTP_H

#include "net/http_client.h"
#include "providers/provider.h"

sb_tts_job *sb_tts_http_start(const sb_provider_config *cfg, const char *url,
                              const char *const *headers, const char *body, int in_rate,
                              const sb_tts_events *events, void *user, char **error);
void sb_tts_http_release(sb_tts_job *job);

#endif
