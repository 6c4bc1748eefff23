/* SQLite backend: one file in WAL mode (readers do not wait for the
 * writer), a busy timeout instead of failing on a short lock. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "store/store_private.h"

struct sb_store_conn {
	sqlite3 *db;
};

static sb_store_conn *sq_connect(const char *path, bool reader, char **error)
{
	if (!reader) {
		/* The directory must exist and be writable; say which it is. */
		char *dir = g_path_get_dirname(path);
		if (g_mkdir_with_parents(dir, 0750) != 0 || g_access(dir, W_OK) != 0) {
			*error = g_strdup_printf("store directory %s is not writable: %s", dir,
			                         g_strerror(errno));
			g_free(dir);
			return NULL;
		}
		g_free(dir);
	}
	sqlite3 *db = NULL;
	int flags = reader ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*error = g_strdup_printf("cannot open %s: %s", path,
		                         db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, reader ? 1000 : 5000);
	char *msg = NULL;
	if (!reader && sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL,
	                            NULL, &msg) != SQLITE_OK) {
		*error = g_strdup_printf("cannot use %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	sb_store_conn *c = g_new0(sb_store_conn, 1);
	c->db = db;
	return c;
}

static bool bind_params(sqlite3_stmt *st, json_t *params, char **error)
{
	size_t i;
	json_t *v;
	json_array_foreach(params, i, v)
	{
		int idx = (int)i + 1, rc;
		switch (json_typeof(v)) {
		case JSON_STRING:
			rc = sqlite3_bind_text(st, idx, json_string_value(v),
			                       (int)json_string_length(v), SQLITE_TRANSIENT);
			break;
		case JSON_INTEGER:
			rc = sqlite3_bind_int64(st, idx, json_integer_value(v));
			break;
		case JSON_REAL:
			rc = sqlite3_bind_double(st, idx, json_real_value(v));
			break;
		case JSON_TRUE:
			rc = sqlite3_bind_int(st, idx, 1);
			break;
		case JSON_FALSE:
			rc = sqlite3_bind_int(st, idx, 0);
			break;
		default:
			rc = sqlite3_bind_null(st, idx);
			break;
		}
		if (rc != SQLITE_OK) {
			*error = g_strdup_printf("bind %d: %s", idx, sqlite3_errstr(rc));
			return false;
		}
	}
	return true;
}

static bool transient(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_IOERR ||
	       rc == SQLITE_FULL || rc == SQLITE_CANTOPEN;
}

static json_t *run(sb_store_conn *c, const char *sql, json_t *params, bool rows, bool *retry,
                   char **error)
{
	*retry = false;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		*retry = transient(rc);
		*error = g_strdup(sqlite3_errmsg(c->db));
		return NULL;
	}
	if (!bind_params(st, params, error)) {
		sqlite3_finalize(st);
		return NULL;
	}
	json_t *out = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!rows)
			continue;
		json_t *row = json_object();
		int n = sqlite3_column_count(st);
		for (int i = 0; i < n; i++) {
			const char *name = sqlite3_column_name(st, i);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_INTEGER:
				json_object_set_new(row, name,
				                    json_integer(sqlite3_column_int64(st, i)));
				break;
			case SQLITE_FLOAT:
				json_object_set_new(row, name,
				                    json_real(sqlite3_column_double(st, i)));
				break;
			case SQLITE_NULL:
				json_object_set_new(row, name, json_null());
				break;
			default:
				json_object_set_new(
				        row, name,
				        json_stringn((const char *)sqlite3_column_text(st, i),
				                     (size_t)sqlite3_column_bytes(st, i)));
			}
		}
		json_array_append_new(out, row);
	}
	if (rc != SQLITE_DONE) {
		*retry = transient(rc);
		*error = g_strdup(sqlite3_errmsg(c->db));
		json_decref(out);
		out = NULL;
	}
	sqlite3_finalize(st);
	return out;
}

static sb_store_result sq_exec(sb_store_conn *c, const char *sql, json_t *params, char **error)
{
	bool retry;
	json_t *r = run(c, sql, params, false, &retry, error);
	if (r) {
		json_decref(r);
		return SB_STORE_DONE;
	}
	return retry ? SB_STORE_RETRY : SB_STORE_REFUSED;
}

static json_t *sq_query(sb_store_conn *c, const char *sql, json_t *params, bool *retry,
                        char **error)
{
	return run(c, sql, params, true, retry, error);
}

static void sq_close(sb_store_conn *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	g_free(c);
}

const sb_store_backend sb_store_sqlite = {
        .name = "sqlite",
        .connect = sq_connect,
        .exec = sq_exec,
        .query = sq_query,
        .close = sq_close,
};
