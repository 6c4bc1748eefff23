/* What a finished gather's action asks of its driver (menus.h,
 * sb_menu_action_of): one reading of the action and the outcome, so that
 * the agent and ConversationRelay build the same tool arguments, hand-off
 * and variables. */
#include "menus/menus_private.h"

static json_t *tool_arguments(json_t *action, json_t *outcome)
{
	json_t *arguments = json_object();
	json_t *fixed = json_object_get(action, "arguments");
	if (json_is_object(fixed))
		json_object_update(arguments, fixed);
	const char *argument = json_string_value(json_object_get(action, "argument"));
	json_t *value = json_object_get(outcome, "value");
	if (argument && value)
		json_object_set(arguments, argument, value);
	return arguments;
}

sb_menu_action sb_menu_action_of(const sb_menu *m, const sb_menu_step *step)
{
	json_t *action = step->action, *outcome = step->outcome;
	sb_menu_action a = {.say = json_string_value(json_object_get(action, "say"))};
	const char *variable = json_string_value(json_object_get(sb_menu_spec(m), "variable"));
	if (variable && json_is_string(json_object_get(outcome, "value")))
		a.variables = json_pack("{s:O}", variable, json_object_get(outcome, "value"));
	const char *queue = json_string_value(json_object_get(action, "queue"));
	if ((a.submenu = json_object_get(action, "menu"))) {
		a.what = SB_MENU_DO_SUBMENU;
	} else if (queue) {
		a.what = SB_MENU_DO_QUEUE;
		a.handoff = json_pack("{s:s, s:s, s:O}", "reason", "menu", "queue", queue, "menu",
		                      outcome);
	} else if ((a.tool = json_string_value(json_object_get(action, "tool")))) {
		a.what = SB_MENU_DO_TOOL;
		a.arguments = tool_arguments(action, outcome);
	} else if (json_is_true(json_object_get(action, "end_call"))) {
		a.what = SB_MENU_DO_END_CALL;
	} else {
		a.what = SB_MENU_DO_AGENT;
	}
	return a;
}

void sb_menu_action_clear(sb_menu_action *a)
{
	json_decref(a->arguments);
	json_decref(a->handoff);
	json_decref(a->variables);
	*a = (sb_menu_action){0};
}
