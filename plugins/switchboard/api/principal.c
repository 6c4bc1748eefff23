/* Who asks: the principals of docs/security.md and the check of an
 * operation's access level, done once in the dispatcher for every way in
 * (Janus API, Admin API, REST).  A Janus handle keeps what it proved (its
 * join token) here, keyed by the handle's session, until the handle goes;
 * the check itself takes no lock but the table's and a room's. */
#include "api/api.h"
#include "api/api_private.h"

#include <stdarg.h>
#include <string.h>

#include "endpoints/endpoints.h"
#include "room/room.h"

const sb_principal sb_principal_operator = {.kind = SB_WHO_OPERATOR};

typedef struct session_state {
	sb_principal who;
	unsigned rooms_created; /* guest rooms this handle made */
} session_state;

static GMutex mutex;           /* leaf: guards sessions */
static GHashTable *sessions;   /* sb_session* (weak) -> session_state* */

static session_state *state_locked(sb_session *s, bool create)
{
	if (!sessions) {
		if (!create)
			return NULL;
		sessions = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	}
	session_state *st = g_hash_table_lookup(sessions, s);
	if (!st && create) {
		st = g_new0(session_state, 1);
		g_hash_table_insert(sessions, s, st);
	}
	return st;
}

void sb_ops_session_principal(sb_session *s, sb_principal *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	g_mutex_lock(&mutex);
	session_state *st = state_locked(s, false);
	if (st)
		*out = st->who;
	g_mutex_unlock(&mutex);
}

void sb_ops_session_set_principal(sb_session *s, const sb_principal *who)
{
	g_mutex_lock(&mutex);
	state_locked(s, true)->who = *who;
	g_mutex_unlock(&mutex);
}

bool sb_ops_session_count_room(sb_session *s, unsigned max)
{
	g_mutex_lock(&mutex);
	session_state *st = state_locked(s, true);
	bool ok = st->rooms_created < max;
	if (ok)
		st->rooms_created++;
	g_mutex_unlock(&mutex);
	return ok;
}

void sb_ops_session_forget(sb_session *s)
{
	g_mutex_lock(&mutex);
	if (sessions)
		g_hash_table_remove(sessions, s);
	g_mutex_unlock(&mutex);
}

void sb_principal_from_claims(sb_principal *who, const sb_join_claims *c)
{
	memset(who, 0, sizeof(*who));
	who->kind = c->console ? SB_WHO_CONSOLE : SB_WHO_PARTICIPANT;
	g_strlcpy(who->identity, c->identity ? c->identity : "", sizeof(who->identity));
	g_strlcpy(who->role, c->role ? c->role : "caller", sizeof(who->role));
	g_strlcpy(who->room, c->room ? c->room : "", sizeof(who->room));
	who->room_admin = c->room_admin;
	who->dial = c->console && c->dial;
}

/* Is the caller's participant (its Janus handle's) in room now? */
static bool present_in(sb_op_ctx *ctx, sb_room *room)
{
	sb_participant *p = ctx->session ? sb_session_participant(ctx->session) : NULL;
	if (!p)
		return false;
	sb_room *in = sb_participant_room(p);
	bool here = in == room;
	if (in)
		sb_room_unref(in);
	sb_participant_unref(p);
	return here;
}

/* A token the request itself carries ("token"): what it proves for room. */
static void body_token(json_t *body, sb_room *room, sb_principal *out)
{
	memset(out, 0, sizeof(*out));
	const char *token = json_string_value(json_object_get(body, "token"));
	sb_join_claims claims;
	if (!token || sb_ops_join_token_verify(token, room->name, &claims) != SB_TOKEN_OK)
		return;
	sb_principal_from_claims(out, &claims);
	sb_join_claims_clear(&claims);
}

static bool room_admin_of(sb_op_ctx *ctx, json_t *body, sb_room *room)
{
	if (ctx->who.room_admin && !strcmp(ctx->who.room, room->name))
		return true;
	sb_principal carried;
	body_token(body, room, &carried);
	if (carried.room_admin)
		return true;
	/* AudioBridge's convention: a room made with a secret is steered by
	 * whoever knows it. */
	const char *secret = json_string_value(json_object_get(body, "secret"));
	return room->secret && secret && sb_auth_equal(secret, room->secret);
}

json_t *sb_ops_access_error(const sb_op *op, json_t *body, sb_op_ctx *ctx)
{
	if (op->access == SB_ACCESS_ANYONE || sb_op_by_operator(ctx))
		return NULL;
	if (op->access == SB_ACCESS_OPERATOR)
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized ('%s' is the operator's: Admin API or REST key)",
		                    op->name);
	if (op->access == SB_ACCESS_CONSOLE)
		return ctx->who.kind == SB_WHO_CONSOLE
		               ? NULL
		               : sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                              "Unauthorized ('%s' needs a console sign-in)", op->name);
	/* Room-scoped: the room the request names. */
	sb_room *room = NULL;
	json_t *err = sb_ops_room(body, ctx, &room);
	if (err)
		return err;
	const char *name = json_string_value(json_object_get(body, "room")); /* outlives room */
	bool ok = room_admin_of(ctx, body, room);
	if (!ok && op->access == SB_ACCESS_MEMBER) {
		sb_principal carried;
		body_token(body, room, &carried);
		ok = !strcmp(ctx->who.room, room->name) || carried.room[0] || present_in(ctx, room);
	}
	sb_room_unref(room);
	if (ok)
		return NULL;
	return op->access == SB_ACCESS_MEMBER
	               ? sb_ops_error(SB_ERROR_UNAUTHORIZED,
	                              "Unauthorized (only who is in %s may ask that)", name)
	               : sb_ops_error(SB_ERROR_UNAUTHORIZED,
	                              "Unauthorized ('%s' in %s needs its admin token or secret)",
	                              op->name, name);
}

/* ---- guests' rooms ---- */

static GHashTable *guest_rooms; /* names of live rooms guests made; under mutex */

/* Live guest rooms now: forgets the names of rooms that are gone. */
static guint guest_rooms_live_locked(void)
{
	if (!guest_rooms)
		guest_rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer name;
	g_hash_table_iter_init(&it, guest_rooms);
	while (g_hash_table_iter_next(&it, &name, NULL)) {
		sb_room *room = sb_room_find(name);
		if (room)
			sb_room_unref(room);
		else
			g_hash_table_iter_remove(&it);
	}
	return g_hash_table_size(guest_rooms);
}

json_t *sb_ops_guest_room_error(json_t *body, sb_op_ctx *ctx)
{
	json_t *security = sb_settings_section(sb_plugin_settings, "security");
	if (!sb_section_bool(security, "guest_rooms", false))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (rooms are made by the operator here: "
		                    "[security] guest_rooms is off)");
	json_t *eph = json_object_get(body, "ephemeral");
	if (eph && !json_is_true(eph))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (only the operator makes lasting rooms)");
	unsigned per_session =
	        (unsigned)sb_section_int(security, "guest_rooms_per_session", 10, 0, 100000);
	unsigned total = (unsigned)sb_section_int(security, "guest_rooms_max", 200, 0, 1000000);
	g_mutex_lock(&mutex);
	guint live = guest_rooms_live_locked();
	g_mutex_unlock(&mutex);
	if (live >= total)
		return sb_ops_limit_error("guest_rooms",
		                          "Too many guest rooms now ([security] guest_rooms_max = %u)",
		                          total);
	if (!ctx->session || !sb_ops_session_count_room(ctx->session, per_session))
		return sb_ops_limit_error(
		        "guest_rooms_per_session",
		        "This connection made its rooms ([security] guest_rooms_per_session = %u)",
		        per_session);
	return NULL;
}

void sb_ops_guest_room_made(const char *name)
{
	g_mutex_lock(&mutex);
	guest_rooms_live_locked();
	g_hash_table_add(guest_rooms, g_strdup(name));
	g_mutex_unlock(&mutex);
}

char *sb_ops_room_admin_token(const char *room)
{
	sb_join_claims claims = {.room = (char *)room, .role = "caller", .room_admin = true};
	return sb_auth_token_sign(sb_plugin_settings->jwt_secret, &claims,
	                          sb_plugin_settings->token_ttl);
}

void sb_ops_guests_forget_all(void)
{
	g_mutex_lock(&mutex);
	g_clear_pointer(&guest_rooms, g_hash_table_destroy);
	g_clear_pointer(&sessions, g_hash_table_destroy);
	g_mutex_unlock(&mutex);
}

/* ---- limits ---- */

static GHashTable *refusals; /* limit name -> guint64 count; under mutex */

json_t *sb_ops_limit_error(const char *limit, const char *fmt, ...)
{
	g_mutex_lock(&mutex);
	if (!refusals)
		refusals = g_hash_table_new(g_str_hash, g_str_equal);
	gpointer n = g_hash_table_lookup(refusals, limit);
	g_hash_table_insert(refusals, (gpointer)limit, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(n) + 1));
	g_mutex_unlock(&mutex);
	va_list ap;
	va_start(ap, fmt);
	char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	json_t *e = sb_ops_error_named(SB_ERROR_LIMIT, "limit_reached", 429, "%s", text);
	json_object_set_new(e, "limit", json_string(limit));
	g_free(text);
	return e;
}

void sb_ops_limits_metrics(GString *out)
{
	sb_metrics_header(out, "switchboard_limit_refusals_total", "counter",
	                  "Requests refused by a limit, by limit.");
	g_mutex_lock(&mutex);
	if (refusals) {
		GHashTableIter it;
		gpointer key, value;
		g_hash_table_iter_init(&it, refusals);
		while (g_hash_table_iter_next(&it, &key, &value))
			g_string_append_printf(out, "switchboard_limit_refusals_total{limit=\"%s\"} %zu\n",
			                       (const char *)key, GPOINTER_TO_SIZE(value));
	}
	g_mutex_unlock(&mutex);
}
