/* libFuzzer target for what Twilio (or anyone posing as it) sends before the
 * signature is known good: the form body and URL of a webhook, and text
 * that ends up in TwiML.  Properties: the form parser's pairs re-encode to
 * a body that parses to the same pairs; escaped text contains no raw
 * markup characters. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "twilio/twilio_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	GPtrArray *pairs = sb_twilio_form_pairs(body, size);
	if (pairs) {
		GString *again = g_string_new(NULL);
		for (guint i = 0; i + 1 < pairs->len; i += 2) {
			if (again->len)
				g_string_append_c(again, '&');
			g_string_append_uri_escaped(again, pairs->pdata[i], NULL, FALSE);
			g_string_append_c(again, '=');
			g_string_append_uri_escaped(again, pairs->pdata[i + 1], NULL, FALSE);
		}
		GPtrArray *back = sb_twilio_form_pairs(again->str, again->len);
		if (!back || back->len != pairs->len)
			__builtin_trap();
		for (guint i = 0; i < pairs->len; i++)
			if (strcmp(pairs->pdata[i], back->pdata[i]))
				__builtin_trap();
		g_ptr_array_unref(back);
		g_string_free(again, TRUE);
		char *sig = sb_twilio_sign("token", "https://x.example/twilio/voice", pairs);
		if (!sb_twilio_signature_ok("token", "https://x.example/twilio/voice", pairs, sig))
			__builtin_trap();
		g_free(sig);
		g_ptr_array_unref(pairs);
	}
	char *text = g_strndup(body, size);
	char *why = NULL;
	(void)sb_twilio_request_ok("token", text, body, size, true, "sig", &why);
	g_free(why);
	g_free(sb_twilio_query_param(text, "bodySHA256"));
	char *escaped = sb_twiml_escape(text);
	if (strpbrk(escaped, "<>\"'") || !g_utf8_validate(escaped, -1, NULL))
		__builtin_trap();
	g_free(escaped);
	g_free(text);
	return 0;
}
