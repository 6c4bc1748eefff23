/* TwiML answers built as text, every value XML-escaped: room names,
 * parameters, greetings and message bodies come from callers. */
#include "twilio/twilio_private.h"

#include <string.h>

char *sb_twiml_escape(const char *text)
{
	GString *out = g_string_new(NULL);
	if (!text)
		return g_string_free(out, FALSE);
	const char *p = text;
	while (*p) {
		gunichar c = g_utf8_get_char_validated(p, -1);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			p++; /* not UTF-8: dropped */
			continue;
		}
		const char *next = g_utf8_next_char(p);
		switch (c) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&apos;");
			break;
		default:
			/* XML 1.0 Char: tab, LF, CR and everything from space up,
			 * minus surrogates and U+FFFE/U+FFFF. */
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE ||
			    c == 0xFFFF)
				break;
			g_string_append_len(out, p, next - p);
		}
		p = next;
	}
	return g_string_free(out, FALSE);
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

char *sb_twiml_empty(void)
{
	return g_strdup(HEAD "<Response/>");
}

/* HEAD <Response><open>escaped text</close></Response> */
static char *wrap(const char *open, const char *text, const char *close)
{
	char *e = sb_twiml_escape(text);
	char *r = g_strconcat(HEAD "<Response>", open, e, close, "</Response>", NULL);
	g_free(e);
	return r;
}

char *sb_twiml_message(const char *text)
{
	return wrap("<Message>", text, "</Message>");
}

char *sb_twiml_say_hangup(const char *text)
{
	return wrap("<Say>", text, "</Say><Hangup/>");
}

char *sb_twiml_sip(const char *uri)
{
	return wrap("<Dial><Sip>", uri, "</Sip></Dial>");
}

char *sb_twiml_redirect(const char *url)
{
	return wrap("<Redirect method=\"POST\">", url, "</Redirect>");
}

static void append_attr(GString *s, const char *name, const char *value)
{
	if (!value)
		return;
	char *e = sb_twiml_escape(value);
	g_string_append_printf(s, " %s=\"%s\"", name, e);
	g_free(e);
}

static void append_params(GString *s, json_t *params)
{
	const char *key;
	json_t *v;
	json_object_foreach(params, key, v)
	{
		if (!json_is_string(v))
			continue;
		g_string_append(s, "<Parameter");
		append_attr(s, "name", key);
		append_attr(s, "value", json_string_value(v));
		g_string_append(s, "/>");
	}
}

char *sb_twiml_stream(const char *url, json_t *params)
{
	GString *s = g_string_new(HEAD "<Response><Connect><Stream");
	append_attr(s, "url", url);
	g_string_append(s, ">");
	append_params(s, params);
	g_string_append(s, "</Stream></Connect></Response>");
	return g_string_free(s, FALSE);
}

char *sb_twiml_relay(const char *url, const char *action, const char *greeting,
                     const char *language, json_t *params)
{
	GString *s = g_string_new(HEAD "<Response><Connect");
	append_attr(s, "action", action);
	g_string_append(s, "><ConversationRelay");
	append_attr(s, "url", url);
	append_attr(s, "welcomeGreeting", greeting);
	append_attr(s, "language", language);
	g_string_append(s, ">");
	append_params(s, params);
	g_string_append(s, "</ConversationRelay></Connect></Response>");
	return g_string_free(s, FALSE);
}
