# console: human agents (accounts and sign-in, presence, desks), the queue
# of calls and chats waiting for one, and the console's operations.

SB_CONSOLE_SOURCES = \
	plugins/switchboard/console/console.c \
	plugins/switchboard/console/console.h \
	plugins/switchboard/console/console_private.h \
	plugins/switchboard/console/presence.c \
	plugins/switchboard/console/console_api.c \
	plugins/switchboard/console/accounts.c \
	plugins/switchboard/console/console_ws.c

plugins_switchboard_libjanus_switchboard_la_CPPFLAGS += $(CRYPT_CFLAGS)
plugins_switchboard_libjanus_switchboard_la_LIBADD += $(CRYPT_LIBS)

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_CONSOLE_SOURCES)

# A yescrypt hash for [console] accounts (the tests make config accounts
# with it).
noinst_PROGRAMS += tests/tools/hash_password
tests_tools_hash_password_SOURCES = tests/tools/hash_password.c
tests_tools_hash_password_CFLAGS = $(AM_CFLAGS) $(CRYPT_CFLAGS)
tests_tools_hash_password_LDADD = $(CRYPT_LIBS)
