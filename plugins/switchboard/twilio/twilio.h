/* The Twilio module (modules.c): voice webhooks and TwiML, Media Streams
 * and ConversationRelay WebSockets, WhatsApp messages and calls, the REST
 * client (Calls, Messages).  Config: [twilio], [whatsapp], [phone]. */
#ifndef SB_TWILIO_TWILIO_H
#define SB_TWILIO_TWILIO_H

#include <stdbool.h>

#include "core/core.h"

bool sb_twilio_start(const sb_settings *settings);
void sb_twilio_stop(void);

#endif
