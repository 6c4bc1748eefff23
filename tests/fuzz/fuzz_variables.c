/* libFuzzer target for a call's context (room/variables.c): variables come
 * from outsiders (SIP headers, Twilio parameters, metadata, a CRM's
 * answer) and templates are rendered with them.  The input is "template
 * NUL variables-JSON": whatever the JSON, what is kept keeps the bounds
 * (at most 64, names [a-z0-9_]{1,64}, values of at most 1024 bytes without
 * control characters), and rendering never crashes nor reads past its
 * input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "room/room.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern int janus_log_level; /* janus_log_stub.c: quiet, the drops are expected */

static void check_bounds(json_t *variables)
{
	if (json_object_size(variables) > SB_VARIABLES_MAX)
		__builtin_trap();
	const char *name;
	json_t *value;
	json_object_foreach(variables, name, value)
	{
		const char *v = json_string_value(value);
		if (!sb_variable_name_valid(name) || !v || strlen(v) > SB_VARIABLE_VALUE_MAX)
			__builtin_trap();
		for (const unsigned char *c = (const unsigned char *)v; *c; c++)
			if (*c < 0x20 || *c == 0x7f)
				__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	janus_log_level = 0;
	const uint8_t *nul = memchr(data, 0, size);
	size_t template_len = nul ? (size_t)(nul - data) : size;
	char *template = g_strndup((const char *)data, template_len);
	json_t *from =
	        nul ? json_loadb((const char *)nul + 1, size - template_len - 1, 0, NULL) : NULL;
	json_t *variables = json_object();
	sb_variables_merge(variables, from, "fuzz");
	sb_variables_merge(variables, from, "fuzz"); /* again: replaces, never grows */
	check_bounds(variables);
	g_free(sb_variables_render(template, variables));
	g_free(sb_variables_render(template, NULL));
	json_decref(variables);
	json_decref(from);
	g_free(template);
	return 0;
}
