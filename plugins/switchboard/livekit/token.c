/* LiveKit access tokens (livekit.md section 2): the keys they are signed
 * with, their check, their grants, and the grant each RPC needs.
 *
 * Written with GLib's HMAC and jansson rather than libjwt so that the rules
 * are LiveKit's and visible here: HS256 and nothing else (the header is
 * read before any key is used), the key looked up by iss, exp required,
 * 60 s of leeway on exp and nbf.  Pure: no Janus, no clock of its own
 * (the caller says what time it is), unit-tested with tokens minted by
 * livekit-server-sdk's AccessToken. */
#include "livekit/livekit_private.h"

#include <string.h>

/* ---- keys ---- */

static void add_key(GHashTable *keys, const char *key, const char *secret, int *skipped)
{
	if (key && *key && secret && *secret)
		g_hash_table_replace(keys, g_strdup(key), g_strdup(secret));
	else
		(*skipped)++;
}

GHashTable *sb_lk_keys_new(json_t *configured, const char *env_key, const char *env_secret,
                           int *skipped)
{
	GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	*skipped = 0;
	const char *key;
	json_t *secret;
	if (json_is_object(configured))
		json_object_foreach(configured, key, secret)
		        add_key(keys, key, json_string_value(secret), skipped);
	if (env_key || env_secret)
		add_key(keys, env_key, env_secret, skipped);
	return keys;
}

/* ---- the token ---- */

/* One base64url part of a JWT (no padding), decoded; NULL if it is not. */
static guchar *part_decode(const char *part, gsize *len)
{
	GString *std = g_string_new(part);
	for (gsize i = 0; i < std->len; i++) {
		char c = std->str[i];
		if (c == '-')
			std->str[i] = '+';
		else if (c == '_')
			std->str[i] = '/';
		else if (!g_ascii_isalnum(c)) {
			g_string_free(std, TRUE);
			return NULL;
		}
	}
	while (std->len % 4)
		g_string_append_c(std, '=');
	guchar *out = g_base64_decode(std->str, len);
	g_string_free(std, TRUE);
	return out;
}

static json_t *part_json(const char *part)
{
	gsize len = 0;
	guchar *text = part_decode(part, &len);
	json_t *j = text ? json_loadb((const char *)text, len, 0, NULL) : NULL;
	g_free(text);
	if (j && !json_is_object(j))
		g_clear_pointer(&j, json_decref);
	return j;
}

static void hmac_sha256(const char *secret, const char *data, gsize len, guint8 mac[32])
{
	gsize mac_len = 32;
	GHmac *hmac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret));
	g_hmac_update(hmac, (const guchar *)data, (gssize)len);
	g_hmac_get_digest(hmac, mac, &mac_len);
	g_hmac_unref(hmac);
}

/* Constant time in the signature's bytes. */
static bool signature_ok(const char *secret, const char *signed_part, gsize signed_len,
                         const char *signature_part)
{
	gsize given_len = 0;
	guchar *given = part_decode(signature_part, &given_len);
	guint8 mac[32];
	hmac_sha256(secret, signed_part, signed_len, mac);
	unsigned char diff = given_len != sizeof(mac);
	for (gsize i = 0; given && i < sizeof(mac); i++)
		diff |= mac[i] ^ (i < given_len ? given[i] : 0);
	g_free(given);
	return given && diff == 0;
}

static char *dup_string(json_t *object, const char *name)
{
	const char *s = json_string_value(json_object_get(object, name));
	return s ? g_strdup(s) : NULL;
}

/* A grant is a JSON true: a string "true" grants nothing. */
static bool flag(json_t *object, const char *name, bool absent)
{
	json_t *v = json_object_get(object, name);
	return json_is_boolean(v) ? json_is_true(v) : absent;
}

/* The claims (livekit.md 2.3), with LiveKit's defaults for what is absent. */
static void read_claims(json_t *payload, sb_lk_claims *c)
{
	c->api_key = dup_string(payload, "iss");
	c->identity = dup_string(payload, "sub");
	c->name = dup_string(payload, "name");
	c->metadata = dup_string(payload, "metadata");
	json_t *attributes = json_object_get(payload, "attributes");
	if (json_is_object(attributes))
		c->attributes = json_deep_copy(attributes);
	c->expires = json_integer_value(json_object_get(payload, "exp"));
	json_t *video = json_object_get(payload, "video");
	c->room_create = flag(video, "roomCreate", false);
	c->room_list = flag(video, "roomList", false);
	c->room_record = flag(video, "roomRecord", false);
	c->room_admin = flag(video, "roomAdmin", false);
	c->room_join = flag(video, "roomJoin", false);
	c->room = dup_string(video, "room");
	c->destination_room = dup_string(video, "destinationRoom");
	c->can_publish = flag(video, "canPublish", true);
	c->can_subscribe = flag(video, "canSubscribe", true);
	c->can_publish_data = flag(video, "canPublishData", c->can_publish);
	c->hidden = flag(video, "hidden", false);
	json_t *sip = json_object_get(payload, "sip");
	c->sip_admin = flag(sip, "admin", false);
	c->sip_call = flag(sip, "call", false);
}

/* exp is required; both bounds get the leeway. */
static sb_lk_token_status check_times(json_t *payload, gint64 now_s)
{
	json_t *exp = json_object_get(payload, "exp");
	json_t *nbf = json_object_get(payload, "nbf");
	if (!json_is_number(exp) || json_number_value(exp) + SB_LK_LEEWAY_S <= (double)now_s)
		return SB_LK_TOKEN_EXPIRED;
	if (nbf && !json_is_number(nbf))
		return SB_LK_TOKEN_MALFORMED;
	if (nbf && json_number_value(nbf) - SB_LK_LEEWAY_S > (double)now_s)
		return SB_LK_TOKEN_NOT_YET_VALID;
	return SB_LK_TOKEN_OK;
}

sb_lk_token_status sb_lk_token_verify(GHashTable *keys, const char *token, gint64 now_s,
                                      sb_lk_claims *claims)
{
	memset(claims, 0, sizeof(*claims));
	if (!keys || !token || strlen(token) > SB_LK_TOKEN_MAX)
		return SB_LK_TOKEN_MALFORMED;
	char **parts = g_strsplit(token, ".", 4);
	json_t *header = NULL, *payload = NULL;
	sb_lk_token_status status = SB_LK_TOKEN_MALFORMED;
	if (g_strv_length(parts) != 3 || !*parts[2])
		goto out;
	header = part_json(parts[0]);
	payload = part_json(parts[1]);
	/* HS256 is decided by the header before any key is used: "none" and
	 * the RS/ES families (a public key taken for a secret) never verify. */
	if (!header || !payload ||
	    g_strcmp0(json_string_value(json_object_get(header, "alg")), "HS256"))
		goto out;
	const char *iss = json_string_value(json_object_get(payload, "iss"));
	const char *secret = iss ? g_hash_table_lookup(keys, iss) : NULL;
	status = SB_LK_TOKEN_UNKNOWN_KEY;
	if (!secret)
		goto out;
	status = SB_LK_TOKEN_BAD_SIGNATURE;
	gsize signed_len = strlen(parts[0]) + 1 + strlen(parts[1]);
	if (!signature_ok(secret, token, signed_len, parts[2]))
		goto out;
	status = check_times(payload, now_s);
	if (status == SB_LK_TOKEN_OK)
		read_claims(payload, claims);
out:
	json_decref(header);
	json_decref(payload);
	g_strfreev(parts);
	return status;
}

void sb_lk_claims_clear(sb_lk_claims *c)
{
	g_free(c->api_key);
	g_free(c->identity);
	g_free(c->name);
	g_free(c->metadata);
	json_decref(c->attributes);
	g_free(c->room);
	g_free(c->destination_room);
	memset(c, 0, sizeof(*c));
}

const char *sb_lk_token_status_text(sb_lk_token_status status)
{
	switch (status) {
	case SB_LK_TOKEN_OK:
		return "valid";
	case SB_LK_TOKEN_MALFORMED:
		return "invalid authorization token";
	case SB_LK_TOKEN_UNKNOWN_KEY:
		return "invalid API key";
	case SB_LK_TOKEN_BAD_SIGNATURE:
		return "invalid authorization token: signature is invalid";
	case SB_LK_TOKEN_EXPIRED:
		return "invalid authorization token: token is expired";
	case SB_LK_TOKEN_NOT_YET_VALID:
		return "invalid authorization token: token is not valid yet";
	}
	return "invalid authorization token";
}

/* ---- grants ---- */

typedef struct rpc_need {
	const char *service; /* without the "livekit." package */
	const char *method;  /* NULL: every method of the service */
	sb_lk_need need;
} rpc_need;

/* livekit.md 2.4, first match wins. */
static const rpc_need needs[] = {
        {"RoomService", "CreateRoom", SB_LK_NEED_ROOM_CREATE},
        {"RoomService", "DeleteRoom", SB_LK_NEED_ROOM_CREATE},
        {"RoomService", "ListRooms", SB_LK_NEED_ROOM_LIST},
        {"RoomService", "ListParticipants", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "GetParticipant", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "RemoveParticipant", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "MutePublishedTrack", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "UpdateParticipant", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "UpdateSubscriptions", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "SendData", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "UpdateRoomMetadata", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "PerformRpc", SB_LK_NEED_ROOM_ADMIN},
        {"RoomService", "ForwardParticipant", SB_LK_NEED_ROOM_ADMIN_MOVE},
        {"RoomService", "MoveParticipant", SB_LK_NEED_ROOM_ADMIN_MOVE},
        {"AgentDispatchService", "CreateDispatch", SB_LK_NEED_ROOM_ADMIN},
        {"AgentDispatchService", "DeleteDispatch", SB_LK_NEED_ROOM_ADMIN},
        {"AgentDispatchService", "ListDispatch", SB_LK_NEED_ROOM_ADMIN},
        {"SIP", "CreateSIPParticipant", SB_LK_NEED_SIP_CALL},
        {"SIP", "TransferSIPParticipant", SB_LK_NEED_SIP_CALL_ROOM_ADMIN},
        {"SIP", "ListSIPTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "CreateSIPInboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "CreateSIPOutboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "UpdateSIPInboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "UpdateSIPOutboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "GetSIPInboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "GetSIPOutboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "ListSIPInboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "ListSIPOutboundTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "DeleteSIPTrunk", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "CreateSIPDispatchRule", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "UpdateSIPDispatchRule", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "ListSIPDispatchRule", SB_LK_NEED_SIP_ADMIN},
        {"SIP", "DeleteSIPDispatchRule", SB_LK_NEED_SIP_ADMIN},
        {"Egress", "StartEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "UpdateLayout", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "UpdateStream", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "ListEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "StopEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "StartRoomCompositeEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "StartWebEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "StartParticipantEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "StartTrackCompositeEgress", SB_LK_NEED_ROOM_RECORD},
        {"Egress", "StartTrackEgress", SB_LK_NEED_ROOM_RECORD},
};

bool sb_lk_rpc_need(const char *service, const char *method, sb_lk_need *need)
{
	if (!service || !method || !g_str_has_prefix(service, "livekit."))
		return false;
	service += strlen("livekit.");
	for (size_t i = 0; i < G_N_ELEMENTS(needs); i++)
		if (!strcmp(needs[i].service, service) && !strcmp(needs[i].method, method)) {
			*need = needs[i].need;
			return true;
		}
	return false;
}

static bool same_room(const char *granted, const char *asked)
{
	return granted && asked && *asked && !strcmp(granted, asked);
}

bool sb_lk_claims_allow(const sb_lk_claims *c, sb_lk_need need, const char *room,
                        const char *destination_room)
{
	bool room_admin = c->room_admin && same_room(c->room, room);
	switch (need) {
	case SB_LK_NEED_ROOM_CREATE:
		return c->room_create;
	case SB_LK_NEED_ROOM_LIST:
		return c->room_list;
	case SB_LK_NEED_ROOM_ADMIN:
		return room_admin;
	case SB_LK_NEED_ROOM_ADMIN_MOVE:
		return room_admin && same_room(c->destination_room, destination_room);
	case SB_LK_NEED_ROOM_RECORD:
		return c->room_record;
	case SB_LK_NEED_SIP_ADMIN:
		return c->sip_admin;
	case SB_LK_NEED_SIP_CALL:
		return c->sip_call;
	case SB_LK_NEED_SIP_CALL_ROOM_ADMIN:
		return c->sip_call && room_admin;
	}
	return false;
}
