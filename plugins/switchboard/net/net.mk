# net: outbound HTTP (one libcurl multi thread), the WebSocket client
# thread, the Server-Sent Events parser, the outbox (webhooks with a durable
# queue).

SB_NET_SOURCES = \
	plugins/switchboard/net/fetch.c \
	plugins/switchboard/net/ws_client.c \
	plugins/switchboard/net/sse.c plugins/switchboard/net/sign.c \
	plugins/switchboard/net/net.h

# The outbox logs through Janus: the plugin's alone (the provider CLI
# links SB_NET_SOURCES without Janus).
plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_NET_SOURCES) \
	plugins/switchboard/net/outbox.c

check_PROGRAMS += tests/unit/test_sse
tests_unit_test_sse_SOURCES = tests/unit/test_sse.c \
	plugins/switchboard/net/sse.c \
	plugins/switchboard/net/net.h
tests_unit_test_sse_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_sse_LDADD = $(SB_TEST_LIBS)
