/* Twirp errors and the proto3 JSON mapping's rules that are not tied to
 * one message (livekit.md 1.4, 1.5): pure, unit-tested with token.c. */
#include "livekit/livekit_private.h"

#include <stdarg.h>
#include <string.h>

typedef struct twirp_code {
	const char *code;
	int status;
} twirp_code;

/* twirp errors.go ServerHTTPStatusFromErrorCode */
static const twirp_code codes[] = {
        {"canceled", 408},
        {"unknown", 500},
        {"invalid_argument", 400},
        {"malformed", 400},
        {"deadline_exceeded", 408},
        {"not_found", 404},
        {"bad_route", 404},
        {"already_exists", 409},
        {"permission_denied", 403},
        {"unauthenticated", 401},
        {"resource_exhausted", 429},
        {"failed_precondition", 412},
        {"aborted", 409},
        {"out_of_range", 400},
        {"unimplemented", 501},
        {"internal", 500},
        {"unavailable", 503},
        {"data_loss", 500},
};

int sb_lk_twirp_status(const char *code)
{
	for (size_t i = 0; code && i < G_N_ELEMENTS(codes); i++)
		if (!strcmp(codes[i].code, code))
			return codes[i].status;
	return 500;
}

int sb_lk_twirp_error(json_t **out, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	*out = json_pack("{ssss}", "code", code, "msg", msg);
	g_free(msg);
	return sb_lk_twirp_status(code);
}

json_t *sb_lk_field(json_t *body, const char *json_name, const char *proto_name)
{
	json_t *v = json_object_get(body, json_name);
	if (!v || json_is_null(v))
		v = json_object_get(body, proto_name);
	return v && !json_is_null(v) ? v : NULL;
}

/* Enum fields whose zero value has a name (proto3 JSON leaves it out). */
static const struct {
	const char *field, *zero;
} enum_zeros[] = {
        {"kind", "STANDARD"}, {"state", "JOINING"},  {"disconnect_reason", "UNKNOWN_REASON"},
        {"type", "AUDIO"},    {"source", "UNKNOWN"}, {"encryption", "NONE"},
};

static bool is_zero(const char *field, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return true;
	case JSON_INTEGER:
		return json_integer_value(v) == 0;
	case JSON_REAL:
		return json_real_value(v) == 0.0;
	case JSON_ARRAY:
		return json_array_size(v) == 0;
	case JSON_OBJECT:
		return json_object_size(v) == 0;
	case JSON_STRING: {
		const char *text = json_string_value(v);
		if (!*text || !strcmp(text, "0")) /* int64 fields are strings */
			return true;
		for (size_t i = 0; i < G_N_ELEMENTS(enum_zeros); i++)
			if (!strcmp(field, enum_zeros[i].field) &&
			    !strcmp(text, enum_zeros[i].zero))
				return true;
		return false;
	}
	default:
		return false;
	}
}

static char *camel(const char *proto_name)
{
	GString *out = g_string_new(NULL);
	for (const char *c = proto_name; *c; c++) {
		if (*c == '_' && c[1]) {
			g_string_append_c(out, g_ascii_toupper(*++c));
		} else {
			g_string_append_c(out, *c);
		}
	}
	return g_string_free(out, FALSE);
}

json_t *sb_lk_protojson(json_t *message)
{
	if (json_is_array(message)) {
		json_t *out = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(message, i, v) json_array_append_new(out, sb_lk_protojson(v));
		return out;
	}
	if (!json_is_object(message))
		return json_deep_copy(message);
	json_t *out = json_object();
	const char *name;
	json_t *v;
	json_object_foreach(message, name, v)
	{
		if (is_zero(name, v))
			continue;
		char *json_name = camel(name);
		/* A map's keys are data, not field names. */
		json_object_set_new(out, json_name,
		                    !strcmp(name, "attributes") ? json_deep_copy(v)
		                                                : sb_lk_protojson(v));
		g_free(json_name);
	}
	return out;
}
