#include "room/hold.h"

#include <math.h>

#include <glib.h>

const double sb_hold_notes[4] = {523.25, 659.25, 783.99, 659.25};

typedef struct hold_loop {
	int16_t *pcm;
	size_t len;
} hold_loop;

/* About -22 dBFS: audible, never startling, well under any speech. */
#define HOLD_AMPLITUDE 2600.0
#define EDGE_MS 15

static gpointer render(gpointer data)
{
	int rate = GPOINTER_TO_INT(data);
	hold_loop *loop = g_new0(hold_loop, 1);
	size_t note = (size_t)rate * SB_HOLD_NOTE_MS / 1000;
	size_t edge = (size_t)rate * EDGE_MS / 1000;
	loop->len = note * G_N_ELEMENTS(sb_hold_notes);
	loop->pcm = g_new0(int16_t, loop->len);
	for (size_t n = 0; n < G_N_ELEMENTS(sb_hold_notes); n++) {
		for (size_t i = 0; i < note; i++) {
			/* Raised-cosine edges: no click between notes. */
			double env = 1.0;
			if (i < edge)
				env = 0.5 - 0.5 * cos(M_PI * (double)i / (double)edge);
			else if (i >= note - edge)
				env = 0.5 - 0.5 * cos(M_PI * (double)(note - i) / (double)edge);
			double t = (double)i / rate;
			/* A soft second harmonic makes it sound less like a test tone. */
			double v = sin(2 * M_PI * sb_hold_notes[n] * t) +
			           0.25 * sin(4 * M_PI * sb_hold_notes[n] * t);
			loop->pcm[n * note + i] = (int16_t)lrint(HOLD_AMPLITUDE * env * v / 1.25);
		}
	}
	return loop;
}

static GOnce once16 = G_ONCE_INIT, once48 = G_ONCE_INIT;

void sb_hold_audio(int rate, size_t *pos, int16_t *out, int samples)
{
	hold_loop *loop = rate == 48000 ? g_once(&once48, render, GINT_TO_POINTER(48000))
	                                : g_once(&once16, render, GINT_TO_POINTER(16000));
	size_t p = *pos % loop->len;
	for (int i = 0; i < samples; i++) {
		out[i] = loop->pcm[p];
		if (++p == loop->len)
			p = 0;
	}
	*pos = p;
}
