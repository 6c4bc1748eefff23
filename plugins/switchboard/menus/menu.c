/* A gather's life: the prompt, the wait, the keys or words, the retries,
 * and what it came to.  The driver owns the clock and the voice; this
 * only keeps count. */
#include "menus/menus_private.h"

#include <string.h>

typedef enum {
	PROMPTING,  /* what we say has not been played out yet */
	WAITING,    /* for a first key or word, until deadline */
	COLLECTING, /* keys of a number came; the next one until deadline */
	OVER,
} menu_state;

struct sb_menu {
	json_t *spec; /* borrowed */
	menu_state state;
	int attempts; /* prompts said, the first included */
	int retries;
	int timeout_ms, digit_timeout_ms;
	int min_digits, max_digits;
	char finish_key; /* '\0': none */
	bool dtmf, speech;
	int64_t deadline_us;
	GString *digits;
	/* What the last step handed out, alive until the next. */
	char *said;
	json_t *outcome;
};

static int spec_int(json_t *spec, const char *key, int def)
{
	json_t *v = json_object_get(spec, key);
	return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

sb_menu *sb_menu_new(json_t *gather)
{
	sb_menu *m = g_new0(sb_menu, 1);
	m->spec = gather;
	m->retries = spec_int(gather, "retries", SB_MENU_RETRIES_DEFAULT);
	m->timeout_ms = spec_int(gather, "timeout_ms", SB_MENU_TIMEOUT_DEFAULT_MS);
	m->digit_timeout_ms =
	        spec_int(gather, "digit_timeout_ms", SB_MENU_DIGIT_TIMEOUT_DEFAULT_MS);
	m->max_digits = spec_int(gather, "max_digits", 16);
	m->min_digits = spec_int(gather, "min_digits", 1);
	const char *finish = json_string_value(json_object_get(gather, "finish_on_key"));
	m->finish_key = finish ? finish[0] : '#';
	const char *input = json_string_value(json_object_get(gather, "input"));
	m->dtmf = !input || strstr(input, "dtmf");
	m->speech = !input || strstr(input, "speech");
	m->digits = g_string_new(NULL);
	return m;
}

void sb_menu_free(sb_menu *m)
{
	if (!m)
		return;
	g_string_free(m->digits, TRUE);
	g_free(m->said);
	json_decref(m->outcome);
	g_free(m);
}

json_t *sb_menu_spec(const sb_menu *m)
{
	return m->spec;
}

bool sb_menu_hears_speech(const sb_menu *m)
{
	return m && m->speech;
}

static const char *text_of(json_t *spec, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(spec, key));
	return s ? s : def;
}

static sb_menu_step say(sb_menu *m, char *text)
{
	g_free(m->said);
	m->said = text;
	m->state = PROMPTING;
	return (sb_menu_step){.say = m->said};
}

sb_menu_step sb_menu_start(sb_menu *m)
{
	m->attempts = 1;
	g_string_truncate(m->digits, 0);
	return say(m, g_strdup(text_of(m->spec, "prompt", "")));
}

void sb_menu_played(sb_menu *m, int64_t now_us)
{
	if (m->state != PROMPTING)
		return;
	m->state = WAITING;
	m->deadline_us = now_us + (int64_t)m->timeout_ms * 1000;
}

static json_t *option_of(sb_menu *m, const char *key)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(m->spec, "options"), i, o)
	{
		if (!g_strcmp0(json_string_value(json_object_get(o, "key")), key))
			return o;
	}
	return NULL;
}

static sb_menu_step finish(sb_menu *m, const char *status, const char *input, json_t *option)
{
	m->state = OVER;
	json_decref(m->outcome);
	m->outcome = json_pack("{s:s, s:i}", "status", status, "attempts", m->attempts);
	if (input)
		json_object_set_new(m->outcome, "input", json_string(input));
	json_t *action = NULL;
	if (option) {
		const char *key = json_string_value(json_object_get(option, "key"));
		json_object_set_new(m->outcome, "key", json_string(key));
		json_object_set_new(m->outcome, "value",
		                    json_string(text_of(option, "value", key)));
		action = option;
	} else if (!strcmp(status, "collected")) {
		json_object_set_new(m->outcome, "digits", json_string(m->digits->str));
		json_object_set_new(m->outcome, "value", json_string(m->digits->str));
		action = json_object_get(m->spec, "then");
	} else {
		action = json_object_get(m->spec, "otherwise");
	}
	return (sb_menu_step){.done = true, .outcome = m->outcome, .action = action};
}

/* A try that came to nothing: again, or over. */
static sb_menu_step retry(sb_menu *m, bool no_input, const char *input)
{
	g_string_truncate(m->digits, 0);
	if (m->attempts > m->retries)
		return finish(m, no_input ? "no_input" : "no_match", input, NULL);
	m->attempts++;
	const char *sorry = no_input ? text_of(m->spec, "no_input", SB_MENU_NO_INPUT_DEFAULT)
	                             : text_of(m->spec, "no_match", SB_MENU_NO_MATCH_DEFAULT);
	return say(m, g_strdup_printf("%s %s", sorry, text_of(m->spec, "prompt", "")));
}

static bool is_menu(sb_menu *m)
{
	return json_object_get(m->spec, "options") != NULL;
}

static sb_menu_step collected(sb_menu *m, const char *input)
{
	if ((int)m->digits->len < m->min_digits)
		return retry(m, false, input);
	return finish(m, "collected", input, NULL);
}

sb_menu_step sb_menu_key(sb_menu *m, char key, int64_t now_us)
{
	sb_menu_step none = {0};
	if (m->state == OVER || !m->dtmf)
		return none;
	if (is_menu(m)) {
		char k[2] = {key, '\0'};
		json_t *option = option_of(m, k);
		return option ? finish(m, "matched", "dtmf", option) : retry(m, false, "dtmf");
	}
	if (m->finish_key && key == m->finish_key)
		return collected(m, "dtmf");
	if (!g_ascii_isdigit(key))
		return none;
	g_string_append_c(m->digits, key);
	if ((int)m->digits->len >= m->max_digits)
		return collected(m, "dtmf");
	/* A key while we speak: the caller knows what to do. */
	m->state = COLLECTING;
	m->deadline_us = now_us + (int64_t)m->digit_timeout_ms * 1000;
	return (sb_menu_step){.say = NULL};
}

/* ---- speech ---- */

static GPtrArray *words_of(const char *text)
{
	GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
	char *lower = g_utf8_strdown(text ? text : "", -1);
	GString *w = g_string_new(NULL);
	for (const char *c = lower;; c++) {
		if (*c && (g_ascii_isalnum(*c) || *c == '\'' || (guchar)*c >= 0x80)) {
			g_string_append_c(w, *c);
			continue;
		}
		if (w->len)
			g_ptr_array_add(words, g_strdup(w->str));
		g_string_truncate(w, 0);
		if (!*c)
			break;
	}
	g_string_free(w, TRUE);
	g_free(lower);
	return words;
}

static int digit_word(const char *w)
{
	static const char *const names[] = {"zero", "one", "two",   "three", "four",
	                                    "five", "six", "seven", "eight", "nine"};
	for (int i = 0; i < 10; i++)
		if (!strcmp(w, names[i]))
			return '0' + i;
	if (!strcmp(w, "oh") || !strcmp(w, "o"))
		return '0';
	return 0;
}

char *sb_menu_spoken_digits(const char *text)
{
	GPtrArray *words = words_of(text);
	GString *out = g_string_new(NULL);
	int repeat = 1;
	for (guint i = 0; i < words->len; i++) {
		const char *w = words->pdata[i];
		int d = digit_word(w);
		if (!strcmp(w, "double") || !strcmp(w, "triple")) {
			repeat = w[0] == 'd' ? 2 : 3;
			continue;
		}
		if (d) {
			for (int k = 0; k < repeat; k++)
				g_string_append_c(out, (char)d);
		} else {
			for (const char *c = w; *c; c++)
				if (g_ascii_isdigit(*c))
					g_string_append_c(out, *c);
		}
		repeat = 1;
	}
	g_ptr_array_unref(words);
	return g_string_free(out, FALSE);
}

static bool only_digit_words(GPtrArray *words)
{
	for (guint i = 0; i < words->len; i++)
		if (!digit_word(words->pdata[i]))
			return false;
	return words->len > 0;
}

/* Whether the words hold phrase's words, in a row. */
static bool says(GPtrArray *words, const char *phrase)
{
	GPtrArray *want = words_of(phrase);
	bool found = false;
	for (guint i = 0; want->len && i + want->len <= words->len && !found; i++) {
		found = true;
		for (guint k = 0; k < want->len && found; k++)
			found = !strcmp(words->pdata[i + k], want->pdata[k]);
	}
	g_ptr_array_unref(want);
	return found;
}

/* The option the caller named: by its key said alone ("two", "option
 * two", "press 2"), else by its words; two options named is no choice. */
static json_t *option_said(sb_menu *m, const char *text)
{
	char *digits = sb_menu_spoken_digits(text);
	GPtrArray *words = words_of(text);
	json_t *by_key = NULL, *by_words = NULL;
	bool ambiguous = false;
	/* A lone digit, or the same one three times: the embedded recogniser
	 * hears numbers of three digits or more only (embedded/grammar.c), so
	 * "two" comes back as "two two two". */
	bool one_key = *digits && strspn(digits, (char[]){digits[0], '\0'}) == strlen(digits) &&
	               (strlen(digits) == 1 || only_digit_words(words));
	if (one_key) {
		char key[2] = {digits[0], '\0'};
		by_key = option_of(m, key);
	}
	if (!by_key && (says(words, "star") || says(words, "pound") || says(words, "hash")))
		by_key = option_of(m, says(words, "star") ? "*" : "#");
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(m->spec, "options"), i, o)
	{
		size_t k;
		json_t *phrase;
		json_array_foreach(json_object_get(o, "words"), k, phrase)
		{
			if (!says(words, json_string_value(phrase)))
				continue;
			ambiguous = ambiguous || (by_words && by_words != o);
			by_words = o;
		}
	}
	g_ptr_array_unref(words);
	g_free(digits);
	if (by_key)
		return by_key;
	return ambiguous ? NULL : by_words;
}

sb_menu_step sb_menu_speech(sb_menu *m, const char *text, int64_t now_us, bool *taken)
{
	(void)now_us;
	sb_menu_step none = {0};
	*taken = m->state != OVER && m->speech;
	if (!*taken || !text || !*text)
		return none;
	if (is_menu(m)) {
		json_t *option = option_said(m, text);
		sb_menu_step step =
		        option ? finish(m, "matched", "speech", option) : retry(m, false, "speech");
		if (step.done)
			json_object_set_new(m->outcome, "speech", json_string(text));
		return step;
	}
	char *digits = sb_menu_spoken_digits(text);
	g_string_assign(m->digits, digits);
	g_free(digits);
	if ((int)m->digits->len > m->max_digits)
		return retry(m, false, "speech");
	sb_menu_step step = collected(m, "speech");
	if (step.done)
		json_object_set_new(m->outcome, "speech", json_string(text));
	return step;
}

sb_menu_step sb_menu_tick(sb_menu *m, int64_t now_us)
{
	sb_menu_step none = {0};
	if ((m->state != WAITING && m->state != COLLECTING) || now_us < m->deadline_us)
		return none;
	if (m->state == COLLECTING)
		return collected(m, "dtmf");
	return retry(m, true, NULL);
}
