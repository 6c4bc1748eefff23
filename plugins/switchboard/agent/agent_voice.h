/* The agent's voice on its way to the room: 16 kHz speech the agent thread
 * writes as it is synthesised, and the mixer takes one frame at a time,
 * resampled to the room's rate.  Up to a minute is held; the rest of an
 * over-long answer is dropped.  What has been played out is told to the
 * heard tracker (agent_heard.h), so a listener can confirm it.
 *
 * Threads: pull() and level_db() on the mixer thread, everything else on
 * the agent thread; a leaf mutex inside, never held for long. */
#ifndef SB_AGENT_VOICE_H
#define SB_AGENT_VOICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_heard.h"

typedef struct sb_agent_voice sb_agent_voice;

/* heard is borrowed and must outlive the voice. */
sb_agent_voice *sb_agent_voice_new(int room_rate, sb_heard *heard);
void sb_agent_voice_free(sb_agent_voice *v);

void sb_agent_voice_append(sb_agent_voice *v, const int16_t *pcm, size_t samples);
/* Drops what was not played yet (a barge-in, a new turn). */
void sb_agent_voice_clear(sb_agent_voice *v);
bool sb_agent_voice_empty(sb_agent_voice *v);
/* Samples written so far: where the next chunk of speech will start. */
uint64_t sb_agent_voice_written(sb_agent_voice *v);

/* Mixer: the next frame of `samples` at the room's rate; false when there
 * is nothing to play. */
bool sb_agent_voice_pull(sb_agent_voice *v, int16_t *frame, int samples);
/* Level of the frame last played (dBFS), for the echo guard. */
float sb_agent_voice_level_db(sb_agent_voice *v);

#endif
