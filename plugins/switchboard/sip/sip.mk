# sip: the SIP trunk bridge (sofia-sip): the UA thread, calls and legs,
# SDP offer/answer, admission (rate limits, X-Room signatures), digest,
# its ops and routes.

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/sip/sip_private.h \
	plugins/switchboard/sip/sip.c plugins/switchboard/sip/sip.h \
	plugins/switchboard/sip/sip_config.c \
	plugins/switchboard/sip/call.c \
	plugins/switchboard/sip/leg.c \
	plugins/switchboard/sip/sip_api.c \
	plugins/switchboard/sip/sdp.c \
	plugins/switchboard/sip/admission.c \
	plugins/switchboard/sip/digest.c
plugins_switchboard_libjanus_switchboard_la_CPPFLAGS += $(SOFIA_CFLAGS)
plugins_switchboard_libjanus_switchboard_la_LIBADD += $(SOFIA_LIBS)

check_PROGRAMS += tests/unit/test_sip
tests_unit_test_sip_SOURCES = tests/unit/test_sip.c \
	plugins/switchboard/sip/sdp.c plugins/switchboard/sip/admission.c \
	plugins/switchboard/core/grant.c \
	plugins/switchboard/endpoints/acl.c \
	plugins/switchboard/sip/digest.c plugins/switchboard/media/dtmf.c \
	plugins/switchboard/media/srtp.c
tests_unit_test_sip_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(SRTP_CFLAGS)
tests_unit_test_sip_LDADD = $(SB_TEST_LIBS) $(SRTP_LIBS)
