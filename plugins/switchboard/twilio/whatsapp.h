/* WhatsApp through Twilio: the inbound message webhook (POST
 * /whatsapp/message) with one conversation per sender (WaId, else From)
 * that remembers across messages until an idle timeout; answers by the
 * agent's language model as TwiML <Message>, or through Messages.json when
 * the answer takes longer than the webhook should wait; media answered
 * politely; "talk to a human" hands the chat to the console queue
 * (handoff_requested).  POST /whatsapp/send (24-hour rule: outside it, a
 * template ContentSid only), POST /whatsapp/call (Calls.json), and the
 * conversations as sessions of type whatsapp. */
#ifndef SB_TWILIO_WHATSAPP_H
#define SB_TWILIO_WHATSAPP_H

void sb_twilio_whatsapp_start(void);
void sb_twilio_whatsapp_stop(void);

#endif
