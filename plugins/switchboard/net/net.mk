# net: outbound HTTP (one libcurl multi thread), the WebSocket client
# thread, the Server-Sent Events parser.

SB_NET_SOURCES = \
	plugins/switchboard/net/fetch.c \
	plugins/switchboard/net/ws_client.c \
	plugins/switchboard/net/sse.c plugins/switchboard/net/net.h

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_NET_SOURCES)

check_PROGRAMS += tests/unit/test_sse
tests_unit_test_sse_SOURCES = tests/unit/test_sse.c \
	plugins/switchboard/net/sse.c plugins/switchboard/net/net.h
tests_unit_test_sse_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_sse_LDADD = $(SB_TEST_LIBS)
