/* What a store backend provides (store.c drives it; not for other modules). */
#ifndef SB_STORE_BACKEND_H
#define SB_STORE_BACKEND_H

#include <stdbool.h>

#include <jansson.h>

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

/* The migrations, in order; each a list of statements run in one
 * transaction (schema.c). */
typedef struct sb_store_migration {
	int version;
	const char *const *statements;
} sb_store_migration;
const sb_store_migration *sb_store_migrations(size_t *count);

#endif
