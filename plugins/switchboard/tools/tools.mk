# tools: the agent's tools on the business's own systems — declarations
# from the operator's file, the JSON Schema subset of their arguments, and
# the signed HTTP call.

SB_TOOLS_SOURCES = \
	plugins/switchboard/tools/tools.h plugins/switchboard/tools/tools_private.h \
	plugins/switchboard/tools/registry.c \
	plugins/switchboard/tools/schema.c \
	plugins/switchboard/tools/sign.c \
	plugins/switchboard/tools/call.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_TOOLS_SOURCES)

# The schema subset and the signature.
check_PROGRAMS += tests/unit/test_tools
tests_unit_test_tools_SOURCES = tests/unit/test_tools.c \
	plugins/switchboard/tools/schema.c plugins/switchboard/tools/sign.c
tests_unit_test_tools_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_tools_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
