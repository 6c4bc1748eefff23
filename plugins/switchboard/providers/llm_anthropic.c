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
 * delivered as a tool event at its content_block_stop. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "providers/providers_private.h"
#include "net/net.h"
#include "providers/providers.h"

#define MAX_ERROR_BODY (64 * 1024)
#define API_VERSION "2023-06-01"

typedef struct block {
	int index;
	bool tool;
	GString *name;
	GString *json;
	json_t *input; /* from content_block_start, used when no delta came */
} block;

struct sb_llm_call {
	gint ref;
	gint released;
	sb_llm_events ev;
	void *user;
	sb_fetch_request *req;
	sb_sse_parser *sse;
	GString *errbody;
	GPtrArray *blocks; /* block* */
	char *error;
	bool got_text;
	bool got_tool;
	bool stopped; /* message_stop seen */
};

static void block_free(gpointer p)
{
	block *b = p;
	g_string_free(b->name, TRUE);
	g_string_free(b->json, TRUE);
	json_decref(b->input);
	g_free(b);
}

static void call_unref(sb_llm_call *c)
{
	if (!g_atomic_int_dec_and_test(&c->ref))
		return;
	sb_sse_free(c->sse);
	g_string_free(c->errbody, TRUE);
	g_ptr_array_free(c->blocks, TRUE);
	g_free(c->error);
	g_free(c);
}

static bool alive(sb_llm_call *c)
{
	return !g_atomic_int_get(&c->released);
}

static void set_error(sb_llm_call *c, char *error)
{
	if (!c->error)
		c->error = error;
	else
		g_free(error);
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

static void text(sb_llm_call *c, json_t *value)
{
	const char *s = json_is_string(value) ? json_string_value(value) : NULL;
	if (!s || !*s)
		return;
	c->got_text = true;
	if (alive(c) && c->ev.text)
		c->ev.text(c->user, s);
}

static void block_start(sb_llm_call *c, int index, json_t *cb)
{
	const char *type = json_string_value(json_object_get(cb, "type"));
	if (!type)
		return;
	if (strcmp(type, "text") == 0) {
		text(c, json_object_get(cb, "text"));
		return;
	}
	if (strcmp(type, "tool_use") != 0)
		return; /* thinking and other blocks are not spoken */
	block *b = g_new0(block, 1);
	b->index = index;
	b->tool = true;
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
	if (!json_is_object(args)) {
		json_decref(args);
		args = json_object();
	}
	c->got_tool = true;
	if (alive(c) && c->ev.tool)
		c->ev.tool(c->user, b->name->str, args);
	json_decref(args);
	g_ptr_array_remove(c->blocks, b);
}

static bool on_event(void *user, const char *event, const char *data, size_t len, const char *id)
{
	(void)id;
	sb_llm_call *c = user;
	json_error_t jerr;
	json_t *root = json_loadb(data, len, 0, &jerr);
	if (!json_is_object(root)) {
		set_error(c, g_strdup_printf("bad JSON in the stream: %s", jerr.text));
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
			text(c, json_object_get(delta, "text"));
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
		c->stopped = true;
		more = false;
	} else if (strcmp(type, "error") == 0) {
		json_t *err = json_object_get(root, "error");
		const char *et = json_string_value(json_object_get(err, "type"));
		const char *m = sb_json_error_message(root);
		if (m == et)
			m = NULL;
		set_error(c,
		          g_strdup_printf("stream error: %s%s%s", et ? et : "", et && m ? ": " : "",
		                          m ? m : (et ? "" : "(no message)")));
		more = false;
	}
	/* message_start, message_delta, ping: nothing to do. */
	json_decref(root);
	return more && alive(c);
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	sb_llm_call *c = user;
	if (status < 200 || status >= 300) {
		if (c->errbody->len < MAX_ERROR_BODY)
			g_string_append_len(c->errbody, data, (gssize)MIN(len, MAX_ERROR_BODY));
		return true;
	}
	if (c->error || c->stopped)
		return true;
	g_atomic_int_inc(&c->ref);
	bool ok = sb_sse_feed(c->sse, data, len);
	if (!ok && !c->error && !c->stopped && sb_sse_error(c->sse))
		set_error(c, g_strdup_printf("bad event stream: %s", sb_sse_error(c->sse)));
	bool more = alive(c);
	call_unref(c);
	return more;
}

static void on_done(void *user, long status, const char *error)
{
	sb_llm_call *c = user;
	g_atomic_int_inc(&c->ref);
	char *err = NULL;
	if (status != 0 && (status < 200 || status >= 300))
		err = sb_fetch_error_text(status, c->errbody->str, c->errbody->len);
	else if (c->error)
		err = g_strdup(c->error);
	else if (error && !c->stopped)
		err = g_strdup_printf("request failed: %s", error);
	else if (sb_sse_events(c->sse) == 0 && !c->got_text)
		err = g_strdup("bad reply: not an event stream");
	else if (!c->got_text && !c->got_tool)
		err = g_strdup("empty reply");
	if (alive(c) && c->ev.done)
		c->ev.done(c->user, err);
	g_free(err);
	call_unref(c);
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
		const char *content = json_string_value(json_object_get(m, "content"));
		if (!role || !content ||
		    (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0))
			continue;
		json_t *last = json_array_get(out, json_array_size(out) - 1);
		if (last && strcmp(json_string_value(json_object_get(last, "role")), role) == 0) {
			char *joined = g_strdup_printf(
			        "%s\n%s", json_string_value(json_object_get(last, "content")),
			        content);
			json_object_set_new(last, "content", json_string(joined));
			g_free(joined);
			continue;
		}
		if (json_array_size(out) == 0 && strcmp(role, "assistant") == 0)
			json_array_append_new(out, json_pack("{s:s, s:s}", "role", "user",
			                                     "content", "(The call has started.)"));
		json_array_append_new(out,
		                      json_pack("{s:s, s:s}", "role", role, "content", content));
	}
	if (json_array_size(out) == 0)
		json_array_append_new(out, json_pack("{s:s, s:s}", "role", "user", "content",
		                                     "(The call has started.)"));
	return out;
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
	if (req->tools) {
		json_t *tools = json_array();
		json_t *specs = sb_llm_tool_specs();
		size_t i;
		json_t *spec;
		json_array_foreach(specs, i, spec)
		{
			json_array_append_new(
			        tools,
			        json_pack("{s:O, s:O, s:O}", "name", json_object_get(spec, "name"),
			                  "description", json_object_get(spec, "description"),
			                  "input_schema", json_object_get(spec, "schema")));
		}
		json_decref(specs);
		json_object_set_new(body, "tools", tools);
	}
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
	json_t *body = build_body(cfg, req);
	char *payload = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char *url = sb_url_join(cfg->base_url, "messages");
	char *key = cfg->api_key ? g_strdup_printf("x-api-key: %s", cfg->api_key) : NULL;
	const char *headers[] = {"Content-Type: application/json", "Accept: text/event-stream",
	                         "anthropic-version: " API_VERSION, key, NULL};
	sb_llm_call *c = g_new0(sb_llm_call, 1);
	c->ref = 1;
	c->ev = *events;
	c->user = user;
	c->sse = sb_sse_new(on_event, c);
	c->errbody = g_string_new(NULL);
	c->blocks = g_ptr_array_new_with_free_func(block_free);
	sb_fetch_options opt = sb_provider_stream_post(cfg, url, headers, payload);
	sb_fetch_callbacks cb = {.body = on_body, .done = on_done};
	c->req = sb_fetch_submit(&opt, &cb, c, error);
	free(payload);
	g_free(url);
	g_free(key);
	if (!c->req) {
		call_unref(c);
		return NULL;
	}
	return c;
}

static void anthropic_release(sb_llm_call *c)
{
	if (!c)
		return;
	g_atomic_int_set(&c->released, 1);
	sb_fetch_release(c->req);
	call_unref(c);
}

const sb_llm_provider sb_llm_anthropic = {
        .type = "anthropic",
        .start = anthropic_start,
        .release = anthropic_release,
};
