/* The store against SQLite always, and against a real PostgreSQL server
 * when SB_TEST_PG_CONNINFO is set (tests/integration/store-postgres.test.mjs
 * starts one and runs this binary with it): migrations, the records made
 * from bus events, the read queries and analytics, bound parameters
 * against injection, the bounded queue while the database is away. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "core/core.h"
#include "store/store_private.h"

/* Janus's logger, which the store logs through: tests/unit/janus_log_stub.c. */

typedef struct fixture {
	char *spec;
	char *dir;
	sb_store *store;
} fixture;

static const char *pg_conninfo(void)
{
	return g_getenv("SB_TEST_PG_CONNINFO");
}

static void drop_all(sb_store *s)
{
	static const char *tables[] = {"calls",       "participants",  "transcript_segments",
	                               "agent_turns", "transfers",     "whatsapp_messages",
	                               "recordings",  "sip_objects",   "schema_version"};
	for (size_t i = 0; i < G_N_ELEMENTS(tables); i++) {
		char *sql = g_strdup_printf("DROP TABLE IF EXISTS %s", tables[i]);
		char *error = NULL;
		json_decref(sb_store_query(s, sql, NULL, &error));
		g_free(error);
		g_free(sql);
	}
}

static void setup(fixture *f, gconstpointer data)
{
	bool pg = GPOINTER_TO_INT(data);
	char *error = NULL;
	if (pg) {
		f->spec = g_strdup(pg_conninfo());
		/* A clean database: drop what an earlier case left. */
		sb_store *s = sb_store_open(f->spec, 100, &error);
		g_assert_nonnull(s);
		sb_store_flush(s, 5000);
		drop_all(s);
		sb_store_close(s, 1000);
	} else {
		f->dir = g_dir_make_tmp("sb-store-XXXXXX", NULL);
		f->spec = g_build_filename(f->dir, "state", "calls.db", NULL);
	}
	f->store = sb_store_open(f->spec, 1000, &error);
	g_assert_null(error);
	g_assert_nonnull(f->store);
}

static void teardown(fixture *f, gconstpointer data)
{
	(void)data;
	sb_store_close(f->store, 2000);
	if (f->dir) {
		char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
		g_assert_cmpint(system(cmd), ==, 0);
		g_free(cmd);
	}
	g_free(f->dir);
	g_free(f->spec);
}

static json_t *q(fixture *f, const char *sql, json_t *params)
{
	char *error = NULL;
	json_t *rows = sb_store_query(f->store, sql, params, &error);
	if (!rows)
		g_error("query failed: %s (%s)", error, sql);
	json_decref(params);
	return rows;
}

static json_int_t count(fixture *f, const char *table)
{
	char *sql = g_strdup_printf("SELECT COUNT(*) AS n FROM %s", table);
	json_t *rows = q(f, sql, NULL);
	g_free(sql);
	json_int_t n = json_integer_value(json_object_get(json_array_get(rows, 0), "n"));
	json_decref(rows);
	return n;
}

static void test_migrations(fixture *f, gconstpointer data)
{
	(void)data;
	g_assert_true(sb_store_flush(f->store, 5000));
	json_t *rows = q(f, "SELECT MAX(version) AS v FROM schema_version", NULL);
	g_assert_cmpint(json_integer_value(json_object_get(json_array_get(rows, 0), "v")), ==,
	                sb_store_schema_version());
	json_decref(rows);
	/* Opening again applies nothing twice. */
	char *error = NULL;
	sb_store *again = sb_store_open(f->spec, 10, &error);
	g_assert_nonnull(again);
	sb_store_write(again, "INSERT INTO calls (id, room, started) VALUES (?, ?, ?)",
	               json_pack("[ssi]", "x", "r", 1));
	g_assert_true(sb_store_flush(again, 5000));
	sb_store_close(again, 1000);
	/* One row per migration, each applied once. */
	g_assert_cmpint(count(f, "schema_version"), ==, sb_store_schema_version());
	g_assert_cmpint(count(f, "calls"), ==, 1);
}

static void publish(const char *type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *data = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	g_assert_nonnull(data);
	sb_events_publish(type, data);
}

/* One call: a web caller, the AI agent, a human agent, a transfer. */
static void make_call(const char *room, const char *caller, bool transfer)
{
	publish("room_created", "{ss}", "room", room);
	publish("participant_joined", "{sss{sIssssssss}ss}", "room", room, "participant", "id",
	        (json_int_t)11, "display", caller, "kind", "web", "role", "caller", "identity",
	        caller, "interface", "web");
	publish("participant_joined", "{sss{sIssssss}ss}", "room", room, "participant", "id",
	        (json_int_t)12, "display", "AI Agent", "kind", "agent", "role", "agent",
	        "interface", "agent");
	publish("transcript", "{sssssIsssb}", "room", room, "speaker", caller, "speaker_id",
	        (json_int_t)11, "text", "partial words", "final", 0);
	publish("transcript", "{sssssIsssb}", "room", room, "speaker", caller, "speaker_id",
	        (json_int_t)11, "text", "I need help with my order", "final", 1);
	publish("agent_turn", "{sssisssssssbsbssss}", "room", room, "latency_ms", 420, "stt",
	        "pocketsphinx", "llm", "local", "tts", "espeak-ng", "fallback", 0, "interrupted", 0,
	        "user_text", "I need help with my order", "agent_text", "Sure.");
	publish("transcript", "{sssssIsssb}", "room", room, "speaker", "AI Agent", "speaker_id",
	        (json_int_t)12, "text", "Sure.", "final", 1);
	if (transfer) {
		char *tid = g_strdup_printf("tr-%s", room);
		publish("participant_joined", "{sss{sIssssssss}ss}", "room", room, "participant",
		        "id", (json_int_t)13, "display", "Alice", "kind", "web", "role", "agent",
		        "identity", "alice", "interface", "web");
		publish("transfer_initiated", "{sssssss{ss}ssss}", "transfer_id", tid, "room", room,
		        "from", "alice", "to", "agentId", "bob", "target_kind", "agent", "reason",
		        "billing");
		publish("transfer_completed", "{ssssss}", "transfer_id", tid, "room", room,
		        "summary", "Caller needs help with an order.");
		g_free(tid);
	}
	publish("participant_left", "{sss{sIssss}ssss}", "room", room, "participant", "id",
	        (json_int_t)11, "kind", "web", "role", "caller", "interface", "web", "reason",
	        "leaving");
	publish("room_closed", "{ss}", "room", room);
}

static void test_records(fixture *f, gconstpointer data)
{
	(void)data;
	sb_records_start(f->store, "test-node");
	make_call("room-a", "carol", false);
	make_call("room-b", "dave", true);
	/* A room still open when the plugin stops is closed by stop. */
	publish("room_created", "{ss}", "room", "room-c");
	/* Its context comes before its caller (a SIP INVITE's headers), and
	 * more once the call is on (a pre-call tool's answer). */
	publish("call_variables", "{ss s{ss}}", "room", "room-c", "variables", "x_id", "7");
	publish("participant_joined", "{sss{sIssssss}ss}", "room", "room-c", "participant", "id",
	        (json_int_t)21, "display", "eve", "kind", "rtp", "role", "caller", "interface",
	        "rtp");
	publish("call_variables", "{ss s{ssss}}", "room", "room-c", "variables", "x_id", "7",
	        "crm_name", "Eve");
	publish("whatsapp_message", "{sssssssssssssi}", "conversation", "whatsapp:+15550001",
	        "from", "whatsapp:+15550001", "to", "whatsapp:+15550002", "body", "hello there",
	        "direction", "inbound", "message_sid", "SM1", "media_count", 0);
	sb_records_stop();
	g_assert_true(sb_store_flush(f->store, 10000));
	sb_store_stats st;
	sb_store_get_stats(f->store, &st);
	g_assert_cmpuint(st.failed, ==, 0);
	g_assert_cmpuint(st.dropped, ==, 0);

	char *error = NULL;
	sb_call_filter all = {.page = 1, .limit = 50};
	json_t *list = sb_query_calls(f->store, &all, &error);
	g_assert_nonnull(list);
	g_assert_cmpint(json_integer_value(json_object_get(list, "total")), ==, 4);
	json_t *calls = json_object_get(list, "calls");
	const char *a_id = NULL, *b_id = NULL, *c_id = NULL;
	size_t i;
	json_t *c;
	json_array_foreach(calls, i, c)
	{
		const char *room = json_string_value(json_object_get(c, "room"));
		const char *outcome = json_string_value(json_object_get(c, "outcome"));
		g_assert_nonnull(json_object_get(c, "ended"));
		if (!strcmp(room, "room-a")) {
			a_id = json_string_value(json_object_get(c, "id"));
			g_assert_cmpstr(outcome, ==, "ai_handled");
			g_assert_cmpstr(json_string_value(json_object_get(c, "interface")), ==,
			                "web");
		} else if (!strcmp(room, "room-b")) {
			b_id = json_string_value(json_object_get(c, "id"));
			g_assert_cmpstr(outcome, ==, "transferred");
		} else if (!strcmp(room, "room-c")) {
			c_id = json_string_value(json_object_get(c, "id"));
			g_assert_cmpstr(outcome, ==, "abandoned");
			g_assert_cmpstr(json_string_value(json_object_get(c, "interface")), ==,
			                "rtp");
		} else {
			g_assert_cmpstr(json_string_value(json_object_get(c, "interface")), ==,
			                "whatsapp");
		}
	}
	g_assert_nonnull(a_id);
	g_assert_nonnull(b_id);

	/* One call's record has its context; a call without one an empty one. */
	g_assert_nonnull(c_id);
	json_t *with_context = sb_query_call(f->store, c_id, &error);
	json_t *variables = json_object_get(with_context, "variables");
	g_assert_cmpuint(json_object_size(variables), ==, 2);
	g_assert_cmpstr(json_string_value(json_object_get(variables, "crm_name")), ==, "Eve");
	json_array_foreach(calls, i, c) g_assert_null(json_object_get(c, "variables")); /* lists */
	json_decref(with_context);
	json_t *call = sb_query_call(f->store, a_id, &error);
	g_assert_true(json_is_object(call));
	g_assert_cmpuint(json_object_size(json_object_get(call, "variables")), ==, 0);
	g_assert_cmpuint(json_array_size(json_object_get(call, "participants")), ==, 2);
	json_t *tr = json_object_get(call, "transcript");
	g_assert_cmpuint(json_array_size(tr), ==, 2); /* the partial is not kept */
	g_assert_cmpstr(json_string_value(json_object_get(json_array_get(tr, 0), "text")), ==,
	                "I need help with my order");
	json_t *turn = json_array_get(json_object_get(call, "agent_turns"), 0);
	g_assert_cmpint(json_integer_value(json_object_get(turn, "latency_ms")), ==, 420);
	g_assert_cmpstr(json_string_value(json_object_get(turn, "llm")), ==, "local");
	json_decref(call);

	call = sb_query_call(f->store, b_id, &error);
	json_t *transfer = json_array_get(json_object_get(call, "transfers"), 0);
	g_assert_cmpstr(json_string_value(json_object_get(transfer, "state")), ==, "completed");
	g_assert_cmpstr(json_string_value(json_object_get(transfer, "to_target")), ==, "bob");
	g_assert_cmpstr(json_string_value(json_object_get(transfer, "summary")), ==,
	                "Caller needs help with an order.");
	json_decref(call);
	g_assert_true(json_is_null(sb_query_call(f->store, "no-such-call", &error)));

	/* Filters. */
	sb_call_filter by_outcome = {.outcome = "transferred", .page = 1, .limit = 50};
	json_t *r = sb_query_calls(f->store, &by_outcome, &error);
	g_assert_cmpint(json_integer_value(json_object_get(r, "total")), ==, 1);
	json_decref(r);
	sb_call_filter by_agent = {.agent = "alice", .page = 1, .limit = 50};
	r = sb_query_calls(f->store, &by_agent, &error);
	g_assert_cmpint(json_integer_value(json_object_get(r, "total")), ==, 1);
	json_decref(r);
	sb_call_filter by_iface = {.interface = "web", .page = 1, .limit = 1};
	r = sb_query_calls(f->store, &by_iface, &error);
	g_assert_cmpint(json_integer_value(json_object_get(r, "total")), ==, 2);
	g_assert_cmpuint(json_array_size(json_object_get(r, "calls")), ==, 1); /* paged */
	json_decref(r);
	sb_call_filter future = {
	        .from_ms = g_get_real_time() / 1000 + 3600000, .page = 1, .limit = 5};
	r = sb_query_calls(f->store, &future, &error);
	g_assert_cmpint(json_integer_value(json_object_get(r, "total")), ==, 0);
	json_decref(r);
	sb_call_filter search = {.search = "room-", .page = 1, .limit = 50};
	r = sb_query_calls(f->store, &search, &error);
	g_assert_cmpint(json_integer_value(json_object_get(r, "total")), ==, 3);
	json_decref(r);

	/* Analytics match the calls made. */
	json_t *an = sb_query_analytics(f->store, 7, g_get_real_time() / 1000 + 1000, &error);
	g_assert_nonnull(an);
	json_t *totals = json_object_get(an, "totals");
	g_assert_cmpint(json_integer_value(json_object_get(totals, "calls")), ==, 4);
	g_assert_cmpint(json_integer_value(json_object_get(totals, "transferred")), ==, 1);
	g_assert_cmpint(json_integer_value(json_object_get(totals, "ai_handled")), >=, 1);
	json_t *agent = json_object_get(an, "agent");
	g_assert_cmpint(json_integer_value(json_object_get(agent, "turns")), ==, 2);
	g_assert_cmpint(
	        json_integer_value(json_object_get(json_object_get(agent, "latency_ms"), "p50")),
	        ==, 420);
	json_t *trs = json_object_get(an, "transfers");
	g_assert_cmpint(json_integer_value(json_object_get(trs, "total")), ==, 1);
	g_assert_cmpfloat(json_real_value(json_object_get(trs, "success_rate")), ==, 1.0);
	g_assert_cmpuint(json_array_size(json_object_get(an, "per_day")), >=, 1);
	g_assert_cmpuint(json_array_size(json_object_get(an, "human_agents")), ==, 1);
	json_decref(an);

	json_t *th = sb_query_transfers(f->store, "alice", 10, &error);
	g_assert_cmpuint(json_array_size(json_object_get(th, "transfers")), ==, 1);
	json_decref(th);
	th = sb_query_transfers(f->store, "nobody", 10, &error);
	g_assert_cmpuint(json_array_size(json_object_get(th, "transfers")), ==, 0);
	json_decref(th);
	json_decref(list);
	g_assert_cmpint(count(f, "whatsapp_messages"), ==, 1);
}

/* Every value is a bound parameter: text that would change the statement
 * if pasted into it finds nothing and changes nothing. */
static void test_injection(fixture *f, gconstpointer data)
{
	(void)data;
	sb_records_start(f->store, "n");
	make_call("room-x", "x", false);
	sb_records_stop();
	g_assert_true(sb_store_flush(f->store, 10000));
	static const char *attacks[] = {
	        "' OR 1=1 --", "x'; DROP TABLE calls; --", "\" OR \"\"=\"", "%", "_", "\\",
	        "room-x' --"};
	char *error = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(attacks); i++) {
		sb_call_filter fs[] = {{.interface = attacks[i], .page = 1, .limit = 10},
		                       {.agent = attacks[i], .page = 1, .limit = 10},
		                       {.outcome = attacks[i], .page = 1, .limit = 10},
		                       {.search = attacks[i], .page = 1, .limit = 10}};
		for (size_t j = 0; j < G_N_ELEMENTS(fs); j++) {
			json_t *r = sb_query_calls(f->store, &fs[j], &error);
			g_assert_nonnull(r);
			g_assert_cmpint(json_integer_value(json_object_get(r, "total")), ==, 0);
			json_decref(r);
		}
		g_assert_true(json_is_null(sb_query_call(f->store, attacks[i], &error)));
		json_t *th = sb_query_transfers(f->store, attacks[i], 10, &error);
		g_assert_cmpuint(json_array_size(json_object_get(th, "transfers")), ==, 0);
		json_decref(th);
	}
	g_assert_cmpint(count(f, "calls"), ==, 1);
	/* A hostile display name is stored as it is. */
	sb_store_write(f->store, "INSERT INTO calls (id, room, started) VALUES (?, ?, ?)",
	               json_pack("[ssi]", "evil", "'); DELETE FROM calls; --", 5));
	g_assert_true(sb_store_flush(f->store, 5000));
	g_assert_cmpint(count(f, "calls"), ==, 2);
}

/* The database away: writes wait in a bounded queue, the rest is counted
 * as dropped, and nothing blocks. */
/* LiveKit's SIP trunks and rules: saved (then replaced: one row), loaded
 * in creation order with their JSON, deleted — the upsert in both SQLs. */
static void test_sip_objects(fixture *f, gconstpointer data)
{
	(void)data;
	json_t *trunk = json_pack("{s[s]s{ss}}", "numbers", "+15550001111", "headers", "X-A", "b");
	sb_sip_objects_save(f->store, "ST_a", "inbound", trunk, 1000, 1000);
	sb_sip_objects_save(f->store, "SDR_b", "rule", trunk, 2000, 2000);
	json_object_set_new(trunk, "name", json_string("it's renamed"));
	sb_sip_objects_save(f->store, "ST_a", "inbound", trunk, 1000, 3000);
	g_assert_true(sb_store_flush(f->store, 5000));
	char *error = NULL;
	json_t *rows = sb_sip_objects_load(f->store, &error);
	g_assert_null(error);
	g_assert_nonnull(rows);
	g_assert_cmpuint(json_array_size(rows), ==, 2);
	json_t *first = json_array_get(rows, 0);
	g_assert_cmpstr(json_string_value(json_object_get(first, "id")), ==, "ST_a");
	g_assert_cmpstr(json_string_value(json_object_get(first, "kind")), ==, "inbound");
	g_assert_true(json_equal(json_object_get(first, "body"), trunk));
	g_assert_cmpint(json_integer_value(json_object_get(first, "updated")), ==, 3000);
	g_assert_cmpstr(json_string_value(json_object_get(json_array_get(rows, 1), "id")), ==,
	                "SDR_b");
	json_decref(rows);
	sb_sip_objects_delete(f->store, "ST_a");
	g_assert_true(sb_store_flush(f->store, 5000));
	rows = sb_sip_objects_load(f->store, &error);
	g_assert_cmpuint(json_array_size(rows), ==, 1);
	json_decref(rows);
	json_decref(trunk);
}

static void test_queue_bounded(void)
{
	char *error = NULL;
	sb_store *s = sb_store_open("postgresql://127.0.0.1:1/none?connect_timeout=1", 5, &error);
	g_assert_nonnull(s); /* PostgreSQL may be down at start */
	gint64 t0 = g_get_monotonic_time();
	for (int i = 0; i < 12; i++)
		sb_store_write(s, "INSERT INTO calls (id, room, started) VALUES (?, ?, ?)",
		               json_pack("[ssi]", "a", "b", i));
	g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC); /* never waits */
	sb_store_stats st;
	sb_store_get_stats(s, &st);
	g_assert_cmpuint(st.queued, ==, 5);
	g_assert_cmpuint(st.dropped, ==, 7);
	g_assert_false(st.connected);
	g_assert_false(sb_store_flush(s, 300));
	sb_store_close(s, 100);
}

static void test_unwritable(void)
{
	char *error = NULL;
	sb_store *s = sb_store_open("/proc/sb-no-such/dir/calls.db", 10, &error);
	g_assert_null(s);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error, "not writable"));
	g_free(error);
}

static void test_csv(void)
{
	json_t *rows = json_pack("[{sssisn}{sssisn}]", "id", "a,b", "started", 1, "outcome", "id",
	                         "=HYPERLINK(\"x\")", "started", 2, "outcome");
	static const char *const cols[] = {"id", "started", "outcome", NULL};
	char *csv = sb_rows_csv(rows, cols);
	g_assert_cmpstr(csv, ==,
	                "id,started,outcome\r\n\"a,b\",1,\r\n\"'=HYPERLINK(\"\"x\"\")\",2,\r\n");
	g_free(csv);
	json_decref(rows);
}

/* Recording files from the recorder's events: a row per file (the mix and
 * each track) in the room's call, sizes filled in when they stop; a
 * recording started before anybody joined opens the call they join. */
static void test_recordings(fixture *f, gconstpointer data)
{
	(void)data;
	sb_records_start(f->store, "test-node");
	publish("room_created", "{ss}", "room", "rec-room");
	publish("recording_started", "{sssssssssssssI}", "room", "rec-room", "id", "rec-1",
	        "recording", "rec-1", "kind", "mix", "format", "ogg", "path", "/r/rec-1.ogg",
	        "started", (json_int_t)1);
	publish("participant_joined", "{sss{sIssssss}ss}", "room", "rec-room", "participant", "id",
	        (json_int_t)31, "display", "fay", "kind", "rtp", "role", "caller", "interface",
	        "rtp");
	publish("recording_started", "{sssssssssssssIsI}", "room", "rec-room", "id", "rec-2",
	        "recording", "rec-1", "kind", "track", "format", "ogg", "path", "/r/rec-1-p31.ogg",
	        "started", (json_int_t)2, "participant_id", (json_int_t)31);
	publish("recording_stopped", "{sssssssIsfss}", "room", "rec-room", "id", "rec-2", "kind",
	        "track", "bytes", (json_int_t)1234, "seconds", 1.5, "reason", "stopped");
	publish("recording_stopped", "{sssssssIsfss}", "room", "rec-room", "id", "rec-1", "kind",
	        "mix", "bytes", (json_int_t)5678, "seconds", 2.0, "reason", "stopped");
	/* Incomplete events change nothing. */
	publish("recording_started", "{ssss}", "room", "rec-room", "id", "rec-3");
	publish("room_closed", "{ss}", "room", "rec-room");
	sb_records_stop();
	g_assert_true(sb_store_flush(f->store, 10000));
	sb_store_stats st;
	sb_store_get_stats(f->store, &st);
	g_assert_cmpuint(st.failed, ==, 0);

	char *error = NULL;
	json_t *p = json_pack("[s]", "rec-room");
	json_t *calls = sb_store_query(f->store, "SELECT id FROM calls WHERE room = ?", p, &error);
	json_decref(p);
	g_assert_null(error);
	g_assert_cmpuint(json_array_size(calls), ==, 1);
	const char *call_id = json_string_value(json_object_get(json_array_get(calls, 0), "id"));
	json_t *rows = sb_query_recordings(f->store, call_id, &error);
	g_assert_null(error);
	g_assert_cmpuint(json_array_size(rows), ==, 2);
	json_t *mix = json_array_get(rows, 0), *track = json_array_get(rows, 1);
	g_assert_cmpstr(json_string_value(json_object_get(mix, "kind")), ==, "mix");
	g_assert_cmpstr(json_string_value(json_object_get(mix, "path")), ==, "/r/rec-1.ogg");
	g_assert_cmpint(json_integer_value(json_object_get(mix, "bytes")), ==, 5678);
	g_assert_true(json_is_null(json_object_get(mix, "participant_id")));
	g_assert_true(json_is_integer(json_object_get(mix, "ended")));
	g_assert_cmpstr(json_string_value(json_object_get(track, "kind")), ==, "track");
	g_assert_cmpint(json_integer_value(json_object_get(track, "participant_id")), ==, 31);
	g_assert_cmpint(json_integer_value(json_object_get(track, "bytes")), ==, 1234);
	json_decref(rows);
	json_decref(calls);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	sb_events_init(NULL, NULL);
	const struct {
		const char *name;
		void (*fn)(fixture *, gconstpointer);
	} cases[] = {{"migrations", test_migrations},
	             {"records", test_records},
	             {"recordings", test_recordings},
	             {"injection", test_injection},
	             {"sip-objects", test_sip_objects}};
	for (int pg = 0; pg <= (pg_conninfo() ? 1 : 0); pg++) {
		for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
			char *path = g_strdup_printf("/store/%s/%s", pg ? "postgresql" : "sqlite",
			                             cases[i].name);
			g_test_add(path, fixture, GINT_TO_POINTER(pg), setup, cases[i].fn,
			           teardown);
			g_free(path);
		}
	}
	g_test_add_func("/store/queue-bounded", test_queue_bounded);
	g_test_add_func("/store/unwritable-path", test_unwritable);
	g_test_add_func("/store/csv", test_csv);
	return g_test_run();
}
