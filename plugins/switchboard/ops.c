#include "ops.h"

#include <stdarg.h>
#include <string.h>

#include <debug.h>

#include "agent.h"
#include "auth.h"
#include "events.h"
#include "media/codec.h"
#include "mixer.h"
#include "room.h"
#include "rtp_endpoint.h"
#include "webrtc.h"

extern const sb_settings *sb_plugin_settings;

static json_t *error_answer(sb_error code, const char *text)
{
	json_t *e = json_object();
	json_object_set_new(e, SB_EVENT_KEY, json_string("event"));
	json_object_set_new(e, "error_code", json_integer(code));
	json_object_set_new(e, "error", json_string(text));
	return e;
}

json_t *sb_ops_error(sb_error code, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	g_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return error_answer(code, text);
}

json_t *sb_ops_error_named(sb_error code, const char *name, int http_status, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	g_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_t *e = error_answer(code, text);
	json_object_set_new(e, "error_name", json_string(name));
	json_object_set_new(e, "http_status", json_integer(http_status));
	return e;
}

/* ---- request validation ---- */

typedef sb_field field;
#define F_STRING SB_F_STRING
#define F_INTEGER SB_F_INTEGER
#define F_BOOLEAN SB_F_BOOLEAN

json_t *sb_ops_check_fields(json_t *body, const sb_field *fields)
{
	for (const field *f = fields; f->name; f++) {
		json_t *v = json_object_get(body, f->name);
		if (!v || json_is_null(v)) {
			if (f->required)
				return sb_ops_error(SB_ERROR_MISSING_ELEMENT,
				                    "Missing element (%s)", f->name);
			continue;
		}
		switch (f->type) {
		case F_STRING:
			if (!json_is_string(v))
				return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
				                    "Invalid element type (%s should be a string)",
				                    f->name);
			if ((json_int_t)json_string_length(v) > f->max)
				return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
				                    "Invalid element (%s longer than %lld)",
				                    f->name, (long long)f->max);
			break;
		case F_INTEGER:
			if (!json_is_integer(v))
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid element type (%s should be an integer)", f->name);
			if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
				return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
				                    "Invalid element (%s out of range %lld..%lld)",
				                    f->name, (long long)f->min, (long long)f->max);
			break;
		case F_BOOLEAN:
			if (!json_is_boolean(v))
				return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
				                    "Invalid element type (%s should be a boolean)",
				                    f->name);
			break;
		}
	}
	return NULL;
}

#define check_fields sb_ops_check_fields
#define ROOM_FIELD                                                                                 \
	{                                                                                          \
		"room", F_STRING, true, SB_ROOM_NAME_MAX, 0                                        \
	}
#define SECRET_FIELD                                                                               \
	{                                                                                          \
		"secret", F_STRING, false, SB_SECRET_MAX, 0                                        \
	}
#define ID_FIELD                                                                                   \
	{                                                                                          \
		"id", F_INTEGER, true, (json_int_t)1 << 53, 1                                      \
	}

static const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* The room named in the body, with the secret checked when asked for. */
static json_t *room_from_body(json_t *body, sb_op_ctx *ctx, bool need_secret, sb_room **out)
{
	const char *name = str(body, "room");
	if (!sb_room_name_valid(name))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid room name (1-%d of A-Z a-z 0-9 . _ -)",
		                    SB_ROOM_NAME_MAX);
	sb_room *room = sb_room_find(name);
	if (!room)
		return sb_ops_error(SB_ERROR_NO_SUCH_ROOM, "No such room (%s)", name);
	if (need_secret && room->secret && !ctx->admin) {
		const char *secret = str(body, "secret");
		if (!secret || !sb_auth_equal(secret, room->secret)) {
			sb_room_unref(room);
			return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (wrong secret)");
		}
	}
	*out = room;
	return NULL;
}

/* Joining a room with a pin needs it (trusted callers excepted). */
static bool pin_ok(json_t *body, sb_op_ctx *ctx, sb_room *room)
{
	if (!room->pin || ctx->admin)
		return true;
	const char *pin = str(body, "pin");
	return pin && sb_auth_equal(pin, room->pin);
}

static json_t *success(void)
{
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("success"));
	return r;
}

/* ---- rooms ---- */

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
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	json_t *agent_config = json_object_get(body, "agent_config");
	if (agent_config && !json_is_object(agent_config))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (agent_config should be an object)");
	const sb_settings *cfg = sb_plugin_settings;
	if (cfg->admin_key && !ctx->admin) {
		const char *key = str(body, "admin_key");
		if (!key || !sb_auth_equal(key, cfg->admin_key))
			return sb_ops_error(SB_ERROR_UNAUTHORIZED,
			                    "Unauthorized (wrong admin_key)");
	}
	const char *name = str(body, "room");
	if (name && !sb_room_name_valid(name))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid room name (1-%d of A-Z a-z 0-9 . _ -)",
		                    SB_ROOM_NAME_MAX);
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
	sb_error rc = sb_room_create(&params, &room);
	if (rc == SB_ERROR_ROOM_EXISTS)
		return sb_ops_error(rc, "Room %s already exists", name);
	if (rc == SB_ERROR_LIMIT)
		return sb_ops_error(rc, "Too many rooms (max_rooms = %d)", cfg->max_rooms);
	if (rc != SB_OK)
		return sb_ops_error(rc, "Could not create the room");
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("created"));
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "ephemeral", json_boolean(room->ephemeral));
	json_object_set_new(r, "sampling_rate", json_integer(room->sampling_rate));
	json_object_set_new(r, "require_token", json_boolean(room->require_token));
	json_object_set_new(r, "agent", json_boolean(g_atomic_int_get(&room->agent_enabled)));
	sb_room_unref(room);
	return r;
}

static json_t *op_destroy(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD, SECRET_FIELD, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, true, &room)))
		return err;
	sb_room_destroy(room);
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("destroyed"));
	json_object_set_new(r, "room", json_string(room->name));
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
	bool all = ctx->admin && json_is_true(json_object_get(body, "hidden"));
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
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, false, &room)))
		return err;
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("participants"));
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "participants", participants_json(room, NULL));
	sb_room_unref(room);
	return r;
}

/* ---- participants ---- */

static bool role_valid(const char *role)
{
	return !role || !strcmp(role, "caller") || !strcmp(role, "agent") ||
	       !strcmp(role, "supervisor");
}

static json_t *op_join(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD,
	                               {"display", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"pin", F_STRING, false, SB_SECRET_MAX, 0},
	                               {"muted", F_BOOLEAN, false, 0, 0},
	                               {"role", F_STRING, false, 16, 0},
	                               {"token", F_STRING, false, 4096, 0},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	if (!role_valid(str(body, "role")))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid role (caller, agent or supervisor)");
	sb_participant *existing = sb_session_participant(ctx->session);
	if (existing) {
		sb_participant_unref(existing);
		return sb_ops_error(SB_ERROR_ALREADY_JOINED, "Already in a room (leave first)");
	}
	const char *name = str(body, "room");
	if (!sb_room_name_valid(name))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid room name (1-%d of A-Z a-z 0-9 . _ -)",
		                    SB_ROOM_NAME_MAX);
	sb_room *room = sb_room_find(name);
	if (!room && sb_plugin_settings->auto_create) {
		sb_room_params params = {.name = name, .ephemeral = true};
		sb_error rc = sb_room_create(&params, &room);
		if (rc == SB_ERROR_ROOM_EXISTS) /* created by someone else meanwhile */
			room = sb_room_find(name);
	}
	if (!room)
		return sb_ops_error(SB_ERROR_NO_SUCH_ROOM, "No such room (%s)", name);
	if (!pin_ok(body, ctx, room)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (wrong pin)");
	}
	/* A token, when given, is always checked; rooms that require one
	 * refuse joins without.  Its claims override what the client says. */
	sb_join_claims claims = {0};
	const char *token = str(body, "token");
	if (token || (room->require_token && !ctx->admin)) {
		sb_token_status ts = token ? sb_auth_token_verify(sb_plugin_settings->jwt_secret,
		                                                  token, room->name, &claims)
		                           : SB_TOKEN_MALFORMED;
		if (ts != SB_TOKEN_OK) {
			sb_room_unref(room);
			return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (%s)",
			                    token ? sb_token_status_text(ts)
			                          : "this room needs a join token");
		}
		if (claims.role && !role_valid(claims.role)) {
			sb_join_claims_clear(&claims);
			sb_room_unref(room);
			return sb_ops_error(SB_ERROR_UNAUTHORIZED,
			                    "Unauthorized (token has an unknown role)");
		}
	}
	/* A token's name is who the backend says joins: it wins. */
	const char *display = claims.name ? claims.name : str(body, "display");
	sb_participant *p = sb_web_participant_new(
	        ctx->session, display, claims.role ? claims.role : str(body, "role"),
	        claims.identity, json_is_true(json_object_get(body, "muted")), room->sampling_rate);
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
	if (g_atomic_int_get(&ctx->session->started))
		g_atomic_int_set(&p->media_ready, 1);
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("joined"));
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "id", json_integer((json_int_t)p->id));
	if (p->display)
		json_object_set_new(r, "display", json_string(p->display));
	json_object_set_new(r, "participants", participants_json(room, p));
	json_object_set_new(r, "me", sb_participant_to_json(p));
	json_object_set_new(r, "agent", json_boolean(g_atomic_int_get(&room->agent_enabled)));
	JANUS_LOG(LOG_INFO, "[switchboard] %" G_GUINT64_FORMAT " (%s) joined %s\n", p->id,
	          p->display ? p->display : "", room->name);
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
	if (muted && (bool)g_atomic_int_get(&p->muted) != json_is_true(muted)) {
		g_atomic_int_set(&p->muted, json_is_true(muted));
		changed = true;
	}
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
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, true, &room)))
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
	if ((bool)g_atomic_int_get(&p->muted) != muted) {
		g_atomic_int_set(&p->muted, muted);
		announce_change(room, p);
	}
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
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, false, &room)))
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
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("rtp_joined"));
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "id", json_integer((json_int_t)p->id));
	json_object_set_new(r, "ip", json_string(ip));
	json_object_set_new(r, "port", json_integer(port));
	json_object_set_new(r, "codec", json_string(sb_codec_name(codec)));
	json_object_set_new(r, "payload_type", json_integer(g_atomic_int_get(&p->payload_type)));
	sb_participant_unref(p);
	sb_room_unref(room);
	return r;
}

/* A chat line from a joined participant to everyone in the room. */
static json_t *op_chat(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {{"text", F_STRING, true, 2000, 0}, {NULL, 0, 0, 0, 0}};
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
	json_t *line = json_object();
	json_object_set_new(line, "id", json_integer((json_int_t)p->id));
	g_mutex_lock(&p->mutex);
	if (p->display)
		json_object_set_new(line, "display", json_string(p->display));
	g_mutex_unlock(&p->mutex);
	json_object_set_new(line, "text", json_string(text));
	json_object_set_new(line, "timestamp", json_integer(g_get_real_time() / 1000));
	json_t *ev = sb_room_event(room, "event");
	json_object_set(ev, "chat", line);
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
	json_t *n = json_pack("{ssso}", "room", room->name, "message", line);
	sb_events_publish("chat_message", n);
	json_t *r = success();
	json_object_set_new(r, "room", json_string(room->name));
	sb_room_unref(room);
	sb_participant_unref(p);
	return r;
}

/* The agent speaks the given text now. */
static json_t *op_say(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {
	        ROOM_FIELD, {"text", F_STRING, true, 4000, 0}, SECRET_FIELD, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, true, &room)))
		return err;
	const char *text = str(body, "text");
	sb_error rc = *text ? sb_agent_say(room, text) : SB_ERROR_INVALID_ELEMENT;
	sb_room_unref(room);
	if (rc == SB_ERROR_INVALID_ELEMENT)
		return sb_ops_error(rc, "Invalid element (text is empty)");
	if (rc != SB_OK)
		return sb_ops_error(
		        rc, "The room has no agent right now (turn it on, and have someone join)");
	return success();
}

/* What was said in the room so far. */
static json_t *op_transcript(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, false, &room)))
		return err;
	json_t *r = success();
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "transcript", sb_agent_transcript(room));
	sb_room_unref(room);
	return r;
}

/* Turns the room's AI agent on or off (the agent module acts on it). */
static json_t *op_agent(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {
	        ROOM_FIELD, {"enable", F_BOOLEAN, true, 0, 0}, SECRET_FIELD, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = room_from_body(body, ctx, true, &room)))
		return err;
	json_t *config = json_object_get(body, "config");
	if (config && !json_is_object(config)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (config should be an object)");
	}
	bool enable = json_is_true(json_object_get(body, "enable"));
	if (config) {
		g_mutex_lock(&room->mutex);
		json_decref(room->agent_config);
		room->agent_config = json_deep_copy(config);
		g_mutex_unlock(&room->mutex);
	}
	sb_agent_enable(room, enable);
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("agent"));
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "enabled", json_boolean(enable));
	json_t *ev = sb_room_event(room, "agent");
	json_object_set_new(ev, "enabled", json_boolean(enable));
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
	sb_events_publish("agent_toggled",
	                  json_pack("{sssb}", "room", room->name, "enabled", enable));
	sb_room_unref(room);
	return r;
}

#define SB_SESSION_SOURCES_MAX 4
static sb_session_source session_sources[SB_SESSION_SOURCES_MAX];
static size_t session_source_count;

void sb_ops_register_sessions(sb_session_source source)
{
	g_assert(session_source_count < SB_SESSION_SOURCES_MAX);
	session_sources[session_source_count++] = source;
}

/* Live sessions across rooms: every participant with its interface, then
 * what other modules hold (WhatsApp conversations). */
static json_t *op_sessions(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	static const field fields[] = {{"type", F_STRING, false, 16, 0}, {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	const char *type = str(body, "type");
	GPtrArray *rooms = sb_rooms_list();
	json_t *list = json_array();
	for (guint i = 0; i < rooms->len; i++) {
		sb_room *room = g_ptr_array_index(rooms, i);
		GPtrArray *members = sb_room_participants(room);
		for (guint k = 0; k < members->len; k++) {
			sb_participant *p = g_ptr_array_index(members, k);
			const char *iface = sb_participant_interface(p);
			if (type && strcmp(type, iface) != 0)
				continue;
			json_t *s = sb_participant_to_json(p);
			json_object_set_new(s, "room", json_string(room->name));
			json_object_set_new(s, "type", json_string(iface));
			json_object_set_new(s, "joined", json_integer(p->joined_us / 1000));
			if (p->info)
				json_object_set(s, "info", p->info);
			json_array_append_new(list, s);
		}
		g_ptr_array_unref(members);
	}
	g_ptr_array_unref(rooms);
	for (size_t i = 0; i < session_source_count; i++)
		session_sources[i](list, type);
	json_t *r = success();
	json_object_set_new(r, "sessions", list);
	return r;
}

/* Signs a join token for a room (trusted callers only). */
static json_t *op_token(json_t *body, sb_op_ctx *ctx)
{
	static const field fields[] = {ROOM_FIELD,
	                               {"identity", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"name", F_STRING, false, SB_DISPLAY_MAX, 0},
	                               {"role", F_STRING, false, 16, 0},
	                               {"ttl", F_INTEGER, false, 86400 * 30, 10},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err)
		return err;
	if (!sb_room_name_valid(str(body, "room")))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid room name (1-%d of A-Z a-z 0-9 . _ -)",
		                    SB_ROOM_NAME_MAX);
	if (!role_valid(str(body, "role")))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid role (caller, agent or supervisor)");
	json_t *ttl = json_object_get(body, "ttl");
	int seconds = ttl ? (int)json_integer_value(ttl) : sb_plugin_settings->token_ttl;
	char *token = sb_auth_token_issue(sb_plugin_settings->jwt_secret, str(body, "room"),
	                                  str(body, "identity"), str(body, "name"),
	                                  str(body, "role"), seconds);
	if (!token)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Could not sign the token");
	json_t *r = success();
	json_object_set_new(r, "token", json_string(token));
	json_object_set_new(r, "expires_in", json_integer(seconds));
	g_free(token);
	(void)ctx;
	return r;
}

/* Plugin-wide counters: rooms, participants by kind, mixer, RTP sockets. */
static json_t *op_stats(json_t *body, sb_op_ctx *ctx)
{
	(void)body;
	(void)ctx;
	GPtrArray *rooms = sb_rooms_list();
	json_int_t by_kind[SB_KIND_AGENT + 1] = {0};
	json_int_t invalid = 0, wrong_pt = 0, dropped = 0, packets_in = 0, packets_out = 0;
	for (guint i = 0; i < rooms->len; i++) {
		GPtrArray *members = sb_room_participants(g_ptr_array_index(rooms, i));
		for (guint k = 0; k < members->len; k++) {
			sb_participant *p = g_ptr_array_index(members, k);
			sb_participant_stats st;
			sb_participant_get_stats(p, &st);
			by_kind[p->kind]++;
			packets_in += (json_int_t)st.packets_in;
			packets_out += (json_int_t)st.packets_out;
			invalid += (json_int_t)st.packets_invalid;
			wrong_pt += (json_int_t)st.packets_wrong_pt;
			dropped += (json_int_t)st.packets_dropped;
		}
		g_ptr_array_unref(members);
	}
	json_t *kinds = json_object();
	for (int k = 0; k <= SB_KIND_AGENT; k++)
		json_object_set_new(kinds, sb_kind_name((sb_kind)k), json_integer(by_kind[k]));
	sb_mixer_stats ms;
	sb_mixer_get_stats(&ms);
	sb_rtp_endpoint_stats rs;
	sb_rtp_endpoints_get_stats(&rs);
	json_t *r = success();
	json_object_set_new(r, "rooms", json_integer(rooms->len));
	json_object_set_new(r, "participants", kinds);
	json_object_set_new(r, "packets",
	                    json_pack("{sIsIsIsIsI}", "in", packets_in, "out", packets_out,
	                              "invalid", invalid, "wrong_pt", wrong_pt, "dropped",
	                              dropped));
	json_object_set_new(r, "mixer",
	                    json_pack("{sisIsIsIsIsIsIsI}", "workers", ms.workers, "forwards",
	                              (json_int_t)ms.forwards, "ticks", (json_int_t)ms.ticks,
	                              "late_frames", (json_int_t)ms.late_frames, "skipped",
	                              (json_int_t)ms.skipped, "encodes", (json_int_t)ms.encodes,
	                              "decodes", (json_int_t)ms.decodes, "rooms_active",
	                              (json_int_t)ms.rooms_active));
	json_object_set_new(r, "rtp",
	                    json_pack("{sIsIsI}", "open", (json_int_t)rs.open, "foreign_packets",
	                              (json_int_t)rs.foreign_packets, "rtcp_packets",
	                              (json_int_t)rs.rtcp_packets));
	g_ptr_array_unref(rooms);
	return r;
}

static const sb_op ops[] = {
        {"stats", op_stats, 0},
        {"create", op_create, 0},
        {"destroy", op_destroy, 0},
        {"exists", op_exists, 0},
        {"list", op_list, 0},
        {"listparticipants", op_listparticipants, 0},
        {"join", op_join, SB_OP_ASYNC | SB_OP_SESSION},
        {"configure", op_configure, SB_OP_ASYNC | SB_OP_SESSION},
        {"leave", op_leave, SB_OP_ASYNC | SB_OP_SESSION},
        {"kick", op_kick, 0},
        {"mute", op_mute, 0},
        {"unmute", op_unmute, 0},
        {"rtp_join", op_rtp_join, 0},
        {"agent", op_agent, 0},
        {"chat", op_chat, SB_OP_SESSION},
        {"say", op_say, 0},
        {"transcript", op_transcript, 0},
        {"sessions", op_sessions, 0},
        {"token", op_token, SB_OP_ADMIN},
};

/* Tables added by the modules (sip, twilio, transfer, store) at start-up. */
#define SB_OPS_TABLES_MAX 16
static struct {
	const sb_op *ops;
	size_t count;
} extra_tables[SB_OPS_TABLES_MAX];
static size_t extra_table_count;

void sb_ops_register(const sb_op *table, size_t count)
{
	for (size_t i = 0; i < extra_table_count; i++)
		if (extra_tables[i].ops == table)
			return;
	g_assert(extra_table_count < SB_OPS_TABLES_MAX);
	extra_tables[extra_table_count].ops = table;
	extra_tables[extra_table_count].count = count;
	extra_table_count++;
}

void sb_ops_unregister_all(void)
{
	extra_table_count = 0;
	session_source_count = 0;
}

const sb_op *sb_ops_find(const char *request)
{
	if (!request)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++)
		if (!strcasecmp(ops[i].name, request))
			return &ops[i];
	for (size_t t = 0; t < extra_table_count; t++)
		for (size_t i = 0; i < extra_tables[t].count; i++)
			if (!strcasecmp(extra_tables[t].ops[i].name, request))
				return &extra_tables[t].ops[i];
	return NULL;
}

json_t *sb_ops_run_trusted(json_t *request)
{
	sb_op_ctx ctx = {.session = NULL, .admin = true};
	json_t *r = sb_ops_dispatch(request, &ctx);
	json_decref(ctx.jsep_out);
	json_decref(request);
	return r;
}

json_t *sb_ops_dispatch(json_t *body, sb_op_ctx *ctx)
{
	if (!json_is_object(body))
		return sb_ops_error(SB_ERROR_INVALID_JSON, "The request must be a JSON object");
	json_t *request = json_object_get(body, "request");
	if (!request)
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT, "Missing element (request)");
	if (!json_is_string(request))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (request should be a string)");
	const sb_op *op = sb_ops_find(json_string_value(request));
	if (!op)
		return sb_ops_error(SB_ERROR_INVALID_REQUEST, "Unknown request '%.64s'",
		                    json_string_value(request));
	if ((op->flags & SB_OP_ADMIN) && !ctx->admin)
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "'%s' is for the Admin API and REST only", op->name);
	if ((op->flags & SB_OP_SESSION) && !ctx->session)
		return sb_ops_error(SB_ERROR_INVALID_REQUEST,
		                    "'%s' needs a Janus handle (not available here)", op->name);
	return op->run(body, ctx);
}
