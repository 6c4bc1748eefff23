/* Inside the providers module (private interface): helpers shared by the
 * cloud providers and the chains, the life of a streamed HTTP request, the
 * HTTP text-to-speech base, and the chains' internals. */
#ifndef SB_PROVIDERS_PROVIDERS_PRIVATE_H
#define SB_PROVIDERS_PROVIDERS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "core/core.h"
#include "net/net.h"
#include "providers/providers.h"

/* ---- cloud_util ----
 * Small helpers shared by the cloud providers and the chains: config
 * lookups in a provider's extra object, URL building, error text from an
 * API's error body, the base of a cloud STT stream, the agent's tools, a
 * WAV header, and an int16 byte-stream assembler.  (The event gate behind
 * every provider's "no event after release" is core's sb_gate.) */
/* ---- config helpers (cfg->extra holds strings as the config file has them) ---- */

/* extra[key] as an int (a JSON integer or a decimal string), def otherwise. */
int sb_cfg_int(const sb_provider_config *cfg, const char *key, int def);
/* extra[key] as a number (JSON number or decimal string); false when absent. */
bool sb_cfg_double(const sb_provider_config *cfg, const char *key, double *out);
/* extra[key] when it is a non-empty string, else NULL. */
const char *sb_cfg_str(const sb_provider_config *cfg, const char *key);

/* A streamed POST of a provider's request: the provider's timeouts
 * (timeout_ms until the first byte, default 10 s; connect_timeout_ms and
 * total_timeout_ms from extra, default min(timeout, 10 s) and 120 s). */
sb_fetch_options sb_provider_stream_post(const sb_provider_config *cfg, const char *url,
                                        const char *const *headers, const char *body);

/* base (without a trailing '/') + path; g_free. */
char *sb_url_join(const char *base, const char *path);

/* "HTTP 401: Incorrect API key provided" from an error body in the
 * OpenAI ({"error":{"message"}}), Anthropic ({"type":"error","error":
 * {"type","message"}}), ElevenLabs ({"detail":{"message"}|"…"}) or
 * Deepgram ({"err_msg"}) shape, else the start of the body.  g_free. */
char *sb_fetch_error_text(long status, const char *body, size_t len);
/* The message of such an error object, or NULL (borrowed from root). */
const char *sb_json_error_message(json_t *root);

/* ---- cloud STT streams ----
 * What the two cloud STT streams (stt_openai.c, stt_deepgram.c) share: the
 * user's events behind a gate, a reference count, where they send and the
 * credentials, and the released flag their audio() checks.  A stream
 * starts with one (first member). */
typedef struct sb_stt_base {
	gint ref;
	sb_gate gate; /* every event; closed by release() */
	sb_stt_events ev;
	void *user;
	char *url;      /* set by the provider; freed by clear */
	char *auth;     /* the credentials, as the provider sends them; freed by clear */
	int timeout_ms; /* the provider's, default 10 s */
	GMutex lock;    /* released, and the provider's own queue */
	bool released;
} sb_stt_base;

/* Sets b up for open() (ref 1); false with *error ("<who>: no base_url")
 * when cfg has no base URL or events are missing. */
bool sb_stt_base_init(sb_stt_base *b, const char *who, const sb_provider_config *cfg,
                      const sb_stt_events *events, void *user, char **error);
void sb_stt_base_clear(sb_stt_base *b);
/* One of b->ev's events (NULL: none) with text, through the gate. */
void sb_stt_base_emit(sb_stt_base *b, void (*event)(void *user, const char *text),
                      const char *text);
/* The user's release: nothing is delivered after it, audio is ignored. */
void sb_stt_base_release(sb_stt_base *b);

/* ---- LLM tools ---- */

/* The agent's tools, transfer_to_human {reason?: string} and end_call {},
 * then the request's functions, in a vendor's shape: an array of
 * shape(name, description, schema) (the arguments borrowed; schema is JSON
 * Schema), a new reference. */
json_t *sb_llm_tools(const sb_llm_request *req,
                     json_t *(*shape)(json_t *name, json_t *description, json_t *schema));

/* ---- audio ---- */

/* A 44-byte RIFF/WAVE header for 16-bit mono PCM. */
void sb_wav_header(uint8_t out[44], uint32_t rate, uint32_t samples);

/* Turns a byte stream of s16le into whole samples (a chunk may end in the
 * middle of a sample).  Returns the number of samples written to out,
 * which must hold (len + 1) / 2 samples. */
typedef struct sb_s16_stream {
	uint8_t carry;
	bool has_carry;
} sb_s16_stream;
size_t sb_s16_feed(sb_s16_stream *st, const uint8_t *data, size_t len, int16_t *out);

/* FNV-1a over bytes (used by tests and the CLI to compare audio). */
uint64_t sb_fnv1a(uint64_t h, const void *data, size_t len);
#define SB_FNV1A_INIT 0xcbf29ce484222325ULL

/* ---- http_stream ----
 * The life of one streamed HTTP request of a provider, the same for the
 * LLMs and the HTTP text to speech: a POST through net's fetch client with
 * the provider's timeouts (sb_provider_stream_post: no first byte within
 * timeout_ms is a failure, the first-output timeout of one provider); the
 * body of a 2xx reply handed to the provider as it comes, raw and, when
 * the provider reads SSE, as events; the body of any other status kept
 * for the error; done(error) last; and release(), after which nothing is
 * delivered.  What the provider sends and how it reads the reply are its
 * own (the ops).
 *
 * A provider's call object starts with an sb_http_stream (its first
 * member), allocated zeroed by the provider; the stream frees it. */
typedef struct sb_http_stream sb_http_stream;

typedef struct sb_http_stream_ops {
	/* A piece of a 2xx body, before the SSE parser sees it.  May be NULL. */
	void (*body)(sb_http_stream *st, const char *data, size_t len);
	/* One SSE event of a 2xx body; NULL when the body is not SSE.  False
	 * stops reading (after an error or the end of the reply). */
	bool (*event)(sb_http_stream *st, const char *event, const char *data, size_t len);
	/* The reply is over with no error so far: the provider's verdict, an
	 * error (g_free) or NULL.  Last events (tools, the audio's tail) may
	 * go out from here. */
	char *(*finish)(sb_http_stream *st);
	/* Frees the provider's own part (not the object).  May be NULL. */
	void (*clear)(sb_http_stream *st);
} sb_http_stream_ops;

struct sb_http_stream {
	const sb_http_stream_ops *ops;
	gint ref;
	/* Every event to the user goes through it: deliver with
	 * sb_gate_enter/leave; closed by release(). */
	sb_gate gate;
	void (*done)(void *user, const char *error);
	void *user;
	sb_fetch_request *req;
	sb_sse_parser *sse; /* when ops->event */
	GString *errbody;   /* the body of a reply that is not 2xx */
	char *error;        /* the first problem found in the reply */
	bool ended;         /* the reply said it is complete: later bytes are
	                       ignored, and a transport error is no error */
};

/* Sets st up and POSTs body (taken) to cfg's base URL + path; done(user,
 * error) is the user's done event.  False with *error when the request
 * cannot be made: st is freed. */
bool sb_http_stream_start(sb_http_stream *st, const sb_http_stream_ops *ops,
                          const sb_provider_config *cfg, const char *path, json_t *body,
                          const char *const *headers, void (*done)(void *user, const char *error),
                          void *user, char **error);
/* The user's release (the provider's release()). */
void sb_http_stream_release(sb_http_stream *st);
/* A problem with the reply; the first one wins (error is taken). */
void sb_http_stream_fail(sb_http_stream *st, char *error);

/* What the streamed LLMs (llm_openai.c, llm_anthropic.c) deliver, the same
 * way: text and tool events through the stream's gate, and whether
 * anything came.  An LLM call starts with one (first member). */
typedef struct sb_llm_reply {
	sb_http_stream http; /* first */
	sb_llm_events ev;
	bool got_text;
	bool got_tool;
} sb_llm_reply;

bool sb_llm_reply_start(sb_llm_reply *r, const sb_http_stream_ops *ops,
                        const sb_provider_config *cfg, const char *path, json_t *body,
                        const char *const *headers, const sb_llm_events *events, void *user,
                        char **error);
/* A text event when value is a non-empty string. */
void sb_llm_reply_text(sb_llm_reply *r, json_t *value);
/* A tool event; args is taken (anything but an object becomes {}); id
 * may be NULL or empty (none). */
void sb_llm_reply_tool(sb_llm_reply *r, const char *id, const char *name, json_t *args);
/* "empty reply" (g_free) when neither text nor a tool came, else NULL. */
char *sb_llm_reply_empty(const sb_llm_reply *r);

/* ---- tts_http ----
 * The part the HTTP text-to-speech providers share (tts_openai.c,
 * tts_elevenlabs.c): POST a request whose response body is raw s16le mono
 * PCM at in_rate, deliver it as 16 kHz audio events as chunks arrive
 * (resampled with speexdsp when in_rate differs), then done.  A 2xx reply
 * without audio ends with done("no audio"); an HTTP error with the API's
 * message. */

sb_tts_job *sb_tts_http_start(const sb_provider_config *cfg, const char *path, json_t *body,
                              const char *const *headers, int in_rate, const sb_tts_events *events,
                              void *user, char **error);
void sb_tts_http_release(sb_tts_job *job);

/* ---- chain internals ----
 * Inside the chains: shared by chain_core.c (breakers, counters, the timer
 * thread, the attempt runner) and chain.c (the three kinds' events and
 * public functions).  chain.c uses chain_core.c, never the other way: what
 * the runner needs of a kind comes with the chain, as its ops.  Not for
 * other modules. */

#define CHAIN_DEFAULT_TIMEOUT_MS 5000
#define CHAIN_DEFAULT_THRESHOLD 3
#define CHAIN_DEFAULT_COOLDOWN_MS 30000

typedef struct pstat pstat; /* one provider's counters and breaker */

typedef struct chain_entry {
	const void *impl; /* sb_llm_provider / sb_stt_provider / sb_tts_provider */
	sb_provider_config *cfg;
	pstat *st;
} chain_entry;

typedef struct ccall ccall;
typedef struct attempt attempt;

/* What the runner does through a chain's kind. */
typedef struct chain_kind_ops {
	/* Starts e's provider for the attempt (its events' user is att); a
	 * new STT provider is also fed the audio not transcribed yet.  The
	 * provider's call / stream / job, or NULL with *error. */
	void *(*start)(ccall *cc, attempt *att, chain_entry *e, char **error);
	/* The provider's release() of what start() returned. */
	void (*release)(chain_entry *e, void *handle);
} chain_kind_ops;

/* A chain; the public sb_llm_chain, sb_stt_chain and sb_tts_chain are
 * this under another name. */
typedef struct chain_state {
	gint ref;
	sb_provider_kind kind;
	const chain_kind_ops *ops;
	sb_chain_options opt;
	GPtrArray *entries; /* chain_entry* */
} chain_state;

/* One provider tried for one call. */
struct attempt {
	ccall *cc;
	guint index;
	guint gen;
	void *handle;      /* the provider's call / stream / job */
	bool started;      /* its start() has returned */
	bool failed_early; /* it failed before start() returned */
	bool trial;        /* it holds its breaker's half-open trial */
	bool success_recorded;
	char *early_error;
};

/* A chain call (LLM call, STT stream or TTS job). */
struct ccall {
	gint ref;
	chain_state *ch;
	GMutex lock;  /* the state below */
	GMutex feed;  /* serialises feeding audio with switching providers */
	GCond fed;    /* signalled when feeding drops to 0 */
	int feeding;  /* audio()/end_of_speech() calls inside a provider now */
	sb_gate gate; /* every event to the user goes through it */
	attempt *cur;
	guint gen; /* bumped whenever cur changes: stale events are dropped */
	bool released;
	bool finished;
	bool output;      /* LLM/TTS: output has started */
	bool any_started; /* some provider's start() returned a handle */
	int served;       /* index of the chain_entry whose output the user got; -1: none yet */
	GSource *timer;
	GString *summary;
	void *user;
	union {
		sb_llm_events llm;
		sb_stt_events stt;
		sb_tts_events tts;
	} ev;
	/* LLM: a copy of the request. */
	sb_llm_request req;
	/* TTS: the text, and the providers' configs for the language asked
	 * for (req.language) when it is not theirs (sb_provider_config*). */
	char *text;
	GPtrArray *configs;
	/* STT: audio not transcribed yet, and end_of_speech marks in it. */
	GArray *buf;   /* int16 */
	GArray *marks; /* guint sample offsets into buf */
};

/* chain_core.c */
chain_state *sb_chain_new_kind(sb_provider_kind kind, const chain_kind_ops *ops,
                               const sb_chain_options *opt);
void sb_chain_add_entry(chain_state *ch, const void *impl, const sb_provider_config *cfg);
size_t sb_chain_size(const chain_state *ch); /* 0 for NULL */
void sb_chain_unref(chain_state *ch);        /* NULL is fine */
ccall *sb_ccall_new(chain_state *ch, void *user);
ccall *sb_ccall_ref(ccall *cc);
void sb_ccall_unref(ccall *cc);
chain_entry *sb_ccall_entry(ccall *cc, attempt *att);

/* Tries providers from index on; the caller holds cc->feed.  False when
 * every remaining one failed (the summary says why). */
bool sb_ccall_run_from(ccall *cc, guint index);
/* Locks cc and returns true when att is the live attempt of a live call;
 * else returns false, unlocked. */
bool sb_ccall_event_begin(attempt *att);
/* With the lock held (from event_begin): att failed; falls through or
 * ends the call.  Unlocks. */
void sb_ccall_failure_locked(attempt *att, const char *error, bool timeout);
/* With the lock held: the call finished well. Unlocks, then delivers. */
void sb_ccall_success_locked(attempt *att);
/* Marks output started (LLM/TTS), stops the first-output timer, records
 * the provider's success once.  Call with the lock held; unlocks. */
void sb_ccall_output_locked(attempt *att, bool counts);
void sb_ccall_arm_timer_locked(ccall *cc);
void sb_ccall_cancel_timer_locked(ccall *cc);
/* done(error) / failed(error) to the user through the gate. */
void sb_ccall_deliver_done(ccall *cc, const char *error);
/* The user's release. */
void sb_ccall_release(ccall *cc);
/* After all failed: finished, done(summary) — now, or (async) from the
 * timer thread. */
void sb_ccall_all_failed(ccall *cc);
void sb_ccall_all_failed_async(ccall *cc);

void sb_pstat_success(pstat *st);

#endif
