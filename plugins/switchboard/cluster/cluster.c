/* The cluster module: [cluster] read, this node in the directory, rooms
 * placed through the room module's placement hooks, a heartbeat and the
 * reaping of lost nodes on the "sb cluster" loop, and the operator's
 * `cluster_nodes` and `drain` (GET /api/cluster/nodes, POST
 * /api/cluster/drain). */
#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "cluster/cluster_private.h"
#include "room/room.h"

#define HEARTBEAT_DEFAULT_MS 1000
#define DEAD_AFTER_DEFAULT_MS 5000

static struct {
	sb_directory *directory;
	sb_bus *bus;
	sb_loop *loop;
	GSource *beat;
	char *node_id;
	gint draining; /* atomic: no new rooms */
	bool first_beat;
	/* counters (atomic) */
	guint64 claims_ok, claims_elsewhere, claims_refused, claims_failed, beats_failed, reaped;
	gint nodes_alive;
} c;

/* ---- placement (any thread but a media one) ---- */

static char *where_text(json_t *node)
{
	const char *rest = json_string_value(json_object_get(node, "rest_url"));
	const char *janus = json_string_value(json_object_get(node, "janus_url"));
	return g_strdup_printf("node %s%s%s%s%s%s",
	                       json_string_value(json_object_get(node, "node")),
	                       janus ? " (Janus API " : "", janus ? janus : "",
	                       rest ? (janus ? ", REST " : " (REST ") : "", rest ? rest : "",
	                       janus || rest ? ")" : "");
}

static sb_error claim(const char *room, char **why)
{
	if (g_atomic_int_get(&c.draining)) {
		json_t *other = sb_directory_least_loaded(c.directory);
		char *there = other ? where_text(other) : NULL;
		*why = g_strdup_printf("Node %s is draining: it takes no new rooms%s%s", c.node_id,
		                       there ? "; the least-loaded live node is " : "",
		                       there ? there : "");
		g_free(there);
		json_decref(other);
		__atomic_add_fetch(&c.claims_refused, 1, __ATOMIC_RELAXED);
		return SB_ERROR_LIMIT;
	}
	json_t *owner = NULL;
	char *error = NULL;
	if (sb_directory_claim(c.directory, room, &owner, &error)) {
		__atomic_add_fetch(&c.claims_ok, 1, __ATOMIC_RELAXED);
		return SB_OK;
	}
	if (error) {
		/* No directory, no room: two nodes must never both hold one. */
		*why = g_strdup_printf("The cluster's directory did not answer (%s)", error);
		g_free(error);
		__atomic_add_fetch(&c.claims_failed, 1, __ATOMIC_RELAXED);
		return SB_ERROR_UNKNOWN;
	}
	char *there = where_text(owner);
	*why = g_strdup_printf("Room %s lives on %s", room, there);
	g_free(there);
	json_decref(owner);
	__atomic_add_fetch(&c.claims_elsewhere, 1, __ATOMIC_RELAXED);
	return SB_ERROR_ROOM_ELSEWHERE;
}

static gboolean release_now(gpointer data)
{
	sb_directory_release(c.directory, data);
	return G_SOURCE_REMOVE;
}

static void release(const char *room)
{
	/* Off the caller's thread: a room closes from a media path too. */
	sb_loop_invoke(c.loop, release_now, g_strdup(room), g_free);
}

static json_t *locate(const char *room)
{
	return sb_directory_locate(c.directory, room);
}

static json_t *elsewhere(void)
{
	return sb_directory_rooms_elsewhere(c.directory);
}

static json_t *least_loaded(void)
{
	return sb_directory_least_loaded(c.directory);
}

static json_t *here(void)
{
	return sb_directory_self(c.directory);
}

static const sb_room_placement placement = {.claim = claim,
                                            .release = release,
                                            .locate = locate,
                                            .elsewhere = elsewhere,
                                            .least_loaded = least_loaded,
                                            .here = here};

/* ---- the heartbeat (the cluster's loop) ---- */

static gboolean beat(gpointer data)
{
	(void)data;
	int participants = 0;
	GPtrArray *rooms = sb_rooms_list_all();
	for (guint i = 0; i < rooms->len; i++)
		participants += (int)sb_room_count_participants(g_ptr_array_index(rooms, i));
	int count = (int)rooms->len;
	g_ptr_array_unref(rooms);
	char *error = NULL;
	if (!sb_directory_beat(c.directory, g_atomic_int_get(&c.draining) ? "draining" : "up",
	                       count, participants, c.first_beat, &error)) {
		/* Said once per outage, not every beat. */
		if (__atomic_fetch_add(&c.beats_failed, 1, __ATOMIC_RELAXED) % 30 == 0)
			JANUS_LOG(LOG_WARN, "[switchboard] cluster: heartbeat failed: %s\n", error);
		g_free(error);
		return G_SOURCE_CONTINUE;
	}
	c.first_beat = false;
	json_t *reaped = json_array();
	sb_directory_reap(c.directory, reaped);
	size_t i;
	json_t *node;
	json_array_foreach(reaped, i, node)
	{
		JANUS_LOG(LOG_WARN,
		          "[switchboard] cluster: node %s is lost: %d rooms released, %d calls "
		          "closed as node_lost\n",
		          json_string_value(json_object_get(node, "node")),
		          (int)json_integer_value(json_object_get(node, "rooms")),
		          (int)json_integer_value(json_object_get(node, "calls")));
		/* "node" on an event is who says it (core.h): the lost one is "lost". */
		json_object_set(node, "lost", json_object_get(node, "node"));
		json_object_del(node, "node");
		sb_events_publish("node_lost", json_incref(node));
		__atomic_add_fetch(&c.reaped, 1, __ATOMIC_RELAXED);
	}
	json_decref(reaped);
	json_t *nodes = sb_directory_nodes(c.directory, &error);
	int alive = 0;
	json_array_foreach(nodes, i, node) alive += json_is_true(json_object_get(node, "alive"));
	g_atomic_int_set(&c.nodes_alive, alive);
	json_decref(nodes);
	g_free(error);
	return G_SOURCE_CONTINUE;
}

/* One beat now (the timer's own go on): an invoked source that returned
 * beat's G_SOURCE_CONTINUE would run again at once, for ever. */
static gboolean beat_once(gpointer data)
{
	beat(data);
	return G_SOURCE_REMOVE;
}

/* ---- operations ---- */

static json_t *op_cluster_nodes(json_t *body, sb_op_ctx *ctx)
{
	(void)body, (void)ctx;
	char *error = NULL;
	json_t *nodes = sb_directory_nodes(c.directory, &error);
	if (!nodes) {
		json_t *e = sb_ops_error(SB_ERROR_UNKNOWN,
		                         "The cluster's directory did not answer (%s)",
		                         error ? error : "?");
		g_free(error);
		return e;
	}
	json_t *r = sb_ops_answer("cluster_nodes");
	json_object_set_new(r, "self", json_string(c.node_id));
	json_object_set_new(r, "nodes", nodes);
	return r;
}

static json_t *op_drain(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	json_t *v = json_object_get(body, "drain");
	if (v && !json_is_boolean(v))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (drain should be a boolean)");
	bool drain = !v || json_is_true(v);
	g_atomic_int_set(&c.draining, drain);
	JANUS_LOG(LOG_INFO, "[switchboard] cluster: node %s %s\n", c.node_id,
	          drain ? "drains: no new rooms" : "takes new rooms again");
	/* Said at once, not at the next beat: the others place rooms by it. */
	sb_loop_invoke(c.loop, beat_once, NULL, NULL);
	json_t *r = sb_ops_answer("drain");
	json_object_set_new(r, "node", json_string(c.node_id));
	json_object_set_new(r, "state", json_string(drain ? "draining" : "up"));
	json_object_set_new(r, "rooms", json_integer((json_int_t)sb_rooms_count()));
	return r;
}

static const sb_op ops[] = {
        {"cluster_nodes", op_cluster_nodes, 0, SB_ACCESS_OPERATOR},
        {"drain", op_drain, 0, SB_ACCESS_OPERATOR},
};

static const sb_rest_route routes[] = {
        {"GET", "/api/cluster/nodes", NULL, 0, "cluster_nodes"},
        {"POST", "/api/cluster/drain", NULL, 0, "drain"},
};

static void metrics(GString *out)
{
	if (!c.directory)
		return;
	sb_bus_metrics(c.bus, out);
	sb_metrics_value(out, "switchboard_cluster_draining", "gauge",
	                 "Whether this node drains (takes no new rooms)",
	                 g_atomic_int_get(&c.draining));
	sb_metrics_value(out, "switchboard_cluster_nodes_alive", "gauge",
	                 "Live nodes in the directory at the last heartbeat",
	                 g_atomic_int_get(&c.nodes_alive));
	sb_metrics_header(out, "switchboard_cluster_claims_total", "counter",
	                  "Rooms this node asked the directory for, by result");
	static const char *const results[] = {"ok", "elsewhere", "refused", "failed"};
	guint64 *counts[] = {&c.claims_ok, &c.claims_elsewhere, &c.claims_refused,
	                     &c.claims_failed};
	for (size_t i = 0; i < G_N_ELEMENTS(results); i++)
		g_string_append_printf(
		        out, "switchboard_cluster_claims_total{result=\"%s\"} %llu\n", results[i],
		        (unsigned long long)__atomic_load_n(counts[i], __ATOMIC_RELAXED));
	sb_metrics_value(out, "switchboard_cluster_heartbeats_failed_total", "counter",
	                 "Heartbeats the directory did not take",
	                 (long long)__atomic_load_n(&c.beats_failed, __ATOMIC_RELAXED));
	sb_metrics_value(out, "switchboard_cluster_nodes_reaped_total", "counter",
	                 "Lost nodes whose rooms and calls this node released",
	                 (long long)__atomic_load_n(&c.reaped, __ATOMIC_RELAXED));
}

/* ---- life ---- */

static bool node_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (!n || n > 64)
		return false;
	for (const char *p = id; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/* [cluster] postgres, else the store's database when it is PostgreSQL. */
static char *directory_uri(const sb_settings *settings, json_t *section)
{
	const char *uri = sb_section_string(section, "postgres", NULL);
	if (uri && *uri)
		return sb_config_secret(uri);
	const char *store =
	        sb_section_string(sb_settings_section(settings, "store"), "store", NULL);
	if (store && (g_str_has_prefix(store, "postgres://") ||
	              g_str_has_prefix(store, "postgresql://") || strstr(store, "dbname=")))
		return sb_config_secret(store);
	return NULL;
}

bool sb_cluster_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "cluster");
	const char *node_id = sb_section_string(section, "node_id", NULL);
	if (!node_id || !*node_id)
		return true; /* one node alone: nothing to do */
	if (!node_id_valid(node_id)) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] cluster: node_id must be 1-64 of A-Z a-z 0-9 . _ -\n");
		return false;
	}
	char *uri = directory_uri(settings, section);
	if (!uri) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] cluster: no directory: set [cluster] postgres, or "
		          "[store] store to a PostgreSQL URI\n");
		return false;
	}
	int heartbeat_ms =
	        (int)sb_section_int(section, "heartbeat_ms", HEARTBEAT_DEFAULT_MS, 100, 10000);
	sb_node_self self = {
	        .node_id = (char *)node_id,
	        /* Default: what this node already tells browsers ([general]). */
	        .janus_url = (char *)sb_section_string(section, "janus_url", settings->janus_url),
	        .rest_url = (char *)sb_section_string(section, "rest_url", NULL),
	        .sip_uri = (char *)sb_section_string(section, "sip_uri", NULL),
	        .media_ip = (char *)sb_section_string(section, "media_ip", NULL),
	        .dead_after_ms = (int)sb_section_int(section, "dead_after_ms",
	                                             MAX(DEAD_AFTER_DEFAULT_MS, 3 * heartbeat_ms),
	                                             3 * heartbeat_ms, 600000),
	};
	char *error = NULL;
	c.directory = sb_directory_open(uri, &self, &error);
	if (c.directory) {
		sb_events_set_node(node_id);
		c.bus = sb_bus_start(uri);
	}
	g_free(uri);
	if (!c.directory) {
		/* A URI may carry a password: the error is libpq's, not the URI. */
		JANUS_LOG(LOG_ERR,
		          "[switchboard] cluster: directory unreachable (%s): node %s runs "
		          "alone\n",
		          error ? error : "?", node_id);
		g_free(error);
		return false;
	}
	c.node_id = g_strdup(node_id);
	int closed = sb_directory_forget_own(c.directory, &error);
	if (closed > 0)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] cluster: %d calls of this node's previous run closed as "
		          "node_lost\n",
		          closed);
	g_clear_pointer(&error, g_free);
	c.first_beat = true;
	c.loop = sb_loop_start("sb cluster", true);
	/* Registered before any room is placed: the others see us at once. */
	beat(NULL);
	c.beat = sb_loop_timeout(c.loop, (guint)heartbeat_ms, beat, NULL, NULL);
	sb_room_set_placement(&placement);
	sb_forward_start(c.directory, c.node_id);
	sb_gather_start(c.directory, c.node_id);
	sb_ops_register(ops, G_N_ELEMENTS(ops));
	sb_rest_register(routes, G_N_ELEMENTS(routes));
	sb_metrics_register("cluster", metrics);
	JANUS_LOG(LOG_INFO,
	          "[switchboard] cluster: node %s in the directory (heartbeat %d ms, "
	          "lost after %d ms)\n",
	          node_id, heartbeat_ms, self.dead_after_ms);
	return true;
}

void sb_cluster_stop(void)
{
	if (!c.directory)
		return;
	/* Draining from here: the rooms still closing are released, no new
	 * one is made. */
	g_atomic_int_set(&c.draining, 1);
}

void sb_cluster_finish(void)
{
	if (!c.directory)
		return;
	sb_room_set_placement(NULL);
	sb_gather_stop();
	sb_forward_stop();
	if (c.beat) {
		/* Not ours to unref: the loop's context holds the timer
		 * (sb_loop_timeout); destroying it drops that hold. */
		g_source_destroy(c.beat);
		c.beat = NULL;
	}
	sb_loop_stop(c.loop); /* the releases queued before run first */
	c.loop = NULL;
	sb_bus_stop(c.bus); /* the last rooms' events go out first */
	c.bus = NULL;
	sb_events_set_node(NULL);
	/* Gone on purpose, not lost: nobody reaps it. */
	char *error = NULL;
	if (!sb_directory_beat(c.directory, "stopped", 0, 0, false, &error))
		JANUS_LOG(LOG_WARN, "[switchboard] cluster: could not say this node stopped: %s\n",
		          error);
	g_free(error);
	sb_directory_close(c.directory);
	c.directory = NULL;
	g_clear_pointer(&c.node_id, g_free);
}
