/* Every provider implementation, by type name.  The cloud ones live in
 * this folder, one descriptor per file (llm_openai.c, …); others — the
 * embedded engines — register theirs at start-up, before any chain is
 * built, so that this module knows none of them by name. */
#include <string.h>

#include <glib.h>

#include "providers/providers.h"

extern const sb_stt_provider sb_stt_deepgram;
extern const sb_stt_provider sb_stt_openai;
extern const sb_llm_provider sb_llm_openai;
extern const sb_llm_provider sb_llm_anthropic;
extern const sb_tts_provider sb_tts_openai;
extern const sb_tts_provider sb_tts_elevenlabs;

#define REGISTERED_MAX 8

static const sb_stt_provider *stt[REGISTERED_MAX] = {&sb_stt_deepgram, &sb_stt_openai};
static const sb_llm_provider *llm[REGISTERED_MAX] = {&sb_llm_openai, &sb_llm_anthropic};
static const sb_tts_provider *tts[REGISTERED_MAX] = {&sb_tts_openai, &sb_tts_elevenlabs};

/* Registration happens once, on the starting thread, before chains are
 * built; lookups afterwards only read. */
#define ADD(table, impl)                                                                           \
	do {                                                                                       \
		for (size_t i = 0; i < REGISTERED_MAX; i++) {                                      \
			if (!table[i] || table[i] == (impl)) {                                     \
				table[i] = (impl);                                                 \
				return;                                                            \
			}                                                                          \
		}                                                                                  \
		g_assert_not_reached();                                                            \
	} while (0)

#define FIND(table, type)                                                                          \
	do {                                                                                       \
		for (size_t i = 0; type && i < REGISTERED_MAX && table[i]; i++)                    \
			if (strcmp(table[i]->type, type) == 0)                                     \
				return table[i];                                                   \
		return NULL;                                                                       \
	} while (0)

void sb_stt_provider_register(const sb_stt_provider *impl) { ADD(stt, impl); }
void sb_llm_provider_register(const sb_llm_provider *impl) { ADD(llm, impl); }
void sb_tts_provider_register(const sb_tts_provider *impl) { ADD(tts, impl); }

const sb_stt_provider *sb_stt_provider_find(const char *type) { FIND(stt, type); }
const sb_llm_provider *sb_llm_provider_find(const char *type) { FIND(llm, type); }
const sb_tts_provider *sb_tts_provider_find(const char *type) { FIND(tts, type); }
