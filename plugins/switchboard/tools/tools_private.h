/* Inside the tools module (private interface): what its files share. */
#ifndef SB_TOOLS_TOOLS_PRIVATE_H
#define SB_TOOLS_TOOLS_PRIVATE_H

#include "tools/tools.h"

/* A config value: "env:NAME" reads the environment (NULL when unset or
 * empty), anything else is itself.  g_free. */
char *sb_tools_config_value(const char *value);

/* A name a model may be given (a tool's) or an operator gives (an MCP
 * server's): 1 to max of a-z A-Z 0-9 _ - (schema.c). */
bool sb_tools_valid_name(const char *name, size_t max);

/* ---- registry ---- */

/* A tool is shared by the sets that hold it (the set in force is remade
 * whenever an MCP server's list arrives). */
sb_tool *sb_tool_new(void); /* one reference */
sb_tool *sb_tool_ref(sb_tool *tool);
void sb_tool_unref(sb_tool *tool);
/* "Name: value" lines from {"Name": "value" | "env:VAR"} (borrowed; NULL:
 * none), NULL-terminated; NULL with *error on a bad name or value. */
char **sb_tools_header_lines(json_t *headers, char **error);
/* The MCP servers' tools (sb_tool*, borrowed; NULL: none) join the file's
 * in the set in force; a name already taken is skipped with a log line. */
void sb_tools_set_mcp_part(GPtrArray *tools);

/* ---- MCP wire format (mcp_wire.c: no I/O, unit-tested) ---- */

/* The versions of the protocol whose Streamable HTTP transport this
 * client speaks; the first is the one it asks for. */
extern const char *const sb_mcp_versions[];

/* A JSON-RPC 2.0 request ({"jsonrpc","id","method","params"}), or a
 * notification when id < 0.  params borrowed (NULL: none).  g_free. */
char *sb_mcp_request_body(json_int_t id, const char *method, json_t *params, size_t *len);

/* The answer to one request, read as it arrives: a JSON body (one
 * response, or a batch holding it) or an SSE stream whose `message`
 * events carry JSON-RPC messages (requests and notifications of the
 * server's are skipped; the response is the one whose id matches). */
typedef struct sb_mcp_reader sb_mcp_reader;
sb_mcp_reader *sb_mcp_reader_new(json_int_t id, size_t max_bytes);
void sb_mcp_reader_free(sb_mcp_reader *r);
/* From the Content-Type header: text/event-stream or not. */
void sb_mcp_reader_content_type(sb_mcp_reader *r, const char *value);
/* false: read no more (the response was found, or the body went over
 * max_bytes, or the stream broke). */
bool sb_mcp_reader_feed(sb_mcp_reader *r, const char *data, size_t len);
bool sb_mcp_reader_found(const sb_mcp_reader *r);
bool sb_mcp_reader_too_large(const sb_mcp_reader *r);
/* SB_TOOL_OK with *result (new reference); SB_TOOL_TOOL_ERROR when the
 * server answered a JSON-RPC error; SB_TOOL_BAD_REPLY when no response
 * to the request could be read.  *why (g_free) says what. */
sb_tool_status sb_mcp_reader_finish(sb_mcp_reader *r, json_t **result, char **why);

/* An initialize result: the protocolVersion the server chose when it is
 * one of sb_mcp_versions (borrowed from result), else NULL with *why. */
const char *sb_mcp_negotiated(json_t *result, char **why);

/* One tools/list page: each tool whose name, description and inputSchema
 * (tools/schema.c's subset) are usable is appended to accepted as
 * {name: "<server>__<tool>", mcp_name, description, parameters} until it
 * holds cap; each other one, and those over the cap, add a line to
 * problems (g_strdup'd).  *cursor: nextCursor (g_free) or NULL.  false
 * with *error when the result is not a tools/list result. */
bool sb_mcp_list_page(json_t *result, const char *server, json_t *accepted, size_t cap,
                      GPtrArray *problems, char **cursor, char **error);

/* A tools/call result as what the model is told: {"content": text parts
 * joined by newlines, "structured": structuredContent when an object}.
 * *is_error: the tool said it failed (its text is in content).  NULL
 * with *why when the result is not a CallToolResult. */
json_t *sb_mcp_call_answer(json_t *result, bool *is_error, char **why);

/* ---- MCP client (mcp.c) ---- */

/* A call of an MCP tool: tools/call on net's HTTP thread (tools.h, "the
 * call"), with the session re-initialized once on a 404. */
typedef struct sb_mcp_call sb_mcp_call;
/* call: what the tool learns of the call, sent as params._meta
 * "switchboard/call" (borrowed; NULL: nothing). */
sb_mcp_call *sb_mcp_call_start(const sb_tool *tool, json_t *arguments, json_t *call,
                               sb_tool_done done, void *user, char **error);
void sb_mcp_call_release(sb_mcp_call *c);
sb_mcp_server *sb_mcp_server_ref(sb_mcp_server *s);
void sb_mcp_server_unref(sb_mcp_server *s);

#endif
