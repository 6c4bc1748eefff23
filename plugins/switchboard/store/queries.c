/* The reads behind the records' REST routes: calls with their filter and
 * page, one call with everything recorded about it, analytics of a range,
 * the transfers' history, and CSV.  Values are always bound parameters;
 * the SQL is the subset SQLite and PostgreSQL share. */
#include "store/store_private.h"

#include <math.h>
#include <string.h>

const char *const sb_call_columns[] = {
        "id",         "room",        "interface", "direction",   "from_addr",   "to_addr",
        "call_sid",   "started",     "answered",  "ended",       "duration_ms", "outcome",
        "ai_handled", "human_agent", "status",    "disposition", "sentiment",   NULL};
const char *const sb_transfer_columns[] = {
        "transfer_id",  "call_id", "room",    "from_agent", "to_target", "target_kind",
        "consult_room", "reason",  "summary", "state",      "initiated", "accepted",
        "completed",    "ended",   "failure", NULL};

static char *columns_sql(const char *const *cols)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; cols[i]; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", cols[i]);
	return g_string_free(s, FALSE);
}

/* LIKE pattern matching text anywhere, with % _ and \ taken literally. */
static char *like_pattern(const char *text)
{
	GString *s = g_string_new("%");
	for (const char *p = text; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			g_string_append_c(s, '\\');
		g_string_append_c(s, *p);
	}
	g_string_append_c(s, '%');
	return g_string_free(s, FALSE);
}

/* The WHERE clause of a filter; the values go to params. */
static char *where_of(const sb_call_filter *f, json_t *params)
{
	GString *w = g_string_new(" WHERE 1 = 1");
	if (f->interface) {
		g_string_append(w, " AND interface = ?");
		json_array_append_new(params, json_string(f->interface));
	}
	if (f->from_ms) {
		g_string_append(w, " AND started >= ?");
		json_array_append_new(params, json_integer(f->from_ms));
	}
	if (f->to_ms) {
		g_string_append(w, " AND started < ?");
		json_array_append_new(params, json_integer(f->to_ms));
	}
	if (f->outcome) {
		g_string_append(w, " AND outcome = ?");
		json_array_append_new(params, json_string(f->outcome));
	}
	if (f->disposition) {
		g_string_append(w, " AND disposition = ?");
		json_array_append_new(params, json_string(f->disposition));
	}
	if (f->sentiment) {
		g_string_append(w, " AND sentiment = ?");
		json_array_append_new(params, json_string(f->sentiment));
	}
	if (f->agent) {
		g_string_append(w, " AND (human_agent = ? OR EXISTS (SELECT 1 FROM participants p"
		                   " WHERE p.call_id = calls.id AND p.role = 'agent'"
		                   " AND (p.identity = ? OR p.display = ?)))");
		for (int i = 0; i < 3; i++)
			json_array_append_new(params, json_string(f->agent));
	}
	if (f->search) {
		char *pat = like_pattern(f->search);
		g_string_append(w,
		                " AND (room LIKE ? ESCAPE '\\' OR from_addr LIKE ? ESCAPE '\\'"
		                " OR to_addr LIKE ? ESCAPE '\\' OR call_sid LIKE ? ESCAPE '\\')");
		for (int i = 0; i < 4; i++)
			json_array_append_new(params, json_string(pat));
		g_free(pat);
	}
	return g_string_free(w, FALSE);
}

json_t *sb_query_calls(sb_store *s, const sb_call_filter *f, char **error)
{
	json_t *params = json_array();
	char *where = where_of(f, params);
	char *sql = g_strdup_printf("SELECT COUNT(*) AS n FROM calls%s", where);
	json_t *count = sb_store_query(s, sql, params, error);
	g_free(sql);
	json_t *out = NULL;
	if (count) {
		char *cols = columns_sql(sb_call_columns);
		sql = g_strdup_printf(
		        "SELECT %s FROM calls%s ORDER BY started DESC, id LIMIT ? OFFSET ?", cols,
		        where);
		g_free(cols);
		json_array_append_new(params, json_integer(f->limit));
		json_array_append_new(params, json_integer((json_int_t)(f->page - 1) * f->limit));
		json_t *rows = sb_store_query(s, sql, params, error);
		g_free(sql);
		if (rows)
			out = json_pack(
			        "{sosIsisi}", "calls", rows, "total",
			        json_integer_value(json_object_get(json_array_get(count, 0), "n")),
			        "page", f->page, "limit", f->limit);
	}
	json_decref(count);
	json_decref(params);
	g_free(where);
	return out;
}

/* Reads into obj, one key each, all with the same params; false (with
 * *error) at the first that fails. */
typedef struct read_into {
	const char *key, *sql;
} read_into;

static bool fetch_all(sb_store *s, json_t *obj, const read_into *reads, size_t n, json_t *params,
                      char **error)
{
	for (size_t i = 0; i < n; i++) {
		json_t *rows = sb_store_query(s, reads[i].sql, params, error);
		if (!rows)
			return false;
		json_object_set_new(obj, reads[i].key, rows);
	}
	return true;
}

/* What a call's record holds beside its row. */
static const read_into call_parts[] = {
        {"participants", "SELECT participant_id, kind, role, display, identity, interface, info, "
                         "joined, left_at, reason FROM participants WHERE call_id = ? ORDER BY "
                         "joined, id"},
        {"transcript", "SELECT speaker, speaker_id, text, started, ended FROM "
                       "transcript_segments WHERE call_id = ? ORDER BY ended, seq"},
        {"agent_turns", "SELECT at, latency_ms, stt, llm, tts, fallback, interrupted, user_text, "
                        "agent_text, stt_final_ms, llm_first_token_ms, tts_first_audio_ms, "
                        "first_packet_ms FROM agent_turns WHERE call_id = ? ORDER BY at, id"},
        {"tool_calls", "SELECT at, tool, arguments, status, latency_ms, http_status, error FROM "
                       "agent_tool_calls WHERE call_id = ? ORDER BY at, id"},
        {"transfers", "SELECT transfer_id, from_agent, to_target, target_kind, consult_room, "
                      "reason, summary, state, initiated, accepted, completed, ended, failure "
                      "FROM transfers WHERE call_id = ? ORDER BY initiated"},
        {"recordings", "SELECT id, kind, participant_id, format, started, ended, bytes FROM "
                       "recordings WHERE call_id = ? ORDER BY started"},
        {"messages", "SELECT message_sid, from_addr, to_addr, body, direction, media_count, at "
                     "FROM whatsapp_messages WHERE call_id = ? ORDER BY at, seq, id"},
};

json_t *sb_query_call(sb_store *s, const char *id, char **error)
{
	json_t *p = json_pack("[s]", id);
	char *cols = columns_sql(sb_call_columns);
	/* One call's record also has its context (not the lists': it may
	 * hold personal data, and it is long). */
	char *sql = g_strdup_printf("SELECT %s, variables, analysis FROM calls WHERE id = ?", cols);
	g_free(cols);
	json_t *rows = sb_store_query(s, sql, p, error);
	g_free(sql);
	json_t *call = NULL;
	if (rows && json_array_size(rows) == 0) {
		call = json_null();
	} else if (rows) {
		call = json_incref(json_array_get(rows, 0));
		bool ok = fetch_all(s, call, call_parts, G_N_ELEMENTS(call_parts), p, error);
		/* The context is stored as JSON text: given back as an object. */
		const char *variables = json_string_value(json_object_get(call, "variables"));
		json_t *parsed_variables = variables ? json_loads(variables, 0, NULL) : NULL;
		json_object_set_new(call, "variables",
		                    json_is_object(parsed_variables) ? parsed_variables
		                                                     : json_object());
		if (parsed_variables && !json_is_object(parsed_variables))
			json_decref(parsed_variables);
		/* So is the analysis: null until the call has ended and been
		 * analysed. */
		const char *analysis = json_string_value(json_object_get(call, "analysis"));
		json_t *parsed_analysis = analysis ? json_loads(analysis, 0, NULL) : NULL;
		json_object_set_new(call, "analysis",
		                    json_is_object(parsed_analysis) ? parsed_analysis
		                                                    : json_null());
		if (parsed_analysis && !json_is_object(parsed_analysis))
			json_decref(parsed_analysis);
		/* info is stored as JSON text: give it back as an object. */
		size_t i;
		json_t *part;
		json_array_foreach(json_object_get(call, "participants"), i, part)
		{
			const char *info = json_string_value(json_object_get(part, "info"));
			json_t *parsed = info ? json_loads(info, 0, NULL) : NULL;
			if (parsed)
				json_object_set_new(part, "info", parsed);
		}
		if (!ok) {
			json_decref(call);
			call = NULL;
		}
	}
	json_decref(rows);
	json_decref(p);
	return call;
}

bool sb_query_call_exists(sb_store *s, const char *id, bool *exists, char **error)
{
	json_t *p = json_pack("[s]", id);
	json_t *rows = sb_store_query(s, "SELECT 1 AS n FROM calls WHERE id = ?", p, error);
	json_decref(p);
	*exists = json_array_size(rows) > 0;
	json_decref(rows);
	return rows != NULL;
}

json_t *sb_query_recordings(sb_store *s, const char *call_id, char **error)
{
	json_t *p = json_pack("[s]", call_id);
	json_t *rows = sb_store_query(
	        s,
	        "SELECT id, kind, participant_id, format, path, started, ended, bytes FROM "
	        "recordings WHERE "
	        "call_id = ? ORDER BY CASE WHEN kind = 'mix' THEN 0 ELSE 1 END, started DESC",
	        p, error);
	json_decref(p);
	return rows;
}

static double num(json_t *row, const char *key)
{
	json_t *v = json_object_get(row, key);
	return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* The value at a percentile of the turn latencies: one indexed row each. */
static json_t *latency_percentiles(sb_store *s, gint64 since, char **error)
{
	json_t *p = json_pack("[I]", (json_int_t)since);
	json_t *rows = sb_store_query(
	        s, "SELECT COUNT(*) AS n FROM agent_turns WHERE at >= ? AND latency_ms IS NOT NULL",
	        p, error);
	if (!rows) {
		json_decref(p);
		return NULL;
	}
	json_int_t n = json_integer_value(json_object_get(json_array_get(rows, 0), "n"));
	json_decref(rows);
	json_t *out = json_pack("{sI}", "count", n);
	static const struct {
		const char *name;
		int pct;
	} pcts[] = {{"p50", 50}, {"p90", 90}, {"p95", 95}, {"p99", 99}};
	for (size_t i = 0; i < G_N_ELEMENTS(pcts) && n > 0; i++) {
		/* Nearest rank. */
		json_int_t rank = (json_int_t)ceil(pcts[i].pct / 100.0 * (double)n);
		json_t *q = json_pack("[II]", (json_int_t)since, rank > 0 ? rank - 1 : 0);
		json_t *r = sb_store_query(
		        s,
		        "SELECT latency_ms FROM agent_turns WHERE at >= ? AND "
		        "latency_ms IS NOT NULL ORDER BY latency_ms LIMIT 1 OFFSET ?",
		        q, error);
		json_decref(q);
		if (!r) {
			json_decref(out);
			json_decref(p);
			return NULL;
		}
		json_object_set(out, pcts[i].name,
		                json_object_get(json_array_get(r, 0), "latency_ms"));
		json_decref(r);
	}
	json_decref(p);
	return out;
}

static json_t *rounded(double v)
{
	return json_integer((json_int_t)llround(v));
}

/* The analytics of a range, each read from its start (the one param). */
static const read_into analytics_parts[] = {
        {"totals", "SELECT COUNT(*) AS calls, AVG(duration_ms) AS avg_duration_ms, "
                   "MAX(duration_ms) AS max_duration_ms, "
                   "SUM(CASE WHEN outcome = 'ai_handled' THEN 1 ELSE 0 END) AS ai_handled, "
                   "SUM(CASE WHEN outcome = 'transferred' THEN 1 ELSE 0 END) AS transferred, "
                   "SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS abandoned, "
                   "SUM(CASE WHEN outcome = 'completed' THEN 1 ELSE 0 END) AS completed "
                   "FROM calls WHERE started >= ?"},
        {"by_interface", "SELECT COALESCE(interface, 'unknown') AS interface, COUNT(*) AS calls, "
                         "AVG(duration_ms) AS avg_duration_ms FROM calls WHERE started >= ? "
                         "GROUP BY COALESCE(interface, 'unknown') ORDER BY 1"},
        {"by_outcome", "SELECT COALESCE(outcome, 'in_progress') AS outcome, COUNT(*) AS calls "
                       "FROM calls WHERE started >= ? "
                       "GROUP BY COALESCE(outcome, 'in_progress') ORDER BY 1"},
        {"per_day", "SELECT started / 86400000 AS day, COUNT(*) AS calls FROM calls WHERE "
                    "started >= ? GROUP BY started / 86400000 ORDER BY 1"},
        {"per_hour", "SELECT (started / 3600000) % 24 AS hour, COUNT(*) AS calls FROM calls "
                     "WHERE started >= ? GROUP BY (started / 3600000) % 24 ORDER BY 1"},
        {"turns", "SELECT COUNT(*) AS turns, SUM(fallback) AS fallbacks, "
                  "SUM(interrupted) AS interrupted FROM agent_turns WHERE at >= ?"},
        {"transfers", "SELECT COUNT(*) AS total, "
                      "SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END) AS completed, "
                      "AVG(CASE WHEN state = 'completed' THEN completed - initiated END) AS "
                      "avg_duration_ms FROM transfers WHERE initiated >= ?"},
        {"human_agents",
         "SELECT COALESCE(p.identity, p.display) AS agent, COUNT(DISTINCT p.call_id) AS calls, "
         "AVG(COALESCE(p.left_at, c.ended) - p.joined) AS avg_handle_ms "
         "FROM participants p JOIN calls c ON c.id = p.call_id "
         "WHERE p.role = 'agent' AND p.kind <> 'agent' AND c.started >= ? "
         "GROUP BY COALESCE(p.identity, p.display) ORDER BY 2 DESC"},
};

/* The score inside the analysis's JSON text: the one expression the two
 * backends spell differently (both have JSON functions, not the same). */
static const char *score_sql(sb_store *s)
{
	return strcmp(sb_store_backend_name(s), "postgresql") == 0
	               ? "CAST(CAST(analysis AS json) -> 'sentiment' ->> 'score' AS DOUBLE "
	                 "PRECISION)"
	               : "CASE WHEN json_valid(analysis) THEN "
	                 "json_extract(analysis, '$.sentiment.score') END";
}

static json_t *avg_or_null(double sum, double n)
{
	return n > 0 ? json_real(round(sum / n * 100.0) / 100.0) : json_null();
}

/* The analysed calls' sentiment over the range: per bucket (an hour for a
 * day's range, else a day) by the call's start, the overall labels
 * counted and the scores averaged; calls not analysed (in progress, the
 * analysis off) are not counted. */
static json_t *sentiment_over_time(sb_store *s, int days, gint64 since, char **error)
{
	gint64 bucket_ms = days <= 1 ? 3600000 : 86400000;
	char *sql = g_strdup_printf(
	        "SELECT started / ? AS bucket, COUNT(*) AS calls, "
	        "SUM(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END) AS positive, "
	        "SUM(CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END) AS neutral, "
	        "SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) AS negative, "
	        "COUNT(%1$s) AS scored, AVG(%1$s) AS avg_score FROM calls "
	        "WHERE started >= ? AND sentiment IS NOT NULL GROUP BY 1 ORDER BY 1",
	        score_sql(s));
	json_t *p = json_pack("[II]", (json_int_t)bucket_ms, (json_int_t)since);
	json_t *rows = sb_store_query(s, sql, p, error);
	json_decref(p);
	g_free(sql);
	if (!rows)
		return NULL;
	json_t *buckets = json_array();
	double calls = 0, pos = 0, neu = 0, neg = 0, scored = 0, sum = 0;
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		double n = num(row, "scored"), avg = num(row, "avg_score");
		calls += num(row, "calls");
		pos += num(row, "positive");
		neu += num(row, "neutral");
		neg += num(row, "negative");
		scored += n;
		sum += avg * n;
		json_array_append_new(
		        buckets, json_pack("{sIsososososo}", "start",
		                           (json_int_t)num(row, "bucket") * (json_int_t)bucket_ms,
		                           "calls", rounded(num(row, "calls")), "positive",
		                           rounded(num(row, "positive")), "neutral",
		                           rounded(num(row, "neutral")), "negative",
		                           rounded(num(row, "negative")), "avg_score",
		                           avg_or_null(avg * n, n)));
	}
	json_decref(rows);
	return json_pack("{sssIsosososososo}", "bucket", bucket_ms == 3600000 ? "hour" : "day",
	                 "bucket_ms", (json_int_t)bucket_ms, "calls", rounded(calls), "positive",
	                 rounded(pos), "neutral", rounded(neu), "negative", rounded(neg),
	                 "avg_score", avg_or_null(sum, scored), "per_bucket", buckets);
}

json_t *sb_query_analytics(sb_store *s, int days, gint64 now_ms, char **error)
{
	gint64 since = now_ms - (gint64)days * 86400000;
	json_t *p = json_pack("[I]", (json_int_t)since);
	json_t *a = json_pack("{sisIsI}", "range_days", days, "from", (json_int_t)since, "to",
	                      (json_int_t)now_ms);
	bool ok = fetch_all(s, a, analytics_parts, G_N_ELEMENTS(analytics_parts), p, error);
	json_decref(p);
	json_t *lat = ok ? latency_percentiles(s, since, error) : NULL;
	json_t *sentiment = lat ? sentiment_over_time(s, days, since, error) : NULL;
	if (!sentiment) {
		json_decref(lat);
		json_decref(a);
		return NULL;
	}
	json_object_set_new(a, "sentiment", sentiment);
	/* Flatten the single-row results and make the numbers whole. */
	json_t *totals = json_array_get(json_object_get(a, "totals"), 0);
	json_t *t = json_pack("{sIsosososososo}", "calls", (json_int_t)num(totals, "calls"),
	                      "avg_duration_ms", rounded(num(totals, "avg_duration_ms")),
	                      "max_duration_ms", rounded(num(totals, "max_duration_ms")),
	                      "ai_handled", rounded(num(totals, "ai_handled")), "transferred",
	                      rounded(num(totals, "transferred")), "abandoned",
	                      rounded(num(totals, "abandoned")), "completed",
	                      rounded(num(totals, "completed")));
	json_object_set_new(a, "totals", t);
	json_t *turns = json_array_get(json_object_get(a, "turns"), 0);
	double nturns = num(turns, "turns");
	json_t *agent = json_pack("{sIsosososo}", "turns", (json_int_t)nturns, "fallbacks",
	                          rounded(num(turns, "fallbacks")), "interrupted",
	                          rounded(num(turns, "interrupted")), "fallback_rate",
	                          json_real(nturns > 0 ? num(turns, "fallbacks") / nturns : 0.0),
	                          "latency_ms", lat);
	json_object_del(a, "turns");
	json_object_set_new(a, "agent", agent);
	json_t *tr = json_array_get(json_object_get(a, "transfers"), 0);
	double total = num(tr, "total");
	json_object_set_new(a, "transfers",
	                    json_pack("{sIsososo}", "total", (json_int_t)total, "completed",
	                              rounded(num(tr, "completed")), "success_rate",
	                              json_real(total > 0 ? num(tr, "completed") / total : 0.0),
	                              "avg_duration_ms", rounded(num(tr, "avg_duration_ms"))));
	/* Days as dates; averages whole. */
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(a, "per_day"), i, row)
	{
		GDateTime *d = g_date_time_new_from_unix_utc(
		        json_integer_value(json_object_get(row, "day")) * 86400);
		char *text = g_date_time_format(d, "%Y-%m-%d");
		json_object_set_new(row, "date", json_string(text));
		g_free(text);
		g_date_time_unref(d);
		json_object_del(row, "day");
	}
	json_array_foreach(json_object_get(a, "by_interface"), i, row)
	        json_object_set_new(row, "avg_duration_ms", rounded(num(row, "avg_duration_ms")));
	json_array_foreach(json_object_get(a, "human_agents"), i, row)
	        json_object_set_new(row, "avg_handle_ms", rounded(num(row, "avg_handle_ms")));
	return a;
}

json_t *sb_query_transfers(sb_store *s, const char *agent_id, int limit, char **error)
{
	json_t *p = json_array();
	char *cols = columns_sql(sb_transfer_columns);
	GString *sql = g_string_new(NULL);
	g_string_printf(sql, "SELECT %s FROM transfers", cols);
	g_free(cols);
	if (agent_id) {
		g_string_append(sql, " WHERE from_agent = ? OR to_target = ?");
		json_array_append_new(p, json_string(agent_id));
		json_array_append_new(p, json_string(agent_id));
	}
	g_string_append(sql, " ORDER BY initiated DESC, transfer_id LIMIT ?");
	json_array_append_new(p, json_integer(limit));
	json_t *rows = sb_store_query(s, sql->str, p, error);
	g_string_free(sql, TRUE);
	json_decref(p);
	return rows ? json_pack("{so}", "transfers", rows) : NULL;
}

static void csv_cell(GString *out, json_t *v)
{
	if (!v || json_is_null(v))
		return;
	char *text;
	if (json_is_string(v))
		text = g_strdup(json_string_value(v));
	else if (json_is_integer(v))
		text = g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		text = g_strdup_printf("%.3f", json_real_value(v));
	else
		text = g_strdup(json_is_true(v) ? "1" : "0");
	bool formula = json_is_string(v) && strchr("=+-@\t\r", text[0]) && text[0];
	if (formula || strpbrk(text, ",\"\r\n")) {
		g_string_append_c(out, '"');
		if (formula)
			g_string_append_c(out, '\'');
		for (const char *c = text; *c; c++) {
			if (*c == '"')
				g_string_append_c(out, '"');
			g_string_append_c(out, *c);
		}
		g_string_append_c(out, '"');
	} else {
		g_string_append(out, text);
	}
	g_free(text);
}

char *sb_rows_csv(json_t *rows, const char *const *columns)
{
	GString *out = g_string_new(NULL);
	for (size_t c = 0; columns[c]; c++)
		g_string_append_printf(out, "%s%s", c ? "," : "", columns[c]);
	g_string_append(out, "\r\n");
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		for (size_t c = 0; columns[c]; c++) {
			if (c)
				g_string_append_c(out, ',');
			csv_cell(out, json_object_get(row, columns[c]));
		}
		g_string_append(out, "\r\n");
	}
	return g_string_free(out, FALSE);
}
