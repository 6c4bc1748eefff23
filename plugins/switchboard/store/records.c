/* Call records from bus events: calls, participants, transcripts, agent
 * turns, transfers, recordings and WhatsApp messages, written through the
 * store's queue so a listener never waits on the database
 * (store_private.h, section records). */
#include "store/store_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

typedef struct call_state {
	char *id;
	char *room;
	gint64 started;
	bool has_interface, answered, ai, human_agent, transferred, failed;
	char *interface;
	int parties;              /* participants that joined, the AI agent included */
	int present;              /* participants in the room now */
	GHashTable *participants; /* participant id (string) -> participant row id */
} call_state;

static GMutex mutex;
static sb_store *store;
static char *node;
static unsigned subscription;
static GHashTable *calls; /* room -> call_state */
/* The context of a room's call that has not opened yet (a SIP INVITE's
 * headers come before its caller joins): room -> json_t*, taken when the
 * call opens, dropped when the room closes. */
static GHashTable *pending_variables;
/* room -> id of its last ended call: the agent's last words may come just
 * after the caller left. */
static GHashTable *recent;
/* Orders transcript lines of the same millisecond (wall clock in µs at
 * start, so a restarted node keeps counting up). */
static gint64 segment_seq;

/* Metrics: calls ended since start, by interface and outcome; turn
 * latency histogram. */
static GHashTable *ended_counts; /* "interface\noutcome" -> count */
static const int latency_bounds[] = {250, 500, 800, 1000, 1500, 2000, 3000, 5000};
static guint64 latency_buckets[G_N_ELEMENTS(latency_bounds) + 1];
static guint64 latency_count, latency_sum, turn_fallbacks, turn_interruptions;

static void call_free(call_state *c)
{
	g_free(c->id);
	g_free(c->room);
	g_free(c->interface);
	g_hash_table_destroy(c->participants);
	g_free(c);
}

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A value as text: strings as they are, objects as the id they carry
 * (agentId, number, uri) or as JSON. */
static json_t *text_of(json_t *v)
{
	if (!v || json_is_null(v))
		return json_null();
	if (json_is_string(v))
		return json_incref(v);
	static const char *keys[] = {"agentId", "agent_id", "identity", "number", "uri", "id"};
	for (size_t i = 0; json_is_object(v) && i < G_N_ELEMENTS(keys); i++) {
		json_t *k = json_object_get(v, keys[i]);
		if (json_is_string(k))
			return json_incref(k);
	}
	char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *s = json_string(dump ? dump : "");
	free(dump);
	return s;
}

static json_t *opt_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* One moment of an agent turn's "stages" (ms after the end of speech), or
 * null.  Borrowed. */
static json_t *stage_ms(json_t *stages, const char *key)
{
	json_t *v = json_object_get(stages, key);
	return json_is_integer(v) ? v : json_null();
}

/* A transfer's summary as stored: the object (with its "provider") as
 * JSON text, a string as it is. */
static json_t *summary_of(json_t *ev)
{
	json_t *v = json_object_get(ev, "summary");
	if (json_is_string(v))
		return json_incref(v);
	char *text = json_is_object(v) ? json_dumps(v, JSON_COMPACT) : NULL;
	json_t *r = opt_string(text);
	free(text);
	return r;
}

static void write_variables(call_state *c, json_t *variables)
{
	char *text = json_dumps(variables, JSON_COMPACT);
	sb_store_write(store, "UPDATE calls SET variables = ? WHERE id = ?",
	               json_pack("[ss]", text, c->id));
	free(text);
}

static call_state *open_call(const char *room, gint64 ts)
{
	call_state *c = g_hash_table_lookup(calls, room);
	if (c)
		return c;
	c = g_new0(call_state, 1);
	c->id = g_uuid_string_random();
	c->room = g_strdup(room);
	c->started = ts;
	c->participants = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(calls, c->room, c);
	sb_store_write(store,
	               "INSERT INTO calls (id, room, started, node) VALUES (?, ?, ?, ?) "
	               "ON CONFLICT (id) DO NOTHING",
	               json_pack("[ssIs]", c->id, room, (json_int_t)ts, node));
	json_t *variables = g_hash_table_lookup(pending_variables, room);
	if (variables) {
		write_variables(c, variables);
		g_hash_table_remove(pending_variables, room);
	}
	return c;
}

/* call_variables: the room's whole context, kept with its call. */
static void call_variables(json_t *ev)
{
	const char *room = str(ev, "room");
	json_t *variables = json_object_get(ev, "variables");
	if (!room || !json_is_object(variables))
		return;
	call_state *c = g_hash_table_lookup(calls, room);
	if (c)
		write_variables(c, variables);
	else
		g_hash_table_replace(pending_variables, g_strdup(room), json_incref(variables));
}

static const char *outcome_of(call_state *c)
{
	if (c->transferred)
		return "transferred";
	if (c->failed)
		return "failed";
	if (c->ai && !c->human_agent)
		return "ai_handled";
	if (c->answered)
		return "completed";
	return "abandoned";
}

static void close_call(call_state *c, gint64 ts)
{
	const char *outcome = outcome_of(c);
	sb_store_write(store,
	               "UPDATE calls SET ended = ?, duration_ms = ?, outcome = ?, ai_handled = ?, "
	               "interface = COALESCE(interface, ?) WHERE id = ?",
	               json_pack("[IIsbss]", (json_int_t)ts, (json_int_t)(ts - c->started), outcome,
	                         c->ai, c->interface ? c->interface : "web", c->id));
	/* Whoever was still there left when the room closed. */
	sb_store_write(store,
	               "UPDATE participants SET left_at = ? WHERE call_id = ? AND left_at IS NULL",
	               json_pack("[Is]", (json_int_t)ts, c->id));
	char *key = g_strdup_printf("%s\n%s", c->interface ? c->interface : "web", outcome);
	gpointer n = g_hash_table_lookup(ended_counts, key);
	g_hash_table_replace(ended_counts, key, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(n) + 1));
	g_hash_table_replace(recent, g_strdup(c->room), g_strdup(c->id));
	g_hash_table_remove(calls, c->room);
}

static const char *info_string(json_t *info, const char *a, const char *b)
{
	const char *v = str(info, a);
	return v ? v : str(info, b);
}

static void participant_joined(json_t *ev, gint64 ts)
{
	const char *room = str(ev, "room");
	json_t *p = json_object_get(ev, "participant");
	if (!room || !json_is_object(p))
		return;
	call_state *c = open_call(room, ts);
	const char *kind = str(p, "kind"), *role = str(p, "role");
	const char *iface = str(ev, "interface");
	bool ai = kind && !strcmp(kind, "agent");
	json_t *info = json_object_get(p, "info");
	char *info_text = json_is_object(info) ? json_dumps(info, JSON_COMPACT) : NULL;
	char *row = g_uuid_string_random();
	sb_store_write(
	        store,
	        "INSERT INTO participants (id, call_id, participant_id, kind, role, display, "
	        "identity, interface, info, joined) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	        "ON CONFLICT (id) DO NOTHING",
	        json_pack("[ssIooooooI]", row, c->id, json_integer_value(json_object_get(p, "id")),
	                  opt_string(kind), opt_string(role), opt_string(str(p, "display")),
	                  opt_string(str(p, "identity")), opt_string(iface), opt_string(info_text),
	                  (json_int_t)ts));
	char pid[32];
	g_snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
	           json_integer_value(json_object_get(p, "id")));
	g_hash_table_replace(c->participants, g_strdup(pid), row);
	free(info_text);
	c->parties++;
	c->present++;
	if (ai)
		c->ai = true;
	else if (role && !strcmp(role, "agent"))
		c->human_agent = true;
	if (!ai && !c->has_interface) {
		c->has_interface = true;
		c->interface = g_strdup(iface ? iface : "web");
		sb_store_write(
		        store,
		        "UPDATE calls SET interface = ?, from_addr = COALESCE(from_addr, ?), "
		        "to_addr = COALESCE(to_addr, ?), call_sid = COALESCE(call_sid, ?), "
		        "direction = COALESCE(direction, ?) WHERE id = ?",
		        json_pack("[soooos]", c->interface,
		                  opt_string(info_string(info, "from", "From")),
		                  opt_string(info_string(info, "to", "To")),
		                  opt_string(info_string(info, "call_sid", "CallSid")),
		                  opt_string(info_string(info, "direction", "Direction")), c->id));
	}
	if (!ai && role && !strcmp(role, "agent"))
		sb_store_write(
		        store,
		        "UPDATE calls SET human_agent = ? WHERE id = ? AND human_agent IS NULL",
		        json_pack("[os]",
		                  opt_string(str(p, "identity") ? str(p, "identity")
		                                                : str(p, "display")),
		                  c->id));
	/* Answered: somebody (a human or the agent) is there to take it. */
	if (!c->answered && c->parties >= 2) {
		c->answered = true;
		sb_store_write(store, "UPDATE calls SET answered = ? WHERE id = ?",
		               json_pack("[Is]", (json_int_t)ts, c->id));
	}
}

static void participant_left(json_t *ev, gint64 ts)
{
	call_state *c = g_hash_table_lookup(calls, str(ev, "room") ? str(ev, "room") : "");
	json_t *p = json_object_get(ev, "participant");
	if (!c || !json_is_object(p))
		return;
	char pid[32];
	g_snprintf(pid, sizeof(pid), "%" JSON_INTEGER_FORMAT,
	           json_integer_value(json_object_get(p, "id")));
	const char *row = g_hash_table_lookup(c->participants, pid);
	if (!row)
		return;
	sb_store_write(store, "UPDATE participants SET left_at = ?, reason = ? WHERE id = ?",
	               json_pack("[Ios]", (json_int_t)ts, opt_string(str(ev, "reason")), row));
	g_hash_table_remove(c->participants, pid);
	/* A room left empty ends the call (a permanent room lives on, and
	 * its next caller starts a new call). */
	if (--c->present <= 0)
		close_call(c, ts);
}

static void transcript(json_t *ev, gint64 ts)
{
	const char *room = str(ev, "room"), *text = str(ev, "text");
	if (!room || !text || !json_is_true(json_object_get(ev, "final")))
		return; /* partial results are for the live view only */
	call_state *c = g_hash_table_lookup(calls, room);
	const char *call_id = c ? c->id : g_hash_table_lookup(recent, room);
	if (!call_id)
		return; /* no call in that room */
	json_t *start = json_object_get(ev, "start");
	char *id = g_uuid_string_random();
	sb_store_write(
	        store,
	        "INSERT INTO transcript_segments (id, call_id, speaker, speaker_id, text, "
	        "started, ended, final, seq) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?) "
	        "ON CONFLICT (id) DO NOTHING",
	        json_pack("[sssOsOII]", id, call_id, str(ev, "speaker") ? str(ev, "speaker") : "",
	                  json_object_get(ev, "speaker_id") ? json_object_get(ev, "speaker_id")
	                                                    : json_null(),
	                  text, json_is_integer(start) ? start : json_null(), (json_int_t)ts,
	                  (json_int_t)++segment_seq));
	g_free(id);
}

static void agent_turn(json_t *ev, gint64 ts)
{
	const char *room = str(ev, "room");
	if (!room)
		return;
	call_state *c = g_hash_table_lookup(calls, room);
	const char *call_id = c ? c->id : g_hash_table_lookup(recent, room);
	if (!call_id)
		return; /* no call in that room */
	json_t *lat = json_object_get(ev, "latency_ms");
	bool fallback = json_is_true(json_object_get(ev, "fallback"));
	bool interrupted = json_is_true(json_object_get(ev, "interrupted"));
	char *id = g_uuid_string_random();
	json_t *stages = json_object_get(ev, "stages");
	sb_store_write(
	        store,
	        "INSERT INTO agent_turns (id, call_id, at, latency_ms, stt, llm, tts, fallback, "
	        "interrupted, user_text, agent_text, stt_final_ms, llm_first_token_ms, "
	        "tts_first_audio_ms, first_packet_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	        "?, ?, ?) ON CONFLICT (id) DO NOTHING",
	        json_pack("[ssIOooobbooOOOO]", id, call_id, (json_int_t)ts,
	                  json_is_integer(lat) ? lat : json_null(), opt_string(str(ev, "stt")),
	                  opt_string(str(ev, "llm")), opt_string(str(ev, "tts")), fallback,
	                  interrupted, opt_string(str(ev, "user_text")),
	                  opt_string(str(ev, "agent_text")), stage_ms(stages, "stt_final"),
	                  stage_ms(stages, "llm_first_token"), stage_ms(stages, "tts_first_audio"),
	                  stage_ms(stages, "first_packet")));
	g_free(id);
	if (c)
		c->ai = true;
	if (json_is_integer(lat) && json_integer_value(lat) >= 0) {
		json_int_t ms = json_integer_value(lat);
		size_t b = 0;
		while (b < G_N_ELEMENTS(latency_bounds) && ms > latency_bounds[b])
			b++;
		latency_buckets[b]++;
		latency_count++;
		latency_sum += (guint64)ms;
	}
	turn_fallbacks += fallback;
	turn_interruptions += interrupted;
}

/* call_analysis: the analysis of a call that ended (analysis/), with its
 * disposition and overall sentiment apart, for /api/calls to filter on. */
static void call_analysis(json_t *ev)
{
	const char *room = str(ev, "room");
	json_t *analysis = json_object_get(ev, "analysis");
	const char *call_id = room ? g_hash_table_lookup(recent, room) : NULL;
	if (!call_id || !json_is_object(analysis))
		return;
	char *text = json_dumps(analysis, JSON_COMPACT);
	json_t *sentiment = json_object_get(analysis, "sentiment");
	sb_store_write(store,
	               "UPDATE calls SET analysis = ?, disposition = ?, sentiment = ? WHERE id = ?",
	               json_pack("[sOOs]", text, json_object_get(analysis, "disposition"),
	                         json_object_get(sentiment, "overall"), call_id));
	free(text);
}

/* agent_tool: one call of a business tool by the agent. */
static void agent_tool(json_t *ev, gint64 ts)
{
	const char *room = str(ev, "room"), *tool = str(ev, "tool"), *status = str(ev, "status");
	if (!room || !tool || !status)
		return;
	call_state *c = g_hash_table_lookup(calls, room);
	const char *call_id = c ? c->id : g_hash_table_lookup(recent, room);
	if (!call_id)
		return; /* no call in that room */
	char *args = json_dumps(json_object_get(ev, "arguments"), JSON_COMPACT);
	json_t *lat = json_object_get(ev, "latency_ms");
	json_t *http = json_object_get(ev, "http_status");
	char *id = g_uuid_string_random();
	sb_store_write(store,
	               "INSERT INTO agent_tool_calls (id, call_id, at, tool, arguments, status, "
	               "latency_ms, http_status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
	               "ON CONFLICT (id) DO NOTHING",
	               json_pack("[ssIsosOOo]", id, call_id, (json_int_t)ts, tool, opt_string(args),
	                         status, json_is_integer(lat) ? lat : json_null(),
	                         json_is_integer(http) ? http : json_null(),
	                         opt_string(str(ev, "error"))));
	g_free(id);
	free(args);
}

static bool final_status(const char *status)
{
	static const char *const finals[] = {"completed", "failed", "busy", "no-answer", "canceled",
	                                     NULL};
	return status && g_strv_contains(finals, status);
}

static void call_status(json_t *ev, gint64 ts)
{
	const char *room = str(ev, "room"), *status = str(ev, "status");
	if (!room)
		return;
	/* A hang-up closes the room before its final status comes: that
	 * status is the call's that just ended, not the start of a new one
	 * (which would stay open forever). */
	const char *ended = g_hash_table_lookup(calls, room) ? NULL
	                                                    : g_hash_table_lookup(recent, room);
	if (ended && final_status(status)) {
		sb_store_write(store,
		               "UPDATE calls SET status = ?, from_addr = COALESCE(from_addr, ?),"
		               " to_addr = COALESCE(to_addr, ?), call_sid = COALESCE(call_sid, ?)"
		               " WHERE id = ?",
		               json_pack("[sooos]", status, opt_string(str(ev, "from")),
		                         opt_string(str(ev, "to")), opt_string(str(ev, "call_sid")),
		                         ended));
		return;
	}
	call_state *c = open_call(room, ts);
	if (status && (!strcmp(status, "failed") || !strcmp(status, "busy") ||
	               !strcmp(status, "no-answer") || !strcmp(status, "canceled")))
		c->failed = !c->answered;
	const char *iface = str(ev, "interface");
	if (iface && !c->interface)
		c->interface = g_strdup(iface);
	sb_store_write(
	        store,
	        "UPDATE calls SET status = COALESCE(?, status), direction = COALESCE(?, "
	        "direction), "
	        "from_addr = COALESCE(?, from_addr), to_addr = COALESCE(?, to_addr), "
	        "call_sid = COALESCE(?, call_sid), interface = COALESCE(interface, ?) WHERE id = ?",
	        json_pack("[oooooos]", opt_string(status), opt_string(str(ev, "direction")),
	                  opt_string(str(ev, "from")), opt_string(str(ev, "to")),
	                  opt_string(str(ev, "call_sid")), opt_string(iface), c->id));
}

static void whatsapp_message(json_t *ev, gint64 ts)
{
	const char *conv = str(ev, "conversation");
	if (!conv)
		conv = str(ev, "from");
	if (!conv)
		return;
	/* A conversation is a call of its own (interface whatsapp) unless a
	 * room of that name is open. */
	char *key = g_strdup_printf("whatsapp:%s", conv);
	call_state *c = g_hash_table_lookup(calls, conv);
	if (!c) {
		bool fresh = !g_hash_table_lookup(calls, key);
		c = open_call(key, ts);
		if (fresh) {
			c->has_interface = true;
			c->interface = g_strdup("whatsapp");
			c->parties = 1;
			sb_store_write(store,
			               "UPDATE calls SET interface = 'whatsapp', from_addr = ?, "
			               "to_addr = ?, "
			               "direction = ? WHERE id = ?",
			               json_pack("[ooos]", opt_string(str(ev, "from")),
			                         opt_string(str(ev, "to")),
			                         opt_string(str(ev, "direction")), c->id));
		}
	}
	g_free(key);
	const char *dir = str(ev, "direction");
	if (dir && g_str_has_prefix(dir, "outbound") && !c->answered) {
		c->answered = true;
		c->ai = true; /* replies come from the agent unless a human joins */
		sb_store_write(store, "UPDATE calls SET answered = ? WHERE id = ?",
		               json_pack("[Is]", (json_int_t)ts, c->id));
	}
	char *id = g_uuid_string_random();
	sb_store_write(
	        store,
	        "INSERT INTO whatsapp_messages (id, message_sid, conversation, call_id, from_addr, "
	        "to_addr, body, direction, media_count, at, seq) "
	        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
	        json_pack("[sosssoooIII]", id, opt_string(str(ev, "message_sid")), conv, c->id,
	                  str(ev, "from") ? str(ev, "from") : "", opt_string(str(ev, "to")),
	                  opt_string(str(ev, "body")), opt_string(dir),
	                  json_integer_value(json_object_get(ev, "media_count")), (json_int_t)ts,
	                  (json_int_t)++segment_seq));
	g_free(id);
	if (str(ev, "body") && *str(ev, "body")) {
		/* The conversation's transcript is its messages: the user by
		 * their address, replies by the human agent who wrote them, the
		 * AI ("ai") or the backend ("api", POST /whatsapp/send). */
		bool out = dir && g_str_has_prefix(dir, "outbound");
		const char *speaker = !out                 ? str(ev, "from")
		                      : str(ev, "agentId") ? str(ev, "agentId")
		                      : str(ev, "by")      ? str(ev, "by")
		                                           : "ai";
		char *seg = g_uuid_string_random();
		sb_store_write(store,
		               "INSERT INTO transcript_segments (id, call_id, speaker, text, "
		               "ended, final, seq) "
		               "VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (id) DO NOTHING",
		               json_pack("[ssssII]", seg, c->id, speaker ? speaker : "",
		                         str(ev, "body"), (json_int_t)ts,
		                         (json_int_t)++segment_seq));
		g_free(seg);
	}
	sb_store_write(store, "UPDATE calls SET ended = ?, duration_ms = ? - started WHERE id = ?",
	               json_pack("[IIs]", (json_int_t)ts, (json_int_t)ts, c->id));
}

/* A console agent took the chat (chat_assigned), or it ended (chat_ended:
 * idle timeout): the conversation's call record says so. */
static void whatsapp_chat(const char *type, json_t *ev, gint64 ts)
{
	const char *conv = str(ev, "conversation");
	if (!conv)
		return;
	char *key = g_strdup_printf("whatsapp:%s", conv);
	call_state *c = g_hash_table_lookup(calls, key);
	g_free(key);
	if (!c)
		return;
	if (!strcmp(type, "chat_ended")) {
		close_call(c, ts);
	} else if (str(ev, "agentId")) {
		c->human_agent = true;
		sb_store_write(
		        store,
		        "UPDATE calls SET human_agent = ? WHERE id = ? AND human_agent IS NULL",
		        json_pack("[ss]", str(ev, "agentId"), c->id));
	}
}

static void transfer(const char *type, json_t *ev, gint64 ts)
{
	const char *tid = str(ev, "transfer_id");
	if (!tid)
		return;
	const char *room = str(ev, "room");
	call_state *c = room ? g_hash_table_lookup(calls, room) : NULL;
	const char *state = type + strlen("transfer_");
	if (!strcmp(state, "initiated")) {
		sb_store_write(
		        store,
		        "INSERT INTO transfers (transfer_id, call_id, room, from_agent, to_target, "
		        "target_kind, consult_room, reason, summary, state, initiated) "
		        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'initiated', ?) "
		        "ON CONFLICT (transfer_id) DO NOTHING",
		        json_pack("[sooooooooI]", tid, opt_string(c ? c->id : NULL),
		                  opt_string(room), text_of(json_object_get(ev, "from")),
		                  text_of(json_object_get(ev, "to")),
		                  opt_string(str(ev, "target_kind")),
		                  opt_string(str(ev, "consult_room")),
		                  opt_string(str(ev, "reason")), summary_of(ev), (json_int_t)ts));
		return;
	}
	const char *column = !strcmp(state, "accepted")    ? "accepted"
	                     : !strcmp(state, "completed") ? "completed"
	                                                   : "ended";
	/* column is one of three fixed names, never input. */
	char *sql = g_strdup_printf(
	        "UPDATE transfers SET state = ?, %s = ?, summary = COALESCE(?, summary), "
	        "failure = COALESCE(?, failure), call_id = COALESCE(call_id, ?) WHERE transfer_id "
	        "= ?",
	        column);
	sb_store_write(store, sql,
	               json_pack("[sIooos]", state, (json_int_t)ts, summary_of(ev),
	                         opt_string(strcmp(state, "failed") && strcmp(state, "cancelled")
	                                            ? NULL
	                                            : str(ev, "reason")),
	                         opt_string(c ? c->id : NULL), tid));
	g_free(sql);
	if (!strcmp(state, "completed") && c)
		c->transferred = true;
}

/* A recording file (the mix or one participant's track) of the room's
 * call; a recording started before anybody joined opens the call. */
static void recording_started(json_t *ev, gint64 ts)
{
	const char *room = str(ev, "room"), *id = str(ev, "id"), *kind = str(ev, "kind");
	const char *format = str(ev, "format"), *path = str(ev, "path");
	if (!room || !id || !kind || !format || !path)
		return;
	call_state *c = open_call(room, ts);
	json_t *pid = json_object_get(ev, "participant_id");
	sb_store_write(store,
	               "INSERT INTO recordings (id, call_id, room, kind, participant_id, format, "
	               "path, started) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
	               json_pack("[ssssossI]", id, c->id, room, kind,
	                         json_is_integer(pid) ? json_incref(pid) : json_null(), format,
	                         path, (json_int_t)ts));
}

static void recording_stopped(json_t *ev, gint64 ts)
{
	const char *id = str(ev, "id");
	json_t *bytes = json_object_get(ev, "bytes");
	if (!id)
		return;
	sb_store_write(store, "UPDATE recordings SET ended = ?, bytes = ? WHERE id = ?",
	               json_pack("[Ios]", (json_int_t)ts,
	                         json_is_integer(bytes) ? json_incref(bytes) : json_null(), id));
}

void sb_records_event(json_t *ev)
{
	const char *type = str(ev, "type");
	json_t *t = json_object_get(ev, "timestamp");
	gint64 ts = json_is_integer(t) ? json_integer_value(t) : g_get_real_time() / 1000;
	if (!type)
		return;
	g_mutex_lock(&mutex);
	if (!store) {
		g_mutex_unlock(&mutex);
		return;
	}
	if (!strcmp(type, "room_closed")) {
		call_state *c = g_hash_table_lookup(calls, str(ev, "room") ? str(ev, "room") : "");
		if (c)
			close_call(c, ts);
		g_hash_table_remove(pending_variables, str(ev, "room") ? str(ev, "room") : "");
	} else if (!strcmp(type, "participant_joined")) {
		participant_joined(ev, ts);
	} else if (!strcmp(type, "participant_left")) {
		participant_left(ev, ts);
	} else if (!strcmp(type, "transcript")) {
		transcript(ev, ts);
	} else if (!strcmp(type, "agent_turn")) {
		agent_turn(ev, ts);
	} else if (!strcmp(type, "agent_tool")) {
		agent_tool(ev, ts);
	} else if (!strcmp(type, "call_variables")) {
		call_variables(ev);
	} else if (!strcmp(type, "call_analysis")) {
		call_analysis(ev);
	} else if (!strcmp(type, "call_status")) {
		call_status(ev, ts);
	} else if (!strcmp(type, "whatsapp_message")) {
		whatsapp_message(ev, ts);
	} else if (!strcmp(type, "recording_started")) {
		recording_started(ev, ts);
	} else if (!strcmp(type, "recording_stopped")) {
		recording_stopped(ev, ts);
	} else if (!strcmp(type, "chat_assigned") || !strcmp(type, "chat_ended")) {
		whatsapp_chat(type, ev, ts);
	} else if (g_str_has_prefix(type, "transfer_")) {
		transfer(type, ev, ts);
	}
	g_mutex_unlock(&mutex);
}

static void listener(json_t *ev, void *user)
{
	(void)user;
	sb_records_event(ev);
}

void sb_records_start(sb_store *s, const char *node_name)
{
	g_mutex_lock(&mutex);
	store = s;
	node = g_strdup(node_name);
	segment_seq = MAX(segment_seq, g_get_real_time());
	calls = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)call_free);
	recent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	pending_variables =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
	if (!ended_counts)
		ended_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_mutex_unlock(&mutex);
	subscription = sb_events_subscribe(listener, NULL);
}

void sb_records_stop(void)
{
	if (subscription)
		sb_events_unsubscribe(subscription);
	subscription = 0;
	g_mutex_lock(&mutex);
	if (calls) {
		gint64 now = g_get_real_time() / 1000;
		GList *open = g_hash_table_get_values(calls);
		for (GList *l = open; l; l = l->next)
			close_call(l->data, now);
		g_list_free(open);
		g_hash_table_destroy(calls);
		calls = NULL;
		g_clear_pointer(&recent, g_hash_table_destroy);
		g_clear_pointer(&pending_variables, g_hash_table_destroy);
	}
	store = NULL;
	g_clear_pointer(&node, g_free);
	g_mutex_unlock(&mutex);
}

char *sb_records_call_of_room(const char *room)
{
	g_mutex_lock(&mutex);
	call_state *c = calls && room ? g_hash_table_lookup(calls, room) : NULL;
	char *id = c ? g_strdup(c->id) : NULL;
	g_mutex_unlock(&mutex);
	return id;
}

void sb_records_metrics(GString *out)
{
	g_mutex_lock(&mutex);
	g_string_append(out, "# HELP switchboard_calls_total Calls ended since start, by interface "
	                     "and outcome.\n"
	                     "# TYPE switchboard_calls_total counter\n");
	GHashTableIter it;
	gpointer key, value;
	if (ended_counts) {
		g_hash_table_iter_init(&it, ended_counts);
		while (g_hash_table_iter_next(&it, &key, &value)) {
			char **parts = g_strsplit(key, "\n", 2);
			g_string_append_printf(
			        out,
			        "switchboard_calls_total{interface=\"%s\",outcome=\"%s\"} %zu\n",
			        parts[0], parts[1] ? parts[1] : "", GPOINTER_TO_SIZE(value));
			g_strfreev(parts);
		}
	}
	g_string_append_printf(out,
	                       "# HELP switchboard_calls_open Calls in progress.\n"
	                       "# TYPE switchboard_calls_open gauge\nswitchboard_calls_open %u\n",
	                       calls ? g_hash_table_size(calls) : 0);
	g_string_append(
	        out,
	        "# HELP switchboard_agent_turn_latency_ms Caller stopped to first agent audio.\n"
	        "# TYPE switchboard_agent_turn_latency_ms histogram\n");
	guint64 cumulative = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(latency_bounds); i++) {
		cumulative += latency_buckets[i];
		g_string_append_printf(
		        out,
		        "switchboard_agent_turn_latency_ms_bucket{le=\"%d\"} %" G_GUINT64_FORMAT
		        "\n",
		        latency_bounds[i], cumulative);
	}
	cumulative += latency_buckets[G_N_ELEMENTS(latency_bounds)];
	g_string_append_printf(
	        out,
	        "switchboard_agent_turn_latency_ms_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n"
	        "switchboard_agent_turn_latency_ms_sum %" G_GUINT64_FORMAT "\n"
	        "switchboard_agent_turn_latency_ms_count %" G_GUINT64_FORMAT "\n"
	        "# HELP switchboard_agent_turn_fallbacks_total Agent turns that fell back to "
	        "another provider.\n"
	        "# TYPE switchboard_agent_turn_fallbacks_total counter\n"
	        "switchboard_agent_turn_fallbacks_total %" G_GUINT64_FORMAT "\n"
	        "# HELP switchboard_agent_turn_interruptions_total Agent turns cut off by the "
	        "caller.\n"
	        "# TYPE switchboard_agent_turn_interruptions_total counter\n"
	        "switchboard_agent_turn_interruptions_total %" G_GUINT64_FORMAT "\n",
	        cumulative, latency_sum, latency_count, turn_fallbacks, turn_interruptions);
	sb_store_stats st = {0};
	bool have = store != NULL;
	if (have)
		sb_store_get_stats(store, &st);
	g_mutex_unlock(&mutex);
	g_string_append_printf(
	        out,
	        "# HELP switchboard_store_queue_depth Records waiting to be written.\n"
	        "# TYPE switchboard_store_queue_depth gauge\nswitchboard_store_queue_depth "
	        "%" G_GUINT64_FORMAT "\n"
	        "# HELP switchboard_store_dropped_total Records dropped: the queue was full.\n"
	        "# TYPE switchboard_store_dropped_total counter\nswitchboard_store_dropped_total "
	        "%" G_GUINT64_FORMAT "\n"
	        "# HELP switchboard_store_written_total Records written.\n"
	        "# TYPE switchboard_store_written_total counter\nswitchboard_store_written_total "
	        "%" G_GUINT64_FORMAT "\n"
	        "# HELP switchboard_store_failed_total Records the database refused.\n"
	        "# TYPE switchboard_store_failed_total counter\nswitchboard_store_failed_total "
	        "%" G_GUINT64_FORMAT "\n"
	        "# HELP switchboard_store_connected 1 while the store's database is reachable.\n"
	        "# TYPE switchboard_store_connected gauge\nswitchboard_store_connected %d\n",
	        st.queued, st.dropped, st.written, st.failed, have && st.connected);
}
