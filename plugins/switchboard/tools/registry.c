/* Tool declarations: read from the operator's file, each entry checked on
 * its own so one mistake does not cost the others, then held read-only in
 * a reference-counted set.  The set in force is swapped as a whole (start,
 * reload_providers); readers keep the one they took. */
#include "tools/tools_private.h"

#include "core/core.h"

#include <stdlib.h>
#include <string.h>

#include <debug.h>

struct sb_toolset {
	gint ref;
	GPtrArray *tools; /* sb_tool* */
};

/* The set in force is the file's tools (http_part) and then the MCP
 * servers' (mcp_part), remade whenever either changes. */
static GMutex current_lock;
static sb_toolset *current;
static sb_toolset *http_part;
static GPtrArray *mcp_part; /* sb_tool*, one reference each */

char *sb_tools_config_value(const char *value)
{
	return sb_config_secret(value);
}

sb_tool *sb_tool_new(void)
{
	sb_tool *t = g_new0(sb_tool, 1);
	t->ref = 1;
	return t;
}

sb_tool *sb_tool_ref(sb_tool *t)
{
	if (t)
		g_atomic_int_inc(&t->ref);
	return t;
}

void sb_tool_unref(sb_tool *t)
{
	if (!t || !g_atomic_int_dec_and_test(&t->ref))
		return;
	g_free(t->name);
	g_free(t->description);
	json_decref(t->parameters);
	g_free(t->url);
	g_free(t->method);
	g_strfreev(t->headers);
	if (t->secret)
		memset(t->secret, 0, strlen(t->secret));
	g_free(t->secret);
	g_free(t->say_while_waiting);
	sb_mcp_server_unref(t->mcp);
	g_free(t->mcp_name);
	g_free(t);
}

static void tool_free(gpointer data)
{
	sb_tool_unref(data);
}

static bool valid_header_name(const char *name)
{
	if (!*name)
		return false;
	for (const char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

/* A bad name, a value that is not a string, holds a line break, or
 * names an unset variable is an error. */
char **sb_tools_header_lines(json_t *headers, char **error)
{
	if (!headers)
		return g_new0(char *, 1);
	if (!json_is_object(headers)) {
		*error = g_strdup("\"headers\" must be an object of strings");
		return NULL;
	}
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	const char *key;
	json_t *v;
	json_object_foreach(headers, key, v)
	{
		char *value =
		        json_is_string(v) ? sb_tools_config_value(json_string_value(v)) : NULL;
		if (!valid_header_name(key) || !value || strpbrk(value, "\r\n")) {
			*error = !json_is_string(v) || !valid_header_name(key)
			                 ? g_strdup_printf("header \"%s\" must be a name with a "
			                                   "string value",
			                                   key)
			         : !value
			                 ? g_strdup_printf("header \"%s\": %s is not set", key,
			                                   json_string_value(v))
			                 : g_strdup_printf("header \"%s\" holds a line break", key);
			g_free(value);
			g_ptr_array_free(lines, TRUE);
			return NULL;
		}
		g_ptr_array_add(lines, g_strdup_printf("%s: %s", key, value));
		g_free(value);
	}
	g_ptr_array_add(lines, NULL);
	return (char **)g_ptr_array_free(lines, FALSE);
}

static const char *const entry_keys[] = {"name",       "description", "parameters",
                                         "url",        "method",      "headers",
                                         "timeout_ms", "secret",      "say_while_waiting"};

static bool known_key(const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(entry_keys); i++)
		if (!strcmp(key, entry_keys[i]))
			return true;
	return false;
}

static bool read_strings(json_t *e, sb_tool *t, char **error)
{
	const char *key;
	json_t *v;
	json_object_foreach(e, key, v) if (!known_key(key))
	{
		*error = g_strdup_printf("unknown key \"%s\"", key);
		return false;
	}
	const char *name = json_string_value(json_object_get(e, "name"));
	if (!sb_tools_valid_name(name, SB_TOOL_NAME_MAX)) {
		*error = g_strdup("\"name\" must be 1 to 64 of a-z A-Z 0-9 _ -");
		return false;
	}
	/* "gather" is the keypad (menus/menus.h's SB_GATHER_TOOL). */
	if (!strcmp(name, "transfer_to_human") || !strcmp(name, "end_call") ||
	    !strcmp(name, "gather")) {
		*error = g_strdup_printf("\"%s\" is one of the agent's own tools", name);
		return false;
	}
	t->name = g_strdup(name);
	const char *description = json_string_value(json_object_get(e, "description"));
	if (!description || !*description || strlen(description) > 1024) {
		*error = g_strdup("\"description\" must be a string of 1 to 1024 characters");
		return false;
	}
	t->description = g_strdup(description);
	const char *url = json_string_value(json_object_get(e, "url"));
	if (!url || (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://")) ||
	    strpbrk(url, " \r\n")) {
		*error = g_strdup("\"url\" must be an http:// or https:// URL");
		return false;
	}
	t->url = g_strdup(url);
	json_t *method = json_object_get(e, "method");
	const char *m = method ? json_string_value(method) : "POST";
	if (!m || (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0)) {
		*error = g_strdup("\"method\" must be \"POST\" or \"PUT\"");
		return false;
	}
	t->method = g_strdup(m);
	json_t *say = json_object_get(e, "say_while_waiting");
	if (say && (!json_is_string(say) || json_string_length(say) > 300)) {
		*error = g_strdup(
		        "\"say_while_waiting\" must be a sentence (300 characters at most)");
		return false;
	}
	t->say_while_waiting =
	        say && json_string_length(say) ? g_strdup(json_string_value(say)) : NULL;
	return true;
}

static bool read_rest(json_t *e, sb_tool *t, char **error)
{
	json_t *params = json_object_get(e, "parameters");
	char *why = NULL;
	if (!params) {
		params = json_pack("{s:s, s:{}}", "type", "object", "properties");
	} else if (!sb_schema_check(params, &why)) {
		*error = g_strdup_printf("\"parameters\": %s", why);
		g_free(why);
		return false;
	} else {
		json_incref(params);
	}
	t->parameters = params;
	json_t *timeout = json_object_get(e, "timeout_ms");
	t->timeout_ms = SB_TOOL_TIMEOUT_DEFAULT_MS;
	if (timeout) {
		if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
		    json_integer_value(timeout) > SB_TOOL_TIMEOUT_MAX_MS) {
			*error = g_strdup_printf(
			        "\"timeout_ms\" must be a whole number from 1 to %d",
			        SB_TOOL_TIMEOUT_MAX_MS);
			return false;
		}
		t->timeout_ms = (int)json_integer_value(timeout);
	}
	json_t *secret = json_object_get(e, "secret");
	if (secret) {
		t->secret = json_is_string(secret)
		                    ? sb_tools_config_value(json_string_value(secret))
		                    : NULL;
		if (!t->secret) {
			*error = json_is_string(secret)
			                 ? g_strdup_printf("\"secret\": %s is not set",
			                                   json_string_value(secret))
			                 : g_strdup("\"secret\" must be a string");
			return false;
		}
	}
	t->headers = sb_tools_header_lines(json_object_get(e, "headers"), error);
	return t->headers != NULL;
}

static sb_tool *read_entry(json_t *e, char **error)
{
	if (!json_is_object(e)) {
		*error = g_strdup("must be an object");
		return NULL;
	}
	sb_tool *t = sb_tool_new();
	if (!read_strings(e, t, error) || !read_rest(e, t, error)) {
		tool_free(t);
		return NULL;
	}
	return t;
}

static void report(GPtrArray *problems, char *line)
{
	if (problems)
		g_ptr_array_add(problems, line);
	else {
		JANUS_LOG(LOG_WARN, "[switchboard] tools: %s\n", line);
		g_free(line);
	}
}

sb_toolset *sb_toolset_from_json(json_t *array, GPtrArray *problems)
{
	sb_toolset *set = g_new0(sb_toolset, 1);
	set->ref = 1;
	set->tools = g_ptr_array_new_with_free_func(tool_free);
	size_t i;
	json_t *e;
	json_array_foreach(array, i, e)
	{
		char *error = NULL;
		sb_tool *t = read_entry(e, &error);
		const char *name = json_string_value(json_object_get(e, "name"));
		if (t && sb_toolset_find(set, t->name)) {
			error = g_strdup_printf("\"%s\" is declared twice: the first one is kept",
			                        t->name);
			tool_free(t);
			t = NULL;
		}
		if (!t) {
			report(problems,
			       g_strdup_printf("entry %zu%s%s%s skipped: %s", i, name ? " (\"" : "",
			                       name ? name : "", name ? "\")" : "", error));
			g_free(error);
			continue;
		}
		g_ptr_array_add(set->tools, t);
	}
	return set;
}

sb_toolset *sb_toolset_load(const char *path, GPtrArray *problems, char **error)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) {
		*error = g_strdup_printf("%s: %s (line %d)", path, jerr.text, jerr.line);
		return NULL;
	}
	if (!json_is_array(root)) {
		*error = g_strdup_printf("%s: must be a JSON array of tools", path);
		json_decref(root);
		return NULL;
	}
	sb_toolset *set = sb_toolset_from_json(root, problems);
	json_decref(root);
	return set;
}

sb_toolset *sb_toolset_ref(sb_toolset *set)
{
	if (set)
		g_atomic_int_inc(&set->ref);
	return set;
}

void sb_toolset_unref(sb_toolset *set)
{
	if (!set || !g_atomic_int_dec_and_test(&set->ref))
		return;
	g_ptr_array_free(set->tools, TRUE);
	g_free(set);
}

size_t sb_toolset_size(const sb_toolset *set)
{
	return set ? set->tools->len : 0;
}

const sb_tool *sb_toolset_find(const sb_toolset *set, const char *name)
{
	for (guint i = 0; set && name && i < set->tools->len; i++) {
		const sb_tool *t = set->tools->pdata[i];
		if (!strcmp(t->name, name))
			return t;
	}
	return NULL;
}

static bool named(json_t *names, const char *name)
{
	size_t i;
	json_t *v;
	if (!json_is_array(names))
		return true;
	json_array_foreach(names, i, v) if (!g_strcmp0(json_string_value(v), name)) return true;
	return false;
}

json_t *sb_toolset_offer(const sb_toolset *set, json_t *names)
{
	json_t *out = json_array();
	for (guint i = 0; set && i < set->tools->len; i++) {
		const sb_tool *t = set->tools->pdata[i];
		if (named(names, t->name))
			json_array_append_new(out, json_pack("{s:s, s:s, s:O}", "name", t->name,
			                                     "description", t->description,
			                                     "parameters", t->parameters));
	}
	return out;
}

sb_toolset *sb_tools_current(void)
{
	g_mutex_lock(&current_lock);
	sb_toolset *set = sb_toolset_ref(current);
	g_mutex_unlock(&current_lock);
	return set;
}

/* Under current_lock: the file's tools, then the servers' whose names are
 * free. */
static sb_toolset *compose_locked(void)
{
	sb_toolset *set = g_new0(sb_toolset, 1);
	set->ref = 1;
	set->tools = g_ptr_array_new_with_free_func(tool_free);
	for (guint i = 0; http_part && i < http_part->tools->len; i++)
		g_ptr_array_add(set->tools, sb_tool_ref(http_part->tools->pdata[i]));
	for (guint i = 0; mcp_part && i < mcp_part->len; i++) {
		sb_tool *t = mcp_part->pdata[i];
		if (sb_toolset_find(set, t->name)) {
			JANUS_LOG(LOG_WARN,
			          "[switchboard] mcp: tool \"%s\" skipped: [agent] tools already "
			          "has one of that name\n",
			          t->name);
			continue;
		}
		g_ptr_array_add(set->tools, sb_tool_ref(t));
	}
	return set;
}

static void recompose_locked(void)
{
	sb_toolset *old = current;
	current = http_part || (mcp_part && mcp_part->len) ? compose_locked() : NULL;
	sb_toolset_unref(old);
}

void sb_tools_set_current(sb_toolset *set)
{
	sb_toolset_ref(set);
	g_mutex_lock(&current_lock);
	sb_toolset *old = http_part;
	http_part = set;
	recompose_locked();
	g_mutex_unlock(&current_lock);
	sb_toolset_unref(old);
}

void sb_tools_set_mcp_part(GPtrArray *tools)
{
	GPtrArray *fresh = g_ptr_array_new_with_free_func(tool_free);
	for (guint i = 0; tools && i < tools->len; i++)
		g_ptr_array_add(fresh, sb_tool_ref(tools->pdata[i]));
	g_mutex_lock(&current_lock);
	GPtrArray *old = mcp_part;
	mcp_part = fresh;
	recompose_locked();
	g_mutex_unlock(&current_lock);
	if (old)
		g_ptr_array_free(old, TRUE);
}
