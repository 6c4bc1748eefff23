/* The AI side of warm transfers: the call summary and the agent's assist
 * answers written by a cloud language model through the LLM chain
 * (providers/chain.h), with the extractive summary and the knowledge-base
 * answer as the fallback.
 *
 * Nothing here blocks: a request starts a chain call and returns; the
 * answer comes back through a callback on a provider (or the chain's
 * timer) thread, or at once on the calling thread when no cloud model is
 * configured.  Every answer says which provider wrote it ("provider":
 * "openai", or "local" for the fallback, with "fallback_reason" when a
 * model was asked and failed).
 *
 * Config, [transfer]: summary_llm = provider names (default: the agent's
 * llm chain without "local", whose dialog engine does not summarise);
 * summary_timeout_ms = the chain's first-output timeout (default 8000). */
#ifndef SB_TRANSFER_AI_H
#define SB_TRANSFER_AI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "providers/chain.h"
#include "core/settings.h"

/* kb: the knowledge base for the assist prompt (borrowed; kept referenced). */
bool sb_transfer_ai_init(const sb_settings *settings, json_t *kb);
/* Waits for nothing: calls still running finish on their own threads and
 * their callbacks still run (the callers' contexts must stay valid, or be
 * refcounted as ours are). */
void sb_transfer_ai_deinit(void);
/* Is a cloud model configured for summaries and assist? */
bool sb_transfer_ai_enabled(void);

/* Answers by a model, and fallbacks after a model was asked (for
 * /metrics). */
void sb_transfer_ai_get_stats(uint64_t *model, uint64_t *fallback);

/* result: a new reference the callback owns. */
typedef void (*sb_transfer_ai_done)(void *user, json_t *result);

/* Summarises transcript ([{"speaker","text"}], borrowed) into the shape
 * of local (the extractive summary, borrowed, used as the fallback and for
 * the fields the model does not give). */
void sb_transfer_ai_summary(json_t *transcript, json_t *local, sb_transfer_ai_done done,
                            void *user);

/* Answers a human agent's question with the call's summary as context:
 * result {"reply", "provider", "fallback_reason"?}; local_reply is the
 * knowledge base's answer (may be NULL), the fallback. */
void sb_transfer_ai_assist(const char *message, json_t *summary, const char *local_reply,
                           sb_transfer_ai_done done, void *user);

/* Uses chain (taken; NULL: none) and kb (borrowed) instead of what
 * init builds from the settings.  (Init uses it; so do the unit tests.) */
void sb_transfer_ai_use_chain(sb_llm_chain *chain, json_t *kb);

/* Parses a model's answer (JSON, possibly fenced) into a summary merged
 * over local; NULL when it is not a usable summary.  (For tests.) */
json_t *sb_transfer_ai_parse_summary(const char *answer, json_t *local);

#endif
