/* Hold audio: what a participant on hold hears instead of the room — a
 * gentle, repeating four-note phrase (C5 E5 G5 E5, soft, with smooth note
 * edges), rendered once per sampling rate and then only read, so holding a
 * thousand callers costs a copy each per frame, never a synthesis. */
#ifndef SB_HOLD_H
#define SB_HOLD_H

#include <stddef.h>
#include <stdint.h>

/* The note frequencies, for tests that listen for them (Hz). */
#define SB_HOLD_NOTE_MS 500
extern const double sb_hold_notes[4];

/* Copies the next `samples` samples of the loop at `rate` (16000 or 48000)
 * into out, starting at *pos (advanced and wrapped).  Thread-safe: the
 * loop is rendered on first use under a GOnce. */
void sb_hold_audio(int rate, size_t *pos, int16_t *out, int samples);

#endif
