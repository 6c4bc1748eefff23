# Room recordings: the recorder (a tap on the room's mix, a writer thread),
# the WAV and Opus-in-Ogg writers, the operations and REST route.  Included
# from the top-level Makefile.am after check_PROGRAMS and SB_TEST_CFLAGS /
# SB_TEST_LIBS are set; paths relative to the top of the tree.

SB_REC_WRITERS = \
	plugins/switchboard/recording/wav.c plugins/switchboard/recording/wav.h \
	plugins/switchboard/recording/ogg_opus.c plugins/switchboard/recording/ogg_opus.h

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_REC_WRITERS) \
	plugins/switchboard/recording/recorder.c plugins/switchboard/recording/recorder.h \
	plugins/switchboard/recording/recording_api.c plugins/switchboard/recording/recording_api.h

# The writers: WAV header, Ogg CRC, lacing and granules, OpusHead/OpusTags,
# and whole files read back (decoded with libopus).
check_PROGRAMS += tests/unit/test_recording
tests_unit_test_recording_SOURCES = tests/unit/test_recording.c $(SB_REC_WRITERS)
tests_unit_test_recording_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_recording_LDADD = $(SB_TEST_LIBS)
