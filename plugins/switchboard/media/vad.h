/* Voice activity detection for the agent's ears: frame energy against an
 * adaptive noise floor, with an onset time (so clicks and coughs do not
 * count) and a hangover (so pauses between words do not end a turn).
 * Pure and synchronous; one instance per stream. */
#ifndef SB_VAD_H
#define SB_VAD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sb_vad_config {
	int frame_ms;        /* 20 */
	int onset_ms;        /* speech must last this long to start a turn */
	int hangover_ms;     /* silence this long ends the turn */
	float margin_db;     /* above the noise floor to count as voice */
	float min_level_db;  /* and at least this loud (dBFS) */
} sb_vad_config;

typedef enum {
	SB_VAD_SILENCE = 0,
	SB_VAD_SPEECH_START, /* this frame confirmed the onset */
	SB_VAD_SPEECH,       /* inside a turn */
	SB_VAD_SPEECH_END,   /* the hangover ran out: the turn is over */
} sb_vad_event;

#define SB_VAD_HISTORY 150 /* frames: 3 s of floor history at 20 ms */

typedef struct sb_vad {
	sb_vad_config cfg;
	/* Noise floor by minimum statistics: the quietest frame of the last
	 * few seconds.  Steady noise becomes the floor; speech has pauses. */
	float history[SB_VAD_HISTORY];
	int history_len, history_pos;
	float noise_db;
	int voiced_ms;    /* consecutive voiced time (onset) */
	int quiet_ms;     /* consecutive unvoiced time inside a turn */
	bool in_speech;
	float last_db;
} sb_vad;

/* Conversation defaults: 100 ms onset, 300 ms hangover, 12 dB margin. */
void sb_vad_init(sb_vad *vad, const sb_vad_config *cfg);
/* Feeds one frame; floor_db > -INFINITY raises the bar for this frame (the
 * agent's own output level while it talks, against its echo). */
sb_vad_event sb_vad_process(sb_vad *vad, const int16_t *pcm, int samples, float floor_db);
/* Energy of a frame in dBFS (-100 for digital silence). */
float sb_frame_dbfs(const int16_t *pcm, int samples);

#endif
