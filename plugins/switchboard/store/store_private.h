/* Inside the store module (private interface): the store over its two
 * backends, the backends' contract, records from the bus, and the read
 * queries. */
#ifndef SB_STORE_STORE_PRIVATE_H
#define SB_STORE_STORE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

/* ---- store ----
 * The call-record store: one small interface over two backends, SQLite (a
 * file, the default) and PostgreSQL ("postgresql://…", shared by several
 * nodes).  Writes are queued and done by the store's own writer thread, so
 * a media, request or HTTP thread never waits for a database: when the
 * database is down, writes wait in a bounded queue (what does not fit is
 * counted as dropped) and go in, in order, once it is back.  Reads are
 * synchronous on a separate connection, with short timeouts.
 *
 * SQL is written once with `?` placeholders; values are bound as
 * parameters (a JSON array of strings, integers, reals, booleans, nulls),
 * never pasted into the text. */
typedef struct sb_store sb_store;

typedef struct sb_store_stats {
	uint64_t queued;  /* waiting for the writer now */
	uint64_t written; /* statements done */
	uint64_t failed;  /* statements the database refused (not retried) */
	uint64_t dropped; /* did not fit in the queue */
	bool connected;   /* the writer's connection is up */
} sb_store_stats;

/* spec: a file path (SQLite) or a postgresql:// / postgres:// URI or
 * "host=… dbname=…" conninfo.  SQLite must open and migrate now (an
 * unwritable path fails here with *error set); PostgreSQL may be down at
 * start: the writer connects and migrates when it can.  queue_max bounds
 * the writes held while the database is away. */
sb_store *sb_store_open(const char *spec, unsigned queue_max, char **error);
/* Waits up to timeout_ms for the queue to drain, stops the writer, closes. */
void sb_store_close(sb_store *s, unsigned timeout_ms);
const char *sb_store_backend_name(const sb_store *s);

/* Queues one write; takes params (an array, or NULL).  Never blocks. */
void sb_store_write(sb_store *s, const char *sql, json_t *params);
/* Waits up to timeout_ms until everything queued so far is written. */
bool sb_store_flush(sb_store *s, unsigned timeout_ms);

/* Runs a read; params borrowed.  Returns an array of row objects (column
 * name -> value), or NULL with *error set. */
json_t *sb_store_query(sb_store *s, const char *sql, json_t *params, char **error);

void sb_store_get_stats(sb_store *s, sb_store_stats *out);

/* The schema version the migrations bring a database to. */
int sb_store_schema_version(void);

/* ---- store_backend ----
 * What a store backend provides (store.c drives it; not for other modules). */

typedef struct sb_store_conn sb_store_conn;

typedef enum {
	SB_STORE_DONE = 0,
	SB_STORE_REFUSED, /* the statement is wrong or breaks a constraint: drop it */
	SB_STORE_RETRY,   /* the database is away or busy: try again later */
} sb_store_result;

typedef struct sb_store_backend {
	const char *name;
	sb_store_conn *(*connect)(const char *spec, bool reader, char **error);
	/* A statement without rows (params: array or NULL). */
	sb_store_result (*exec)(sb_store_conn *c, const char *sql, json_t *params, char **error);
	/* Rows as an array of objects, or NULL with *error (and *retry when
	 * the connection is gone). */
	json_t *(*query)(sb_store_conn *c, const char *sql, json_t *params, bool *retry,
	                 char **error);
	void (*close)(sb_store_conn *c);
} sb_store_backend;

extern const sb_store_backend sb_store_sqlite;
extern const sb_store_backend sb_store_pg;

/* The module's store (api.c), or NULL when it is off; why it is off. */
sb_store *sb_store_module_store(void);
const char *sb_store_module_unavailable(void);

/* The migrations, in order; each a list of statements run in one
 * transaction (schema.c). */
typedef struct sb_store_migration {
	int version;
	const char *const *statements;
} sb_store_migration;
const sb_store_migration *sb_store_migrations(size_t *count);

/* ---- sip objects ----
 * The rows behind store.h's sb_store_sip_object_* (sip_objects.c), on a
 * given store (the unit tests' too). */
json_t *sb_sip_objects_load(sb_store *s, char **error);
void sb_sip_objects_save(sb_store *s, const char *id, const char *kind, json_t *body,
                         gint64 created_ms, gint64 updated_ms);
void sb_sip_objects_delete(sb_store *s, const char *id);

/* ---- records ----
 * Turns the notification bus into call records: a call is a room's
 * lifetime, its interface (web, phone, whatsapp …) that of its first
 * participant other than the AI agent.  Everything is queued on the store;
 * the listener does a hash lookup and a queue push, nothing more. */

/* Subscribes to the bus; node names this process in the records. */
void sb_records_start(sb_store *store, const char *node);
/* Unsubscribes, closes the calls still open (ended now), as after a
 * shutdown. */
void sb_records_stop(void);
/* One event, as the bus delivers it (exposed for the unit tests). */
void sb_records_event(json_t *event);
/* The call id of an open room, or NULL (g_free). */
char *sb_records_call_of_room(const char *room);
/* Prometheus text: calls by interface and outcome, turn latency
 * histogram, store queue and drops. */
void sb_records_metrics(GString *out);

/* ---- queries ----
 * Read queries over the records: call history with filters, one call in
 * full, analytics over a range, transfer history, CSV export.  Inputs are
 * already validated (api.c); values go in as bound parameters only. */

#define SB_CALLS_LIMIT_MAX 200

typedef struct sb_call_filter {
	const char *interface; /* NULL: any */
	gint64 from_ms, to_ms; /* started in [from, to); 0: open */
	const char *agent;     /* a human agent's identity or display, or the AI's name */
	const char *outcome;
	const char *disposition; /* the analysis's: resolved, escalated … */
	const char *sentiment;   /* the analysis's overall: negative, neutral, positive */
	const char *search; /* substring of room, from, to or CallSid */
	int page;           /* 1-based */
	int limit;
} sb_call_filter;

/* {"calls":[…],"total","page","limit"} or NULL with *error. */
json_t *sb_query_calls(sb_store *s, const sb_call_filter *f, char **error);
/* The call with participants, transcript, agent_turns, transfers,
 * recordings, messages; json_null() when there is no such call. */
json_t *sb_query_call(sb_store *s, const char *id, char **error);
/* Analytics for the days before now_ms. */
json_t *sb_query_analytics(sb_store *s, int days, gint64 now_ms, char **error);
/* {"transfers":[…]} newest first. */
json_t *sb_query_transfers(sb_store *s, const char *agent_id, int limit, char **error);
/* Whether the call is known, in *exists; false (with *error) when the read
 * failed. */
bool sb_query_call_exists(sb_store *s, const char *id, bool *exists, char **error);
/* The recording rows of a call (newest first), or NULL with *error. */
json_t *sb_query_recordings(sb_store *s, const char *call_id, char **error);

/* Rows as CSV with the given columns (NULL-terminated).  Cells that a
 * spreadsheet would run as a formula are prefixed with '. */
char *sb_rows_csv(json_t *rows, const char *const *columns);
extern const char *const sb_call_columns[];
extern const char *const sb_transfer_columns[];

#endif
