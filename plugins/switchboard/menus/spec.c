/* Checking a gather before it is used: a menu comes from the operator's
 * config or the `agent` op, the gather tool's from a model; either is
 * refused whole, with the place named, rather than half obeyed. */
#include "menus/menus_private.h"

#include <string.h>

static bool fail(char **error, const char *where, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static bool fail(char **error, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	*error = g_strdup_printf("%s%s%s", where, *where ? ": " : "", what);
	g_free(what);
	return false;
}

static bool text_ok(json_t *v, size_t min, size_t max)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;
	return s && n >= min && n <= max && g_utf8_validate(s, -1, NULL);
}

static bool int_in(json_t *v, json_int_t lo, json_int_t hi)
{
	return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static bool name_ok(const char *s, size_t max, bool upper_and_dots)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max)
		return false;
	for (const char *c = s; *c; c++) {
		bool ok = g_ascii_islower(*c) || g_ascii_isdigit(*c) || *c == '_' ||
		          (upper_and_dots && (g_ascii_isupper(*c) || *c == '.' || *c == '-'));
		if (!ok)
			return false;
	}
	return true;
}

bool sb_menu_key_ok(const char *key)
{
	return key && strlen(key) == 1 && strchr("0123456789*#", key[0]);
}

static bool check_gather(json_t *g, bool actions, int depth, const char *where, char **error);

static bool check_action(json_t *a, int depth, const char *where, char **error)
{
	if (!json_is_object(a))
		return fail(error, where, "an action must be an object");
	int kinds = 0;
	const char *key;
	json_t *v;
	json_object_foreach(a, key, v)
	{
		char *at = g_strdup_printf("%s.%s", where, key);
		bool ok = true;
		if (!strcmp(key, "say")) {
			ok = text_ok(v, 1, SB_MENU_SAY_MAX) ||
			     fail(error, at, "a string of 1-%d characters", SB_MENU_SAY_MAX);
		} else if (!strcmp(key, "queue")) {
			kinds++;
			ok = name_ok(json_string_value(v), 64, true) ||
			     fail(error, at, "1-64 of A-Z a-z 0-9 _ . -");
		} else if (!strcmp(key, "tool")) {
			kinds++;
			ok = name_ok(json_string_value(v), 64, true) ||
			     fail(error, at, "a tool's name");
		} else if (!strcmp(key, "argument")) {
			ok = (json_object_get(a, "tool") &&
			      name_ok(json_string_value(v), 64, true)) ||
			     fail(error, at, "the name of the tool's parameter (with tool)");
		} else if (!strcmp(key, "arguments")) {
			ok = (json_object_get(a, "tool") && json_is_object(v) &&
			      json_object_size(v) <= 16) ||
			     fail(error, at, "an object of at most 16 members (with tool)");
		} else if (!strcmp(key, "menu")) {
			kinds++;
			ok = depth + 1 < SB_MENU_MAX_DEPTH
			             ? check_gather(v, true, depth + 1, at, error)
			             : fail(error, at, "menus nest %d levels at most",
			                    SB_MENU_MAX_DEPTH);
		} else if (!strcmp(key, "end_call")) {
			kinds++;
			ok = json_is_true(v) || fail(error, at, "true, or leave it out");
		} else if (!strcmp(key, "agent")) {
			ok = json_is_true(v) || fail(error, at, "true, or leave it out");
		} else if (strcmp(key, "key") && strcmp(key, "words") && strcmp(key, "value")) {
			ok = fail(error, at, "unknown key");
		}
		g_free(at);
		if (!ok)
			return false;
	}
	if (kinds > 1)
		return fail(error, where, "one of queue, tool, menu and end_call at most");
	return true;
}

static bool check_option(json_t *o, size_t index, int depth, const char *where, char **error)
{
	char *at = g_strdup_printf("%s%soptions[%zu]", where, *where ? "." : "", index);
	bool ok = false;
	json_t *words = json_object_get(o, "words");
	if (!json_is_object(o)) {
		fail(error, at, "an option must be an object");
	} else if (!sb_menu_key_ok(json_string_value(json_object_get(o, "key")))) {
		fail(error, at, "key: one of 0-9 * #");
	} else if (words && (!json_is_array(words) || json_array_size(words) > 16)) {
		fail(error, at, "words: a list of at most 16 phrases");
	} else if (json_object_get(o, "value") && !text_ok(json_object_get(o, "value"), 1, 64)) {
		fail(error, at, "value: a string of 1-64 characters");
	} else {
		ok = true;
		size_t i;
		json_t *w;
		json_array_foreach(words, i, w) if (ok && !text_ok(w, 1, 64))
		{
			ok = fail(error, at, "words[%zu]: a string of 1-64 characters", i);
		}
		ok = ok && check_action(o, depth, at, error);
	}
	g_free(at);
	return ok;
}

static bool check_gather(json_t *g, bool actions, int depth, const char *where, char **error)
{
	static const char *const known[] = {
	        "prompt",        "input",    "timeout_ms", "digit_timeout_ms", "retries",
	        "no_input",      "no_match", "options",    "max_digits",       "min_digits",
	        "finish_on_key", "variable", "then",       "otherwise",        NULL};
	if (!json_is_object(g))
		return fail(error, where, "a gather must be an object");
	const char *key;
	json_t *v;
	json_object_foreach(g, key, v)
	{
		if (!g_strv_contains(known, key))
			return fail(error, where, "unknown key %.64s", key);
		if (!actions &&
		    (!strcmp(key, "then") || !strcmp(key, "otherwise") || !strcmp(key, "variable")))
			return fail(error, where, "%s is the operator's (a config's menu)", key);
	}
	const char *input = json_string_value(json_object_get(g, "input"));
	json_t *options = json_object_get(g, "options");
	json_t *max = json_object_get(g, "max_digits"), *min = json_object_get(g, "min_digits");
	const char *finish = json_string_value(json_object_get(g, "finish_on_key"));
	if (!text_ok(json_object_get(g, "prompt"), 1, SB_MENU_SAY_MAX))
		return fail(error, where, "prompt: a string of 1-%d characters", SB_MENU_SAY_MAX);
	if (json_object_get(g, "input") &&
	    (!input ||
	     (strcmp(input, "dtmf") && strcmp(input, "speech") && strcmp(input, "dtmf speech"))))
		return fail(error, where, "input: \"dtmf\", \"speech\" or \"dtmf speech\"");
	if (json_object_get(g, "timeout_ms") &&
	    !int_in(json_object_get(g, "timeout_ms"), 500, 60000))
		return fail(error, where, "timeout_ms: 500-60000");
	if (json_object_get(g, "digit_timeout_ms") &&
	    !int_in(json_object_get(g, "digit_timeout_ms"), 500, 30000))
		return fail(error, where, "digit_timeout_ms: 500-30000");
	if (json_object_get(g, "retries") && !int_in(json_object_get(g, "retries"), 0, 5))
		return fail(error, where, "retries: 0-5");
	if (json_object_get(g, "no_input") && !text_ok(json_object_get(g, "no_input"), 1, 500))
		return fail(error, where, "no_input: a string of 1-500 characters");
	if (json_object_get(g, "no_match") && !text_ok(json_object_get(g, "no_match"), 1, 500))
		return fail(error, where, "no_match: a string of 1-500 characters");
	if (max && !int_in(max, 1, SB_MENU_MAX_DIGITS))
		return fail(error, where, "max_digits: 1-%d", SB_MENU_MAX_DIGITS);
	if (min && !int_in(min, 1, max ? json_integer_value(max) : SB_MENU_MAX_DIGITS))
		return fail(error, where, "min_digits: 1-max_digits");
	if (json_object_get(g, "finish_on_key") &&
	    (!finish || (strcmp(finish, "#") && strcmp(finish, "*") && strcmp(finish, ""))))
		return fail(error, where, "finish_on_key: \"#\", \"*\" or \"\"");
	if (json_object_get(g, "variable") &&
	    !name_ok(json_string_value(json_object_get(g, "variable")), 32, false))
		return fail(error, where, "variable: 1-32 of a-z 0-9 _");
	if (options) {
		if (!json_is_array(options) || !json_array_size(options) ||
		    json_array_size(options) > SB_MENU_MAX_OPTIONS)
			return fail(error, where, "options: a list of 1-%d options",
			            SB_MENU_MAX_OPTIONS);
		if (max || min || json_object_get(g, "finish_on_key") || json_object_get(g, "then"))
			return fail(error, where,
			            "a menu (options) takes no max_digits, min_digits, "
			            "finish_on_key or then");
		char seen[16] = "";
		size_t i;
		json_t *o;
		json_array_foreach(options, i, o)
		{
			if (!actions && json_is_object(o)) {
				/* The model's options are keys and words: the actions are
				 * its own to take once it knows the answer. */
				const char *k;
				json_t *x;
				json_object_foreach(o, k, x) if (strcmp(k, "key") &&
				                                 strcmp(k, "words") &&
				                                 strcmp(k, "value"))
				{
					return fail(error, where,
					            "options[%zu].%.32s: an option of the "
					            "gather tool has key, words and value only",
					            i, k);
				}
			}
			if (!check_option(o, i, depth, where, error))
				return false;
			const char *k = json_string_value(json_object_get(o, "key"));
			if (strchr(seen, k[0]))
				return fail(error, where, "options[%zu].key: %s is taken already",
				            i, k);
			seen[strlen(seen)] = k[0];
		}
	}
	char *at;
	bool ok = true;
	if (json_object_get(g, "then")) {
		at = g_strdup_printf("%s%sthen", where, *where ? "." : "");
		ok = check_action(json_object_get(g, "then"), depth, at, error);
		g_free(at);
	}
	if (ok && json_object_get(g, "otherwise")) {
		at = g_strdup_printf("%s%sotherwise", where, *where ? "." : "");
		ok = check_action(json_object_get(g, "otherwise"), depth, at, error);
		g_free(at);
	}
	return ok;
}

bool sb_menu_check(json_t *gather, bool actions, char **error)
{
	*error = NULL;
	return check_gather(gather, actions, 0, "", error);
}

json_t *sb_menu_tool_parameters(void)
{
	json_t *option = json_pack(
	        "{s:s, s:{s:{s:s, s:[ssssssssssss]}, s:{s:s, s:{s:s, s:i}, s:i}, "
	        "s:{s:s, s:i}}, s:[s], s:b}",
	        "type", "object", "properties", "key", "type", "string", "enum", "0", "1", "2", "3",
	        "4", "5", "6", "7", "8", "9", "*", "#", "words", "type", "array", "items", "type",
	        "string", "maxLength", 64, "maxItems", 16, "value", "type", "string", "maxLength",
	        64, "required", "key", "additionalProperties", 0);
	return json_pack(
	        "{s:s, s:{s:{s:s, s:i, s:s}, s:{s:s, s:[sss]}, s:{s:s, s:i, s:i}, "
	        "s:{s:s, s:i, s:i}, s:{s:s, s:i, s:i}, s:{s:s, s:i, s:i}, s:{s:s, s:[sss]}, "
	        "s:{s:s, s:o, s:i}}, s:[s], s:b}",
	        "type", "object", "properties", "prompt", "type", "string", "maxLength",
	        SB_MENU_SAY_MAX, "description",
	        "What to say first: the choices, or what to key in and how to end it", "input",
	        "type", "string", "enum", "dtmf", "speech", "dtmf speech", "timeout_ms", "type",
	        "integer", "minimum", 500, "maximum", 60000, "max_digits", "type", "integer",
	        "minimum", 1, "maximum", SB_MENU_MAX_DIGITS, "min_digits", "type", "integer",
	        "minimum", 1, "maximum", SB_MENU_MAX_DIGITS, "retries", "type", "integer",
	        "minimum", 0, "maximum", 5, "finish_on_key", "type", "string", "enum", "#", "*", "",
	        "options", "type", "array", "items", option, "maxItems", SB_MENU_MAX_OPTIONS,
	        "required", "prompt", "additionalProperties", 0);
}
