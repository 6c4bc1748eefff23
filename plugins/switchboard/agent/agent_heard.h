/* What the caller actually heard of the agent's speech, when a listener
 * can tell (Twilio Media Streams marks).  The agent speaks in chunks (one
 * TTS sentence each, numbered 1, 2, …); the mixer notes when a chunk's
 * audio has been played out; a listener marks that point in its own
 * stream and confirms the chunk once its far end has played it.  On a
 * barge-in the agent keeps, of its answer, only the confirmed chunks.
 *
 * Threads: sb_heard_played on the mixer thread, everything else on the
 * agent thread; a leaf mutex inside. */
#ifndef SB_AGENT_HEARD_H
#define SB_AGENT_HEARD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sb_heard sb_heard;

sb_heard *sb_heard_new(void);
void sb_heard_free(sb_heard *h);

/* A new answer (or greeting, or `say`) begins: its chunks are what
 * sb_heard_answer reports from now on. */
void sb_heard_new_answer(sb_heard *h);
/* A chunk whose audio starts at output position start; returns its id. */
unsigned sb_heard_chunk(sb_heard *h, uint64_t start, const char *text);
/* Mixer: the output has been played up to played (of written). */
void sb_heard_played(sb_heard *h, uint64_t played, uint64_t written);
/* The latest chunk played out since the last call, or 0. */
unsigned sb_heard_take_played(sb_heard *h);
/* The output was dropped (barge-in, a new turn): chunks not played out
 * yet never will be, and later confirmations of this answer are stale. */
void sb_heard_cleared(sb_heard *h);
/* A listener heard every chunk up to id. */
void sb_heard_confirm(sb_heard *h, unsigned id);
/* Confirmations have arrived in this call: what was heard is known. */
bool sb_heard_active(sb_heard *h);
/* Every chunk of the current answer has been confirmed. */
bool sb_heard_all(sb_heard *h);
/* The current answer's confirmed chunks, space-separated (g_free). */
char *sb_heard_answer(sb_heard *h);

#endif
