/* Small helpers shared by the cloud providers and the chains: an event
 * gate (so release() can promise "no event after I return"), config
 * lookups in a provider's extra object, URL building, error text from an
 * API's error body, a WAV header, and an int16 byte-stream assembler. */
#ifndef SB_CLOUD_UTIL_H
#define SB_CLOUD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

#include "net/http_client.h"
#include "providers/provider.h"

/* ---- event gate ----
 * Every event a module delivers to its user goes through enter/leave.
 * close() makes later enters fail and waits until a delivery running on
 * another thread has finished; called from inside a delivery (same
 * thread) it does not wait.  Deliveries are serialised: one thread at a
 * time, re-entrant on that thread. */
typedef struct sb_gate {
	GMutex lock;
	GCond cond;
	GThread *owner;
	int depth;
	bool closed;
} sb_gate;

void sb_gate_init(sb_gate *g);
void sb_gate_clear(sb_gate *g);
bool sb_gate_enter(sb_gate *g);
void sb_gate_leave(sb_gate *g);
void sb_gate_close(sb_gate *g);

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
sb_http_options sb_provider_stream_post(const sb_provider_config *cfg, const char *url,
                                        const char *const *headers, const char *body);

/* base (without a trailing '/') + path; g_free. */
char *sb_url_join(const char *base, const char *path);

/* "HTTP 401: Incorrect API key provided" from an error body in the
 * OpenAI ({"error":{"message"}}), Anthropic ({"type":"error","error":
 * {"type","message"}}), ElevenLabs ({"detail":{"message"}|"…"}) or
 * Deepgram ({"err_msg"}) shape, else the start of the body.  g_free. */
char *sb_http_error_text(long status, const char *body, size_t len);
/* The message of such an error object, or NULL (borrowed from root). */
const char *sb_json_error_message(json_t *root);

/* ---- LLM tools ---- */

/* The agent's tools, transfer_to_human {reason?: string} and end_call {},
 * as JSON Schema: {"name","description","schema"} ×2 (new reference). */
json_t *sb_llm_tool_specs(void);

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

#endif
