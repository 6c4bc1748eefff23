/* PostgreSQL backend (libpq).  `?` placeholders become $1, $2 …; values go
 * as text parameters, typed by the server from the statement.  Timeouts
 * keep a dead server from holding a reader: connect_timeout on connect,
 * statement_timeout per session. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libpq-fe.h>

#include "store/store_private.h"

struct sb_store_conn {
	PGconn *pg;
};

static void quiet_notice(void *arg, const char *message)
{
	(void)arg, (void)message;
}

static sb_store_conn *pg_connect(const char *spec, bool reader, char **error)
{
	const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
	const char *values[] = {spec, "3", "-c statement_timeout=5000", "switchboard", NULL};
	/* expand_dbname: the spec (URI or conninfo) fills in everything else. */
	PGconn *pg = PQconnectdbParams(keys, values, 1);
	if (!pg || PQstatus(pg) != CONNECTION_OK) {
		char *msg = pg ? g_strdup(PQerrorMessage(pg)) : g_strdup("out of memory");
		g_strchomp(msg);
		*error = g_strdup_printf("PostgreSQL: %s", msg);
		g_free(msg);
		PQfinish(pg);
		return NULL;
	}
	(void)reader;
	PQsetNoticeProcessor(pg, quiet_notice, NULL);
	sb_store_conn *c = g_new0(sb_store_conn, 1);
	c->pg = pg;
	return c;
}

/* `?` → `$n`, outside quoted literals and identifiers. */
static char *numbered(const char *sql)
{
	GString *out = g_string_sized_new(strlen(sql) + 16);
	int n = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			g_string_append_c(out, *p);
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			g_string_append_c(out, *p);
		} else if (*p == '?') {
			g_string_append_printf(out, "$%d", ++n);
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static json_t *cell(PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return json_null();
	const char *v = PQgetvalue(r, row, col);
	switch (PQftype(r, col)) {
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */
		return json_integer(g_ascii_strtoll(v, NULL, 10));
	case 700:  /* float4 */
	case 701:  /* float8 */
	case 1700: /* numeric */
		return json_real(g_ascii_strtod(v, NULL));
	case 16: /* bool */
		return json_boolean(v[0] == 't');
	default:
		return json_string(v);
	}
}

static json_t *run(sb_store_conn *c, const char *sql, json_t *params, bool *retry, char **error)
{
	*retry = false;
	size_t n = json_array_size(params);
	const char **values = g_new0(const char *, n + 1);
	char **owned = g_new0(char *, n + 1);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(params, i);
		switch (json_typeof(v)) {
		case JSON_STRING:
			values[i] = json_string_value(v);
			break;
		case JSON_INTEGER:
			values[i] = owned[i] =
			        g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
			break;
		case JSON_REAL: {
			char buf[G_ASCII_DTOSTR_BUF_SIZE];
			values[i] = owned[i] =
			        g_strdup(g_ascii_dtostr(buf, sizeof(buf), json_real_value(v)));
			break;
		}
		case JSON_TRUE:
			values[i] = "1";
			break;
		case JSON_FALSE:
			values[i] = "0";
			break;
		default:
			values[i] = NULL;
			break;
		}
	}
	char *text = numbered(sql);
	PGresult *r = PQexecParams(c->pg, text, (int)n, NULL, values, NULL, NULL, 0);
	g_free(text);
	for (size_t i = 0; i < n; i++)
		g_free(owned[i]);
	g_free(owned);
	g_free(values);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char *msg = g_strdup(r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
		g_strchomp(msg);
		*error = msg;
		/* Lost connection, or a server shutting down / starting up. */
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		*retry = PQstatus(c->pg) != CONNECTION_OK || !state ||
		         g_str_has_prefix(state, "08") || g_str_has_prefix(state, "57") ||
		         g_str_has_prefix(state, "53") || !strcmp(state, "40001") ||
		         !strcmp(state, "40P01");
		PQclear(r);
		return NULL;
	}
	json_t *rows = json_array();
	int nrows = PQntuples(r), ncols = PQnfields(r);
	for (int i = 0; i < nrows; i++) {
		json_t *row = json_object();
		for (int j = 0; j < ncols; j++)
			json_object_set_new(row, PQfname(r, j), cell(r, i, j));
		json_array_append_new(rows, row);
	}
	PQclear(r);
	return rows;
}

static sb_store_result pg_exec(sb_store_conn *c, const char *sql, json_t *params, char **error)
{
	bool retry;
	json_t *r = run(c, sql, params, &retry, error);
	if (r) {
		json_decref(r);
		return SB_STORE_DONE;
	}
	return retry ? SB_STORE_RETRY : SB_STORE_REFUSED;
}

static json_t *pg_query(sb_store_conn *c, const char *sql, json_t *params, bool *retry,
                        char **error)
{
	return run(c, sql, params, retry, error);
}

static void pg_close(sb_store_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	g_free(c);
}

const sb_store_backend sb_store_pg = {
        .name = "postgresql",
        .connect = pg_connect,
        .exec = pg_exec,
        .query = pg_query,
        .close = pg_close,
};
