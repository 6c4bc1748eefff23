/* Every provider implementation, by type name.  Each lives in its own file
 * (stt_pocketsphinx.c, llm_openai.c, …) and exports one descriptor. */
#include <string.h>

#include "providers/provider.h"

extern const sb_stt_provider sb_stt_pocketsphinx;
extern const sb_stt_provider sb_stt_deepgram;
extern const sb_stt_provider sb_stt_openai;
extern const sb_llm_provider sb_llm_local;
extern const sb_llm_provider sb_llm_openai;
extern const sb_llm_provider sb_llm_anthropic;
extern const sb_tts_provider sb_tts_espeak;
extern const sb_tts_provider sb_tts_openai;
extern const sb_tts_provider sb_tts_elevenlabs;

static const sb_stt_provider *const stt[] = {&sb_stt_pocketsphinx, &sb_stt_deepgram,
                                             &sb_stt_openai};
static const sb_llm_provider *const llm[] = {&sb_llm_local, &sb_llm_openai, &sb_llm_anthropic};
static const sb_tts_provider *const tts[] = {&sb_tts_espeak, &sb_tts_openai, &sb_tts_elevenlabs};

#define FIND(table, type)                                                                          \
	do {                                                                                       \
		for (size_t i = 0; type && i < sizeof(table) / sizeof(table[0]); i++)              \
			if (strcmp(table[i]->type, type) == 0)                                     \
				return table[i];                                                   \
		return NULL;                                                                       \
	} while (0)

const sb_stt_provider *sb_stt_provider_find(const char *type) { FIND(stt, type); }
const sb_llm_provider *sb_llm_provider_find(const char *type) { FIND(llm, type); }
const sb_tts_provider *sb_tts_provider_find(const char *type) { FIND(tts, type); }
