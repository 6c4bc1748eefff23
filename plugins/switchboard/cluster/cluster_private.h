/* Inside the cluster module: the directory on PostgreSQL (directory.c)
 * and the module that drives it (cluster.c). */
#ifndef SB_CLUSTER_CLUSTER_PRIVATE_H
#define SB_CLUSTER_CLUSTER_PRIVATE_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "api/api.h"
#include "cluster/cluster.h"

/* What this node says of itself in the directory. */
typedef struct sb_node_self {
	char *node_id;
	char *janus_url; /* the Janus API browsers use (ws:// or http://) */
	char *rest_url;  /* REST and pages */
	char *sip_uri;
	char *media_ip;
	int dead_after_ms;
} sb_node_self;

/* A connection to the directory with its own lock: any thread may use it,
 * one at a time.  Statements are bounded (statement_timeout), and a
 * broken connection is opened again on the next use. */
typedef struct sb_directory sb_directory;

/* Connects, and makes the tables when missing.  NULL with *error. */
sb_directory *sb_directory_open(const char *conninfo, const sb_node_self *self, char **error);
void sb_directory_close(sb_directory *d);

/* This node's row: state "up" | "draining", its rooms and participants.
 * first: this process's first beat (its start time is set). */
bool sb_directory_beat(sb_directory *d, const char *state, int rooms, int participants, bool first,
                       char **error);
/* A previous life of this node (a crash, then a restart with the same id)
 * held rooms and calls: released and closed as node_lost.  The number of
 * calls closed. */
int sb_directory_forget_own(sb_directory *d, char **error);

/* Claims room for this node: true when it is ours (new, ours already, or
 * its holder is lost); false with *owner (new reference: {"node",
 * "janus_url", "rest_url", "sip_uri", "state"}) when a live node holds it,
 * or with *error when the directory did not answer. */
bool sb_directory_claim(sb_directory *d, const char *room, json_t **owner, char **error);
void sb_directory_release(sb_directory *d, const char *room);
/* This node as the directory names it: {"node", "janus_url", "rest_url",
 * "sip_uri"} (new reference; never waits). */
json_t *sb_directory_self(sb_directory *d);
/* The holder of a room held by another live node (new reference), else NULL. */
json_t *sb_directory_locate(sb_directory *d, const char *room);
/* Rooms other live nodes hold: [{"room", "node", "janus_url",
 * "rest_url"}] (at most 10,000), or NULL when the directory did not answer. */
json_t *sb_directory_rooms_elsewhere(sb_directory *d);
/* Every node: [{"node", "state", "alive", "rooms", "participants",
 * "janus_url", "rest_url", "sip_uri", "media_ip", "heartbeat_age_ms"}]. */
json_t *sb_directory_nodes(sb_directory *d, char **error);
/* The least-loaded live node taking rooms, other than this one (new
 * reference), or NULL. */
json_t *sb_directory_least_loaded(sb_directory *d);
/* Nodes whose heartbeat is older than dead_after_ms and that no live node
 * has reaped yet: their rooms are released and their open calls closed
 * (failed, node_lost) by this node, one reaper per lost node.  Each one
 * reaped: {"node", "rooms", "calls"} appended to reaped. */
void sb_directory_reap(sb_directory *d, json_t *reaped);

/* ---- any node answers anything (forward.c) ----
 * REST requests about a room another node holds, carried to it (api.h,
 * "forwarding"). */
void sb_forward_start(sb_directory *d, const char *node_id);
void sb_forward_stop(void);
/* What a request carried to another node is made of (forward.c): the
 * node's rest_url with the request's path and query (g_free); header
 * lines with the caller's Authorization, the Content-Type (with_body) and
 * the forwarded mark (g_strfreev); an answer's body, bounded (false and
 * *too_large past SB_PEER_MAX_ANSWER: the transfer stops). */
#define SB_PEER_MAX_ANSWER (4 * 1024 * 1024)
char *sb_peer_url(const char *rest_url, const sb_rest_request *req);
char **sb_peer_headers(const sb_rest_request *req, const char *from_node, bool with_body);
bool sb_peer_body_add(GString *body, bool *too_large, const char *data, size_t len);

/* ---- lists are the cluster's (gather.c) ----
 * GET /sessions, /api/agents, /api/queue answered for every live node
 * (api.h, SB_REST_CLUSTER_LIST). */
void sb_gather_start(sb_directory *d, const char *node_id);
void sb_gather_stop(void);

/* ---- one bus for the cluster (bus.c) ----
 * This node's events out through NOTIFY, the others' in through LISTEN to
 * the cluster-wide listeners (core.h, sb_events_subscribe_cluster). */
typedef struct sb_bus sb_bus;
/* Never fails: an unreachable database is tried again every second. */
sb_bus *sb_bus_start(const char *conninfo);
/* Sends what was queued before, then stops. */
void sb_bus_stop(sb_bus *b);
void sb_bus_metrics(sb_bus *b, GString *out);

#endif
