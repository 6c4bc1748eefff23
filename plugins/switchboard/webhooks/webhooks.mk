# webhooks: Switchboard's own events (calls, transfers, recordings, agent
# turns) POSTed to [webhooks] urls, signed, from the net module's outbox.

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/webhooks/webhooks.h \
	plugins/switchboard/webhooks/webhooks_private.h \
	plugins/switchboard/webhooks/filter.c \
	plugins/switchboard/webhooks/webhooks.c

check_PROGRAMS += tests/unit/test_webhooks
tests_unit_test_webhooks_SOURCES = tests/unit/test_webhooks.c \
	plugins/switchboard/webhooks/filter.c \
	plugins/switchboard/webhooks/webhooks_private.h
tests_unit_test_webhooks_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_webhooks_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
