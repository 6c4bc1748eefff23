/* The store's writer thread and its bounded queue: writes never wait on
 * the database and survive it being away (retried; new ones dropped and
 * counted while the queue is full); reads use a connection of their own
 * (store_private.h, section store). */
#include "store/store_private.h"

#include <string.h>

#include <debug.h>
#include <glib.h>


typedef struct write_item {
	char *sql;
	json_t *params;
} write_item;

struct sb_store {
	const sb_store_backend *backend;
	char *spec;
	unsigned queue_max;

	GMutex mutex; /* guards everything below and the queue */
	GCond cond;   /* the writer waits for work; flush waits for progress */
	GQueue queue; /* write_item* */
	bool busy;    /* the writer holds an item taken from the queue */
	bool stopping;
	uint64_t written, failed, dropped;
	bool connected;
	GThread *writer;
	sb_store_conn *initial; /* the connection made by open, for the writer */

	GMutex read_mutex; /* the reader connection, opened on demand */
	sb_store_conn *reader;
};

static void item_free(write_item *w)
{
	g_free(w->sql);
	json_decref(w->params);
	g_free(w);
}

int sb_store_schema_version(void)
{
	size_t n;
	const sb_store_migration *m = sb_store_migrations(&n);
	return m[n - 1].version;
}

static bool is_postgres(const char *spec)
{
	return g_str_has_prefix(spec, "postgresql://") || g_str_has_prefix(spec, "postgres://") ||
	       strchr(spec, '=') != NULL;
}

/* Brings the database to the newest schema version, one transaction per
 * migration.  PostgreSQL nodes starting together take turns (advisory
 * lock). */
static bool migrate(const sb_store_backend *b, sb_store_conn *c, char **error)
{
	bool pg = b == &sb_store_pg;
	if (b->exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", NULL,
	            error) != SB_STORE_DONE)
		return false;
	if (pg && b->exec(c, "SELECT pg_advisory_lock(726373)", NULL, error) != SB_STORE_DONE)
		return false;
	bool retry;
	json_t *rows =
	        b->query(c, "SELECT MAX(version) AS v FROM schema_version", NULL, &retry, error);
	bool ok = rows != NULL;
	json_int_t have =
	        rows ? json_integer_value(json_object_get(json_array_get(rows, 0), "v")) : 0;
	json_decref(rows);
	size_t n;
	const sb_store_migration *m = sb_store_migrations(&n);
	for (size_t i = 0; ok && i < n; i++) {
		if (m[i].version <= have)
			continue;
		ok = b->exec(c, "BEGIN", NULL, error) == SB_STORE_DONE;
		for (const char *const *s = m[i].statements; ok && *s; s++)
			ok = b->exec(c, *s, NULL, error) == SB_STORE_DONE;
		json_t *p = json_pack("[i]", m[i].version);
		ok = ok && b->exec(c, "INSERT INTO schema_version (version) VALUES (?)", p,
		                   error) == SB_STORE_DONE;
		json_decref(p);
		ok = ok && b->exec(c, "COMMIT", NULL, error) == SB_STORE_DONE;
		if (!ok) {
			char *ignored = NULL;
			b->exec(c, "ROLLBACK", NULL, &ignored);
			g_free(ignored);
		} else {
			JANUS_LOG(LOG_INFO, "[switchboard] store: schema at version %d\n",
			          m[i].version);
		}
	}
	if (pg) {
		char *ignored = NULL;
		b->exec(c, "SELECT pg_advisory_unlock(726373)", NULL, &ignored);
		g_free(ignored);
	}
	return ok;
}

static sb_store_conn *connect_writer(sb_store *s, char **error)
{
	sb_store_conn *c = s->backend->connect(s->spec, false, error);
	if (c && !migrate(s->backend, c, error)) {
		s->backend->close(c);
		c = NULL;
	}
	return c;
}

static gpointer writer_main(gpointer data)
{
	sb_store *s = data;
	sb_store_conn *conn = s->initial;
	s->initial = NULL;
	gint64 next_attempt = 0, backoff_us = 200 * 1000;
	char *last_error = NULL;
	g_mutex_lock(&s->mutex);
	s->connected = conn != NULL;
	for (;;) {
		while (!s->stopping && g_queue_is_empty(&s->queue))
			g_cond_wait(&s->cond, &s->mutex);
		if (g_queue_is_empty(&s->queue))
			break; /* stopping, and nothing left */
		if (!conn) {
			gint64 now = g_get_monotonic_time();
			if (now < next_attempt) {
				if (s->stopping)
					break; /* the database is away: close gives up */
				g_cond_wait_until(&s->cond, &s->mutex, next_attempt);
				continue;
			}
			g_mutex_unlock(&s->mutex);
			char *error = NULL;
			conn = connect_writer(s, &error);
			g_mutex_lock(&s->mutex);
			s->connected = conn != NULL;
			if (!conn) {
				if (!last_error || strcmp(last_error, error ? error : "")) {
					JANUS_LOG(LOG_WARN,
					          "[switchboard] store: %s; records wait in the "
					          "queue\n",
					          error ? error : "?");
					g_free(last_error);
					last_error = g_strdup(error ? error : "");
				}
				g_free(error);
				next_attempt = g_get_monotonic_time() + backoff_us;
				backoff_us = MIN(backoff_us * 2, 2 * G_USEC_PER_SEC);
				continue;
			}
			if (last_error)
				JANUS_LOG(LOG_INFO,
				          "[switchboard] store: database back, writing %u queued "
				          "records\n",
				          g_queue_get_length(&s->queue));
			g_clear_pointer(&last_error, g_free);
			backoff_us = 200 * 1000;
		}
		write_item *w = g_queue_peek_head(&s->queue);
		s->busy = true;
		g_mutex_unlock(&s->mutex);
		char *error = NULL;
		sb_store_result r = s->backend->exec(conn, w->sql, w->params, &error);
		g_mutex_lock(&s->mutex);
		s->busy = false;
		if (r == SB_STORE_RETRY) {
			/* Keep the item first in line; reconnect after a pause. */
			s->backend->close(conn);
			conn = NULL;
			s->connected = false;
			JANUS_LOG(LOG_WARN, "[switchboard] store: write failed (%s): will retry\n",
			          error ? error : "?");
			g_free(last_error);
			last_error = g_strdup(error ? error : "");
			next_attempt = g_get_monotonic_time() + backoff_us;
		} else {
			g_queue_pop_head(&s->queue);
			if (r == SB_STORE_DONE) {
				s->written++;
			} else {
				s->failed++;
				JANUS_LOG(LOG_ERR, "[switchboard] store: record refused: %s (%s)\n",
				          error ? error : "?", w->sql);
			}
			item_free(w);
		}
		g_free(error);
		g_cond_broadcast(&s->cond);
	}
	s->connected = false;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->mutex);
	g_free(last_error);
	if (conn)
		s->backend->close(conn);
	return NULL;
}

sb_store *sb_store_open(const char *spec, unsigned queue_max, char **error)
{
	if (!spec || !*spec) {
		*error = g_strdup("no store configured");
		return NULL;
	}
	sb_store *s = g_new0(sb_store, 1);
	s->backend = is_postgres(spec) ? &sb_store_pg : &sb_store_sqlite;
	s->spec = g_strdup(g_str_has_prefix(spec, "sqlite:") ? spec + 7 : spec);
	s->queue_max = queue_max ? queue_max : 10000;
	g_mutex_init(&s->mutex);
	g_cond_init(&s->cond);
	g_mutex_init(&s->read_mutex);
	g_queue_init(&s->queue);
	/* Connect and migrate now: a SQLite file that cannot be written is a
	 * configuration error to report at start-up, not at the first call;
	 * PostgreSQL may be down at start (the writer keeps trying). */
	char *why = NULL;
	s->initial = connect_writer(s, &why);
	if (!s->initial && s->backend == &sb_store_sqlite) {
		*error = g_strdup_printf("SQLite store %s: %s", s->spec, why ? why : "?");
		g_free(why);
		g_free(s->spec);
		g_free(s);
		return NULL;
	}
	if (!s->initial)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] store: %s; records will wait until it is reachable\n",
		          why ? why : "?");
	g_free(why);
	s->writer = g_thread_new("sb store", writer_main, s);
	return s;
}

const char *sb_store_backend_name(const sb_store *s)
{
	return s->backend->name;
}

void sb_store_write(sb_store *s, const char *sql, json_t *params)
{
	g_mutex_lock(&s->mutex);
	if (s->stopping || g_queue_get_length(&s->queue) >= s->queue_max) {
		s->dropped++;
		g_mutex_unlock(&s->mutex);
		json_decref(params);
		return;
	}
	write_item *w = g_new0(write_item, 1);
	w->sql = g_strdup(sql);
	w->params = params;
	g_queue_push_tail(&s->queue, w);
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->mutex);
}

bool sb_store_flush(sb_store *s, unsigned timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	g_mutex_lock(&s->mutex);
	while (!g_queue_is_empty(&s->queue) || s->busy)
		if (!g_cond_wait_until(&s->cond, &s->mutex, deadline))
			break;
	bool done = g_queue_is_empty(&s->queue) && !s->busy;
	g_mutex_unlock(&s->mutex);
	return done;
}

void sb_store_close(sb_store *s, unsigned timeout_ms)
{
	if (!s)
		return;
	if (!sb_store_flush(s, timeout_ms))
		JANUS_LOG(LOG_WARN, "[switchboard] store: closing with %u records not written\n",
		          g_queue_get_length(&s->queue));
	g_mutex_lock(&s->mutex);
	s->stopping = true;
	g_cond_broadcast(&s->cond);
	g_mutex_unlock(&s->mutex);
	g_thread_join(s->writer);
	g_queue_clear_full(&s->queue, (GDestroyNotify)item_free);
	if (s->reader)
		s->backend->close(s->reader);
	g_mutex_clear(&s->mutex);
	g_cond_clear(&s->cond);
	g_mutex_clear(&s->read_mutex);
	g_free(s->spec);
	g_free(s);
}

json_t *sb_store_query(sb_store *s, const char *sql, json_t *params, char **error)
{
	g_mutex_lock(&s->read_mutex);
	json_t *rows = NULL;
	/* One reconnect: a reader whose server restarted fails once. */
	for (int attempt = 0; attempt < 2 && !rows; attempt++) {
		g_clear_pointer(error, g_free);
		if (!s->reader)
			s->reader = s->backend->connect(s->spec, true, error);
		if (!s->reader)
			break;
		bool retry = false;
		rows = s->backend->query(s->reader, sql, params, &retry, error);
		if (!rows && retry) {
			s->backend->close(s->reader);
			s->reader = NULL;
		} else if (!rows) {
			break;
		}
	}
	g_mutex_unlock(&s->read_mutex);
	return rows;
}

void sb_store_get_stats(sb_store *s, sb_store_stats *out)
{
	g_mutex_lock(&s->mutex);
	out->queued = g_queue_get_length(&s->queue) + (s->busy ? 0 : 0);
	out->written = s->written;
	out->failed = s->failed;
	out->dropped = s->dropped;
	out->connected = s->connected;
	g_mutex_unlock(&s->mutex);
}
