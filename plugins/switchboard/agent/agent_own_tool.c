/* The agent's own calls of the business's tools (tools/tools.h), made
 * without a model asking:
 *   - the pre-call tool ([agent] pre_call_tool, or the room's agent
 *     config), called once when the agent joins a call and before it
 *     greets, with {"caller": {...}} — a CRM lookup by the caller's
 *     number, typically.  The string members of its answer's "variables"
 *     object join the call's context (room.h), so the greeting can say the
 *     caller's name;
 *   - a menu's tool (menus/menus.h): the digits a caller keyed in, as the
 *     argument the menu names; the answer's "say" is spoken.
 *
 * Neither may hold the call: the request goes out on net's HTTP thread
 * with the tool's own timeout, and whatever happens — down, slow, a 500,
 * garbage — done runs once and the agent goes on with the defaults.  A
 * failure is logged and counted (the tool calls' own counter, and
 * switchboard_agent_pre_call_failures_total for the pre-call tool). */
#include "agent/agent_private.h"

#include <string.h>

#include <debug.h>

#include "tools/tools.h"

struct sb_own_tool {
	sb_tool_call *call;
	sb_own_tool_done done;
	void *user;
	char *tool;
	char *purpose;
	json_t *arguments;
	int timeout_ms;
};

static guint64 pre_call_failures;

unsigned long long sb_pre_call_failures(void)
{
	return __atomic_load_n(&pre_call_failures, __ATOMIC_RELAXED);
}

static void count_failure(const char *purpose, const char *tool, const char *why)
{
	bool pre_call = !strcmp(purpose, "pre_call");
	if (pre_call)
		__atomic_add_fetch(&pre_call_failures, 1, __ATOMIC_RELAXED);
	JANUS_LOG(LOG_WARN, "[switchboard] agent: %s tool %s failed (%s): %s\n",
	          pre_call ? "pre-call" : purpose, tool, why,
	          pre_call ? "greeting with the defaults" : "the caller hears an apology");
}

/* HTTP thread: the outcome as a record of the call, and the answer. */
static void on_done(void *user, const sb_tool_outcome *out)
{
	sb_own_tool *c = user;
	sb_tool_outcome_count(out->status);
	json_t *record = json_pack("{s:s, s:O, s:s, s:i}", "tool", c->tool, "arguments",
	                           c->arguments, "status", sb_tool_status_name(out->status),
	                           "latency_ms", out->latency_ms);
	/* The record says who asked: not the model. */
	json_object_set_new(record, c->purpose, json_true());
	if (out->error)
		json_object_set_new(record, "error", json_string(out->error));
	if (out->http_status)
		json_object_set_new(record, "http_status", json_integer(out->http_status));
	if (out->status != SB_TOOL_OK)
		count_failure(c->purpose, c->tool,
		              out->error ? out->error : sb_tool_status_name(out->status));
	c->done(c->user, record, out->status == SB_TOOL_OK ? out->answer : NULL);
	json_decref(record);
}

sb_own_tool *sb_own_tool_start(const char *purpose, const char *tool_name, json_t *arguments,
                               json_t *call, sb_own_tool_done done, void *user)
{
	if (!tool_name || !*tool_name)
		return NULL;
	sb_toolset *set = sb_tools_current();
	const sb_tool *tool = sb_toolset_find(set, tool_name);
	if (!tool) {
		count_failure(purpose, tool_name, "no such tool is configured");
		sb_toolset_unref(set);
		return NULL;
	}
	sb_own_tool *c = g_new0(sb_own_tool, 1);
	c->done = done;
	c->user = user;
	c->tool = g_strdup(tool_name);
	c->purpose = g_strdup(purpose);
	c->timeout_ms = tool->timeout_ms;
	/* Ours, not a model's: not checked against the tool's schema. */
	c->arguments = json_incref(arguments);
	char *why = NULL;
	c->call = sb_tool_call_start(tool, c->arguments, call, on_done, c, &why);
	sb_toolset_unref(set); /* the call keeps what it needs */
	if (!c->call) {
		count_failure(purpose, tool_name, why ? why : "no request could be made");
		g_free(why);
		sb_own_tool_release(c);
		return NULL;
	}
	return c;
}

int sb_own_tool_timeout_ms(const sb_own_tool *c)
{
	return c->timeout_ms;
}

void sb_own_tool_release(sb_own_tool *c)
{
	if (!c)
		return;
	sb_tool_call_release(c->call);
	g_free(c->tool);
	g_free(c->purpose);
	json_decref(c->arguments);
	g_free(c);
}
