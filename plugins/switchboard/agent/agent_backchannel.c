/* Backchannels: what a listener says to show they are still listening
 * ("mm-hmm", "okay", "yeah", "right", "uh-huh") and that asks nothing of
 * the speaker.  Said over the agent, it must not stop it.  A text is a
 * backchannel when its words are a sequence of the configured phrases;
 * punctuation, case and hyphens do not matter ("Mm-hmm, okay." is "mm
 * hmm" + "okay"). */
#include "agent/agent_private.h"

#include <string.h>

#include <glib.h>

#include "embedded/embedded.h"

/* English, when [agent] backchannels has nothing for the language. */
static const char *const english[] = {"mm-hmm", "mhm",     "mm",        "hmm",   "uh-huh", "okay",
                                      "ok",     "yeah",    "yep",       "right", "sure",   "i see",
                                      "got it", "alright", "all right", "oh",    "ah"};

struct sb_backchannels {
	GPtrArray *phrases; /* of GStrv: each phrase's words */
};

/* The words of text as the dialog engine sees them: lower case, any
 * script, punctuation gone (so "mm-hmm" is "mm" "hmm"). */
static GStrv words_of(const char *text)
{
	GPtrArray *words = sb_kb_tokens(text);
	g_ptr_array_set_free_func(words, NULL); /* the strings go to the vector */
	g_ptr_array_add(words, NULL);
	return (GStrv)g_ptr_array_free(words, FALSE);
}

static void add_phrase(sb_backchannels *b, const char *phrase)
{
	GStrv w = words_of(phrase);
	if (w[0])
		g_ptr_array_add(b->phrases, w);
	else
		g_strfreev(w);
}

/* The list for language ("en-US" finds "en"): [agent] backchannels as
 * {"en": [...], "ar": [...]}, or one list for the agent's language. */
static json_t *list_for(json_t *config, const char *language)
{
	if (json_is_array(config))
		return config;
	if (!json_is_object(config) || !language)
		return NULL;
	json_t *list = json_object_get(config, language);
	if (!list) {
		g_autofree char *base = g_strndup(language, strcspn(language, "-_"));
		list = json_object_get(config, base);
	}
	return json_is_array(list) ? list : NULL;
}

sb_backchannels *sb_backchannels_new(json_t *config, const char *language)
{
	sb_backchannels *b = g_new0(sb_backchannels, 1);
	b->phrases = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	json_t *list = list_for(config, language ? language : "en");
	size_t i;
	json_t *v;
	if (list) {
		json_array_foreach(list, i, v) if (json_is_string(v))
		        add_phrase(b, json_string_value(v));
	} else if (!language || !g_ascii_strncasecmp(language, "en", 2)) {
		for (i = 0; i < G_N_ELEMENTS(english); i++)
			add_phrase(b, english[i]);
	}
	return b;
}

void sb_backchannels_free(sb_backchannels *b)
{
	if (!b)
		return;
	g_ptr_array_unref(b->phrases);
	g_free(b);
}

/* Does a phrase match words[at…]?  Its length, or 0. */
static guint phrase_at(GStrv phrase, GStrv words, guint at)
{
	guint n = 0;
	for (; phrase[n]; n++)
		if (!words[at + n] || strcmp(phrase[n], words[at + n]))
			return 0;
	return n;
}

bool sb_backchannels_match(const sb_backchannels *b, const char *text)
{
	g_auto(GStrv) words = words_of(text);
	guint n = g_strv_length(words);
	if (!b || n == 0)
		return false;
	/* reach[i]: the first i words are a sequence of phrases. */
	g_autofree bool *reach = g_new0(bool, n + 1);
	reach[0] = true;
	for (guint i = 0; i < n; i++) {
		if (!reach[i])
			continue;
		for (guint p = 0; p < b->phrases->len; p++) {
			guint len = phrase_at(b->phrases->pdata[p], words, i);
			if (len)
				reach[i + len] = true;
		}
	}
	return reach[n];
}
