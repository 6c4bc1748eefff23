/* The console module's life: presence and the queue (presence.c), the
 * console's ops and routes (console_api.c), agents' accounts and sign-in
 * (accounts.c), each agent's socket (console_ws.c), and what the bus
 * brings it —
 * the AI's hand-offs, which put a call or a chat in the queue for a human.
 * It starts before the transfer and Twilio modules, which use it. */
#include "console/console_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"
#include "endpoints/endpoints.h"

static sb_loop *loop;
static unsigned bus_subscription;
static unsigned cluster_subscription;
static sb_console_summary_source summary_source;

void sb_console_set_summary_source(sb_console_summary_source source)
{
	summary_source = source;
}

json_t *sb_console_summary(const char *room)
{
	sb_console_summary_source source = summary_source;
	return source ? source(room) : NULL;
}

void sb_queue_add_call(const char *room, const char *reason, json_t *details)
{
	json_t *queued = details ? json_deep_copy(details) : json_object();
	json_t *summary = sb_console_summary(room);
	if (summary)
		json_object_set_new(queued, "summary", summary);
	sb_queue_add(room, reason, queued);
	json_decref(queued);
}

/* Roles come from join tokens; the AI agent's participant also has the
 * role "agent", but never an identity. */
bool sb_console_is_agent(const sb_participant *p)
{
	return p->kind == SB_KIND_WEB && p->role && strcmp(p->role, "agent") == 0 &&
	       sb_presence_agent_id_valid(p->identity);
}

/* The participant of a signed-in agent, wherever they are now (a request
 * over REST has no Janus handle of its own). */
static sb_participant *participant_of(const char *agent_id)
{
	sb_agent_location where;
	if (!sb_presence_locate(agent_id, &where))
		return NULL;
	sb_room *room = sb_room_find(where.room);
	sb_participant *p = room ? sb_room_find_participant(room, where.participant) : NULL;
	if (room)
		sb_room_unref(room);
	return p;
}

json_t *sb_console_caller(sb_op_ctx *ctx, sb_participant **out)
{
	if (out)
		*out = NULL;
	if (sb_op_by_operator(ctx))
		return NULL;
	/* The role is the console token's: nobody declares it. */
	if (ctx->who.kind != SB_WHO_CONSOLE)
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (sign in at the console: a console token)");
	sb_participant *p = ctx->session ? sb_session_participant(ctx->session) : NULL;
	if (!p)
		p = participant_of(ctx->who.identity);
	if (!p)
		return sb_ops_error(SB_ERROR_NOT_JOINED,
		                    "Open your desk first (join it with your console token)");
	if (g_strcmp0(p->identity, ctx->who.identity) != 0) {
		sb_participant_unref(p);
		return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Unauthorized (not your participant)");
	}
	if (out)
		*out = p;
	else
		sb_participant_unref(p);
	return NULL;
}

json_t *sb_console_acting_agent(json_t *body, sb_op_ctx *ctx, bool supervisors, char **agent_id)
{
	*agent_id = NULL;
	const char *named = json_string_value(json_object_get(body, "agentId"));
	if (sb_op_by_operator(ctx)) {
		json_t *id = json_object_get(body, "agentId");
		if (!sb_presence_agent_id_valid(named))
			return sb_ops_error(
			        id ? SB_ERROR_INVALID_ELEMENT : SB_ERROR_MISSING_ELEMENT,
			        "agentId must be 1-%d of A-Z a-z 0-9 . _ -", SB_AGENT_ID_MAX);
		*agent_id = g_strdup(named);
		return NULL;
	}
	if (ctx->who.kind != SB_WHO_CONSOLE || !sb_presence_agent_id_valid(ctx->who.identity))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (sign in at the console: a console token)");
	if (named && strcmp(named, ctx->who.identity))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED,
		                    "Unauthorized (an agent acts only as themselves)");
	if (!supervisors && strcmp(ctx->who.role, "agent"))
		return sb_ops_error(SB_ERROR_UNAUTHORIZED, "Only console agents may do this");
	*agent_id = g_strdup(ctx->who.identity);
	return NULL;
}

/* On the console's thread: the AI agent asked for a human, for a room
 * or a WhatsApp chat (whose module put its messages and summary in
 * details); the call waits in the queue with its summary. */
static gboolean handoff_run(gpointer data)
{
	json_t *n = data;
	const char *room_name = json_string_value(json_object_get(n, "room"));
	json_t *details = json_object_get(n, "details");
	if (!room_name) {
		sb_queue_add_entry("whatsapp",
		                   json_string_value(json_object_get(n, "conversation")),
		                   "handoff_requested", details);
		return G_SOURCE_REMOVE;
	}
	sb_room *room = sb_room_find(room_name);
	if (room) {
		sb_queue_add_call(room_name, "handoff_requested", details);
		sb_room_unref(room);
	}
	return G_SOURCE_REMOVE;
}

/* Bus listener (publisher's thread): queues a copy of the hand-offs. */
static void on_bus(json_t *n, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(n, "type"));
	const char *room = json_string_value(json_object_get(n, "room"));
	const char *conversation = json_string_value(json_object_get(n, "conversation"));
	const char *interface = json_string_value(json_object_get(n, "interface"));
	if (g_strcmp0(type, "handoff_requested") != 0)
		return;
	if (room || (conversation && !g_strcmp0(interface, "whatsapp")))
		sb_loop_invoke(loop, handoff_run, json_deep_copy(n), (GDestroyNotify)json_decref);
}

/* A transfer on another node asks for one of our agents: if they are
 * available at their desk here, their console is told where the call is
 * ("summoned", with the holder's location); it moves there
 * (html/js/console.js), and that node rings them once they arrive. */
static void summon(json_t *n)
{
	const char *agent = json_string_value(json_object_get(n, "agentId"));
	const char *call = json_string_value(json_object_get(n, "room"));
	sb_agent_location where;
	if (!call || !sb_presence_locate(agent, &where) || !where.available)
		return;
	json_t *location = sb_room_locate(call); /* the directory: this loop may wait */
	sb_room *desk = location ? sb_room_find(where.room) : NULL;
	sb_participant *p = desk ? sb_room_find_participant(desk, where.participant) : NULL;
	if (p && p->ops && p->ops->send_event) {
		json_t *ev = sb_room_event(desk, "summoned");
		json_object_set_new(ev, "call", json_string(call));
		json_object_set(ev, "transfer_id", json_object_get(n, "transfer_id"));
		json_object_set(ev, "from", json_object_get(n, "from"));
		json_object_set(ev, "location", location);
		p->ops->send_event(p, ev);
		json_decref(ev);
	}
	if (p)
		sb_participant_unref(p);
	if (desk)
		sb_room_unref(desk);
	json_decref(location);
}

/* On the console's thread: another node's news about agents. */
static gboolean cluster_run(gpointer data)
{
	json_t *n = data;
	g_autofree char *self = sb_events_node();
	const char *from = json_string_value(json_object_get(n, "node"));
	if (!self || !from || !strcmp(self, from))
		return G_SOURCE_REMOVE; /* our own: presence.c knows it first-hand */
	if (!g_strcmp0(json_string_value(json_object_get(n, "type")), "agent_summoned"))
		summon(n);
	else
		sb_presence_heard(n);
	return G_SOURCE_REMOVE;
}

/* Cluster bus listener (publisher's or bus thread): queues a copy. */
static void on_cluster_bus(json_t *n, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(n, "type"));
	if (!g_strcmp0(type, "agent_presence") || !g_strcmp0(type, "node_lost") ||
	    !g_strcmp0(type, "agent_summoned"))
		sb_loop_invoke(loop, cluster_run, json_deep_copy(n), (GDestroyNotify)json_decref);
}

bool sb_console_start(const sb_settings *settings)
{
	sb_presence_init();
	/* Without it agents sign in only through the operator's back end. */
	if (!sb_accounts_start(settings))
		JANUS_LOG(LOG_ERR, "[switchboard] console accounts are OFF\n");
	loop = sb_loop_start("sb console", false);
	sb_room_add_member_listener(sb_presence_member_change, NULL);
	bus_subscription = sb_events_subscribe(on_bus, NULL);
	cluster_subscription = sb_events_subscribe_cluster(on_cluster_bus, NULL);
	sb_console_api_register();
	sb_console_ws_start();
	return true;
}

void sb_console_stop(void)
{
	sb_ops_set_join_room_maker(NULL);
	sb_events_unsubscribe(bus_subscription);
	bus_subscription = 0;
	sb_events_unsubscribe(cluster_subscription);
	cluster_subscription = 0;
	sb_loop_stop(loop);
	loop = NULL;
	sb_console_ws_stop();
	sb_accounts_stop();
}

void sb_console_finish(void)
{
	sb_presence_deinit();
}
