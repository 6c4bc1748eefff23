# Unit tests of the media module (codecs, jitter buffer).  Included from the
# top-level Makefile.am after check_PROGRAMS is first set; it defines
# SB_TEST_CFLAGS (with -I plugins/switchboard) and SB_TEST_LIBS from
# pkg-config.  A per-target _CFLAGS replaces AM_CFLAGS, hence AM_CFLAGS here
# (warnings, -std=c11, sanitizers).  Paths are relative to the top of the
# tree (subdir-objects).

check_PROGRAMS += tests/unit/test_codec tests/unit/test_jitter

tests_unit_test_codec_SOURCES = \
	plugins/switchboard/media/codec.c \
	plugins/switchboard/media/codec.h \
	tests/unit/test_codec.c
tests_unit_test_codec_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_codec_LDADD = $(SB_TEST_LIBS)

tests_unit_test_jitter_SOURCES = \
	plugins/switchboard/media/jitter.c \
	plugins/switchboard/media/jitter.h \
	plugins/switchboard/media/codec.h \
	tests/unit/test_jitter.c
tests_unit_test_jitter_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_jitter_LDADD = $(SB_TEST_LIBS)
