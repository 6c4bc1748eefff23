# providers: the STT / LLM / TTS interface, provider configs, the registry,
# fallback chains with circuit breakers, the configuration in force, and
# the cloud implementations (OpenAI-compatible, Anthropic, Deepgram,
# ElevenLabs).

# What the chains and the CLI need, without the implementations.
SB_PROVIDERS_CORE = \
	plugins/switchboard/providers/cloud_util.c \
	plugins/switchboard/providers/config.c \
	plugins/switchboard/providers/chain.c \
	plugins/switchboard/providers/chain_core.c \
	plugins/switchboard/providers/chain_build.c \
	$(SB_LANGUAGE_SOURCES)

# The caller's language (codes, scripts, following), which the embedded
# espeak-ng voice choice uses too.
SB_LANGUAGE_SOURCES = plugins/switchboard/providers/language.c

SB_PROVIDERS_CLOUD = \
	plugins/switchboard/providers/http_stream.c \
	plugins/switchboard/providers/llm_openai.c \
	plugins/switchboard/providers/llm_anthropic.c \
	plugins/switchboard/providers/stt_openai.c \
	plugins/switchboard/providers/stt_deepgram.c \
	plugins/switchboard/providers/tts_http.c \
	plugins/switchboard/providers/tts_openai.c \
	plugins/switchboard/providers/tts_elevenlabs.c

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/providers/providers.h plugins/switchboard/providers/providers_private.h \
	$(SB_PROVIDERS_CORE) $(SB_PROVIDERS_CLOUD) \
	plugins/switchboard/providers/registry.c \
	plugins/switchboard/providers/current.c

SB_CLOUD_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(GLIB_CFLAGS) $(JANSSON_CFLAGS) \
	$(CURL_CFLAGS) $(SOUP_CFLAGS) $(SPEEXDSP_CFLAGS)
SB_CLOUD_LIBS = $(SB_TEST_LIBS) $(GLIB_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(SOUP_LIBS) \
	$(SPEEXDSP_LIBS) -lm

# The chains with what they use of core, for tests that run chains of
# fake providers (here and in transfer/).
SB_CHAIN_TEST_SOURCES = \
	plugins/switchboard/providers/chain.c \
	plugins/switchboard/providers/chain_core.c \
	plugins/switchboard/providers/cloud_util.c \
	plugins/switchboard/providers/config.c \
	$(SB_LANGUAGE_SOURCES) \
	plugins/switchboard/core/gate.c plugins/switchboard/core/loop.c

check_PROGRAMS += tests/unit/test_chain tests/unit/test_language tests/providers/provider_cli

# Codes, scripts and when a conversation follows its caller's language.
tests_unit_test_language_SOURCES = tests/unit/test_language.c $(SB_LANGUAGE_SOURCES)
tests_unit_test_language_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_language_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)

# Chains and breakers with fake in-process providers (no network).
tests_unit_test_chain_SOURCES = tests/unit/test_chain.c \
	tests/unit/chain_fakes.c tests/unit/chain_fakes.h \
	$(SB_CHAIN_TEST_SOURCES)
tests_unit_test_chain_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_chain_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)

# The wire tests' driver: the real providers and chains, with the cloud
# implementations only (it has its own sb_*_provider_find).  Run with no
# argument (as make check does) it is a self-test printing TAP.
tests_providers_provider_cli_SOURCES = tests/providers/provider_cli.c \
	$(SB_NET_SOURCES) $(SB_PROVIDERS_CORE) $(SB_PROVIDERS_CLOUD) \
	plugins/switchboard/core/gate.c plugins/switchboard/core/loop.c
tests_providers_provider_cli_CFLAGS = $(SB_CLOUD_CFLAGS)
tests_providers_provider_cli_LDADD = $(SB_CLOUD_LIBS)
