/* Unit tests for a call's context (room/variables.c): the bounds every
 * variable keeps whoever sends it, and {{name|default}} substitution that
 * never speaks braces and never expands a caller's value again. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "room/room.h"

/* The Janus logger and refcount switch: janus_log_stub.c. */

static void assert_render(const char *text, json_t *vars, const char *expected)
{
	char *out = sb_variables_render(text, vars);
	g_assert_cmpstr(out, ==, expected);
	g_free(out);
}

static void test_render(void)
{
	json_t *vars = json_pack("{ssssss}", "x_customer_name", "Aisha", "empty", "", "from",
	                         "+15551234567");
	assert_render("Hello {{x_customer_name|there}}", vars, "Hello Aisha");
	assert_render("Hello {{ x_customer_name }}!", vars, "Hello Aisha!");
	assert_render("Hello {{missing|there}}", vars, "Hello there");
	assert_render("Hello {{empty|there}}", vars, "Hello there");
	assert_render("Hello {{missing}}.", vars, "Hello .");
	assert_render("{{Not A Name|friend}} {{}}", vars, "friend ");
	assert_render("{{from}}{{from}}", vars, "+15551234567+15551234567");
	assert_render("a {{default|with | bar}} b", vars, "a with | bar b");
	assert_render("no placeholders", vars, "no placeholders");
	assert_render("unclosed {{from", vars, "unclosed {{from");
	assert_render("", vars, "");
	g_assert_null(sb_variables_render(NULL, vars));
	assert_render("Hi {{x}}", NULL, "Hi ");
	json_decref(vars);
}

/* A caller-supplied value is data: braces in it are spoken as they are,
 * never looked up. */
static void test_values_not_expanded(void)
{
	json_t *vars = json_pack("{ssss}", "x_name", "{{secret|leak}}", "secret", "s3cr3t");
	assert_render("Hello {{x_name}}", vars, "Hello {{secret|leak}}");
	assert_render("{{missing|{{secret}}}}", vars, "{{secret}}");
	json_decref(vars);
}

static void test_merge_bounds(void)
{
	json_t *into = json_object();
	char *long_value = g_strnfill(SB_VARIABLE_VALUE_MAX + 1, 'a');
	char *max_value = g_strnfill(SB_VARIABLE_VALUE_MAX, 'b');
	char *long_name = g_strnfill(SB_VARIABLE_NAME_MAX + 1, 'n');
	json_t *from = json_pack("{ss ss ss ss si ss ss ss ss}", "X-Customer-Name", "Aisha", "ok",
	                         "line\none\ttab\x7f", "bad name", "v", "émoji", "v", "number", 5,
	                         "too_long", long_value, "max", max_value, long_name, "v", "", "v");
	g_assert_cmpuint(sb_variables_merge(into, from, "test"), ==, 3);
	g_assert_cmpstr(json_string_value(json_object_get(into, "x_customer_name")), ==, "Aisha");
	g_assert_cmpstr(json_string_value(json_object_get(into, "ok")), ==, "lineonetab");
	g_assert_cmpuint(strlen(json_string_value(json_object_get(into, "max"))), ==,
	                 SB_VARIABLE_VALUE_MAX);
	g_assert_cmpuint(json_object_size(into), ==, 3);
	/* Not objects: nothing happens. */
	json_t *array = json_array();
	g_assert_cmpuint(sb_variables_merge(into, array, "test"), ==, 0);
	json_decref(array);
	g_assert_cmpuint(sb_variables_merge(NULL, from, "test"), ==, 0);
	json_decref(from);
	g_free(long_value);
	g_free(max_value);
	g_free(long_name);
	json_decref(into);
}

static void test_merge_count(void)
{
	json_t *into = json_object();
	json_t *from = json_object();
	for (int i = 0; i < SB_VARIABLES_MAX + 10; i++) {
		char name[16];
		g_snprintf(name, sizeof(name), "v%d", i);
		json_object_set_new(from, name, json_string("x"));
	}
	g_assert_cmpuint(sb_variables_merge(into, from, "test"), ==, SB_VARIABLES_MAX);
	g_assert_cmpuint(json_object_size(into), ==, SB_VARIABLES_MAX);
	/* Full: a known name is still replaced, a new one is dropped. */
	char *first = g_strdup(json_object_iter_key(json_object_iter(into)));
	json_t *more = json_pack("{ssss}", first, "y", "brand_new", "z");
	g_assert_cmpuint(sb_variables_merge(into, more, "test"), ==, 1);
	g_assert_cmpstr(json_string_value(json_object_get(into, first)), ==, "y");
	g_assert_null(json_object_get(into, "brand_new"));
	g_free(first);
	json_decref(more);
	json_decref(from);
	json_decref(into);
}

static void test_names(void)
{
	g_assert_true(sb_variable_name_valid("x_customer_id"));
	g_assert_true(sb_variable_name_valid("a1"));
	g_assert_false(sb_variable_name_valid(""));
	g_assert_false(sb_variable_name_valid(NULL));
	g_assert_false(sb_variable_name_valid("X"));
	g_assert_false(sb_variable_name_valid("a-b"));
	char *n = sb_variable_name_normalize("X-Customer-ID");
	g_assert_cmpstr(n, ==, "x_customer_id");
	g_free(n);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/variables/render", test_render);
	g_test_add_func("/variables/values_not_expanded", test_values_not_expanded);
	g_test_add_func("/variables/merge_bounds", test_merge_bounds);
	g_test_add_func("/variables/merge_count", test_merge_count);
	g_test_add_func("/variables/names", test_names);
	return g_test_run();
}
