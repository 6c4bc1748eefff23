/* The caller's language: codes and names, the script of a text, and the
 * rule by which a conversation follows its caller into another language
 * (providers.h, "languages").  Shared by the agent, ConversationRelay and
 * WhatsApp so that all three switch on the same evidence. */
#include "providers/providers.h"

#include <string.h>

#include <glib.h>

/* ISO 639-1 codes and the English names recognisers report (OpenAI's
 * verbose_json says "arabic"; a system prompt says "Arabic"). */
static const struct {
	const char *code, *name;
} languages[] = {
        {"af", "Afrikaans"},  {"am", "Amharic"},    {"ar", "Arabic"},     {"az", "Azerbaijani"},
        {"be", "Belarusian"}, {"bg", "Bulgarian"},  {"bn", "Bengali"},    {"bs", "Bosnian"},
        {"ca", "Catalan"},    {"cs", "Czech"},      {"cy", "Welsh"},      {"da", "Danish"},
        {"de", "German"},     {"el", "Greek"},      {"en", "English"},    {"es", "Spanish"},
        {"et", "Estonian"},   {"eu", "Basque"},     {"fa", "Persian"},    {"fi", "Finnish"},
        {"fr", "French"},     {"ga", "Irish"},      {"gl", "Galician"},   {"gu", "Gujarati"},
        {"he", "Hebrew"},     {"hi", "Hindi"},      {"hr", "Croatian"},   {"hu", "Hungarian"},
        {"hy", "Armenian"},   {"id", "Indonesian"}, {"is", "Icelandic"},  {"it", "Italian"},
        {"ja", "Japanese"},   {"ka", "Georgian"},   {"kk", "Kazakh"},     {"km", "Khmer"},
        {"kn", "Kannada"},    {"ko", "Korean"},     {"lt", "Lithuanian"}, {"lv", "Latvian"},
        {"mk", "Macedonian"}, {"ml", "Malayalam"},  {"mn", "Mongolian"},  {"mr", "Marathi"},
        {"ms", "Malay"},      {"mt", "Maltese"},    {"my", "Burmese"},    {"ne", "Nepali"},
        {"nl", "Dutch"},      {"no", "Norwegian"},  {"pa", "Punjabi"},    {"pl", "Polish"},
        {"ps", "Pashto"},     {"pt", "Portuguese"}, {"ro", "Romanian"},   {"ru", "Russian"},
        {"si", "Sinhala"},    {"sk", "Slovak"},     {"sl", "Slovenian"},  {"so", "Somali"},
        {"sq", "Albanian"},   {"sr", "Serbian"},    {"sv", "Swedish"},    {"sw", "Swahili"},
        {"ta", "Tamil"},      {"te", "Telugu"},     {"th", "Thai"},       {"tl", "Tagalog"},
        {"tr", "Turkish"},    {"uk", "Ukrainian"},  {"ur", "Urdu"},       {"uz", "Uzbek"},
        {"vi", "Vietnamese"}, {"yo", "Yoruba"},     {"zh", "Chinese"},    {"zu", "Zulu"},
};

const char *sb_language_code(const char *name_or_tag)
{
	if (!name_or_tag || !*name_or_tag)
		return NULL;
	size_t primary = strcspn(name_or_tag, "-_");
	for (size_t i = 0; i < G_N_ELEMENTS(languages); i++) {
		const char *code = languages[i].code;
		if ((primary == strlen(code) && !g_ascii_strncasecmp(name_or_tag, code, primary)) ||
		    !g_ascii_strcasecmp(name_or_tag, languages[i].name))
			return code;
	}
	/* A code we have no name for ("haw", "yue-HK") is still a code: two
	 * or three letters before any region. */
	if (primary < 2 || primary > 3)
		return NULL;
	for (size_t i = 0; i < primary; i++)
		if (!g_ascii_isalpha(name_or_tag[i]))
			return NULL;
	char *lower = g_ascii_strdown(name_or_tag, (gssize)primary);
	const char *interned = g_intern_string(lower);
	g_free(lower);
	return interned;
}

const char *sb_language_name(const char *code)
{
	const char *c = sb_language_code(code);
	for (size_t i = 0; c && i < G_N_ELEMENTS(languages); i++)
		if (!strcmp(c, languages[i].code))
			return languages[i].name;
	return NULL;
}

/* Scripts that give a language away.  Where several languages share one
 * (Arabic script: Arabic, Persian, Urdu; Cyrillic: Russian, Ukrainian …)
 * the code is the most spoken of them; a recogniser's detection, when
 * there is one, is what tells them apart. */
typedef enum script {
	LATIN_OR_OTHER,
	ARABIC,
	HEBREW,
	CYRILLIC,
	GREEK,
	DEVANAGARI,
	BENGALI,
	TAMIL,
	THAI,
	GEORGIAN,
	ARMENIAN,
	HANGUL,
	KANA,
	HAN,
	SCRIPT_COUNT
} script;

static const char *const script_language[SCRIPT_COUNT] = {
        [ARABIC] = "ar",     [HEBREW] = "he",   [CYRILLIC] = "ru", [GREEK] = "el",
        [DEVANAGARI] = "hi", [BENGALI] = "bn",  [TAMIL] = "ta",    [THAI] = "th",
        [GEORGIAN] = "ka",   [ARMENIAN] = "hy", [HANGUL] = "ko",   [KANA] = "ja",
        [HAN] = "zh",
};

static script script_of(gunichar c)
{
	if ((c >= 0x0600 && c <= 0x06FF) || (c >= 0x0750 && c <= 0x077F) ||
	    (c >= 0x08A0 && c <= 0x08FF) || (c >= 0xFB50 && c <= 0xFDFF) ||
	    (c >= 0xFE70 && c <= 0xFEFF))
		return ARABIC;
	if (c >= 0x0590 && c <= 0x05FF)
		return HEBREW;
	if (c >= 0x0400 && c <= 0x052F)
		return CYRILLIC;
	if (c >= 0x0370 && c <= 0x03FF)
		return GREEK;
	if (c >= 0x0900 && c <= 0x097F)
		return DEVANAGARI;
	if (c >= 0x0980 && c <= 0x09FF)
		return BENGALI;
	if (c >= 0x0B80 && c <= 0x0BFF)
		return TAMIL;
	if (c >= 0x0E00 && c <= 0x0E7F)
		return THAI;
	if (c >= 0x10A0 && c <= 0x10FF)
		return GEORGIAN;
	if (c >= 0x0530 && c <= 0x058F)
		return ARMENIAN;
	if ((c >= 0xAC00 && c <= 0xD7AF) || (c >= 0x1100 && c <= 0x11FF) ||
	    (c >= 0x3130 && c <= 0x318F))
		return HANGUL;
	if (c >= 0x3040 && c <= 0x30FF)
		return KANA;
	if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF))
		return HAN;
	return LATIN_OR_OTHER;
}

/* The script a language is written in, for those that share one. */
static script written_in(const char *code)
{
	static const struct {
		const char *code;
		script script;
	} map[] = {{"ar", ARABIC},     {"fa", ARABIC},     {"ur", ARABIC},   {"ps", ARABIC},
	           {"he", HEBREW},     {"yi", HEBREW},     {"ru", CYRILLIC}, {"uk", CYRILLIC},
	           {"bg", CYRILLIC},   {"be", CYRILLIC},   {"sr", CYRILLIC}, {"mk", CYRILLIC},
	           {"kk", CYRILLIC},   {"mn", CYRILLIC},   {"el", GREEK},    {"hi", DEVANAGARI},
	           {"mr", DEVANAGARI}, {"ne", DEVANAGARI}, {"bn", BENGALI},  {"ta", TAMIL},
	           {"th", THAI},       {"ka", GEORGIAN},   {"hy", ARMENIAN}, {"ko", HANGUL},
	           {"ja", KANA},       {"zh", HAN}};
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
		if (!strcmp(code, map[i].code))
			return map[i].script;
	return LATIN_OR_OTHER;
}

const char *sb_language_of_script(const char *text)
{
	if (!text || !g_utf8_validate(text, -1, NULL))
		return NULL;
	unsigned count[SCRIPT_COUNT] = {0};
	unsigned letters = 0;
	for (const char *s = text; *s; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);
		if (!g_unichar_isalpha(c))
			continue;
		letters++;
		count[script_of(c)]++;
	}
	/* Japanese writes kanji beside its kana: any kana makes Han Japanese. */
	if (count[KANA]) {
		count[KANA] += count[HAN];
		count[HAN] = 0;
	}
	script best = LATIN_OR_OTHER;
	for (int s = 0; s < SCRIPT_COUNT; s++)
		if (count[s] > count[best])
			best = (script)s;
	if (best == LATIN_OR_OTHER || 2 * count[best] <= letters)
		return NULL;
	return script_language[best];
}

void sb_language_follower_init(sb_language_follower *f, json_t *config)
{
	memset(f, 0, sizeof(*f));
	json_t *language = json_object_get(config, "language");
	const char *code = sb_language_code(json_string_value(language));
	f->configured = g_strdup(code ? code : "en");
	f->current = g_strdup(f->configured);
	json_t *follow = json_object_get(config, "follow_language");
	const char *follow_text = json_string_value(follow);
	f->follow = !(json_is_false(follow) ||
	              (follow_text &&
	               (!g_ascii_strcasecmp(follow_text, "false") ||
	                !g_ascii_strcasecmp(follow_text, "no") || !strcmp(follow_text, "0"))));
	/* languages = ["en", "ar"] (or "en, ar", as a config file has it). */
	json_t *allowed = json_object_get(config, "languages");
	char **parts = NULL;
	if (json_is_string(allowed))
		parts = g_strsplit_set(json_string_value(allowed), ", ", -1);
	if (json_is_array(allowed) || parts) {
		f->allowed = json_array();
		size_t i;
		json_t *item;
		json_array_foreach(json_is_array(allowed) ? allowed : NULL, i, item)
		{
			const char *c = sb_language_code(json_string_value(item));
			if (c)
				json_array_append_new(f->allowed, json_string(c));
		}
		for (char **p = parts; p && *p; p++) {
			const char *c = sb_language_code(*p);
			if (c)
				json_array_append_new(f->allowed, json_string(c));
		}
	}
	g_strfreev(parts);
}

void sb_language_follower_clear(sb_language_follower *f)
{
	g_free(f->configured);
	g_free(f->current);
	json_decref(f->allowed);
	memset(f, 0, sizeof(*f));
}

static bool allowed(const sb_language_follower *f, const char *code)
{
	if (!f->allowed || !strcmp(code, f->configured))
		return true;
	size_t i;
	json_t *item;
	json_array_foreach(f->allowed, i, item)
	{
		if (!g_strcmp0(json_string_value(item), code))
			return true;
	}
	return false;
}

static bool mostly_latin(const char *text)
{
	unsigned letters = 0, latin = 0;
	for (const char *s = text; *s; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);
		if (!g_unichar_isalpha(c))
			continue;
		letters++;
		latin += g_unichar_get_script(c) == G_UNICODE_SCRIPT_LATIN;
	}
	return letters && 2 * latin > letters;
}

/* Words with a letter in them: "okay." is one, "1 2 3" none. */
static unsigned words_in(const char *text)
{
	unsigned words = 0;
	bool in_word = false, lettered = false;
	for (const char *s = text; s && *s; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);
		if (g_unichar_isspace(c)) {
			words += in_word && lettered;
			in_word = lettered = false;
			continue;
		}
		in_word = true;
		lettered = lettered || g_unichar_isalpha(c);
	}
	return words + (in_word && lettered);
}

bool sb_language_follow(sb_language_follower *f, const char *detected, const char *text)
{
	if (!f->follow || !text || !g_utf8_validate(text, -1, NULL))
		return false;
	const char *by_script = sb_language_of_script(text);
	const char *by_ear = sb_language_code(detected);
	const char *code = NULL;
	if (by_script)
		/* A recogniser that tells Persian from Arabic in Arabic letters
		 * knows better than the script; one that says "en" over them
		 * does not. */
		code = by_ear && !g_strcmp0(script_language[written_in(by_ear)], by_script)
		               ? by_ear
		               : by_script;
	else if (by_ear && words_in(text) >= 2)
		code = by_ear;
	else if (!by_ear && words_in(text) >= 2 && written_in(f->current) != LATIN_OR_OTHER &&
	         written_in(f->configured) == LATIN_OR_OTHER && mostly_latin(text))
		/* Back from Arabic letters to Latin ones, with nothing that
		 * hears a language: back to the configured language. */
		code = f->configured;
	if (!code || !strcmp(code, f->current) || !allowed(f, code))
		return false;
	g_free(f->current);
	f->current = g_strdup(code);
	return true;
}

char *sb_language_instruction(const sb_language_follower *f)
{
	if (!strcmp(f->current, f->configured))
		return NULL;
	const char *name = sb_language_name(f->current);
	return g_strdup_printf("The caller speaks %s: answer in %s.", name ? name : f->current,
	                       name ? name : f->current);
}
