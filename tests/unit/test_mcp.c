/* The MCP wire format: the JSON-RPC requests Switchboard sends, the one
 * response it waits for read out of a JSON body or an SSE stream split
 * anywhere (among the server's own notifications), errors and garbage,
 * bounded bodies, tools/list pages (bad tools skipped and said, the cap)
 * and tools/call results. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "tools/tools_private.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	g_assert_nonnull(j);
	return j;
}

static void test_request_body(void)
{
	size_t len = 0;
	json_t *params = parse("{\"name\":\"lookup_order\",\"arguments\":{\"order\":\"1\"}}");
	char *body = sb_mcp_request_body(7, "tools/call", params, &len);
	g_assert_cmpuint(len, ==, strlen(body));
	json_t *msg = parse(body);
	g_assert_cmpstr(json_string_value(json_object_get(msg, "jsonrpc")), ==, "2.0");
	g_assert_cmpint(json_integer_value(json_object_get(msg, "id")), ==, 7);
	g_assert_cmpstr(json_string_value(json_object_get(msg, "method")), ==, "tools/call");
	g_assert_true(json_equal(json_object_get(msg, "params"), params));
	json_decref(msg);
	g_free(body);
	/* A notification has no id. */
	body = sb_mcp_request_body(-1, "notifications/initialized", NULL, &len);
	msg = parse(body);
	g_assert_null(json_object_get(msg, "id"));
	g_assert_null(json_object_get(msg, "params"));
	json_decref(msg);
	g_free(body);
	json_decref(params);
}

/* Feeds body in pieces of step bytes; the status and *result / *why. */
static sb_tool_status read_all(const char *type, const char *body, size_t step, json_int_t id,
                               size_t max, json_t **result, char **why)
{
	sb_mcp_reader *r = sb_mcp_reader_new(id, max);
	sb_mcp_reader_content_type(r, type);
	size_t len = strlen(body);
	for (size_t at = 0; at < len; at += step)
		if (!sb_mcp_reader_feed(r, body + at, MIN(step, len - at)))
			break;
	sb_tool_status s = sb_mcp_reader_finish(r, result, why);
	sb_mcp_reader_free(r);
	return s;
}

static void test_reader_json(void)
{
	json_t *result = NULL;
	char *why = NULL;
	g_assert_cmpint(read_all("application/json",
	                         "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[]}}", 5, 3,
	                         1024, &result, &why),
	                ==, SB_TOOL_OK);
	g_assert_true(json_is_array(json_object_get(result, "tools")));
	json_decref(result);
	/* In a batch, beside another id's. */
	g_assert_cmpint(read_all("application/json; charset=utf-8",
	                         "[{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"a\":1}},"
	                         "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"b\":2}}]",
	                         1000, 3, 1024, &result, &why),
	                ==, SB_TOOL_OK);
	g_assert_nonnull(json_object_get(result, "b"));
	json_decref(result);
	/* Another id's answer only, garbage, nothing. */
	static const char *const bad[] = {"{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}",
	                                  "this is not JSON", ""};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(read_all("application/json", bad[i], 3, 3, 1024, &result, &why), ==,
		                SB_TOOL_BAD_REPLY);
		g_assert_null(result);
		g_assert_nonnull(strstr(why, "not a JSON-RPC response"));
		g_clear_pointer(&why, g_free);
	}
}

static void test_reader_errors_and_limits(void)
{
	json_t *result = NULL;
	char *why = NULL;
	g_assert_cmpint(read_all("application/json",
	                         "{\"jsonrpc\":\"2.0\",\"id\":9,\"error\":{\"code\":-32602,"
	                         "\"message\":\"Unknown tool\"}}",
	                         7, 9, 1024, &result, &why),
	                ==, SB_TOOL_TOOL_ERROR);
	g_assert_cmpstr(why, ==, "JSON-RPC error -32602: Unknown tool");
	g_clear_pointer(&why, g_free);
	/* A result that is not an object. */
	g_assert_cmpint(read_all("application/json", "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":3}",
	                         7, 9, 1024, &result, &why),
	                ==, SB_TOOL_BAD_REPLY);
	g_clear_pointer(&why, g_free);
	/* Over the bound: read no further, say so. */
	GString *huge = g_string_new("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":\"");
	for (int i = 0; i < 5000; i++)
		g_string_append(huge, "xxxxxxxxxx");
	g_string_append(huge, "\"}}");
	sb_mcp_reader *r = sb_mcp_reader_new(1, 4096);
	sb_mcp_reader_content_type(r, "application/json");
	bool more = true;
	size_t fed = 0;
	for (size_t at = 0; more && at < huge->len; at += 1000, fed++)
		more = sb_mcp_reader_feed(r, huge->str + at, MIN(1000, huge->len - at));
	g_assert_false(more);
	g_assert_cmpuint(fed, <=, 5);
	g_assert_true(sb_mcp_reader_too_large(r));
	g_assert_cmpint(sb_mcp_reader_finish(r, &result, &why), ==, SB_TOOL_BAD_REPLY);
	g_assert_cmpstr(why, ==, "the answer is larger than 4096 bytes");
	g_clear_pointer(&why, g_free);
	sb_mcp_reader_free(r);
	g_string_free(huge, TRUE);
}

static void test_reader_event_stream(void)
{
	/* A priming event, a notification and a request of the server's, the
	 * response, then more the reader must not wait for. */
	const char *stream =
	        "id: a1\ndata:\n\n"
	        ": keep-alive\r\n"
	        "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
	        "progress\",\"params\":{}}\r\n\r\n"
	        "data: {\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}\n\n"
	        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":5,\n"
	        "data: \"result\":{\"content\":[]}}\n\n"
	        "data: never read\n\n";
	for (size_t step = 1; step < 40; step += 6) {
		json_t *result = NULL;
		char *why = NULL;
		g_assert_cmpint(
		        read_all("text/event-stream", stream, step, 5, 1 << 20, &result, &why), ==,
		        SB_TOOL_OK);
		g_assert_true(json_is_array(json_object_get(result, "content")));
		json_decref(result);
	}
	/* It stops at the response. */
	sb_mcp_reader *r = sb_mcp_reader_new(5, 1 << 20);
	sb_mcp_reader_content_type(r, "text/event-stream");
	g_assert_false(sb_mcp_reader_feed(r, stream, strlen(stream)));
	g_assert_true(sb_mcp_reader_found(r));
	sb_mcp_reader_free(r);
	/* Ended before the response, or garbage in the events. */
	json_t *result = NULL;
	char *why = NULL;
	g_assert_cmpint(read_all("text/event-stream", "data: {\"id\":\n\ndata: nonsense\n\n", 4, 5,
	                         1024, &result, &why),
	                ==, SB_TOOL_BAD_REPLY);
	g_assert_cmpstr(why, ==, "the event stream ended without the answer");
	g_free(why);
}

static void test_negotiated(void)
{
	char *why = NULL;
	json_t *r = parse("{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{}}");
	g_assert_cmpstr(sb_mcp_negotiated(r, &why), ==, "2025-06-18");
	json_decref(r);
	r = parse("{\"protocolVersion\":\"2024-11-05\"}");
	g_assert_null(sb_mcp_negotiated(r, &why));
	g_assert_nonnull(strstr(why, "protocol version 2024-11-05"));
	g_free(why);
	json_decref(r);
}

static void test_list_page(void)
{
	json_t *page =
	        parse("{\"tools\":["
	              "{\"name\":\"lookup_order\",\"description\":\"Look up an order.\","
	              "\"inputSchema\":{\"$schema\":\"http://json-schema.org/draft-07/schema#\","
	              "\"type\":\"object\",\"properties\":{\"order\":{\"type\":\"string\"}},"
	              "\"required\":[\"order\"]}},"
	              "{\"name\":\"regex\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	              "\"a\":{\"type\":\"string\",\"pattern\":\"^a\"}}}},"
	              "{\"name\":\"bad name\",\"inputSchema\":{\"type\":\"object\"}},"
	              "{\"name\":\"no_schema\"},"
	              "{\"name\":\"titled\",\"title\":\"A title\",\"inputSchema\":{\"type\":"
	              "\"object\"}},"
	              "{\"name\":\"third\",\"inputSchema\":{\"type\":\"object\"}},"
	              "7],\"nextCursor\":\"page2\"}");
	json_t *accepted = json_array();
	GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
	char *cursor = NULL, *error = NULL;
	g_assert_true(sb_mcp_list_page(page, "shop", accepted, 2, problems, &cursor, &error));
	g_assert_cmpstr(cursor, ==, "page2");
	g_assert_cmpuint(json_array_size(accepted), ==, 2);
	json_t *first = json_array_get(accepted, 0);
	g_assert_cmpstr(json_string_value(json_object_get(first, "name")), ==,
	                "shop__lookup_order");
	g_assert_cmpstr(json_string_value(json_object_get(first, "mcp_name")), ==, "lookup_order");
	g_assert_cmpstr(json_string_value(json_object_get(first, "description")), ==,
	                "Look up an order.");
	g_assert_nonnull(json_object_get(json_object_get(first, "parameters"), "required"));
	g_assert_cmpstr(
	        json_string_value(json_object_get(json_array_get(accepted, 1), "description")), ==,
	        "A title");
	g_assert_cmpuint(problems->len, ==, 5);
	g_assert_cmpstr(problems->pdata[0], ==,
	                "tool \"regex\" skipped: inputSchema: properties.a: unknown keyword "
	                "\"pattern\"");
	g_assert_nonnull(strstr(problems->pdata[1], "tool \"bad name\" skipped: its name must be"));
	g_assert_cmpstr(problems->pdata[2], ==,
	                "tool \"no_schema\" skipped: it has no inputSchema");
	g_assert_cmpstr(problems->pdata[3], ==, "tool \"?\" skipped: it is not an object");
	g_assert_cmpstr(problems->pdata[4], ==, "1 more tools skipped: 2 at most per server");
	g_free(cursor);
	json_decref(page);
	/* Not a tools/list result: nothing taken. */
	page = parse("{\"items\":[]}");
	g_assert_false(sb_mcp_list_page(page, "shop", accepted, 2, problems, &cursor, &error));
	g_assert_null(cursor);
	g_assert_cmpstr(error, ==, "the tools/list result has no \"tools\" array");
	g_free(error);
	json_decref(page);
	/* A name too long once prefixed. */
	page = parse("{\"tools\":[{\"name\":"
	             "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	             "\"inputSchema\":{\"type\":\"object\"}}]}");
	json_t *none = json_array();
	g_assert_true(sb_mcp_list_page(page, "shop", none, 10, problems, &cursor, &error));
	g_assert_cmpuint(json_array_size(none), ==, 0);
	json_decref(none);
	json_decref(page);
	json_decref(accepted);
	g_ptr_array_free(problems, TRUE);
}

static void test_call_answer(void)
{
	bool is_error = true;
	char *why = NULL;
	json_t *r = parse("{\"content\":[{\"type\":\"text\",\"text\":\"Order 12345 shipped.\"},"
	                  "{\"type\":\"image\",\"data\":\"AAAA\",\"mimeType\":\"image/png\"},"
	                  "{\"type\":\"text\",\"text\":\"Arrives Friday.\"}],"
	                  "\"structuredContent\":{\"status\":\"shipped\"}}");
	json_t *a = sb_mcp_call_answer(r, &is_error, &why);
	g_assert_false(is_error);
	g_assert_cmpstr(json_string_value(json_object_get(a, "content")), ==,
	                "Order 12345 shipped.\n[image]\nArrives Friday.");
	g_assert_cmpstr(
	        json_string_value(json_object_get(json_object_get(a, "structured"), "status")), ==,
	        "shipped");
	json_decref(a);
	json_decref(r);
	r = parse("{\"content\":[{\"type\":\"text\",\"text\":\"The database is down\"}],"
	          "\"isError\":true}");
	a = sb_mcp_call_answer(r, &is_error, &why);
	g_assert_true(is_error);
	g_assert_cmpstr(json_string_value(json_object_get(a, "content")), ==,
	                "The database is down");
	json_decref(a);
	json_decref(r);
	r = parse("{\"text\":\"no content array\"}");
	g_assert_null(sb_mcp_call_answer(r, &is_error, &why));
	g_assert_cmpstr(why, ==, "the tools/call result has no \"content\" array");
	g_free(why);
	json_decref(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mcp/request_body", test_request_body);
	g_test_add_func("/mcp/reader_json", test_reader_json);
	g_test_add_func("/mcp/reader_errors_and_limits", test_reader_errors_and_limits);
	g_test_add_func("/mcp/reader_event_stream", test_reader_event_stream);
	g_test_add_func("/mcp/negotiated", test_negotiated);
	g_test_add_func("/mcp/list_page", test_list_page);
	g_test_add_func("/mcp/call_answer", test_call_answer);
	return g_test_run();
}
