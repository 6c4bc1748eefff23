/* The MCP client: [agent] mcp_servers as a second transport for the
 * agent's tools.  Each server is listed at start-up and on
 * reload_providers (initialize, notifications/initialized, tools/list
 * pages), and each call of one of its tools is a tools/call; all of it is
 * a chain of requests on net's HTTP thread (sb_fetch), one "flow" per
 * listing or call, so no caller's thread ever waits for a server.
 *
 * A flow's next request is sent from the previous one's done callback.
 * Its current request is swapped under the flow's lock, and a flow that
 * is cancelled sends nothing more; the user's done goes through a gate, so
 * after sb_mcp_call_release() returns nothing is delivered.  The servers
 * in force, their tools and their counters are under g.lock, which is
 * never held while a request is released (that may wait for a callback
 * that takes it). */
#include "tools/tools_private.h"

#include <stdlib.h>
#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"
#include "net/net.h"

struct sb_mcp_server {
	gint ref;
	/* read-only once configured */
	char *name;
	char *url;
	char **headers; /* "Name: value", NULL-terminated */
	int timeout_ms;
	GMutex lock;
	char *session; /* under lock: the Mcp-Session-Id it gave, or NULL */
	char *version; /* under lock: the protocol version agreed */
	/* under g.lock */
	struct flow *listing;
	GPtrArray *tools; /* sb_tool*, listed; NULL: none (yet) */
	bool up;          /* its last listing worked */
};

typedef enum flow_step { STEP_INITIALIZE, STEP_INITIALIZED, STEP_LIST, STEP_CALL } flow_step;

typedef struct flow {
	gint ref;
	GMutex lock;
	sb_fetch_request *req; /* under lock: the request under way */
	bool cancelled;        /* under lock: send nothing more */
	sb_mcp_server *server;
	/* HTTP thread only, between sends */
	flow_step step;
	json_int_t id;
	bool sent_session;  /* the request carried Mcp-Session-Id */
	bool reinitialized; /* once per flow: a 404 on the session */
	sb_mcp_reader *reader;
	long status;
	char *session; /* the response's Mcp-Session-Id */
	/* a listing */
	json_t *accepted;
	char *cursor;
	int pages;
	GPtrArray *problems;
	/* a call */
	bool is_call;
	char *tool;
	json_t *params;
	sb_tool_done done;
	void *user;
	sb_gate gate;
	bool settled; /* under lock */
	gint64 started_us;
} flow;

struct sb_mcp_call {
	flow *f;
};

static struct {
	GMutex lock;
	GPtrArray *servers; /* sb_mcp_server*, those in force */
	GHashTable *calls;  /* server name -> unsigned long long[SB_TOOL_STATUS_COUNT] */
} g;

static gint next_id;          /* JSON-RPC ids, unique across flows */
static GMutex configure_lock; /* one (re)configuration at a time */

/* ---- servers ---- */

sb_mcp_server *sb_mcp_server_ref(sb_mcp_server *s)
{
	if (s)
		g_atomic_int_inc(&s->ref);
	return s;
}

void sb_mcp_server_unref(sb_mcp_server *s)
{
	if (!s || !g_atomic_int_dec_and_test(&s->ref))
		return;
	g_free(s->name);
	g_free(s->url);
	g_strfreev(s->headers);
	g_free(s->session);
	g_free(s->version);
	g_mutex_clear(&s->lock);
	g_free(s);
}

static void count_call(const char *server, sb_tool_status status)
{
	g_mutex_lock(&g.lock);
	if (!g.calls)
		g.calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	unsigned long long *counts = g_hash_table_lookup(g.calls, server);
	if (!counts) {
		counts = g_new0(unsigned long long, SB_TOOL_STATUS_COUNT);
		g_hash_table_insert(g.calls, g_strdup(server), counts);
	}
	counts[status]++;
	g_mutex_unlock(&g.lock);
}

/* ---- flows ---- */

static void flow_unref(flow *f)
{
	if (!f || !g_atomic_int_dec_and_test(&f->ref))
		return;
	sb_mcp_server_unref(f->server);
	sb_mcp_reader_free(f->reader);
	g_free(f->session);
	json_decref(f->accepted);
	g_free(f->cursor);
	if (f->problems)
		g_ptr_array_free(f->problems, TRUE);
	g_free(f->tool);
	json_decref(f->params);
	sb_gate_clear(&f->gate);
	g_mutex_clear(&f->lock);
	g_free(f);
}

static flow *flow_new(sb_mcp_server *server)
{
	flow *f = g_new0(flow, 1);
	f->ref = 1;
	g_mutex_init(&f->lock);
	sb_gate_init(&f->gate);
	f->server = sb_mcp_server_ref(server);
	f->started_us = g_get_monotonic_time();
	return f;
}

/* From any thread, any number of times: nothing more is sent, and the
 * request under way is let go (waiting for its callback, unless this is
 * inside it). */
static void flow_cancel(flow *f)
{
	g_mutex_lock(&f->lock);
	f->cancelled = true;
	sb_fetch_request *req = f->req;
	f->req = NULL;
	g_mutex_unlock(&f->lock);
	sb_fetch_release(req);
}

static void on_header(void *user, const char *name, const char *value)
{
	flow *f = user;
	if (!g_ascii_strcasecmp(name, "Mcp-Session-Id") && *value && strlen(value) <= 256 &&
	    !strpbrk(value, "\r\n")) {
		g_free(f->session);
		f->session = g_strdup(value);
	} else if (!g_ascii_strcasecmp(name, "Content-Type")) {
		sb_mcp_reader_content_type(f->reader, value);
	}
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	flow *f = user;
	f->status = status;
	return sb_mcp_reader_feed(f->reader, data, len);
}

static void on_done(void *user, long status, const char *error);

/* The request lines: ours, the session's, then the operator's;
 * *with_session: whether a session id is among them. */
static GPtrArray *request_headers(sb_mcp_server *s, bool with_version, bool *with_session)
{
	GPtrArray *h = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(h, g_strdup("Content-Type: application/json"));
	g_ptr_array_add(h, g_strdup("Accept: application/json, text/event-stream"));
	g_mutex_lock(&s->lock);
	*with_session = s->session != NULL;
	if (s->session)
		g_ptr_array_add(h, g_strdup_printf("Mcp-Session-Id: %s", s->session));
	if (with_version && s->version)
		g_ptr_array_add(h, g_strdup_printf("MCP-Protocol-Version: %s", s->version));
	g_mutex_unlock(&s->lock);
	for (char **l = s->headers; l && *l; l++)
		g_ptr_array_add(h, g_strdup(*l));
	g_ptr_array_add(h, NULL);
	return h;
}

/* Sends the flow's next request (a notification for STEP_INITIALIZED);
 * false with *error when it could not (cancelled, client shut down). */
static bool flow_send(flow *f, flow_step step, const char *method, json_t *params, char **error)
{
	json_int_t id =
	        step == STEP_INITIALIZED ? -1 : (json_int_t)g_atomic_int_add(&next_id, 1) + 1;
	size_t len = 0;
	char *body = sb_mcp_request_body(id, method, params, &len);
	bool with_session = false;
	GPtrArray *headers = request_headers(f->server, step != STEP_INITIALIZE, &with_session);
	sb_fetch_options opt = {
	        .method = "POST",
	        .url = f->server->url,
	        .headers = (const char *const *)headers->pdata,
	        .body = body,
	        .body_len = len,
	        .connect_timeout_ms = f->server->timeout_ms,
	        .total_timeout_ms = f->server->timeout_ms,
	};
	static const sb_fetch_callbacks callbacks = {
	        .body = on_body, .header = on_header, .done = on_done};
	g_mutex_lock(&f->lock);
	sb_fetch_request *req = NULL, *old = f->req;
	if (!f->cancelled) {
		f->step = step;
		f->id = id;
		f->sent_session = with_session;
		f->status = 0;
		g_clear_pointer(&f->session, g_free);
		sb_mcp_reader_free(f->reader);
		f->reader = sb_mcp_reader_new(id, SB_MCP_MAX_ANSWER);
		req = sb_fetch_submit(&opt, &callbacks, f, error);
		f->req = req;
	} else {
		*error = g_strdup("cancelled");
	}
	g_mutex_unlock(&f->lock);
	if (req && old)
		sb_fetch_release(old); /* the one whose callback sends this */
	g_ptr_array_free(headers, TRUE);
	g_free(body);
	return req != NULL;
}

/* What the response to the flow's request says: SB_TOOL_OK with *result
 * (NULL for a notification), or why not. */
static sb_tool_status judge(flow *f, long status, const char *error, json_t **result, char **why)
{
	*result = NULL;
	if (sb_mcp_reader_found(f->reader) || sb_mcp_reader_too_large(f->reader))
		return sb_mcp_reader_finish(f->reader, result, why); /* even if we cut it off */
	if (error) {
		*why = g_strdup(error);
		return strstr(error, "timed out") ? SB_TOOL_TIMEOUT : SB_TOOL_FAILED;
	}
	if (status < 200 || status > 299) {
		*why = g_strdup_printf("HTTP %ld", status);
		return SB_TOOL_HTTP_ERROR;
	}
	if (f->step == STEP_INITIALIZED)
		return SB_TOOL_OK;
	return sb_mcp_reader_finish(f->reader, result, why);
}

/* A 404 to a request that carried the session: it expired, so the flow
 * starts a new one, once (the MCP spec, "Session Management"). */
static bool session_expired(flow *f, long status)
{
	if (status != 404 || !f->sent_session || f->reinitialized)
		return false;
	f->reinitialized = true;
	g_mutex_lock(&f->server->lock);
	g_clear_pointer(&f->server->session, g_free);
	g_mutex_unlock(&f->server->lock);
	JANUS_LOG(LOG_INFO, "[switchboard] mcp: %s: session expired, initializing again\n",
	          f->server->name);
	return true;
}

static bool send_initialize(flow *f, char **error)
{
	json_t *params =
	        json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", sb_mcp_versions[0],
	                  "capabilities", "clientInfo", "name", "switchboard", "version", "0.1");
	bool ok = flow_send(f, STEP_INITIALIZE, "initialize", params, error);
	json_decref(params);
	return ok;
}

/* initialize answered: the session and version are kept for every later
 * request. */
static bool initialized(flow *f, json_t *result, char **why)
{
	const char *version = sb_mcp_negotiated(result, why);
	if (!version)
		return false;
	g_mutex_lock(&f->server->lock);
	g_free(f->server->session);
	f->server->session = g_strdup(f->session);
	g_free(f->server->version);
	f->server->version = g_strdup(version);
	g_mutex_unlock(&f->server->lock);
	return flow_send(f, STEP_INITIALIZED, "notifications/initialized", NULL, why);
}

static bool send_list(flow *f, char **error)
{
	json_t *params = f->cursor ? json_pack("{s:s}", "cursor", f->cursor) : NULL;
	bool ok = flow_send(f, STEP_LIST, "tools/list", params, error);
	json_decref(params);
	return ok;
}

static bool send_call(flow *f, char **error)
{
	return flow_send(f, STEP_CALL, "tools/call", f->params, error);
}

/* ---- listing ---- */

/* Under g.lock: the servers' tools, in the order of the config, join the
 * set in force. */
static void publish_locked(void)
{
	GPtrArray *all = g_ptr_array_new();
	for (guint i = 0; g.servers && i < g.servers->len; i++) {
		sb_mcp_server *s = g.servers->pdata[i];
		for (guint k = 0; s->tools && k < s->tools->len; k++)
			g_ptr_array_add(all, s->tools->pdata[k]);
	}
	sb_tools_set_mcp_part(all);
	g_ptr_array_free(all, TRUE);
}

static GPtrArray *tools_of(flow *f)
{
	GPtrArray *tools = g_ptr_array_new_with_free_func((GDestroyNotify)sb_tool_unref);
	size_t i;
	json_t *a;
	json_array_foreach(f->accepted, i, a)
	{
		sb_tool *t = sb_tool_new();
		t->name = g_strdup(json_string_value(json_object_get(a, "name")));
		t->mcp_name = g_strdup(json_string_value(json_object_get(a, "mcp_name")));
		t->description = g_strdup(json_string_value(json_object_get(a, "description")));
		t->parameters = json_incref(json_object_get(a, "parameters"));
		t->url = g_strdup(f->server->url);
		t->method = g_strdup("POST");
		t->headers = g_strdupv(f->server->headers);
		t->timeout_ms = f->server->timeout_ms;
		t->mcp = sb_mcp_server_ref(f->server);
		g_ptr_array_add(tools, t);
	}
	return tools;
}

/* The listing is over, with its tools or with why it failed: they are in
 * force before it is said (a test, or an operator, may act on the log
 * line).  A listing whose server a reload replaced says nothing. */
static void listing_over(flow *f, const char *failure)
{
	sb_mcp_server *s = f->server;
	GPtrArray *tools = failure ? NULL : tools_of(f);
	guint listed = tools ? tools->len : 0;
	g_mutex_lock(&g.lock);
	bool in_force = g.servers && g_ptr_array_find(g.servers, s, NULL);
	if (in_force) {
		if (s->tools)
			g_ptr_array_free(s->tools, TRUE);
		s->tools = tools;
		tools = NULL;
		s->up = failure == NULL;
		publish_locked();
	}
	g_mutex_unlock(&g.lock);
	if (tools)
		g_ptr_array_free(tools, TRUE);
	flow_cancel(f); /* inside its callback: sends nothing more */
	if (!in_force)
		return;
	for (guint i = 0; f->problems && i < f->problems->len; i++)
		JANUS_LOG(LOG_WARN, "[switchboard] mcp: %s: %s\n", s->name,
		          (char *)f->problems->pdata[i]);
	if (failure)
		JANUS_LOG(LOG_ERR,
		          "[switchboard] mcp: %s (%s): %s: no tools from it until "
		          "reload_providers\n",
		          s->name, s->url, failure);
	else
		JANUS_LOG(LOG_INFO, "[switchboard] mcp: %s: %u tools listed\n", s->name, listed);
}

static void listing_step(flow *f, long status, sb_tool_status outcome, json_t *result, char *why)
{
	char *error = NULL;
	bool sent = false;
	if (f->step != STEP_INITIALIZE && session_expired(f, status)) {
		sent = send_initialize(f, &error);
	} else if (outcome != SB_TOOL_OK) {
		error = g_strdup_printf("%s: %s",
		                        f->step == STEP_INITIALIZE    ? "initialize"
		                        : f->step == STEP_INITIALIZED ? "initialized"
		                                                      : "tools/list",
		                        why ? why : sb_tool_status_name(outcome));
	} else if (f->step == STEP_INITIALIZE) {
		sent = initialized(f, result, &error);
	} else if (f->step == STEP_INITIALIZED) {
		sent = send_list(f, &error);
	} else {
		g_clear_pointer(&f->cursor, g_free);
		char *cursor = NULL;
		if (!sb_mcp_list_page(result, f->server->name, f->accepted, SB_MCP_MAX_TOOLS,
		                      f->problems, &cursor, &error)) {
			g_free(cursor);
		} else if (cursor && ++f->pages >= SB_MCP_MAX_PAGES) {
			g_ptr_array_add(f->problems,
			                g_strdup_printf("tools/list: more than %d pages, the rest "
			                                "skipped",
			                                SB_MCP_MAX_PAGES));
			g_free(cursor);
		} else if (cursor) {
			f->cursor = cursor;
			sent = send_list(f, &error);
		}
	}
	if (!sent)
		listing_over(f, error);
	g_free(error);
}

/* ---- calls ---- */

/* Once: the outcome counted and delivered (without f->lock: done may
 * release the call). */
static void settle(flow *f, sb_tool_status status, const char *error, json_t *answer)
{
	g_mutex_lock(&f->lock);
	bool first = !f->settled;
	f->settled = true;
	g_mutex_unlock(&f->lock);
	if (!first)
		return;
	count_call(f->server->name, status);
	sb_tool_outcome out = {
	        .status = status,
	        .http_status = f->status,
	        .answer = answer,
	        .error = error,
	        .latency_ms = (int)((g_get_monotonic_time() - f->started_us) / 1000),
	};
	if (sb_gate_enter(&f->gate)) {
		f->done(f->user, &out);
		sb_gate_leave(&f->gate);
	}
}

static void call_step(flow *f, long status, sb_tool_status outcome, json_t *result, char *why)
{
	char *error = NULL;
	bool sent = false;
	if (f->step != STEP_INITIALIZE && session_expired(f, status)) {
		sent = send_initialize(f, &error);
	} else if (outcome != SB_TOOL_OK) {
		char *what = f->step == STEP_CALL ? g_strdup(why ? why : "failed")
		                                  : g_strdup_printf("the session could not be "
		                                                    "renewed: %s",
		                                                    why ? why : "?");
		settle(f, outcome, what, NULL);
		g_free(what);
		return;
	} else if (f->step == STEP_INITIALIZE) {
		sent = initialized(f, result, &error);
	} else if (f->step == STEP_INITIALIZED) {
		sent = send_call(f, &error);
	} else {
		bool is_error = false;
		json_t *answer = sb_mcp_call_answer(result, &is_error, &error);
		if (!answer)
			settle(f, SB_TOOL_BAD_REPLY, error, NULL);
		else if (is_error)
			settle(f, SB_TOOL_TOOL_ERROR,
			       json_string_value(json_object_get(answer, "content")), NULL);
		else
			settle(f, SB_TOOL_OK, NULL, answer);
		json_decref(answer);
		g_free(error);
		return;
	}
	if (!sent)
		settle(f, SB_TOOL_FAILED, error, NULL);
	g_free(error);
}

static void on_done(void *user, long status, const char *error)
{
	flow *f = user;
	g_atomic_int_inc(&f->ref); /* a release inside done must not free it under us */
	if (!f->status)
		f->status = status;
	json_t *result = NULL;
	char *why = NULL;
	sb_tool_status outcome = judge(f, status, error, &result, &why);
	if (f->is_call)
		call_step(f, status, outcome, result, why);
	else
		listing_step(f, status, outcome, result, why);
	json_decref(result);
	g_free(why);
	flow_unref(f);
}

sb_mcp_call *sb_mcp_call_start(const sb_tool *tool, json_t *arguments, json_t *call,
                               sb_tool_done done, void *user, char **error)
{
	flow *f = flow_new(tool->mcp);
	f->is_call = true;
	f->tool = g_strdup(tool->mcp_name);
	f->params = json_pack("{s:s, s:O}", "name", tool->mcp_name, "arguments", arguments);
	if (json_is_object(call))
		json_object_set_new(f->params, "_meta",
		                    json_pack("{s:O}", "switchboard/call", call));
	f->done = done;
	f->user = user;
	if (!send_call(f, error)) {
		flow_unref(f);
		return NULL;
	}
	sb_mcp_call *c = g_new0(sb_mcp_call, 1);
	c->f = f;
	return c;
}

void sb_mcp_call_release(sb_mcp_call *c)
{
	if (!c)
		return;
	flow *f = c->f;
	sb_gate_close(&f->gate); /* no done after this */
	flow_cancel(f);
	g_mutex_lock(&f->lock);
	bool unsettled = !f->settled;
	f->settled = true;
	g_mutex_unlock(&f->lock);
	if (unsettled)
		count_call(f->server->name, SB_TOOL_CANCELLED);
	flow_unref(f);
	g_free(c);
}

/* ---- configuration ---- */

/* timeout_ms as libconfig gives it (a string) or as JSON does. */
static int read_timeout(json_t *v, char **error)
{
	if (!v)
		return SB_TOOL_TIMEOUT_DEFAULT_MS;
	const char *s = json_string_value(v);
	char *end = NULL;
	long long ms = json_is_integer(v) ? json_integer_value(v)
	               : s && *s          ? strtoll(s, &end, 10)
	                                  : -1;
	if ((end && *end) || ms < 1 || ms > SB_TOOL_TIMEOUT_MAX_MS) {
		*error = g_strdup_printf("\"timeout_ms\" must be a whole number from 1 to %d",
		                         SB_TOOL_TIMEOUT_MAX_MS);
		return 0;
	}
	return (int)ms;
}

static sb_mcp_server *read_server(json_t *e, GPtrArray *taken, char **error)
{
	static const char *const keys[] = {"name", "url", "headers", "timeout_ms"};
	const char *key;
	json_t *v;
	if (!json_is_object(e)) {
		*error = g_strdup("must be a group of name, url, headers, timeout_ms");
		return NULL;
	}
	json_object_foreach(e, key, v)
	{
		bool known = false;
		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
			known = known || !strcmp(key, keys[i]);
		if (!known) {
			*error = g_strdup_printf("unknown key \"%s\"", key);
			return NULL;
		}
	}
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *url = json_string_value(json_object_get(e, "url"));
	if (!sb_tools_valid_name(name, SB_MCP_NAME_MAX)) {
		*error = g_strdup_printf("\"name\" must be 1 to %d of a-z A-Z 0-9 _ -",
		                         SB_MCP_NAME_MAX);
		return NULL;
	}
	for (guint i = 0; i < taken->len; i++)
		if (!strcmp(((sb_mcp_server *)taken->pdata[i])->name, name)) {
			*error = g_strdup_printf("\"%s\" is named twice: the first one is kept",
			                         name);
			return NULL;
		}
	if (!url || (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://")) ||
	    strpbrk(url, " \r\n")) {
		*error = g_strdup("\"url\" must be an http:// or https:// URL");
		return NULL;
	}
	int timeout = read_timeout(json_object_get(e, "timeout_ms"), error);
	char **headers =
	        timeout ? sb_tools_header_lines(json_object_get(e, "headers"), error) : NULL;
	if (!headers)
		return NULL;
	sb_mcp_server *s = g_new0(sb_mcp_server, 1);
	s->ref = 1;
	g_mutex_init(&s->lock);
	s->name = g_strdup(name);
	s->url = g_strdup(url);
	s->headers = headers;
	s->timeout_ms = timeout;
	return s;
}

static GPtrArray *read_servers(json_t *list)
{
	GPtrArray *servers = g_ptr_array_new_with_free_func((GDestroyNotify)sb_mcp_server_unref);
	if (list && !json_is_array(list)) {
		JANUS_LOG(LOG_ERR, "[switchboard] mcp: [agent] mcp_servers must be a list of "
		                   "groups: no MCP servers\n");
		return servers;
	}
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
	{
		char *error = NULL;
		const char *name = json_string_value(json_object_get(e, "name"));
		sb_mcp_server *s = i < SB_MCP_MAX_SERVERS ? read_server(e, servers, &error) : NULL;
		if (!s)
			JANUS_LOG(LOG_ERR,
			          "[switchboard] mcp: mcp_servers entry %zu%s%.32s%s skipped: %s\n",
			          i, name ? " (\"" : "", name ? name : "", name ? "\")" : "",
			          error ? error
			                : "more servers than " G_STRINGIFY(SB_MCP_MAX_SERVERS));
		else
			g_ptr_array_add(servers, s);
		g_free(error);
	}
	return servers;
}

/* ---- ending a session ----
 * A server the client no longer uses is told so (the spec's "Session
 * Management": DELETE with the session id).  Nobody waits for the answer:
 * the request's own done callback lets it go, or the HTTP client's
 * shutdown does. */

typedef struct goodbye {
	GMutex lock;
	sb_fetch_request *req; /* under lock */
} goodbye;

static void goodbye_done(void *user, long status, const char *error)
{
	(void)status, (void)error;
	goodbye *b = user;
	g_mutex_lock(&b->lock); /* waits until end_session has stored req */
	sb_fetch_request *req = b->req;
	g_mutex_unlock(&b->lock);
	sb_fetch_release(req); /* inside its own callback: no wait */
	g_mutex_clear(&b->lock);
	g_free(b);
}

static void end_session(sb_mcp_server *s)
{
	bool with_session = false;
	GPtrArray *headers = request_headers(s, true, &with_session);
	if (!with_session) {
		g_ptr_array_free(headers, TRUE);
		return;
	}
	sb_fetch_options opt = {
	        .method = "DELETE",
	        .url = s->url,
	        .headers = (const char *const *)headers->pdata,
	        .connect_timeout_ms = s->timeout_ms,
	        .total_timeout_ms = s->timeout_ms,
	};
	static const sb_fetch_callbacks callbacks = {.done = goodbye_done};
	goodbye *b = g_new0(goodbye, 1);
	g_mutex_init(&b->lock);
	g_mutex_lock(&b->lock);
	b->req = sb_fetch_submit(&opt, &callbacks, b, NULL);
	bool sent = b->req != NULL;
	g_mutex_unlock(&b->lock); /* from here b is the callback's */
	if (!sent) {
		g_mutex_clear(&b->lock);
		g_free(b);
	}
	g_ptr_array_free(headers, TRUE);
}

/* Swaps the servers in force; the old ones' listings are cancelled (with
 * g.lock free: a listing's callback takes it). */
static void replace_servers(GPtrArray *fresh)
{
	g_mutex_lock(&g.lock);
	GPtrArray *old = g.servers;
	g.servers = fresh;
	publish_locked();
	g_mutex_unlock(&g.lock);
	for (guint i = 0; old && i < old->len; i++) {
		sb_mcp_server *s = old->pdata[i];
		if (s->listing) {
			flow_cancel(s->listing);
			flow_unref(s->listing);
			s->listing = NULL;
		}
		if (s->tools)
			g_ptr_array_free(s->tools, TRUE);
		s->tools = NULL;
		end_session(s);
	}
	if (old)
		g_ptr_array_free(old, TRUE);
}

void sb_mcp_configure(json_t *list)
{
	g_mutex_lock(&configure_lock);
	GPtrArray *fresh = read_servers(list);
	/* Until a server's new listing is over, its old tools stay offered. */
	g_mutex_lock(&g.lock);
	for (guint i = 0; g.servers && i < fresh->len; i++) {
		sb_mcp_server *s = fresh->pdata[i];
		for (guint k = 0; k < g.servers->len; k++) {
			sb_mcp_server *was = g.servers->pdata[k];
			if (!strcmp(was->name, s->name) && !strcmp(was->url, s->url) &&
			    was->tools) {
				s->tools = g_ptr_array_new_with_free_func(
				        (GDestroyNotify)sb_tool_unref);
				for (guint t = 0; t < was->tools->len; t++)
					g_ptr_array_add(s->tools,
					                sb_tool_ref(was->tools->pdata[t]));
			}
		}
	}
	g_mutex_unlock(&g.lock);
	replace_servers(fresh);
	for (guint i = 0; i < fresh->len; i++) {
		sb_mcp_server *s = fresh->pdata[i];
		flow *f = flow_new(s);
		f->accepted = json_array();
		f->problems = g_ptr_array_new_with_free_func(g_free);
		g_mutex_lock(&g.lock);
		s->listing = f;
		g_mutex_unlock(&g.lock);
		JANUS_LOG(LOG_INFO, "[switchboard] mcp: %s: listing the tools of %s\n", s->name,
		          s->url);
		char *error = NULL;
		if (!send_initialize(f, &error))
			listing_over(f, error);
		g_free(error);
	}
	g_mutex_unlock(&configure_lock);
}

/* ---- module ---- */

static void mcp_metrics(GString *out)
{
	g_mutex_lock(&g.lock);
	sb_metrics_header(out, "switchboard_mcp_calls_total", "counter",
	                  "Calls of MCP servers' tools, by server and outcome.");
	GHashTableIter it;
	gpointer name, counts;
	if (g.calls) {
		g_hash_table_iter_init(&it, g.calls);
		while (g_hash_table_iter_next(&it, &name, &counts))
			for (int s = 0; s < SB_TOOL_STATUS_COUNT; s++)
				g_string_append_printf(out,
				                       "switchboard_mcp_calls_total{server=\"%s\","
				                       "status=\"%s\"} %llu\n",
				                       (char *)name,
				                       sb_tool_status_name((sb_tool_status)s),
				                       ((unsigned long long *)counts)[s]);
	}
	sb_metrics_header(out, "switchboard_mcp_server_up", "gauge",
	                  "1 when the MCP server's last listing worked.");
	for (guint i = 0; g.servers && i < g.servers->len; i++) {
		sb_mcp_server *s = g.servers->pdata[i];
		g_string_append_printf(out, "switchboard_mcp_server_up{server=\"%s\"} %d\n",
		                       s->name, s->up);
	}
	sb_metrics_header(out, "switchboard_mcp_tools", "gauge",
	                  "Tools each MCP server offers the agent.");
	for (guint i = 0; g.servers && i < g.servers->len; i++) {
		sb_mcp_server *s = g.servers->pdata[i];
		g_string_append_printf(out, "switchboard_mcp_tools{server=\"%s\"} %u\n", s->name,
		                       s->tools ? s->tools->len : 0);
	}
	g_mutex_unlock(&g.lock);
}

bool sb_mcp_module_start(const struct sb_settings *settings)
{
	(void)settings;
	sb_metrics_register("mcp", mcp_metrics);
	return true;
}

void sb_mcp_module_finish(void)
{
	g_mutex_lock(&configure_lock);
	replace_servers(NULL);
	g_mutex_unlock(&configure_lock);
	g_mutex_lock(&g.lock);
	if (g.calls)
		g_hash_table_destroy(g.calls);
	g.calls = NULL;
	g_mutex_unlock(&g.lock);
}
