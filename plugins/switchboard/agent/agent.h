/* The AI voice agent: a participant of kind "agent" that hears the room's
 * mix (minus itself) at 16 kHz, notices turns with a VAD, transcribes,
 * asks the language model, and speaks the answer into the mix as it is
 * produced — listening → thinking → speaking — and stops talking when a
 * caller barges in.
 *
 * A room that wants an agent (created with agent on, or the `agent`
 * request / REST toggle) gets one whenever at least one human is in it; it
 * leaves when turned off or when the last human leaves.  Each agent runs
 * on its own thread; the mixer only queues audio to it and takes audio from
 * it, never waiting. */
#ifndef SB_AGENT_AGENT_H
#define SB_AGENT_AGENT_H

#include <stdbool.h>
#include <jansson.h>

#include "core/core.h"
#include "room/room.h"

/* The module (modules.c): puts the provider configuration in force,
 * registers the agent's ops (agent, say, reload_kb, reload_providers),
 * stats and metrics, and joins rooms that want an agent.  finish, once
 * the rooms are gone, stops every agent and waits for their threads. */
bool sb_agent_module_start(const sb_settings *settings);
void sb_agent_module_finish(void);

/* Turns the room's agent on (joins now if humans are there) or off. */
void sb_agent_enable(sb_room *room, bool enable);
/* Speaks text now in the room (interrupting what the agent was saying). */
sb_error sb_agent_say(sb_room *room, const char *text);
/* A caller pressed a key (DTMF): the agent hears it as a turn of its own.
 * Any thread; SB_ERROR_NO_SUCH_PARTICIPANT when the room has no agent. */
sb_error sb_agent_dtmf(sb_room *room, char digit);
/* A listener (Twilio Media Streams marks) has heard the agent's speech up
 * to chunk (the "chunk" of an agent_speech event): on a barge-in the
 * agent keeps only what was heard.  Any thread. */
sb_error sb_agent_heard(sb_room *room, unsigned chunk);

#endif
