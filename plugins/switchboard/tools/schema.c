/* A JSON Schema subset for tool arguments: enough to describe what a
 * business back end takes (typed fields, required ones, enums, bounds),
 * small enough to check completely.  A schema that uses anything else is
 * refused when the tools are loaded, so what the model is told and what
 * is enforced never differ. */
#include "tools/tools_private.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static const char *const known_types[] = {"object",  "string",  "number",
                                          "integer", "boolean", "array"};
static const char *const known_keywords[] = {
        "type",        "properties", "required", "enum",  "minLength",
        "maxLength",   "minimum",    "maximum",  "items", "additionalProperties",
        "description", "title",      "$schema"};

bool sb_tools_valid_name(const char *name, size_t max)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(name[i]) && name[i] != '_' && name[i] != '-')
			return false;
	return true;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

static char *place(const char *where, const char *what)
{
	return *where ? g_strdup_printf("%s.%s", where, what) : g_strdup(what);
}

static bool fail(char **error, const char *where, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool fail(char **error, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	*error = g_strdup_printf("%s%s%s", *where ? where : "", *where ? ": " : "", msg);
	g_free(msg);
	return false;
}

static bool check_at(json_t *schema, const char *where, int depth, char **error);

static bool check_properties(json_t *props, const char *where, int depth, char **error)
{
	if (!json_is_object(props))
		return fail(error, where, "%s must be an object", "properties");
	const char *key;
	json_t *sub;
	char *in = place(where, "properties");
	json_object_foreach(props, key, sub)
	{
		char *at = place(in, key);
		bool ok = check_at(sub, at, depth + 1, error);
		g_free(at);
		if (!ok) {
			g_free(in);
			return false;
		}
	}
	g_free(in);
	return true;
}

static bool check_required(json_t *required, const char *where, char **error)
{
	size_t i;
	json_t *v;
	if (!json_is_array(required))
		return fail(error, where, "%s must be an array of names", "required");
	json_array_foreach(required, i, v) if (!json_is_string(v)) return fail(
	        error, where, "%s must be an array of names", "required");
	return true;
}

static bool check_bound(json_t *schema, const char *key, bool integer, const char *where,
                        char **error)
{
	json_t *v = json_object_get(schema, key);
	if (!v)
		return true;
	if (integer ? !json_is_integer(v) || json_integer_value(v) < 0 : !json_is_number(v))
		return fail(error, where,
		            integer ? "%s must be a whole number >= 0" : "%s must be a number",
		            key);
	return true;
}

static bool check_at(json_t *schema, const char *where, int depth, char **error)
{
	if (depth > 8)
		return fail(error, where, "%s", "nested too deep (8 levels at most)");
	if (!json_is_object(schema))
		return fail(error, where, "%s", "a schema must be an object");
	const char *key;
	json_t *v;
	json_object_foreach(schema, key, v)
	{
		if (!in_list(key, known_keywords, G_N_ELEMENTS(known_keywords)))
			return fail(error, where, "unknown keyword \"%s\"", key);
	}
	json_t *type = json_object_get(schema, "type");
	if (!json_is_string(type) ||
	    !in_list(json_string_value(type), known_types, G_N_ELEMENTS(known_types)))
		return fail(error, where, "%s",
		            "\"type\" must be one of object, string, number, integer, boolean, "
		            "array");
	json_t *props = json_object_get(schema, "properties");
	if (props && !check_properties(props, where, depth, error))
		return false;
	json_t *required = json_object_get(schema, "required");
	if (required && !check_required(required, where, error))
		return false;
	json_t *extra = json_object_get(schema, "additionalProperties");
	if (extra && !json_is_false(extra) && !json_is_true(extra))
		return fail(error, where, "%s", "additionalProperties must be true or false");
	json_t *en = json_object_get(schema, "enum");
	if (en && (!json_is_array(en) || json_array_size(en) == 0))
		return fail(error, where, "%s", "enum must be a non-empty array");
	json_t *items = json_object_get(schema, "items");
	if (items) {
		char *at = place(where, "items");
		bool ok = check_at(items, at, depth + 1, error);
		g_free(at);
		if (!ok)
			return false;
	}
	return check_bound(schema, "minLength", true, where, error) &&
	       check_bound(schema, "maxLength", true, where, error) &&
	       check_bound(schema, "minimum", false, where, error) &&
	       check_bound(schema, "maximum", false, where, error);
}

bool sb_schema_check(json_t *schema, char **error)
{
	if (!check_at(schema, "", 0, error))
		return false;
	if (strcmp(json_string_value(json_object_get(schema, "type")), "object") != 0) {
		*error = g_strdup("the arguments' schema must have type \"object\"");
		return false;
	}
	return true;
}

/* ---- validation ---- */

static bool type_matches(const char *type, json_t *value)
{
	if (!strcmp(type, "object"))
		return json_is_object(value);
	if (!strcmp(type, "string"))
		return json_is_string(value);
	if (!strcmp(type, "integer"))
		return json_is_integer(value) ||
		       (json_is_real(value) &&
		        floor(json_real_value(value)) == json_real_value(value));
	if (!strcmp(type, "number"))
		return json_is_number(value);
	if (!strcmp(type, "boolean"))
		return json_is_boolean(value);
	return json_is_array(value);
}

static bool invalid(char **error, const char *where, const char *what)
{
	*error = g_strdup_printf("%s: %s", *where ? where : "arguments", what);
	return false;
}

static bool validate_at(json_t *schema, json_t *value, const char *where, char **error);

static bool validate_object(json_t *schema, json_t *value, const char *where, char **error)
{
	json_t *props = json_object_get(schema, "properties");
	size_t i;
	json_t *name;
	json_array_foreach(json_object_get(schema, "required"), i, name)
	{
		if (!json_object_get(value, json_string_value(name))) {
			char *at = place(where, json_string_value(name));
			bool ok = invalid(error, at, "is required");
			g_free(at);
			return ok;
		}
	}
	bool closed = json_is_false(json_object_get(schema, "additionalProperties"));
	const char *key;
	json_t *v;
	json_object_foreach(value, key, v)
	{
		json_t *sub = json_object_get(props, key);
		char *at = place(where, key);
		bool ok = sub ? validate_at(sub, v, at, error)
		              : !closed || invalid(error, at, "is not an expected argument");
		g_free(at);
		if (!ok)
			return false;
	}
	return true;
}

static bool validate_bounds(json_t *schema, json_t *value, const char *where, char **error)
{
	if (json_is_string(value)) {
		glong len = g_utf8_strlen(json_string_value(value), -1);
		json_t *min = json_object_get(schema, "minLength");
		json_t *max = json_object_get(schema, "maxLength");
		if (min && len < json_integer_value(min))
			return invalid(error, where, "is too short");
		if (max && len > json_integer_value(max))
			return invalid(error, where, "is too long");
	}
	if (json_is_number(value)) {
		double d = json_number_value(value);
		json_t *min = json_object_get(schema, "minimum");
		json_t *max = json_object_get(schema, "maximum");
		if (min && d < json_number_value(min))
			return invalid(error, where, "is below the minimum");
		if (max && d > json_number_value(max))
			return invalid(error, where, "is above the maximum");
	}
	return true;
}

static bool validate_at(json_t *schema, json_t *value, const char *where, char **error)
{
	const char *type = json_string_value(json_object_get(schema, "type"));
	if (type && !type_matches(type, value)) {
		char *what = g_strdup_printf("must be %s %s", strchr("aeiou", type[0]) ? "an" : "a",
		                             type);
		bool ok = invalid(error, where, what);
		g_free(what);
		return ok;
	}
	json_t *en = json_object_get(schema, "enum");
	if (en) {
		bool found = false;
		size_t i;
		json_t *allowed;
		json_array_foreach(en, i, allowed) found = found || json_equal(allowed, value);
		if (!found)
			return invalid(error, where, "is not one of the allowed values");
	}
	if (!validate_bounds(schema, value, where, error))
		return false;
	if (json_is_object(value))
		return validate_object(schema, value, where, error);
	json_t *items = json_object_get(schema, "items");
	if (json_is_array(value) && items) {
		size_t i;
		json_t *v;
		json_array_foreach(value, i, v)
		{
			char index[24];
			g_snprintf(index, sizeof(index), "%zu", i);
			char *at = place(where, index);
			bool ok = validate_at(items, v, at, error);
			g_free(at);
			if (!ok)
				return false;
		}
	}
	return true;
}

bool sb_schema_validate(json_t *schema, json_t *value, char **error)
{
	return validate_at(schema, value, "", error);
}
