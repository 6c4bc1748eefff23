/* One tool call: a signed POST on net's HTTP thread, bounded in time and
 * size, whose every way of failing becomes an outcome the model can be
 * told ("timeout", "http_error" …) — never a hang. */
#include "tools/tools_private.h"

#include <string.h>

#include "net/net.h"

struct sb_tool_call {
	sb_mcp_call *mcp; /* an MCP tool's call: the rest is unused */
	sb_fetch_request *req;
	sb_tool_done done;
	void *user;
	GString *body; /* the answer, up to SB_TOOL_MAX_ANSWER */
	long status;
	bool too_large;
	gint64 started_us;
};

static unsigned long long outcomes[SB_TOOL_STATUS_COUNT];

void sb_tool_outcome_count(sb_tool_status status)
{
	if ((size_t)status < SB_TOOL_STATUS_COUNT)
		__atomic_add_fetch(&outcomes[status], 1, __ATOMIC_RELAXED);
}

unsigned long long sb_tool_outcomes(sb_tool_status status)
{
	return (size_t)status < SB_TOOL_STATUS_COUNT
	               ? __atomic_load_n(&outcomes[status], __ATOMIC_RELAXED)
	               : 0;
}

const char *sb_tool_status_name(sb_tool_status status)
{
	static const char *const names[] = {"ok",      "invalid_arguments", "unknown_tool",
	                                    "timeout", "http_error",        "bad_reply",
	                                    "failed",  "cancelled",         "tool_error"};
	return (size_t)status < G_N_ELEMENTS(names) ? names[status] : "failed";
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	sb_tool_call *c = user;
	c->status = status;
	if (c->body->len + len > SB_TOOL_MAX_ANSWER) {
		c->too_large = true;
		return false; /* stops the transfer: a 50 MB answer costs 64 KiB */
	}
	g_string_append_len(c->body, data, (gssize)len);
	return true;
}

/* What the answer says, as an outcome; *answer set when it is one. */
static sb_tool_status judge(sb_tool_call *c, long status, const char *error, json_t **answer,
                            char **why)
{
	if (c->too_large) {
		*why = g_strdup_printf("the answer is larger than %d bytes", SB_TOOL_MAX_ANSWER);
		return SB_TOOL_BAD_REPLY;
	}
	if (error) {
		*why = g_strdup(error);
		return strstr(error, "timed out") ? SB_TOOL_TIMEOUT : SB_TOOL_FAILED;
	}
	if (status < 200 || status > 299) {
		*why = g_strdup_printf("HTTP %ld", status);
		return SB_TOOL_HTTP_ERROR;
	}
	json_t *root = json_loadb(c->body->str, c->body->len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		*why = g_strdup("the answer is not a JSON object");
		return SB_TOOL_BAD_REPLY;
	}
	*answer = root;
	return SB_TOOL_OK;
}

static void on_done(void *user, long status, const char *error)
{
	sb_tool_call *c = user;
	json_t *answer = NULL;
	char *why = NULL;
	sb_tool_outcome out = {0};
	out.status = judge(c, status ? status : c->status, error, &answer, &why);
	out.http_status = status ? status : c->status;
	out.answer = answer;
	out.error = why;
	out.latency_ms = (int)((g_get_monotonic_time() - c->started_us) / 1000);
	c->done(c->user, &out);
	json_decref(answer);
	g_free(why);
}

static char *request_body(const sb_tool *tool, json_t *arguments, json_t *call, size_t *len)
{
	json_t *body = json_pack("{s:s, s:O, s:O}", "tool", tool->name, "arguments", arguments,
	                         "call", json_is_object(call) ? call : json_object());
	char *s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	*len = s ? strlen(s) : 0;
	return s;
}

/* An MCP server's tool: the same operation over another transport. */
static sb_tool_call *mcp_call_start(const sb_tool *tool, json_t *arguments, json_t *call,
                                    sb_tool_done done, void *user, char **error)
{
	sb_mcp_call *mcp = sb_mcp_call_start(tool, arguments, call, done, user, error);
	if (!mcp)
		return NULL;
	sb_tool_call *c = g_new0(sb_tool_call, 1);
	c->mcp = mcp;
	return c;
}

sb_tool_call *sb_tool_call_start(const sb_tool *tool, json_t *arguments, json_t *call,
                                 sb_tool_done done, void *user, char **error)
{
	if (tool->mcp)
		return mcp_call_start(tool, arguments, call, done, user, error);
	size_t len = 0;
	char *body = request_body(tool, arguments, call, &len);
	if (!body) {
		*error = g_strdup("the request could not be written");
		return NULL;
	}
	GPtrArray *headers = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(headers, g_strdup("Content-Type: application/json"));
	g_ptr_array_add(headers, g_strdup("Accept: application/json"));
	g_ptr_array_add(headers, g_strdup_printf("X-Switchboard-Tool: %s", tool->name));
	if (tool->secret) {
		char *sig = sb_tool_signature(tool->secret, body, len);
		g_ptr_array_add(headers, g_strdup_printf("X-Switchboard-Signature: %s", sig));
		g_free(sig);
	}
	for (char **h = tool->headers; h && *h; h++)
		g_ptr_array_add(headers, g_strdup(*h));
	g_ptr_array_add(headers, NULL);
	sb_tool_call *c = g_new0(sb_tool_call, 1);
	c->done = done;
	c->user = user;
	c->body = g_string_new(NULL);
	c->started_us = g_get_monotonic_time();
	sb_fetch_options opt = {
	        .method = tool->method,
	        .url = tool->url,
	        .headers = (const char *const *)headers->pdata,
	        .body = body,
	        .body_len = len,
	        .connect_timeout_ms = tool->timeout_ms,
	        .total_timeout_ms = tool->timeout_ms,
	};
	static const sb_fetch_callbacks callbacks = {.body = on_body, .done = on_done};
	c->req = sb_fetch_submit(&opt, &callbacks, c, error);
	g_ptr_array_free(headers, TRUE);
	g_free(body);
	if (!c->req) {
		g_string_free(c->body, TRUE);
		g_free(c);
		return NULL;
	}
	return c;
}

void sb_tool_call_release(sb_tool_call *c)
{
	if (!c)
		return;
	if (c->mcp) {
		sb_mcp_call_release(c->mcp); /* no callback after this */
		g_free(c);
		return;
	}
	sb_fetch_release(c->req); /* no callback after this */
	g_string_free(c->body, TRUE);
	g_free(c);
}
