# Embedded providers: the knowledge base (kb, grammar), the local dialog
# engine (llm_local, local_summary), pocketsphinx and espeak-ng, plus the
# registry of every provider by type.  Included from the top-level
# Makefile.am after check_PROGRAMS and SB_TEST_CFLAGS/SB_TEST_LIBS are set;
# paths are relative to the top of the tree (subdir-objects).  A per-target
# _CFLAGS replaces AM_CFLAGS, hence AM_CFLAGS in each.  The directory is
# spelled out, not in a variable: automake writes one .dirstamp rule per
# spelling, and two spellings of one directory make "overriding recipe"
# warnings (cloud.mk's $(SB_CLOUD_DIR) is a second spelling).

SB_KB_SOURCES = \
	plugins/switchboard/providers/kb.c plugins/switchboard/providers/kb.h \
	plugins/switchboard/providers/grammar.c \
	plugins/switchboard/providers/embedded.h plugins/switchboard/providers/provider.h
SB_LOCAL_SOURCES = \
	plugins/switchboard/providers/llm_local.c plugins/switchboard/providers/local_summary.c
SB_SPHINX_SOURCES = plugins/switchboard/providers/stt_pocketsphinx.c
SB_ESPEAK_SOURCES = plugins/switchboard/providers/tts_espeak.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/providers/registry.c \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_SPHINX_SOURCES) $(SB_ESPEAK_SOURCES)

# The tests find conf/knowledge-base.json through SB_SOURCE_DIR.
SB_EMBEDDED_TEST_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(SPHINX_CFLAGS) $(ESPEAK_CFLAGS) \
	$(JANSSON_CFLAGS) -DSB_SOURCE_DIR=\"$(abs_top_srcdir)\"
SB_EMBEDDED_TEST_LIBS = $(SB_TEST_LIBS) $(SPHINX_LIBS) $(ESPEAK_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_kb tests/unit/test_dialog tests/unit/test_embedded_speech

# Knowledge base loading and validation; the grammar against the CMU
# dictionary and in pocketsphinx.
tests_unit_test_kb_SOURCES = tests/unit/test_kb.c $(SB_KB_SOURCES) $(SB_SPHINX_SOURCES)
tests_unit_test_kb_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_kb_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# The dialog engine, its asynchronous provider and the call summary.
tests_unit_test_dialog_SOURCES = tests/unit/test_dialog.c $(SB_KB_SOURCES) $(SB_LOCAL_SOURCES)
tests_unit_test_dialog_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_dialog_LDADD = $(SB_EMBEDDED_TEST_LIBS)

# espeak-ng → pocketsphinx → dialog, through the provider interface.
# "-m slow" adds every phrase of the knowledge base (about 15 s).
tests_unit_test_embedded_speech_SOURCES = tests/unit/test_embedded_speech.c \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_SPHINX_SOURCES) $(SB_ESPEAK_SOURCES)
tests_unit_test_embedded_speech_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_embedded_speech_LDADD = $(SB_EMBEDDED_TEST_LIBS)
