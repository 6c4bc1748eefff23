/* Hold audio: a soft loop of the four notes, continuous across frames. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "room/hold.h"

static double power_at(const int16_t *x, int n, double freq, int rate)
{
	double c = 2 * cos(2 * M_PI * freq / rate), s1 = 0, s2 = 0;
	for (int i = 0; i < n; i++) {
		double s = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * n);
}

static void test_notes(gconstpointer data)
{
	int rate = GPOINTER_TO_INT(data);
	int note = rate * SB_HOLD_NOTE_MS / 1000;
	int16_t *buf = g_new(int16_t, note * 4);
	size_t pos = 0;
	/* In 20 ms frames, as the mixer asks for it. */
	for (int f = 0; f < note * 4 / (rate / 50); f++)
		sb_hold_audio(rate, &pos, buf + f * (rate / 50), rate / 50);
	g_assert_cmpuint(pos, ==, 0); /* exactly one loop */
	for (int n = 0; n < 4; n++) {
		const int16_t *mid = buf + n * note + note / 4;
		double want = power_at(mid, note / 2, sb_hold_notes[n], rate);
		double other = power_at(mid, note / 2, 440.0, rate);
		g_assert_cmpfloat(want, >, 100 * other);
		int peak = 0;
		for (int i = 0; i < note; i++)
			peak = MAX(peak, abs(buf[n * note + i]));
		g_assert_cmpint(peak, <, 4000); /* gentle */
		g_assert_cmpint(peak, >, 1000); /* but audible */
	}
	/* Smooth note edges: the sample where notes meet is near zero. */
	g_assert_cmpint(abs(buf[note]), <, 200);
	g_free(buf);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/hold/notes/16000", GINT_TO_POINTER(16000), test_notes);
	g_test_add_data_func("/hold/notes/48000", GINT_TO_POINTER(48000), test_notes);
	return g_test_run();
}
