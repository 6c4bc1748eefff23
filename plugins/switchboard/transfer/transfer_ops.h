/* Shared by the transfer module's operation files: transfer_api.c (the
 * transfers, summaries, assist, the hand-off) and console_api.c (the
 * console's agents, presence and queue).  Not for other modules. */
#ifndef SB_TRANSFER_OPS_H
#define SB_TRANSFER_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api/ops.h"
#include "room/participant.h"

/* {"switchboard": kind} */
json_t *sb_xfer_answer(const char *kind);
/* An op error with its name and HTTP status ("agent_unavailable" → 409 …). */
json_t *sb_xfer_error(sb_error code, const char *name, const char *text);
bool sb_xfer_string_ok(json_t *body, const char *name, bool required, size_t max);
#define CHECK_STRING(body, name, required, max)                                                    \
	do {                                                                                       \
		if (!sb_xfer_string_ok(body, name, required, max))                                 \
			return sb_ops_error(                                                       \
			        json_object_get(body, name) ? SB_ERROR_INVALID_ELEMENT             \
			                                    : SB_ERROR_MISSING_ELEMENT,            \
			        "%s must be a string of 1 to %d characters", name, (int)(max));    \
	} while (0)

/* Who asks through the Janus API: a console agent or supervisor (their
 * session's participant, referenced), or the Admin API / REST (trusted). */
json_t *sb_xfer_console_caller(sb_op_ctx *ctx, sb_participant **out);

/* console_api.c: its ops and REST routes. */
void sb_console_api_register(void);

#endif
