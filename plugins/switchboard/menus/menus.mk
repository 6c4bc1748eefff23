# menus: "press or say 1 for sales" — a gather's prompt, keys and words,
# timeouts, retries and outcome (the AI agent drives it).

SB_MENUS_SOURCES = \
	plugins/switchboard/menus/menus.h plugins/switchboard/menus/menus_private.h \
	plugins/switchboard/menus/spec.c \
	plugins/switchboard/menus/menu.c \
	plugins/switchboard/menus/action.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_MENUS_SOURCES)

# Checking gathers, keys, words, timeouts and retries, on a fake clock.
check_PROGRAMS += tests/unit/test_menus
tests_unit_test_menus_SOURCES = tests/unit/test_menus.c \
	plugins/switchboard/menus/spec.c plugins/switchboard/menus/menu.c \
	plugins/switchboard/menus/action.c
tests_unit_test_menus_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_menus_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
