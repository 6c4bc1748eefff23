# recording: the recorder (a tap on a room's mix, the writer thread), the
# WAV and Opus-in-Ogg writers, its ops and REST route.

SB_REC_WRITERS = \
	plugins/switchboard/recording/recording.h plugins/switchboard/recording/recording_private.h \
	plugins/switchboard/recording/wav.c \
	plugins/switchboard/recording/ogg_opus.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_REC_WRITERS) \
	plugins/switchboard/recording/recorder.c \
	plugins/switchboard/recording/recording_api.c

# The writers: WAV header, Ogg CRC, lacing and granules, OpusHead/OpusTags,
# and whole files read back (decoded with libopus).
check_PROGRAMS += tests/unit/test_recording
tests_unit_test_recording_SOURCES = tests/unit/test_recording.c $(SB_REC_WRITERS) \
	plugins/switchboard/core/util.c
tests_unit_test_recording_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_recording_LDADD = $(SB_TEST_LIBS)
