/* The cluster's directory on PostgreSQL: nodes with what they advertise
 * and their heartbeats, and rooms with the node that holds them.  The
 * database is the only judge: a claim is one INSERT … ON CONFLICT whose
 * WHERE lets a node take a room only when it is free, already its own, or
 * held by a lost node — so two nodes asked for one room at the same
 * moment cannot both get it.  Liveness is compared with the database's
 * clock (now()), never with the nodes' own. */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cluster/cluster_private.h"

struct sb_directory {
	GMutex lock;
	PGconn *pg;
	char *conninfo;
	sb_node_self self;   /* copies */
	char dead_after[32]; /* "<n> milliseconds", for the statements */
};

static const char *const schema[] = {
        "CREATE TABLE IF NOT EXISTS switchboard_nodes ("
        " node_id TEXT PRIMARY KEY, janus_url TEXT, rest_url TEXT, sip_uri TEXT,"
        " media_ip TEXT, state TEXT NOT NULL DEFAULT 'up', rooms INTEGER NOT NULL DEFAULT 0,"
        " participants INTEGER NOT NULL DEFAULT 0,"
        " started TIMESTAMPTZ NOT NULL DEFAULT now(),"
        " heartbeat TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE TABLE IF NOT EXISTS switchboard_rooms ("
        " name TEXT PRIMARY KEY, node_id TEXT NOT NULL,"
        " claimed TIMESTAMPTZ NOT NULL DEFAULT now())",
        "CREATE INDEX IF NOT EXISTS switchboard_rooms_node ON switchboard_rooms (node_id)",
        /* Events too large for a NOTIFY's payload, for a minute (bus.c). */
        "CREATE TABLE IF NOT EXISTS switchboard_bus_events ("
        " id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL DEFAULT now(),"
        " payload TEXT NOT NULL)",
};

static void quiet_notice(void *arg, const char *message)
{
	(void)arg, (void)message;
}

static PGconn *connect_to(const char *conninfo, char **error)
{
	const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
	const char *values[] = {conninfo, "3", "-c statement_timeout=3000", "switchboard cluster",
	                        NULL};
	PGconn *pg = PQconnectdbParams(keys, values, 1);
	if (!pg || PQstatus(pg) != CONNECTION_OK) {
		char *msg = pg ? g_strdup(PQerrorMessage(pg)) : g_strdup("out of memory");
		*error = g_strdup_printf("PostgreSQL: %s", g_strchomp(msg));
		g_free(msg);
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, quiet_notice, NULL);
	return pg;
}

/* One statement with text parameters; d->lock held.  NULL with *error
 * (then the connection is dropped, and made again next time). */
static PGresult *run(sb_directory *d, const char *sql, int n, const char *const *values,
                     char **error)
{
	if (!d->pg && !(d->pg = connect_to(d->conninfo, error)))
		return NULL;
	PGresult *r = PQexecParams(d->pg, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	char *msg = g_strdup(r ? PQresultErrorMessage(r) : PQerrorMessage(d->pg));
	*error = g_strdup_printf("PostgreSQL: %s", g_strchomp(msg));
	g_free(msg);
	PQclear(r);
	if (PQstatus(d->pg) != CONNECTION_OK) {
		PQfinish(d->pg);
		d->pg = NULL;
	}
	return NULL;
}

/* run() for statements whose result is not needed. */
static bool run_ok(sb_directory *d, const char *sql, int n, const char *const *values, char **error)
{
	PGresult *r = run(d, sql, n, values, error);
	PQclear(r);
	return r != NULL;
}

sb_directory *sb_directory_open(const char *conninfo, const sb_node_self *self, char **error)
{
	sb_directory *d = g_new0(sb_directory, 1);
	g_mutex_init(&d->lock);
	d->conninfo = g_strdup(conninfo);
	d->self.node_id = g_strdup(self->node_id);
	d->self.janus_url = g_strdup(self->janus_url);
	d->self.rest_url = g_strdup(self->rest_url);
	d->self.sip_uri = g_strdup(self->sip_uri);
	d->self.media_ip = g_strdup(self->media_ip);
	d->self.dead_after_ms = self->dead_after_ms;
	g_snprintf(d->dead_after, sizeof(d->dead_after), "%d milliseconds", self->dead_after_ms);
	/* Nodes starting together take turns making the tables (CREATE … IF
	 * NOT EXISTS is not safe against itself). */
	bool ok = run_ok(d, "SELECT pg_advisory_lock(hashtext('switchboard_cluster_schema'))", 0,
	                 NULL, error);
	for (size_t i = 0; ok && i < G_N_ELEMENTS(schema); i++)
		ok = run_ok(d, schema[i], 0, NULL, error);
	if (d->pg) {
		char *ignored = NULL;
		run_ok(d, "SELECT pg_advisory_unlock(hashtext('switchboard_cluster_schema'))", 0,
		       NULL, &ignored);
		g_free(ignored);
	}
	if (!ok) {
		sb_directory_close(d);
		return NULL;
	}
	return d;
}

void sb_directory_close(sb_directory *d)
{
	if (!d)
		return;
	PQfinish(d->pg);
	g_mutex_clear(&d->lock);
	g_free(d->conninfo);
	g_free(d->self.node_id);
	g_free(d->self.janus_url);
	g_free(d->self.rest_url);
	g_free(d->self.sip_uri);
	g_free(d->self.media_ip);
	g_free(d);
}

json_t *sb_directory_self(sb_directory *d)
{
	return json_pack("{s:s, s:s?, s:s?, s:s?}", "node", d->self.node_id, "janus_url",
	                 d->self.janus_url, "rest_url", d->self.rest_url, "sip_uri",
	                 d->self.sip_uri);
}

bool sb_directory_beat(sb_directory *d, const char *state, int rooms, int participants, bool first,
                       char **error)
{
	char r[16], p[16];
	g_snprintf(r, sizeof(r), "%d", rooms);
	g_snprintf(p, sizeof(p), "%d", participants);
	const char *v[] = {d->self.node_id,
	                   d->self.janus_url,
	                   d->self.rest_url,
	                   d->self.sip_uri,
	                   d->self.media_ip,
	                   state,
	                   r,
	                   p,
	                   first ? "t" : "f"};
	g_mutex_lock(&d->lock);
	bool ok = run_ok(
	        d,
	        "INSERT INTO switchboard_nodes (node_id, janus_url, rest_url, sip_uri, media_ip,"
	        " state, rooms, participants, started, heartbeat)"
	        " VALUES ($1, $2, $3, $4, $5, $6, $7::int, $8::int, now(), now())"
	        " ON CONFLICT (node_id) DO UPDATE SET janus_url = EXCLUDED.janus_url,"
	        " rest_url = EXCLUDED.rest_url, sip_uri = EXCLUDED.sip_uri,"
	        " media_ip = EXCLUDED.media_ip, state = EXCLUDED.state, rooms = EXCLUDED.rooms,"
	        " participants = EXCLUDED.participants, heartbeat = now(),"
	        " started = CASE WHEN $9::bool THEN now() ELSE switchboard_nodes.started END",
	        9, v, error);
	g_mutex_unlock(&d->lock);
	return ok;
}

/* Closes a node's open calls (the store's table, when it is in this
 * database) as failed/node_lost; the number closed, 0 when there is no
 * such table.  d->lock held. */
static int close_calls_of(sb_directory *d, const char *node)
{
	char now_ms[32];
	g_snprintf(now_ms, sizeof(now_ms), "%" G_GINT64_FORMAT, g_get_real_time() / 1000);
	const char *v[] = {now_ms, node};
	char *error = NULL;
	PGresult *r = run(d,
	                  "UPDATE calls SET ended = $1::bigint, duration_ms = $1::bigint - started,"
	                  " outcome = 'failed', status = 'node_lost'"
	                  " WHERE node = $2 AND ended IS NULL",
	                  2, v, &error);
	int closed = r ? atoi(PQcmdTuples(r)) : 0;
	PQclear(r);
	g_free(error); /* no calls table here: records are kept elsewhere */
	return closed;
}

int sb_directory_forget_own(sb_directory *d, char **error)
{
	const char *v[] = {d->self.node_id};
	g_mutex_lock(&d->lock);
	bool ok = run_ok(d, "DELETE FROM switchboard_rooms WHERE node_id = $1", 1, v, error);
	int closed = ok ? close_calls_of(d, d->self.node_id) : 0;
	g_mutex_unlock(&d->lock);
	return ok ? closed : -1;
}

static json_t *node_of(PGresult *r, int row)
{
	json_t *n = json_object();
	for (int c = 0; c < PQnfields(r); c++) {
		const char *name = PQfname(r, c);
		if (PQgetisnull(r, row, c))
			continue;
		const char *v = PQgetvalue(r, row, c);
		if (!strcmp(name, "alive"))
			json_object_set_new(n, name, json_boolean(!strcmp(v, "t")));
		else if (!strcmp(name, "rooms") || !strcmp(name, "participants") ||
		         !strcmp(name, "heartbeat_age_ms"))
			json_object_set_new(n, name, json_integer(strtoll(v, NULL, 10)));
		else
			json_object_set_new(n, !strcmp(name, "node_id") ? "node" : name,
			                    json_string(v));
	}
	return n;
}

#define NODE_COLUMNS                                                                               \
	" n.node_id, n.state, n.rooms, n.participants, n.janus_url, n.rest_url, n.sip_uri,"        \
	" n.media_ip, (n.state NOT IN ('lost', 'stopped') AND n.heartbeat > now() - "              \
	"$%d::interval) AS alive,"                                                                 \
	" (extract(epoch FROM now() - n.heartbeat) * 1000)::bigint AS heartbeat_age_ms"

bool sb_directory_claim(sb_directory *d, const char *room, json_t **owner, char **error)
{
	*owner = NULL;
	const char *v[] = {room, d->self.node_id, d->dead_after};
	g_mutex_lock(&d->lock);
	PGresult *r = run(
	        d,
	        "INSERT INTO switchboard_rooms (name, node_id) VALUES ($1, $2)"
	        " ON CONFLICT (name) DO UPDATE SET node_id = EXCLUDED.node_id, claimed = now()"
	        " WHERE switchboard_rooms.node_id = EXCLUDED.node_id OR NOT EXISTS ("
	        "  SELECT 1 FROM switchboard_nodes n WHERE n.node_id = switchboard_rooms.node_id"
	        "  AND n.state NOT IN ('lost', 'stopped') AND n.heartbeat > now() - $3::interval)"
	        " RETURNING node_id",
	        3, v, error);
	bool ours = r && PQntuples(r) == 1;
	PQclear(r);
	if (r && !ours) {
		char *sql = g_strdup_printf("SELECT" NODE_COLUMNS " FROM switchboard_rooms r"
		                            " JOIN switchboard_nodes n ON n.node_id = r.node_id"
		                            " WHERE r.name = $1",
		                            2);
		const char *w[] = {room, d->dead_after};
		PGresult *o = run(d, sql, 2, w, error);
		g_free(sql);
		if (o && PQntuples(o) == 1)
			*owner = node_of(o, 0);
		else if (o) /* released meanwhile: the caller may try again */
			*owner = json_pack("{s:s}", "node", "?");
		PQclear(o);
	}
	g_mutex_unlock(&d->lock);
	return ours;
}

void sb_directory_release(sb_directory *d, const char *room)
{
	const char *v[] = {room, d->self.node_id};
	char *error = NULL;
	g_mutex_lock(&d->lock);
	run_ok(d, "DELETE FROM switchboard_rooms WHERE name = $1 AND node_id = $2", 2, v, &error);
	g_mutex_unlock(&d->lock);
	g_free(error); /* a lost claim is taken over once this node is lost */
}

json_t *sb_directory_locate(sb_directory *d, const char *room)
{
	char *sql = g_strdup_printf("SELECT" NODE_COLUMNS " FROM switchboard_rooms r"
	                            " JOIN switchboard_nodes n ON n.node_id = r.node_id"
	                            " WHERE r.name = $1 AND r.node_id <> $3",
	                            2);
	const char *v[] = {room, d->dead_after, d->self.node_id};
	char *error = NULL;
	g_mutex_lock(&d->lock);
	PGresult *r = run(d, sql, 3, v, &error);
	json_t *n = r && PQntuples(r) == 1 ? node_of(r, 0) : NULL;
	g_mutex_unlock(&d->lock);
	PQclear(r);
	g_free(sql);
	g_free(error);
	/* A lost node's room is nobody's: this node may take it. */
	if (n && !json_is_true(json_object_get(n, "alive")))
		g_clear_pointer(&n, json_decref);
	return n;
}

json_t *sb_directory_rooms_elsewhere(sb_directory *d)
{
	const char *v[] = {d->self.node_id, d->dead_after};
	char *error = NULL;
	g_mutex_lock(&d->lock);
	PGresult *r =
	        run(d,
	            "SELECT r.name, n.node_id, n.janus_url, n.rest_url FROM switchboard_rooms r"
	            " JOIN switchboard_nodes n ON n.node_id = r.node_id"
	            " WHERE r.node_id <> $1 AND n.state NOT IN ('lost', 'stopped')"
	            " AND n.heartbeat > now() - $2::interval ORDER BY r.name LIMIT 10000",
	            2, v, &error);
	json_t *rooms = NULL;
	if (r) {
		rooms = json_array();
		for (int i = 0; i < PQntuples(r); i++) {
			json_t *o = json_pack("{s:s, s:s}", "room", PQgetvalue(r, i, 0), "node",
			                      PQgetvalue(r, i, 1));
			if (!PQgetisnull(r, i, 2))
				json_object_set_new(o, "janus_url",
				                    json_string(PQgetvalue(r, i, 2)));
			if (!PQgetisnull(r, i, 3))
				json_object_set_new(o, "rest_url",
				                    json_string(PQgetvalue(r, i, 3)));
			json_array_append_new(rooms, o);
		}
	}
	g_mutex_unlock(&d->lock);
	PQclear(r);
	g_free(error);
	return rooms;
}

json_t *sb_directory_nodes(sb_directory *d, char **error)
{
	char *sql = g_strdup_printf("SELECT" NODE_COLUMNS " FROM switchboard_nodes n"
	                            " ORDER BY n.node_id",
	                            1);
	const char *v[] = {d->dead_after};
	g_mutex_lock(&d->lock);
	PGresult *r = run(d, sql, 1, v, error);
	json_t *nodes = NULL;
	if (r) {
		nodes = json_array();
		for (int i = 0; i < PQntuples(r); i++)
			json_array_append_new(nodes, node_of(r, i));
	}
	g_mutex_unlock(&d->lock);
	PQclear(r);
	g_free(sql);
	return nodes;
}

json_t *sb_directory_least_loaded(sb_directory *d)
{
	char *sql = g_strdup_printf("SELECT" NODE_COLUMNS " FROM switchboard_nodes n"
	                            " WHERE n.node_id <> $2 AND n.state = 'up'"
	                            " AND n.heartbeat > now() - $1::interval"
	                            " ORDER BY n.participants, n.rooms, n.node_id LIMIT 1",
	                            1);
	const char *v[] = {d->dead_after, d->self.node_id};
	char *error = NULL;
	g_mutex_lock(&d->lock);
	PGresult *r = run(d, sql, 2, v, &error);
	json_t *n = r && PQntuples(r) == 1 ? node_of(r, 0) : NULL;
	g_mutex_unlock(&d->lock);
	PQclear(r);
	g_free(sql);
	g_free(error);
	return n;
}

void sb_directory_reap(sb_directory *d, json_t *reaped)
{
	const char *v[] = {d->dead_after, d->self.node_id};
	char *error = NULL;
	g_mutex_lock(&d->lock);
	PGresult *lost = run(d,
	                     "SELECT node_id FROM switchboard_nodes"
	                     " WHERE state NOT IN ('lost', 'stopped')"
	                     " AND heartbeat < now() - $1::interval AND node_id <> $2",
	                     2, v, &error);
	for (int i = 0; lost && i < PQntuples(lost); i++) {
		const char *node = PQgetvalue(lost, i, 0);
		const char *w[] = {node, d->dead_after};
		g_clear_pointer(&error, g_free);
		/* One reaper per lost node: whoever marks it lost first. */
		PGresult *mine =
		        run(d,
		            "UPDATE switchboard_nodes SET state = 'lost' WHERE node_id = $1"
		            " AND state NOT IN ('lost', 'stopped')"
		            " AND heartbeat < now() - $2::interval"
		            " RETURNING node_id",
		            2, w, &error);
		bool reaper = mine && PQntuples(mine) == 1;
		PQclear(mine);
		if (!reaper)
			continue;
		const char *x[] = {node};
		g_clear_pointer(&error, g_free);
		PGresult *rooms =
		        run(d, "DELETE FROM switchboard_rooms WHERE node_id = $1", 1, x, &error);
		int released = rooms ? atoi(PQcmdTuples(rooms)) : 0;
		PQclear(rooms);
		int calls = close_calls_of(d, node);
		json_array_append_new(reaped, json_pack("{s:s, s:i, s:i}", "node", node, "rooms",
		                                        released, "calls", calls));
	}
	g_mutex_unlock(&d->lock);
	PQclear(lost);
	g_free(error);
}
