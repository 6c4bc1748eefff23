/* The call-record store: one small interface over two backends, SQLite (a
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
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

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

#endif
