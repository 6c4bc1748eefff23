/* A call's context: the flat map of variables a room keeps ({name:
 * string}) and the {{name|default}} templates the agent's persona and
 * greeting are written in.  Pure functions over jansson objects, so the
 * bounds and the substitution are unit-tested without a room
 * (tests/unit/test_variables.c); room.c keeps the map under the room's
 * mutex.
 *
 * What comes in is from outsiders (SIP headers, Twilio parameters, REST
 * metadata, a CRM's answer): it is bounded here and dropped with a log
 * line when it breaks a bound, never refused — a call is not lost to its
 * context.  Values are data, never template: rendering scans the template
 * once and copies values as they are, so braces inside a value stay
 * braces. */
#include "room/room.h"

#include <string.h>

#include <debug.h>

bool sb_variable_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > SB_VARIABLE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_islower(name[i]) && !g_ascii_isdigit(name[i]) && name[i] != '_')
			return false;
	return true;
}

char *sb_variable_name_normalize(const char *name)
{
	char *n = g_ascii_strdown(name ? name : "", -1);
	for (char *c = n; *c; c++)
		if (*c == '-')
			*c = '_';
	return n;
}

/* The value without control characters (tabs and newlines included: it is
 * spoken or put in a prompt on one line), or NULL when too long. */
static char *clean_value(const char *value)
{
	if (strlen(value) > SB_VARIABLE_VALUE_MAX)
		return NULL;
	GString *out = g_string_sized_new(strlen(value));
	for (const unsigned char *c = (const unsigned char *)value; *c; c++)
		if (*c >= 0x20 && *c != 0x7f)
			g_string_append_c(out, (char)*c);
	return g_string_free(out, FALSE);
}

guint sb_variables_merge(json_t *into, json_t *from, const char *source)
{
	if (!json_is_object(into) || !json_is_object(from))
		return 0;
	const char *where = source ? source : "?";
	guint taken = 0;
	const char *key;
	json_t *value;
	json_object_foreach(from, key, value)
	{
		char *name = sb_variable_name_normalize(key);
		char *clean = json_is_string(value) ? clean_value(json_string_value(value)) : NULL;
		const char *why = !sb_variable_name_valid(name) ? "its name is not [a-z0-9_]{1,64}"
		                  : !json_is_string(value)      ? "its value is not a string"
		                  : !clean ? "its value is longer than 1024 bytes"
		                  : (!json_object_get(into, name) &&
		                     json_object_size(into) >= SB_VARIABLES_MAX)
		                          ? "the call has 64 variables already"
		                          : NULL;
		if (why) {
			JANUS_LOG(LOG_WARN, "[switchboard] %s variable \"%.64s\" dropped: %s\n",
			          where, key, why);
		} else {
			json_object_set_new(into, name, json_string(clean));
			taken++;
		}
		g_free(clean);
		g_free(name);
	}
	return taken;
}

/* One placeholder's text between the braces: "name" or "name|default",
 * spaces around the name allowed.  Appends what it stands for. */
static void render_placeholder(GString *out, const char *inside, size_t len, json_t *variables)
{
	const char *bar = memchr(inside, '|', len);
	size_t name_len = bar ? (size_t)(bar - inside) : len;
	char *name = g_strstrip(g_strndup(inside, name_len));
	const char *value = sb_variable_name_valid(name)
	                            ? json_string_value(json_object_get(variables, name))
	                            : NULL;
	if (value && *value)
		g_string_append(out, value);
	else if (bar)
		g_string_append_len(out, bar + 1, (gssize)(len - name_len - 1));
	g_free(name);
}

char *sb_variables_render(const char *text, json_t *variables)
{
	if (!text)
		return NULL;
	GString *out = g_string_sized_new(strlen(text));
	const char *at = text;
	const char *open;
	while ((open = strstr(at, "{{")) != NULL) {
		const char *close = strstr(open + 2, "}}");
		if (!close) /* not a placeholder: left as written */
			break;
		g_string_append_len(out, at, open - at);
		render_placeholder(out, open + 2, (size_t)(close - open - 2), variables);
		at = close + 2;
	}
	g_string_append(out, at);
	return g_string_free(out, FALSE);
}
