# core: names and error codes, the plugin configuration, the notification
# bus, loop threads, small shared helpers.  Included from the top-level
# Makefile.am; paths are relative to the top of the tree (subdir-objects),
# spelled out in full (automake writes one .dirstamp rule per spelling of
# a directory).

SB_CORE_SOURCES = \
	plugins/switchboard/core/core.h \
	plugins/switchboard/core/gate.c \
	plugins/switchboard/core/grant.c \
	plugins/switchboard/core/settings.c \
	plugins/switchboard/core/events.c \
	plugins/switchboard/core/loop.c \
	plugins/switchboard/core/util.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_CORE_SOURCES)

# Loop threads: set-up and tear-down, stops, posts after a stop, timers;
# the state directory.
check_PROGRAMS += tests/unit/test_loop
tests_unit_test_loop_SOURCES = tests/unit/test_loop.c plugins/switchboard/core/loop.c \
	plugins/switchboard/core/util.c
tests_unit_test_loop_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_loop_LDADD = $(SB_TEST_LIBS)
