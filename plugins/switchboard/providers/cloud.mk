# Cloud providers (OpenAI-compatible, Anthropic, Deepgram, ElevenLabs), the
# libcurl multi worker, the WebSocket client thread, SSE, provider configs
# and fallback chains.  Included from the top-level Makefile.am after
# check_PROGRAMS and SB_TEST_CFLAGS/SB_TEST_LIBS are set; paths are relative
# to the top of the tree (subdir-objects).  A per-target _CFLAGS replaces
# AM_CFLAGS, hence AM_CFLAGS in each (warnings, -std=c11, sanitizers).


# Everything but the provider implementations: what the chains and the
# CLI need.
SB_CLOUD_CORE = \
	plugins/switchboard/providers/provider.h \
	plugins/switchboard/providers/cloud_util.c plugins/switchboard/providers/cloud_util.h \
	plugins/switchboard/providers/http_client.c plugins/switchboard/providers/http_client.h \
	plugins/switchboard/providers/ws_client.c plugins/switchboard/providers/ws_client.h \
	plugins/switchboard/providers/sse.c plugins/switchboard/providers/sse.h \
	plugins/switchboard/providers/config.c plugins/switchboard/providers/config.h \
	plugins/switchboard/providers/chain.c plugins/switchboard/providers/chain.h \
	plugins/switchboard/providers/chain_core.c plugins/switchboard/providers/chain_internal.h \
	plugins/switchboard/providers/chain_build.c

SB_CLOUD_PROVIDERS = \
	plugins/switchboard/providers/llm_openai.c \
	plugins/switchboard/providers/llm_anthropic.c \
	plugins/switchboard/providers/stt_openai.c \
	plugins/switchboard/providers/stt_deepgram.c \
	plugins/switchboard/providers/tts_http.c plugins/switchboard/providers/tts_http.h \
	plugins/switchboard/providers/tts_openai.c \
	plugins/switchboard/providers/tts_elevenlabs.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	$(SB_CLOUD_CORE) $(SB_CLOUD_PROVIDERS)

SB_CLOUD_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(GLIB_CFLAGS) $(JANSSON_CFLAGS) \
	$(CURL_CFLAGS) $(SOUP_CFLAGS) $(SPEEXDSP_CFLAGS)
SB_CLOUD_LIBS = $(SB_TEST_LIBS) $(GLIB_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(SOUP_LIBS) \
	$(SPEEXDSP_LIBS) -lm

check_PROGRAMS += tests/unit/test_sse tests/unit/test_chain tests/providers/provider_cli

# The SSE parser on its own.
tests_unit_test_sse_SOURCES = tests/unit/test_sse.c \
	plugins/switchboard/providers/sse.c plugins/switchboard/providers/sse.h
tests_unit_test_sse_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_sse_LDADD = $(SB_TEST_LIBS)

# Chains and breakers with fake in-process providers (no network).
tests_unit_test_chain_SOURCES = tests/unit/test_chain.c \
	tests/unit/chain_fakes.c tests/unit/chain_fakes.h \
	plugins/switchboard/providers/chain.c plugins/switchboard/providers/chain.h \
	plugins/switchboard/providers/chain_core.c plugins/switchboard/providers/chain_internal.h \
	plugins/switchboard/providers/cloud_util.c plugins/switchboard/providers/cloud_util.h \
	plugins/switchboard/providers/config.c plugins/switchboard/providers/config.h
tests_unit_test_chain_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_chain_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)

# The wire tests' driver: the real providers and chains, with the cloud
# implementations only (it has its own sb_*_provider_find).  Run with no
# argument (as make check does) it is a self-test printing TAP.
tests_providers_provider_cli_SOURCES = tests/providers/provider_cli.c \
	$(SB_CLOUD_CORE) $(SB_CLOUD_PROVIDERS)
tests_providers_provider_cli_CFLAGS = $(SB_CLOUD_CFLAGS)
tests_providers_provider_cli_LDADD = $(SB_CLOUD_LIBS)
