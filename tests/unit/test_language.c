/* The caller's language (providers/language.c): codes and names, what a
 * text's script gives away, and when a conversation follows its caller. */
#include <glib.h>

#include "providers/providers.h"

static void test_codes_and_names(void)
{
	g_assert_cmpstr(sb_language_code("ar"), ==, "ar");
	g_assert_cmpstr(sb_language_code("ar-SA"), ==, "ar");
	g_assert_cmpstr(sb_language_code("AR_sa"), ==, "ar");
	g_assert_cmpstr(sb_language_code("arabic"), ==, "ar"); /* OpenAI's verbose_json */
	g_assert_cmpstr(sb_language_code("Spanish"), ==, "es");
	g_assert_cmpstr(sb_language_code("en-US"), ==, "en");
	/* A code without a name here is still a code. */
	g_assert_cmpstr(sb_language_code("haw"), ==, "haw");
	g_assert_cmpstr(sb_language_code("yue-HK"), ==, "yue");
	g_assert_null(sb_language_code(NULL));
	g_assert_null(sb_language_code(""));
	g_assert_null(sb_language_code("klingonish"));
	g_assert_null(sb_language_code("e"));
	g_assert_null(sb_language_code("4x"));
	g_assert_cmpstr(sb_language_name("ar-EG"), ==, "Arabic");
	g_assert_cmpstr(sb_language_name("en"), ==, "English");
	g_assert_null(sb_language_name("haw"));
	g_assert_null(sb_language_name(NULL));
}

static void test_scripts(void)
{
	g_assert_cmpstr(sb_language_of_script("ما هي ساعات العمل؟"), ==, "ar");
	g_assert_cmpstr(sb_language_of_script("Здравствуйте, где мой заказ?"), ==, "ru");
	g_assert_cmpstr(sb_language_of_script("שלום"), ==, "he");
	g_assert_cmpstr(sb_language_of_script("Γεια σας"), ==, "el");
	g_assert_cmpstr(sb_language_of_script("नमस्ते"), ==, "hi");
	g_assert_cmpstr(sb_language_of_script("안녕하세요"), ==, "ko");
	g_assert_cmpstr(sb_language_of_script("注文はどこですか"), ==, "ja"); /* kanji with kana */
	g_assert_cmpstr(sb_language_of_script("我的订单在哪里"), ==, "zh");
	/* An order number in digits changes nothing; an English name in an
	 * Arabic sentence does not either. */
	g_assert_cmpstr(sb_language_of_script("طلبي رقم 12345"), ==, "ar");
	g_assert_cmpstr(sb_language_of_script("أين طلبي من Amazon"), ==, "ar");
	/* Latin script could be many languages: no guess. */
	g_assert_null(sb_language_of_script("where is my order"));
	g_assert_null(sb_language_of_script("¿dónde está mi pedido?"));
	g_assert_null(sb_language_of_script("12345 !!"));
	g_assert_null(sb_language_of_script(""));
	g_assert_null(sb_language_of_script(NULL));
	g_assert_null(sb_language_of_script("\xff\xfe bad utf-8"));
	/* Half Latin, half Arabic: no majority, no guess. */
	g_assert_null(sb_language_of_script("hello مرحبا"));
}

static sb_language_follower follower(const char *json)
{
	json_t *config = json ? json_loads(json, 0, NULL) : NULL;
	sb_language_follower f;
	sb_language_follower_init(&f, config);
	json_decref(config);
	return f;
}

static void test_follows_the_caller(void)
{
	sb_language_follower f = follower("{\"language\": \"en-US\"}");
	g_assert_cmpstr(f.configured, ==, "en");
	g_assert_cmpstr(f.current, ==, "en");
	g_assert_null(sb_language_instruction(&f));
	/* English heard: nothing moves. */
	g_assert_false(sb_language_follow(&f, "en", "what are your opening hours"));
	g_assert_false(sb_language_follow(&f, NULL, "donde esta mi pedido")); /* Latin: no guess */
	/* Arabic letters are evidence enough, with or without a recogniser. */
	g_assert_true(sb_language_follow(&f, NULL, "ما هي ساعات العمل؟"));
	g_assert_cmpstr(f.current, ==, "ar");
	char *instruction = sb_language_instruction(&f);
	g_assert_cmpstr(instruction, ==, "The caller speaks Arabic: answer in Arabic.");
	g_free(instruction);
	/* Digits alone are no language: it stays. */
	g_assert_false(sb_language_follow(&f, NULL, "12345"));
	g_assert_cmpstr(f.current, ==, "ar");
	/* Two words in Latin letters after Arabic ones (text without a
	 * recogniser, as on WhatsApp) bring the configured language back; one
	 * word does not. */
	g_assert_false(sb_language_follow(&f, NULL, "ok"));
	g_assert_true(sb_language_follow(&f, NULL, "where is my order"));
	g_assert_cmpstr(f.current, ==, "en");
	g_assert_true(sb_language_follow(&f, NULL, "مرحبا"));
	/* A recogniser's detection needs two words. */
	g_assert_false(sb_language_follow(&f, "en", "okay"));
	g_assert_cmpstr(f.current, ==, "ar");
	g_assert_true(sb_language_follow(&f, "en-US", "okay thank you"));
	g_assert_cmpstr(f.current, ==, "en");
	g_assert_true(sb_language_follow(&f, "es", "¿dónde está mi pedido?"));
	g_assert_cmpstr(f.current, ==, "es");
	/* A recogniser that says "en" over Arabic letters is wrong; one that
	 * says Persian over them knows better than the script. */
	g_assert_true(sb_language_follow(&f, "en", "مرحبا"));
	g_assert_cmpstr(f.current, ==, "ar");
	g_assert_true(sb_language_follow(&f, "fa", "سلام خوبی"));
	g_assert_cmpstr(f.current, ==, "fa");
	/* Bad input changes nothing. */
	g_assert_false(sb_language_follow(&f, "??", "12 34"));
	g_assert_false(sb_language_follow(&f, "en", NULL));
	g_assert_false(sb_language_follow(&f, "en", "\xff\xfe bad"));
	g_assert_cmpstr(f.current, ==, "fa");
	sb_language_follower_clear(&f);
}

static void test_allowed_and_off(void)
{
	sb_language_follower f = follower("{\"languages\": [\"en\", \"ar-SA\"]}");
	g_assert_cmpstr(f.configured, ==, "en");
	g_assert_false(sb_language_follow(&f, "es", "¿dónde está mi pedido?"));
	g_assert_false(sb_language_follow(&f, NULL, "Здравствуйте, где мой заказ?"));
	g_assert_true(sb_language_follow(&f, NULL, "مرحبا بكم"));
	g_assert_true(sb_language_follow(&f, "en", "thank you"));
	sb_language_follower_clear(&f);
	/* As a config file has it: one string. */
	f = follower("{\"language\": \"ar\", \"languages\": \"ar, en\"}");
	g_assert_cmpstr(f.configured, ==, "ar");
	g_assert_true(sb_language_follow(&f, "en", "thank you"));
	g_assert_false(sb_language_follow(&f, "fr", "merci beaucoup"));
	g_assert_cmpstr(f.current, ==, "en");
	sb_language_follower_clear(&f);
	f = follower("{\"follow_language\": \"false\"}");
	g_assert_false(sb_language_follow(&f, NULL, "مرحبا بكم"));
	g_assert_cmpstr(f.current, ==, "en");
	sb_language_follower_clear(&f);
	f = follower("{\"follow_language\": false, \"language\": \"klingonish\"}");
	g_assert_cmpstr(f.configured, ==, "en"); /* an unknown language: the default */
	g_assert_false(sb_language_follow(&f, "ar", "مرحبا بكم"));
	sb_language_follower_clear(&f);
	f = follower(NULL);
	g_assert_true(f.follow);
	g_assert_cmpstr(f.current, ==, "en");
	sb_language_follower_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/language/codes_and_names", test_codes_and_names);
	g_test_add_func("/language/scripts", test_scripts);
	g_test_add_func("/language/follows_the_caller", test_follows_the_caller);
	g_test_add_func("/language/allowed_and_off", test_allowed_and_off);
	return g_test_run();
}
