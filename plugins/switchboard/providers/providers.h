/* The providers module: speech to text, language models and text to speech
 * behind one interface each; provider configs; fallback chains with circuit
 * breakers; the configuration in force (reloadable).  Cloud implementations
 * live here; the embedded engines (embedded/) register with the registry. */
#ifndef SB_PROVIDERS_PROVIDERS_H
#define SB_PROVIDERS_PROVIDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---- provider ----
 * The three things an AI voice agent needs from outside — speech to text,
 * a language model, text to speech — behind one small interface each, so
 * that embedded engines (pocketsphinx, the local dialog engine, espeak-ng)
 * and cloud services (Deepgram, OpenAI-compatible, Anthropic, ElevenLabs)
 * are interchangeable and can be chained with fallbacks ("chain" below).
 *
 * Threads: every call into a provider returns at once (no network or heavy
 * work on the caller's thread); events come back on the provider's own
 * worker thread (the curl worker, a WebSocket thread, an engine thread).
 * After release() returns no event for that object is ever delivered.
 * Audio is always 16 kHz mono int16 at this interface. */
#define SB_AGENT_RATE 16000

/* One configured provider: [providers.<name>] in the plugin config, with
 * the usual environment variables for keys (OPENAI_API_KEY, …). */
typedef struct sb_provider_config {
	const char *name;     /* "openai", "groq", "anthropic", "deepgram", "local", … */
	const char *type;     /* implementation: "openai", "anthropic", "deepgram",
	                         "elevenlabs", "pocketsphinx", "local", "espeak-ng" */
	const char *api_key;  /* NULL when none (cloud providers are then disabled) */
	const char *base_url; /* e.g. "https://api.openai.com/v1", or a local server */
	const char *model;
	const char *voice;
	const char *language; /* BCP 47-ish: "en", "ar", "en-US" */
	int timeout_ms;       /* whole request, or first byte for streams */
	json_t *extra;        /* the provider's whole config object, borrowed */
} sb_provider_config;

/* ---- speech to text (streaming) ---- */

typedef struct sb_stt_events {
	void (*partial)(void *user, const char *text);
	void (*final)(void *user, const char *text);
	void (*failed)(void *user, const char *error);
	/* The answer to pause(): everything heard of this utterance so far
	 * ("" for nothing yet), once the audio queued before pause() is heard. */
	void (*paused)(void *user, const char *text);
	/* Optional.  The language the recogniser detected in the utterance
	 * whose final comes next (ISO 639-1, "ar"), when it detects one
	 * (Deepgram detect_language or language=multi, OpenAI verbose_json);
	 * delivered just before that final. */
	void (*language)(void *user, const char *code);
	/* Optional.  The recogniser's own endpointer says the utterance heard
	 * so far (text) is over — Deepgram's speech_final or UtteranceEnd —
	 * while our VAD may still be waiting out its silence: a hint to end
	 * the turn sooner.  The final still follows end_of_speech(). */
	void (*endpoint)(void *user, const char *text);
} sb_stt_events;

typedef struct sb_stt_stream sb_stt_stream;

typedef struct sb_stt_provider {
	const char *type;
	/* A stream for one speaker's audio.  NULL with *error (g_free) on failure. */
	sb_stt_stream *(*open)(const sb_provider_config *cfg, const sb_stt_events *events,
	                       void *user, char **error);
	/* Queues audio (16 kHz mono); never blocks. */
	void (*audio)(sb_stt_stream *s, const int16_t *pcm, size_t samples);
	/* The VAD says the utterance ended: deliver its final text soon. */
	void (*end_of_speech)(sb_stt_stream *s);
	/* Optional.  The speaker went quiet, maybe only for a breath: answer
	 * with events->paused soon (whoever decides the end of a turn waits
	 * for it).  Never blocks; the utterance goes on. */
	void (*pause)(sb_stt_stream *s);
	void (*release)(sb_stt_stream *s);
} sb_stt_provider;

/* ---- language model (streaming) ---- */

typedef struct sb_llm_events {
	/* Streamed text, in order (deltas, not cumulative). */
	void (*text)(void *user, const char *delta);
	/* A tool the model wants: "transfer_to_human" {reason?}, "end_call" {},
	 * or one of the request's `functions`.  id: the model's id for this
	 * call (NULL when the provider has none), which its result must name. */
	void (*tool)(void *user, const char *id, const char *name, json_t *arguments);
	/* Always last: error is NULL on success. */
	void (*done)(void *user, const char *error);
} sb_llm_events;

typedef struct sb_llm_request {
	const char *system_prompt;
	/* [{"role":"user"|"assistant","content":"…"}], oldest first; borrowed.
	 * After tool calls: {"role":"assistant","content":"…","tool_calls":
	 * [{"id","name","arguments"}]} and then, per call, {"role":"tool",
	 * "tool_call_id","name","content": the result as a JSON text}. */
	json_t *messages;
	/* Offer the transfer_to_human and end_call tools. */
	bool tools;
	/* Per-call memory the provider may read and update (the local engine
	 * keeps the caller's name, order number … there); borrowed. */
	json_t *memory;
	/* Knowledge base (see conf/knowledge-base.json); borrowed, may be NULL. */
	json_t *knowledge;
	const char *language;
	/* The business's tools offered beside the agent's own (tools/tools.h):
	 * [{"name","description","parameters"}]; borrowed, may be NULL.  Last,
	 * so requests written in order without it still compile. */
	json_t *functions;
} sb_llm_request;

typedef struct sb_llm_call sb_llm_call;

typedef struct sb_llm_provider {
	const char *type;
	sb_llm_call *(*start)(const sb_provider_config *cfg, const sb_llm_request *req,
	                      const sb_llm_events *events, void *user, char **error);
	/* Cancels if still running; frees.  Call exactly once per call. */
	void (*release)(sb_llm_call *call);
} sb_llm_provider;

/* ---- text to speech (streaming) ---- */

typedef struct sb_tts_events {
	/* 16 kHz mono, in order, as it is produced. */
	void (*audio)(void *user, const int16_t *pcm, size_t samples);
	void (*done)(void *user, const char *error);
} sb_tts_events;

typedef struct sb_tts_job sb_tts_job;

typedef struct sb_tts_provider {
	const char *type;
	sb_tts_job *(*speak)(const sb_provider_config *cfg, const char *text,
	                     const sb_tts_events *events, void *user, char **error);
	void (*release)(sb_tts_job *job);
} sb_tts_provider;

/* Implementations, by type (registry.c): the cloud ones are built in;
 * others (the embedded engines) are registered at start-up, before any
 * chain is built. */
void sb_stt_provider_register(const sb_stt_provider *impl);
void sb_llm_provider_register(const sb_llm_provider *impl);
void sb_tts_provider_register(const sb_tts_provider *impl);
const sb_stt_provider *sb_stt_provider_find(const char *type);
const sb_llm_provider *sb_llm_provider_find(const char *type);
const sb_tts_provider *sb_tts_provider_find(const char *type);

/* ---- languages ----
 * The caller's language, as the agent, ConversationRelay and WhatsApp
 * follow it (language.c).  Codes are ISO 639-1, lower case ("ar"); a
 * tag such as "ar-SA" counts as its primary language. */

/* "ar" for "arabic", "Arabic", "ar", "ar-SA" or "AR_sa"; NULL when
 * unknown.  Static. */
const char *sb_language_code(const char *name_or_tag);
/* "Arabic" for "ar" or "ar-SA"; NULL when unknown.  Static. */
const char *sb_language_name(const char *code);
/* The language a text's script gives away ("ar" for Arabic script, "ru"
 * for Cyrillic, "ja" for kana …) when most of its letters are of one
 * script that few languages share; NULL for Latin script, mixed or no
 * letters.  Static. */
const char *sb_language_of_script(const char *text);

/* Which language the agent speaks in a conversation.  It starts in the
 * configured one; a caller's utterance moves it to another language when
 * following is on ([agent] follow_language, default true), the language
 * is allowed ([agent] languages, default any), and the utterance is
 * evidence enough: its script gives the language away, or the recogniser
 * detected it in at least two words (one "okay" tells nothing).  Without
 * a recogniser's word (WhatsApp), two words in Latin letters after Arabic
 * ones bring a Latin-script configured language back. */
typedef struct sb_language_follower {
	char *configured; /* owned */
	char *current;    /* owned; the primary code once it followed */
	json_t *allowed;  /* owned: array of codes, NULL for any */
	bool follow;
} sb_language_follower;

/* config: an [agent]-style object (language, follow_language, languages);
 * may be NULL ("en", following any). */
void sb_language_follower_init(sb_language_follower *f, json_t *config);
void sb_language_follower_clear(sb_language_follower *f);
/* After a caller's utterance: detected is the recogniser's language (NULL
 * when it has none), text what it heard.  Returns true when the language
 * changed (f->current is the new one). */
bool sb_language_follow(sb_language_follower *f, const char *detected, const char *text);
/* The instruction a language model needs when the conversation is not in
 * the configured language ("The caller speaks Arabic: answer in Arabic."),
 * else NULL.  g_free. */
char *sb_language_instruction(const sb_language_follower *f);

/* ---- config ----
 * Provider configs from the plugin's [providers] section.
 *
 * settings->providers is a JSON object of objects whose values are strings
 * as the config file has them, e.g.
 *   {"openai": {"type": "openai", "api_key": "…", "model": "gpt-4o-mini",
 *               "timeout_ms": "8000"},
 *    "groq": {"type": "openai", "base_url": "https://api.groq.com/openai/v1"}}
 *
 * Per provider: type (defaults to the name for known names; groq and
 * ollama are OpenAI-compatible presets), api_key (else the environment:
 * <NAME>_API_KEY, or api_key_env = "VAR", or the type's usual variable
 * when the base URL is the vendor's own), base_url, model, voice,
 * language, timeout_ms, and the same per kind as stt_model / tts_model /
 * llm_model, stt_voice …, stt_timeout_ms …; everything else stays in
 * `extra` for the implementation (max_tokens, temperature, …).
 *
 * Names that are not configured still work when they are well known
 * (openai, anthropic, deepgram, elevenlabs, groq, ollama, pocketsphinx,
 * local, espeak-ng).  A cloud provider without a key is disabled with one
 * log line; it never crashes anything.  A custom base_url may go without
 * a key (Ollama, vLLM, llama.cpp server). */

typedef enum sb_provider_kind {
	SB_KIND_STT = 0,
	SB_KIND_LLM = 1,
	SB_KIND_TTS = 2,
} sb_provider_kind;
#define SB_KIND_COUNT 3

const char *sb_provider_kind_name(sb_provider_kind kind); /* "stt", "llm", "tts" */

typedef struct sb_provider_set sb_provider_set;

/* providers may be NULL (only the well-known names, keys from the
 * environment).  Borrowed: the set keeps its own references. */
sb_provider_set *sb_provider_set_new(json_t *providers);
void sb_provider_set_free(sb_provider_set *set);

/* The config of provider `name` for one kind; NULL when it is unknown,
 * does not do that kind, or is disabled (why: *why, static or owned by the
 * set, may be NULL).  The pointer lives as long as the set. */
const sb_provider_config *sb_provider_set_get(sb_provider_set *set, sb_provider_kind kind,
                                              const char *name, const char **why);

/* [{"name","type","kinds":[…],"enabled","base_url","reason"?}] — no keys. */
json_t *sb_provider_set_describe(sb_provider_set *set);

/* Deep copies (strings duplicated, extra referenced). */
sb_provider_config *sb_provider_config_copy(const sb_provider_config *cfg);
void sb_provider_config_free(sb_provider_config *cfg);

/* ---- chain ----
 * Fallback chains with circuit breakers, for each of STT, LLM and TTS.
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
 * as a provider's and follow the same rules ("provider" above): nothing blocks,
 * events come on provider threads (or the chain's timer thread), after
 * release() returns no event is delivered; release() may be called from
 * inside an event (but feed STT audio from your own thread, not from inside
 * an event of the same stream).  start()/open()/speak() return NULL with *error only
 * when no provider could even be started (all breakers open, every start
 * refused). */

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
/* Asks the provider in use for what it heard so far (its pause()); false
 * when it cannot answer, and no paused event will come. */
bool sb_stt_chain_pause(sb_stt_stream *s);
void sb_stt_chain_release(sb_stt_stream *s);

sb_tts_chain *sb_tts_chain_new(const sb_chain_options *opt);
void sb_tts_chain_add(sb_tts_chain *chain, const sb_tts_provider *impl,
                      const sb_provider_config *cfg);
size_t sb_tts_chain_size(const sb_tts_chain *chain);
void sb_tts_chain_free(sb_tts_chain *chain);
/* language: the text's ("ar"; NULL: the providers' own).  A provider
 * configured for another language speaks it with its `voices` entry for
 * it ([providers.x] voices = {ar = "…"}) or as it can (see chain.c). */
sb_tts_job *sb_tts_chain_speak(sb_tts_chain *chain, const char *text, const char *language,
                               const sb_tts_events *events, void *user, char **error);
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
 * sb_fetch_shutdown(). */
void sb_chain_shutdown(void);

/* ---- current ----
 * The provider configuration in force: the [providers] and [agent]
 * sections as read at start-up, or by the last reload, with the knowledge
 * base the [agent] section names, parsed once (reload.c loads them).
 *
 * A reload replaces them as a whole.  Agents, dialogs and summaries that
 * are already running keep the chains they built (chains copy their
 * provider configs); whatever starts afterwards uses the new ones.  A
 * reader takes a snapshot — a reference — for as long as it reads from it,
 * so a reload never frees what someone is looking at. */

typedef struct sb_provider_snapshot {
	sb_provider_set *set;
	json_t *agent;       /* the [agent] section (strings and lists, as in the file) */
	json_t *providers;   /* the [providers] section */
	json_t *knowledge;   /* the [agent] knowledge base, parsed; NULL when unreadable */
	unsigned generation; /* 1 at start-up, +1 per reload: lets users rebuild */
} sb_provider_snapshot;

void sb_providers_current_deinit(void);

/* New reference (NULL before init or after deinit). */
sb_provider_snapshot *sb_providers_current(void);
void sb_provider_snapshot_unref(sb_provider_snapshot *snapshot);

/* The provider names of one kind ("stt", "llm", "tts") in an agent
 * config ([agent] merged with a room's overrides): its list, or the
 * embedded default (pocketsphinx, local, espeak-ng).  New reference. */
json_t *sb_agent_chain_names(json_t *agent_config, const char *kind);

/* A snapshot of these sections (borrowed; copied) and knowledge base
 * (borrowed; referenced, may be NULL), not in force yet: a reload checks
 * it before putting it in force.  NULL when out of memory. */
sb_provider_snapshot *sb_provider_snapshot_new(json_t *providers, json_t *agent, json_t *knowledge);
/* Puts the snapshot in force (takes a reference of its own). */
void sb_providers_current_set(sb_provider_snapshot *snapshot);

#endif
