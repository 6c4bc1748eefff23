# tools: the agent's tools on the business's own systems — declarations
# from the operator's file, the JSON Schema subset of their arguments, the
# signed HTTP call, and MCP servers as a second transport.

SB_TOOLS_SOURCES = \
	plugins/switchboard/tools/tools.h plugins/switchboard/tools/tools_private.h \
	plugins/switchboard/tools/registry.c \
	plugins/switchboard/tools/schema.c \
	plugins/switchboard/tools/sign.c \
	plugins/switchboard/tools/call.c \
	plugins/switchboard/tools/mcp.c \
	plugins/switchboard/tools/mcp_wire.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_TOOLS_SOURCES)

# The schema subset and the signature.
check_PROGRAMS += tests/unit/test_tools
tests_unit_test_tools_SOURCES = tests/unit/test_tools.c \
	plugins/switchboard/tools/schema.c plugins/switchboard/tools/sign.c
tests_unit_test_tools_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_tools_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)

# The MCP wire format: requests, JSON and SSE answers, tools/list pages,
# tools/call results.
check_PROGRAMS += tests/unit/test_mcp
tests_unit_test_mcp_SOURCES = tests/unit/test_mcp.c \
	plugins/switchboard/tools/mcp_wire.c plugins/switchboard/tools/schema.c \
	plugins/switchboard/net/sse.c
tests_unit_test_mcp_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_mcp_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
