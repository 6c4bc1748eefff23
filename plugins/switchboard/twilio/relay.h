/* ConversationRelay (WS /twilio/relay): Twilio does speech to text and
 * text to speech; we answer each final `prompt` with the agent's language
 * model, streamed as `text` tokens (`last` on the final one).  `interrupt`
 * stops the answer and keeps what the caller heard of it; `dtmf` digits are
 * treated as typed input; a transfer_to_human from the model ends the
 * session with `end` + handoffData (and a handoff_requested event); 10
 * invalid messages in a row close the socket with 1007. */
#ifndef SB_TWILIO_RELAY_H
#define SB_TWILIO_RELAY_H

void sb_twilio_relay_start(void);
void sb_twilio_relay_stop(void);

#endif
