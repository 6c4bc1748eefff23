/* A menu on ConversationRelay ([agent] menu, menus/menus.h): Twilio does
 * the speech, so the menu's prompt is the TwiML's welcomeGreeting (voice.c),
 * the caller's answer comes back as `dtmf` messages and as `prompt`s
 * (Twilio's transcripts), and what the menu says goes out as text tokens.
 * The actions are those of the agent's menus: a queue ends the session
 * with a hand-off, a tool is called with the digits and its `say` spoken,
 * a submenu goes on, end_call ends the session, the AI takes the call.
 *
 * Twilio does not say when it has finished speaking our text: the wait for
 * input starts once it would have been spoken at a caller's pace
 * (SPOKEN_CHARS_PER_S, with a margin), so a long prompt is not cut short
 * by its own timeout.
 *
 * The relay's thread (the HTTP server's) only; a tool's answer is carried
 * back to it from net's HTTP thread. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "menus/menus.h"
#include "providers/providers.h"
#include "room/room.h"
#include "tools/tools.h"

/* Twilio's voices speak about 15 characters a second. */
#define SPOKEN_CHARS_PER_S 15
#define SPOKEN_MARGIN_MS 500
#define TICK_MS 100
#define TOOL_FAILED_SAY "Sorry, I couldn't look that up just now."

struct sb_relay_menu {
	const sb_relay_menu_events *events;
	void *user;
	char *room;
	json_t *call; /* what a tool learns of the call */
	json_t *tree; /* the menu as configured */
	sb_menu *gather;
	gint64 spoken_until;
	GMainContext *context;
	GSource *ticker;
	/* A menu's tool: the call, and its answer on the way to this thread
	 * (the mutex guards answer between net's thread and this one). */
	sb_tool_call *tool;
	char *tool_name;
	json_t *tool_arguments;
	GMutex lock;
	json_t *answer;
	GSource *answer_source;
};

static void say(sb_relay_menu *m, const char *text)
{
	if (!text || !*text)
		return;
	json_t *variables = NULL;
	sb_room *room = sb_room_find(m->room);
	if (room) {
		variables = sb_room_variables(room);
		sb_room_unref(room);
	}
	char *said = sb_variables_render(text, variables);
	json_decref(variables);
	m->events->say(m->user, g_strstrip(said));
	gint64 now = g_get_monotonic_time();
	m->spoken_until =
	        MAX(m->spoken_until, now) +
	        ((gint64)strlen(said) * 1000 / SPOKEN_CHARS_PER_S + SPOKEN_MARGIN_MS) * 1000;
	g_free(said);
}

static void act(sb_relay_menu *m, sb_menu_step step);

static gboolean tick(gpointer data)
{
	sb_relay_menu *m = data;
	gint64 now = g_get_monotonic_time();
	if (!m->gather)
		return G_SOURCE_CONTINUE;
	if (now >= m->spoken_until)
		sb_menu_played(m->gather, now);
	act(m, sb_menu_tick(m->gather, now));
	return G_SOURCE_CONTINUE;
}

/* prompt_said: Twilio says the first prompt itself (welcomeGreeting). */
static void start(sb_relay_menu *m, json_t *gather, bool prompt_said)
{
	sb_menu_free(m->gather);
	m->gather = sb_menu_new(gather);
	sb_menu_step step = sb_menu_start(m->gather);
	if (prompt_said)
		m->spoken_until =
		        g_get_monotonic_time() +
		        ((gint64)strlen(step.say) * 1000 / SPOKEN_CHARS_PER_S + SPOKEN_MARGIN_MS) *
		                1000;
	else
		say(m, step.say);
	sb_events_publish("agent_action",
	                  json_pack("{s:s, s:s, s:{s:s, s:b}}", "room", m->room, "action", "gather",
	                            "details", "prompt", step.say, "model", 0));
}

char *sb_relay_menu_prompt_of(void)
{
	sb_provider_snapshot *now = sb_providers_current();
	json_t *menu = now ? json_object_get(now->agent, "menu") : NULL;
	char *prompt = g_strdup(json_string_value(json_object_get(menu, "prompt")));
	sb_provider_snapshot_unref(now);
	return prompt;
}

sb_relay_menu *sb_relay_menu_start(const char *room, json_t *call,
                                   const sb_relay_menu_events *events, void *user)
{
	sb_provider_snapshot *now = sb_providers_current();
	json_t *menu = now ? json_object_get(now->agent, "menu") : NULL;
	if (!json_is_object(menu)) {
		sb_provider_snapshot_unref(now);
		return NULL;
	}
	sb_relay_menu *m = g_new0(sb_relay_menu, 1);
	m->events = events;
	m->user = user;
	m->room = g_strdup(room);
	m->call = json_deep_copy(call);
	m->tree = json_deep_copy(menu); /* a reload may come meanwhile */
	sb_provider_snapshot_unref(now);
	g_mutex_init(&m->lock);
	m->context = g_main_context_ref_thread_default();
	m->ticker = g_timeout_source_new(TICK_MS);
	g_source_set_callback(m->ticker, tick, m, NULL);
	g_source_attach(m->ticker, m->context);
	start(m, m->tree, true);
	return m;
}

/* ---- a menu's tool ---- */

static gboolean tool_answered(gpointer data)
{
	sb_relay_menu *m = data;
	g_mutex_lock(&m->lock);
	json_t *o = m->answer;
	m->answer = NULL;
	g_source_unref(m->answer_source);
	m->answer_source = NULL;
	g_mutex_unlock(&m->lock);
	sb_tool_call_release(m->tool); /* done() was its last callback */
	m->tool = NULL;
	sb_tool_status status = (sb_tool_status)json_integer_value(json_object_get(o, "status"));
	sb_tool_outcome_count(status);
	json_t *record =
	        json_pack("{s:s, s:s, s:O, s:s, s:O, s:b}", "room", m->room, "tool", m->tool_name,
	                  "arguments", m->tool_arguments, "status", sb_tool_status_name(status),
	                  "latency_ms", json_object_get(o, "latency_ms"), "menu", 1);
	if (json_object_get(o, "error"))
		json_object_set(record, "error", json_object_get(o, "error"));
	sb_events_publish("agent_tool", record);
	const char *spoken =
	        json_string_value(json_object_get(json_object_get(o, "answer"), "say"));
	say(m, status == SB_TOOL_OK && spoken && *spoken ? spoken : TOOL_FAILED_SAY);
	json_decref(o);
	m->events->to_agent(m->user, false);
	return G_SOURCE_REMOVE;
}

/* net's HTTP thread: the outcome, to the relay's thread. */
static void tool_done(void *user, const sb_tool_outcome *out)
{
	sb_relay_menu *m = user;
	json_t *o =
	        json_pack("{s:i, s:i}", "status", (int)out->status, "latency_ms", out->latency_ms);
	if (out->answer)
		json_object_set(o, "answer", out->answer);
	if (out->error)
		json_object_set_new(o, "error", json_string(out->error));
	g_mutex_lock(&m->lock);
	m->answer = o;
	m->answer_source = g_idle_source_new();
	g_source_set_callback(m->answer_source, tool_answered, m, NULL);
	g_source_attach(m->answer_source, m->context);
	g_mutex_unlock(&m->lock);
}

/* arguments: taken. */
static void call_tool(sb_relay_menu *m, const char *name, json_t *arguments)
{
	sb_toolset *set = sb_tools_current();
	const sb_tool *tool = sb_toolset_find(set, name);
	char *why = NULL;
	g_free(m->tool_name);
	json_decref(m->tool_arguments);
	m->tool_name = g_strdup(name);
	m->tool_arguments = arguments;
	m->tool = tool ? sb_tool_call_start(tool, arguments, m->call, tool_done, m, &why) : NULL;
	sb_toolset_unref(set);
	if (!m->tool) {
		JANUS_LOG(LOG_WARN, "[switchboard] twilio relay: menu tool %s failed (%s)\n", name,
		          why ? why : "no such tool is configured");
		g_free(why);
		say(m, TOOL_FAILED_SAY);
		m->events->to_agent(m->user, false);
	}
}

/* ---- the outcome ---- */

static void finished(sb_relay_menu *m, sb_menu_step step)
{
	sb_menu_action todo = sb_menu_action_of(m->gather, &step); /* within m->tree */
	sb_events_publish("agent_action",
	                  json_pack("{s:s, s:s, s:{s:O}}", "room", m->room, "action", "menu",
	                            "details", "outcome", step.outcome));
	sb_room *room = todo.variables ? sb_room_find(m->room) : NULL;
	if (room) {
		sb_room_merge_variables(room, todo.variables, "menu");
		sb_room_unref(room);
	}
	sb_menu_free(m->gather);
	m->gather = NULL;
	say(m, todo.say);
	switch (todo.what) {
	case SB_MENU_DO_SUBMENU:
		start(m, todo.submenu, false);
		break;
	case SB_MENU_DO_QUEUE:
		m->events->handoff(m->user, todo.handoff);
		break;
	case SB_MENU_DO_TOOL:
		call_tool(m, todo.tool, json_incref(todo.arguments));
		break;
	case SB_MENU_DO_END_CALL:
		m->events->end_call(m->user);
		break;
	case SB_MENU_DO_AGENT:
		m->events->to_agent(m->user, true);
		break;
	}
	sb_menu_action_clear(&todo);
}

static void act(sb_relay_menu *m, sb_menu_step step)
{
	if (step.done)
		finished(m, step);
	else if (step.say)
		say(m, step.say);
}

bool sb_relay_menu_key(sb_relay_menu *m, char key)
{
	if (!m || !m->gather)
		return m && m->tool; /* keys while the tool runs are nobody's */
	gint64 now = g_get_monotonic_time();
	sb_menu_played(m->gather, now); /* a key: the caller has heard enough */
	act(m, sb_menu_key(m->gather, key, now));
	return true;
}

bool sb_relay_menu_prompt(sb_relay_menu *m, const char *text)
{
	if (!m || !m->gather)
		return m && m->tool;
	bool taken = false;
	sb_menu_step step = sb_menu_speech(m->gather, text, g_get_monotonic_time(), &taken);
	if (taken)
		act(m, step);
	return true; /* a menu's input, not a question for the model */
}

void sb_relay_menu_free(sb_relay_menu *m)
{
	if (!m)
		return;
	sb_tool_call_release(m->tool); /* no done() after this */
	g_mutex_lock(&m->lock);
	if (m->answer_source) {
		g_source_destroy(m->answer_source);
		g_source_unref(m->answer_source);
	}
	json_decref(m->answer);
	g_mutex_unlock(&m->lock);
	g_mutex_clear(&m->lock);
	g_source_destroy(m->ticker);
	g_source_unref(m->ticker);
	g_main_context_unref(m->context);
	sb_menu_free(m->gather);
	json_decref(m->tree);
	json_decref(m->call);
	json_decref(m->tool_arguments);
	g_free(m->tool_name);
	g_free(m->room);
	g_free(m);
}
