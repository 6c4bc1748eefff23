/* The analysis of every call (analysis.h): the bus gives each room's log
 * (analysis_private.h) while the call runs; when the room closes, the log
 * goes to this module's thread, where the embedded engine analyses it and
 * a language model, when there is one, corrects that (model.c); the
 * analysis comes back on the bus as
 * `call_analysis` {room, analysis} for the store and the webhooks.
 *
 * Live: every final transcript line of a caller (not the AI agent, not a
 * human agent) carries its sentiment ({label, mood}) through the room's
 * transcript annotator, so the console shows it as it is said.
 *
 * Threads: the bus listener runs on the publisher's thread and only
 * appends to a log under a short lock; the analysis runs on "sb analysis"
 * (a background thread: it yields to the mixer). */
#include "analysis/analysis_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "embedded/embedded.h"
#include "room/room.h"

/* Calls followed at once: past it a new call is not analysed (counted). */
#define MAX_LOGS 10000

static struct {
	GMutex lock;      /* logs, and the counters */
	GHashTable *logs; /* room name -> log (json_t*) */
	sb_loop *loop;
	unsigned bus;
	json_t *kb;               /* read-only once started */
	json_t *fields;           /* [analysis] fields, or NULL */
	sb_analysis_model *model; /* the analysis thread's */
	guint64 analysed, not_followed;
} mod;

static const char *str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* ---- live sentiment (the room's transcript annotator) ---- */

/* The caller's lines only: a participant that is the AI agent or a human
 * agent (role other than caller) says nothing of the caller's mood. */
static json_t *annotate(sb_room *room, guint64 speaker_id, const char *speaker, const char *text)
{
	(void)speaker;
	sb_participant *p = speaker_id ? sb_room_find_participant(room, speaker_id) : NULL;
	bool caller = !p || (p->kind != SB_KIND_AGENT && (!p->role || !strcmp(p->role, "caller")));
	if (p)
		sb_participant_unref(p);
	if (!caller || !speaker_id)
		return NULL; /* lines from outside (the console's) are nobody's mood */
	int mood = sb_local_mood(mod.kb, text, NULL);
	return json_pack("{s{sssi}}", "sentiment", "label", sb_analysis_label(mood), "mood", mood);
}

/* ---- the logs (bus thread) ---- */

static gboolean analyse(gpointer data);

static void log_line(json_t *log, json_t *n)
{
	const char *text = str(n, "text");
	if (!text || !*text)
		return;
	/* A long line is cut, on a character's boundary. */
	size_t len = strnlen(text, SB_ANALYSIS_MAX_LINE_BYTES + 1);
	if (len > SB_ANALYSIS_MAX_LINE_BYTES)
		for (len = SB_ANALYSIS_MAX_LINE_BYTES; len > 0 && (text[len] & 0xC0) == 0x80; len--)
			;
	json_t *sentiment = json_object_get(n, "sentiment");
	json_t *lines = json_object_get(log, "lines");
	json_array_append_new(
	        lines, json_pack("{s:s%, s:b, s:O, s:I}", "text", text, len, "caller",
	                         sentiment != NULL, "at", json_object_get(n, "timestamp"), "mood",
	                         json_integer_value(json_object_get(sentiment, "mood"))));
	while (json_array_size(lines) > SB_ANALYSIS_MAX_LINES)
		json_array_remove(lines, 0);
}

static void bump(json_t *log, const char *key)
{
	json_object_set_new(log, key,
	                    json_integer(json_integer_value(json_object_get(log, key)) + 1));
}

static void on_bus(json_t *n, void *user)
{
	(void)user;
	const char *type = str(n, "type"), *room = str(n, "room");
	if (!type || !room)
		return;
	g_mutex_lock(&mod.lock);
	if (!mod.logs) {
		g_mutex_unlock(&mod.lock);
		return;
	}
	if (!strcmp(type, "room_created")) {
		if (g_hash_table_size(mod.logs) < MAX_LOGS)
			g_hash_table_replace(mod.logs, g_strdup(room), json_pack("{s[]}", "lines"));
		else
			mod.not_followed++;
		g_mutex_unlock(&mod.lock);
		return;
	}
	json_t *log = g_hash_table_lookup(mod.logs, room);
	if (!log) {
		g_mutex_unlock(&mod.lock);
		return;
	}
	if (!strcmp(type, "room_closed")) {
		g_hash_table_steal(mod.logs, room);
		g_mutex_unlock(&mod.lock);
		json_object_set_new(log, "room", json_string(room));
		sb_loop_invoke(mod.loop, analyse, log, (GDestroyNotify)json_decref);
		return;
	}
	if (!strcmp(type, "transcript") && json_is_true(json_object_get(n, "final")))
		log_line(log, n);
	else if (!strcmp(type, "agent_turn"))
		bump(log, "agent_turns");
	else if (!strcmp(type, "agent_tool"))
		bump(log, !g_strcmp0(str(n, "status"), "ok") ? "tools_ok" : "tools_failed");
	else if (!strcmp(type, "handoff_requested"))
		json_object_set_new(log, "handoff", json_true());
	else if (!strcmp(type, "transfer_accepted") || !strcmp(type, "transfer_three_way") ||
	         !strcmp(type, "transfer_completed"))
		json_object_set_new(log, "transferred", json_true());
	else if (!strcmp(type, "call_status") && str(n, "status"))
		json_object_set(log, "status", json_object_get(n, "status"));
	g_mutex_unlock(&mod.lock);
}

/* ---- the analysis ("sb analysis") ---- */

static gboolean analyse(gpointer data)
{
	json_t *log = data;
	json_t *analysis = sb_analysis_local(mod.kb, log, mod.fields);
	sb_analysis_by_model(mod.model, analysis, log, mod.fields);
	g_mutex_lock(&mod.lock);
	mod.analysed++;
	g_mutex_unlock(&mod.lock);
	sb_events_publish("call_analysis", json_pack("{sOso}", "room", json_object_get(log, "room"),
	                                             "analysis", analysis));
	return G_SOURCE_REMOVE;
}

static void metrics(GString *out)
{
	g_mutex_lock(&mod.lock);
	guint64 analysed = mod.analysed, not_followed = mod.not_followed;
	g_mutex_unlock(&mod.lock);
	sb_metrics_value(out, "switchboard_calls_analysed_total", "counter",
	                 "Calls whose analysis was published (call_analysis)", (long long)analysed);
	sb_metrics_value(out, "switchboard_calls_not_analysed_total", "counter",
	                 "Calls not followed for analysis: too many at once",
	                 (long long)not_followed);
}

/* [analysis] fields: a schema inline, or the name of a JSON file. */
static json_t *read_fields(json_t *value, char **error)
{
	if (!value)
		return NULL;
	json_t *schema = NULL;
	if (json_is_string(value)) {
		json_error_t e;
		schema = json_load_file(json_string_value(value), 0, &e);
		if (!schema) {
			*error = g_strdup_printf("[analysis] fields: %s: %s",
			                         json_string_value(value), e.text);
			return NULL;
		}
	} else {
		schema = json_incref(value);
	}
	if (!sb_analysis_schema_ok(schema, error))
		g_clear_pointer(&schema, json_decref);
	return schema;
}

bool sb_analysis_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "analysis");
	if (json_is_false(json_object_get(section, "enabled")))
		return true;
	char *error = NULL;
	json_t *fields = read_fields(json_object_get(section, "fields"), &error);
	if (error) {
		JANUS_LOG(LOG_ERR, "[switchboard] %s\n", error);
		g_free(error);
		return false;
	}
	const char *kb_path = str(section, "knowledge_base");
	json_t *kb = sb_kb_load(kb_path ? kb_path : sb_kb_default_path(), &error);
	if (!kb) {
		/* The lexicon and the summary have defaults: analysis goes on. */
		JANUS_LOG(LOG_WARN, "[switchboard] [analysis] knowledge base: %s\n",
		          error ? error : "?");
		g_clear_pointer(&error, g_free);
	}
	sb_loop *loop = sb_loop_start("sb analysis", true);
	if (!loop) {
		json_decref(fields);
		json_decref(kb);
		return false;
	}
	mod.model = sb_analysis_model_new(
	        json_object_get(section, "llm"),
	        (int)sb_section_int(section, "timeout_ms", 20000, 1000, 120000));
	g_mutex_lock(&mod.lock);
	mod.kb = kb;
	mod.fields = fields;
	mod.loop = loop;
	mod.logs =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
	g_mutex_unlock(&mod.lock);
	sb_room_set_transcript_annotator(annotate);
	mod.bus = sb_events_subscribe(on_bus, NULL);
	sb_metrics_register("analysis", metrics);
	return true;
}

void sb_analysis_stop(void)
{
	if (!mod.loop)
		return;
	sb_events_unsubscribe(mod.bus);
	sb_room_set_transcript_annotator(NULL);
	g_mutex_lock(&mod.lock);
	g_clear_pointer(&mod.logs, g_hash_table_unref);
	g_mutex_unlock(&mod.lock);
	/* A call that ended just now and waits for its turn is not analysed. */
	sb_loop_stop(mod.loop);
	mod.loop = NULL;
	g_clear_pointer(&mod.model, sb_analysis_model_free);
}

/* Once no transcript line can be annotated any more (a line being added
 * while the module stopped may still read the lexicon). */
void sb_analysis_finish(void)
{
	g_clear_pointer(&mod.fields, json_decref);
	g_clear_pointer(&mod.kb, json_decref);
}
