/* Any node answers anything (DESIGN.md §7): a REST request about a room
 * another live node holds (/rooms/{name}…) is carried to that node's REST
 * URL and its answer given back as is, status and body.  The request keeps
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

static bool forward_request(const sb_rest_request *req, const char *room, sb_rest_reply *reply)
{
	json_t *where = sb_directory_locate(directory, room);
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

void sb_forward_start(sb_directory *d, const char *node_id)
{
	directory = d;
	self = g_strdup(node_id);
	sb_rest_set_forwarder(forward_request);
}

void sb_forward_stop(void)
{
	sb_rest_set_forwarder(NULL);
	directory = NULL;
	g_clear_pointer(&self, g_free);
}
