# analysis: every call's analysis when it ends (summary, outcome, goal,
# sentiment, fields), and the caller's sentiment on live transcript lines.

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/analysis/analysis.h \
	plugins/switchboard/analysis/analysis_private.h \
	plugins/switchboard/analysis/local.c \
	plugins/switchboard/analysis/model.c \
	plugins/switchboard/analysis/analysis.c

check_PROGRAMS += tests/unit/test_analysis
tests_unit_test_analysis_SOURCES = tests/unit/test_analysis.c \
	plugins/switchboard/analysis/local.c plugins/switchboard/analysis/analysis_private.h \
	$(SB_KB_SOURCES) $(SB_LOCAL_SOURCES) $(SB_EMBEDDED_CORE_SOURCES)
tests_unit_test_analysis_CFLAGS = $(SB_EMBEDDED_TEST_CFLAGS)
tests_unit_test_analysis_LDADD = $(SB_EMBEDDED_TEST_LIBS) -lm
