/* The mixer: a few worker threads (one per core by default) share all rooms.
 * Each worker wakes every 20 ms on an absolute deadline (no drift) only while
 * it has rooms with participants, and sleeps on a condition otherwise, so
 * idle rooms cost nothing.  Per room and frame it decodes what is due, sums
 * the contributors, and encodes each distinct mix once (see mix.h). */
#ifndef SB_MIXER_H
#define SB_MIXER_H

#include <stdint.h>

#include "core/settings.h"

struct sb_room;

typedef struct sb_mixer_stats {
	uint64_t ticks;        /* frames processed, summed over workers */
	uint64_t late_frames;  /* ticks that ended after their deadline */
	uint64_t skipped;      /* ticks dropped to catch up after a stall */
	uint64_t encodes;      /* frames encoded */
	uint64_t decodes;      /* frames decoded or concealed */
	uint64_t forwards;     /* one-voice mixes sent as the speaker's packet */
	uint64_t rooms_active; /* rooms currently scheduled */
	int workers;
} sb_mixer_stats;

bool sb_mixer_start(const sb_settings *settings);
void sb_mixer_stop(void);
/* A room got a participant: make sure a worker mixes it.  A worker drops a
 * room by itself once it is empty or destroyed. */
void sb_mixer_schedule(struct sb_room *room);
void sb_mixer_get_stats(sb_mixer_stats *out);

#endif
