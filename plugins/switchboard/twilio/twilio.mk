# twilio: signatures, TwiML, voice/status webhooks, Media Streams,
# ConversationRelay, WhatsApp and the REST client.

plugins_switchboard_libjanus_switchboard_la_SOURCES += \
	plugins/switchboard/twilio/twilio_private.h \
	plugins/switchboard/twilio/signature.c \
	plugins/switchboard/twilio/twiml.c \
	plugins/switchboard/twilio/twilio.c plugins/switchboard/twilio/twilio.h \
	plugins/switchboard/twilio/dialog.c \
	plugins/switchboard/twilio/rest_client.c \
	plugins/switchboard/twilio/voice.c \
	plugins/switchboard/twilio/media_stream.c \
	plugins/switchboard/twilio/relay.c \
	plugins/switchboard/twilio/relay_menu.c \
	plugins/switchboard/twilio/whatsapp.c \
	plugins/switchboard/twilio/whatsapp_chat.c

check_PROGRAMS += tests/unit/test_twilio_signature tests/unit/test_twilio_twiml
tests_unit_test_twilio_signature_SOURCES = tests/unit/test_twilio_signature.c \
	plugins/switchboard/twilio/signature.c
tests_unit_test_twilio_signature_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS)
tests_unit_test_twilio_signature_LDADD = $(SB_TEST_LIBS)
tests_unit_test_twilio_twiml_SOURCES = tests/unit/test_twilio_twiml.c \
	plugins/switchboard/twilio/twiml.c
tests_unit_test_twilio_twiml_CFLAGS = $(AM_CFLAGS) $(SB_TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_twilio_twiml_LDADD = $(SB_TEST_LIBS) $(JANSSON_LIBS)
