/* livekit.RoomService on the ops table (livekit.md 3.2): each method reads
 * its request (both casings), runs the operation it is — as the operator
 * for what the room-wide grants allow (roomCreate, roomList), as the
 * room's admin for roomAdmin + room — and writes the answer as LiveKit's
 * server does: snake_case, every scalar present, int64 as strings, enums
 * by name (livekit.md 1.4).  Room and ParticipantInfo are built from the
 * room module's public view of rooms and participants.
 *
 * Metadata and attributes go through the core's ops participant_update and
 * room_metadata (api/ops_rooms.c), which check their bounds. */
#include "livekit/livekit_private.h"

#include <string.h>

#include "api/api.h"
#include "room/room.h"

/* The room chat's bound (ops chat and post_chat). */
#define CHAT_TEXT_MAX 2000

/* ---- the request ---- */

/* A string field (both casings): true when absent (*out NULL) or a
 * string; false when it is something else (the request is malformed). */
bool sb_lk_string_field(json_t *body, const char *json_name, const char *proto_name,
                        const char **out)
{
	json_t *v = sb_lk_field(body, json_name, proto_name);
	*out = json_string_value(v);
	return !v || json_is_string(v);
}

int sb_lk_malformed(json_t **out)
{
	return sb_lk_twirp_error(out, "malformed", "the json request could not be decoded");
}

int sb_lk_room_missing(json_t **out)
{
	return sb_lk_twirp_error(out, "not_found", "requested room does not exist");
}

static int participant_missing(json_t **out)
{
	return sb_lk_twirp_error(out, "not_found", "participant does not exist");
}

/* The room a request names, by LiveKit's rules for names and ours. */
int sb_lk_room_name(json_t *body, const char *json_name, const char **name, json_t **out)
{
	if (!sb_lk_string_field(body, json_name, json_name, name))
		return sb_lk_malformed(out);
	if (!*name || !**name)
		return sb_lk_twirp_error(out, "invalid_argument", "missing room name");
	if (!sb_room_name_valid(*name))
		return sb_lk_twirp_error(
		        out, "invalid_argument",
		        "room names here are 1 to %d characters of A-Z a-z 0-9 . _ -",
		        SB_ROOM_NAME_MAX);
	return 0;
}

/* ---- the ops ---- */

/* An op's error as a Twirp error (0 when answer is no error). */
int sb_lk_op_failed(json_t *answer, json_t **out)
{
	json_t *code = json_object_get(answer, "error_code");
	if (!code)
		return 0;
	const char *text = json_string_value(json_object_get(answer, "error"));
	switch (json_integer_value(code)) {
	case SB_ERROR_NO_SUCH_ROOM:
		return sb_lk_room_missing(out);
	case SB_ERROR_NO_SUCH_PARTICIPANT:
		return participant_missing(out);
	case SB_ERROR_MISSING_ELEMENT:
	case SB_ERROR_INVALID_ELEMENT:
	case SB_ERROR_INVALID_REQUEST:
		return sb_lk_twirp_error(out, "invalid_argument", "%s", text ? text : "invalid");
	case SB_ERROR_UNAUTHORIZED:
		return sb_lk_twirp_error(out, "permission_denied", "%s", text ? text : "denied");
	case SB_ERROR_LIMIT:
		return sb_lk_twirp_error(out, "resource_exhausted", "%s", text ? text : "limit");
	case SB_ERROR_ROOM_EXISTS:
		return sb_lk_twirp_error(out, "already_exists", "%s", text ? text : "exists");
	default:
		return sb_lk_twirp_error(out, "internal", "%s", text ? text : "failed");
	}
}

/* Runs request (taken) as the operator, or as the admin of room: what
 * the token's grant proved.  Returns the op's answer. */
json_t *sb_lk_run(json_t *request, const char *admin_of)
{
	if (!admin_of)
		return sb_ops_run_trusted(request);
	sb_principal who = {.kind = SB_WHO_PARTICIPANT, .room_admin = true};
	g_strlcpy(who.identity, "livekit", sizeof(who.identity));
	g_strlcpy(who.role, "caller", sizeof(who.role));
	g_strlcpy(who.room, admin_of, sizeof(who.room));
	return sb_ops_run_as(request, &who, NULL);
}

/* Runs request; 0 with *answer set, or the Twirp error's status. */
int sb_lk_run_ok(json_t *request, const char *admin_of, json_t **answer, json_t **out)
{
	*answer = sb_lk_run(request, admin_of);
	int status = sb_lk_op_failed(*answer, out);
	if (status)
		g_clear_pointer(answer, json_decref);
	return status;
}

/* The room the body names ("room"), and op run on it as the operator
 * (as_admin false) or as its admin: {request: op, room} plus the fields of
 * extra (taken; NULL: none).  0 with *name and *answer set, or the Twirp
 * error's status. */
static int run_on_room(json_t *body, const char *op, json_t *extra, bool as_admin,
                       const char **name, json_t **answer, json_t **out)
{
	int status = sb_lk_room_name(body, "room", name, out);
	if (status) {
		json_decref(extra);
		return status;
	}
	json_t *request = extra ? extra : json_object();
	json_object_set_new(request, "request", json_string(op));
	json_object_set_new(request, "room", json_string(*name));
	return sb_lk_run_ok(request, as_admin ? *name : NULL, answer, out);
}

/* ---- the answers ---- */

static json_t *int64_string(gint64 v)
{
	char text[24];
	g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, v);
	return json_string(text);
}

/* A sid that stays the same for the life of one room of that name. */
char *sb_lk_room_sid(sb_room *room)
{
	char *seed = g_strdup_printf("%s\n%" G_GINT64_FORMAT, room->name, room->created_us);
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, seed, -1);
	char *sid = g_strdup_printf("RM_%.12s", hash);
	g_free(hash);
	g_free(seed);
	return sid;
}

static guint count_publishers(sb_room *room)
{
	GPtrArray *members = sb_room_participants(room);
	guint n = 0;
	for (guint i = 0; i < members->len; i++)
		n += !sb_participant_listen_only(g_ptr_array_index(members, i));
	g_ptr_array_unref(members);
	return n;
}

/* Room (Appendix A). */
json_t *sb_lk_room_info(sb_room *room)
{
	char *sid = sb_lk_room_sid(room);
	char *metadata = sb_room_dup_metadata(room);
	json_t *codecs = json_pack("[{ssss}]", "mime", "audio/opus", "fmtp_line", "");
	json_t *version =
	        json_pack("{sosi}", "unix_micro", int64_string(room->created_us), "ticks", 0);
	json_t *r = json_pack(
	        "{ss ss si si si so so ss so ss si si sb so}", "sid", sid, "name", room->name,
	        "empty_timeout", 0, "departure_timeout", 0, "max_participants",
	        sb_plugin_settings ? sb_plugin_settings->max_participants : 0, "creation_time",
	        int64_string(room->created_us / G_USEC_PER_SEC), "creation_time_ms",
	        int64_string(room->created_us / 1000), "turn_password", "", "enabled_codecs",
	        codecs, "metadata", metadata ? metadata : "", "num_participants",
	        (int)sb_room_count_participants(room), "num_publishers",
	        (int)count_publishers(room), "active_recording", false, "version", version);
	g_free(metadata);
	g_free(sid);
	return r;
}

/* LiveKit's identity of a participant: its token's, else one made of its
 * kind and id (phone legs, the AI agent, guests). */
static char *identity_of(sb_participant *p)
{
	return p->identity ? g_strdup(p->identity)
	                   : g_strdup_printf("%s-%" G_GUINT64_FORMAT, sb_kind_name(p->kind), p->id);
}

static char *track_sid(sb_participant *p)
{
	return g_strdup_printf("TR_AU%" G_GUINT64_FORMAT, p->id);
}

static const char *kind_name(sb_participant *p)
{
	switch (p->kind) {
	case SB_KIND_SIP:
	case SB_KIND_TWILIO:
		return "SIP";
	case SB_KIND_AGENT:
		return "AGENT";
	default:
		return "STANDARD";
	}
}

static const char *mime_type(sb_codec_id codec)
{
	switch (codec) {
	case SB_CODEC_PCMU:
		return "audio/PCMU";
	case SB_CODEC_PCMA:
		return "audio/PCMA";
	case SB_CODEC_G722:
		return "audio/G722";
	default:
		return "audio/opus";
	}
}

/* TrackInfo of the participant's one audio track. */
static json_t *track_info(sb_participant *p)
{
	char *sid = track_sid(p);
	json_t *t = json_pack("{ss ss ss sb si si ss ss ss so sb ss ss}", "sid", sid, "type",
	                      "AUDIO", "name", "microphone", "muted", sb_participant_muted(p),
	                      "width", 0, "height", 0, "source", "MICROPHONE", "mime_type",
	                      mime_type(p->codec), "mid", "", "codecs", json_array(), "disable_red",
	                      false, "encryption", "NONE", "stream", "");
	g_free(sid);
	return t;
}

/* sip.* attributes of a phone leg (livekit.md 3.1), from what its
 * transport recorded about the call: the number is the other party's
 * (the caller's on an inbound call, the callee's on an outbound one). */
static void add_sip_attributes(sb_participant *p, json_t *attributes)
{
	if (p->kind != SB_KIND_SIP && p->kind != SB_KIND_TWILIO)
		return;
	json_t *info = p->info;
	const char *call_id = json_string_value(json_object_get(info, "call_id"));
	const char *call_sid = json_string_value(json_object_get(info, "call_sid"));
	const char *account_sid = json_string_value(json_object_get(info, "account_sid"));
	bool outbound =
	        !g_strcmp0(json_string_value(json_object_get(info, "direction")), "outbound");
	const char *number = json_string_value(json_object_get(info, outbound ? "to" : "from"));
	if (call_id || call_sid)
		json_object_set_new(attributes, "sip.callID",
		                    json_string(call_id ? call_id : call_sid));
	if (call_sid)
		json_object_set_new(attributes, "sip.twilio.callSid", json_string(call_sid));
	if (account_sid)
		json_object_set_new(attributes, "sip.twilio.accountSid", json_string(account_sid));
	/* A leg dialled through a stored trunk was dialled as a URI
	 * (sip:+1415…@host): its number is the URI's user. */
	const char *user = number && (g_str_has_prefix(number, "sip:") ||
	                              g_str_has_prefix(number, "sips:"))
	                           ? strchr(number, ':') + 1
	                           : NULL;
	const char *at = user ? strchr(user, '@') : NULL;
	if (at)
		json_object_set_new(attributes, "sip.phoneNumber",
		                    json_stringn(user, (size_t)(at - user)));
	else if (number)
		json_object_set_new(attributes, "sip.phoneNumber", json_string(number));
	json_object_set_new(attributes, "sip.callStatus", json_string("active"));
}

/* ParticipantInfo (Appendix A). */
json_t *sb_lk_participant_info(sb_participant *p)
{
	bool publishes = !sb_participant_listen_only(p);
	char *identity = identity_of(p);
	char *sid = g_strdup_printf("PA_%" G_GUINT64_FORMAT, p->id);
	char *name = sb_participant_dup_display(p);
	char *metadata = sb_participant_dup_metadata(p);
	json_t *attributes = sb_participant_attributes(p);
	add_sip_attributes(p, attributes);
	json_t *tracks = json_array();
	if (publishes)
		json_array_append_new(tracks, track_info(p));
	json_t *permission = json_pack(
	        "{sb sb sb so sb sb sb sb sb sb}", "can_subscribe", true, "can_publish", publishes,
	        "can_publish_data", publishes, "can_publish_sources", json_array(), "hidden", false,
	        "recorder", false, "can_update_metadata", false, "agent", p->kind == SB_KIND_AGENT,
	        "can_subscribe_metrics", false, "can_manage_agent_session", false);
	json_t *info = json_pack(
	        "{ss ss ss so ss so so ss si so ss sb ss so ss so so si so}", "sid", sid,
	        "identity", identity, "state", sb_participant_media_ready(p) ? "ACTIVE" : "JOINED",
	        "tracks", tracks, "metadata", metadata ? metadata : "", "joined_at",
	        int64_string(p->joined_us / G_USEC_PER_SEC), "joined_at_ms",
	        int64_string(p->joined_us / 1000), "name", name ? name : "", "version", 0,
	        "permission", permission, "region", "", "is_publisher", publishes, "kind",
	        kind_name(p), "attributes", attributes, "disconnect_reason", "UNKNOWN_REASON",
	        "kind_details", json_array(), "data_tracks", json_array(), "client_protocol", 0,
	        "capabilities", json_array());
	g_free(identity);
	g_free(sid);
	g_free(name);
	g_free(metadata);
	return info;
}

/* The room (referenced) and the participant of that identity in it
 * (referenced), after the op that lists them said the caller may see
 * them; or the Twirp error's status. */
static int find_participant(json_t *body, const char *room_name_text, sb_room **room_out,
                            sb_participant **out, json_t **error)
{
	const char *identity;
	if (!sb_lk_string_field(body, "identity", "identity", &identity))
		return sb_lk_malformed(error);
	if (!identity || !*identity)
		return sb_lk_twirp_error(error, "invalid_argument", "missing participant identity");
	json_t *answer;
	int status = sb_lk_run_ok(
	        json_pack("{ssss}", "request", "listparticipants", "room", room_name_text),
	        room_name_text, &answer, error);
	if (status)
		return status;
	json_decref(answer);
	sb_room *room = sb_room_find(room_name_text);
	if (!room)
		return sb_lk_room_missing(error);
	GPtrArray *members = sb_room_participants(room);
	sb_participant *found = NULL;
	for (guint i = 0; i < members->len && !found; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		char *id = identity_of(p);
		if (!strcmp(id, identity)) {
			found = p;
			sb_participant_ref(p);
		}
		g_free(id);
	}
	g_ptr_array_unref(members);
	if (!found) {
		sb_room_unref(room);
		return participant_missing(error);
	}
	*room_out = room;
	*out = found;
	return 0;
}

/* {room, id, …}: the request of an op on one participant. */
static json_t *participant_request(const char *op, sb_room *room, sb_participant *p)
{
	return json_pack("{sssssI}", "request", op, "room", room->name, "id", (json_int_t)p->id);
}

/* ---- RoomService ---- */

static int create_room(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *name, *metadata;
	int status = sb_lk_room_name(body, "name", &name, out);
	if (status)
		return status;
	if (!sb_lk_string_field(body, "metadata", "metadata", &metadata))
		return sb_lk_malformed(out);
	/* Checked before the room is made: a refusal makes nothing. */
	if (metadata && strlen(metadata) > SB_METADATA_MAX)
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "metadata is longer than %d bytes", SB_METADATA_MAX);
	/* Get-or-create, as LiveKit's CreateRoom: an existing room is the
	 * answer.  A room made here lasts until DeleteRoom. */
	sb_room *room = sb_room_find(name);
	if (!room) {
		json_t *answer = sb_lk_run(json_pack("{sssssb}", "request", "create", "room", name,
		                                     "ephemeral", false),
		                           NULL);
		status = sb_lk_op_failed(answer, out);
		json_decref(answer);
		/* There now, made here or by someone else meanwhile. */
		room = sb_room_find(name);
		if (!room)
			return status ? status : sb_lk_room_missing(out);
		g_clear_pointer(out, json_decref);
		if (!status && metadata && *metadata)
			json_decref(sb_lk_run(json_pack("{ssssss}", "request", "room_metadata",
			                                "room", name, "metadata", metadata),
			                      NULL));
	}
	if (!room)
		return sb_lk_room_missing(out);
	*out = sb_lk_room_info(room);
	sb_room_unref(room);
	return 200;
}

static int list_rooms(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	json_t *names = sb_lk_field(body, "names", "names");
	if (names && !json_is_array(names))
		return sb_lk_malformed(out);
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v) if (!json_is_string(v)) return sb_lk_malformed(out);
	json_t *answer;
	int status = sb_lk_run_ok(json_pack("{ss}", "request", "list"), NULL, &answer, out);
	if (status)
		return status;
	json_t *rooms = json_array();
	json_array_foreach(json_object_get(answer, "list"), i, v)
	{
		const char *name = json_string_value(json_object_get(v, "room"));
		bool wanted = json_array_size(names) == 0;
		size_t j;
		json_t *n;
		json_array_foreach(names, j, n) wanted =
		        wanted || !g_strcmp0(json_string_value(n), name);
		sb_room *room = wanted && name ? sb_room_find(name) : NULL;
		if (room) {
			json_array_append_new(rooms, sb_lk_room_info(room));
			sb_room_unref(room);
		}
	}
	json_decref(answer);
	*out = json_pack("{so}", "rooms", rooms);
	return 200;
}

static int delete_room(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *name;
	json_t *answer;
	int status = run_on_room(body, "destroy", NULL, false, &name, &answer, out);
	if (status)
		return status;
	json_decref(answer);
	*out = json_object();
	return 200;
}

static int list_participants(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *name;
	json_t *answer;
	int status = run_on_room(body, "listparticipants", NULL, true, &name, &answer, out);
	if (status)
		return status;
	sb_room *room = sb_room_find(name);
	json_t *list = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(answer, "participants"), i, v)
	{
		json_int_t id = json_integer_value(json_object_get(v, "id"));
		sb_participant *p = room ? sb_room_find_participant(room, (guint64)id) : NULL;
		if (p) {
			json_array_append_new(list, sb_lk_participant_info(p));
			sb_participant_unref(p);
		}
	}
	json_decref(answer);
	if (!room) {
		json_decref(list);
		return sb_lk_room_missing(out);
	}
	sb_room_unref(room);
	*out = json_pack("{so}", "participants", list);
	return 200;
}

/* The room the body names and the participant it names in it; or the
 * Twirp error's status. */
static int named_participant(json_t *body, sb_room **room, sb_participant **p, json_t **out)
{
	const char *name;
	int status = sb_lk_room_name(body, "room", &name, out);
	return status ? status : find_participant(body, name, room, p, out);
}

static int get_participant(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	sb_room *room;
	sb_participant *p;
	int status = named_participant(body, &room, &p, out);
	if (status)
		return status;
	*out = sb_lk_participant_info(p);
	sb_participant_unref(p);
	sb_room_unref(room);
	return 200;
}

static int remove_participant(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	sb_room *room;
	sb_participant *p;
	int status = named_participant(body, &room, &p, out);
	if (status)
		return status;
	json_t *answer;
	status = sb_lk_run_ok(participant_request("kick", room, p), claims->room, &answer, out);
	sb_participant_unref(p);
	sb_room_unref(room);
	if (status)
		return status;
	json_decref(answer);
	*out = json_object();
	return 200;
}

static int mute_published_track(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	const char *track;
	json_t *muted = sb_lk_field(body, "muted", "muted");
	if (!sb_lk_string_field(body, "trackSid", "track_sid", &track) ||
	    (muted && !json_is_boolean(muted)))
		return sb_lk_malformed(out);
	sb_room *room;
	sb_participant *p;
	int status = named_participant(body, &room, &p, out);
	if (status)
		return status;
	char *sid = track_sid(p);
	bool ours = track && !strcmp(track, sid) && !sb_participant_listen_only(p);
	g_free(sid);
	json_t *answer = NULL;
	if (!ours)
		status = sb_lk_twirp_error(out, "not_found", "track is not found");
	else
		status = sb_lk_run_ok(
		        participant_request(json_is_true(muted) ? "mute" : "unmute", room, p),
		        claims->room, &answer, out);
	if (!status) {
		json_decref(answer);
		*out = json_pack("{so}", "track", track_info(p));
		status = 200;
	}
	sb_participant_unref(p);
	sb_room_unref(room);
	return status;
}

static int update_participant(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	const char *name, *metadata;
	json_t *attributes = sb_lk_field(body, "attributes", "attributes");
	if (!sb_lk_string_field(body, "name", "name", &name) ||
	    !sb_lk_string_field(body, "metadata", "metadata", &metadata))
		return sb_lk_malformed(out);
	if (attributes && !json_is_object(attributes))
		return sb_lk_malformed(out);
	/* The op checks the bounds (invalid_argument) before it changes
	 * anything. */
	int status;
	sb_room *room;
	sb_participant *p;
	if ((status = named_participant(body, &room, &p, out)))
		return status;
	/* Empty name and metadata are left as they are (LiveKit: "skipping
	 * updates if left empty"). */
	json_t *request = participant_request("participant_update", room, p);
	if (name && *name)
		json_object_set_new(request, "display", json_string(name));
	if (metadata && *metadata)
		json_object_set_new(request, "metadata", json_string(metadata));
	if (attributes)
		json_object_set(request, "attributes", attributes);
	json_t *answer;
	status = sb_lk_run_ok(request, claims->room, &answer, out);
	if (!status) {
		json_decref(answer);
		*out = sb_lk_participant_info(p);
		status = 200;
	}
	sb_participant_unref(p);
	sb_room_unref(room);
	return status;
}

static int update_room_metadata(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *name, *metadata;
	if (!sb_lk_string_field(body, "metadata", "metadata", &metadata))
		return sb_lk_malformed(out);
	json_t *answer;
	int status = run_on_room(body, "room_metadata",
	                         json_pack("{ss}", "metadata", metadata ? metadata : ""), true,
	                         &name, &answer, out);
	if (status)
		return status;
	json_decref(answer);
	sb_room *room = sb_room_find(name);
	if (!room)
		return sb_lk_room_missing(out);
	*out = sb_lk_room_info(room);
	sb_room_unref(room);
	return 200;
}

/* SendData's payload as a chat line: base64 of UTF-8 text. */
static int data_text(json_t *body, char **text, json_t **out)
{
	const char *data, *nonce;
	if (!sb_lk_string_field(body, "data", "data", &data) ||
	    !sb_lk_string_field(body, "nonce", "nonce", &nonce))
		return sb_lk_malformed(out);
	gsize nonce_len = 0;
	guchar *nonce_bytes = nonce ? g_base64_decode(nonce, &nonce_len) : NULL;
	g_free(nonce_bytes);
	if (nonce && nonce_len != 16)
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "nonce should be 16-bytes or not present, got: %zu bytes",
		                         (size_t)nonce_len);
	gsize len = 0;
	guchar *bytes =
	        data && strlen(data) <= CHAT_TEXT_MAX * 8 ? g_base64_decode(data, &len) : NULL;
	if (!bytes || len == 0 || !g_utf8_validate((const char *)bytes, (gssize)len, NULL) ||
	    memchr(bytes, 0, len) ||
	    g_utf8_strlen((const char *)bytes, (gssize)len) > CHAT_TEXT_MAX) {
		g_free(bytes);
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "data goes to the room's chat here: 1 to %d characters of "
		                         "UTF-8 text, base64-encoded",
		                         CHAT_TEXT_MAX);
	}
	*text = g_strndup((const char *)bytes, len);
	g_free(bytes);
	return 0;
}

static int send_data(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	const char *name, *topic;
	int status = sb_lk_room_name(body, "room", &name, out);
	if (status)
		return status;
	if (!sb_lk_string_field(body, "topic", "topic", &topic) || (topic && strlen(topic) > 256))
		return topic ? sb_lk_twirp_error(out, "invalid_argument",
		                                 "topic is up to 256 bytes")
		             : sb_lk_malformed(out);
	/* The chat reaches the whole room: a message meant for some would
	 * reach all, so it is refused rather than sent. */
	json_t *to = sb_lk_field(body, "destinationIdentities", "destination_identities");
	json_t *sids = sb_lk_field(body, "destinationSids", "destination_sids");
	if ((to && !json_is_array(to)) || (sids && !json_is_array(sids)))
		return sb_lk_malformed(out);
	if (json_array_size(to) || json_array_size(sids))
		return sb_lk_twirp_error(
		        out, "unimplemented",
		        "SendData to some participants is not supported yet: data goes "
		        "to the whole room's chat");
	char *text = NULL;
	if ((status = data_text(body, &text, out)))
		return status;
	json_t *request = json_pack("{ssssss}", "request", "post_chat", "room", name, "text", text);
	if (topic && *topic)
		json_object_set_new(request, "topic", json_string(topic));
	g_free(text);
	json_t *answer;
	if ((status = sb_lk_run_ok(request, claims->room, &answer, out)))
		return status;
	json_decref(answer);
	*out = json_object();
	return 200;
}

const sb_lk_method sb_lk_room_service[] = {
        {"CreateRoom", create_room, NULL},
        {"ListRooms", list_rooms, NULL},
        {"DeleteRoom", delete_room, NULL},
        {"ListParticipants", list_participants, NULL},
        {"GetParticipant", get_participant, NULL},
        {"RemoveParticipant", remove_participant, NULL},
        {"MutePublishedTrack", mute_published_track, NULL},
        {"UpdateParticipant", update_participant, NULL},
        {"UpdateRoomMetadata", update_room_metadata, NULL},
        {"SendData", send_data, NULL},
};
const size_t sb_lk_room_service_count = G_N_ELEMENTS(sb_lk_room_service);
