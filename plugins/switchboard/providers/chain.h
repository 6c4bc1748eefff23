/* Fallback chains with circuit breakers, for each of STT, LLM and TTS.
 *
 * A chain is an ordered list of providers (e.g. llm = ["openai", "local"]).
 * start() uses the first provider whose breaker lets it through.  A
 * provider that fails BEFORE it produced output — an error, a bad payload,
 * an empty reply, no audio, or no output within first_output_timeout_ms —
 * is released and the next one is tried, so a turn falls through in
 * bounded time.  Once output has started, a failure ends the call with
 * done(error): the agent never speaks twice.  When every provider fails,
 * done(error) carries a summary ("all llm providers failed: openai: HTTP
 * 401: …; local: …") and the agent says its apology.
 *
 * STT streams last a whole call: a provider that fails (failed event, or
 * no final within first_output_timeout_ms after end_of_speech) is
 * replaced by the next one, which is fed the audio of the utterance(s)
 * not transcribed yet (kept by the chain, up to 30 s) and the
 * end_of_speech marks, so the caller is not asked to repeat.  The last
 * provider of an STT chain is never dropped for being slow (only counted
 * in "timeouts"): its final may still come.
 *
 * Each provider (per kind and name, shared by every chain in the process)
 * has a circuit breaker: after breaker_threshold consecutive failures it
 * opens and is skipped (no request is made) for breaker_cooldown_ms; then
 * one trial call is let through (half-open): success closes it, failure
 * opens it again.
 *
 * A chain of one provider is that provider plus breaker and counters: the
 * agent can always use chains.  Calls are objects of the same opaque types
 * as a provider's and follow the same rules (provider.h): nothing blocks,
 * events come on provider threads (or the chain's timer thread), after
 * release() returns no event is delivered; release() may be called from
 * inside an event (but feed STT audio from your own thread, not from inside
 * an event of the same stream).  start()/open()/speak() return NULL with *error only
 * when no provider could even be started (all breakers open, every start
 * refused). */
#ifndef SB_CHAIN_H
#define SB_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "providers/config.h"
#include "providers/provider.h"

typedef struct sb_chain_options {
	/* LLM: first text or tool; TTS: first audio; STT: the final after an
	 * end_of_speech.  0: 5000 ms. */
	int first_output_timeout_ms;
	int breaker_threshold;   /* 0: 3 consecutive failures */
	int breaker_cooldown_ms; /* 0: 30000 */
} sb_chain_options;

/* Reads first_output_timeout_ms, <kind>_first_output_timeout_ms,
 * breaker_threshold and breaker_cooldown_ms (strings or numbers) from a
 * config object such as settings->agent; unset fields stay as they are. */
void sb_chain_options_from_json(sb_chain_options *opt, json_t *obj, sb_provider_kind kind);

typedef struct sb_llm_chain sb_llm_chain;
typedef struct sb_stt_chain sb_stt_chain;
typedef struct sb_tts_chain sb_tts_chain;

/* opt NULL: defaults.  Add providers in order (cfg is copied). */
sb_llm_chain *sb_llm_chain_new(const sb_chain_options *opt);
void sb_llm_chain_add(sb_llm_chain *chain, const sb_llm_provider *impl,
                      const sb_provider_config *cfg);
size_t sb_llm_chain_size(const sb_llm_chain *chain);
/* Calls still running keep what they need alive. */
void sb_llm_chain_free(sb_llm_chain *chain);
sb_llm_call *sb_llm_chain_start(sb_llm_chain *chain, const sb_llm_request *req,
                                const sb_llm_events *events, void *user, char **error);
void sb_llm_chain_release(sb_llm_call *call);

sb_stt_chain *sb_stt_chain_new(const sb_chain_options *opt);
void sb_stt_chain_add(sb_stt_chain *chain, const sb_stt_provider *impl,
                      const sb_provider_config *cfg);
size_t sb_stt_chain_size(const sb_stt_chain *chain);
void sb_stt_chain_free(sb_stt_chain *chain);
sb_stt_stream *sb_stt_chain_open(sb_stt_chain *chain, const sb_stt_events *events, void *user,
                                 char **error);
void sb_stt_chain_audio(sb_stt_stream *s, const int16_t *pcm, size_t samples);
void sb_stt_chain_end_of_speech(sb_stt_stream *s);
void sb_stt_chain_release(sb_stt_stream *s);

sb_tts_chain *sb_tts_chain_new(const sb_chain_options *opt);
void sb_tts_chain_add(sb_tts_chain *chain, const sb_tts_provider *impl,
                      const sb_provider_config *cfg);
size_t sb_tts_chain_size(const sb_tts_chain *chain);
void sb_tts_chain_free(sb_tts_chain *chain);
sb_tts_job *sb_tts_chain_speak(sb_tts_chain *chain, const char *text, const sb_tts_events *events,
                               void *user, char **error);
void sb_tts_chain_release(sb_tts_job *job);

/* Which provider of its chain produced a call's output: `call` is an
 * sb_llm_call, sb_stt_stream (the provider of the latest final) or
 * sb_tts_job.  Returns its name (g_free; NULL before any output) and sets
 * *position to its place in the chain: 0 is the first choice, more means
 * the chain fell back (a provider failed or its breaker was open); -1
 * before any output.  Any thread, until the call is released. */
char *sb_chain_call_provider(const void *call, int *position);

/* Chains from provider names, implementations from the registry
 * (sb_*_provider_find): names is a JSON array of strings or one string
 * "openai, local".  Unknown or disabled names are skipped with a log line;
 * NULL with *error when none is left.  (chain_build.c) */
sb_llm_chain *sb_llm_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error);
sb_stt_chain *sb_stt_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error);
sb_tts_chain *sb_tts_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error);

/* Counters for /metrics, per kind and provider name:
 * {"llm": {"openai": {"requests", "successes", "failures", "timeouts",
 *   "fallbacks", "skipped", "consecutive_failures",
 *   "breaker": "closed"|"open"|"half_open"}}, "stt": {…}, "tts": {…}}
 * requests: calls made; fallbacks: times a chain moved on from this
 * provider to the next; skipped: calls not made because the breaker was
 * open.  New reference. */
json_t *sb_chain_stats(void);

/* Stops the chains' timer thread (joins it) and drops the counters.  Call
 * after every chain call has been released, before sb_ws_shutdown() and
 * sb_http_shutdown(). */
void sb_chain_shutdown(void);

#endif
