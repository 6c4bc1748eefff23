/* LLM: OpenAI-compatible chat completions with streaming (OpenAI, Groq,
 * Ollama, vLLM, llama.cpp server …), type "openai".
 *
 * POST {base_url}/chat/completions {model, stream: true, messages (system
 * first), tools?}; the reply is an SSE stream of chat.completion.chunk
 * objects: choices[0].delta.content is streamed as text events;
 * choices[0].delta.tool_calls[] fragments (index, id, function.name,
 * function.arguments pieces) are joined per index and delivered as tool
 * events at the end; "data: [DONE]" ends the stream.  HTTP errors carry
 * {"error": {"message"}}.  A server that ignores stream:true and answers
 * one chat.completion object is understood too.  The request's life is
 * http_stream.c's; this file makes the request and reads the reply. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "providers/providers_private.h"

#define MAX_RAW_BODY (256 * 1024)

typedef struct tool_acc {
	int index;
	GString *id;
	GString *name;
	GString *args;
} tool_acc;

struct sb_llm_call {
	sb_llm_reply reply; /* first: the request; ended at "data: [DONE]" */
	GString *raw;       /* the body while it does not look like SSE */
	GPtrArray *tools;   /* tool_acc* */
};

static void tool_acc_free(gpointer p)
{
	tool_acc *t = p;
	g_string_free(t->id, TRUE);
	g_string_free(t->name, TRUE);
	g_string_free(t->args, TRUE);
	g_free(t);
}

static void call_clear(sb_http_stream *st)
{
	sb_llm_call *c = (sb_llm_call *)st;
	g_string_free(c->raw, TRUE);
	g_ptr_array_free(c->tools, TRUE);
}

static tool_acc *tool_for(sb_llm_call *c, int index)
{
	for (guint i = 0; i < c->tools->len; i++) {
		tool_acc *t = c->tools->pdata[i];
		if (t->index == index)
			return t;
	}
	tool_acc *t = g_new0(tool_acc, 1);
	t->index = index;
	t->id = g_string_new(NULL);
	t->name = g_string_new(NULL);
	t->args = g_string_new(NULL);
	g_ptr_array_add(c->tools, t);
	return t;
}

static void take_tool_calls(sb_llm_call *c, json_t *calls)
{
	size_t i;
	json_t *tc;
	json_array_foreach(calls, i, tc)
	{
		json_t *idx = json_object_get(tc, "index");
		tool_acc *t =
		        tool_for(c, json_is_integer(idx) ? (int)json_integer_value(idx) : (int)i);
		json_t *id = json_object_get(tc, "id");
		if (json_is_string(id) && t->id->len == 0)
			g_string_assign(t->id, json_string_value(id));
		json_t *fn = json_object_get(tc, "function");
		json_t *name = json_object_get(fn, "name");
		if (json_is_string(name) && t->name->len == 0)
			g_string_assign(t->name, json_string_value(name));
		json_t *args = json_object_get(fn, "arguments");
		if (json_is_string(args))
			g_string_append(t->args, json_string_value(args));
		else if (json_is_object(args)) { /* some servers send an object */
			char *s = json_dumps(args, JSON_COMPACT);
			g_string_append(t->args, s);
			free(s);
		}
	}
}

static bool on_event(sb_http_stream *st, const char *event, const char *data, size_t len)
{
	(void)event;
	sb_llm_call *c = (sb_llm_call *)st;
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		st->ended = true;
		return false;
	}
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(root)) {
		sb_http_stream_fail(&c->reply.http,
		                    g_strdup_printf("bad JSON in the stream: %s", jerr.text));
		json_decref(root);
		return false;
	}
	json_t *err = json_object_get(root, "error");
	if (err) {
		const char *m = sb_json_error_message(root);
		sb_http_stream_fail(&c->reply.http,
		                    g_strdup_printf("stream error: %s", m ? m : "(no message)"));
		json_decref(root);
		return false;
	}
	json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
	json_t *delta = json_object_get(choice, "delta");
	if (json_is_object(delta)) {
		sb_llm_reply_text(&c->reply, json_object_get(delta, "content"));
		json_t *calls = json_object_get(delta, "tool_calls");
		if (json_is_array(calls))
			take_tool_calls(c, calls);
	}
	json_decref(root);
	return true;
}

/* Kept while no event came: a server may answer one chat.completion. */
static void on_body(sb_http_stream *st, const char *data, size_t len)
{
	sb_llm_call *c = (sb_llm_call *)st;
	if (sb_sse_events(st->sse) == 0 && c->raw->len < MAX_RAW_BODY)
		g_string_append_len(c->raw, data, (gssize)MIN(len, MAX_RAW_BODY));
}

/* A non-streamed chat.completion: {"choices":[{"message":{content,tool_calls}}]}. */
static void parse_whole(sb_llm_call *c)
{
	json_t *root = json_loadb(c->raw->str, c->raw->len, 0, NULL);
	json_t *msg =
	        json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
	if (json_is_object(msg)) {
		sb_llm_reply_text(&c->reply, json_object_get(msg, "content"));
		json_t *calls = json_object_get(msg, "tool_calls");
		if (json_is_array(calls))
			take_tool_calls(c, calls);
	} else if (c->raw->len > 0) {
		sb_http_stream_fail(
		        &c->reply.http,
		        g_strdup("bad reply: neither an event stream nor a chat completion"));
	}
	json_decref(root);
}

static void deliver_tools(sb_llm_call *c)
{
	for (guint i = 0; i < c->tools->len; i++) {
		tool_acc *t = c->tools->pdata[i];
		if (t->name->len == 0)
			continue;
		json_t *args =
		        t->args->len ? json_loadb(t->args->str, t->args->len, 0, NULL) : NULL;
		if (t->args->len && !json_is_object(args))
			g_debug("llm openai: tool %s: arguments are not a JSON object: %s",
			        t->name->str, t->args->str);
		sb_llm_reply_tool(&c->reply, t->id->str, t->name->str, args);
	}
}

/* The tools are whole only now. */
static char *on_finish(sb_http_stream *st)
{
	sb_llm_call *c = (sb_llm_call *)st;
	if (sb_sse_events(st->sse) == 0)
		parse_whole(c);
	if (st->error)
		return g_strdup(st->error);
	deliver_tools(c);
	return sb_llm_reply_empty(&c->reply);
}

static const sb_http_stream_ops stream_ops = {
        .body = on_body, .event = on_event, .finish = on_finish, .clear = call_clear};

static json_t *tool_shape(json_t *name, json_t *description, json_t *schema)
{
	return json_pack("{s:s, s:{s:O, s:O, s:O}}", "type", "function", "function", "name", name,
	                 "description", description, "parameters", schema);
}

/* An assistant turn that called tools: tool_calls with the arguments as
 * a JSON text, as the API wants them back. */
static json_t *assistant_calls(json_t *m)
{
	json_t *calls = json_array();
	size_t i;
	json_t *tc;
	json_array_foreach(json_object_get(m, "tool_calls"), i, tc)
	{
		char *args = json_dumps(json_object_get(tc, "arguments"), JSON_COMPACT);
		json_array_append_new(calls,
		                      json_pack("{s:O, s:s, s:{s:O, s:s}}", "id", json_object_get(tc, "id"),
		                                "type", "function", "function", "name",
		                                json_object_get(tc, "name"), "arguments",
		                                args ? args : "{}"));
		free(args);
	}
	const char *content = json_string_value(json_object_get(m, "content"));
	return json_pack("{s:s, s:o, s:o}", "role", "assistant", "content",
	                 content && *content ? json_string(content) : json_null(), "tool_calls",
	                 calls);
}

static json_t *message_of(json_t *m)
{
	json_t *role = json_object_get(m, "role");
	json_t *content = json_object_get(m, "content");
	if (!json_is_string(role) || !json_is_string(content))
		return NULL;
	if (json_object_get(m, "tool_calls"))
		return assistant_calls(m);
	if (!strcmp(json_string_value(role), "tool"))
		return json_pack("{s:s, s:O, s:O}", "role", "tool", "tool_call_id",
		                 json_object_get(m, "tool_call_id"), "content", content);
	return json_pack("{s:O, s:O}", "role", role, "content", content);
}

static json_t *build_body(const sb_provider_config *cfg, const sb_llm_request *req)
{
	json_t *msgs = json_array();
	if (req->system_prompt && *req->system_prompt)
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content",
		                                      req->system_prompt));
	size_t i;
	json_t *m;
	json_array_foreach(req->messages, i, m)
	{
		json_t *out = message_of(m);
		if (out)
			json_array_append_new(msgs, out);
	}
	json_t *body =
	        json_pack("{s:s, s:b, s:o}", "model", cfg->model ? cfg->model : "gpt-4o-mini",
	                  "stream", 1, "messages", msgs);
	double d;
	if (sb_cfg_double(cfg, "temperature", &d))
		json_object_set_new(body, "temperature", json_real(d));
	int max_tokens = sb_cfg_int(cfg, "max_tokens", 0);
	if (max_tokens > 0)
		json_object_set_new(body, "max_tokens", json_integer(max_tokens));
	if (req->tools)
		json_object_set_new(body, "tools", sb_llm_tools(req, tool_shape));
	return body;
}

static sb_llm_call *openai_start(const sb_provider_config *cfg, const sb_llm_request *req,
                                 const sb_llm_events *events, void *user, char **error)
{
	if (!cfg || !cfg->base_url || !req || !events) {
		if (error)
			*error = g_strdup("openai: no base_url");
		return NULL;
	}
	char *auth =
	        cfg->api_key ? g_strdup_printf("Authorization: Bearer %s", cfg->api_key) : NULL;
	const char *headers[] = {"Content-Type: application/json", "Accept: text/event-stream",
	                         auth, NULL};
	sb_llm_call *c = g_new0(sb_llm_call, 1);
	c->raw = g_string_new(NULL);
	c->tools = g_ptr_array_new_with_free_func(tool_acc_free);
	bool ok = sb_llm_reply_start(&c->reply, &stream_ops, cfg, "chat/completions",
	                             build_body(cfg, req), headers, events, user, error);
	g_free(auth);
	return ok ? c : NULL;
}

static void openai_release(sb_llm_call *c)
{
	sb_http_stream_release(c ? &c->reply.http : NULL);
}

const sb_llm_provider sb_llm_openai = {
        .type = "openai",
        .start = openai_start,
        .release = openai_release,
};
