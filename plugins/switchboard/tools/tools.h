/* The tools module: what the AI agent can do on the business's own
 * systems.  Tools are declared in a JSON file the operator names
 * ([agent] tools = "/path/tools.json"); each is an HTTP endpoint the agent
 * calls with the model's arguments, checked against the tool's JSON
 * Schema, in a signed request.  URLs, headers and secrets come only from
 * that file and the environment, never from a request (docs/security.md).
 *
 * Threads: a tool set is read-only once loaded and reference-counted, so
 * any thread may read it while holding a reference.  Calls go out on
 * net's HTTP thread (sb_fetch); their done callback runs there. */
#ifndef SB_TOOLS_TOOLS_H
#define SB_TOOLS_TOOLS_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- declarations ----
 * The file is a JSON array of objects:
 *   name               [a-zA-Z0-9_-]{1,64}, unique (a later duplicate is
 *                      skipped), not transfer_to_human, end_call or
 *                      gather (the agent's own)
 *   description        what the model reads to decide when to call it
 *   parameters         JSON Schema of the arguments (the subset schema.c
 *                      checks: an object schema at the top)
 *   url                http:// or https://
 *   method             "POST" (default) or "PUT"
 *   headers            {"Name": "value" | "env:VAR"}
 *   timeout_ms         1..30000, default 5000
 *   secret             "…" | "env:VAR": the key of X-Switchboard-Signature
 *   say_while_waiting  a sentence the agent speaks while the call runs
 * An entry that breaks any of these is logged (which entry, what is
 * wrong) and skipped; the others load. */

#define SB_TOOL_NAME_MAX 64
#define SB_TOOL_TIMEOUT_DEFAULT_MS 5000
#define SB_TOOL_TIMEOUT_MAX_MS 30000
/* The largest answer read from a tool; more is a bad reply. */
#define SB_TOOL_MAX_ANSWER (64 * 1024)

typedef struct sb_mcp_server sb_mcp_server;

typedef struct sb_tool {
	/* read-only once loaded */
	char *name;
	char *description;
	json_t *parameters;
	char *url;
	char *method;
	char **headers; /* "Name: value", NULL-terminated, env: resolved */
	int timeout_ms;
	char *secret; /* NULL: unsigned */
	char *say_while_waiting;
	/* An MCP server's tool (see "MCP" below): the server, and the tool's
	 * own name there; NULL for the file's HTTP tools. */
	sb_mcp_server *mcp;
	char *mcp_name;
	/* private: the sets holding it */
	gint ref;
} sb_tool;

typedef struct sb_toolset sb_toolset;

/* Reads path.  NULL with *error (g_free) when the file cannot be read or
 * is not a JSON array; otherwise a set (maybe empty) whose bad entries
 * were each reported through problems (g_strdup'd lines appended) when it
 * is not NULL, else logged. */
sb_toolset *sb_toolset_load(const char *path, GPtrArray *problems, char **error);
/* The same from a parsed array (borrowed). */
sb_toolset *sb_toolset_from_json(json_t *array, GPtrArray *problems);
sb_toolset *sb_toolset_ref(sb_toolset *set);
void sb_toolset_unref(sb_toolset *set);
size_t sb_toolset_size(const sb_toolset *set);
/* Borrowed from the set; NULL when it has no tool of that name. */
const sb_tool *sb_toolset_find(const sb_toolset *set, const char *name);
/* The tools to offer a model: [{name, description, parameters}], those of
 * names (a JSON array of strings; unknown names skipped) or, when names
 * is not an array, every one.  New reference. */
json_t *sb_toolset_offer(const sb_toolset *set, json_t *names);

/* The set in force (agent/reload.c puts it there at start and on
 * reload_providers); new reference or NULL. */
sb_toolset *sb_tools_current(void);
void sb_tools_set_current(sb_toolset *set); /* takes a reference; NULL clears */

/* ---- schema ----
 * The JSON Schema subset tools may use: type (object, string, number,
 * integer, boolean, array), properties, required, enum, minLength,
 * maxLength, minimum, maximum, items, additionalProperties: false, and
 * description / title (ignored).  Anything else is refused at load, so a
 * schema never promises a check that is not made. */

/* false with *error (g_free) naming the place: "properties.order: unknown
 * keyword \"pattern\"". */
bool sb_schema_check(json_t *schema, char **error);
/* Whether value satisfies schema (checked already); false with *error
 * (g_free) naming the first problem: "order: must be a string". */
bool sb_schema_validate(json_t *schema, json_t *value, char **error);

/* ---- the call ----
 * POSTs {"tool", "arguments", "call"} to the tool's URL with
 * X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body keyed with
 * the secret> when it has one, bounded by its timeout_ms.  The answer must
 * be a 2xx JSON object of at most SB_TOOL_MAX_ANSWER bytes; its "say",
 * when a string, is a sentence the agent may speak as is. */

typedef enum sb_tool_status {
	SB_TOOL_OK = 0,
	SB_TOOL_INVALID_ARGUMENTS, /* refused before any request */
	SB_TOOL_UNKNOWN,           /* no such tool offered */
	SB_TOOL_TIMEOUT,
	SB_TOOL_HTTP_ERROR, /* a status that is not 2xx */
	SB_TOOL_BAD_REPLY,  /* not a JSON object, or too large */
	SB_TOOL_FAILED,     /* no answer: connection refused, DNS … */
	SB_TOOL_CANCELLED,
	SB_TOOL_TOOL_ERROR, /* an MCP tool said it failed (isError), or a JSON-RPC error */
} sb_tool_status;

#define SB_TOOL_STATUS_COUNT (SB_TOOL_TOOL_ERROR + 1)

/* "ok", "invalid_arguments", "unknown_tool", "timeout", "http_error",
 * "bad_reply", "failed", "cancelled", "tool_error". */
const char *sb_tool_status_name(sb_tool_status status);

/* Calls by outcome, for /metrics: the agent counts each call it settles
 * (any thread). */
void sb_tool_outcome_count(sb_tool_status status);
unsigned long long sb_tool_outcomes(sb_tool_status status);

typedef struct sb_tool_outcome {
	sb_tool_status status;
	long http_status;  /* 0 when none */
	json_t *answer;    /* the JSON object when OK, borrowed; else NULL */
	const char *error; /* what went wrong, for the model and the record */
	int latency_ms;
} sb_tool_outcome;

/* On net's HTTP thread; must not block (hand the outcome over). */
typedef void (*sb_tool_done)(void *user, const sb_tool_outcome *outcome);

typedef struct sb_tool_call sb_tool_call;

/* Starts a call of tool (an HTTP tool, or an MCP server's) with arguments (borrowed, already
 * validated) and what the endpoint should know of the call (borrowed: room, call_id, interface,
 * caller …).  NULL with *error when no request could be made (then done never runs).  done runs
 * once, unless released before. */
sb_tool_call *sb_tool_call_start(const sb_tool *tool, json_t *arguments, json_t *call,
                                 sb_tool_done done, void *user, char **error);
/* Cancels a call still running (no done after it returns) and frees it;
 * from inside its own done it does not wait. */
void sb_tool_call_release(sb_tool_call *c);

/* "sha256=<hex>" of body keyed with secret (g_free). */
char *sb_tool_signature(const char *secret, const char *body, size_t len);

/* ---- MCP ----
 * [agent] mcp_servers: Model Context Protocol servers, spoken to over the
 * Streamable HTTP transport, whose tools join the file's.  A list of
 *   name        [a-zA-Z0-9_-]{1,32}, unique: its tools are offered to the
 *               model as "<name>__<tool>" (so two servers, or a server and
 *               the file, never clash)
 *   url         http:// or https:// (the server's MCP endpoint)
 *   headers     {"Name": "value" | "env:VAR"}, sent on every request
 *   timeout_ms  1..30000, default 5000: each request
 * At start-up and on reload_providers each server is asked, on net's HTTP
 * thread (nothing waits for it): initialize, notifications/initialized,
 * tools/list (every page, SB_MCP_MAX_PAGES at most); the Mcp-Session-Id
 * it gives is sent on every later request.  A tool whose name or
 * inputSchema is not usable (the schema subset above) is skipped with a
 * log line; past SB_MCP_MAX_TOOLS a server's tools are cut off, said
 * too.  A server that does not answer is logged and has no tools until
 * the next reload_providers.  A call is tools/call with the arguments
 * (checked against the schema first, like any tool's); a 404 on a
 * request that carried the session means it expired: the client
 * initializes again, once, and repeats the request; a session no longer
 * used (reload, shutdown) is ended with a DELETE.  The answer becomes
 * {"content": its text parts joined, "structured": …} for the model; an
 * isError result or a JSON-RPC error is SB_TOOL_TOOL_ERROR. */

#define SB_MCP_MAX_SERVERS 16
#define SB_MCP_MAX_TOOLS 64
#define SB_MCP_MAX_PAGES 8
#define SB_MCP_NAME_MAX 32
/* The largest answer read from an MCP server (a tools/list page or a
 * tools/call result); more is a bad reply. */
#define SB_MCP_MAX_ANSWER (1024 * 1024)

/* Puts servers (a JSON array of the objects above, borrowed; NULL: none)
 * in force in place of the previous ones and starts listing their tools;
 * returns at once.  Entries that break the rules are logged and skipped. */
void sb_mcp_configure(json_t *servers);

/* The module (modules.c): its metrics, and at the end every request
 * stopped (no callback after) and the servers forgotten. */
struct sb_settings;
bool sb_mcp_module_start(const struct sb_settings *settings);
void sb_mcp_module_finish(void);

#endif
