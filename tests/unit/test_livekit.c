/* LiveKit access tokens and grants (livekit/token.c).  The vectors were
 * minted by livekit-server-sdk 2.19.2's AccessToken (Node), not by this
 * code:
 *
 *   new AccessToken('APIvecKey1', 'vector-secret-0123456789abcdefghij', opts)
 *     .addGrant(grant) [.addSIPGrant(sip)] .toJwt()
 *
 * Tokens the SDK will not make (other algorithms, forged signatures, no
 * exp) are built here from their parts. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "livekit/livekit_private.h"
#include "livekit_jwt.h"
#include "net/net.h"

#define KEY "APIvecKey1"
#define SECRET "vector-secret-0123456789abcdefghij"
#define NBF 1796457039 /* every vector's nbf */

/* {ttl:'10m'}, {roomCreate:true} */
static const char *const create_token =
        "eyJhbGciOiJIUzI1NiJ9."
        "eyJ2aWRlbyI6eyJyb29tQ3JlYXRlIjp0cnVlfSwiaXNzIjoiQVBJdmVjS2V5MSIsImV4cCI6MTc5NjQ1NzYzOS"
        "wibmJmIjoxNzk2NDU3MDM5fQ.CC5W8QyJvPyOgn-MND6cf02sOXP4fvNuJQ7bmttrhCg";
/* {identity:'alice', name:'Alice A', metadata:'{"tier":"gold"}', ttl:'6h'},
 * {roomJoin:true, room:'lk-room', canPublish:false} */
static const char *const join_token =
        "eyJhbGciOiJIUzI1NiJ9."
        "eyJtZXRhZGF0YSI6IntcInRpZXJcIjpcImdvbGRcIn0iLCJuYW1lIjoiQWxpY2UgQSIsInZpZGVvIjp7InJvb2"
        "1Kb2luIjp0cnVlLCJyb29tIjoibGstcm9vbSIsImNhblB1Ymxpc2giOmZhbHNlfSwiaXNzIjoiQVBJdmVjS2V5"
        "MSIsImV4cCI6MTc5NjQ3ODYzOSwibmJmIjoxNzk2NDU3MDM5LCJzdWIiOiJhbGljZSJ9."
        "8TLpPr3M5s_pywB4A7uQXNy08ShfgqbR3A5K6r03igk";
/* {ttl:'10m'}, {roomAdmin:true, room:'lk-room'}, sip {call:true} */
static const char *const admin_token =
        "eyJhbGciOiJIUzI1NiJ9."
        "eyJ2aWRlbyI6eyJyb29tQWRtaW4iOnRydWUsInJvb20iOiJsay1yb29tIn0sInNpcCI6eyJjYWxsIjp0cnVlfS"
        "wiaXNzIjoiQVBJdmVjS2V5MSIsImV4cCI6MTc5NjQ1NzYzOSwibmJmIjoxNzk2NDU3MDM5fQ."
        "V7HiIhOnUKFY3bQsXZFRBN_QI7VfsQ3DkI1pnczTEj0";
/* {ttl:'10m'}, {roomList:true, roomRecord:true} */
static const char *const list_token =
        "eyJhbGciOiJIUzI1NiJ9."
        "eyJ2aWRlbyI6eyJyb29tTGlzdCI6dHJ1ZSwicm9vbVJlY29yZCI6dHJ1ZX0sImlzcyI6IkFQSXZlY0tleTEiLC"
        "JleHAiOjE3OTY0NTc2MzksIm5iZiI6MTc5NjQ1NzAzOX0."
        "GGWo2xFY2FdShWRXA7BT6tprg5m2IRca_qNMSzQISZM";

static GHashTable *vector_keys(void)
{
	json_t *configured = json_pack("{ss}", KEY, SECRET);
	int skipped = 0;
	GHashTable *keys = sb_lk_keys_new(configured, NULL, NULL, &skipped);
	json_decref(configured);
	g_assert_cmpint(skipped, ==, 0);
	return keys;
}

static char *make_token(const char *header, const char *payload, const char *secret)
{
	return lk_test_token(header, payload, strlen(payload), secret);
}

static void test_sdk_tokens(void)
{
	GHashTable *keys = vector_keys();
	sb_lk_claims c;
	g_assert_cmpint(sb_lk_token_verify(keys, create_token, NBF + 5, &c), ==, SB_LK_TOKEN_OK);
	g_assert_cmpstr(c.api_key, ==, KEY);
	g_assert_true(c.room_create);
	g_assert_false(c.room_list || c.room_admin || c.room_join || c.sip_call);
	g_assert_null(c.identity);
	g_assert_cmpint(c.expires, ==, NBF + 600);
	sb_lk_claims_clear(&c);

	g_assert_cmpint(sb_lk_token_verify(keys, join_token, NBF + 5, &c), ==, SB_LK_TOKEN_OK);
	g_assert_cmpstr(c.identity, ==, "alice");
	g_assert_cmpstr(c.name, ==, "Alice A");
	g_assert_cmpstr(c.metadata, ==, "{\"tier\":\"gold\"}");
	g_assert_cmpstr(c.room, ==, "lk-room");
	g_assert_true(c.room_join);
	g_assert_false(c.can_publish);
	g_assert_true(c.can_subscribe);     /* absent: true */
	g_assert_false(c.can_publish_data); /* absent: as canPublish */
	g_assert_false(c.room_admin);
	sb_lk_claims_clear(&c);

	g_assert_cmpint(sb_lk_token_verify(keys, admin_token, NBF + 5, &c), ==, SB_LK_TOKEN_OK);
	g_assert_true(c.room_admin);
	g_assert_true(c.sip_call);
	g_assert_false(c.sip_admin);
	g_assert_true(c.can_publish);
	sb_lk_claims_clear(&c);
	g_hash_table_unref(keys);
}

static void test_times(void)
{
	GHashTable *keys = vector_keys();
	sb_lk_claims c;
	/* exp = NBF + 600, with 60 s of leeway either side. */
	g_assert_cmpint(sb_lk_token_verify(keys, create_token, NBF + 659, &c), ==, SB_LK_TOKEN_OK);
	sb_lk_claims_clear(&c);
	g_assert_cmpint(sb_lk_token_verify(keys, create_token, NBF + 660, &c), ==,
	                SB_LK_TOKEN_EXPIRED);
	g_assert_null(c.api_key);
	g_assert_cmpint(sb_lk_token_verify(keys, create_token, NBF - 60, &c), ==, SB_LK_TOKEN_OK);
	sb_lk_claims_clear(&c);
	g_assert_cmpint(sb_lk_token_verify(keys, create_token, NBF - 61, &c), ==,
	                SB_LK_TOKEN_NOT_YET_VALID);
	/* No exp: refused, as LiveKit requires it. */
	char *no_exp = make_token("{\"alg\":\"HS256\"}",
	                          "{\"iss\":\"" KEY "\",\"video\":{\"roomCreate\":true}}", SECRET);
	g_assert_cmpint(sb_lk_token_verify(keys, no_exp, NBF, &c), ==, SB_LK_TOKEN_EXPIRED);
	g_free(no_exp);
	g_hash_table_unref(keys);
}

static void test_refused(void)
{
	GHashTable *keys = vector_keys();
	sb_lk_claims c;
	/* Another key set: the API key is unknown. */
	json_t *other = json_pack("{ss}", "APIother", SECRET);
	int skipped;
	GHashTable *other_keys = sb_lk_keys_new(other, NULL, NULL, &skipped);
	json_decref(other);
	g_assert_cmpint(sb_lk_token_verify(other_keys, create_token, NBF, &c), ==,
	                SB_LK_TOKEN_UNKNOWN_KEY);
	g_hash_table_unref(other_keys);
	/* The right key with another secret: the signature fails. */
	GHashTable *wrong = sb_lk_keys_new(NULL, KEY, "not-the-secret", &skipped);
	g_assert_cmpint(sb_lk_token_verify(wrong, create_token, NBF, &c), ==,
	                SB_LK_TOKEN_BAD_SIGNATURE);
	g_hash_table_unref(wrong);
	/* A claim changed after signing. */
	char *forged = g_strdup(admin_token);
	char *payload = strchr(forged, '.') + 1;
	payload[3] ^= 1;
	g_assert_cmpint(sb_lk_token_verify(keys, forged, NBF, &c), !=, SB_LK_TOKEN_OK);
	g_free(forged);
	/* Signature cut short, or empty. */
	char *cut = g_strndup(create_token, strlen(create_token) - 2);
	g_assert_cmpint(sb_lk_token_verify(keys, cut, NBF, &c), ==, SB_LK_TOKEN_BAD_SIGNATURE);
	g_free(cut);
	char *empty = g_strndup(create_token, strrchr(create_token, '.') - create_token + 1);
	g_assert_cmpint(sb_lk_token_verify(keys, empty, NBF, &c), ==, SB_LK_TOKEN_MALFORMED);
	g_free(empty);
	/* HS256 only: a good HMAC under another alg name, and "none". */
	const char *payload_json = "{\"iss\":\"" KEY "\",\"exp\":1796457639}";
	char *hs512 = make_token("{\"alg\":\"HS512\"}", payload_json, SECRET);
	g_assert_cmpint(sb_lk_token_verify(keys, hs512, NBF, &c), ==, SB_LK_TOKEN_MALFORMED);
	g_free(hs512);
	char *none = make_token("{\"alg\":\"none\"}", payload_json, SECRET);
	*strrchr(none, '.') = '\0';
	char *unsigned_token = g_strconcat(none, ".", NULL);
	g_assert_cmpint(sb_lk_token_verify(keys, unsigned_token, NBF, &c), ==,
	                SB_LK_TOKEN_MALFORMED);
	g_free(none), g_free(unsigned_token);
	/* Our own making, correctly signed, still verifies (the control). */
	char *good = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload_json, SECRET);
	g_assert_cmpint(sb_lk_token_verify(keys, good, NBF, &c), ==, SB_LK_TOKEN_OK);
	sb_lk_claims_clear(&c);
	g_free(good);
	/* Not a JWT at all. */
	const char *junk[] = {"", "abc", "a.b", "a.b.c.d", "!!.??.##", NULL};
	for (const char **j = junk; *j; j++)
		g_assert_cmpint(sb_lk_token_verify(keys, *j, NBF, &c), ==, SB_LK_TOKEN_MALFORMED);
	g_assert_cmpint(sb_lk_token_verify(NULL, create_token, NBF, &c), ==, SB_LK_TOKEN_MALFORMED);
	g_hash_table_unref(keys);
}

static void test_grant_strings_grant_nothing(void)
{
	GHashTable *keys = vector_keys();
	sb_lk_claims c;
	char *t = make_token("{\"alg\":\"HS256\"}",
	                     "{\"iss\":\"" KEY "\",\"exp\":1796457639,\"video\":{\"roomCreate\":"
	                     "\"true\",\"roomAdmin\":1,\"room\":\"r\"}}",
	                     SECRET);
	g_assert_cmpint(sb_lk_token_verify(keys, t, NBF, &c), ==, SB_LK_TOKEN_OK);
	g_assert_false(c.room_create);
	g_assert_false(c.room_admin);
	sb_lk_claims_clear(&c);
	g_free(t);
	g_hash_table_unref(keys);
}

static void test_keys(void)
{
	json_t *configured = json_pack("{sssssi}", "APIa", "sa", "APIempty", "", "APInum", 5);
	int skipped = 0;
	GHashTable *keys = sb_lk_keys_new(configured, "APIenv", "senv", &skipped);
	g_assert_cmpint(skipped, ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(keys, "APIa"), ==, "sa");
	g_assert_cmpstr(g_hash_table_lookup(keys, "APIenv"), ==, "senv");
	g_assert_null(g_hash_table_lookup(keys, "APIempty"));
	g_hash_table_unref(keys);
	keys = sb_lk_keys_new(NULL, "APIenv", NULL, &skipped);
	g_assert_cmpint(skipped, ==, 1);
	g_assert_cmpuint(g_hash_table_size(keys), ==, 0);
	g_hash_table_unref(keys);
	json_decref(configured);
}

static void test_rpc_needs(void)
{
	sb_lk_need need;
	g_assert_true(sb_lk_rpc_need("livekit.RoomService", "CreateRoom", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_CREATE);
	g_assert_true(sb_lk_rpc_need("livekit.RoomService", "DeleteRoom", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_CREATE);
	g_assert_true(sb_lk_rpc_need("livekit.RoomService", "ListRooms", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_LIST);
	g_assert_true(sb_lk_rpc_need("livekit.RoomService", "SendData", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_ADMIN);
	g_assert_true(sb_lk_rpc_need("livekit.RoomService", "MoveParticipant", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_ADMIN_MOVE);
	g_assert_true(sb_lk_rpc_need("livekit.SIP", "TransferSIPParticipant", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_SIP_CALL_ROOM_ADMIN);
	g_assert_true(sb_lk_rpc_need("livekit.SIP", "CreateSIPParticipant", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_SIP_CALL);
	g_assert_true(sb_lk_rpc_need("livekit.SIP", "ListSIPInboundTrunk", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_SIP_ADMIN);
	g_assert_true(sb_lk_rpc_need("livekit.Egress", "StopEgress", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_RECORD);
	g_assert_true(sb_lk_rpc_need("livekit.AgentDispatchService", "CreateDispatch", &need));
	g_assert_cmpint(need, ==, SB_LK_NEED_ROOM_ADMIN);
	/* Case matters; the package is required. */
	g_assert_false(sb_lk_rpc_need("livekit.RoomService", "createRoom", &need));
	g_assert_false(sb_lk_rpc_need("RoomService", "CreateRoom", &need));
	g_assert_false(sb_lk_rpc_need("livekit.Connector", "DialWhatsAppCall", &need));
	g_assert_false(sb_lk_rpc_need("livekit.RoomService", NULL, &need));
}

static void test_allow(void)
{
	GHashTable *keys = vector_keys();
	sb_lk_claims admin, create, list;
	g_assert_cmpint(sb_lk_token_verify(keys, admin_token, NBF, &admin), ==, SB_LK_TOKEN_OK);
	g_assert_cmpint(sb_lk_token_verify(keys, create_token, NBF, &create), ==, SB_LK_TOKEN_OK);
	g_assert_cmpint(sb_lk_token_verify(keys, list_token, NBF, &list), ==, SB_LK_TOKEN_OK);
	g_assert_true(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_ADMIN, "lk-room", NULL));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_ADMIN, "lk-room2", NULL));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_ADMIN, "LK-ROOM", NULL));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_ADMIN, "", NULL));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_ADMIN, NULL, NULL));
	g_assert_true(sb_lk_claims_allow(&admin, SB_LK_NEED_SIP_CALL_ROOM_ADMIN, "lk-room", NULL));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_ADMIN_MOVE, "lk-room", "x"));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_ROOM_CREATE, NULL, NULL));
	g_assert_false(sb_lk_claims_allow(&admin, SB_LK_NEED_SIP_ADMIN, NULL, NULL));
	g_assert_true(sb_lk_claims_allow(&create, SB_LK_NEED_ROOM_CREATE, NULL, NULL));
	g_assert_false(sb_lk_claims_allow(&create, SB_LK_NEED_ROOM_LIST, NULL, NULL));
	g_assert_false(sb_lk_claims_allow(&create, SB_LK_NEED_ROOM_ADMIN, "lk-room", NULL));
	g_assert_true(sb_lk_claims_allow(&list, SB_LK_NEED_ROOM_LIST, NULL, NULL));
	g_assert_true(sb_lk_claims_allow(&list, SB_LK_NEED_ROOM_RECORD, NULL, NULL));
	g_assert_false(sb_lk_claims_allow(&list, SB_LK_NEED_SIP_CALL, NULL, NULL));
	sb_lk_claims_clear(&admin);
	sb_lk_claims_clear(&create);
	sb_lk_claims_clear(&list);
	g_hash_table_unref(keys);
}

static void test_twirp_statuses(void)
{
	g_assert_cmpint(sb_lk_twirp_status("bad_route"), ==, 404);
	g_assert_cmpint(sb_lk_twirp_status("malformed"), ==, 400);
	g_assert_cmpint(sb_lk_twirp_status("unauthenticated"), ==, 401);
	g_assert_cmpint(sb_lk_twirp_status("permission_denied"), ==, 403);
	g_assert_cmpint(sb_lk_twirp_status("resource_exhausted"), ==, 429);
	g_assert_cmpint(sb_lk_twirp_status("failed_precondition"), ==, 412);
	g_assert_cmpint(sb_lk_twirp_status("already_exists"), ==, 409);
	g_assert_cmpint(sb_lk_twirp_status("unimplemented"), ==, 501);
	g_assert_cmpint(sb_lk_twirp_status("canceled"), ==, 408);
	g_assert_cmpint(sb_lk_twirp_status("unavailable"), ==, 503);
	g_assert_cmpint(sb_lk_twirp_status("no-such-code"), ==, 500);
	json_t *e = NULL;
	g_assert_cmpint(sb_lk_twirp_error(&e, "not_found", "requested room does not exist"), ==,
	                404);
	g_assert_cmpstr(json_string_value(json_object_get(e, "code")), ==, "not_found");
	g_assert_cmpstr(json_string_value(json_object_get(e, "msg")), ==,
	                "requested room does not exist");
	json_decref(e);
}

static void test_fields_both_casings(void)
{
	json_t *body = json_pack("{sssisn}", "trackSid", "TR_1", "empty_timeout", 30, "metadata");
	g_assert_cmpstr(json_string_value(sb_lk_field(body, "trackSid", "track_sid")), ==, "TR_1");
	g_assert_cmpint(json_integer_value(sb_lk_field(body, "emptyTimeout", "empty_timeout")), ==,
	                30);
	g_assert_null(sb_lk_field(body, "metadata", "metadata")); /* null: absent */
	g_assert_null(sb_lk_field(body, "name", "name"));
	json_decref(body);
}

/* A webhook's Authorization (livekit.md 4.1): the doc's test vector body
 * hashes to the doc's sha256; the token verifies under the key, lives five
 * minutes and names the key as iss. */
static void test_webhook_token(void)
{
	static const char body[] =
	        "{\"event\":\"room_started\", \"room\":{\"sid\":\"RM_TkVjUvAqgzKz\", "
	        "\"name\":\"mytestroom\", \"emptyTimeout\":300, \"creationTime\":\"1628545903\", "
	        "\"turnPassword\":\"ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N\", "
	        "\"enabledCodecs\":[{\"mime\":\"audio/opus\"}, {\"mime\":\"video/VP8\"}]}}";
	const gint64 now = 1700000000;
	char *token = sb_outbox_body_token("APIhook", "hook-secret", body, strlen(body), now);
	gchar **parts = g_strsplit(token, ".", -1);
	g_assert_cmpuint(g_strv_length(parts), ==, 3);
	GString *std = g_string_new(parts[1]);
	g_strdelimit(std->str, "-", '+');
	g_strdelimit(std->str, "_", '/');
	while (std->len % 4)
		g_string_append_c(std, '=');
	gsize len = 0;
	guchar *payload = g_base64_decode(std->str, &len);
	json_t *claims = json_loadb((const char *)payload, len, 0, NULL);
	g_assert_nonnull(claims);
	g_assert_cmpstr(json_string_value(json_object_get(claims, "sha256")), ==,
	                "CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefYI=");
	g_assert_cmpstr(json_string_value(json_object_get(claims, "iss")), ==, "APIhook");
	g_assert_cmpint(json_integer_value(json_object_get(claims, "nbf")), ==, now);
	g_assert_cmpint(json_integer_value(json_object_get(claims, "exp")), ==, now + 300);
	g_assert_null(json_object_get(claims, "video"));
	GHashTable *keys = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(keys, "APIhook", "hook-secret");
	sb_lk_claims c;
	g_assert_cmpint(sb_lk_token_verify(keys, token, now + 10, &c), ==, SB_LK_TOKEN_OK);
	sb_lk_claims_clear(&c);
	g_hash_table_insert(keys, "APIhook", "another-secret");
	g_assert_cmpint(sb_lk_token_verify(keys, token, now + 10, &c), ==,
	                SB_LK_TOKEN_BAD_SIGNATURE);
	sb_lk_claims_clear(&c);
	g_hash_table_unref(keys);
	json_decref(claims);
	g_free(payload);
	g_string_free(std, TRUE);
	g_strfreev(parts);
	g_free(token);
}

/* proto3 JSON (livekit.md 4.1): camelCase names, zero values and enums'
 * zero names left out, a map's keys kept, lists converted inside. */
static void test_protojson(void)
{
	json_t *snake = json_loads(
	        "{\"sid\":\"PA_1\",\"identity\":\"bob\",\"state\":\"JOINING\",\"kind\":"
	        "\"STANDARD\","
	        "\"joined_at\":\"1733330001\",\"version\":0,\"is_publisher\":true,\"hidden\":false,"
	        "\"metadata\":\"\",\"num_participants\":\"0\",\"kind_details\":[],"
	        "\"attributes\":{\"sip.callID\":\"SCL_x\",\"my_key\":\"v\"},"
	        "\"permission\":{\"can_subscribe\":true,\"can_publish\":false},"
	        "\"tracks\":[{\"sid\":\"TR_1\",\"type\":\"AUDIO\",\"source\":\"MICROPHONE\","
	        "\"mime_type\":\"audio/opus\",\"encryption\":\"NONE\"}],"
	        "\"disconnect_reason\":\"UNKNOWN_REASON\"}",
	        0, NULL);
	g_assert_nonnull(snake);
	json_t *camel = sb_lk_protojson(snake);
	json_t *want = json_loads(
	        "{\"sid\":\"PA_1\",\"identity\":\"bob\",\"joinedAt\":\"1733330001\","
	        "\"isPublisher\":true,\"attributes\":{\"sip.callID\":\"SCL_x\",\"my_key\":\"v\"},"
	        "\"permission\":{\"canSubscribe\":true},"
	        "\"tracks\":[{\"sid\":\"TR_1\",\"source\":\"MICROPHONE\",\"mimeType\":\"audio/"
	        "opus\"}]}",
	        0, NULL);
	if (!json_equal(camel, want)) {
		char *got = json_dumps(camel, JSON_SORT_KEYS);
		g_error("protojson: %s", got);
	}
	json_decref(want);
	json_decref(camel);
	json_decref(snake);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/livekit/token/sdk", test_sdk_tokens);
	g_test_add_func("/livekit/token/times", test_times);
	g_test_add_func("/livekit/token/refused", test_refused);
	g_test_add_func("/livekit/token/grant_types", test_grant_strings_grant_nothing);
	g_test_add_func("/livekit/keys", test_keys);
	g_test_add_func("/livekit/grants/rpc", test_rpc_needs);
	g_test_add_func("/livekit/grants/allow", test_allow);
	g_test_add_func("/livekit/twirp/statuses", test_twirp_statuses);
	g_test_add_func("/livekit/twirp/fields", test_fields_both_casings);
	g_test_add_func("/livekit/webhook/token", test_webhook_token);
	g_test_add_func("/livekit/webhook/protojson", test_protojson);
	return g_test_run();
}
