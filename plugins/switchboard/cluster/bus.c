/* One bus for the cluster (DESIGN.md §7): this node's events go out
 * through PostgreSQL's NOTIFY on channel switchboard_events, and the other
 * nodes' come back through LISTEN to this node's cluster-wide listeners
 * (/ws/notifications: a client on any node hears every node).  Only the
 * notifications socket hears them: records, webhooks and the console act
 * on their own node's events, so nothing is done twice.
 *
 * Its own thread and connection: outgoing events wait in a queue (a
 * listener must never block), go out one NOTIFY each, and incoming ones
 * are read between them, at most TICK_MS late.  A payload over NOTIFY's
 * limit (a call's variables, a long transcript) is stored in
 * switchboard_bus_events and its row's id notified ("@<id>"): the other
 * nodes read it from there; rows are deleted after KEEP_LARGE, and one
 * over MAX_LARGE is not sent (counted).  A dropped connection is made
 * again, and what was published meanwhile is lost to the other nodes
 * (counted). */
#include <stdlib.h>
#include <string.h>

#include <debug.h>
#include <libpq-fe.h>

#include "api/api.h"
#include "cluster/cluster_private.h"

#define CHANNEL "switchboard_events"
#define TICK_MS 20
/* PostgreSQL refuses payloads of 8000 bytes or more. */
#define MAX_PAYLOAD 7999
#define MAX_LARGE (1024 * 1024)
#define KEEP_LARGE "60 seconds"
#define MAX_QUEUED 10000

struct sb_bus {
	char *conninfo;
	GAsyncQueue *out; /* char * (JSON text); the sentinel stops the thread */
	GThread *thread;
	unsigned subscription;
	volatile gint stopping;
	PGconn *pg;
	int own_pid; /* our backend: our own NOTIFYs come back to us */
	/* counters (atomic) */
	guint64 sent, received, too_large, lost, stored;
	gint64 next_prune; /* the bus thread's */
};

static char stop_sentinel;

static void quiet_notice(void *arg, const char *message)
{
	(void)arg, (void)message;
}

/* Connects and LISTENs; false (the caller retries later). */
static bool bus_connect(sb_bus *b)
{
	const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
	const char *values[] = {b->conninfo, "3", "-c statement_timeout=3000",
	                        "switchboard cluster bus", NULL};
	b->pg = PQconnectdbParams(keys, values, 1);
	if (!b->pg || PQstatus(b->pg) != CONNECTION_OK) {
		PQfinish(b->pg);
		b->pg = NULL;
		return false;
	}
	PQsetNoticeProcessor(b->pg, quiet_notice, NULL);
	PGresult *r = PQexec(b->pg, "LISTEN " CHANNEL);
	bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		PQfinish(b->pg);
		b->pg = NULL;
		return false;
	}
	b->own_pid = PQbackendPID(b->pg);
	return true;
}

static void drop_connection(sb_bus *b)
{
	PQfinish(b->pg);
	b->pg = NULL;
}

/* Rows of large events everyone has read by now. */
static void prune_large(sb_bus *b)
{
	gint64 now = g_get_monotonic_time();
	if (!b->pg || now < b->next_prune)
		return;
	b->next_prune = now + 10 * G_USEC_PER_SEC;
	PQclear(PQexec(b->pg, "DELETE FROM switchboard_bus_events"
	                      " WHERE at < now() - interval '" KEEP_LARGE "'"));
}

static void send_one(sb_bus *b, const char *text)
{
	size_t len = strlen(text);
	if (len > MAX_LARGE) {
		__atomic_add_fetch(&b->too_large, 1, __ATOMIC_RELAXED);
		return;
	}
	if (!b->pg) {
		__atomic_add_fetch(&b->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	const char *v[] = {text};
	/* One statement: the row is there when the notification arrives (both
	 * are seen at its commit). */
	bool large = len > MAX_PAYLOAD;
	PGresult *r = PQexecParams(
	        b->pg,
	        large ? "WITH e AS (INSERT INTO switchboard_bus_events (payload) VALUES ($1) "
	                "RETURNING id) SELECT pg_notify('" CHANNEL "', '@' || id) FROM e"
	              : "SELECT pg_notify('" CHANNEL "', $1)",
	        1, NULL, v, NULL, NULL, 0);
	if (large && r && PQresultStatus(r) == PGRES_TUPLES_OK)
		__atomic_add_fetch(&b->stored, 1, __ATOMIC_RELAXED);
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK) {
		__atomic_add_fetch(&b->sent, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_add_fetch(&b->lost, 1, __ATOMIC_RELAXED);
		if (PQstatus(b->pg) != CONNECTION_OK)
			drop_connection(b);
	}
	PQclear(r);
}

/* A large event's text, by the id another node notified (NULL: gone). */
static char *read_large(sb_bus *b, const char *id)
{
	const char *v[] = {id};
	PGresult *r =
	        PQexecParams(b->pg, "SELECT payload FROM switchboard_bus_events WHERE id = $1", 1,
	                     NULL, v, NULL, NULL, 0);
	char *text = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
	                     ? g_strdup(PQgetvalue(r, 0, 0))
	                     : NULL;
	if (!text)
		__atomic_add_fetch(&b->lost, 1, __ATOMIC_RELAXED);
	PQclear(r);
	return text;
}

static void receive(sb_bus *b)
{
	if (!b->pg)
		return;
	if (!PQconsumeInput(b->pg)) {
		drop_connection(b);
		return;
	}
	PGnotify *n;
	while ((n = PQnotifies(b->pg))) {
		if (n->be_pid != b->own_pid) {
			char *stored = n->extra[0] == '@' ? read_large(b, n->extra + 1) : NULL;
			json_t *ev = json_loads(stored ? stored : n->extra, 0, NULL);
			g_free(stored);
			if (json_is_object(ev)) {
				sb_events_publish_remote(ev);
				__atomic_add_fetch(&b->received, 1, __ATOMIC_RELAXED);
			}
			json_decref(ev);
		}
		PQfreemem(n);
	}
}

static gpointer bus_main(gpointer data)
{
	sb_bus *b = data;
	gint64 next_connect = 0;
	while (!g_atomic_int_get(&b->stopping)) {
		if (!b->pg && g_get_monotonic_time() >= next_connect && !bus_connect(b))
			next_connect =
			        g_get_monotonic_time() + G_USEC_PER_SEC; /* again in a second */
		char *text = g_async_queue_timeout_pop(b->out, TICK_MS * 1000);
		for (; text; text = g_async_queue_try_pop(b->out)) {
			if (text == &stop_sentinel)
				break;
			send_one(b, text);
			g_free(text);
		}
		if (text == &stop_sentinel)
			break;
		receive(b);
		prune_large(b);
	}
	return NULL;
}

/* A local event (publisher's thread): queued, never waited for. */
static void on_event(json_t *notification, void *user)
{
	sb_bus *b = user;
	if (g_async_queue_length(b->out) >= MAX_QUEUED) {
		__atomic_add_fetch(&b->lost, 1, __ATOMIC_RELAXED);
		return;
	}
	char *text = json_dumps(notification, JSON_COMPACT);
	if (text) {
		g_async_queue_push(b->out, g_strdup(text));
		free(text);
	}
}

sb_bus *sb_bus_start(const char *conninfo)
{
	sb_bus *b = g_new0(sb_bus, 1);
	b->conninfo = g_strdup(conninfo);
	b->out = g_async_queue_new();
	if (!bus_connect(b))
		JANUS_LOG(LOG_WARN, "[switchboard] cluster: the bus cannot reach PostgreSQL yet: "
		                    "trying again every second\n");
	b->thread = g_thread_new("sb cluster bus", bus_main, b);
	b->subscription = sb_events_subscribe(on_event, b);
	return b;
}

void sb_bus_stop(sb_bus *b)
{
	if (!b)
		return;
	sb_events_unsubscribe(b->subscription); /* no event queued after this */
	g_atomic_int_set(&b->stopping, 1);
	g_async_queue_push(b->out, &stop_sentinel);
	g_thread_join(b->thread);
	char *text;
	while ((text = g_async_queue_try_pop(b->out)))
		if (text != &stop_sentinel)
			g_free(text);
	g_async_queue_unref(b->out);
	PQfinish(b->pg);
	g_free(b->conninfo);
	g_free(b);
}

void sb_bus_metrics(sb_bus *b, GString *out)
{
	if (!b)
		return;
	sb_metrics_header(out, "switchboard_cluster_bus_events_total", "counter",
	                  "Events through the cluster's bus, by what became of them");
	static const char *const what[] = {"sent", "received", "too_large", "lost", "stored"};
	guint64 *counts[] = {&b->sent, &b->received, &b->too_large, &b->lost, &b->stored};
	for (size_t i = 0; i < G_N_ELEMENTS(what); i++)
		g_string_append_printf(
		        out, "switchboard_cluster_bus_events_total{result=\"%s\"} %llu\n", what[i],
		        (unsigned long long)__atomic_load_n(counts[i], __ATOMIC_RELAXED));
}
