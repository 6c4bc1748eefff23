/* Backchannels (agent_backchannel.c): what a caller may say over the agent
 * without stopping it, per language, and what is a real interruption. */
#include <glib.h>

#include "agent/agent_private.h"

static void test_english_defaults(void)
{
	sb_backchannels *b = sb_backchannels_new(NULL, "en");
	const char *yes[] = {"mm-hmm",    "Mm hmm.",      "okay",  "OK!",        "uh huh",
	                     "yeah okay", "right, right", "i see", "uh-huh yeah"};
	for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
		g_assert_true(sb_backchannels_match(b, yes[i]));
	const char *no[] = {"",
	                    "  ",
	                    "wait",
	                    "okay but what are your opening hours",
	                    "what are your opening hours",
	                    "i see a problem",
	                    "yes", /* may answer the agent's question: never ignored */
	                    "okay two three"};
	for (size_t i = 0; i < G_N_ELEMENTS(no); i++)
		g_assert_false(sb_backchannels_match(b, no[i]));
	g_assert_false(sb_backchannels_match(NULL, "okay"));
	sb_backchannels_free(b);
}

static void test_per_language(void)
{
	json_t *config = json_pack("{s[ss]s[s]}", "ar", "نعم", "طيب", "de", "genau");
	sb_backchannels *ar = sb_backchannels_new(config, "ar-SA");
	g_assert_true(sb_backchannels_match(ar, "طيب"));
	g_assert_false(sb_backchannels_match(ar, "okay"));
	sb_backchannels_free(ar);
	/* A configured list replaces the defaults of its language. */
	json_t *en = json_pack("{s[s]}", "en", "roger");
	sb_backchannels *b = sb_backchannels_new(en, "en-US");
	g_assert_true(sb_backchannels_match(b, "Roger."));
	g_assert_false(sb_backchannels_match(b, "okay"));
	sb_backchannels_free(b);
	/* English defaults for English only: another language without a list
	 * has none (every interruption with words counts). */
	sb_backchannels *fr = sb_backchannels_new(config, "fr");
	g_assert_false(sb_backchannels_match(fr, "okay"));
	sb_backchannels_free(fr);
	/* A list on its own is for the agent's language. */
	json_t *list = json_pack("[s]", "mm");
	sb_backchannels *l = sb_backchannels_new(list, "en");
	g_assert_true(sb_backchannels_match(l, "mm mm"));
	g_assert_false(sb_backchannels_match(l, "okay"));
	sb_backchannels_free(l);
	json_decref(list);
	json_decref(en);
	json_decref(config);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent_backchannel/english_defaults", test_english_defaults);
	g_test_add_func("/agent_backchannel/per_language", test_per_language);
	return g_test_run();
}
