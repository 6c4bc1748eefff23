/* The console's operations: agents and their presence, the queue of calls
 * (and chats) waiting for a human, a supervisor listening in, signing an
 * agent in, and lines added to a call's transcript — with their REST
 * routes.  Presence and the queue themselves are presence.c. */
#include <string.h>

#include <debug.h>

#include "agent/agent.h"
#include "api/api.h"
#include "console/console_private.h"
#include "core/core.h"
#include "endpoints/endpoints.h"
#include "room/room.h"

static const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

static json_t *op_agents(json_t *body, sb_op_ctx *ctx)
{
	(void)body, (void)ctx;
	json_t *r = sb_ops_answer("agents");
	json_object_set_new(r, "agents", sb_presence_list());
	return r;
}

static json_t *op_agent_status(json_t *body, sb_op_ctx *ctx)
{
	SB_OPS_CHECK_STRING(body, "status", true, 16);
	g_autofree char *agent = NULL;
	json_t *err = sb_console_acting_agent(body, ctx, true, &agent);
	if (err)
		return err;
	const char *status = str(body, "status");
	if (strcmp(status, "available") && strcmp(status, "busy") && strcmp(status, "offline"))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "status must be available, busy or offline");
	if (!sb_presence_set_status(agent, status))
		return sb_ops_error_named(SB_ERROR_NO_SUCH_PARTICIPANT, "agent_unavailable", 409,
		                          "That agent is not signed in");
	json_t *r = sb_ops_answer("agent_status");
	json_object_set_new(r, "agentId", json_string(agent));
	json_object_set_new(r, "status", json_string(status));
	return r;
}

static json_t *op_queue(json_t *body, sb_op_ctx *ctx)
{
	(void)body, (void)ctx;
	json_t *r = sb_ops_answer("queue");
	json_object_set_new(r, "queue", sb_queue_list());
	return r;
}

/* A room joins the queue for a human (an IVR, a webhook, the backend). */
static json_t *op_queue_add(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	SB_OPS_CHECK_STRING(body, "room", true, SB_ROOM_NAME_MAX);
	SB_OPS_CHECK_STRING(body, "reason", false, 200);
	sb_room *room = sb_room_find(str(body, "room"));
	if (!room)
		return sb_ops_room_missing(str(body, "room"));
	sb_queue_add_call(room->name, str(body, "reason") ? str(body, "reason") : "queued", NULL);
	sb_room_unref(room);
	json_t *r = sb_ops_answer("queued");
	json_object_set_new(r, "queue", sb_queue_list());
	return r;
}

/* A console agent takes a waiting call: their participant moves from the
 * desk into the caller's room. */
static json_t *op_queue_take(json_t *body, sb_op_ctx *ctx)
{
	if (json_object_get(body, "conversation")) {
		/* A chat waiting for a human: the module that owns it takes it. */
		const sb_op *take = sb_ops_find("chat_take");
		if (!take)
			return sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "not_supported", 501,
			                          "Chats need the Twilio module, which is not loaded");
		return take->run(body, ctx);
	}
	SB_OPS_CHECK_STRING(body, "room", true, SB_ROOM_NAME_MAX);
	g_autofree char *agent = NULL;
	json_t *err = sb_console_acting_agent(body, ctx, true, &agent);
	if (err)
		return err;
	const char *name = str(body, "room");
	sb_room *room = sb_room_find(name);
	if (!room)
		return sb_ops_room_missing(name);
	sb_agent_location where;
	json_t *r = NULL;
	if (!sb_presence_locate(agent, &where)) {
		r = sb_ops_error_named(SB_ERROR_NO_SUCH_PARTICIPANT, "agent_unavailable", 409,
		                       "That agent is not signed in");
	} else if (!sb_queue_remove(name)) {
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "not_queued", 409,
		                       "That call is not waiting (taken already?)");
	} else {
		sb_room *desk = sb_room_find(where.room);
		sb_participant *p = desk ? sb_room_find_participant(desk, where.participant) : NULL;
		sb_error rc = p ? sb_room_move_participant(p, room) : SB_ERROR_NO_SUCH_PARTICIPANT;
		if (p)
			sb_participant_unref(p);
		if (desk)
			sb_room_unref(desk);
		if (rc != SB_OK) {
			sb_queue_add(name, "take_failed", NULL);
			r = sb_ops_error(rc, "Could not bring the agent into the call (%d)", rc);
		} else {
			sb_presence_set_status(agent, "busy");
			/* The human takes over from the AI agent. */
			if (sb_room_agent_enabled(room))
				sb_agent_enable(room, false);
			r = sb_ops_answer("taken");
			json_object_set_new(r, "room", json_string(name));
			json_object_set_new(r, "agentId", json_string(agent));
			json_t *s = sb_console_summary(name);
			if (s)
				json_object_set_new(r, "summary", s);
			sb_events_publish("call_assigned",
			                  json_pack("{ssss}", "room", name, "agentId", agent));
		}
	}
	sb_room_unref(room);
	return r;
}

/* A supervisor listens in silently: their participant (muted since it
 * joined with the supervisor role, not heard, not keeping rooms open)
 * moves into the room, or back to their desk. */
static json_t *op_listen_in(json_t *body, sb_op_ctx *ctx)
{
	SB_OPS_CHECK_STRING(body, "room", true, SB_ROOM_NAME_MAX);
	sb_participant *me = ctx->session ? sb_session_participant(ctx->session) : NULL;
	if (!me)
		return sb_ops_error(SB_ERROR_NOT_JOINED, "Sign in as a supervisor first");
	json_t *r = NULL;
	sb_room *room = NULL;
	if (!sb_participant_is_supervisor(me) || !sb_participant_listen_only(me)) {
		r = sb_ops_error(SB_ERROR_UNAUTHORIZED, "Only supervisors listen in");
	} else if (!(room = sb_room_find(str(body, "room")))) {
		r = sb_ops_room_missing(str(body, "room"));
	} else {
		char desk[80] = "";
		if (me->identity)
			sb_presence_desk_name(me->identity, desk, sizeof(desk));
		if (room->hidden && strcmp(room->name, desk) != 0) {
			r = sb_ops_error(SB_ERROR_UNAUTHORIZED,
			                 "Private rooms cannot be listened to");
		} else {
			sb_error rc = sb_room_move_participant(me, room);
			r = rc == SB_OK ? sb_ops_answer("listening")
			                : sb_ops_error(rc, "Could not move there (%d)", rc);
			if (rc == SB_OK)
				json_object_set_new(r, "room", json_string(room->name));
		}
		sb_room_unref(room);
	}
	sb_participant_unref(me);
	return r;
}

/* The desk follows its agent: a console token joining its own desk on a
 * node that has none makes it there, as signing in did on the first node.
 * That is how a console moves to the node of a call it takes
 * (html/js/console.js): the token names the room, so it makes nothing
 * else. */
static bool desk_on_join(const char *room, const char *token)
{
	sb_join_claims claims;
	if (sb_auth_token_verify(sb_plugin_settings->jwt_secret, token, room, &claims) !=
	    SB_TOKEN_OK)
		return false;
	char desk[80] = "";
	if (claims.console && sb_presence_agent_id_valid(claims.identity))
		sb_presence_desk_name(claims.identity, desk, sizeof(desk));
	sb_join_claims_clear(&claims);
	return *desk && !strcmp(desk, room) && sb_presence_desk_open(desk) == SB_OK;
}

/* Signs an agent in on the operator's word (the operator's own back end, or
 * accounts.c once a password or a sign-on token was checked): their
 * private desk room and a console token (docs/security.md) that joins it
 * and lets them use the console as themselves — and dial out only when
 * the operator says so. */
static json_t *op_agent_signin(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	SB_OPS_CHECK_STRING(body, "name", false, SB_DISPLAY_MAX);
	const char *agent = str(body, "agentId");
	if (!sb_presence_agent_id_valid(agent))
		return sb_ops_error(agent ? SB_ERROR_INVALID_ELEMENT : SB_ERROR_MISSING_ELEMENT,
		                    "agentId must be 1-%d of A-Z a-z 0-9 . _ -", SB_AGENT_ID_MAX);
	const char *role = str(body, "role") ? str(body, "role") : "agent";
	if (strcmp(role, "agent") && strcmp(role, "supervisor"))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "role must be agent or supervisor");
	json_t *dial = json_object_get(body, "dial");
	if (dial && !json_is_boolean(dial))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "dial must be a boolean");
	char desk[80];
	sb_presence_desk_name(agent, desk, sizeof(desk));
	sb_error rc = sb_presence_desk_open(desk);
	if (rc != SB_OK)
		return sb_ops_error(rc, "Could not create the desk room");
	sb_join_claims claims = {.room = desk,
	                         .identity = (char *)agent,
	                         .name = (char *)str(body, "name"),
	                         .role = (char *)role,
	                         .console = true,
	                         .dial = json_is_true(dial)};
	char *token = sb_auth_token_sign(sb_plugin_settings->jwt_secret, &claims,
	                                 sb_plugin_settings->token_ttl);
	if (!token)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Could not sign the token");
	json_t *t = json_pack("{ss}", "token", token);
	g_free(token);
	json_t *r = sb_ops_answer("signed_in");
	json_object_set_new(r, "agentId", json_string(agent));
	json_object_set_new(r, "desk", json_string(desk));
	json_object_set(r, "token", json_object_get(t, "token"));
	json_decref(t);
	return r;
}

/* A transcript line from outside the agent (an external recogniser, a
 * human's notes): recorded like the agent's own, announced the same way. */
static json_t *op_transcript_add(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	SB_OPS_CHECK_STRING(body, "room", true, SB_ROOM_NAME_MAX);
	SB_OPS_CHECK_STRING(body, "speaker", true, SB_DISPLAY_MAX);
	SB_OPS_CHECK_STRING(body, "text", true, 2000);
	sb_room *room = sb_room_find(str(body, "room"));
	if (!room)
		return sb_ops_room_missing(str(body, "room"));
	sb_room_transcript_add(room, 0, str(body, "speaker"), str(body, "text"), true, NULL);
	sb_room_unref(room);
	return sb_ops_answer("success");
}

static const sb_op console_ops[] = {
        {"queue_add", op_queue_add, 0, SB_ACCESS_OPERATOR},
        {"agents", op_agents, 0, SB_ACCESS_CONSOLE},
        {"agent_status", op_agent_status, 0, SB_ACCESS_CONSOLE},
        {"queue", op_queue, 0, SB_ACCESS_CONSOLE},
        {"queue_take", op_queue_take, 0, SB_ACCESS_CONSOLE},
        {"agent_signin", op_agent_signin, 0, SB_ACCESS_OPERATOR},
        {"listen_in", op_listen_in, SB_OP_SESSION, SB_ACCESS_CONSOLE},
        {"transcript_add", op_transcript_add, 0, SB_ACCESS_OPERATOR},
};

static int route_agents_post(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	if (!strcmp(req->param, "status"))
		return sb_rest_run_op(req, "agent_status", NULL, 200, out);
	return sb_rest_error(out, 404, "not_found", "No such agents action");
}

static const sb_rest_route console_routes[] = {
        {"GET", "/api/agents", NULL, SB_REST_CONSOLE | SB_REST_CLUSTER_LIST, "agents"},
        {"POST", "/api/agents/{}", route_agents_post, SB_REST_CONSOLE, NULL},
        {"GET", "/api/queue", NULL, SB_REST_CONSOLE | SB_REST_CLUSTER_LIST, "queue"},
        {"POST", "/api/queue", NULL, SB_REST_BODY_ROOM, "queue_add"},
        {"POST", "/api/queue/take", NULL, SB_REST_CONSOLE | SB_REST_BODY_ROOM, "queue_take"},
        {"POST", "/api/transcript", NULL, SB_REST_BODY_ROOM, "transcript_add"},
};

void sb_console_api_register(void)
{
	sb_ops_register(console_ops, G_N_ELEMENTS(console_ops));
	sb_rest_register(console_routes, G_N_ELEMENTS(console_routes));
	sb_ops_set_join_room_maker(desk_on_join);
}
