/* Phone callers understood by the embedded agent (issue 18 item 5): a fixed
 * sample of the held-out phrasings of tests/data/phone-phrasings.json
 * (wordings that are not in the knowledge base), spoken by espeak-ng's
 * en-us voice through the project's G.711 μ-law and G.722 codecs,
 * recognised and answered; the share answered with the right topic must
 * stay above a floor.  The floors are the figures measured on this sample
 * when the test was written, less a margin of two utterances: a change
 * that loses more than that is a regression to look at (or, if intended,
 * a floor to lower with the reason in the commit).  The whole set and all
 * four voices: build/tests/tools/phone_accuracy (README "Phone callers").
 *
 * Deterministic: the same audio gives the same decode. */
#include <string.h>

#include <glib.h>

#include "../tools/phone_eval.h"

#include "embedded/embedded.h"

#ifndef SB_SOURCE_DIR
#define SB_SOURCE_DIR "."
#endif
#define SET_PATH SB_SOURCE_DIR "/tests/data/phone-phrasings.json"
#define KB_PATH SB_SOURCE_DIR "/conf/knowledge-base.json"
/* Every SAMPLE_STEP-th held-out phrasing. */
#define SAMPLE_STEP 4

static phone_eval *ev;
static json_t *held_out;

/* How many of the sample the line gets right with ev's settings; each
 * miss is printed. */
static int right_with(phone_eval *with, phone_line line, int *total)
{
	int right = 0;
	*total = 0;
	for (size_t i = 0; i < json_array_size(held_out); i += SAMPLE_STEP) {
		json_t *e = json_array_get(held_out, i);
		phone_trial t = {.text = json_string_value(json_object_get(e, "text")),
		                 .expected = json_string_value(json_object_get(e, "topic")),
		                 .voice = "en-us",
		                 .line = line};
		char *error = NULL;
		g_autoptr(GArray) speech = phone_eval_speak(with, t.text, t.voice, &error);
		g_assert_nonnull(speech);
		g_autoptr(GArray) audio = phone_eval_line(speech, line);
		g_assert_true(phone_eval_run(with, audio, &t, &error));
		right += t.right;
		(*total)++;
		if (!t.right)
			g_test_message("%s: \"%s\" heard \"%s\": %s, not %s", phone_line_name(line),
			               t.text, t.heard, t.topic, t.expected);
		g_free(t.heard);
		g_free(t.topic);
	}
	return right;
}

static void check_floor(gconstpointer data)
{
	const int *spec = data; /* {line, floor} */
	int total, right = right_with(ev, (phone_line)spec[0], &total);
	g_test_message("%s: %d of %d right (%.0f%%), floor %d",
	               phone_line_name((phone_line)spec[0]), right, total, 100.0 * right / total,
	               spec[1]);
	g_assert_cmpint(right, >=, spec[1]);
}

/* The μ-law line's cepstra mapped to wideband ones (narrowband.c) in the
 * language-model pass: the same sample without the map gets fewer right
 * (measured 15 and 12 of 17, run after the tests above: a decoder
 * carries some state from one utterance to the next).  Deterministic. */
static void test_narrowband_map(void)
{
	char *error = NULL;
	g_autoptr(json_t) off = json_pack("{ss}", "narrowband_map", "false");
	phone_eval *unmapped = phone_eval_new(KB_PATH, off, &error);
	g_assert_nonnull(unmapped);
	int total, with = right_with(ev, PHONE_LINE_PCMU, &total);
	int without = right_with(unmapped, PHONE_LINE_PCMU, &total);
	g_test_message("pcmu: %d of %d right with the map, %d without", with, total, without);
	g_assert_cmpint(with, >, without);
	phone_eval_free(unmapped);
}

static phone_trial trial(const char *text, const char *topic, phone_line line)
{
	phone_trial t = {.text = text, .expected = topic, .voice = "en-us", .line = line};
	char *error = NULL;
	g_autoptr(GArray) speech = phone_eval_speak(ev, t.text, t.voice, &error);
	g_assert_nonnull(speech);
	g_autoptr(GArray) audio = phone_eval_line(speech, line);
	g_assert_true(phone_eval_run(ev, audio, &t, &error));
	g_test_message("%s: \"%s\" heard \"%s\": %s", phone_line_name(line), text, t.heard,
	               t.topic);
	return t;
}

/* A number the grammar hears in speech that holds none is checked against
 * the language model (stt_pocketsphinx.c, check_number): on G.722 the
 * grammar alone hears "do you accept visa" as "two eight two three zero"
 * (order_status); a real order number keeps its digits. */
static void test_numbers_checked(void)
{
	phone_trial t = trial("do you accept visa", "payment", PHONE_LINE_G722);
	g_assert_null(strstr(t.heard, "two"));
	g_assert_true(t.right);
	g_free(t.heard);
	g_free(t.topic);
	/* Checked at the caller's pause, the number's language-model pass is
	 * not run again at the end of the turn: one pass, not two. */
	uint64_t passes = sb_pocketsphinx_lm_passes();
	t = (phone_trial){.text = "do you accept visa",
	                  .expected = "payment",
	                  .voice = "en-us",
	                  .line = PHONE_LINE_G722,
	                  .pause_ms = 200};
	char *error = NULL;
	g_autoptr(GArray) speech = phone_eval_speak(ev, t.text, t.voice, &error);
	g_autoptr(GArray) audio = phone_eval_line(speech, t.line);
	g_assert_true(phone_eval_run(ev, audio, &t, &error));
	g_test_message("with a pause: heard \"%s\", %" G_GUINT64_FORMAT " language-model passes",
	               t.heard, sb_pocketsphinx_lm_passes() - passes);
	g_assert_true(t.right);
	g_assert_cmpuint(sb_pocketsphinx_lm_passes() - passes, ==, 1);
	g_free(t.heard);
	g_free(t.topic);
	t = trial("my order number is one two three four five", "order_status", PHONE_LINE_G722);
	/* (The grammar's own digits are not always exact: here one too many.) */
	g_assert_nonnull(strstr(t.heard, "order number is one two three four five"));
	g_assert_true(t.right);
	g_free(t.heard);
	g_free(t.topic);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	char *error = NULL;
	json_t *root = NULL;
	held_out = phone_eval_load_set(SET_PATH, "held_out", &root, &error);
	ev = held_out ? phone_eval_new(KB_PATH, NULL, &error) : NULL;
	if (!ev)
		g_error("%s", error);
	if (!sb_espeak_init(&error))
		g_error("%s", error);
	/* {line, floor}: measured 13 and 16 of 17 (see the top; 9 and 11
	 * before the knowledge base's language model and the number check,
	 * 11 and 15 before the narrowband map). */
	static const int pcmu[] = {PHONE_LINE_PCMU, 11};
	static const int g722[] = {PHONE_LINE_G722, 14};
	g_test_add_data_func("/phone/pcmu-floor", pcmu, check_floor);
	g_test_add_data_func("/phone/g722-floor", g722, check_floor);
	g_test_add_func("/phone/numbers-checked", test_numbers_checked);
	g_test_add_func("/phone/narrowband-map", test_narrowband_map);
	int rc = g_test_run();
	phone_eval_free(ev);
	json_decref(root);
	sb_pocketsphinx_shutdown();
	sb_espeak_shutdown();
	return rc;
}
