/* A human agent holds a WhatsApp chat (console ops): handoff_requested
 * (whatsapp.c) puts the chat in the console queue; an agent takes it
 * (queue_take with a conversation → chat_take), replies
 * (chat_reply: Messages.json, 24-hour rule as /whatsapp/send) and gives it
 * back to the AI (chat_release), or it ends on the idle timeout.  While
 * held, inbound messages are not answered by the AI; whatsapp_message
 * carries the holder's agentId so their console shows them.  Ops run on
 * the Janus handler thread or the HTTP thread: the conversation's human
 * state is read and changed under sb_wa_lock only. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "api/api.h"
#include "console/console.h"

/* The conversation named in body, locked; NULL with *err. */
static sb_wa_conversation *chat_find(json_t *body, json_t **err)
{
	json_t *v = json_object_get(body, "conversation");
	const char *key = json_string_value(v);
	if (!key || !*key || strlen(key) > 80) {
		*err = sb_ops_error(v ? SB_ERROR_INVALID_ELEMENT : SB_ERROR_MISSING_ELEMENT,
		                    "conversation must be a string of 1 to 80 characters");
		return NULL;
	}
	sb_wa_conversation *c = sb_wa_find(key);
	if (!c)
		*err = sb_ops_error_named(SB_ERROR_INVALID_ELEMENT, "conversation_not_found", 404,
		                          "No such WhatsApp conversation (%s)", key);
	return c;
}

/* The agent who acts (g_free) and the conversation body names, locked;
 * NULL with *err, and nothing locked, when either is not there. */
static sb_wa_conversation *chat_of_agent(json_t *body, sb_op_ctx *ctx, char **agent, json_t **err)
{
	if ((*err = sb_console_acting_agent(body, ctx, false, agent)))
		return NULL;
	sb_wa_lock();
	sb_wa_conversation *c = chat_find(body, err);
	if (!c) {
		sb_wa_unlock();
		g_clear_pointer(agent, g_free);
	}
	return c;
}

static bool held_by(sb_wa_conversation *c, const char *agent)
{
	return c->agent && !strcmp(c->agent, agent);
}

static const char *chat_state(sb_wa_conversation *c)
{
	return !c->handed_off ? "ai" : c->agent ? "held" : "queued";
}

/* {conversation, from, to, profile_name, state, agentId, messages}; locked. */
static json_t *chat_json(sb_wa_conversation *c, const char *answer)
{
	json_t *log = c->log ? json_deep_copy(c->log) : json_array();
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s?, s:o}", SB_EVENT_KEY, answer,
	                 "conversation", c->key, "from", c->from, "to", c->to, "profile_name",
	                 c->profile_name, "state", chat_state(c), "agentId", c->agent, "messages",
	                 log);
}

static json_t *op_chat_take(json_t *body, sb_op_ctx *ctx)
{
	char *agent = NULL;
	json_t *r = NULL;
	sb_wa_conversation *c = chat_of_agent(body, ctx, &agent, &r);
	if (!c)
		return r;
	bool taken = c->handed_off && !c->agent;
	if (!taken) {
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "not_queued", 409,
		                       "That chat is not waiting for a human (taken already?)");
	} else {
		c->agent = g_strdup(agent);
		c->last_activity_us = g_get_monotonic_time();
		r = chat_json(c, "taken");
	}
	sb_wa_unlock();
	if (taken) {
		const char *key = json_string_value(json_object_get(r, "conversation"));
		sb_queue_remove_entry("whatsapp", key);
		/* The transfer module's kind of summary, of the whole chat. */
		json_t *lines = json_array(), *m;
		size_t i;
		json_array_foreach(json_object_get(r, "messages"), i, m)
		{
			const char *dir = json_string_value(json_object_get(m, "direction"));
			json_array_append_new(
			        lines, json_pack("{s:s, s:O}", "role",
			                         g_strcmp0(dir, "inbound") ? "assistant" : "user",
			                         "content", json_object_get(m, "body")));
		}
		json_t *summary = sb_dialog_summary_of(NULL, lines);
		json_decref(lines);
		if (summary)
			json_object_set_new(r, "summary", summary);
		sb_events_publish("chat_assigned",
		                  json_pack("{s:s, s:s, s:s}", "conversation", key, "agentId",
		                            agent, "interface", "whatsapp"));
	}
	g_free(agent);
	return r;
}

typedef struct chat_send {
	char *conversation, *from, *to, *text, *agent;
} chat_send;

static void chat_send_free(gpointer data)
{
	chat_send *m = data;
	g_free(m->conversation);
	g_free(m->from);
	g_free(m->to);
	g_free(m->text);
	g_free(m->agent);
	g_free(m);
}

/* HTTP thread: the same path as /whatsapp/send (Messages.json). */
static gboolean chat_send_run(gpointer data)
{
	chat_send *m = data;
	char *error = NULL;
	if (!sb_wa_send(m->conversation, m->from, m->to, m->text, NULL, NULL, NULL, "agent",
	                m->agent, &error))
		JANUS_LOG(LOG_WARN, "[switchboard] whatsapp %s: agent reply not sent: %s\n",
		          m->conversation, error);
	g_free(error);
	return G_SOURCE_REMOVE;
}

static json_t *op_chat_reply(json_t *body, sb_op_ctx *ctx)
{
	json_t *t = json_object_get(body, "text");
	const char *text = json_string_value(t);
	if (!text || !*text || !g_utf8_validate(text, -1, NULL))
		return sb_ops_error(t ? SB_ERROR_INVALID_ELEMENT : SB_ERROR_MISSING_ELEMENT,
		                    "text must be a non-empty UTF-8 string");
	if (g_utf8_strlen(text, -1) > SB_WA_MAX_BODY)
		return sb_ops_error_named(SB_ERROR_INVALID_ELEMENT, "body_too_long", 400,
		                          "text longer than %d characters", SB_WA_MAX_BODY);
	char *agent = NULL;
	json_t *r = NULL;
	sb_wa_conversation *c = chat_of_agent(body, ctx, &agent, &r);
	if (!c)
		return r;
	chat_send *m = NULL;
	if (!held_by(c, agent)) {
		r = sb_ops_error_named(
		        SB_ERROR_INVALID_REQUEST, "chat_not_held", 409,
		        "That chat is not held by you (take it from the queue first)");
	} else if (!sb_wa_in_window(c->from)) {
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "outside_24h_window", 422,
		                       "No message from this user in the last 24 hours: only a "
		                       "template may be sent (POST /whatsapp/send)");
	} else {
		sb_wa_log(c, "outbound", "agent", agent, text);
		c->last_activity_us = g_get_monotonic_time();
		m = g_new0(chat_send, 1);
		m->conversation = g_strdup(c->key);
		m->from = g_strdup(c->to);
		m->to = g_strdup(c->from);
		m->text = g_strdup(text);
		m->agent = g_strdup(agent);
		r = json_pack("{s:s, s:s, s:s, s:s}", SB_EVENT_KEY, "chat_reply", "conversation",
		              c->key, "to", c->from, "status", "sending");
	}
	sb_wa_unlock();
	g_free(agent);
	if (m)
		sb_http_invoke(G_PRIORITY_DEFAULT, chat_send_run, m, chat_send_free);
	return r;
}

static json_t *op_chat_release(json_t *body, sb_op_ctx *ctx)
{
	char *agent = NULL;
	json_t *r = NULL;
	sb_wa_conversation *c = chat_of_agent(body, ctx, &agent, &r);
	if (!c)
		return r;
	bool held = held_by(c, agent);
	if (!held) {
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "chat_not_held", 409,
		                       "That chat is not held by you");
	} else {
		/* Back to the AI: it answers the next message again. */
		c->handed_off = false;
		g_clear_pointer(&c->agent, g_free);
		c->last_activity_us = g_get_monotonic_time();
		r = chat_json(c, "released");
	}
	sb_wa_unlock();
	if (held)
		sb_events_publish("chat_released",
		                  json_pack("{s:O, s:s, s:s, s:s}", "conversation",
		                            json_object_get(r, "conversation"), "agentId", agent,
		                            "reason", "released", "interface", "whatsapp"));
	g_free(agent);
	return r;
}

static json_t *op_chat(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	json_t *err = NULL;
	sb_wa_lock();
	sb_wa_conversation *c = chat_find(body, &err);
	json_t *r = c ? chat_json(c, "chat") : err;
	sb_wa_unlock();
	return r;
}

static const sb_op chat_ops[] = {
        {"chat_take", op_chat_take, 0, SB_ACCESS_CONSOLE},
        {"chat_reply", op_chat_reply, 0, SB_ACCESS_CONSOLE},
        {"chat_release", op_chat_release, 0, SB_ACCESS_CONSOLE},
        {"chat_history", op_chat, 0, SB_ACCESS_CONSOLE},
};

static int route_chat_get(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	return sb_rest_run_op(req, "chat_history", "conversation", 200, out);
}

static int route_chat_post(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	/* The operator names the agent who acts (agentId); an agent with a
	 * console token acts as themselves. */
	if (!strcmp(req->param, "take"))
		return sb_rest_run_op(req, "chat_take", NULL, 200, out);
	if (!strcmp(req->param, "reply"))
		return sb_rest_run_op(req, "chat_reply", NULL, 202, out);
	if (!strcmp(req->param, "release"))
		return sb_rest_run_op(req, "chat_release", NULL, 200, out);
	return sb_rest_error(out, 404, "not_found", "No such chat action (take, reply, release)");
}

static const sb_rest_route chat_routes[] = {
        {"GET", "/whatsapp/chat/{}", route_chat_get, SB_REST_CONSOLE, NULL},
        {"POST", "/whatsapp/chat/{}", route_chat_post, SB_REST_CONSOLE, NULL},
};

void sb_wa_chat_start(void)
{
	sb_ops_register(chat_ops, G_N_ELEMENTS(chat_ops));
	sb_rest_register(chat_routes, G_N_ELEMENTS(chat_routes));
}
