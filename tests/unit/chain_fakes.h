/* Fake providers for tests/unit/test_chain.c: each call runs on its own
 * thread and behaves as its config says (extra.behaviour, or an override
 * set by name): LLM "ok", "error", "hang", "empty", "tool",
 * "error_after_output", "fail_start", "sync_error" (done(error) from inside
 * start()), "say:<text>" (streams <text>); TTS "ok", "error", "hang",
 * "no_audio", "error_after_output"; STT "ok" (a final naming the samples
 * heard at each end of speech, and what it heard so far at a pause),
 * "silent", "fail"; fake_stt_no_pause cannot answer a pause.  release() cancels and
 * joins the thread, or from inside its own event lets it end by itself. */
#ifndef SB_TEST_CHAIN_FAKES_H
#define SB_TEST_CHAIN_FAKES_H

#include <glib.h>

#include "providers/providers.h"

extern const sb_llm_provider fake_llm;
extern const sb_tts_provider fake_tts;
extern const sb_stt_provider fake_stt;
extern const sb_stt_provider fake_stt_no_pause;

/* Calls started (including refused starts) per provider name. */
int fake_requests_of(const char *name);
void fake_set_behaviour(const char *name, const char *behaviour);
/* A config named `name` (borrowed, must outlive it) with a behaviour. */
sb_provider_config *fake_cfg_new(const char *name, const char *behaviour);
void fake_cfg_free(sb_provider_config *cfg);
void fake_cleanup(void);

#endif
