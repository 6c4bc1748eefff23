/* The three things an AI voice agent needs from outside — speech to text,
 * a language model, text to speech — behind one small interface each, so
 * that embedded engines (pocketsphinx, the local dialog engine, espeak-ng)
 * and cloud services (Deepgram, OpenAI-compatible, Anthropic, ElevenLabs)
 * are interchangeable and can be chained with fallbacks (chain.h).
 *
 * Threads: every call into a provider returns at once (no network or heavy
 * work on the caller's thread); events come back on the provider's own
 * worker thread (the curl worker, a WebSocket thread, an engine thread).
 * After release() returns no event for that object is ever delivered.
 * Audio is always 16 kHz mono int16 at this interface. */
#ifndef SB_PROVIDER_H
#define SB_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

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
	void (*release)(sb_stt_stream *s);
} sb_stt_provider;

/* ---- language model (streaming) ---- */

typedef struct sb_llm_events {
	/* Streamed text, in order (deltas, not cumulative). */
	void (*text)(void *user, const char *delta);
	/* A tool the model wants: "transfer_to_human" {reason?} or "end_call" {}. */
	void (*tool)(void *user, const char *name, json_t *arguments);
	/* Always last: error is NULL on success. */
	void (*done)(void *user, const char *error);
} sb_llm_events;

typedef struct sb_llm_request {
	const char *system_prompt;
	/* [{"role":"user"|"assistant","content":"…"}], oldest first; borrowed. */
	json_t *messages;
	/* Offer the transfer_to_human and end_call tools. */
	bool tools;
	/* Per-call memory the provider may read and update (the local engine
	 * keeps the caller's name, order number … there); borrowed. */
	json_t *memory;
	/* Knowledge base (see conf/knowledge-base.json); borrowed, may be NULL. */
	json_t *knowledge;
	const char *language;
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

/* Implementations, by type (providers/registry.c). */
const sb_stt_provider *sb_stt_provider_find(const char *type);
const sb_llm_provider *sb_llm_provider_find(const char *type);
const sb_tts_provider *sb_tts_provider_find(const char *type);

#endif
