/* WhatsApp through Twilio: one conversation per sender, remembered until
 * an idle timeout; the webhook is answered by the model as TwiML, or by
 * Messages.json when the model is slower than a webhook should wait.
 * Conversations live on the HTTP thread; their human state (a console
 * agent holding the chat, whatsapp_chat.c) is under a lock, since console
 * ops run on other threads. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "api/api.h"
#include "console/console.h"

#define MAX_CONVERSATIONS 10000
#define QUEUE_LAST 10 /* of them shown in the console's queue */
#define MEDIA_ANSWER                                                                               \
	"Thanks for sending that! I can only read text messages for now. Could you tell me in "    \
	"words what you need?"

typedef sb_wa_conversation conversation;

static GHashTable *conversations; /* key -> conversation* ; HTTP thread */
static GMutex mutex;              /* guards conversations and their human state (console ops) */
static GHashTable *last_inbound;  /* whatsapp:+… -> gint64* (24-hour rule) */
static GSource *sweeper;

static const char *form(const sb_rest_request *req, const char *k)
{
	return sb_twilio_form(req, k);
}

/* by: who wrote it — "user", "ai", "agent" (a human) or "api" (POST
 * /whatsapp/send); agent: the human who wrote it (outbound) or who holds
 * the chat (inbound: forwarded to their console), or NULL. */
static void publish_message(const char *conv, const char *from, const char *to, const char *body,
                            const char *direction, const char *sid, int media, const char *by,
                            const char *agent)
{
	sb_events_publish("whatsapp_message",
	                  json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:s?, s:i, s:s, s:s?}",
	                            "conversation", conv, "from", from, "to", to, "body",
	                            body ? body : "", "direction", direction, "message_sid", sid,
	                            "media_count", media, "by", by, "agentId", agent));
}

/* Keeps a message for the human agent's view; mutex held. */
void sb_wa_log(conversation *c, const char *direction, const char *by, const char *agent,
               const char *body)
{
	if (!c->log)
		c->log = json_array();
	if (json_array_size(c->log) >= SB_WA_LOG_MAX)
		json_array_remove(c->log, 0);
	json_array_append_new(c->log,
	                      json_pack("{s:s, s:s, s:s?, s:s, s:I}", "direction", direction, "by",
	                                by, "agentId", agent, "body", body ? body : "", "at",
	                                (json_int_t)(g_get_real_time() / 1000)));
}

static json_t *last_messages(conversation *c, size_t n)
{
	json_t *out = json_array();
	size_t len = c->log ? json_array_size(c->log) : 0;
	for (size_t i = len > n ? len - n : 0; i < len; i++)
		json_array_append_new(out, json_deep_copy(json_array_get(c->log, i)));
	return out;
}

static void conversation_free(gpointer data)
{
	conversation *c = data;
	if (c->deadline) {
		g_source_destroy(c->deadline);
		g_source_unref(c->deadline);
	}
	if (c->pending)
		sb_rest_finish(c->pending, 200, NULL, sb_twiml_empty(), "text/xml");
	sb_dialog_free(c->dialog);
	json_decref(c->log);
	g_free(c->agent);
	g_free(c->key);
	g_free(c->from);
	g_free(c->to);
	g_free(c->profile_name);
	g_free(c);
}

/* ---- sending through Messages.json ---- */

typedef struct sending {
	sb_rest_reply *reply; /* NULL: nobody waits */
	char *conversation, *from, *to, *body;
	char *by;    /* "ai", "agent", "api" */
	char *agent; /* a human agent's reply */
} sending;

static void sent(void *user, long status, json_t *body, const char *error)
{
	sending *s = user;
	const char *sid = json_string_value(json_object_get(body, "sid"));
	if (!error)
		publish_message(s->conversation, s->from, s->to, s->body, "outbound", sid, 0, s->by,
		                s->agent);
	else if (s->agent)
		sb_events_publish("chat_error",
		                  json_pack("{s:s, s:s, s:s, s:i}", "conversation", s->conversation,
		                            "agentId", s->agent, "error", error, "twilio_status",
		                            (int)status));
	if (s->reply) {
		if (error) {
			json_t *e = sb_http_error("twilio_error", "%s", error);
			json_object_set_new(json_object_get(e, "error"), "twilio_status",
			                    json_integer(status));
			sb_rest_finish(s->reply, 502, e, NULL, NULL);
		} else {
			const char *st = json_string_value(json_object_get(body, "status"));
			sb_rest_finish(s->reply, 201,
			               json_pack("{s:s?, s:s, s:s?}", "sid", sid, "to", s->to,
			                         "status", st),
			               NULL, NULL);
		}
	}
	g_free(s->conversation);
	g_free(s->from);
	g_free(s->to);
	g_free(s->body);
	g_free(s->by);
	g_free(s->agent);
	g_free(s);
}

static void add_pair(GPtrArray *pairs, const char *name, const char *value)
{
	g_ptr_array_add(pairs, g_strdup(name));
	g_ptr_array_add(pairs, g_strdup(value));
}

/* Body, or ContentSid (+ ContentVariables) for a template. */
bool sb_wa_send(const char *conv, const char *from, const char *to, const char *body,
                const char *content_sid, const char *content_vars, sb_rest_reply *reply,
                const char *by, const char *agent, char **error)
{
	GPtrArray *pairs = g_ptr_array_new_with_free_func(g_free);
	add_pair(pairs, "From", from);
	add_pair(pairs, "To", to);
	if (content_sid) {
		add_pair(pairs, "ContentSid", content_sid);
		if (content_vars)
			add_pair(pairs, "ContentVariables", content_vars);
	} else {
		add_pair(pairs, "Body", body);
	}
	sending *s = g_new0(sending, 1);
	s->reply = reply;
	s->conversation = g_strdup(conv);
	s->from = g_strdup(from);
	s->to = g_strdup(to);
	s->body = g_strdup(content_sid ? content_sid : body);
	s->by = g_strdup(agent ? "agent" : by ? by : "ai");
	s->agent = g_strdup(agent);
	bool ok = sb_twilio_rest_post("/Messages.json", pairs, sent, s, error);
	g_ptr_array_unref(pairs);
	if (!ok) {
		s->reply = NULL;
		sent(s, 0, NULL, *error);
	}
	return ok;
}

/* ---- the conversation with the model ---- */

static void answer_now(conversation *c, const char *text)
{
	if (!c->pending)
		return;
	if (c->deadline) {
		g_source_destroy(c->deadline);
		g_clear_pointer(&c->deadline, g_source_unref);
	}
	sb_rest_finish(c->pending, 200, NULL, text ? sb_twiml_message(text) : sb_twiml_empty(),
	               "text/xml");
	c->pending = NULL;
}

static void on_done(void *user, const char *reply, const char *tool, json_t *args,
                    const char *error)
{
	conversation *c = user;
	(void)args;
	char *text = g_utf8_substring(reply, 0, MIN(g_utf8_strlen(reply, -1), SB_WA_MAX_BODY));
	if (error)
		JANUS_LOG(LOG_WARN, "[switchboard] whatsapp %s: language model failed: %s\n",
		          c->key, error);
	g_mutex_lock(&mutex);
	sb_wa_log(c, "outbound", "ai", NULL, text);
	g_mutex_unlock(&mutex);
	if (c->pending) {
		answer_now(c, text);
		publish_message(c->key, c->to, c->from, text, "outbound", NULL, 0, "ai", NULL);
	} else {
		/* The webhook already answered: the reply goes through the API. */
		char *err = NULL;
		if (!sb_wa_send(c->key, c->to, c->from, text, NULL, NULL, NULL, "ai", NULL, &err))
			JANUS_LOG(LOG_WARN, "[switchboard] whatsapp %s: late reply not sent: %s\n",
			          c->key, err);
		g_free(err);
	}
	g_free(text);
	g_mutex_lock(&mutex);
	bool handoff = tool && !strcmp(tool, "transfer_to_human") && !c->handed_off;
	json_t *messages = NULL;
	if (handoff) {
		c->handed_off = true;
		messages = last_messages(c, QUEUE_LAST);
	}
	g_mutex_unlock(&mutex);
	if (handoff) {
		/* The console queue shows the chat with what was said and the
		 * transfer module's kind of summary (transfer_api.c queues it). */
		char *summary = sb_dialog_summary(c->dialog);
		json_t *details = json_pack(
		        "{s:s, s:s, s:s, s:s, s:s?, s:o, s:o*}", "kind", "whatsapp", "conversation",
		        c->key, "from", c->from, "to", c->to, "profile_name", c->profile_name,
		        "messages", messages, "summary", sb_dialog_summary_of(c->dialog, NULL));
		sb_events_publish("handoff_requested",
		                  json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o}", "conversation",
		                            c->key, "interface", "whatsapp", "from", c->from,
		                            "profile_name", c->profile_name, "summary", summary,
		                            "details", details));
		g_free(summary);
	}
}

static const sb_dialog_events dialog_events = {.done = on_done};

static gboolean deadline_passed(gpointer data)
{
	conversation *c = data;
	g_clear_pointer(&c->deadline, g_source_unref);
	if (c->pending) {
		/* The model is slow: free the webhook; the answer follows by API. */
		sb_rest_finish(c->pending, 200, NULL, sb_twiml_empty(), "text/xml");
		c->pending = NULL;
	}
	return G_SOURCE_REMOVE;
}

static bool digits(const char *s)
{
	if (!s || !*s || strlen(s) > 20)
		return false;
	for (; *s; s++)
		if (!g_ascii_isdigit(*s))
			return false;
	return true;
}

static bool whatsapp_number(const char *s)
{
	if (!s || !g_str_has_prefix(s, "whatsapp:+"))
		return false;
	return digits(s + 10) && strlen(s + 10) >= 6;
}

static int route_message(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	int status;
	if ((status = sb_twilio_verify(req, false, out)))
		return status;
	const char *sid = form(req, "MessageSid");
	const char *from = form(req, "From");
	const char *to = form(req, "To");
	const char *body = form(req, "Body");
	const char *wa_id = form(req, "WaId");
	const char *num_media = form(req, "NumMedia");
	if (!sb_twilio_sid_valid(sid))
		return sb_rest_error(out, 400, "invalid_request", "MessageSid missing or invalid");
	if (!whatsapp_number(from) || !to || strlen(to) > 64)
		return sb_rest_error(out, 400, "invalid_request",
		                     "From must be whatsapp:+E164, To required");
	if (body && g_utf8_strlen(body, -1) > SB_WA_MAX_BODY)
		return sb_rest_error(out, 413, "body_too_long", "Body longer than 1600 characters");
	if (body && !g_utf8_validate(body, -1, NULL))
		return sb_rest_error(out, 400, "invalid_request", "Body is not UTF-8");
	if (wa_id && !digits(wa_id))
		return sb_rest_error(out, 400, "invalid_request", "WaId must be digits");
	int media = num_media ? atoi(num_media) : 0;
	if (media < 0 || media > 10)
		return sb_rest_error(out, 400, "invalid_request", "NumMedia out of range");
	const char *key = wa_id ? wa_id : from;
	gint64 now = g_get_monotonic_time();
	g_mutex_lock(&mutex);
	conversation *c = g_hash_table_lookup(conversations, key);
	if (!c && g_hash_table_size(conversations) >= MAX_CONVERSATIONS) {
		g_mutex_unlock(&mutex);
		return sb_rest_error(out, 503, "limit_reached", "Too many WhatsApp conversations");
	}
	if (!c) {
		c = g_new0(conversation, 1);
		c->key = g_strdup(key);
		c->from = g_strdup(from);
		c->to = g_strdup(to);
		c->dialog = sb_dialog_new("chat", &dialog_events, c);
		g_hash_table_insert(conversations, c->key, c);
	}
	if (form(req, "ProfileName") && !c->profile_name)
		c->profile_name = g_strdup(form(req, "ProfileName"));
	c->messages++;
	c->last_activity_us = now;
	sb_wa_log(c, "inbound", "user", NULL, media > 0 && (!body || !*body) ? "(media)" : body);
	bool handed_off = c->handed_off;
	char *holder = g_strdup(c->agent);
	gint64 *last = g_new(gint64, 1);
	*last = now;
	if (g_hash_table_size(last_inbound) < MAX_CONVERSATIONS * 4)
		g_hash_table_replace(last_inbound, g_strdup(from), last);
	else
		g_free(last);
	g_mutex_unlock(&mutex);
	/* While a human holds the chat, agentId forwards it to their console. */
	publish_message(key, from, to, body, "inbound", sid, media, "user", holder);
	g_free(holder);
	*tt = "text/xml";
	/* An answer still owed for an earlier message is given up (empty). */
	answer_now(c, NULL);
	const char *stripped = body ? body : "";
	while (g_ascii_isspace(*stripped))
		stripped++;
	if (handed_off) {
		*text = sb_twiml_empty(); /* a human has the chat now: the AI is quiet */
		return 200;
	}
	if (!*stripped) {
		const char *reply =
		        media > 0 ? MEDIA_ANSWER
		                  : "Sorry, I did not get that. Could you type your question?";
		g_mutex_lock(&mutex);
		sb_wa_log(c, "outbound", "ai", NULL, reply);
		g_mutex_unlock(&mutex);
		publish_message(key, to, from, reply, "outbound", NULL, 0, "ai", NULL);
		*text = sb_twiml_message(reply);
		return 200;
	}
	c->pending = req->reply;
	/* Ours to destroy until it fires (HTTP thread: it cannot fire yet). */
	c->deadline = sb_http_timeout((guint)sb_twilio_cfg()->whatsapp_reply_timeout_ms,
	                              deadline_passed, c, NULL);
	if (c->deadline)
		g_source_ref(c->deadline);
	sb_dialog_ask(c->dialog, stripped, NULL); /* its script tells the language */
	return 0;
}

/* ---- API: send, call ---- */

static int route_send(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	const char *to = req->body ? json_string_value(json_object_get(req->body, "to")) : NULL;
	const char *message =
	        req->body ? json_string_value(json_object_get(req->body, "message")) : NULL;
	const char *content_sid =
	        req->body ? json_string_value(json_object_get(req->body, "contentSid")) : NULL;
	json_t *vars = req->body ? json_object_get(req->body, "contentVariables") : NULL;
	char *to_norm = to && to[0] == '+' ? g_strconcat("whatsapp:", to, NULL) : g_strdup(to);
	if (!whatsapp_number(to_norm)) {
		g_free(to_norm);
		return sb_rest_error(out, 400, "invalid_request", "to must be whatsapp:+E164");
	}
	if ((!message || !*message) && !content_sid) {
		g_free(to_norm);
		return sb_rest_error(out, 400, "invalid_request",
		                     "message (or a template contentSid) is required");
	}
	if (message && g_utf8_strlen(message, -1) > SB_WA_MAX_BODY) {
		g_free(to_norm);
		return sb_rest_error(out, 413, "body_too_long",
		                     "message longer than 1600 characters");
	}
	if (content_sid && !sb_twilio_sid_valid(content_sid)) {
		g_free(to_norm);
		return sb_rest_error(out, 400, "invalid_request", "contentSid is invalid");
	}
	const sb_twilio_config *cfg = sb_twilio_cfg();
	if (!*cfg->whatsapp_from) {
		g_free(to_norm);
		return sb_rest_error(out, 503, "not_configured",
		                     "[whatsapp] from is not configured");
	}
	g_mutex_lock(&mutex);
	gint64 *last = g_hash_table_lookup(last_inbound, to_norm);
	bool in_window = last && g_get_monotonic_time() - *last < SB_WA_WINDOW_US;
	/* The user's conversation, if any, so the message joins its record
	 * and its history (a WaId is the number's digits). */
	conversation *c = NULL;
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, conversations);
	while (!c && g_hash_table_iter_next(&it, NULL, &v))
		if (!strcmp(((conversation *)v)->from, to_norm))
			c = v;
	char *conv = g_strdup(c ? c->key : to_norm + 10);
	if (c && in_window && !content_sid)
		sb_wa_log(c, "outbound", "api", NULL, message);
	g_mutex_unlock(&mutex);
	if (!content_sid && !in_window) {
		g_free(conv);
		g_free(to_norm);
		return sb_rest_error(
		        out, 422, "outside_24h_window",
		        "No message from this user in the last 24 hours: only a template "
		        "(contentSid) may be sent");
	}
	char *vars_text = json_is_object(vars)   ? json_dumps(vars, JSON_COMPACT)
	                  : json_is_string(vars) ? g_strdup(json_string_value(vars))
	                                         : NULL;
	char *error = NULL;
	bool ok = sb_wa_send(conv, cfg->whatsapp_from, to_norm, message, content_sid, vars_text,
	                     req->reply, "api", NULL, &error);
	/* json_dumps memory is malloc'd, g_strdup's is GLib's: both plain free here. */
	free(vars_text);
	g_free(conv);
	g_free(to_norm);
	if (!ok) {
		*out = sb_http_error("twilio_error", "%s", error);
		g_free(error);
		return 503;
	}
	return 0;
}

static int route_call(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	const char *to = req->body ? json_string_value(json_object_get(req->body, "to")) : NULL;
	const char *room = req->body ? json_string_value(json_object_get(req->body, "room")) : NULL;
	char *to_norm = to && to[0] == '+' ? g_strconcat("whatsapp:", to, NULL) : g_strdup(to);
	if (!whatsapp_number(to_norm)) {
		g_free(to_norm);
		return sb_rest_error(out, 400, "invalid_request", "to must be whatsapp:+E164");
	}
	if (room && !sb_room_name_valid(room)) {
		g_free(to_norm);
		return sb_rest_error(out, 400, "invalid_room_name", "Invalid room name");
	}
	const sb_twilio_config *cfg = sb_twilio_cfg();
	if (!*cfg->whatsapp_from) {
		g_free(to_norm);
		return sb_rest_error(out, 503, "not_configured",
		                     "[whatsapp] from is not configured");
	}
	char *own =
	        room ? NULL : g_strdup_printf("whatsapp-%08x%08x", g_random_int(), g_random_int());
	sb_twilio_place_call(to_norm, cfg->whatsapp_from, room ? room : own, "whatsapp",
	                     req->reply);
	g_free(own);
	g_free(to_norm);
	return 0;
}

/* ---- for whatsapp_chat.c ---- */

void sb_wa_lock(void)
{
	g_mutex_lock(&mutex);
}

void sb_wa_unlock(void)
{
	g_mutex_unlock(&mutex);
}

conversation *sb_wa_find(const char *key)
{
	return conversations ? g_hash_table_lookup(conversations, key) : NULL;
}

bool sb_wa_in_window(const char *from)
{
	gint64 *last = last_inbound ? g_hash_table_lookup(last_inbound, from) : NULL;
	return last && g_get_monotonic_time() - *last < SB_WA_WINDOW_US;
}

/* ---- sessions and idle conversations ---- */

static void sessions(json_t *list, const char *type)
{
	if (type && strcmp(type, "whatsapp"))
		return;
	gint64 now_real = g_get_real_time(), now = g_get_monotonic_time();
	g_mutex_lock(&mutex);
	if (!conversations) {
		g_mutex_unlock(&mutex);
		return;
	}
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, conversations);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		conversation *c = v;
		json_array_append_new(
		        list,
		        json_pack("{s:s, s:s, s:s, s:s?, s:i, s:b, s:s?, s:I, s:{s:s, s:s, s:s?}}",
		                  "type", "whatsapp", "conversation", c->key, "from", c->from,
		                  "display", c->profile_name, "messages", (int)c->messages,
		                  "handed_off", c->handed_off, "agentId", c->agent, "last_activity",
		                  (json_int_t)((now_real - (now - c->last_activity_us)) / 1000),
		                  "info", "from", c->from, "to", c->to, "wa_id",
		                  digits(c->key) ? c->key : NULL));
	}
	g_mutex_unlock(&mutex);
}

static gboolean sweep(gpointer data)
{
	(void)data;
	gint64 idle = (gint64)sb_twilio_cfg()->whatsapp_idle_timeout_s * G_TIME_SPAN_SECOND;
	gint64 now = g_get_monotonic_time();
	GPtrArray *gone = g_ptr_array_new_with_free_func(conversation_free);
	g_mutex_lock(&mutex);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, conversations);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		conversation *c = v;
		if (now - c->last_activity_us > idle && !c->pending && !sb_dialog_busy(c->dialog)) {
			g_hash_table_iter_steal(&it);
			g_ptr_array_add(gone, c);
		}
	}
	g_hash_table_iter_init(&it, last_inbound);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (now - *(gint64 *)v > SB_WA_WINDOW_US)
			g_hash_table_iter_remove(&it);
	g_mutex_unlock(&mutex);
	for (guint i = 0; i < gone->len; i++) {
		conversation *c = gone->pdata[i];
		JANUS_LOG(LOG_INFO, "[switchboard] whatsapp: conversation %s ended (idle)\n",
		          c->key);
		if (c->handed_off && !c->agent)
			sb_queue_remove_entry("whatsapp", c->key);
		/* The holder's console closes the chat; the store ends the record. */
		sb_events_publish("chat_ended", json_pack("{s:s, s:s?, s:s, s:s}", "conversation",
		                                          c->key, "agentId", c->agent, "reason",
		                                          "idle", "interface", "whatsapp"));
	}
	g_ptr_array_unref(gone);
	return G_SOURCE_CONTINUE;
}

/* The sweeper lives on the HTTP thread, which runs only once the server
 * started: it starts with the first webhook. */
static void ensure_sweeper(void)
{
	if (sweeper)
		return;
	guint every = (guint)MIN(MAX(sb_twilio_cfg()->whatsapp_idle_timeout_s / 4, 1), 60);
	sweeper = sb_http_timeout(every * 1000, sweep, NULL, NULL);
	if (sweeper)
		g_source_ref(sweeper);
}

static int route_message_entry(const sb_rest_request *req, json_t **out, char **text,
                               const char **tt)
{
	ensure_sweeper();
	return route_message(req, out, text, tt);
}

static const sb_rest_route routes[] = {
        {"POST", "/whatsapp/message", route_message_entry,
         SB_REST_PUBLIC | SB_REST_FORM | SB_REST_ASYNC, NULL},
        {"POST", "/whatsapp/send", route_send, SB_REST_ASYNC, NULL},
        {"POST", "/whatsapp/call", route_call, SB_REST_ASYNC, NULL},
};

void sb_twilio_whatsapp_start(void)
{
	conversations = g_hash_table_new(g_str_hash, g_str_equal);
	last_inbound = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sb_rest_register(routes, G_N_ELEMENTS(routes));
	sb_wa_chat_start();
	sb_ops_register_sessions(sessions);
}

void sb_twilio_whatsapp_stop(void)
{
	/* HTTP is down: our timers on it were destroyed; drop our references. */
	if (sweeper) {
		g_source_unref(sweeper);
		sweeper = NULL;
	}
	g_mutex_lock(&mutex);
	GHashTable *all = conversations;
	conversations = NULL;
	g_hash_table_destroy(last_inbound);
	last_inbound = NULL;
	g_mutex_unlock(&mutex);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, all);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		conversation *c = v;
		c->pending = NULL; /* the server that would answer is gone */
		if (c->deadline) {
			g_source_unref(c->deadline);
			c->deadline = NULL;
		}
		conversation_free(c);
	}
	g_hash_table_destroy(all);
}
