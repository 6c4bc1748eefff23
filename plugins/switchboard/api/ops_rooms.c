/* The core operations on rooms and participants: create, destroy, list,
 * join, configure, leave, kick, mute, rtp_join, agent, chat, say,
 * transcript (api.h says who calls them). */
#include "api/api_private.h"

#include <stdarg.h>
#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"
#include "endpoints/endpoints.h"
#include "media/media.h"
#include "room/room.h"

/* The modules' part in create and join (api.h): set at start-up, before
 * any request runs, and read without a lock from then on. */
#define MAX_JOIN_HOOKS 4
static sb_join_answer_hook join_hooks[MAX_JOIN_HOOKS];
static size_t join_hook_count;
static sb_agent_config_check agent_config_check;
static sb_join_token_verifier join_token_verifier;

void sb_ops_register_join_answer(sb_join_answer_hook hook)
{
	g_assert(join_hook_count < MAX_JOIN_HOOKS);
	join_hooks[join_hook_count++] = hook;
}

void sb_ops_register_agent_config_check(sb_agent_config_check check)
{
	agent_config_check = check;
}

void sb_ops_register_join_token_verifier(sb_join_token_verifier verifier)
{
	join_token_verifier = verifier;
}

void sb_room_ops_forget_hooks(void)
{
	join_hook_count = 0;
	agent_config_check = NULL;
	join_token_verifier = NULL;
}

sb_token_status sb_ops_join_token_verify(const char *token, const char *room,
                                         sb_join_claims *claims)
{
	sb_token_status ours =
	        sb_auth_token_verify(sb_plugin_settings->jwt_secret, token, room, claims);
	if (ours == SB_TOKEN_OK || !join_token_verifier)
		return ours;
	sb_join_claims other;
	sb_token_status theirs = (sb_token_status)join_token_verifier(token, room, &other);
	if (theirs == SB_TOKEN_MALFORMED)
		return ours;
	*claims = other;
	return theirs;
}

/* Joining a room with a pin needs it (the operator excepted). */
static bool pin_ok(json_t *body, sb_op_ctx *ctx, sb_room *room)
{
	if (!room->pin || sb_op_by_operator(ctx))
		return true;
	const char *pin = str(body, "pin");
	return pin && sb_auth_equal(pin, room->pin);
}

/* The fields checked, then the room they name (sb_ops_room). */
static json_t *fields_and_room(json_t *body, sb_op_ctx *ctx, const field *fields, sb_room **room)
{
	json_t *err = check_fields(body, fields);
	return err ? err : sb_ops_room(body, ctx, room);
}

/* {"switchboard": kind, "room": name}: how most answers here start. */
static json_t *room_answer(const char *kind, sb_room *room)
{
	json_t *r = sb_ops_answer(kind);
	json_object_set_new(r, "room", json_string(room->name));
	return r;
}

/* ---- rooms ---- */

/* A back end's text about the room; when it is a JSON object, its string
 * members are also the call's context ({{variables}}, room.h), within
 * the variables' bounds (what breaks them is dropped and logged). */
static void set_metadata(sb_room *room, const char *metadata, sb_op_ctx *ctx)
{
	sb_room_set_metadata(room, metadata);
	/* The context reaches business tools: only the operator (or its back
	 * end, LiveKit's CreateRoom) vouches for it, not a room's admin. */
	if (!sb_op_by_operator(ctx))
		return;
	json_t *parsed = metadata && *metadata == '{' ? json_loads(metadata, 0, NULL) : NULL;
	if (json_is_object(parsed))
		sb_room_merge_variables(room, parsed, "room metadata");
	json_decref(parsed);
}

/* A refusal naming the node that holds the room (cluster/): where to go. */
static json_t *elsewhere(json_t *error, const char *name)
{
	json_t *where = sb_room_locate(name);
	if (where)
		json_object_set_new(error, "location", where);
	return error;
}

static json_t *op_create(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {{"room", F_STRING, false, SB_ROOM_NAME_MAX, 0},
	                               {"description", F_STRING, false, SB_DESCRIPTION_MAX, 0},
	                               SECRET_FIELD,
	                               {"pin", F_STRING, false, SB_SECRET_MAX, 0},
	                               {"sampling_rate", F_INTEGER, false, 48000, 8000},
	                               {"ephemeral", F_BOOLEAN, false, 0, 0},
	                               {"admin_key", F_STRING, false, SB_SECRET_MAX, 0},
	                               {"require_token", F_BOOLEAN, false, 0, 0},
	                               {"agent", F_BOOLEAN, false, 0, 0},
	                               {"metadata", F_STRING, false, SB_METADATA_MAX, 0},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	json_t *agent_config = json_object_get(body, "agent_config");
	if (agent_config && !json_is_object(agent_config))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (agent_config should be an object)");
	const sb_settings *cfg = sb_plugin_settings;
	/* Who is not the operator creates a guest room (docs/security.md):
	 * ephemeral, no agent config, within the guests' limits — unless they
	 * know the configured admin_key (AudioBridge's convention). */
	bool trusted = sb_op_by_operator(ctx);
	if (!trusted && cfg->admin_key && str(body, "admin_key")) {
		if (!sb_auth_equal(str(body, "admin_key"), cfg->admin_key))
			return sb_ops_error(SB_ERROR_UNAUTHORIZED,
			                    "Unauthorized (wrong admin_key)");
		trusted = true;
	}
	if (!trusted && (err = sb_ops_guest_room_error(body, ctx)))
		return err;
	if (agent_config && !sb_op_by_operator(ctx))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (agent_config is the operator's)");
	/* Metadata becomes the call's context, which business tools read:
	 * only the operator vouches for it at creation (room_metadata later
	 * needs the room's admin). */
	if (json_object_get(body, "metadata") && !sb_op_by_operator(ctx))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (metadata at creation is the operator's)");
	if (agent_config && agent_config_check && (err = agent_config_check(agent_config)))
		return err;
	const char *name = str(body, "room");
	if (name && (err = sb_ops_room_name_error(name)))
		return err;
	int rate = (int)json_integer_value(json_object_get(body, "sampling_rate"));
	if (rate && rate != 16000 && rate != 48000)
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "sampling_rate must be 16000 or 48000");
	json_t *eph = json_object_get(body, "ephemeral");
	sb_room_params params = {
	        .name = name,
	        .description = str(body, "description"),
	        .secret = str(body, "secret"),
	        .pin = str(body, "pin"),
	        .sampling_rate = rate,
	        .ephemeral = eph ? json_is_true(eph) : cfg->ephemeral_rooms,
	        .require_token = json_is_true(json_object_get(body, "require_token")),
	        .agent = json_is_true(json_object_get(body, "agent")),
	        .agent_config = agent_config,
	};
	sb_room *room = NULL;
	char *why = NULL;
	sb_error rc = sb_room_create_placed(&params, &room, &why);
	if (rc != SB_OK) {
		json_t *e = rc == SB_ERROR_ROOM_EXISTS
		                    ? sb_ops_error(rc, "Room %s already exists", name)
		            : why ? sb_ops_error(rc, "%s", why)
		            : rc == SB_ERROR_LIMIT
		                    ? sb_ops_error(rc, "Too many rooms (max_rooms = %d)",
		                                   cfg->max_rooms)
		                    : sb_ops_error(rc, "Could not create the room");
		g_free(why);
		if (rc == SB_ERROR_LIMIT) { /* a cluster: where new rooms go now */
			json_t *there = sb_room_least_loaded();
			if (there)
				json_object_set_new(e, "location", there);
		}
		return rc == SB_ERROR_ROOM_ELSEWHERE ? elsewhere(e, name) : e;
	}
	if (str(body, "metadata"))
		set_metadata(room, str(body, "metadata"), ctx);
	json_t *r = room_answer("created", room);
	json_object_set_new(r, "ephemeral", json_boolean(room->ephemeral));
	json_object_set_new(r, "sampling_rate", json_integer(room->sampling_rate));
	json_object_set_new(r, "require_token", json_boolean(room->require_token));
	json_object_set_new(r, "agent", json_boolean(sb_room_agent_enabled(room)));
	if (!trusted)
		sb_ops_guest_room_made(room->name);
	if (!sb_op_by_operator(ctx)) {
		/* Whoever made the room steers it: an admin token for it. */
		char *token = sb_ops_room_admin_token(room->name);
		if (token)
			json_object_set_new(r, "token", json_string(token));
		g_free(token);
	}
	sb_room_unref(room);
	return r;
}

static json_t *op_destroy(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD, SECRET_FIELD, {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	sb_room_destroy(room);
	json_t *r = room_answer("destroyed", room);
	sb_room_unref(room);
	return r;
}

static json_t *op_exists(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	static const field fields[] = {ROOM_FIELD, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	const char *name = str(body, "room");
	sb_room *room = sb_room_find(name);
	json_t *r = success();
	json_object_set_new(r, "room", json_string(name));
	json_object_set_new(r, "exists", json_boolean(room != NULL));
	if (room)
		sb_room_unref(room);
	return r;
}

static json_t *op_list(json_t *body, sb_op_ctx *ctx)
{
	/* The Admin API may ask for the private rooms too (desks, consult
	 * rooms): what a leak check needs to see. */
	bool all = sb_op_by_operator(ctx) && json_is_true(json_object_get(body, "hidden"));
	GPtrArray *rooms = all ? sb_rooms_list_all() : sb_rooms_list();
	json_t *list = json_array();
	for (guint i = 0; i < rooms->len; i++)
		json_array_append_new(list, sb_room_to_json(g_ptr_array_index(rooms, i)));
	g_ptr_array_unref(rooms);
	json_t *r = success();
	json_object_set_new(r, "list", list);
	return r;
}

static json_t *participants_json(sb_room *room, sb_participant *except)
{
	GPtrArray *members = sb_room_participants(room);
	json_t *list = json_array();
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p != except)
			json_array_append_new(list, sb_participant_to_json(p));
	}
	g_ptr_array_unref(members);
	return list;
}

static json_t *op_listparticipants(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD, {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	json_t *r = room_answer("participants", room);
	json_object_set_new(r, "participants", participants_json(room, NULL));
	sb_room_unref(room);
	return r;
}

/* ---- participants ---- */

static sb_join_room_maker join_room_maker;

void sb_ops_set_join_room_maker(sb_join_room_maker maker)
{
	g_atomic_pointer_set(&join_room_maker, maker);
}

static json_t *op_join(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD,
	                               {"display", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"pin", F_STRING, false, SB_SECRET_MAX, 0},
	                               {"muted", F_BOOLEAN, false, 0, 0},
	                               {"role", F_STRING, false, 16, 0},
	                               /* LiveKit tokens carry the participant's
	                                * metadata: room for a few KiB of it. */
	                               {"token", F_STRING, false, 8192, 0},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	if ((err = sb_ops_role_error(str(body, "role"))))
		return err;
	sb_participant *existing = sb_session_participant(ctx->session);
	if (existing) {
		sb_participant_unref(existing);
		return sb_ops_error(SB_ERROR_ALREADY_JOINED, "Already in a room (leave first)");
	}
	const char *name = str(body, "room");
	if ((err = sb_ops_room_name_error(name)))
		return err;
	sb_room *room = sb_room_find(name);
	if (!room && sb_plugin_settings->auto_create && !str(body, "token") &&
	    !sb_ops_guest_room_error(NULL, ctx)) {
		sb_room_params params = {.name = name, .ephemeral = true};
		sb_error rc = sb_room_create(&params, &room);
		if (rc == SB_OK)
			sb_ops_guest_room_made(name);
		if (rc == SB_ERROR_ROOM_EXISTS) /* created by someone else meanwhile */
			room = sb_room_find(name);
	}
	sb_join_room_maker maker = g_atomic_pointer_get(&join_room_maker);
	if (!room && str(body, "token") && maker && maker(name, str(body, "token")))
		room = sb_room_find(name);
	if (!room) /* a cluster: the room may live on another node, which says so */
		return sb_ops_room_missing(name);
	if (!pin_ok(body, ctx, room)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (wrong pin)");
	}
	/* A token, when given, is always checked; rooms that require one
	 * (and private rooms: desks, consult rooms) refuse joins without.  Its
	 * claims override what the client says; without one, the client is a
	 * caller, whatever role it asks for. */
	sb_join_claims claims = {0};
	const char *token = str(body, "token");
	bool needs_token = room->require_token || room->hidden || sb_plugin_settings->require_token;
	if (!token && needs_token) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (this room needs a join token)");
	}
	if (!token && str(body, "role") && strcmp(str(body, "role"), "caller")) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (role %s needs a join token that grants it)",
		                    str(body, "role"));
	}
	if (token) {
		sb_token_status ts = sb_ops_join_token_verify(token, room->name, &claims);
		if (ts != SB_TOKEN_OK) {
			sb_room_unref(room);
			return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (%s)",
			                    sb_token_status_text(ts));
		}
		if (claims.role && !sb_ops_role_valid(claims.role)) {
			sb_join_claims_clear(&claims);
			sb_room_unref(room);
			return sb_ops_error(SB_ERROR_UNAUTHORIZED,
			                    "Unauthorized (token has an unknown role)");
		}
		sb_principal who;
		sb_principal_from_claims(&who, &claims);
		sb_ops_session_set_principal(ctx->session, &who);
	}
	/* A token's name is who the backend says joins: it wins. */
	const char *display = claims.name ? claims.name : str(body, "display");
	sb_participant *p = sb_web_participant_new(
	        ctx->session, display, claims.role ? claims.role : "caller", claims.identity,
	        json_is_true(json_object_get(body, "muted")), room->sampling_rate);
	if (p && claims.metadata)
		sb_participant_set_metadata(p, claims.metadata);
	if (p && claims.listen_only)
		sb_participant_set_listen_only(p);
	sb_join_claims_clear(&claims);
	if (!p) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_UNKNOWN, "Could not set up the participant's codecs");
	}
	if (ctx->jsep) {
		char text[256];
		sb_error code = SB_OK;
		ctx->jsep_out = sb_webrtc_answer(p, ctx->jsep, &code, text, sizeof(text));
		if (!ctx->jsep_out) {
			sb_participant_unref(p);
			sb_room_unref(room);
			return sb_ops_error(code, "%s", text);
		}
	}
	sb_session_set_participant(ctx->session, p);
	sb_error rc = sb_room_add(room, p);
	if (rc != SB_OK) {
		sb_session_set_participant(ctx->session, NULL);
		sb_participant_unref(p);
		sb_room_unref(room);
		json_decref(ctx->jsep_out);
		ctx->jsep_out = NULL;
		return sb_ops_error(rc, rc == SB_ERROR_LIMIT ? "Room is full" : "Room is gone");
	}
	if (sb_session_started(ctx->session))
		sb_participant_set_media_ready(p, true);
	json_t *r = room_answer("joined", room);
	json_object_set_new(r, "id", json_integer((json_int_t)p->id));
	g_autofree char *shown = sb_participant_dup_display(p);
	if (shown)
		json_object_set_new(r, "display", json_string(shown));
	json_object_set_new(r, "participants", participants_json(room, p));
	json_object_set_new(r, "me", sb_participant_to_json(p));
	json_object_set_new(r, "agent", json_boolean(sb_room_agent_enabled(room)));
	for (size_t i = 0; i < join_hook_count; i++)
		join_hooks[i](room, p, r);
	JANUS_LOG(LOG_INFO, "[switchboard] %" G_GUINT64_FORMAT " (%s) joined %s\n", p->id,
	          shown ? shown : "", room->name);
	sb_participant_unref(p);
	sb_room_unref(room);
	return r;
}

static void announce_change(sb_room *room, sb_participant *p)
{
	json_t *ev = sb_room_event(room, "event");
	json_t *list = json_array();
	json_array_append_new(list, sb_participant_to_json(p));
	json_object_set_new(ev, "participants", list);
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
}

static json_t *op_configure(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {{"muted", F_BOOLEAN, false, 0, 0},
	                               {"display", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	sb_participant *p = sb_session_participant(ctx->session);
	if (!p)
		return sb_ops_error(SB_ERROR_NOT_JOINED, "Not in a room (join first)");
	if (str(body, "display") && p->identity) {
		/* Joined with a token: the name is the backend's, not ours. */
		sb_participant_unref(p);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (the join token sets the display name)");
	}
	if (ctx->jsep) {
		char text[256];
		sb_error code = SB_OK;
		ctx->jsep_out = sb_webrtc_answer(p, ctx->jsep, &code, text, sizeof(text));
		if (!ctx->jsep_out) {
			sb_participant_unref(p);
			return sb_ops_error(code, "%s", text);
		}
	}
	bool changed = false;
	json_t *muted = json_object_get(body, "muted");
	if (muted && sb_participant_set_muted(p, json_is_true(muted)))
		changed = true;
	const char *display = str(body, "display");
	if (display) {
		sb_participant_set_display(p, display);
		changed = true;
	}
	sb_room *room = sb_participant_room(p);
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("event"));
	if (room) {
		json_object_set_new(r, "room", json_string(room->name));
		if (changed)
			announce_change(room, p);
		sb_room_unref(room);
	}
	json_object_set_new(r, "result", json_string("ok"));
	sb_participant_unref(p);
	return r;
}

static json_t *op_leave(json_t *body, sb_op_ctx *ctx)
{
	(void)body;
	sb_participant *p = sb_session_participant(ctx->session);
	if (!p)
		return sb_ops_error(SB_ERROR_NOT_JOINED, "Not in a room");
	sb_room *room = sb_participant_room(p);
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("left"));
	json_object_set_new(r, "id", json_integer((json_int_t)p->id));
	if (room) {
		json_object_set_new(r, "room", json_string(room->name));
		sb_room_remove(room, p, "leaving");
		sb_room_unref(room);
	}
	sb_session_set_participant(ctx->session, NULL);
	sb_participant_unref(p);
	return r;
}

/* The participant named by body.room + body.id, secret checked. */
static json_t *target_from_body(json_t *body, sb_op_ctx *ctx, sb_room **room_out,
                                sb_participant **out)
{
	static const field fields[] = {ROOM_FIELD, ID_FIELD, SECRET_FIELD, {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	guint64 id = (guint64)json_integer_value(json_object_get(body, "id"));
	sb_participant *p = sb_room_find_participant(room, id);
	if (!p) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_NO_SUCH_PARTICIPANT,
		                    "No such participant (%" G_GUINT64_FORMAT ")", id);
	}
	*room_out = room;
	*out = p;
	return NULL;
}

static json_t *op_kick(json_t *body, sb_op_ctx *ctx)
{
	sb_room *room;
	sb_participant *p;
	json_t *err = target_from_body(body, ctx, &room, &p);
	if (err)
		return err;
	if (p->ops && p->ops->send_event) {
		json_t *ev = sb_room_event(room, "kicked");
		json_object_set_new(ev, "id", json_integer((json_int_t)p->id));
		p->ops->send_event(p, ev);
		json_decref(ev);
	}
	sb_room_remove(room, p, "kicked");
	sb_participant_unref(p);
	sb_room_unref(room);
	return success();
}

static json_t *set_muted(json_t *body, sb_op_ctx *ctx, bool muted)
{
	sb_room *room;
	sb_participant *p;
	json_t *err = target_from_body(body, ctx, &room, &p);
	if (err)
		return err;
	json_t *flag = json_object_get(body, "muted");
	if (flag && !json_is_boolean(flag)) {
		sb_participant_unref(p);
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (muted should be a boolean)");
	}
	if (flag)
		muted = json_is_true(flag);
	if (sb_participant_set_muted(p, muted))
		announce_change(room, p);
	sb_participant_unref(p);
	sb_room_unref(room);
	return success();
}

static json_t *op_mute(json_t *body, sb_op_ctx *ctx)
{
	return set_muted(body, ctx, true);
}
static json_t *op_unmute(json_t *body, sb_op_ctx *ctx)
{
	return set_muted(body, ctx, false);
}

static json_t *op_rtp_join(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD,
	                               {"ip", F_STRING, true, 64, 0},
	                               {"port", F_INTEGER, true, 65535, 1},
	                               {"codec", F_STRING, true, 16, 0},
	                               {"display", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"payload_type", F_INTEGER, false, 127, 0},
	                               {"audio_level_ext", F_INTEGER, false, 14, 1},
	                               {"pin", F_STRING, false, SB_SECRET_MAX, 0},
	                               {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	if (!pin_ok(body, ctx, room)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (wrong pin)");
	}
	sb_codec_id codec;
	if (!sb_codec_from_name(str(body, "codec"), &codec)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Unsupported codec (opus, pcmu, pcma, g722)");
	}
	json_t *pt = json_object_get(body, "payload_type");
	sb_rtp_endpoint_params params = {
	        .remote_ip = str(body, "ip"),
	        .remote_port = (uint16_t)json_integer_value(json_object_get(body, "port")),
	        .display = str(body, "display"),
	        .codec = codec,
	        .payload_type = pt ? (int)json_integer_value(pt) : -1,
	        .audio_level_ext_id =
	                (int)json_integer_value(json_object_get(body, "audio_level_ext")),
	        .sampling_rate = room->sampling_rate,
	};
	sb_error code = SB_OK;
	sb_participant *p = sb_rtp_endpoint_create(&params, &code);
	if (!p) {
		sb_room_unref(room);
		if (code == SB_ERROR_LIMIT)
			return sb_ops_error(code, "No free RTP port");
		if (code == SB_ERROR_UNAUTHORIZED)
			return sb_ops_error(code, "Address %s is not in [security] rtp_join_allow",
			                    params.remote_ip);
		return sb_ops_error(code, "Invalid address %s (IPv4 expected)", params.remote_ip);
	}
	sb_error rc = sb_room_add(room, p);
	if (rc != SB_OK) {
		sb_participant_unref(p);
		sb_room_unref(room);
		return sb_ops_error(rc, rc == SB_ERROR_LIMIT ? "Room is full" : "Room is gone");
	}
	const char *ip;
	uint16_t port;
	sb_rtp_endpoint_local(p, &ip, &port);
	json_t *r = room_answer("rtp_joined", room);
	json_object_set_new(r, "id", json_integer((json_int_t)p->id));
	json_object_set_new(r, "ip", json_string(ip));
	json_object_set_new(r, "port", json_integer(port));
	json_object_set_new(r, "codec", json_string(sb_codec_name(codec)));
	json_object_set_new(r, "payload_type", json_integer(sb_participant_payload_type(p)));
	sb_participant_unref(p);
	sb_room_unref(room);
	return r;
}

/* A chat line to everyone in the room: the participant's (id, display),
 * or the room's own (id 0: a back end speaking through the server API). */
static json_t *chat_line(sb_room *room, guint64 id, const char *display, const char *text,
                         const char *topic)
{
	json_t *line = json_object();
	json_object_set_new(line, "id", json_integer((json_int_t)id));
	if (display)
		json_object_set_new(line, "display", json_string(display));
	json_object_set_new(line, "text", json_string(text));
	if (topic)
		json_object_set_new(line, "topic", json_string(topic));
	json_object_set_new(line, "timestamp", json_integer(g_get_real_time() / 1000));
	json_t *ev = sb_room_event(room, "event");
	json_object_set(ev, "chat", line);
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
	json_t *n = json_pack("{ssso}", "room", room->name, "message", line);
	sb_events_publish("chat_message", n);
	return room_answer("success", room);
}

#define CHAT_TEXT_FIELD                                                                            \
	{                                                                                          \
		"text", F_STRING, true, 2000, 0                                                    \
	}

/* A chat line from a joined participant to everyone in the room. */
static json_t *op_chat(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {CHAT_TEXT_FIELD, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	const char *text = str(body, "text");
	if (!*text)
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Invalid element (text is empty)");
	sb_participant *p = sb_session_participant(ctx->session);
	if (!p)
		return sb_ops_error(SB_ERROR_NOT_JOINED, "Not in a room (join first)");
	sb_room *room = sb_participant_room(p);
	if (!room) {
		sb_participant_unref(p);
		return sb_ops_error(SB_ERROR_NOT_JOINED, "Not in a room (join first)");
	}
	g_autofree char *display = sb_participant_dup_display(p);
	json_t *r = chat_line(room, p->id, display, text, NULL);
	sb_room_unref(room);
	sb_participant_unref(p);
	return r;
}

/* A chat line from whoever steers the room (a back end), not from a
 * participant: {room, text, display?, topic?}. */
static json_t *op_post_chat(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD,
	                               CHAT_TEXT_FIELD,
	                               {"display", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"topic", F_STRING, false, 256, 0},
	                               SECRET_FIELD,
	                               {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	json_t *r = *str(body, "text") ? chat_line(room, 0, str(body, "display"), str(body, "text"),
	                                           str(body, "topic"))
	                               : sb_ops_error(SB_ERROR_INVALID_ELEMENT,
	                                              "Invalid element (text is empty)");
	sb_room_unref(room);
	return r;
}

/* ---- what a back end keeps on rooms and participants ---- */

static bool attributes_ok(json_t *attributes)
{
	if (!json_is_object(attributes) || json_object_size(attributes) > SB_ATTRIBUTES_MAX)
		return false;
	const char *key;
	json_t *value;
	json_object_foreach(attributes, key, value)
	{
		if (!json_is_string(value) || !*key || strlen(key) > SB_ATTRIBUTE_KEY_MAX ||
		    json_string_length(value) > SB_ATTRIBUTE_VALUE_MAX)
			return false;
	}
	return true;
}

/* {room, id, display?, metadata?, attributes?}: what a back end says
 * about a participant (LiveKit's UpdateParticipant).  An attribute set to
 * "" is deleted; a new display name is announced to the room. */
static json_t *op_participant_update(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {{"display", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"metadata", F_STRING, false, SB_METADATA_MAX, 0},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	json_t *attributes = json_object_get(body, "attributes");
	if (attributes && !attributes_ok(attributes))
		return sb_ops_error(
		        SB_ERROR_INVALID_ELEMENT,
		        "attributes are up to %d strings, keys 1 to %d bytes, values up "
		        "to %d",
		        SB_ATTRIBUTES_MAX, SB_ATTRIBUTE_KEY_MAX, SB_ATTRIBUTE_VALUE_MAX);
	sb_room *room;
	sb_participant *p;
	if ((err = target_from_body(body, ctx, &room, &p)))
		return err;
	const char *display = str(body, "display");
	if (display)
		sb_participant_set_display(p, display);
	if (json_object_get(body, "metadata"))
		sb_participant_set_metadata(p, str(body, "metadata"));
	if (attributes)
		sb_participant_update_attributes(p, attributes);
	if (display)
		announce_change(room, p);
	sb_participant_unref(p);
	sb_room_unref(room);
	return success();
}

/* {room, metadata}: a back end's text about the room ("" clears it). */
static json_t *op_room_metadata(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD,
	                               {"metadata", F_STRING, true, SB_METADATA_MAX, 0},
	                               SECRET_FIELD,
	                               {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	set_metadata(room, str(body, "metadata"), ctx);
	json_t *r = room_answer("success", room);
	sb_room_unref(room);
	return r;
}

/* {room}: "success" with key set to what get gives of the room (a new
 * reference); who may ask is the op's access. */
static json_t *room_part(json_t *body, sb_op_ctx *ctx, const char *key,
                         json_t *(*get)(sb_room *room))
{
	static const field fields[] = {ROOM_FIELD, {NULL, 0, 0, 0, 0}};
	sb_room *room = NULL;
	json_t *err = fields_and_room(body, ctx, fields, &room);
	if (err)
		return err;
	json_t *r = room_answer("success", room);
	json_object_set_new(r, key, get(room));
	sb_room_unref(room);
	return r;
}

/* What was said in the room so far. */
static json_t *op_transcript(json_t *body, sb_op_ctx *ctx)
{
	return room_part(body, ctx, "transcript", sb_room_transcript);
}

/* The call's context (room.h): it may hold personal data, so only the
 * operator reads it (docs/security.md). */
static json_t *op_variables(json_t *body, sb_op_ctx *ctx)
{
	return room_part(body, ctx, "variables", sb_room_variables);
}

const sb_op sb_room_ops[] = {
        {"create", op_create, 0, SB_ACCESS_ANYONE},
        {"destroy", op_destroy, 0, SB_ACCESS_ROOM_ADMIN},
        {"exists", op_exists, 0, SB_ACCESS_ANYONE},
        {"list", op_list, 0, SB_ACCESS_CONSOLE},
        {"listparticipants", op_listparticipants, 0, SB_ACCESS_MEMBER},
        {"join", op_join, SB_OP_ASYNC | SB_OP_SESSION, SB_ACCESS_ANYONE},
        {"configure", op_configure, SB_OP_ASYNC | SB_OP_SESSION, SB_ACCESS_ANYONE},
        {"leave", op_leave, SB_OP_ASYNC | SB_OP_SESSION, SB_ACCESS_ANYONE},
        {"kick", op_kick, 0, SB_ACCESS_ROOM_ADMIN},
        {"mute", op_mute, 0, SB_ACCESS_ROOM_ADMIN},
        {"unmute", op_unmute, 0, SB_ACCESS_ROOM_ADMIN},
        {"rtp_join", op_rtp_join, 0, SB_ACCESS_OPERATOR},
        {"chat", op_chat, SB_OP_SESSION, SB_ACCESS_ANYONE},
        {"post_chat", op_post_chat, 0, SB_ACCESS_ROOM_ADMIN},
        {"participant_update", op_participant_update, 0, SB_ACCESS_ROOM_ADMIN},
        {"room_metadata", op_room_metadata, 0, SB_ACCESS_ROOM_ADMIN},
        {"transcript", op_transcript, 0, SB_ACCESS_MEMBER},
        {"variables", op_variables, 0, SB_ACCESS_OPERATOR},
};
const size_t sb_room_ops_count = G_N_ELEMENTS(sb_room_ops);
