/* Names, limits and error codes shared by every module of the plugin. */
#ifndef SB_H
#define SB_H

#include <stdbool.h>
#include <stddef.h>

#define SB_PLUGIN_VERSION 1
#define SB_PLUGIN_VERSION_STRING "0.1.0"
#define SB_PLUGIN_NAME "Switchboard"
#define SB_PLUGIN_PACKAGE "janus.plugin.switchboard"
#define SB_PLUGIN_AUTHOR "Switchboard"
#define SB_EVENT_KEY "switchboard"

#define SB_ROOM_NAME_MAX 64
#define SB_DISPLAY_MAX 128
#define SB_SECRET_MAX 256
#define SB_DESCRIPTION_MAX 256

/* Application errors of the Janus API (AudioBridge-style numbering). */
typedef enum {
	SB_OK = 0,
	SB_ERROR_UNKNOWN = 480,
	SB_ERROR_NO_MESSAGE = 481,
	SB_ERROR_INVALID_JSON = 482,
	SB_ERROR_INVALID_REQUEST = 483,
	SB_ERROR_MISSING_ELEMENT = 484,
	SB_ERROR_INVALID_ELEMENT = 485,
	SB_ERROR_NO_SUCH_ROOM = 486,
	SB_ERROR_ROOM_EXISTS = 487,
	SB_ERROR_UNAUTHORIZED = 488,
	SB_ERROR_NOT_JOINED = 489,
	SB_ERROR_ALREADY_JOINED = 490,
	SB_ERROR_NO_SUCH_PARTICIPANT = 491,
	SB_ERROR_INVALID_SDP = 492,
	SB_ERROR_LIMIT = 493,
} sb_error;

/* 1..SB_ROOM_NAME_MAX characters of A-Z a-z 0-9 . _ - */
bool sb_room_name_valid(const char *name);

#endif
