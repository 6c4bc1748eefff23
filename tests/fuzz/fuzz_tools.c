/* libFuzzer target for the tools' JSON Schema subset: what a language
 * model sends as a tool's arguments (anything a caller talked it into) is
 * checked against the tool's schema before any request goes out.  The
 * input is "schema NUL arguments": a schema the checker accepts must then
 * judge any arguments without crashing, with an error exactly when it
 * refuses them; the arguments are also judged against a fixed schema. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "tools/tools.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void judge(json_t *schema, json_t *value)
{
	char *error = NULL;
	bool ok = sb_schema_validate(schema, value, &error);
	if (ok == (error != NULL))
		__builtin_trap(); /* an error exactly when refused */
	g_free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *fixed;
	if (!fixed)
		fixed = json_loads(
		        "{\"type\":\"object\",\"properties\":{"
		        "\"order\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":12},"
		        "\"n\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":9},"
		        "\"kind\":{\"type\":\"string\",\"enum\":[\"a\",\"b\"]},"
		        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"number\"}}},"
		        "\"required\":[\"order\"],\"additionalProperties\":false}",
		        0, NULL);
	const uint8_t *nul = memchr(data, 0, size);
	size_t schema_len = nul ? (size_t)(nul - data) : size;
	json_t *schema = json_loadb((const char *)data, schema_len, JSON_DECODE_ANY, NULL);
	json_t *value = nul ? json_loadb((const char *)nul + 1, size - schema_len - 1,
	                                 JSON_DECODE_ANY, NULL)
	                    : NULL;
	char *error = NULL;
	if (schema && sb_schema_check(schema, &error) && value)
		judge(schema, value);
	g_free(error);
	if (value)
		judge(fixed, value);
	json_decref(schema);
	json_decref(value);
	return 0;
}
