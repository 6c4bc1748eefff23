# media: codecs (libopus, G.711, G.722), the jitter buffer, RTP parsing,
# RFC 4733 DTMF, SDES-SRTP, voice activity detection, echo cancellation.

SB_MEDIA_SOURCES = \
	plugins/switchboard/media/media.h \
	plugins/switchboard/media/codec.c \
	plugins/switchboard/media/jitter.c \
	plugins/switchboard/media/rtp.c \
	plugins/switchboard/media/dtmf.c \
	plugins/switchboard/media/srtp.c \
	plugins/switchboard/media/vad.c \
	plugins/switchboard/media/echo.c \
	plugins/switchboard/media/denoise.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += $(SB_MEDIA_SOURCES)
plugins_switchboard_libjanus_switchboard_la_CPPFLAGS += $(SRTP_CFLAGS)
plugins_switchboard_libjanus_switchboard_la_LIBADD += $(SRTP_LIBS)

check_PROGRAMS += tests/unit/test_codec tests/unit/test_jitter tests/unit/test_rtp tests/unit/test_vad tests/unit/test_echo \
	tests/unit/test_denoise
tests_unit_test_codec_SOURCES = tests/unit/test_codec.c \
	plugins/switchboard/media/codec.c
tests_unit_test_codec_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_codec_LDADD = $(SB_TEST_LIBS)
tests_unit_test_jitter_SOURCES = tests/unit/test_jitter.c \
	plugins/switchboard/media/jitter.c

tests_unit_test_jitter_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_jitter_LDADD = $(SB_TEST_LIBS)
tests_unit_test_rtp_SOURCES = tests/unit/test_rtp.c plugins/switchboard/media/rtp.c
tests_unit_test_rtp_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_rtp_LDADD = $(SB_TEST_LIBS)
tests_unit_test_vad_SOURCES = tests/unit/test_vad.c plugins/switchboard/media/vad.c
tests_unit_test_vad_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_vad_LDADD = $(SB_TEST_LIBS)
tests_unit_test_echo_SOURCES = tests/unit/test_echo.c plugins/switchboard/media/echo.c
tests_unit_test_echo_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_echo_LDADD = $(SB_TEST_LIBS)
tests_unit_test_denoise_SOURCES = tests/unit/test_denoise.c plugins/switchboard/media/denoise.c \
	plugins/switchboard/media/vad.c
tests_unit_test_denoise_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_denoise_LDADD = $(SB_TEST_LIBS)
