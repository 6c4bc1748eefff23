/* Twilio voice: the voice webhook (POST /twilio/voice → TwiML that brings
 * the call into its room in the configured mode), the status callback
 * (POST /twilio/status → call_status events; a finished call closes the
 * room it got), and, when [phone] outbound = "twilio", outbound calls
 * (POST /phone/call, POST /phone/end/{callSid}, ops dial/hangup) through
 * Calls.json. */
#ifndef SB_TWILIO_VOICE_H
#define SB_TWILIO_VOICE_H

#include <stdbool.h>

#include <jansson.h>

#include "api/rest.h"

void sb_twilio_voice_register(void);
void sb_twilio_voice_stop(void);

/* Creates the room when missing; true when this call created it.  NULL
 * error on success, else a message (g_free). */
bool sb_twilio_ensure_room(const char *room, bool agent, bool *created, char **error);

/* Places a call through Calls.json that joins room when answered; replies
 * to reply (201 {callSid, room, status} or the Twilio error).  interface:
 * "phone" or "whatsapp". */
void sb_twilio_place_call(const char *to, const char *from, const char *room, const char *interface,
                          sb_rest_reply *reply);

#endif
