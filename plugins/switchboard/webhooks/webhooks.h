/* Switchboard's own events as webhooks: what /ws/notifications carries
 * (calls, transfers, recordings, agent turns …), POSTed to the URLs of
 * [webhooks] as they happen, signed as LiveKit signs its webhooks (an
 * HS256 JWT in Authorization whose sha256 claim is the body's hash), from
 * a durable queue with retries (the net module's outbox).  README,
 * "Webhooks"; docs/security.md. */
#ifndef SB_WEBHOOKS_H
#define SB_WEBHOOKS_H

#include <stdbool.h>

#include "core/core.h"

/* Module lifecycle (modules.c).  Without [webhooks] urls: nothing runs.
 * False (logged) for a config it cannot use: no secret, a short one. */
bool sb_webhooks_start(const sb_settings *settings);
void sb_webhooks_stop(void);

#endif
