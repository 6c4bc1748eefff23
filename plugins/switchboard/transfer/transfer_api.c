/* The transfer module's faces: the transfer, summary and assist ops
 * (Janus API, Admin API) and their REST routes, the AI → human hand-off
 * into the queue, and the module's start/stop.  The console's ops are
 * console_api.c; what the ops do is transfer.c (state machine),
 * transfer_env.c (rooms) and presence.c. */
#include "transfer/transfer.h"

#include <string.h>

#include <debug.h>

#include "agent/agent.h"
#include "api/api.h"
#include "console/console.h"
#include "core/core.h"
#include "endpoints/endpoints.h"
#include "room/room.h"
#include "transfer/transfer_private.h"

static unsigned bus_subscription;

/* ---- helpers ---- */

static const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* The machine's reasons as op errors: a code for the Janus API, a name and
 * the HTTP status for REST.  Takes error. */
static json_t *from_machine(sb_transfer_error rc, char *error)
{
	static const struct {
		sb_transfer_error rc;
		sb_error code;
		const char *name;
		int status;
	} reasons[] = {
	        {SB_TRANSFER_E_INVALID, SB_ERROR_INVALID_ELEMENT, "invalid_request", 400},
	        {SB_TRANSFER_E_NOT_FOUND, SB_ERROR_INVALID_ELEMENT, "transfer_not_found", 404},
	        {SB_TRANSFER_E_STATE, SB_ERROR_INVALID_REQUEST, "invalid_state", 409},
	        {SB_TRANSFER_E_OFFLINE, SB_ERROR_INVALID_REQUEST, "agent_unavailable", 409},
	        {SB_TRANSFER_E_BUSY, SB_ERROR_INVALID_REQUEST, "transfer_in_progress", 409},
	        {SB_TRANSFER_E_ROOM, SB_ERROR_NO_SUCH_ROOM, "room_or_participant_gone", 404},
	        {SB_TRANSFER_E_UNSUPPORTED, SB_ERROR_INVALID_REQUEST, "not_supported", 501},
	        /* The trunk failed, not the request. */
	        {SB_TRANSFER_E_DIAL, SB_ERROR_INVALID_REQUEST, "dial_failed", 502},
	};
	sb_error code = SB_ERROR_UNKNOWN;
	const char *name = "internal_error";
	int status = 500;
	for (size_t i = 0; i < G_N_ELEMENTS(reasons); i++)
		if (reasons[i].rc == rc)
			code = reasons[i].code, name = reasons[i].name, status = reasons[i].status;
	json_t *r = sb_ops_error_named(code, name, status, "%s", error ? error : "?");
	g_free(error);
	return r;
}

/* ---- the model's summary for a transfer, after its start ---- */

typedef struct summary_update {
	char *id;
	json_t *summary;
} summary_update;

static void summary_update_free(gpointer data)
{
	summary_update *u = data;
	g_free(u->id);
	json_decref(u->summary);
	g_free(u);
}

static gboolean summary_update_run(gpointer data)
{
	summary_update *u = data;
	sb_transfer_set_summary(u->id, u->summary);
	return G_SOURCE_REMOVE;
}

/* On a provider thread: the machine is driven on the transfer thread. */
static void transfer_summary_written(void *user, json_t *summary)
{
	summary_update *u = g_new0(summary_update, 1);
	u->id = user;
	u->summary = summary;
	sb_transfer_env_invoke(summary_update_run, u, summary_update_free);
}

/* ---- ops ---- */

static json_t *op_transfer_start(json_t *body, sb_op_ctx *ctx, sb_participant *me)
{
	SB_OPS_CHECK_STRING(body, "reason", false, 500);
	json_t *to = json_object_get(body, "to");
	if (!json_is_object(to))
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT,
		                    "to must be an object with agentId, number or uri");
	sb_transfer_request req = {.reason = str(body, "reason")};
	int targets = 0;
	if (sb_ops_string_ok(to, "agentId", true, SB_AGENT_ID_MAX))
		req.kind = SB_TARGET_AGENT, req.target = str(to, "agentId"), targets++;
	if (sb_ops_string_ok(to, "number", true, 32))
		req.kind = SB_TARGET_NUMBER, req.target = str(to, "number"), targets++;
	if (sb_ops_string_ok(to, "uri", true, 256))
		req.kind = SB_TARGET_URI, req.target = str(to, "uri"), targets++;
	if (targets != 1)
		return sb_ops_error(
		        SB_ERROR_INVALID_ELEMENT,
		        "to must have exactly one of agentId (1-%d characters), number or uri",
		        SB_AGENT_ID_MAX);
	if (req.kind == SB_TARGET_AGENT && !sb_presence_agent_id_valid(req.target))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid agentId (A-Z a-z 0-9 . _ -)");
	if (req.kind == SB_TARGET_NUMBER &&
	    !g_regex_match_simple("^\\+[1-9][0-9]{6,14}$", req.target, 0, 0))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "number must be E.164 (+ and 7 to 15 digits)");
	if (req.kind == SB_TARGET_URI && strncmp(req.target, "sip:", 4) &&
	    strncmp(req.target, "sips:", 5))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "uri must be a sip: or sips: URI");
	/* Dialling out costs money and reaches anyone: an agent needs a console
	 * token that grants it (docs/security.md). */
	if (req.kind != SB_TARGET_AGENT && !sb_op_by_operator(ctx) && !ctx->who.dial)
		return sb_ops_error(
		        SB_ERROR_UNAUTHORIZED,
		        "Unauthorized (transfers to numbers and SIP URIs need the dial grant)");

	/* from: a participant id, or an agent id; a console agent transfers
	 * only their own call. */
	json_t *from = json_object_get(body, "from");
	g_autofree char *from_agent = NULL;
	if (json_is_integer(from) && json_integer_value(from) > 0) {
		req.from = (guint64)json_integer_value(from);
	} else if (json_is_string(from) && sb_presence_agent_id_valid(json_string_value(from))) {
		sb_agent_location a;
		if (!sb_presence_locate(json_string_value(from), &a))
			return sb_ops_error_named(SB_ERROR_NO_SUCH_PARTICIPANT, "agent_unavailable",
			                          409, "from: that agent is not signed in");
		req.from = a.participant;
	} else if (from && !json_is_null(from)) {
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "from must be a participant id or an agent id");
	} else if (me) {
		req.from = me->id;
	} else {
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT, "Missing element (from)");
	}
	if (me && req.from != me->id)
		return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Agents transfer their own calls only");
	from_agent = sb_presence_agent_of(req.from);
	req.from_agent = from_agent;

	g_autofree char *room_name = g_strdup(str(body, "room"));
	if (me) {
		/* An agent's transfer is of the call they are in. */
		sb_room *r = sb_participant_room(me);
		bool elsewhere = room_name && (!r || strcmp(r->name, room_name));
		if (!room_name && r)
			room_name = g_strdup(r->name);
		if (r)
			sb_room_unref(r);
		if (elsewhere)
			return sb_ops_error(SB_ERROR_UNAUTHORIZED,
			                    "Agents transfer their own calls only");
	}
	if (!sb_room_name_valid(room_name))
		return sb_ops_error(room_name ? SB_ERROR_INVALID_ELEMENT : SB_ERROR_MISSING_ELEMENT,
		                    "room must be a room name");
	req.room = room_name;
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return sb_ops_room_missing(room_name);
	sb_room_unref(room);
	if (req.kind == SB_TARGET_AGENT && from_agent && !strcmp(from_agent, req.target))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "An agent cannot transfer to themselves");

	char *id = NULL, *error = NULL;
	sb_transfer_error rc = sb_transfer_start(&req, &id, &error);
	if (rc != SB_TRANSFER_OK)
		return from_machine(rc, error);
	json_t *r = sb_transfer_info(id);
	json_object_set_new(r, SB_EVENT_KEY, json_string("transfer"));
	/* The transfer started with the summary at hand (never waiting for a
	 * model); the model's replaces it when it comes. */
	if (sb_transfer_ai_enabled() &&
	    sb_transfer_summary_async(req.room, transfer_summary_written, id))
		id = NULL; /* the callback's now */
	g_free(id);
	return r;
}

static json_t *op_transfer(json_t *body, sb_op_ctx *ctx)
{
	SB_OPS_CHECK_STRING(body, "action", true, 16);
	const char *action = str(body, "action");
	if (!strcmp(action, "blind")) {
		/* Cold transfer out of the system: the SIP module's REFER. */
		const sb_op *refer = sb_ops_find("sip_refer");
		if (!refer)
			return sb_ops_error_named(
			        SB_ERROR_INVALID_REQUEST, "not_supported", 501,
			        "Blind transfer (SIP REFER) needs the SIP module, "
			        "which is not loaded");
		json_t *copy = json_deep_copy(body);
		json_object_set_new(copy, "request", json_string("sip_refer"));
		json_t *r = sb_ops_dispatch(copy, ctx);
		json_decref(copy);
		return r;
	}
	sb_participant *me = NULL;
	json_t *err = sb_console_caller(ctx, &me);
	if (err)
		return err;
	json_t *r;
	if (!strcmp(action, "start")) {
		r = op_transfer_start(body, ctx, me);
	} else if (!sb_ops_string_ok(body, "transfer_id", true, 64)) {
		r = sb_ops_error(SB_ERROR_MISSING_ELEMENT,
		                 "transfer_id must be a string of 1 to 64 characters");
	} else {
		const char *id = str(body, "transfer_id");
		json_t *info = sb_transfer_info(id);
		bool target_side = !strcmp(action, "accept") || !strcmp(action, "decline");
		json_int_t allowed =
		        info ? json_integer_value(json_object_get(
		                       info, target_side ? "to_participant" : "from_participant"))
		             : 0;
		if (info && me && (guint64)allowed != me->id) {
			r = sb_ops_error(SB_ERROR_UNAUTHORIZED, "Only %s may %s this transfer",
			                 target_side ? "its target" : "the agent who started it",
			                 action);
		} else {
			char *error = NULL;
			sb_transfer_error rc = sb_transfer_act(id, action, &error);
			if (rc != SB_TRANSFER_OK) {
				r = from_machine(rc, error);
			} else {
				r = sb_transfer_info(id);
				json_object_set_new(r, SB_EVENT_KEY, json_string("transfer"));
			}
		}
		json_decref(info);
	}
	if (me)
		sb_participant_unref(me);
	return r;
}

/* An answer the model completes (summary or assist), on a provider thread. */
typedef struct model_answer {
	sb_op_later *later;
	json_t *answer; /* the op's answer, without what the model writes */
} model_answer;

static void summary_written(void *user, json_t *summary)
{
	model_answer *m = user;
	json_object_set_new(m->answer, "summary", summary);
	m->later->finish(m->later, m->answer);
	g_free(m);
}

static void assist_written(void *user, json_t *result)
{
	model_answer *m = user;
	json_object_update(m->answer, result);
	json_decref(result);
	m->later->finish(m->later, m->answer);
	g_free(m);
}

/* The call's summary: the extractive one at once, or — with a model
 * configured and a caller who can wait (Janus API, REST) — the model's,
 * later.  The Admin API gets the model's last one while nothing new was
 * said (sb_transfer_summary caches it). */
/* A human agent asks about the call they are in (supervisors: the one
 * they listen to); the operator about any.  NULL, or the error. */
static json_t *own_call_error(sb_op_ctx *ctx, const char *room)
{
	sb_room *exists = room ? sb_room_find(room) : NULL;
	if (room && !exists)
		return sb_ops_room_missing(room);
	if (exists)
		sb_room_unref(exists);
	sb_participant *me = NULL;
	json_t *err = sb_console_caller(ctx, &me);
	if (err || !me || !room)
		return err;
	sb_room *in = sb_participant_room(me);
	bool here = in && !strcmp(in->name, room);
	if (in)
		sb_room_unref(in);
	sb_participant_unref(me);
	return here ? NULL
	            : sb_ops_error(SB_ERROR_UNAUTHORIZED,
	                           "Unauthorized (agents ask about the call they are in)");
}

static json_t *op_summary(json_t *body, sb_op_ctx *ctx)
{
	SB_OPS_CHECK_STRING(body, "room", true, SB_ROOM_NAME_MAX);
	const char *room = str(body, "room");
	json_t *err = own_call_error(ctx, room);
	if (err)
		return err;
	json_t *s = sb_transfer_summary(room);
	if (!s)
		return sb_ops_room_missing(room);
	json_t *r = sb_ops_answer("summary");
	json_object_set_new(r, "room", json_string(room));
	sb_op_later *later = sb_transfer_ai_enabled() ? sb_op_take_later(ctx) : NULL;
	if (!later) {
		json_object_set_new(r, "summary", s);
		return r;
	}
	json_decref(s);
	model_answer *m = g_new0(model_answer, 1);
	m->later = later;
	m->answer = r;
	if (!sb_transfer_summary_async(room, summary_written, m)) { /* the room just went */
		later->finish(later, sb_ops_room_missing(room));
		json_decref(r);
		g_free(m);
	}
	return NULL;
}

static json_t *op_assist(json_t *body, sb_op_ctx *ctx)
{
	SB_OPS_CHECK_STRING(body, "room", false, SB_ROOM_NAME_MAX);
	SB_OPS_CHECK_STRING(body, "message", true, 2000);
	const char *room = str(body, "room");
	json_t *err = own_call_error(ctx, room);
	if (err)
		return err;
	if (room) {
		sb_room *r = sb_room_find(room);
		if (!r)
			return sb_ops_room_missing(room);
		sb_room_unref(r);
	}
	json_t *summary = NULL;
	char *reply = sb_transfer_assist(room, str(body, "message"), &summary);
	const char *local = reply ? reply : "I have nothing on that in the knowledge base.";
	json_t *r = sb_ops_answer("assist");
	json_object_set_new(r, "reply", json_string(local));
	if (summary)
		json_object_set_new(r, "summary", summary);
	/* With a model configured and a caller who can wait, the model answers
	 * (the knowledge base's reply is its fallback). */
	sb_op_later *later = sb_transfer_ai_enabled() ? sb_op_take_later(ctx) : NULL;
	if (!later) {
		json_object_set_new(r, "provider", json_string("local"));
		g_free(reply);
		return r;
	}
	model_answer *m = g_new0(model_answer, 1);
	m->later = later;
	m->answer = r;
	sb_transfer_ai_assist(str(body, "message"), json_object_get(r, "summary"), local,
	                      assist_written, m);
	g_free(reply);
	return NULL;
}

static const sb_op transfer_ops[] = {
        {"transfer", op_transfer, 0, SB_ACCESS_CONSOLE},
        {"summary", op_summary, 0, SB_ACCESS_CONSOLE},
        {"assist", op_assist, 0, SB_ACCESS_CONSOLE},
};

/* ---- REST ---- */

static int route_transfer(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	const char *what = req->param;
	if (!json_is_object(req->body))
		return sb_rest_error(out, 400, "invalid_request", "The body must be a JSON object");
	json_t *r = sb_rest_op_request(req, "transfer");
	if (!strcmp(what, "initiate")) {
		json_object_set_new(r, "action", json_string("start"));
	} else if (!strcmp(what, "complete") || !strcmp(what, "cancel") ||
	           !strcmp(what, "accept") || !strcmp(what, "decline") ||
	           !strcmp(what, "three-way") || !strcmp(what, "blind")) {
		json_object_set_new(r, "action",
		                    json_string(!strcmp(what, "three-way") ? "three_way" : what));
		json_t *id = json_object_get(r, "transferId");
		if (id)
			json_object_set(r, "transfer_id", id);
	} else {
		json_decref(r);
		return sb_rest_error(out, 404, "not_found", "No such transfer action");
	}
	int status = sb_rest_op_answer(sb_ops_run_as(r, &req->who, NULL), 200, out);
	if (status == 200) {
		json_t *id = json_object_get(*out, "transfer_id");
		if (id)
			json_object_set(*out, "transferId", id);
	}
	return status;
}

static int route_transfers(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	if (req->param) {
		json_t *info = sb_transfer_info(req->param);
		if (!info)
			return sb_rest_error(out, 404, "transfer_not_found", "No such transfer");
		*out = info;
		return 200;
	}
	*out = json_pack("{so}", "transfers", sb_transfers_list());
	return 200;
}

static const sb_rest_route transfer_routes[] = {
        {"POST", "/api/transfer/{}", route_transfer, SB_REST_CONSOLE | SB_REST_BODY_ROOM, NULL},
        {"GET", "/api/transfers", route_transfers, 0, NULL},
        {"GET", "/api/transfers/{}", route_transfers, 0, NULL},
        {"POST", "/api/generate-summary", NULL, SB_REST_ASYNC | SB_REST_CONSOLE | SB_REST_BODY_ROOM,
         "summary"},
        {"POST", "/api/chat", NULL, SB_REST_ASYNC | SB_REST_CONSOLE | SB_REST_BODY_ROOM, "assist"},
};

/* ---- hand-off and membership ---- */

/* A bus notification, on the transfer thread: a phone target's call
 * progressed. */
static gboolean bus_event_run(gpointer data)
{
	json_t *n = data;
	const char *room_name = str(n, "room");
	if (!g_strcmp0(str(n, "type"), "call_status")) {
		const char *call_id = str(n, "call_id"), *status = str(n, "status");
		guint64 participant = !strcmp(status, "answered")
		                              ? sb_transfer_env_call_participant(room_name, call_id)
		                              : 0;
		sb_transfer_call_status(call_id, status, participant);
	}
	return G_SOURCE_REMOVE;
}

/* Bus listener: queues a copy of each progress of an outbound call (a
 * phone target); the work runs on the transfer thread. */
static void on_bus(json_t *n, void *user)
{
	(void)user;
	const char *type = str(n, "type");
	bool progress = !g_strcmp0(type, "call_status") && str(n, "call_id") && str(n, "status") &&
	                !g_strcmp0(str(n, "direction"), "outbound");
	if (progress)
		sb_transfer_env_invoke(bus_event_run, json_deep_copy(n),
		                       (GDestroyNotify)json_decref);
}

static gboolean agent_arrived_run(gpointer agent_id)
{
	sb_transfer_agent_arrived(agent_id);
	return G_SOURCE_REMOVE;
}

static void on_member(sb_room *room, sb_participant *p, sb_member_change change, void *user)
{
	(void)user;
	if (change == SB_MEMBER_JOINED && sb_console_is_agent(p)) {
		/* At their desk here: a transfer may have summoned them. */
		char desk[80];
		sb_presence_desk_name(p->identity, desk, sizeof(desk));
		if (!strcmp(desk, room->name))
			sb_transfer_env_invoke(agent_arrived_run, g_strdup(p->identity), g_free);
		return;
	}
	if (change != SB_MEMBER_LEFT)
		return;
	sb_transfer_participant_left(room->name, p->id);
	/* An agent who hung up no longer needs their desk. */
	if (sb_console_is_agent(p)) {
		char desk[80];
		sb_presence_desk_name(p->identity, desk, sizeof(desk));
		sb_room *d = strcmp(desk, room->name) ? sb_room_find(desk) : NULL;
		if (d && sb_room_count_participants(d) == 0)
			sb_room_destroy(d);
		if (d)
			sb_room_unref(d);
		else if (!strcmp(desk, room->name) && !sb_room_is_destroyed(room) &&
		         sb_room_count_participants(room) == 0)
			sb_room_destroy(room);
	}
}

/* ---- metrics ---- */

static void transfer_metrics(GString *out)
{
	sb_transfer_stats ts;
	sb_transfers_get_stats(&ts);
	sb_metrics_header(out, "switchboard_transfers_total", "counter",
	                  "Warm transfers by outcome.");
	g_string_append_printf(
	        out,
	        "switchboard_transfers_total{outcome=\"started\"} %" G_GUINT64_FORMAT "\n"
	        "switchboard_transfers_total{outcome=\"completed\"} %" G_GUINT64_FORMAT "\n"
	        "switchboard_transfers_total{outcome=\"cancelled\"} %" G_GUINT64_FORMAT "\n"
	        "switchboard_transfers_total{outcome=\"failed\"} %" G_GUINT64_FORMAT "\n",
	        ts.started, ts.completed, ts.cancelled, ts.failed);
	sb_metrics_value(out, "switchboard_transfers_active", "gauge", "Warm transfers under way.",
	                 (long long)ts.active);
	uint64_t model, fallback;
	sb_transfer_ai_get_stats(&model, &fallback);
	sb_metrics_header(
	        out, "switchboard_transfer_ai_answers_total", "counter",
	        "Summaries and assist answers asked of a language model, by who answered.");
	g_string_append_printf(
	        out,
	        "switchboard_transfer_ai_answers_total{by=\"model\"} %" G_GUINT64_FORMAT "\n"
	        "switchboard_transfer_ai_answers_total{by=\"fallback\"} %" G_GUINT64_FORMAT "\n",
	        model, fallback);
}

/* ---- module ---- */

/* What the console shows with a queued call. */
static json_t *summary_for_console(const char *room)
{
	return sb_transfer_summary(room);
}

static json_t *transfer_stats(void)
{
	sb_transfer_stats st;
	sb_transfers_get_stats(&st);
	uint64_t by_model = 0, fell_back = 0;
	sb_transfer_ai_get_stats(&by_model, &fell_back);
	return json_pack("{sIsIsIsIsIsIsI}", "active", (json_int_t)st.active, "started",
	                 (json_int_t)st.started, "completed", (json_int_t)st.completed, "cancelled",
	                 (json_int_t)st.cancelled, "failed", (json_int_t)st.failed,
	                 "summaries_by_model", (json_int_t)by_model, "summaries_fell_back",
	                 (json_int_t)fell_back);
}

bool sb_transfer_module_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "transfer");
	sb_transfer_config config = {
	        .ring_timeout_ms = (int)sb_section_int(section, "ring_timeout", 30, 1, 600) * 1000,
	        .ai_company = sb_section_bool(section, "ai_company", false),
	};
	const char *kb = sb_section_string(section, "knowledge_base", NULL);
	if (!sb_transfer_env_start(&config, kb, settings))
		return false;
	sb_room_add_member_listener(on_member, NULL);
	bus_subscription = sb_events_subscribe(on_bus, NULL);
	sb_ops_register(transfer_ops, G_N_ELEMENTS(transfer_ops));
	sb_ops_register_stats("transfers", transfer_stats);
	sb_metrics_register("transfers", transfer_metrics);
	sb_console_set_summary_source(summary_for_console);
	sb_rest_register(transfer_routes, G_N_ELEMENTS(transfer_routes));
	JANUS_LOG(LOG_INFO, "[switchboard] transfer: ring timeout %d s, AI company %s\n",
	          config.ring_timeout_ms / 1000, config.ai_company ? "on" : "off");
	return true;
}

void sb_transfer_module_stop(void)
{
	sb_console_set_summary_source(NULL);
	sb_events_unsubscribe(bus_subscription);
	bus_subscription = 0;
}

void sb_transfer_module_finish(void)
{
	sb_transfer_env_stop();
}
