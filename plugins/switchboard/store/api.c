/* REST routes over the records, and the store module's lifecycle. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <debug.h>

#include "api/api.h"
#include "recording/recording.h"
#include "store/store_private.h"

static sb_store *store;
static char *unavailable; /* why the store is off, for 503 answers */
static const sb_settings *settings;

static const char *arg(const sb_rest_request *req, const char *name)
{
	return req->query ? g_hash_table_lookup(req->query, name) : NULL;
}

sb_store *sb_store_module_store(void)
{
	return store;
}

const char *sb_store_module_unavailable(void)
{
	return unavailable ? unavailable : "no store";
}

/* ---- LiveKit's SIP objects (store.h) on the module's store ---- */

bool sb_store_sip_objects_available(void)
{
	return store != NULL;
}

json_t *sb_store_sip_objects_load(char **error)
{
	if (!store) {
		*error = g_strdup_printf("the store is off: %s", sb_store_module_unavailable());
		return NULL;
	}
	return sb_sip_objects_load(store, error);
}

void sb_store_sip_object_save(const char *id, const char *kind, json_t *body, gint64 created_ms,
                              gint64 updated_ms)
{
	if (store)
		sb_sip_objects_save(store, id, kind, body, created_ms, updated_ms);
}

void sb_store_sip_object_delete(const char *id)
{
	if (store)
		sb_sip_objects_delete(store, id);
}

static int store_off(json_t **out)
{
	return sb_rest_error(out, 503, "store_unavailable", "Call records are off: %s",
	                     unavailable ? unavailable : "no store");
}

static int failed(json_t **out, char *error)
{
	JANUS_LOG(LOG_WARN, "[switchboard] store read failed: %s\n", error ? error : "?");
	int status =
	        sb_rest_error(out, 503, "store_unavailable",
	                      "The call records database did not answer: %s", error ? error : "?");
	g_free(error);
	return status;
}

/* A whole number in [min, max]; false when it is anything else. */
static bool parse_int(const char *s, long min, long max, long *out)
{
	if (!s || !*s || strlen(s) > 18)
		return false;
	char *end = NULL;
	long v = strtol(s, &end, 10);
	if (*end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* ms since the epoch, YYYY-MM-DD (UTC midnight) or ISO 8601 with a zone. */
static bool parse_time(const char *s, gint64 *ms)
{
	long v;
	if (parse_int(s, 1, G_MAXINT64 / 2 > G_MAXLONG ? G_MAXLONG : G_MAXLONG, &v)) {
		*ms = v;
		return true;
	}
	if (!s || strlen(s) > 40)
		return false;
	GTimeZone *utc = g_time_zone_new_utc();
	char *text = strlen(s) == 10 ? g_strdup_printf("%sT00:00:00Z", s) : g_strdup(s);
	GDateTime *d = g_date_time_new_from_iso8601(text, utc);
	g_free(text);
	g_time_zone_unref(utc);
	if (!d)
		return false;
	*ms = g_date_time_to_unix(d) * 1000 + g_date_time_get_microsecond(d) / 1000;
	g_date_time_unref(d);
	return true;
}

static bool word(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || !g_ascii_islower(s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!g_ascii_islower(*p) && *p != '_')
			return false;
	return true;
}

/* Free text: 1..max bytes of valid UTF-8 without control characters. */
static bool text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || !g_utf8_validate(s, (gssize)n, NULL))
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static const char *const outcomes[] = {"completed",  "transferred", "abandoned",
                                       "ai_handled", "failed",      NULL};
/* The analysis's (analysis/): its disposition and overall sentiment. */
static const char *const dispositions[] = {"resolved",  "transferred", "escalated", "unresolved",
                                           "abandoned", "failed",      NULL};
static const char *const sentiments[] = {"negative", "neutral", "positive", NULL};

/* The query argument name, if given, into *into: one of list, else 400
 * naming them. */
static int one_of(const sb_rest_request *req, const char *name, const char *const *list,
                  const char **into, json_t **out)
{
	const char *v = arg(req, name);
	if (!v)
		return 0;
	GString *words = g_string_new(NULL);
	for (size_t i = 0; list[i]; i++) {
		if (!strcmp(v, list[i])) {
			g_string_free(words, TRUE);
			*into = v;
			return 0;
		}
		g_string_append_printf(words, "%s%s", i ? ", " : "", list[i]);
	}
	int status = sb_rest_error(out, 400, "invalid_request", "%s must be one of: %s", name,
	                           words->str);
	g_string_free(words, TRUE);
	return status;
}

static int want_csv(const sb_rest_request *req, bool *csv, json_t **out)
{
	const char *format = arg(req, "format");
	*csv = false;
	if (!format || !strcmp(format, "json"))
		return 0;
	if (!strcmp(format, "csv")) {
		*csv = true;
		return 0;
	}
	return sb_rest_error(out, 400, "invalid_request", "format must be json or csv, not %s",
	                     "the value given");
}

/* A list read (taken): as JSON, or its rows under key as CSV. */
static int list_answer(json_t *r, const char *key, const char *const *columns, bool csv,
                       json_t **out, char **text, const char **tt)
{
	if (!csv) {
		*out = r;
		return 200;
	}
	*text = sb_rows_csv(json_object_get(r, key), columns);
	*tt = "text/csv; charset=utf-8";
	json_decref(r);
	return 200;
}

static int route_calls(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	sb_call_filter f = {.page = 1, .limit = 50};
	const char *v;
	long n;
	bool csv;
	int status;
	if ((status = want_csv(req, &csv, out)))
		return status;
	if ((v = arg(req, "interface")) && !word(v, 16))
		return sb_rest_error(out, 400, "invalid_request",
		                     "%s must be an interface name (web, phone, whatsapp …)",
		                     "interface");
	f.interface = v;
	if ((v = arg(req, "from")) && !parse_time(v, &f.from_ms))
		return sb_rest_error(
		        out, 400, "invalid_request",
		        "%s must be a date (YYYY-MM-DD), an ISO 8601 time or ms since the epoch",
		        "from");
	if ((v = arg(req, "to")) && !parse_time(v, &f.to_ms))
		return sb_rest_error(
		        out, 400, "invalid_request",
		        "%s must be a date (YYYY-MM-DD), an ISO 8601 time or ms since the epoch",
		        "to");
	if (f.from_ms && f.to_ms && f.from_ms >= f.to_ms)
		return sb_rest_error(out, 400, "invalid_request", "%s must be before to", "from");
	if ((status = one_of(req, "outcome", outcomes, &f.outcome, out)) ||
	    (status = one_of(req, "disposition", dispositions, &f.disposition, out)) ||
	    (status = one_of(req, "sentiment", sentiments, &f.sentiment, out)))
		return status;
	if ((v = arg(req, "agent")) && !text_ok(v, 128))
		return sb_rest_error(out, 400, "invalid_request",
		                     "%s must be 1-128 characters of text", "agent");
	f.agent = v;
	if ((v = arg(req, "q")) && !text_ok(v, 128))
		return sb_rest_error(out, 400, "invalid_request",
		                     "%s must be 1-128 characters of text", "q");
	f.search = v;
	if ((v = arg(req, "page"))) {
		if (!parse_int(v, 1, 1000000, &n))
			return sb_rest_error(out, 400, "invalid_request",
			                     "%s must be a whole number from 1", "page");
		f.page = (int)n;
	}
	if ((v = arg(req, "limit"))) {
		if (!parse_int(v, 1, G_MAXLONG, &n))
			return sb_rest_error(out, 400, "invalid_request",
			                     "%s must be a whole number from 1", "limit");
		/* Big pages are capped, not refused. */
		f.limit = (int)MIN(n, (long)(csv ? 10000 : SB_CALLS_LIMIT_MAX));
	}
	if (!store)
		return store_off(out);
	char *error = NULL;
	json_t *r = sb_query_calls(store, &f, &error);
	if (!r)
		return failed(out, error);
	return list_answer(r, "calls", sb_call_columns, csv, out, text, tt);
}

static bool id_ok(const char *id)
{
	return text_ok(id, 64);
}

/* A route about one call: 0 when its id may be one and the store is on,
 * else the status of the answer set in *out. */
static int call_route(const sb_rest_request *req, json_t **out)
{
	if (!id_ok(req->param))
		return sb_rest_error(out, 404, "not_found", "No such call");
	return store ? 0 : store_off(out);
}

static int route_call(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	(void)text, (void)tt;
	int status = call_route(req, out);
	if (status)
		return status;
	char *error = NULL;
	json_t *call = sb_query_call(store, req->param, &error);
	if (!call)
		return failed(out, error);
	if (json_is_null(call))
		return sb_rest_error(out, 404, "not_found", "No such call");
	*out = call;
	return 200;
}

/* GET /api/calls/{id}/recordings: the call's recording files. */
static int route_recordings(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	(void)text, (void)tt;
	int status = call_route(req, out);
	if (status)
		return status;
	char *error = NULL;
	bool known = false;
	if (!sb_query_call_exists(store, req->param, &known, &error))
		return failed(out, error);
	if (!known)
		return sb_rest_error(out, 404, "not_found", "No such call");
	json_t *rows = sb_query_recordings(store, req->param, &error);
	if (!rows)
		return failed(out, error);
	*out = json_pack("{sssO}", "call_id", req->param, "recordings", rows);
	json_decref(rows);
	return 200;
}

/* GET /api/calls/{id}/recording[?track=<participant id>]: the audio file
 * itself (the mix by default).  Only a path the store holds, inside the
 * recordings directory, is ever sent: the query names a participant id,
 * never a file. */
static int route_recording(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	if (!id_ok(req->param))
		return sb_rest_error(out, 404, "not_found", "No such call");
	const char *track = arg(req, "track");
	long pid = 0;
	if (track && !parse_int(track, 1, G_MAXLONG, &pid))
		return sb_rest_error(out, 404, "not_found",
		                     "No such track (track is a participant id)");
	if (!store)
		return store_off(out);
	char *error = NULL;
	json_t *rows = sb_query_recordings(store, req->param, &error);
	if (!rows)
		return failed(out, error);
	json_t *found = NULL, *row;
	size_t i;
	json_array_foreach(rows, i, row)
	{
		const char *kind = json_string_value(json_object_get(row, "kind"));
		json_t *p = json_object_get(row, "participant_id");
		bool match = track ? kind && !strcmp(kind, "track") && json_is_integer(p) &&
		                             json_integer_value(p) == pid
		                   : kind && !strcmp(kind, "mix");
		if (match) {
			found = row;
			break; /* newest first */
		}
	}
	const char *path = found ? json_string_value(json_object_get(found, "path")) : NULL;
	const char *format = found ? json_string_value(json_object_get(found, "format")) : NULL;
	if (!path || !sb_recorder_path_allowed(path)) {
		json_decref(rows);
		return sb_rest_error(out, 404, "not_found",
		                     track ? "This call has no such track"
		                           : "This call has no recording");
	}
	*text = g_strdup(path);
	*tt = format && !strcmp(format, "wav") ? "audio/wav" : "audio/ogg";
	json_decref(rows);
	return 200;
}

static int route_analytics(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	(void)text, (void)tt;
	const char *range = arg(req, "range");
	int days = 7;
	if (range) {
		if (!strcmp(range, "1d"))
			days = 1;
		else if (!strcmp(range, "7d"))
			days = 7;
		else if (!strcmp(range, "30d"))
			days = 30;
		else if (!strcmp(range, "90d"))
			days = 90;
		else
			return sb_rest_error(out, 400, "invalid_request",
			                     "%s must be 1d, 7d, 30d or 90d", "range");
	}
	if (!store)
		return store_off(out);
	char *error = NULL;
	json_t *a = sb_query_analytics(store, days, g_get_real_time() / 1000, &error);
	if (!a)
		return failed(out, error);
	json_object_set_new(a, "range", json_string(range ? range : "7d"));
	*out = a;
	return 200;
}

static int route_transfers(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	const char *agent = arg(req, "agent_id"), *v;
	long limit = 50;
	bool csv;
	int status;
	if ((status = want_csv(req, &csv, out)))
		return status;
	if (agent && !text_ok(agent, 128))
		return sb_rest_error(out, 400, "invalid_request",
		                     "%s must be 1-128 characters of text", "agent_id");
	if ((v = arg(req, "limit"))) {
		if (!parse_int(v, 1, G_MAXLONG, &limit))
			return sb_rest_error(out, 400, "invalid_request",
			                     "%s must be a whole number from 1", "limit");
		limit = MIN(limit, (long)SB_CALLS_LIMIT_MAX);
	}
	if (!store)
		return store_off(out);
	char *error = NULL;
	json_t *r = sb_query_transfers(store, agent, (int)limit, &error);
	if (!r)
		return failed(out, error);
	return list_answer(r, "transfers", sb_transfer_columns, csv, out, text, tt);
}

/* Any operation of the ops table, as the Admin API's message_plugin would
 * run it: REST key, plus the admin key when one is configured. */
static int route_admin(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	(void)text, (void)tt;
	if (settings && settings->admin_key) {
		const char *key = sb_rest_header(req, "X-Admin-Key");
		if (!key || !sb_auth_equal(key, settings->admin_key))
			return sb_rest_error(out, 403, "forbidden",
			                     "Admin routes need X-Admin-Key: <admin_key>");
	}
	if (!req->body || !json_is_string(json_object_get(req->body, "request")))
		return sb_rest_error(out, 400, "invalid_request",
		                     "Send {\"request\": \"<operation>\", …} (%s)",
		                     "see the ops table");
	json_t *answer = sb_ops_run_trusted(json_deep_copy(req->body));
	if (sb_rest_header(req, SB_OP_ANSWER_HEADER)) { /* another node's Admin API asks */
		*out = answer;
		return 200;
	}
	return sb_rest_op_answer(answer, 200, out);
}

static const sb_rest_route routes[] = {
        {"GET", "/api/calls", route_calls, 0, NULL},
        {"GET", "/api/calls/{}", route_call, 0, NULL},
        {"GET", "/api/calls/{}/recording", route_recording, SB_REST_FILE, NULL},
        {"GET", "/api/calls/{}/recordings", route_recordings, 0, NULL},
        {"GET", "/api/analytics", route_analytics, 0, NULL},
        {"GET", "/api/transfers/history", route_transfers, 0, NULL},
        {"POST", "/api/admin", route_admin, SB_REST_BODY_ROOM, NULL},
};

/* [store] store: "sqlite" (path = …, default under the state directory)
 * or a PostgreSQL URI. */
static char *store_spec(json_t *section)
{
	const char *kind = sb_section_string(section, "store", "sqlite");
	if (strcmp(kind, "sqlite") != 0)
		return g_strdup(kind);
	const char *path = sb_section_string(section, "path", NULL);
	if (path && *path)
		return g_strdup(path);
	return sb_state_path("switchboard.db");
}

static json_t *store_stats(void)
{
	if (!store)
		return json_pack("{sbss}", "on", 0, "why", unavailable ? unavailable : "off");
	sb_store_stats st;
	sb_store_get_stats(store, &st);
	return json_pack("{sbsbsIsIsIsI}", "on", 1, "connected", st.connected, "queued",
	                 (json_int_t)st.queued, "written", (json_int_t)st.written, "failed",
	                 (json_int_t)st.failed, "dropped", (json_int_t)st.dropped);
}

bool sb_store_module_start(const sb_settings *s)
{
	settings = s;
	sb_ops_register_stats("store", store_stats);
	/* Nothing when the store is off. */
	sb_metrics_register("store", sb_records_metrics);
	sb_rest_register(routes, G_N_ELEMENTS(routes));
	json_t *section = sb_settings_section(s, "store");
	if (sb_section_bool(section, "enabled", true) == false) {
		unavailable = g_strdup("disabled in the configuration ([store] enabled = false)");
		return true;
	}
	char *spec = store_spec(section);
	unsigned queue_max = (unsigned)sb_section_int(section, "queue_max", 10000, 10, 1000000);
	char *error = NULL;
	store = sb_store_open(spec, queue_max, &error);
	if (!store) {
		JANUS_LOG(LOG_ERR, "[switchboard] call records are OFF: %s\n", error ? error : "?");
		unavailable = error;
		g_free(spec);
		return false;
	}
	/* A call's node: the cluster's name for this node, so that a live
	 * node can close the calls of a lost one (cluster/), else the host. */
	char host[256] = "";
	const char *node_id =
	        sb_section_string(sb_settings_section(s, "cluster"), "node_id", NULL);
	if (node_id && *node_id)
		g_strlcpy(host, node_id, sizeof(host));
	else
		gethostname(host, sizeof(host) - 1);
	sb_records_start(store, host);
	/* A URI may carry a password: log the backend only. */
	JANUS_LOG(LOG_INFO, "[switchboard] call records: %s%s%s\n", sb_store_backend_name(store),
	          strcmp(sb_store_backend_name(store), "sqlite") ? "" : " ",
	          strcmp(sb_store_backend_name(store), "sqlite") ? "" : spec);
	g_free(spec);
	return true;
}

void sb_store_module_stop(void) {}

void sb_store_module_finish(void)
{
	/* The rooms are gone and their room_closed records queued. */
	sb_records_stop();
	sb_store_close(store, 5000);
	store = NULL;
	g_clear_pointer(&unavailable, g_free);
}
