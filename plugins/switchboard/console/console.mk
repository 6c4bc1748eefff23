# console: human agents (sign-in, presence, desks), the queue of calls and
# chats waiting for one, and the console's operations.

SB_CONSOLE_SOURCES = \
	plugins/switchboard/console/console.c \
	plugins/switchboard/console/console.h \
	plugins/switchboard/console/console_private.h \
	plugins/switchboard/console/presence.c \
	plugins/switchboard/console/console_api.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_CONSOLE_SOURCES)
