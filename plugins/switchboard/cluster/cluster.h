/* Several nodes, one switchboard (DESIGN.md §7; README, "Running several
 * nodes").  With [cluster] node_id set, this node registers in a directory
 * on PostgreSQL (the store's database unless [cluster] postgres names
 * another) with the URLs it advertises, heartbeats its state and load, and
 * claims each room it creates there, atomically: a room lives on one node,
 * and a node asked for a room another live node holds says which one.  A
 * node whose heartbeat is older than dead_after_ms is lost: a live node
 * releases its rooms and closes its open call records as failed/node_lost.
 * `drain` stops a node taking new rooms while its calls finish.
 *
 * Opt-in: without node_id nothing here runs and every room is this node's. */
#ifndef SB_CLUSTER_CLUSTER_H
#define SB_CLUSTER_CLUSTER_H

#include <stdbool.h>

#include "core/core.h"

/* Module lifecycle (modules.c).  False (logged) for a config it cannot
 * use or a directory it cannot reach at start. */
bool sb_cluster_start(const sb_settings *settings);
void sb_cluster_stop(void);
void sb_cluster_finish(void);

#endif
