/* The embedded engine's analysis of a call (analysis_private.h): the same
 * extractive summary and lexicon the warm-transfer note uses, an outcome
 * from what happened on the bus, and fields read from the caller's words.
 * Deterministic: the same log gives the same analysis. */
#include "analysis/analysis_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "embedded/embedded.h"

const char *sb_analysis_label(int mood)
{
	return mood < 0 ? "negative" : mood > 0 ? "positive" : "neutral";
}

static int count(json_t *log, const char *key)
{
	return (int)json_integer_value(json_object_get(log, key));
}

/* Topics that are only manners: they do not make a call resolved. */
static bool manners(const char *topic)
{
	static const char *const small_talk[] = {"hello", "thanks", "give_name", "goodbye",
	                                         "ask_name"};
	for (size_t i = 0; i < G_N_ELEMENTS(small_talk); i++)
		if (!strcmp(topic, small_talk[i]))
			return true;
	return false;
}

static const char *outcome_of(json_t *log, int caller_lines, json_t *summary)
{
	const char *status = json_string_value(json_object_get(log, "status"));
	if (json_is_true(json_object_get(log, "transferred")))
		return "transferred";
	if (json_is_true(json_object_get(log, "handoff")))
		return "escalated";
	if (!caller_lines)
		return status && (!strcmp(status, "busy") || !strcmp(status, "no-answer") ||
		                  !strcmp(status, "failed"))
		               ? "failed"
		               : "abandoned";
	/* Answered, about something the knowledge base knows (or a tool did
	 * something): the caller got what they came for. */
	int turns = count(log, "agent_turns");
	bool substance = false;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(summary, "topics"), i, t) substance =
	        substance || !manners(json_string_value(t));
	substance = substance || count(log, "tools_ok") > 0;
	return turns > 0 && substance ? "resolved" : "unresolved";
}

json_t *sb_analysis_local(json_t *kb, json_t *log, json_t *fields_schema)
{
	json_t *lines = json_object_get(log, "lines");
	json_t *transcript = json_array(), *timeline = json_array();
	GString *caller_text = g_string_new(NULL);
	int caller_lines = 0, total = 0, last_two = 0;
	size_t i;
	json_t *line;
	json_array_foreach(lines, i, line)
	{
		const char *text = json_string_value(json_object_get(line, "text"));
		bool caller = json_is_true(json_object_get(line, "caller"));
		if (!text)
			continue;
		json_array_append_new(
		        transcript,
		        json_pack("{ssss}", "speaker", caller ? "caller" : "agent", "text", text));
		if (!caller)
			continue;
		caller_lines++;
		int mood = (int)json_integer_value(json_object_get(line, "mood"));
		total += mood;
		json_array_append_new(timeline,
		                      json_pack("{sOsiss}", "at", json_object_get(line, "at"),
		                                "mood", mood, "label", sb_analysis_label(mood)));
		g_string_append_printf(caller_text, "%s%s", caller_text->len ? "\n" : "", text);
	}
	/* The end: the caller's last two lines, where a call is won or lost. */
	size_t n = json_array_size(timeline);
	for (size_t k = n > 2 ? n - 2 : 0; k < n; k++)
		last_two += (int)json_integer_value(
		        json_object_get(json_array_get(timeline, k), "mood"));
	json_t *summary = sb_local_summary(kb, NULL, transcript);
	const char *outcome = outcome_of(log, caller_lines, summary);
	/* A score in -1..1 that grows with the words, not the call's length. */
	double score = caller_lines ? tanh((double)total / sqrt((double)caller_lines)) : 0.0;
	json_t *sentiment = json_pack("{sssssfso}", "overall", sb_analysis_label(total), "end",
	                              sb_analysis_label(last_two), "score",
	                              round(score * 100.0) / 100.0, "timeline", timeline);
	json_t *fields = sb_analysis_fields(fields_schema, caller_text->str, summary);
	json_t *out = json_pack(
	        "{ss sO sO sO ss sb so so si}", "engine", "local", "summary",
	        json_object_get(summary, "text"), "issue", json_object_get(summary, "issue"),
	        "topics", json_object_get(summary, "topics"), "disposition", outcome, "goal_met",
	        !strcmp(outcome, "resolved") || !strcmp(outcome, "transferred"), "sentiment",
	        sentiment, "fields", fields, "caller_turns", caller_lines);
	json_decref(summary);
	json_decref(transcript);
	g_string_free(caller_text, TRUE);
	return out;
}

/* ---- fields ---- */

static bool name_has(const char *name, const char *part)
{
	g_autofree char *lower = g_ascii_strdown(name, -1);
	return strstr(lower, part) != NULL;
}

/* The first match of pattern in text: its first group, else all of it. */
static char *first_match(const char *pattern, const char *text, GRegexCompileFlags flags)
{
	GRegex *re = g_regex_new(pattern, flags | G_REGEX_OPTIMIZE, 0, NULL);
	if (!re)
		return NULL;
	GMatchInfo *m = NULL;
	char *found = NULL;
	if (g_regex_match(re, text, 0, &m)) {
		found = g_regex_get_capture_count(re) > 0 ? g_match_info_fetch(m, 1) : NULL;
		if (!found || !*found) {
			g_free(found);
			found = g_match_info_fetch(m, 0);
		}
	}
	g_match_info_free(m);
	g_regex_unref(re);
	return found;
}

/* What a property's name says to look for, when it gives no pattern. */
static char *by_name(const char *name, const char *text, json_t *summary)
{
	json_t *caller = json_object_get(summary, "caller");
	if (name_has(name, "order")) {
		/* The number said with "order" first; else the one the dialog
		 * engine took for the order (the last it heard); else any. */
		char *said = first_match("order\\D{0,24}?(\\d{3,12})", text, G_REGEX_CASELESS);
		const char *order = json_string_value(json_object_get(caller, "order"));
		return said    ? said
		       : order ? g_strdup(order)
		               : first_match("\\b(\\d{4,12})\\b", text, 0);
	}
	if (name_has(name, "email"))
		return first_match("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}", text, 0);
	if (name_has(name, "phone"))
		return first_match("(\\+?\\d[\\d ().-]{5,}\\d)", text, 0);
	if (name_has(name, "name")) {
		const char *caller_name = json_string_value(json_object_get(caller, "name"));
		return caller_name ? g_strdup(caller_name) : NULL;
	}
	if (name_has(name, "time") || name_has(name, "date") || name_has(name, "when"))
		return first_match(
		        "\\b((?:today|tonight|tomorrow|monday|tuesday|wednesday|thursday|"
		        "friday|saturday|sunday)(?:\\s+(?:morning|afternoon|evening|at\\s+"
		        "\\d{1,2}(?::\\d{2})?\\s*(?:am|pm|a\\.m\\.|p\\.m\\.)?))?|\\d{1,2}"
		        "(?::\\d{2})?\\s*(?:am|pm|a\\.m\\.|p\\.m\\.|o'clock))",
		        text, G_REGEX_CASELESS);
	return NULL;
}

json_t *sb_analysis_fields(json_t *fields_schema, const char *text, json_t *summary)
{
	json_t *out = json_object();
	const char *name;
	json_t *property;
	json_object_foreach(json_object_get(fields_schema, "properties"), name, property)
	{
		const char *pattern = json_string_value(json_object_get(property, "pattern"));
		char *found =
		        pattern ? first_match(pattern, text, 0) : by_name(name, text, summary);
		const char *type = json_string_value(json_object_get(property, "type"));
		json_t *value = json_null();
		if (found && type && (!strcmp(type, "number") || !strcmp(type, "integer"))) {
			char *end = NULL;
			double d = g_ascii_strtod(found, &end);
			if (end && end != found && !*end)
				value = !strcmp(type, "integer") ? json_integer((json_int_t)d)
				                                 : json_real(d);
		} else if (found && type && !strcmp(type, "boolean")) {
			value = json_true(); /* what the pattern asks for was said */
		} else if (found) {
			value = json_string(found);
		}
		json_object_set_new(out, name, value);
		g_free(found);
	}
	return out;
}

bool sb_analysis_schema_ok(json_t *schema, char **error)
{
	json_t *properties = json_object_get(schema, "properties");
	if (!json_is_object(schema) ||
	    g_strcmp0(json_string_value(json_object_get(schema, "type")), "object") ||
	    !json_is_object(properties)) {
		*error = g_strdup("[analysis] fields must be a JSON Schema of type \"object\" with "
		                  "\"properties\"");
		return false;
	}
	if (json_object_size(properties) > 64) {
		*error = g_strdup("[analysis] fields: at most 64 properties");
		return false;
	}
	const char *name;
	json_t *p;
	json_object_foreach(properties, name, p)
	{
		const char *type = json_string_value(json_object_get(p, "type"));
		json_t *pattern = json_object_get(p, "pattern");
		if (!json_is_object(p) || !type ||
		    (strcmp(type, "string") && strcmp(type, "number") && strcmp(type, "integer") &&
		     strcmp(type, "boolean"))) {
			*error = g_strdup_printf(
			        "[analysis] fields: property \"%.64s\" needs a type: "
			        "string, number, integer or boolean",
			        name);
			return false;
		}
		GError *e = NULL;
		GRegex *re = json_is_string(pattern)
		                     ? g_regex_new(json_string_value(pattern), 0, 0, &e)
		                     : NULL;
		if (pattern && !re) {
			*error =
			        g_strdup_printf("[analysis] fields: property \"%.64s\": pattern %s",
			                        name, e ? e->message : "is not a string");
			g_clear_error(&e);
			return false;
		}
		if (re)
			g_regex_unref(re);
	}
	return true;
}
