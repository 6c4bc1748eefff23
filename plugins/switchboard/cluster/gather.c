/* Lists are the cluster's (DESIGN.md §7): GET /sessions, /api/agents and
 * /api/queue on any node answer for every live node.  The node asked runs
 * the route itself, then asks each other live node the same request (the
 * caller's own Authorization, marked forwarded so that node answers only
 * for itself) and adds their items to each list of its answer, every item
 * saying its "node".  A node that does not answer in time, or refuses, is
 * named in "unreachable" ({"node", "status"?, "error"}) and its items are
 * missing: the answer never waits longer than TIMEOUT_MS.
 *
 * Threads: the directory is asked on the HTTP thread (bounded by its
 * statement timeout, as for forwarding); requests go out on net's HTTP
 * thread; each answer hops back to the HTTP server's thread, where all
 * merging happens, so a gathering needs no lock. */
#include <stdlib.h>
#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "cluster/cluster_private.h"
#include "net/net.h"

#define TIMEOUT_MS 5000

typedef struct gathering {
	sb_rest_reply *reply;
	json_t *answer;      /* this node's, the others' items added */
	json_t *unreachable; /* [{"node", "status"?, "error"}] */
	int pending;         /* other nodes not heard from yet */
} gathering;

typedef struct part {
	gathering *g; /* shared; the last part to finish answers and frees it */
	sb_fetch_request *fetch;
	char *node;
	GString *body;
	long status;
	char *error;
	bool too_large;
	bool merged;
} part;

static sb_directory *directory;
static char *self;

/* Each item of each list in answer says which node it is on. */
static void tag_items(json_t *answer, const char *node)
{
	const char *key;
	json_t *list;
	json_object_foreach(answer, key, list)
	{
		size_t i;
		json_t *item;
		if (!json_is_array(list))
			continue;
		json_array_foreach(list, i, item)
		{
			if (json_is_object(item) && !json_object_get(item, "node"))
				json_object_set_new(item, "node", json_string(node));
		}
	}
}

static void note_unreachable(gathering *g, const char *node, long status, const char *error)
{
	json_t *entry = json_pack("{ss ss}", "node", node, "error", error);
	if (status)
		json_object_set_new(entry, "status", json_integer(status));
	json_array_append_new(g->unreachable, entry);
}

/* The other node's lists into ours: only lists our answer has too. */
static void merge(gathering *g, part *p)
{
	json_t *theirs = NULL;
	if (p->error || p->too_large || p->status != 200 ||
	    !(theirs = json_loadb(p->body->str, p->body->len, 0, NULL)) ||
	    !json_is_object(theirs)) {
		const char *why = p->too_large       ? "answer too large"
		                  : p->error         ? p->error
		                  : !p->status       ? "no answer"
		                  : p->status != 200 ? "refused"
		                                     : "not JSON";
		JANUS_LOG(LOG_WARN, "[switchboard] cluster: node %s left out of a list: %s\n",
		          p->node, why);
		note_unreachable(g, p->node, p->status, why);
		json_decref(theirs);
		return;
	}
	tag_items(theirs, p->node);
	const char *key;
	json_t *list;
	json_object_foreach(theirs, key, list)
	{
		json_t *ours = json_object_get(g->answer, key);
		if (json_is_array(list) && json_is_array(ours))
			json_array_extend(ours, list);
	}
	json_decref(theirs);
}

/* An agent is signed in on one node at a time, but the nodes they left
 * still list them, offline (a console that moved to a call's node): an
 * agent id listed more than once keeps the entry of where they are, or
 * one offline entry when they are nowhere. */
static void one_entry_per_agent(json_t *answer)
{
	json_t *agents = json_object_get(answer, "agents");
	if (!json_is_array(agents))
		return;
	GHashTable *best = g_hash_table_new(g_str_hash, g_str_equal); /* id -> index */
	json_t *kept = json_array();
	size_t i;
	json_t *item;
	json_array_foreach(agents, i, item)
	{
		const char *id = json_string_value(json_object_get(item, "agentId"));
		bool offline =
		        !g_strcmp0(json_string_value(json_object_get(item, "status")), "offline");
		gpointer at;
		if (!id || !g_hash_table_lookup_extended(best, id, NULL, &at)) {
			if (id)
				g_hash_table_insert(best, (gpointer)id,
				                    GSIZE_TO_POINTER(json_array_size(kept)));
			json_array_append(kept, item);
			continue;
		}
		json_t *held = json_array_get(kept, GPOINTER_TO_SIZE(at));
		if (!offline &&
		    !g_strcmp0(json_string_value(json_object_get(held, "status")), "offline")) {
			json_array_set(kept, GPOINTER_TO_SIZE(at), item);
			g_hash_table_insert(best, (gpointer)id, at);
		}
	}
	g_hash_table_destroy(best);
	json_object_set_new(answer, "agents", kept);
}

static void gathering_finish(gathering *g)
{
	one_entry_per_agent(g->answer);
	if (json_array_size(g->unreachable))
		json_object_set(g->answer, "unreachable", g->unreachable);
	sb_rest_finish(g->reply, 200, json_incref(g->answer), NULL, NULL);
	json_decref(g->answer);
	json_decref(g->unreachable);
	g_free(g);
}

/* HTTP server thread: one node has answered (or failed). */
static gboolean part_answered(gpointer data)
{
	part *p = data;
	sb_fetch_release(p->fetch); /* done() was its last callback */
	p->fetch = NULL;
	merge(p->g, p);
	p->merged = true;
	return G_SOURCE_REMOVE;
}

/* Also when the server goes away before part_answered ran: the list still
 * gets its answer, without that node's items. */
static void part_free(gpointer data)
{
	part *p = data;
	gathering *g = p->g;
	if (!p->merged)
		note_unreachable(g, p->node, 0, "shutting down");
	sb_fetch_release(p->fetch);
	g_string_free(p->body, TRUE);
	g_free(p->error);
	g_free(p->node);
	g_free(p);
	if (--g->pending == 0)
		gathering_finish(g);
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	part *p = user;
	(void)status;
	return sb_peer_body_add(p->body, &p->too_large, data, len);
}

/* net's HTTP thread: over to the HTTP server's. */
static void on_done(void *user, long status, const char *error)
{
	part *p = user;
	p->status = status;
	p->error = g_strdup(error);
	sb_http_invoke(G_PRIORITY_DEFAULT, part_answered, p, part_free);
}

static bool ask(gathering *g, const sb_rest_request *req, const char *node, const char *rest)
{
	char *url = sb_peer_url(rest, req);
	char **lines = sb_peer_headers(req, self, false);
	part *p = g_new0(part, 1);
	p->g = g;
	p->node = g_strdup(node);
	p->body = g_string_new(NULL);
	sb_fetch_options opt = {
	        .method = "GET",
	        .url = url,
	        .headers = (const char *const *)lines,
	        .connect_timeout_ms = 2000,
	        .total_timeout_ms = TIMEOUT_MS,
	};
	static const sb_fetch_callbacks callbacks = {.body = on_body, .done = on_done};
	char *error = NULL;
	p->fetch = sb_fetch_submit(&opt, &callbacks, p, &error);
	g_strfreev(lines);
	g_free(url);
	if (!p->fetch) {
		note_unreachable(g, node, 0, error ? error : "cannot ask");
		g_free(error);
		g_string_free(p->body, TRUE);
		g_free(p->node);
		g_free(p);
		return false;
	}
	return true;
}

static bool gather_request(const sb_rest_request *req, json_t *local, sb_rest_reply *reply)
{
	char *error = NULL;
	json_t *nodes = sb_directory_nodes(directory, &error);
	g_free(error);
	tag_items(local, self);
	gathering *g = g_new0(gathering, 1);
	g->reply = reply;
	g->answer = local;
	g->unreachable = json_array();
	/* Counted from one, so that no part finishing early answers before
	 * every node has been asked. */
	g->pending = 1;
	size_t i;
	json_t *node;
	json_array_foreach(nodes, i, node)
	{
		const char *id = json_string_value(json_object_get(node, "node"));
		const char *rest = json_string_value(json_object_get(node, "rest_url"));
		const char *state = json_string_value(json_object_get(node, "state"));
		if (!id || !strcmp(id, self) || !json_is_true(json_object_get(node, "alive")) ||
		    !g_strcmp0(state, "stopped"))
			continue;
		if (!rest || !*rest) {
			note_unreachable(g, id, 0, "no rest_url");
			continue;
		}
		if (ask(g, req, id, rest))
			g->pending++;
	}
	json_decref(nodes);
	if (g->pending == 1 && !json_array_size(g->unreachable)) {
		/* Alone: the local answer goes out as usual. */
		json_decref(g->unreachable);
		g_free(g);
		json_decref(local);
		return false;
	}
	if (--g->pending == 0)
		gathering_finish(g);
	return true;
}

void sb_gather_start(sb_directory *d, const char *node_id)
{
	directory = d;
	self = g_strdup(node_id);
	sb_rest_set_gatherer(gather_request);
}

void sb_gather_stop(void)
{
	sb_rest_set_gatherer(NULL);
	directory = NULL;
	g_clear_pointer(&self, g_free);
}
