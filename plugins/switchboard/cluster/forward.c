/* Any node answers anything (DESIGN.md §7): a REST request about a room
 * another live node holds (/rooms/{name}…, or body.room) is carried to that
 * node's REST URL and its answer given back as is, status and body; so is
 * an Admin API request (below).  The request keeps
 * its own credentials (Authorization: the nodes share the API key and the
 * token secret), so the holder checks it exactly as if it had come there
 * first; it is marked forwarded by this node and never forwarded again.
 * The HTTP thread asks the directory where the room is (bounded by its
 * statement timeout); the request itself goes out on net's HTTP thread. */
#include <stdlib.h>
#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "cluster/cluster_private.h"
#include "net/net.h"

#define TIMEOUT_MS 15000

typedef struct forward {
	sb_rest_reply *reply;
	sb_fetch_request *fetch;
	GString *body;
	char *content_type;
	long status;
	char *error;
	char *node;
	bool too_large;
} forward;

static sb_directory *directory;
static char *self;

/* ---- what forwarding and gathering share ---- */

char *sb_peer_url(const char *rest_url, const sb_rest_request *req)
{
	GString *url = g_string_new(rest_url);
	while (url->len && url->str[url->len - 1] == '/')
		g_string_truncate(url, url->len - 1);
	g_string_append(url, req->path);
	if (req->raw_query && *req->raw_query)
		g_string_append_printf(url, "?%s", req->raw_query);
	return g_string_free(url, FALSE);
}

char **sb_peer_headers(const sb_rest_request *req, const char *from_node, bool with_body)
{
	GPtrArray *lines = g_ptr_array_new();
	const char *auth = sb_rest_header(req, "Authorization");
	if (auth)
		g_ptr_array_add(lines, g_strdup_printf("Authorization: %s", auth));
	const char *admin_key = sb_rest_header(req, "X-Admin-Key"); /* /api/admin's own */
	if (admin_key)
		g_ptr_array_add(lines, g_strdup_printf("X-Admin-Key: %s", admin_key));
	if (with_body && req->content_type)
		g_ptr_array_add(lines, g_strdup_printf("Content-Type: %s", req->content_type));
	g_ptr_array_add(lines, g_strdup_printf("%s: %s", SB_FORWARDED_HEADER, from_node));
	g_ptr_array_add(lines, NULL);
	return (char **)g_ptr_array_free(lines, FALSE);
}

bool sb_peer_body_add(GString *body, bool *too_large, const char *data, size_t len)
{
	if (body->len + len > SB_PEER_MAX_ANSWER) {
		*too_large = true;
		return false;
	}
	g_string_append_len(body, data, (gssize)len);
	return true;
}

/* ---- forwarding ---- */

static bool on_body(void *user, long status, const char *data, size_t len)
{
	forward *f = user;
	(void)status;
	return sb_peer_body_add(f->body, &f->too_large, data, len);
}

static void on_header(void *user, const char *name, const char *value)
{
	forward *f = user;
	if (!g_ascii_strcasecmp(name, "Content-Type")) {
		g_free(f->content_type);
		f->content_type = g_strdup(value);
	}
}

/* HTTP thread: the holder's answer is ours. */
static gboolean answer(gpointer data)
{
	forward *f = data;
	sb_fetch_release(f->fetch); /* done() was its last callback */
	f->fetch = NULL;
	if (f->error || f->too_large || !f->status) {
		JANUS_LOG(LOG_WARN, "[switchboard] cluster: forwarding to node %s failed: %s\n",
		          f->node,
		          f->too_large ? "answer too large"
		          : f->error   ? f->error
		                       : "?");
		sb_rest_finish(f->reply, 502,
		               sb_http_error("node_unreachable",
		                             "The room's node (%s) did not answer", f->node),
		               NULL, NULL);
	} else if (f->content_type && g_str_has_prefix(f->content_type, "application/json")) {
		json_t *json = json_loadb(f->body->str, f->body->len, 0, NULL);
		if (json)
			sb_rest_finish(f->reply, (int)f->status, json, NULL, NULL);
		else
			sb_rest_finish(f->reply, 502,
			               sb_http_error("node_unreachable",
			                             "The room's node (%s) answered garbage",
			                             f->node),
			               NULL, NULL);
	} else {
		/* Text answers are static-typed: plain text is what routes give. */
		sb_rest_finish(f->reply, (int)f->status, NULL, g_strdup(f->body->str),
		               "text/plain; charset=utf-8");
	}
	f->reply = NULL;
	return G_SOURCE_REMOVE;
}

static void forward_free(gpointer data)
{
	forward *f = data;
	if (f->reply) /* never answered: the server is going away */
		sb_rest_finish(f->reply, 503,
		               sb_http_error("shutting_down", "This node is shutting down"), NULL,
		               NULL);
	sb_fetch_release(f->fetch);
	g_string_free(f->body, TRUE);
	g_free(f->content_type);
	g_free(f->error);
	g_free(f->node);
	g_free(f);
}

/* net's HTTP thread: over to the HTTP server's. */
static void on_done(void *user, long status, const char *error)
{
	forward *f = user;
	f->status = status;
	f->error = g_strdup(error);
	sb_http_invoke(G_PRIORITY_DEFAULT, answer, f, forward_free);
}

static bool forward_request(const sb_rest_request *req, const char *room, json_t *location,
                            sb_rest_reply *reply)
{
	json_t *where = location ? json_incref(location) : sb_directory_locate(directory, room);
	const char *rest = json_string_value(json_object_get(where, "rest_url"));
	if (!rest || !*rest) {
		json_decref(where);
		return false; /* nobody else holds it: the route answers here */
	}
	char *url = sb_peer_url(rest, req);
	char **lines = sb_peer_headers(req, self, true);
	forward *f = g_new0(forward, 1);
	f->reply = reply;
	f->body = g_string_new(NULL);
	f->node = g_strdup(json_string_value(json_object_get(where, "node")));
	sb_fetch_options opt = {
	        .method = req->method,
	        .url = url,
	        .headers = (const char *const *)lines,
	        .body = req->raw_body,
	        .body_len = req->raw_body_len,
	        .connect_timeout_ms = 3000,
	        .total_timeout_ms = TIMEOUT_MS,
	};
	static const sb_fetch_callbacks callbacks = {
	        .body = on_body, .done = on_done, .header = on_header};
	char *error = NULL;
	f->fetch = sb_fetch_submit(&opt, &callbacks, f, &error);
	g_strfreev(lines);
	g_free(url);
	json_decref(where);
	if (!f->fetch) {
		JANUS_LOG(LOG_WARN, "[switchboard] cluster: cannot forward to node %s: %s\n",
		          f->node, error ? error : "?");
		g_free(error);
		f->reply = NULL;
		forward_free(f);
		return false;
	}
	return true;
}

/* ---- the Admin API ----
 * Janus's admin request threads may wait, so the holder is asked here and
 * now: its /api/admin with this node's own REST and admin keys (the nodes
 * share them), for the op's answer as is (SB_OP_ANSWER_HEADER). */

typedef struct admin_call {
	GMutex lock;
	GCond done_cond;
	bool done;
	long status;
	char *error;
	GString *body;
	bool too_large;
} admin_call;

static bool admin_on_body(void *user, long status, const char *data, size_t len)
{
	admin_call *c = user;
	(void)status;
	return sb_peer_body_add(c->body, &c->too_large, data, len);
}

static void admin_on_done(void *user, long status, const char *error)
{
	admin_call *c = user;
	g_mutex_lock(&c->lock);
	c->status = status;
	c->error = g_strdup(error);
	c->done = true;
	g_cond_signal(&c->done_cond);
	g_mutex_unlock(&c->lock);
}

static json_t *carry_admin(json_t *request, json_t *location)
{
	const char *rest = json_string_value(json_object_get(location, "rest_url"));
	const char *node = json_string_value(json_object_get(location, "node"));
	if (!rest || !*rest)
		return NULL;
	GString *url = g_string_new(rest);
	while (url->len && url->str[url->len - 1] == '/')
		g_string_truncate(url, url->len - 1);
	g_string_append(url, "/api/admin");
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	if (sb_plugin_settings->api_key)
		g_ptr_array_add(lines, g_strdup_printf("Authorization: Bearer %s",
		                                       sb_plugin_settings->api_key));
	if (sb_plugin_settings->admin_key)
		g_ptr_array_add(lines,
		                g_strdup_printf("X-Admin-Key: %s", sb_plugin_settings->admin_key));
	g_ptr_array_add(lines, g_strdup("Content-Type: application/json"));
	g_ptr_array_add(lines, g_strdup_printf("%s: %s", SB_FORWARDED_HEADER, self));
	g_ptr_array_add(lines, g_strdup(SB_OP_ANSWER_HEADER ": yes"));
	g_ptr_array_add(lines, NULL);
	char *payload = json_dumps(request, JSON_COMPACT);
	admin_call c = {.body = g_string_new(NULL)};
	g_mutex_init(&c.lock);
	g_cond_init(&c.done_cond);
	sb_fetch_options opt = {
	        .method = "POST",
	        .url = url->str,
	        .headers = (const char *const *)lines->pdata,
	        .body = payload,
	        .body_len = payload ? strlen(payload) : 0,
	        .connect_timeout_ms = 3000,
	        .total_timeout_ms = TIMEOUT_MS,
	};
	static const sb_fetch_callbacks callbacks = {.body = admin_on_body, .done = admin_on_done};
	char *error = NULL;
	sb_fetch_request *fetch = sb_fetch_submit(&opt, &callbacks, &c, &error);
	if (fetch) {
		/* The fetch ends itself at TIMEOUT_MS; a second more is only a guard. */
		gint64 deadline =
		        g_get_monotonic_time() + (TIMEOUT_MS + 1000) * G_TIME_SPAN_MILLISECOND;
		g_mutex_lock(&c.lock);
		while (!c.done && g_cond_wait_until(&c.done_cond, &c.lock, deadline))
			;
		g_mutex_unlock(&c.lock);
		sb_fetch_release(fetch); /* no callback runs after this */
	}
	json_t *answer = NULL;
	if (fetch && c.done && !c.error && !c.too_large && c.status == 200)
		answer = json_loadb(c.body->str, c.body->len, 0, NULL);
	if (!json_is_object(answer)) {
		JANUS_LOG(LOG_WARN,
		          "[switchboard] cluster: Admin API request for node %s failed: %s\n",
		          node ? node : "?",
		          error      ? error
		          : c.error  ? c.error
		          : !c.done  ? "no answer"
		          : c.status ? "bad answer"
		                     : "?");
		json_decref(answer);
		answer = sb_ops_error(SB_ERROR_UNKNOWN, "The room's node (%s) did not answer",
		                      node ? node : "?");
		json_object_set(answer, "location", location);
	}
	g_free(error);
	g_free(c.error);
	g_string_free(c.body, TRUE);
	g_cond_clear(&c.done_cond);
	g_mutex_clear(&c.lock);
	free(payload);
	g_ptr_array_free(lines, TRUE);
	g_string_free(url, TRUE);
	return answer;
}

void sb_forward_start(sb_directory *d, const char *node_id)
{
	directory = d;
	self = g_strdup(node_id);
	sb_rest_set_forwarder(forward_request);
	sb_ops_set_admin_carrier(carry_admin);
}

void sb_forward_stop(void)
{
	sb_ops_set_admin_carrier(NULL);
	sb_rest_set_forwarder(NULL);
	directory = NULL;
	g_clear_pointer(&self, g_free);
}
