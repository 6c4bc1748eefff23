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
