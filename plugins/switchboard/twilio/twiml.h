/* TwiML answers, built as text with every value XML-escaped (names of
 * rooms, parameters, greetings and message bodies come from callers). */
#ifndef SB_TWILIO_TWIML_H
#define SB_TWILIO_TWIML_H

#include <glib.h>
#include <jansson.h>

/* Escapes & < > " ' and drops characters XML 1.0 cannot carry.  g_free. */
char *sb_twiml_escape(const char *text);

/* <Response/> */
char *sb_twiml_empty(void);
/* <Response><Message>text</Message></Response> */
char *sb_twiml_message(const char *text);
/* <Response><Say>text</Say><Hangup/></Response> */
char *sb_twiml_say_hangup(const char *text);
/* <Response><Dial><Sip>uri</Sip></Dial></Response> */
char *sb_twiml_sip(const char *uri);
/* <Response><Connect><Stream url><Parameter …/>…</Stream></Connect></Response>;
 * params: object of strings (may be NULL). */
char *sb_twiml_stream(const char *url, json_t *params);
/* <Response><Connect action><ConversationRelay url welcomeGreeting
 * language><Parameter …/></ConversationRelay></Connect></Response> */
char *sb_twiml_relay(const char *url, const char *action, const char *greeting,
                     const char *language, json_t *params);

#endif
