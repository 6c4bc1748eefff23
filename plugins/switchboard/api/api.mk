# api: the operations table behind the Janus API, the Admin API and REST;
# the embedded HTTP server, REST routes, notifications, metrics, auth.

SB_API_SOURCES = \
	plugins/switchboard/api/api.h \
	plugins/switchboard/api/api_private.h \
	plugins/switchboard/api/ops.c \
	plugins/switchboard/api/ops_rooms.c \
	plugins/switchboard/api/auth.c \
	plugins/switchboard/api/principal.c \
	plugins/switchboard/api/http.c \
	plugins/switchboard/api/rest.c \
	plugins/switchboard/api/notify.c \
	plugins/switchboard/api/ws_backpressure.c \
	plugins/switchboard/api/metrics.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_API_SOURCES)

check_PROGRAMS += tests/unit/test_auth
tests_unit_test_auth_SOURCES = tests/unit/test_auth.c plugins/switchboard/api/auth.c
tests_unit_test_auth_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JWT_CFLAGS)
tests_unit_test_auth_LDADD = $(SB_TEST_LIBS) $(JWT_LIBS)

# The slow WebSocket client of the notifications back-pressure test.
noinst_PROGRAMS += tests/tools/ws_stall
tests_tools_ws_stall_SOURCES = tests/tools/ws_stall.c
