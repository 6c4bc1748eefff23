# room: the room registry, participants, the mixer worker threads and the
# mixing arithmetic, hold audio.

SB_ROOM_SOURCES = \
	plugins/switchboard/room/room.c plugins/switchboard/room/room.h \
	plugins/switchboard/room/room_private.h \
	plugins/switchboard/room/participant.c \
	plugins/switchboard/room/variables.c \
	plugins/switchboard/room/mixer.c \
	plugins/switchboard/room/mix.c plugins/switchboard/room/mix.h \
	plugins/switchboard/room/hold.c plugins/switchboard/room/hold.h

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_ROOM_SOURCES)

check_PROGRAMS += tests/unit/test_mix tests/unit/test_hold tests/unit/test_participant
tests_unit_test_participant_SOURCES = tests/unit/test_participant.c tests/unit/janus_log_stub.c \
	plugins/switchboard/room/participant.c plugins/switchboard/room/mix.c \
	plugins/switchboard/media/codec.c plugins/switchboard/media/jitter.c \
	plugins/switchboard/media/rtp.c plugins/switchboard/media/echo.c \
	plugins/switchboard/media/denoise.c
tests_unit_test_participant_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_participant_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
# A caller's onset through the echo canceller, as the agent's VAD hears it.
check_PROGRAMS += tests/unit/test_echo_onset
tests_unit_test_echo_onset_SOURCES = tests/unit/test_echo_onset.c tests/unit/janus_log_stub.c \
	plugins/switchboard/room/participant.c plugins/switchboard/room/mix.c \
	plugins/switchboard/media/codec.c plugins/switchboard/media/jitter.c \
	plugins/switchboard/media/rtp.c plugins/switchboard/media/echo.c \
	plugins/switchboard/media/denoise.c plugins/switchboard/media/vad.c
tests_unit_test_echo_onset_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_echo_onset_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
tests_unit_test_mix_SOURCES = tests/unit/test_mix.c plugins/switchboard/room/mix.c
tests_unit_test_mix_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_mix_LDADD = $(SB_TEST_LIBS)
tests_unit_test_hold_SOURCES = tests/unit/test_hold.c plugins/switchboard/room/hold.c
tests_unit_test_hold_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_hold_LDADD = $(SB_TEST_LIBS)

# A call's context: the bounds of its variables and {{name|default}}.
check_PROGRAMS += tests/unit/test_variables
tests_unit_test_variables_SOURCES = tests/unit/test_variables.c tests/unit/janus_log_stub.c \
	plugins/switchboard/room/variables.c
tests_unit_test_variables_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_variables_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
