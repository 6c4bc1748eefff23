/* LLM: Anthropic Messages API with streaming, type "anthropic".
 *
 * POST {base_url}/messages (default https://api.anthropic.com/v1) with
 * x-api-key and anthropic-version: 2023-06-01; body {model, max_tokens,
 * stream: true, system, messages, tools: [{name, description,
 * input_schema}]}.  The reply is an SSE stream whose events carry a
 * matching "type": message_start, content_block_start (content_block
 * text or tool_use {id, name, input}), content_block_delta (text_delta
 * {text} or input_json_delta {partial_json}), content_block_stop,
 * message_delta, message_stop, ping, and error {error: {type, message}}.
 * Text deltas are streamed; a tool_use block's JSON pieces are joined and
 * delivered as a tool event at its content_block_stop.  The request's life
 * is http_stream.c's; this file makes the request and reads the reply. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "providers/providers_private.h"

#define API_VERSION "2023-06-01"

typedef struct block {
	int index;
	bool tool;
	GString *id;
	GString *name;
	GString *json;
	json_t *input; /* from content_block_start, used when no delta came */
} block;

struct sb_llm_call {
	sb_llm_reply reply; /* first: the request; ended at message_stop */
	GPtrArray *blocks;  /* block* */
};

static void block_free(gpointer p)
{
	block *b = p;
	g_string_free(b->id, TRUE);
	g_string_free(b->name, TRUE);
	g_string_free(b->json, TRUE);
	json_decref(b->input);
	g_free(b);
}

static void call_clear(sb_http_stream *st)
{
	g_ptr_array_free(((sb_llm_call *)st)->blocks, TRUE);
}

static block *find_block(sb_llm_call *c, int index)
{
	for (guint i = 0; i < c->blocks->len; i++) {
		block *b = c->blocks->pdata[i];
		if (b->index == index)
			return b;
	}
	return NULL;
}

static void block_start(sb_llm_call *c, int index, json_t *cb)
{
	const char *type = json_string_value(json_object_get(cb, "type"));
	if (!type)
		return;
	if (strcmp(type, "text") == 0) {
		sb_llm_reply_text(&c->reply, json_object_get(cb, "text"));
		return;
	}
	if (strcmp(type, "tool_use") != 0)
		return; /* thinking and other blocks are not spoken */
	block *b = g_new0(block, 1);
	b->index = index;
	b->tool = true;
	b->id = g_string_new(json_string_value(json_object_get(cb, "id")));
	b->name = g_string_new(json_string_value(json_object_get(cb, "name")));
	b->json = g_string_new(NULL);
	json_t *input = json_object_get(cb, "input");
	b->input = json_is_object(input) ? json_incref(input) : NULL;
	g_ptr_array_add(c->blocks, b);
}

static void block_stop(sb_llm_call *c, int index)
{
	block *b = find_block(c, index);
	if (!b || !b->tool || b->name->len == 0)
		return;
	json_t *args = b->json->len ? json_loadb(b->json->str, b->json->len, 0, NULL)
	                            : (b->input ? json_incref(b->input) : NULL);
	sb_llm_reply_tool(&c->reply, b->id->str, b->name->str, args);
	g_ptr_array_remove(c->blocks, b);
}

static bool on_event(sb_http_stream *st, const char *event, const char *data, size_t len)
{
	sb_llm_call *c = (sb_llm_call *)st;
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(root)) {
		sb_http_stream_fail(st, g_strdup_printf("bad JSON in the stream: %s", jerr.text));
		json_decref(root);
		return false;
	}
	const char *type = json_string_value(json_object_get(root, "type"));
	if (!type)
		type = event;
	json_t *index_v = json_object_get(root, "index");
	int index = json_is_integer(index_v) ? (int)json_integer_value(index_v) : -1;
	bool more = true;
	if (strcmp(type, "content_block_start") == 0) {
		block_start(c, index, json_object_get(root, "content_block"));
	} else if (strcmp(type, "content_block_delta") == 0) {
		json_t *delta = json_object_get(root, "delta");
		const char *dt = json_string_value(json_object_get(delta, "type"));
		if (dt && strcmp(dt, "text_delta") == 0) {
			sb_llm_reply_text(&c->reply, json_object_get(delta, "text"));
		} else if (dt && strcmp(dt, "input_json_delta") == 0) {
			block *b = find_block(c, index);
			const char *piece =
			        json_string_value(json_object_get(delta, "partial_json"));
			if (b && piece)
				g_string_append(b->json, piece);
		}
	} else if (strcmp(type, "content_block_stop") == 0) {
		block_stop(c, index);
	} else if (strcmp(type, "message_stop") == 0) {
		st->ended = true;
		more = false;
	} else if (strcmp(type, "error") == 0) {
		json_t *err = json_object_get(root, "error");
		const char *et = json_string_value(json_object_get(err, "type"));
		const char *m = sb_json_error_message(root);
		if (m == et)
			m = NULL;
		sb_http_stream_fail(st, g_strdup_printf("stream error: %s%s%s", et ? et : "",
		                                        et && m ? ": " : "",
		                                        m ? m : (et ? "" : "(no message)")));
		more = false;
	}
	/* message_start, message_delta, ping: nothing to do. */
	json_decref(root);
	return more;
}

static char *on_finish(sb_http_stream *st)
{
	sb_llm_call *c = (sb_llm_call *)st;
	if (sb_sse_events(st->sse) == 0 && !c->reply.got_text)
		return g_strdup("bad reply: not an event stream");
	return sb_llm_reply_empty(&c->reply);
}

static const sb_http_stream_ops stream_ops = {
        .event = on_event, .finish = on_finish, .clear = call_clear};

/* Content as blocks: a string becomes one text block (none when empty). */
static json_t *as_blocks(json_t *content)
{
	if (json_is_array(content))
		return json_incref(content);
	json_t *blocks = json_array();
	if (json_string_length(content))
		json_array_append_new(blocks, json_pack("{s:s, s:O}", "type", "text", "text", content));
	return blocks;
}

/* A tool round in Anthropic's shape: the assistant's tool_use blocks, and
 * the results as tool_result blocks of a user turn.  NULL: a plain turn. */
static json_t *tool_content(json_t *m, const char **role)
{
	if (json_object_get(m, "tool_calls")) {
		json_t *blocks = as_blocks(json_object_get(m, "content"));
		size_t i;
		json_t *tc;
		json_array_foreach(json_object_get(m, "tool_calls"), i, tc)
		{
			json_array_append_new(blocks, json_pack("{s:s, s:O, s:O, s:O}", "type",
			                                        "tool_use", "id", json_object_get(tc, "id"),
			                                        "name", json_object_get(tc, "name"),
			                                        "input", json_object_get(tc, "arguments")));
		}
		*role = "assistant";
		return blocks;
	}
	if (strcmp(*role, "tool") == 0) {
		*role = "user";
		return json_pack("[{s:s, s:O, s:O}]", "type", "tool_result", "tool_use_id",
		                 json_object_get(m, "tool_call_id"), "content",
		                 json_object_get(m, "content"));
	}
	return NULL;
}

/* Two turns of one role in a row become one (texts joined by a line). */
static void merge_into(json_t *last, json_t *content)
{
	json_t *before = json_object_get(last, "content");
	if (json_is_string(before) && json_is_string(content)) {
		char *joined = g_strdup_printf("%s\n%s", json_string_value(before),
		                               json_string_value(content));
		json_object_set_new(last, "content", json_string(joined));
		g_free(joined);
		return;
	}
	json_t *blocks = as_blocks(before);
	json_t *more = as_blocks(content);
	json_array_extend(blocks, more);
	json_decref(more);
	json_object_set_new(last, "content", blocks);
}

/* Anthropic wants user/assistant turns that start with the user. */
static json_t *build_messages(const sb_llm_request *req)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(req->messages, i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		json_t *text = json_object_get(m, "content");
		if (!role || !json_is_string(text))
			continue;
		json_t *blocks = tool_content(m, &role);
		json_t *content = blocks ? blocks : json_incref(text);
		if (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0) {
			json_decref(content);
			continue;
		}
		json_t *last = json_array_get(out, json_array_size(out) - 1);
		if (last && strcmp(json_string_value(json_object_get(last, "role")), role) == 0) {
			merge_into(last, content);
			json_decref(content);
			continue;
		}
		if (json_array_size(out) == 0 && strcmp(role, "assistant") == 0)
			json_array_append_new(out, json_pack("{s:s, s:s}", "role", "user",
			                                     "content", "(The call has started.)"));
		json_array_append_new(out, json_pack("{s:s, s:o}", "role", role, "content", content));
	}
	if (json_array_size(out) == 0)
		json_array_append_new(out, json_pack("{s:s, s:s}", "role", "user", "content",
		                                     "(The call has started.)"));
	return out;
}

static json_t *tool_shape(json_t *name, json_t *description, json_t *schema)
{
	return json_pack("{s:O, s:O, s:O}", "name", name, "description", description,
	                 "input_schema", schema);
}

static json_t *build_body(const sb_provider_config *cfg, const sb_llm_request *req)
{
	json_t *body = json_pack("{s:s, s:i, s:b, s:o}", "model",
	                         cfg->model ? cfg->model : "claude-haiku-4-5", "max_tokens",
	                         sb_cfg_int(cfg, "max_tokens", 1024), "stream", 1, "messages",
	                         build_messages(req));
	if (req->system_prompt && *req->system_prompt)
		json_object_set_new(body, "system", json_string(req->system_prompt));
	double d;
	if (sb_cfg_double(cfg, "temperature", &d))
		json_object_set_new(body, "temperature", json_real(d));
	if (req->tools)
		json_object_set_new(body, "tools", sb_llm_tools(req, tool_shape));
	return body;
}

static sb_llm_call *anthropic_start(const sb_provider_config *cfg, const sb_llm_request *req,
                                    const sb_llm_events *events, void *user, char **error)
{
	if (!cfg || !cfg->base_url || !req || !events) {
		if (error)
			*error = g_strdup("anthropic: no base_url");
		return NULL;
	}
	char *key = cfg->api_key ? g_strdup_printf("x-api-key: %s", cfg->api_key) : NULL;
	const char *headers[] = {"Content-Type: application/json", "Accept: text/event-stream",
	                         "anthropic-version: " API_VERSION, key, NULL};
	sb_llm_call *c = g_new0(sb_llm_call, 1);
	c->blocks = g_ptr_array_new_with_free_func(block_free);
	bool ok = sb_llm_reply_start(&c->reply, &stream_ops, cfg, "messages", build_body(cfg, req),
	                             headers, events, user, error);
	g_free(key);
	return ok ? c : NULL;
}

static void anthropic_release(sb_llm_call *c)
{
	sb_http_stream_release(c ? &c->reply.http : NULL);
}

const sb_llm_provider sb_llm_anthropic = {
        .type = "anthropic",
        .start = anthropic_start,
        .release = anthropic_release,
};
