# Warm transfer (issue 8): hold audio, the state machine, its environment,
# console agents' presence and queue, the ops and REST routes.  Included
# from the top-level Makefile.am after check_PROGRAMS and SB_TEST_* are set.

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/hold.c plugins/switchboard/hold.h \
	plugins/switchboard/transfer.c plugins/switchboard/transfer.h \
	plugins/switchboard/transfer_env.c plugins/switchboard/transfer_env.h \
	plugins/switchboard/presence.c plugins/switchboard/presence.h \
	plugins/switchboard/transfer_api.c plugins/switchboard/transfer_api.h \
	plugins/switchboard/transfer_ops.h plugins/switchboard/console_api.c

# The state machine alone, with an injected fake environment (no Janus).
check_PROGRAMS += tests/unit/test_transfer tests/unit/test_hold
tests_unit_test_transfer_SOURCES = tests/unit/test_transfer.c plugins/switchboard/transfer.c
tests_unit_test_transfer_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_transfer_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
tests_unit_test_hold_SOURCES = tests/unit/test_hold.c plugins/switchboard/hold.c
tests_unit_test_hold_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_hold_LDADD = $(SB_TEST_LIBS)

# The summary and assist answers from a cloud language model (LLM chain).
plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/transfer_ai.c plugins/switchboard/transfer_ai.h

# The summary/assist module with an LLM chain of fake providers.
check_PROGRAMS += tests/unit/test_transfer_ai
tests_unit_test_transfer_ai_SOURCES = tests/unit/test_transfer_ai.c \
	plugins/switchboard/transfer_ai.c plugins/switchboard/transfer_ai.h \
	tests/unit/chain_fakes.c tests/unit/chain_fakes.h \
	plugins/switchboard/providers/chain.c plugins/switchboard/providers/chain.h \
	plugins/switchboard/providers/chain_core.c plugins/switchboard/providers/chain_internal.h \
	plugins/switchboard/providers/cloud_util.c plugins/switchboard/providers/cloud_util.h \
	plugins/switchboard/providers/config.c plugins/switchboard/providers/config.h \
	plugins/switchboard/providers/current.c plugins/switchboard/providers/current.h
tests_unit_test_transfer_ai_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANUS_CPPFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_transfer_ai_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
