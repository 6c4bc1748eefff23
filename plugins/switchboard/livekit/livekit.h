/* The LiveKit module: LiveKit's server API on Switchboard, so that a back
 * end written against livekit-server-sdk manages Switchboard rooms with
 * only its URL and keys changed.
 *
 *   - Twirp v7, JSON: POST /twirp/livekit.RoomService/<Method> on the
 *     embedded HTTP server, each method a thin mapping onto the ops table;
 *   - LiveKit access tokens (HS256 JWTs signed with an API key's secret)
 *     as one more kind of proof (docs/security.md): on the server API with
 *     the grant each method needs, and on the Janus API's `join`
 *     (video.roomJoin + video.room).
 *
 *   - AgentDispatchService, Egress (a room's recording) and SIP's calls
 *     (CreateSIPParticipant, TransferSIPParticipant) on the same ops;
 *   - webhooks in LiveKit's format to [livekit] webhook_urls (webhook.c).
 *
 * Keys: [livekit] keys = { <api key> = "<secret>" }, or LIVEKIT_API_KEY and
 * LIVEKIT_API_SECRET in the environment.  Without a key the module stays
 * off: no route, no token is accepted.
 * Wire facts: shared/protocols/livekit.md. */
#ifndef SB_LIVEKIT_LIVEKIT_H
#define SB_LIVEKIT_LIVEKIT_H

#include <stdbool.h>

#include "core/core.h"

/* modules.c: registers the routes, the metrics and the join-token
 * verifier, before the HTTP server starts.  Without a key it adds nothing
 * (logged) and is still true: an API that is off is not a failure. */
bool sb_livekit_start(const sb_settings *settings);
/* After the HTTP server stopped: forgets the keys. */
void sb_livekit_finish(void);

#endif
