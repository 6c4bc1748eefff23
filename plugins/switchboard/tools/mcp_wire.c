/* The MCP wire format, without I/O: JSON-RPC 2.0 requests, reading the
 * one response a request is waiting for out of a JSON body or an SSE
 * stream (the Streamable HTTP transport allows either), and turning
 * tools/list and tools/call results into what the rest of the tools
 * module deals in.  Everything a server sends is bounded and checked here,
 * so mcp.c only moves bytes. */
#include "tools/tools_private.h"

#include <string.h>

#include "net/net.h"

const char *const sb_mcp_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

char *sb_mcp_request_body(json_int_t id, const char *method, json_t *params, size_t *len)
{
	json_t *msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
	if (id >= 0)
		json_object_set_new(msg, "id", json_integer(id));
	if (params)
		json_object_set(msg, "params", params);
	char *dumped = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	char *body = g_strdup(dumped ? dumped : "{}");
	free(dumped);
	*len = strlen(body);
	return body;
}

/* ---- reading the response ---- */

struct sb_mcp_reader {
	json_int_t id;
	size_t max;
	bool event_stream;
	bool too_large;
	sb_sse_parser *sse; /* made on the first byte of an event stream */
	GString *body;      /* a JSON body */
	size_t seen;        /* bytes fed */
	json_t *response;   /* the message answering id, once found */
};

sb_mcp_reader *sb_mcp_reader_new(json_int_t id, size_t max_bytes)
{
	sb_mcp_reader *r = g_new0(sb_mcp_reader, 1);
	r->id = id;
	r->max = max_bytes;
	r->body = g_string_new(NULL);
	return r;
}

void sb_mcp_reader_free(sb_mcp_reader *r)
{
	if (!r)
		return;
	sb_sse_free(r->sse);
	g_string_free(r->body, TRUE);
	json_decref(r->response);
	g_free(r);
}

void sb_mcp_reader_content_type(sb_mcp_reader *r, const char *value)
{
	r->event_stream = value && g_ascii_strncasecmp(value, "text/event-stream", 17) == 0;
}

/* A response (has result or error) to our id; requests and notifications
 * of the server's, and responses to other ids, are not. */
static bool answers(const sb_mcp_reader *r, json_t *msg)
{
	json_t *id = json_object_get(msg, "id");
	return json_is_object(msg) && json_is_integer(id) && json_integer_value(id) == r->id &&
	       !json_object_get(msg, "method") &&
	       (json_object_get(msg, "result") || json_object_get(msg, "error"));
}

/* A message or a batch of them: keeps the response to our id. */
static void take(sb_mcp_reader *r, json_t *parsed)
{
	if (json_is_array(parsed)) {
		size_t i;
		json_t *m;
		json_array_foreach(parsed, i, m) if (!r->response && answers(r, m)) r->response =
		        json_incref(m);
	} else if (answers(r, parsed)) {
		r->response = json_incref(parsed);
	}
}

static bool on_event(void *user, const char *event, const char *data, size_t len, const char *id)
{
	(void)id;
	sb_mcp_reader *r = user;
	if (strcmp(event, "message") != 0 || len == 0)
		return true; /* other events, and the empty priming event */
	json_t *parsed = json_loadb(data, len, 0, NULL);
	take(r, parsed);
	json_decref(parsed);
	return r->response == NULL;
}

bool sb_mcp_reader_feed(sb_mcp_reader *r, const char *data, size_t len)
{
	if (r->response || r->too_large)
		return false;
	if (r->seen + len > r->max) {
		r->too_large = true;
		return false; /* a body without end costs max bytes, no more */
	}
	r->seen += len;
	if (!r->event_stream) {
		g_string_append_len(r->body, data, (gssize)len);
		return true;
	}
	if (!r->sse)
		r->sse = sb_sse_new(on_event, r);
	return sb_sse_feed(r->sse, data, len);
}

bool sb_mcp_reader_found(const sb_mcp_reader *r)
{
	return r->response != NULL;
}

bool sb_mcp_reader_too_large(const sb_mcp_reader *r)
{
	return r->too_large;
}

sb_tool_status sb_mcp_reader_finish(sb_mcp_reader *r, json_t **result, char **why)
{
	*result = NULL;
	if (r->too_large) {
		*why = g_strdup_printf("the answer is larger than %zu bytes", r->max);
		return SB_TOOL_BAD_REPLY;
	}
	if (!r->response && !r->event_stream && r->body->len) {
		json_t *parsed = json_loadb(r->body->str, r->body->len, 0, NULL);
		take(r, parsed);
		json_decref(parsed);
	}
	if (!r->response) {
		const char *broke = r->sse ? sb_sse_error(r->sse) : NULL;
		*why = broke ? g_strdup_printf("the event stream broke: %s", broke)
		       : r->event_stream
		               ? g_strdup("the event stream ended without the answer")
		               : g_strdup("the answer is not a JSON-RPC response to the request");
		return SB_TOOL_BAD_REPLY;
	}
	json_t *error = json_object_get(r->response, "error");
	if (error) {
		const char *message = json_string_value(json_object_get(error, "message"));
		*why = g_strdup_printf(
		        "JSON-RPC error %lld: %.300s",
		        (long long)json_integer_value(json_object_get(error, "code")),
		        message ? message : "(no message)");
		return SB_TOOL_TOOL_ERROR;
	}
	json_t *res = json_object_get(r->response, "result");
	if (!json_is_object(res)) {
		*why = g_strdup("the JSON-RPC result is not an object");
		return SB_TOOL_BAD_REPLY;
	}
	*result = json_incref(res);
	return SB_TOOL_OK;
}

/* ---- results ---- */

const char *sb_mcp_negotiated(json_t *result, char **why)
{
	const char *version = json_string_value(json_object_get(result, "protocolVersion"));
	for (const char *const *v = sb_mcp_versions; version && *v; v++)
		if (!strcmp(version, *v))
			return version;
	*why = g_strdup_printf("it speaks protocol version %.40s, not one of %s, %s, %s",
	                       version ? version : "(none)", sb_mcp_versions[0], sb_mcp_versions[1],
	                       sb_mcp_versions[2]);
	return NULL;
}

/* {name, mcp_name, description, parameters} of one listed tool, or NULL
 * with *why. */
static json_t *accept_tool(json_t *tool, const char *server, char **why)
{
	const char *name = json_string_value(json_object_get(tool, "name"));
	char *full = g_strdup_printf("%s__%s", server, name ? name : "");
	json_t *schema = json_object_get(tool, "inputSchema");
	const char *description = json_string_value(json_object_get(tool, "description"));
	const char *title = json_string_value(json_object_get(tool, "title"));
	char *schema_why = NULL;
	json_t *out = NULL;
	if (!sb_tools_valid_name(name, SB_TOOL_NAME_MAX) ||
	    !sb_tools_valid_name(full, SB_TOOL_NAME_MAX))
		*why = g_strdup_printf("its name must be a-z A-Z 0-9 _ - and \"%s__<name>\" at "
		                       "most %d characters",
		                       server, SB_TOOL_NAME_MAX);
	else if (!schema)
		*why = g_strdup("it has no inputSchema");
	else if (!sb_schema_check(schema, &schema_why))
		*why = g_strdup_printf("inputSchema: %s", schema_why);
	else
		out = json_pack("{s:s, s:s, s:s, s:O}", "name", full, "mcp_name", name,
		                "description",
		                description && *description ? description
		                : title                     ? title
		                                            : name,
		                "parameters", schema);
	g_free(schema_why);
	g_free(full);
	return out;
}

bool sb_mcp_list_page(json_t *result, const char *server, json_t *accepted, size_t cap,
                      GPtrArray *problems, char **cursor, char **error)
{
	*cursor = NULL;
	json_t *tools = json_object_get(result, "tools");
	if (!json_is_array(tools)) {
		*error = g_strdup("the tools/list result has no \"tools\" array");
		return false;
	}
	size_t i;
	json_t *tool;
	size_t over = 0;
	json_array_foreach(tools, i, tool)
	{
		const char *name = json_string_value(json_object_get(tool, "name"));
		char *why = NULL;
		json_t *ok = json_is_object(tool) ? accept_tool(tool, server, &why) : NULL;
		if (ok && json_array_size(accepted) >= cap) {
			over++;
			json_decref(ok);
			continue;
		}
		if (ok) {
			json_array_append_new(accepted, ok);
			continue;
		}
		g_ptr_array_add(problems,
		                g_strdup_printf("tool \"%.64s\" skipped: %s", name ? name : "?",
		                                why ? why : "it is not an object"));
		g_free(why);
	}
	if (over)
		g_ptr_array_add(problems, g_strdup_printf("%zu more tools skipped: %zu at most per "
		                                          "server",
		                                          over, cap));
	const char *next = json_string_value(json_object_get(result, "nextCursor"));
	if (next && *next)
		*cursor = g_strdup(next);
	return true;
}

json_t *sb_mcp_call_answer(json_t *result, bool *is_error, char **why)
{
	json_t *content = json_object_get(result, "content");
	if (!json_is_array(content)) {
		*why = g_strdup("the tools/call result has no \"content\" array");
		return NULL;
	}
	GString *text = g_string_new(NULL);
	size_t i;
	json_t *part;
	json_array_foreach(content, i, part)
	{
		const char *type = json_string_value(json_object_get(part, "type"));
		const char *s = json_string_value(json_object_get(part, "text"));
		if (text->len)
			g_string_append_c(text, '\n');
		if (!g_strcmp0(type, "text") && s)
			g_string_append(text, s);
		else /* an image, audio, a resource: the model cannot hear it */
			g_string_append_printf(text, "[%.32s]", type ? type : "?");
	}
	*is_error = json_is_true(json_object_get(result, "isError"));
	json_t *answer = json_pack("{s:s%}", "content", text->str, text->len);
	g_string_free(text, TRUE);
	json_t *structured = json_object_get(result, "structuredContent");
	if (json_is_object(structured))
		json_object_set(answer, "structured", structured);
	return answer;
}
