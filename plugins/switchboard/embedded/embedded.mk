# embedded: the engines that need no key and no network — the knowledge
# base (and the grammar made from it), the local dialog engine and its
# extractive summary, pocketsphinx, espeak-ng.

SB_KB_SOURCES = \
	plugins/switchboard/embedded/kb.c \
	plugins/switchboard/embedded/grammar.c plugins/switchboard/embedded/domain_lm.c \
	plugins/switchboard/embedded/embedded.h plugins/switchboard/embedded/embedded_private.h
SB_LOCAL_SOURCES = \
	plugins/switchboard/embedded/llm_local.c plugins/switchboard/embedded/local_provider.c \
	plugins/switchboard/embedded/local_summary.c
SB_SPHINX_SOURCES = plugins/switchboard/embedded/stt_pocketsphinx.c \
	plugins/switchboard/embedded/pocketsphinx_models.c plugins/switchboard/embedded/narrowband.c \
	plugins/switchboard/embedded/narrowband_map.inc
SB_ESPEAK_SOURCES = plugins/switchboard/embedded/tts_espeak.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_SPHINX_SOURCES) $(SB_ESPEAK_SOURCES)

# The tests find conf/knowledge-base.json through SB_SOURCE_DIR; the
# engines keep their release promise with core's event gate.
SB_EMBEDDED_CORE_SOURCES = plugins/switchboard/core/gate.c
SB_EMBEDDED_TEST_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(SPHINX_CFLAGS) $(ESPEAK_CFLAGS) \
	$(JANSSON_CFLAGS) -DSB_SOURCE_DIR=\"$(abs_top_srcdir)\"
SB_EMBEDDED_TEST_LIBS = $(SB_TEST_LIBS) $(SPHINX_LIBS) $(ESPEAK_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_kb tests/unit/test_dialog tests/unit/test_embedded_speech

# Knowledge base loading and validation; the grammar against the CMU
# dictionary and in pocketsphinx.
tests_unit_test_kb_SOURCES = tests/unit/test_kb.c $(SB_KB_SOURCES) $(SB_SPHINX_SOURCES) \
	$(SB_EMBEDDED_CORE_SOURCES)
tests_unit_test_kb_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_kb_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# The dialog engine, its asynchronous provider and the call summary.
tests_unit_test_dialog_SOURCES = tests/unit/test_dialog.c $(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) \
	$(SB_EMBEDDED_CORE_SOURCES)
tests_unit_test_dialog_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_dialog_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# espeak-ng → pocketsphinx → dialog, through the provider interface.
# "-m slow" adds every phrase of the knowledge base (about 15 s).
tests_unit_test_embedded_speech_SOURCES = tests/unit/test_embedded_speech.c \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_SPHINX_SOURCES) $(SB_ESPEAK_SOURCES) \
	$(SB_LANGUAGE_SOURCES) $(SB_EMBEDDED_CORE_SOURCES)
tests_unit_test_embedded_speech_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_embedded_speech_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# Tools the end-to-end tests run (built with `make`, not tests themselves).
noinst_PROGRAMS += tests/tools/recognise
tests_tools_recognise_SOURCES = tests/tools/recognise.c \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_SPHINX_SOURCES) $(SB_ESPEAK_SOURCES) \
	$(SB_LANGUAGE_SOURCES) $(SB_EMBEDDED_CORE_SOURCES)
tests_tools_recognise_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_tools_recognise_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# How well phone callers are understood (tests/data/phone-phrasings.json
# through the project's G.711 and G.722 codecs): `make` builds it, run
# build/tests/tools/phone_accuracy (~2.5 min; README "Phone callers").
SB_PHONE_EVAL_SOURCES = tests/tools/phone_eval.c tests/tools/phone_eval.h \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_SPHINX_SOURCES) $(SB_ESPEAK_SOURCES) \
	$(SB_LANGUAGE_SOURCES) $(SB_EMBEDDED_CORE_SOURCES) plugins/switchboard/media/codec.c
noinst_PROGRAMS += tests/tools/phone_accuracy
tests_tools_phone_accuracy_SOURCES = tests/tools/phone_accuracy.c $(SB_PHONE_EVAL_SOURCES)
tests_tools_phone_accuracy_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_tools_phone_accuracy_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# The narrowband map (narrowband.c) fitted on pocketsphinx-testdata's
# recordings of people: `make` builds it, run build/tests/tools/narrowband_fit.
SB_NARROWBAND_FIT_SOURCES = tests/tools/narrowband_fit.c tests/tools/narrowband_fit.h \
	$(SB_PHONE_EVAL_SOURCES)
noinst_PROGRAMS += tests/tools/narrowband_fit
tests_tools_narrowband_fit_SOURCES = tests/tools/narrowband_fit_main.c $(SB_NARROWBAND_FIT_SOURCES)
tests_tools_narrowband_fit_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_tools_narrowband_fit_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# The map still is what the fit gives, and it brings recordings it was
# not fitted on closer to wideband.
check_PROGRAMS += tests/unit/test_narrowband
tests_unit_test_narrowband_SOURCES = tests/unit/test_narrowband.c $(SB_NARROWBAND_FIT_SOURCES)
tests_unit_test_narrowband_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_narrowband_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# A sample of the same, with accuracy floors (~20 s).
check_PROGRAMS += tests/unit/test_phone_accuracy
tests_unit_test_phone_accuracy_SOURCES = tests/unit/test_phone_accuracy.c $(SB_PHONE_EVAL_SOURCES)
tests_unit_test_phone_accuracy_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_phone_accuracy_LDADD = $(SB_EMBEDDED_TEST_LIBS)
