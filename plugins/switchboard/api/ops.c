/* The ops table behind the Janus API, the Admin API and REST: the
 * registry modules add to, dispatch with the checks every op shares
 * (trusted callers, a Janus handle), field validation, the error answers,
 * and the ops of no module in particular: stats, sessions, token.  One
 * table, so that every way in answers the same thing the same way. */
#include "api/api.h"
#include "api/api_private.h"

#include <stdarg.h>
#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "media/media.h"
#include "room/room.h"
#include "endpoints/endpoints.h"


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

json_t *sb_ops_room_missing(const char *name)
{
	json_t *where = sb_room_locate(name);
	if (!where)
		return sb_ops_error(SB_ERROR_NO_SUCH_ROOM, "No such room (%s)", name);
	const char *at = json_string_value(json_object_get(where, "janus_url"));
	json_t *e = sb_ops_error(SB_ERROR_ROOM_ELSEWHERE, "Room %s lives on node %s%s%s", name,
	                         json_string_value(json_object_get(where, "node")),
	                         at ? ": join it at " : "", at ? at : "");
	json_object_set_new(e, "location", where);
	return e;
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

json_t *sb_ops_room_name_error(const char *name)
{
	if (sb_room_name_valid(name))
		return NULL;
	return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
	                    "Invalid room name (1-%d of A-Z a-z 0-9 . _ -)", SB_ROOM_NAME_MAX);
}

json_t *sb_ops_role_error(const char *role)
{
	if (sb_ops_role_valid(role))
		return NULL;
	return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Invalid role (caller, agent or supervisor)");
}

json_t *sb_ops_room(json_t *body, sb_op_ctx *ctx, sb_room **out)
{
	(void)ctx;
	const char *name = str(body, "room");
	json_t *err = sb_ops_room_name_error(name);
	if (err)
		return err;
	sb_room *room = sb_room_find(name);
	if (!room)
		return sb_ops_room_missing(name);
	*out = room;
	return NULL;
}

json_t *sb_ops_answer(const char *kind)
{
	return json_pack("{ss}", SB_EVENT_KEY, kind);
}

bool sb_ops_string_ok(json_t *body, const char *name, bool required, size_t max)
{
	json_t *v = json_object_get(body, name);
	if (!v || json_is_null(v))
		return !required;
	return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max;
}

bool sb_ops_role_valid(const char *role)
{
	return !role || !strcmp(role, "caller") || !strcmp(role, "agent") ||
	       !strcmp(role, "supervisor");
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
	                               {"admin", F_BOOLEAN, false, 0, 0},
	                               {NULL, 0, 0, 0, 0}};
	json_t *err = check_fields(body, fields);
	if (err || (err = sb_ops_room_name_error(str(body, "room"))) ||
	    (err = sb_ops_role_error(str(body, "role"))))
		return err;
	json_t *ttl = json_object_get(body, "ttl");
	int seconds = ttl ? (int)json_integer_value(ttl) : sb_plugin_settings->token_ttl;
	sb_join_claims claims = {.room = (char *)str(body, "room"),
	                         .identity = (char *)str(body, "identity"),
	                         .name = (char *)str(body, "name"),
	                         .role = (char *)str(body, "role"),
	                         .room_admin = json_is_true(json_object_get(body, "admin"))};
	char *token = sb_auth_token_sign(sb_plugin_settings->jwt_secret, &claims, seconds);
	if (!token)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Could not sign the token");
	json_t *r = success();
	json_object_set_new(r, "token", json_string(token));
	json_object_set_new(r, "expires_in", json_integer(seconds));
	g_free(token);
	(void)ctx;
	return r;
}

#define SB_STATS_SOURCES_MAX 8
static struct {
	const char *name;
	sb_stats_source source;
} stats_sources[SB_STATS_SOURCES_MAX];
static size_t stats_source_count;

void sb_ops_register_stats(const char *name, sb_stats_source source)
{
	g_assert(stats_source_count < SB_STATS_SOURCES_MAX);
	stats_sources[stats_source_count].name = name;
	stats_sources[stats_source_count].source = source;
	stats_source_count++;
}

/* Plugin-wide counters: rooms, participants by kind, mixer, RTP sockets,
 * the AI agents, and what each module adds (SIP, recordings, store …). */
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
	json_object_set_new(
	        r, "mixer",
	        json_pack("{sisIsIsIsIsIsIsIsIsI}", "workers", ms.workers, "forwards",
	                  (json_int_t)ms.forwards, "ticks", (json_int_t)ms.ticks, "late_frames",
	                  (json_int_t)ms.late_frames, "skipped", (json_int_t)ms.skipped, "encodes",
	                  (json_int_t)ms.encodes, "decodes", (json_int_t)ms.decodes, "rooms_active",
	                  (json_int_t)ms.rooms_active, "echo_frames", (json_int_t)ms.echo_frames,
	                  "denoised_frames", (json_int_t)ms.denoised_frames));
	json_object_set_new(r, "rtp",
	                    json_pack("{sIsIsI}", "open", (json_int_t)rs.open, "foreign_packets",
	                              (json_int_t)rs.foreign_packets, "rtcp_packets",
	                              (json_int_t)rs.rtcp_packets));
	for (size_t i = 0; i < stats_source_count; i++)
		json_object_set_new(r, stats_sources[i].name, stats_sources[i].source());
	g_ptr_array_unref(rooms);
	return r;
}

static const sb_op ops[] = {
        {"stats", op_stats, 0, SB_ACCESS_OPERATOR},
        {"sessions", op_sessions, 0, SB_ACCESS_OPERATOR},
        {"token", op_token, 0, SB_ACCESS_OPERATOR},
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
	/* A name taken already would never be reached: say so loudly. */
	for (size_t i = 0; i < count; i++)
		if (sb_ops_find(table[i].name))
			JANUS_LOG(LOG_ERR, "[switchboard] operation '%s' is defined twice\n",
			          table[i].name);
	extra_tables[extra_table_count].ops = table;
	extra_tables[extra_table_count].count = count;
	extra_table_count++;
}

void sb_api_unregister_all(void)
{
	sb_ops_unregister_all();
	sb_rest_unregister_all();
	sb_metrics_unregister_all();
	sb_ops_guests_forget_all();
}

void sb_ops_unregister_all(void)
{
	extra_table_count = 0;
	session_source_count = 0;
	stats_source_count = 0;
	sb_room_ops_forget_hooks();
}

const sb_op *sb_ops_find(const char *request)
{
	if (!request)
		return NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++)
		if (!strcasecmp(ops[i].name, request))
			return &ops[i];
	for (size_t i = 0; i < sb_room_ops_count; i++)
		if (!strcasecmp(sb_room_ops[i].name, request))
			return &sb_room_ops[i];
	for (size_t t = 0; t < extra_table_count; t++)
		for (size_t i = 0; i < extra_tables[t].count; i++)
			if (!strcasecmp(extra_tables[t].ops[i].name, request))
				return &extra_tables[t].ops[i];
	return NULL;
}

json_t *sb_ops_run_trusted_later(json_t *request, sb_op_later *later)
{
	return sb_ops_run_as(request, &sb_principal_operator, later);
}

json_t *sb_ops_run_as(json_t *request, const sb_principal *who, sb_op_later *later)
{
	sb_op_ctx ctx = {.who = *who, .later = later};
	json_t *r = sb_ops_dispatch(request, &ctx);
	json_decref(ctx.jsep_out);
	json_decref(request);
	return r;
}

json_t *sb_ops_run_trusted(json_t *request)
{
	return sb_ops_run_trusted_later(request, NULL);
}

/* Set before the transports run (the cluster's start), cleared after. */
static sb_admin_carrier admin_carrier;

void sb_ops_set_admin_carrier(sb_admin_carrier carrier)
{
	g_atomic_pointer_set(&admin_carrier, carrier);
}

json_t *sb_ops_run_admin(json_t *message)
{
	sb_op_ctx ctx = {.who = sb_principal_operator};
	json_t *r = sb_ops_dispatch(message, &ctx);
	json_decref(ctx.jsep_out);
	sb_admin_carrier carry = g_atomic_pointer_get(&admin_carrier);
	json_t *location = json_object_get(r, "location");
	if (carry && location &&
	    json_integer_value(json_object_get(r, "error_code")) == SB_ERROR_ROOM_ELSEWHERE) {
		json_t *there = carry(message, location);
		if (there) {
			json_decref(r);
			r = there;
		}
	}
	return r;
}

sb_op_later *sb_op_take_later(sb_op_ctx *ctx)
{
	sb_op_later *later = ctx->later;
	ctx->later = NULL;
	return later;
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
	json_t *denied = sb_ops_access_error(op, body, ctx);
	if (denied)
		return denied;
	if ((op->flags & SB_OP_SESSION) && !ctx->session)
		return sb_ops_error(SB_ERROR_INVALID_REQUEST,
		                    "'%s' needs a Janus handle (not available here)", op->name);
	return op->run(body, ctx);
}
