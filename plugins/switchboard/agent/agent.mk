# agent: the AI participant and its turn-taking, the STT → LLM → TTS
# pipeline, its outgoing voice, what a listener confirmed hearing, its
# menus on the keypad, and reloading the provider configuration.

SB_AGENT_SOURCES = \
	plugins/switchboard/agent/agent_module.c \
	plugins/switchboard/agent/agent_private.h \
	plugins/switchboard/agent/agent.c plugins/switchboard/agent/agent.h \
	plugins/switchboard/agent/agent_thread.h \
	plugins/switchboard/agent/agent_life.c \
	plugins/switchboard/agent/agent_gather.c \
	plugins/switchboard/agent/agent_pipeline.c plugins/switchboard/agent/agent_pipeline.h \
	plugins/switchboard/agent/agent_tool_rounds.c \
	plugins/switchboard/agent/agent_voice.c \
	plugins/switchboard/agent/agent_heard.c \
	plugins/switchboard/agent/agent_timing.c \
	plugins/switchboard/agent/agent_backchannel.c \
	plugins/switchboard/agent/agent_endpoint.c \
	plugins/switchboard/agent/agent_own_tool.c \
	plugins/switchboard/agent/reload.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_AGENT_SOURCES)

# What the caller heard of the agent (Media Streams marks).
check_PROGRAMS += tests/unit/test_agent_heard
tests_unit_test_agent_heard_SOURCES = tests/unit/test_agent_heard.c \
	plugins/switchboard/agent/agent_heard.c
tests_unit_test_agent_heard_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_agent_heard_LDADD = $(SB_TEST_LIBS)

# Where a turn's time goes: its record and the stage histograms.
check_PROGRAMS += tests/unit/test_agent_timing
tests_unit_test_agent_timing_SOURCES = tests/unit/test_agent_timing.c \
	plugins/switchboard/agent/agent_timing.c
tests_unit_test_agent_timing_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_agent_timing_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)

# Backchannels ("mm-hmm", "okay") that do not interrupt the agent.
check_PROGRAMS += tests/unit/test_agent_backchannel
tests_unit_test_agent_backchannel_SOURCES = tests/unit/test_agent_backchannel.c \
	plugins/switchboard/agent/agent_backchannel.c $(SB_KB_SOURCES)
tests_unit_test_agent_backchannel_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_agent_backchannel_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# The end of a turn from what was heard so far.
check_PROGRAMS += tests/unit/test_agent_endpoint
tests_unit_test_agent_endpoint_SOURCES = tests/unit/test_agent_endpoint.c \
	plugins/switchboard/agent/agent_endpoint.c $(SB_KB_SOURCES)
tests_unit_test_agent_endpoint_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_agent_endpoint_LDADD = $(SB_EMBEDDED_TEST_LIBS)
