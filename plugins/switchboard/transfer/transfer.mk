# transfer: warm transfer — the state machine, its room environment, the
# ops and REST routes, the AI summary and assist.

SB_TRANSFER_SOURCES = \
	plugins/switchboard/transfer/transfer_private.h \
	plugins/switchboard/transfer/transfer.c plugins/switchboard/transfer/transfer.h \
	plugins/switchboard/transfer/transfer_env.c \
	plugins/switchboard/transfer/transfer_api.c \
	plugins/switchboard/transfer/transfer_ai.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_TRANSFER_SOURCES)

check_PROGRAMS += tests/unit/test_transfer tests/unit/test_transfer_ai

# The state machine alone, with an injected fake environment (no Janus).
tests_unit_test_transfer_SOURCES = tests/unit/test_transfer.c \
	plugins/switchboard/transfer/transfer.c
tests_unit_test_transfer_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_transfer_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)

# The summary/assist module with an LLM chain of fake providers.
tests_unit_test_transfer_ai_SOURCES = tests/unit/test_transfer_ai.c tests/unit/janus_log_stub.c \
	plugins/switchboard/transfer/transfer_ai.c \
	tests/unit/chain_fakes.c tests/unit/chain_fakes.h \
	$(SB_CHAIN_TEST_SOURCES) \
	plugins/switchboard/providers/current.c
tests_unit_test_transfer_ai_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANUS_CPPFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_transfer_ai_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
