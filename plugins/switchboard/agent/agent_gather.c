/* Menus the phone way, on the agent's side: the menus module decides
 * (menus/menus.h); this speaks its prompts, feeds it keys, words and the
 * clock, and carries out what the caller chose — a queue, a tool, a
 * submenu, the AI agent, the end of the call — or hands the model the
 * result of its gather tool.  Agent thread only. */
#include <string.h>

#include <debug.h>

#include "agent/agent_thread.h"
#include "tools/tools.h"

bool sb_agent_gathering(const sb_agent *a)
{
	return a->gather != NULL;
}

/* Says text after whatever is being said ({{variables}} are the call's):
 * a new answer of its own, or a part of the model's that waits for the
 * gather. */
static void speak(sb_agent *a, const char *text)
{
	if (!text || !*text)
		return;
	json_t *variables = sb_room_variables(a->room);
	char *said = sb_variables_render(text, variables);
	json_decref(variables);
	if (sb_pipeline_idle(a->pipeline))
		sb_heard_new_answer(a->heard);
	sb_pipeline_speak(a->pipeline, g_strstrip(said));
	g_free(said);
}

/* The caller answered: the prompt need not go on. */
static void hush(sb_agent *a)
{
	sb_agent_voice_clear(a->voice);
	sb_pipeline_hush(a->pipeline);
}

static void end_gather(sb_agent *a)
{
	sb_menu_free(a->gather);
	a->gather = NULL;
	json_decref(a->gather_tree);
	a->gather_tree = NULL;
	g_clear_pointer(&a->gather_call, g_free);
}

/* tree: owned (a reference); gather: the part of it to run. */
static void start(sb_agent *a, json_t *tree, json_t *gather, const char *call_id)
{
	end_gather(a);
	a->gather_tree = tree;
	a->gather_call = g_strdup(call_id);
	a->gather = sb_menu_new(gather);
	sb_menu_step step = sb_menu_start(a->gather);
	/* The console shows the caller is in a menu (the prompt of a model's
	 * gather is only transcribed with the rest of its answer). */
	json_t *details = json_pack("{s:s, s:b}", "prompt", step.say, "model", call_id != NULL);
	sb_agent_announce(a, "gather", details);
	json_decref(details);
	speak(a, step.say);
}

bool sb_agent_menu_begin(sb_agent *a)
{
	if (!a->menu)
		return false;
	start(a, json_incref(a->menu), a->menu, NULL);
	return true;
}

void sb_agent_gather_for_model(sb_agent *a, const char *id, json_t *args)
{
	/* Its own copy: the pipeline's run may go before the gather does. */
	json_t *copy = json_deep_copy(args);
	start(a, copy, copy, id);
}

/* HTTP thread: a menu's tool answered; to the agent thread. */
static void menu_tool_done(void *user, json_t *record, json_t *answer)
{
	sb_agent *a = user;
	agent_msg *m = g_new0(agent_msg, 1);
	m->kind = MSG_MENU_TOOL;
	m->event.json = json_pack("{s:O, s:O?}", "record", record, "answer", answer);
	g_async_queue_push(a->queue, m);
}

#define TOOL_FAILED_SAY "Sorry, I couldn't look that up just now."

static void call_tool(sb_agent *a, const char *tool, json_t *arguments)
{
	sb_own_tool_release(a->menu_tool);
	a->menu_tool = sb_own_tool_start("menu", tool, arguments, sb_pipeline_call(a->pipeline),
	                                 menu_tool_done, a);
	if (!a->menu_tool) /* not configured, or no request could be made */
		speak(a, TOOL_FAILED_SAY);
}

void sb_agent_menu_tool_answered(sb_agent *a, json_t *outcome)
{
	if (!a->menu_tool)
		return;                    /* dropped meanwhile */
	sb_own_tool_release(a->menu_tool); /* done() was its last callback */
	a->menu_tool = NULL;
	json_t *record = json_deep_copy(json_object_get(outcome, "record"));
	json_object_set_new(record, "room", json_string(a->room->name));
	sb_events_publish("agent_tool", record);
	const char *say =
	        json_string_value(json_object_get(json_object_get(outcome, "answer"), "say"));
	speak(a, say && *say ? say : TOOL_FAILED_SAY);
}

/* What the caller chose, done: the call's menu goes on to an action; the
 * model's gather is the model's result. */
static void finished(sb_agent *a, sb_menu_step step)
{
	json_t *outcome = json_deep_copy(step.outcome);
	if (a->gather_call) {
		char *id = g_strdup(a->gather_call);
		end_gather(a);
		sb_pipeline_tool_result(a->pipeline, id, outcome);
		g_free(id);
		json_decref(outcome);
		return;
	}
	/* The tree is ours until the action has been carried out. */
	json_t *tree = json_incref(a->gather_tree);
	sb_menu_action todo = sb_menu_action_of(a->gather, &step);
	end_gather(a);
	json_t *details = json_pack("{s:O}", "outcome", outcome);
	sb_agent_announce(a, "menu", details);
	json_decref(details);
	if (todo.variables) {
		sb_room_merge_variables(a->room, todo.variables, "menu");
		sb_agent_variables_changed(a);
	}
	speak(a, todo.say);
	switch (todo.what) {
	case SB_MENU_DO_SUBMENU: /* its prompt follows */
		start(a, json_incref(tree), todo.submenu, NULL);
		break;
	case SB_MENU_DO_QUEUE:
		sb_agent_announce(a, "transfer", todo.handoff);
		break;
	case SB_MENU_DO_TOOL:
		call_tool(a, todo.tool, todo.arguments);
		break;
	case SB_MENU_DO_END_CALL:
		g_free(a->pending_tool); /* done once what was said has been heard */
		a->pending_tool = g_strdup("end_call");
		break;
	case SB_MENU_DO_AGENT:
		/* The AI agent takes the call: its greeting, after the option's words. */
		speak(a, sb_pipeline_greeting(a->pipeline));
		break;
	}
	sb_menu_action_clear(&todo);
	json_decref(tree);
	json_decref(outcome);
}

static void act(sb_agent *a, sb_menu_step step)
{
	if (step.done)
		finished(a, step);
	else if (step.say)
		speak(a, step.say);
}

bool sb_agent_gather_key(sb_agent *a, char key)
{
	if (!a->gather)
		return false;
	/* A key while we speak: the caller knows what to do. */
	hush(a);
	sb_menu_played(a->gather, g_get_monotonic_time());
	act(a, sb_menu_key(a->gather, key, g_get_monotonic_time()));
	return true;
}

bool sb_agent_gather_speech(sb_agent *a, const char *text)
{
	if (!a->gather)
		return false;
	bool taken = false;
	sb_menu_step step = sb_menu_speech(a->gather, text, g_get_monotonic_time(), &taken);
	if (taken) {
		hush(a);
		act(a, step);
	}
	return true;
}

void sb_agent_gather_tick(sb_agent *a)
{
	if (!a->gather)
		return;
	gint64 now = g_get_monotonic_time();
	/* The wait starts once the prompt has been heard out. */
	if (!sb_pipeline_speaking(a->pipeline) && sb_agent_voice_empty(a->voice))
		sb_menu_played(a->gather, now);
	act(a, sb_menu_tick(a->gather, now));
}

void sb_agent_gather_stop(sb_agent *a)
{
	end_gather(a);
	sb_own_tool_release(a->menu_tool);
	a->menu_tool = NULL;
}
