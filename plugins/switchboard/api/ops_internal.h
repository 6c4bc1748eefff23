/* Shared by the files of the core operations (ops.c: the registry,
 * sessions, tokens and stats; ops_rooms.c: rooms and participants).  Not
 * for other modules: they use ops.h. */
#ifndef SB_OPS_INTERNAL_H
#define SB_OPS_INTERNAL_H

#include "api/ops.h"

typedef sb_field field;
#define F_STRING SB_F_STRING
#define F_INTEGER SB_F_INTEGER
#define F_BOOLEAN SB_F_BOOLEAN
#define check_fields sb_ops_check_fields
#define ROOM_FIELD                                                                                 \
	{                                                                                          \
		"room", F_STRING, true, SB_ROOM_NAME_MAX, 0                                        \
	}
#define SECRET_FIELD                                                                               \
	{                                                                                          \
		"secret", F_STRING, false, SB_SECRET_MAX, 0                                        \
	}
#define ID_FIELD                                                                                   \
	{                                                                                          \
		"id", F_INTEGER, true, (json_int_t)1 << 53, 1                                      \
	}

static inline const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* {"switchboard": "success"} */
json_t *sb_ops_success(void);
#define success sb_ops_success
bool sb_ops_role_valid(const char *role);

/* The room and participant operations (ops_rooms.c). */
extern const sb_op sb_room_ops[];
extern const size_t sb_room_ops_count;

#endif
