/* The pre-call tool ([agent] pre_call_tool, or the room's agent config):
 * one of the business's tools (tools/tools.h), called once when the agent
 * joins a call and before it greets, with {"caller": {...}} — a CRM
 * lookup by the caller's number, typically.  The string members of its
 * answer's "variables" object join the call's context (room.h), so the
 * greeting can say the caller's name.
 *
 * It must never hold the call: the request goes out on net's HTTP thread
 * with the tool's own timeout, and whatever happens — down, slow, a 500,
 * garbage — done runs once and the agent greets with the defaults.  A
 * failure is logged and counted (switchboard_agent_pre_call_failures_total
 * and the tool calls' own counter). */
#include "agent/agent_private.h"

#include <debug.h>

#include "tools/tools.h"

struct sb_pre_call {
	sb_tool_call *call;
	sb_pre_call_done done;
	void *user;
	char *tool;
	json_t *arguments;
	int timeout_ms;
};

static guint64 failures;

unsigned long long sb_pre_call_failures(void)
{
	return __atomic_load_n(&failures, __ATOMIC_RELAXED);
}

static void count_failure(const char *tool, const char *why)
{
	__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
	JANUS_LOG(LOG_WARN,
	          "[switchboard] agent: pre-call tool %s failed (%s): greeting with the "
	          "defaults\n",
	          tool, why);
}

/* HTTP thread: the outcome as a record of the call and the variables. */
static void on_done(void *user, const sb_tool_outcome *out)
{
	sb_pre_call *c = user;
	sb_tool_outcome_count(out->status);
	json_t *record = json_pack("{s:s, s:O, s:s, s:i, s:b}", "tool", c->tool, "arguments",
	                           c->arguments, "status", sb_tool_status_name(out->status),
	                           "latency_ms", out->latency_ms, "pre_call", true);
	if (out->error)
		json_object_set_new(record, "error", json_string(out->error));
	if (out->http_status)
		json_object_set_new(record, "http_status", json_integer(out->http_status));
	json_t *variables = NULL;
	if (out->status != SB_TOOL_OK)
		count_failure(c->tool, out->error ? out->error : sb_tool_status_name(out->status));
	else if (!json_is_object(variables = json_object_get(out->answer, "variables")))
		JANUS_LOG(LOG_INFO,
		          "[switchboard] agent: pre-call tool %s answered no "
		          "\"variables\" object\n",
		          c->tool);
	c->done(c->user, record, json_is_object(variables) ? variables : NULL);
	json_decref(record);
}

sb_pre_call *sb_pre_call_start(const char *tool_name, json_t *caller, json_t *call,
                               sb_pre_call_done done, void *user)
{
	if (!tool_name || !*tool_name)
		return NULL;
	sb_toolset *set = sb_tools_current();
	const sb_tool *tool = sb_toolset_find(set, tool_name);
	if (!tool) {
		count_failure(tool_name, "no such tool is configured");
		sb_toolset_unref(set);
		return NULL;
	}
	sb_pre_call *c = g_new0(sb_pre_call, 1);
	c->done = done;
	c->user = user;
	c->tool = g_strdup(tool_name);
	c->timeout_ms = tool->timeout_ms;
	/* Ours, not a model's: not checked against the tool's schema. */
	c->arguments = json_pack("{s:O}", "caller", caller ? caller : json_null());
	char *why = NULL;
	c->call = sb_tool_call_start(tool, c->arguments, call, on_done, c, &why);
	sb_toolset_unref(set); /* the call keeps what it needs */
	if (!c->call) {
		count_failure(tool_name, why ? why : "no request could be made");
		g_free(why);
		sb_pre_call_release(c);
		return NULL;
	}
	return c;
}

int sb_pre_call_timeout_ms(const sb_pre_call *c)
{
	return c->timeout_ms;
}

void sb_pre_call_release(sb_pre_call *c)
{
	if (!c)
		return;
	sb_tool_call_release(c->call);
	g_free(c->tool);
	json_decref(c->arguments);
	g_free(c);
}
