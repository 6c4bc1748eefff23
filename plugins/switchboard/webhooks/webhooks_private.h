/* The webhooks module's inside: which events go out (unit-tested apart). */
#ifndef SB_WEBHOOKS_PRIVATE_H
#define SB_WEBHOOKS_PRIVATE_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "webhooks/webhooks.h"

/* A secret that signs is at least this long (as LiveKit's keys are). */
#define SB_WEBHOOK_SECRET_MIN 16

/* The events a webhook receives when [webhooks] events is not set: a
 * call's life (rooms, who came and went, call status, holds), transfers,
 * recordings, the agent's turns, tool calls and hand-offs, WhatsApp
 * messages.  Not the per-word or per-state ones (transcript lines,
 * agent_state, agent_speech, queue_updated, dtmf): ask for them. */
extern const char *const sb_webhook_default_events[];

/* [webhooks] events: names and patterns ("transfer_*", "*"), or NULL for
 * the defaults.  NULL with *error (g_free) when it is not a list of
 * strings. */
GPtrArray *sb_webhook_filter_new(json_t *events, char **error);
void sb_webhook_filter_free(GPtrArray *filter);
bool sb_webhook_filter_wants(GPtrArray *filter, const char *type);

#endif
