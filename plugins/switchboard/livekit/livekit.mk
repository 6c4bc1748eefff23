# livekit: LiveKit's server API (Twirp, JSON) and access tokens, mapped
# onto the ops table.

SB_LIVEKIT_PURE_SOURCES = \
	plugins/switchboard/livekit/token.c \
	plugins/switchboard/livekit/proto.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/livekit/livekit.h \
	plugins/switchboard/livekit/livekit_private.h \
	$(SB_LIVEKIT_PURE_SOURCES) \
	plugins/switchboard/livekit/twirp.c \
	plugins/switchboard/livekit/room_service.c \
	plugins/switchboard/livekit/agent_dispatch.c \
	plugins/switchboard/livekit/egress.c \
	plugins/switchboard/livekit/sip_service.c \
	plugins/switchboard/livekit/sip_trunks.c \
	plugins/switchboard/livekit/sip_admin.c \
	plugins/switchboard/livekit/sip_routing.c \
	plugins/switchboard/livekit/webhook.c \
	plugins/switchboard/livekit/livekit.c

check_PROGRAMS += tests/unit/test_livekit
tests_unit_test_livekit_SOURCES = tests/unit/test_livekit.c tests/unit/livekit_jwt.h \
	$(SB_LIVEKIT_PURE_SOURCES) plugins/switchboard/net/sign.c
tests_unit_test_livekit_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_livekit_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
