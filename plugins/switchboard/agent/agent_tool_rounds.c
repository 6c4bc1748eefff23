/* The business's tools the model calls in the middle of an answer: the
 * rounds of calls, their checks and outcomes (agent_pipeline.h). */
#include "agent/agent_pipeline.h"

#include <string.h>

#include <debug.h>

#include "menus/menus.h"

void sb_pipe_tool_run_free(tool_run *r)
{
	sb_tool_call_release(r->call); /* no done after this */
	g_free(r->id);
	g_free(r->name);
	json_decref(r->arguments);
	json_decref(r->result);
	json_decref(r->record);
	g_free(r);
}

/* HTTP thread: hands the outcome to the agent thread. */
static void tool_done(void *user, const sb_tool_outcome *out)
{
	tool_run *r = user;
	json_t *o = json_pack("{s:i, s:i, s:I}", "status", (int)out->status, "latency_ms",
	                      out->latency_ms, "http_status", (json_int_t)out->http_status);
	if (out->answer)
		json_object_set(o, "answer", out->answer);
	if (out->error)
		json_object_set_new(o, "error", json_string(out->error));
	sb_pipe_post(&r->ctx, SB_PIPE_RAW_TOOL_DONE, r->id, NULL, NULL, 0, o);
	json_decref(o);
}

/* What the model is told, and the record of the call. */
static void settle(tool_run *r, sb_tool_status status, const char *error, json_t *answer,
                   int latency_ms, long http_status)
{
	const char *name = sb_tool_status_name(status);
	sb_tool_outcome_count(status);
	if (status == SB_TOOL_OK && json_is_object(answer)) {
		r->result = json_incref(answer);
	} else {
		char *why = g_strdup_printf("%s: %s", name, error ? error : name);
		r->result = json_pack("{s:s, s:s}", "status", name, "error", why);
		g_free(why);
	}
	r->record = json_pack("{s:s, s:s, s:O, s:s, s:i}", "id", r->id, "tool", r->name,
	                      "arguments", r->arguments, "status", name, "latency_ms", latency_ms);
	if (error)
		json_object_set_new(r->record, "error", json_string(error));
	if (http_status)
		json_object_set_new(r->record, "http_status", json_integer(http_status));
}

static bool offered(sb_pipeline *p, const char *name)
{
	size_t i;
	json_t *f;
	json_array_foreach(p->functions, i, f)
	{
		if (!g_strcmp0(json_string_value(json_object_get(f, "name")), name))
			return true;
	}
	return false;
}

/* Starts one call, or settles it at once when it may not be made. */
static const char *start_tool(sb_pipeline *p, tool_run *r, guint index)
{
	const sb_tool *tool = offered(p, r->name) ? sb_toolset_find(p->toolset, r->name) : NULL;
	char *why = NULL;
	bool gather = offered(p, r->name) && !strcmp(r->name, SB_GATHER_TOOL);
	if (index >= MAX_TOOL_CALLS) {
		settle(r, SB_TOOL_FAILED, "too many tool calls in one turn", NULL, 0, 0);
	} else if (gather && !sb_menu_check(r->arguments, false, &why)) {
		settle(r, SB_TOOL_INVALID_ARGUMENTS, why, NULL, 0, 0);
	} else if (gather) {
		/* Answered by sb_pipeline_tool_result once the caller has. */
		r->started_us = g_get_monotonic_time();
		sb_pipe_emit(p, SB_PIPE_GATHER, r->id, NULL, NULL, 0, r->arguments);
	} else if (!tool) {
		settle(r, SB_TOOL_UNKNOWN, "there is no such tool", NULL, 0, 0);
	} else if (!sb_schema_validate(tool->parameters, r->arguments, &why)) {
		settle(r, SB_TOOL_INVALID_ARGUMENTS, why, NULL, 0, 0); /* never sent */
	} else if (!(r->call = sb_tool_call_start(tool, r->arguments, p->call_info, tool_done, r,
	                                          &why))) {
		settle(r, SB_TOOL_FAILED, why, NULL, 0, 0);
	} else {
		return tool->say_while_waiting;
	}
	g_free(why);
	return NULL;
}

static bool tools_pending(sb_pipeline *p)
{
	for (guint i = 0; i < p->runs->len; i++)
		if (!((tool_run *)p->runs->pdata[i])->record)
			return true;
	return false;
}

/* Every call of the round has its outcome: into the history and the
 * records; the runs are over. */
static void close_round(sb_pipeline *p)
{
	for (guint i = 0; i < p->runs->len; i++) {
		tool_run *r = p->runs->pdata[i];
		char *content = json_dumps(r->result, JSON_COMPACT);
		json_array_append_new(p->history, json_pack("{s:s, s:s, s:s, s:s}", "role", "tool",
		                                            "tool_call_id", r->id, "name", r->name,
		                                            "content", content ? content : "{}"));
		free(content);
		sb_pipe_emit(p, SB_PIPE_TOOL_CALLED, r->name, NULL, NULL, 0, r->record);
		sb_pipe_tool_run_free(r);
	}
	g_ptr_array_set_size(p->runs, 0);
}

static void after_tools(sb_pipeline *p)
{
	if (tools_pending(p))
		return;
	close_round(p);
	sb_pipe_start_llm(p);
}

/* An id of the model's, or ours when it gave none (or one already used). */
static char *call_id(sb_pipeline *p, json_t *want, size_t index)
{
	const char *id = json_string_value(json_object_get(want, "id"));
	for (guint i = 0; id && *id && i < p->runs->len; i++)
		if (!strcmp(((tool_run *)p->runs->pdata[i])->id, id))
			id = NULL;
	if (id && *id)
		return g_strdup(id);
	return g_strdup_printf("call_%u_%d_%zu", p->generation, p->tool_rounds, index);
}

bool sb_pipe_tools_run(sb_pipeline *p)
{
	json_t *wanted = p->wanted;
	p->wanted = json_array();
	if (p->tool_rounds >= MAX_TOOL_ROUNDS) {
		JANUS_LOG(LOG_WARN,
		          "[switchboard] agent in %s: the model kept calling tools (%d rounds)\n",
		          p->room, MAX_TOOL_ROUNDS);
		json_decref(wanted);
		if (!p->reply->len) {
			p->llm_error = g_strdup("the model kept calling tools");
			g_string_assign(p->reply, p->apology);
			sb_pipe_queue_sentence(p, p->apology);
		}
		return false;
	}
	p->tool_rounds++;
	json_t *calls = json_array();
	size_t i;
	json_t *want;
	json_array_foreach(wanted, i, want)
	{
		tool_run *r = g_new0(tool_run, 1);
		r->ctx.p = p;
		r->ctx.generation = p->generation;
		r->id = call_id(p, want, i);
		r->name = g_strdup(json_string_value(json_object_get(want, "name")));
		json_t *args = json_object_get(want, "arguments");
		r->arguments = json_is_object(args) ? json_incref(args) : json_object();
		g_ptr_array_add(p->runs, r);
		json_array_append_new(calls, json_pack("{s:s, s:s, s:O}", "id", r->id, "name",
		                                       r->name, "arguments", r->arguments));
	}
	json_decref(wanted);
	json_array_append_new(p->history,
	                      json_pack("{s:s, s:s, s:o}", "role", "assistant", "content",
	                                p->reply->str + p->round_start, "tool_calls", calls));
	const char *waiting = NULL;
	for (guint k = 0; k < p->runs->len; k++) {
		const char *say = start_tool(p, p->runs->pdata[k], k);
		waiting = waiting ? waiting : say;
	}
	if (waiting && p->reply->len == p->round_start) {
		/* Silence while a back end thinks sounds like a dropped call. */
		g_string_append_printf(p->reply, "%s%s", p->reply->len ? " " : "", waiting);
		sb_pipe_queue_sentence(p, waiting);
	}
	after_tools(p);
	return true;
}

void sb_pipe_tools_answered(sb_pipeline *p, sb_pipeline_event *raw)
{
	for (guint i = 0; i < p->runs->len; i++) {
		tool_run *r = p->runs->pdata[i];
		if (!r->call || g_strcmp0(r->id, raw->text) != 0)
			continue;
		sb_tool_call_release(r->call); /* done() was its last callback */
		r->call = NULL;
		json_t *o = raw->json;
		settle(r, (sb_tool_status)json_integer_value(json_object_get(o, "status")),
		       json_string_value(json_object_get(o, "error")), json_object_get(o, "answer"),
		       (int)json_integer_value(json_object_get(o, "latency_ms")),
		       (long)json_integer_value(json_object_get(o, "http_status")));
		after_tools(p);
		return;
	}
}

void sb_pipe_tools_cancel(sb_pipeline *p)
{
	json_array_clear(p->wanted);
	for (guint i = 0; i < p->runs->len; i++) {
		tool_run *r = p->runs->pdata[i];
		if (r->record)
			continue;
		sb_tool_call_release(r->call);
		r->call = NULL;
		settle(r, SB_TOOL_CANCELLED, "the caller spoke before it answered", NULL, 0, 0);
	}
	close_round(p);
}

bool sb_pipeline_tool_result(sb_pipeline *p, const char *id, json_t *outcome)
{
	for (guint i = 0; i < p->runs->len; i++) {
		tool_run *r = p->runs->pdata[i];
		if (r->record || r->call || !r->started_us || g_strcmp0(r->id, id) != 0)
			continue;
		int latency = (int)((g_get_monotonic_time() - r->started_us) / 1000);
		settle(r, SB_TOOL_OK, NULL, outcome, latency, 0);
		after_tools(p);
		return true;
	}
	return false;
}
