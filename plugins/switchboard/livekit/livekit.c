/* The LiveKit module's start: its keys, its routes and ops, and the
 * verifier that lets the Janus API's `join` take a LiveKit access token
 * (a back end that mints tokens with AccessToken lets browsers join
 * through janus.js).  Such a token is one more kind of join token
 * (docs/security.md): video.roomJoin for exactly the room joined, an
 * identity (sub), within its exp/nbf; its name and metadata are the
 * participant's, and canPublish:false joins listen-only. */
#include "livekit/livekit.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "livekit/livekit_private.h"

/* Written at start and finish only, when no request runs. */
static GHashTable *keys;

static sb_token_status status_for_join(sb_lk_token_status status)
{
	switch (status) {
	case SB_LK_TOKEN_OK:
		return SB_TOKEN_OK;
	case SB_LK_TOKEN_BAD_SIGNATURE:
		return SB_TOKEN_BAD_SIGNATURE;
	case SB_LK_TOKEN_EXPIRED:
	case SB_LK_TOKEN_NOT_YET_VALID:
		return SB_TOKEN_EXPIRED;
	default:
		return SB_TOKEN_MALFORMED; /* not ours: another kind of token */
	}
}

/* An sb_join_token_verifier. */
static int verify_join_token(const char *token, const char *room, sb_join_claims *out)
{
	memset(out, 0, sizeof(*out));
	sb_lk_claims c;
	sb_lk_token_status status =
	        sb_lk_token_verify(keys, token, g_get_real_time() / G_USEC_PER_SEC, &c);
	if (status != SB_LK_TOKEN_OK)
		return status_for_join(status);
	/* A join token: roomJoin for this very room, and who joins. */
	bool fits = c.room_join && c.room && *c.room && c.identity && *c.identity &&
	            strlen(c.identity) <= SB_DISPLAY_MAX && (!room || !strcmp(room, c.room));
	sb_token_status answer = fits ? SB_TOKEN_OK : SB_TOKEN_WRONG_ROOM;
	if (fits) {
		out->room = g_strdup(c.room);
		out->identity = g_strdup(c.identity);
		out->name = c.name && *c.name ? g_strndup(c.name, SB_DISPLAY_MAX) : NULL;
		out->role = g_strdup("caller");
		out->room_admin = c.room_admin;
		out->metadata = c.metadata && *c.metadata ? g_strdup(c.metadata) : NULL;
		out->listen_only = !c.can_publish;
		out->expires = c.expires;
	}
	sb_lk_claims_clear(&c);
	return answer;
}

bool sb_livekit_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "livekit");
	json_t *configured = json_object_get(section, "keys");
	int skipped = 0;
	keys = sb_lk_keys_new(configured, g_getenv("LIVEKIT_API_KEY"),
	                      g_getenv("LIVEKIT_API_SECRET"), &skipped);
	if (skipped)
		JANUS_LOG(
		        LOG_WARN,
		        "[switchboard] [livekit] %d key(s) without a secret left out (a key needs "
		        "a non-empty secret; LIVEKIT_API_KEY needs LIVEKIT_API_SECRET)\n",
		        skipped);
	if (!g_hash_table_size(keys)) {
		/* Nothing can be verified: no route, no token taken. */
		JANUS_LOG(LOG_INFO, "[switchboard] LiveKit server API off (no [livekit] keys)\n");
		return true;
	}
	/* What reads the config first: a bad value starts nothing (a module
	 * that did not start is not finished). */
	bool config_ok = sb_lk_dispatch_start(section);
	if (config_ok && !sb_lk_webhooks_start(section, keys)) {
		sb_lk_dispatch_stop();
		config_ok = false;
	}
	if (!config_ok) {
		g_clear_pointer(&keys, g_hash_table_unref);
		return false;
	}
	sb_lk_twirp_register(keys);
	sb_lk_egress_start();
	sb_lk_sip_start();
	sb_lk_sip_objects_start();
	sb_lk_routing_start();
	sb_ops_register_join_token_verifier(verify_join_token);
	JANUS_LOG(LOG_INFO, "[switchboard] LiveKit server API on /twirp with %u key(s)\n",
	          g_hash_table_size(keys));
	return true;
}

void sb_livekit_finish(void)
{
	/* Without a key nothing started (sb_livekit_start returned early). */
	if (!keys || !g_hash_table_size(keys)) {
		g_clear_pointer(&keys, g_hash_table_unref);
		return;
	}
	sb_lk_webhooks_stop();
	sb_lk_dispatch_stop();
	sb_lk_egress_stop();
	sb_lk_routing_stop();
	sb_lk_sip_objects_stop();
	sb_lk_sip_stop();
	sb_lk_twirp_forget();
	g_clear_pointer(&keys, g_hash_table_unref);
}
