/* The tools' JSON Schema subset (what a schema may say, what arguments
 * pass) and the request signature (a known HMAC-SHA256 vector). */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "tools/tools.h"

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	g_assert_nonnull(j);
	return j;
}

static const char *order_schema =
        "{\"type\":\"object\",\"properties\":{"
        "\"order\":{\"type\":\"string\",\"minLength\":3,\"maxLength\":10},"
        "\"count\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":5},"
        "\"speed\":{\"type\":\"string\",\"enum\":[\"fast\",\"slow\"]},"
        "\"gift\":{\"type\":\"boolean\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},"
        "\"required\":[\"order\"],\"additionalProperties\":false}";

static void test_schema_check(void)
{
	json_t *good = parse(order_schema);
	char *error = NULL;
	g_assert_true(sb_schema_check(good, &error));
	g_assert_null(error);
	json_decref(good);

	struct {
		const char *schema;
		const char *says;
	} bad[] = {
	        {"{\"type\":\"string\"}", "type \"object\""},
	        {"[]", "must be an object"},
	        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":"
	         "\"x\"}}}",
	         "a: unknown keyword \"pattern\""},
	        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"date\"}}}", "a: \"type\""},
	        {"{\"type\":\"object\",\"required\":\"a\"}", "required"},
	        {"{\"type\":\"object\",\"additionalProperties\":{}}", "additionalProperties"},
	        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"minLength\":-1}"
	         "}}",
	         "minLength"},
	        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"enum\":[]}}}",
	         "enum"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		json_t *s = parse(bad[i].schema);
		error = NULL;
		g_assert_false(sb_schema_check(s, &error));
		g_assert_nonnull(error);
		if (!strstr(error, bad[i].says))
			g_error("schema %s: \"%s\" does not say %s", bad[i].schema, error,
			        bad[i].says);
		g_free(error);
		json_decref(s);
	}
}

static void test_schema_validate(void)
{
	json_t *schema = parse(order_schema);
	const char *pass[] = {
	        "{\"order\":\"12345\"}",
	        "{\"order\":\"123\",\"count\":5,\"speed\":\"fast\",\"gift\":true,\"tags\":[\"a\"]}",
	        "{\"order\":\"1234567890\",\"count\":2.0}",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(pass); i++) {
		json_t *v = parse(pass[i]);
		char *error = NULL;
		if (!sb_schema_validate(schema, v, &error))
			g_error("%s refused: %s", pass[i], error);
		json_decref(v);
	}
	struct {
		const char *value;
		const char *says;
	} fail[] = {
	        {"{}", "order: is required"},
	        {"{\"order\":12345}", "order: must be a string"},
	        {"{\"order\":\"12\"}", "order: is too short"},
	        {"{\"order\":\"12345678901\"}", "order: is too long"},
	        {"{\"order\":\"123\",\"count\":6}", "count: is above the maximum"},
	        {"{\"order\":\"123\",\"count\":0}", "count: is below the minimum"},
	        {"{\"order\":\"123\",\"count\":1.5}", "count: must be an integer"},
	        {"{\"order\":\"123\",\"speed\":\"warp\"}", "speed: is not one of"},
	        {"{\"order\":\"123\",\"gift\":\"yes\"}", "gift: must be a boolean"},
	        {"{\"order\":\"123\",\"tags\":[1]}", "tags.0: must be a string"},
	        {"{\"order\":\"123\",\"url\":\"http://x\"}", "url: is not an expected argument"},
	        {"[]", "arguments: must be an object"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(fail); i++) {
		json_t *v = parse(fail[i].value);
		char *error = NULL;
		g_assert_false(sb_schema_validate(schema, v, &error));
		if (!error || !strstr(error, fail[i].says))
			g_error("%s: \"%s\" does not say %s", fail[i].value,
			        error ? error : "(none)", fail[i].says);
		g_free(error);
		json_decref(v);
	}
	json_decref(schema);
}

/* RFC 4231 test case 2 ("Jefe"), the body being the data. */
static void test_signature(void)
{
	const char *body = "what do ya want for nothing?";
	char *sig = sb_tool_signature("Jefe", body, strlen(body));
	g_assert_cmpstr(sig, ==,
	                "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	g_free(sig);
	/* Another secret, another signature; the same inputs, the same one. */
	char *other = sb_tool_signature("jefe", body, strlen(body));
	g_assert_cmpstr(other + 7, !=,
	                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	g_free(other);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tools/schema/check", test_schema_check);
	g_test_add_func("/tools/schema/validate", test_schema_validate);
	g_test_add_func("/tools/signature", test_signature);
	return g_test_run();
}
