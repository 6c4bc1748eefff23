/* Provider configs from the plugin's [providers] section.
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
#ifndef SB_PROVIDER_CONFIG_H
#define SB_PROVIDER_CONFIG_H

#include <stdbool.h>

#include <jansson.h>

#include "providers/provider.h"

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

#endif
