/* TwiML: every value XML-escaped, nothing XML cannot carry. */
#include <string.h>

#include <glib.h>

#include "twilio/twilio_private.h"

static void test_escape(void)
{
	char *e = sb_twiml_escape("a<b>&\"c'\x01\x7f\xc3\xa9\xff");
	g_assert_cmpstr(e, ==, "a&lt;b&gt;&amp;&quot;c&apos;\x7f\xc3\xa9");
	g_free(e);
}

static void test_message(void)
{
	char *t = sb_twiml_message("</Message><Redirect>http://evil</Redirect>");
	g_assert_null(strstr(t, "<Redirect>"));
	g_assert_nonnull(strstr(t, "<Response><Message>&lt;/Message&gt;&lt;Redirect&gt;"));
	g_free(t);
}

static void test_stream(void)
{
	json_t *params = json_pack("{ssss}", "room", "a\"b", "from", "+1<2>");
	char *t = sb_twiml_stream("wss://x.example/twilio/stream", params);
	g_assert_nonnull(strstr(t, "<Connect><Stream url=\"wss://x.example/twilio/stream\">"));
	g_assert_nonnull(strstr(t, "<Parameter name=\"room\" value=\"a&quot;b\"/>"));
	g_assert_nonnull(strstr(t, "<Parameter name=\"from\" value=\"+1&lt;2&gt;\"/>"));
	g_free(t);
	t = sb_twiml_relay("wss://x/twilio/relay", "https://x/a?room=r&x=1", "Hi & welcome",
	                   "en-US", params);
	g_assert_nonnull(strstr(t,
	                        "<Connect action=\"https://x/a?room=r&amp;x=1\"><ConversationRelay "
	                        "url=\"wss://x/twilio/relay\" welcomeGreeting=\"Hi &amp; welcome\" "
	                        "language=\"en-US\">"));
	g_free(t);
	json_decref(params);
	t = sb_twiml_sip("sip:room@h;transport=tcp?X-Room=a&b");
	g_assert_nonnull(
	        strstr(t, "<Dial><Sip>sip:room@h;transport=tcp?X-Room=a&amp;b</Sip></Dial>"));
	g_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/twilio/twiml/escape", test_escape);
	g_test_add_func("/twilio/twiml/message", test_message);
	g_test_add_func("/twilio/twiml/stream", test_stream);
	return g_test_run();
}
