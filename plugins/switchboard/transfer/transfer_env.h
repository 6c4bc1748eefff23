/* The real environment of the transfer state machine: see transfer_env.c. */
#ifndef SB_TRANSFER_ENV_H
#define SB_TRANSFER_ENV_H

#include <glib.h>
#include <jansson.h>

#include "core/settings.h"
#include "transfer/transfer.h"

/* Loads the knowledge base for summaries, starts the AI summaries
 * (transfer_ai.h), the worker thread and the state machine. */
bool sb_transfer_env_start(const sb_transfer_config *config, const char *kb_path,
                           const sb_settings *settings);
void sb_transfer_env_stop(void);
/* Runs fn on the transfer worker thread (for bus listeners, which must
 * only queue). */
void sb_transfer_env_invoke(GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* The SIP participant of call_id in room (its info "call_id"), or 0. */
guint64 sb_transfer_env_call_participant(const char *room, const char *call_id);

/* The call's summary now, never waiting: the model's last one while
 * nothing new was said since, else the extractive one (sb_local_summary);
 * NULL with *error when there is no such room.  "provider" says which. */
json_t *sb_transfer_summary(const char *room, const char **error);
/* summary: a new reference the callback owns. */
typedef void (*sb_transfer_summary_done)(void *user, json_t *summary);
/* Asks the model (transfer_ai.h) for the room's summary; done runs once,
 * on a provider thread or at once, with the model's summary or the
 * extractive fallback.  False (done never runs) when there is no room. */
bool sb_transfer_summary_async(const char *room, sb_transfer_summary_done done, void *user);
/* AI assistance for a human agent: an answer to message from the
 * knowledge base (g_free; NULL when there is none), and the call's
 * summary for context. */
char *sb_transfer_assist(const char *room, const char *message, json_t **summary_out);

#endif
