/* A call's analysis by a language model (analysis_private.h), on the
 * analysis thread: the chain is asked once, with the transcript, the
 * fields schema and the embedded engine's analysis as a starting point,
 * and its JSON answer is merged into that analysis.  Anything wrong — no
 * model, an error, a timeout, an answer that is not the object asked for
 * — leaves the local analysis, with why.
 *
 * The analysis thread is this module's own, so it may wait for the answer
 * (bounded by [analysis] timeout_ms); the chain's events come on provider
 * threads and only fill the wait. */
#include "analysis/analysis_private.h"

#include <string.h>

#include <debug.h>

#include "providers/providers.h"

#define MAX_TRANSCRIPT_CHARS 24000 /* the newest part of a long call */
#define MAX_ANSWER_CHARS 32000     /* a model that rambles is cut off */

static const char PROMPT[] =
        "You analyse a finished phone call between a caller and a contact centre's AI agent. "
        "Use only what the transcript says; never invent names, numbers or facts. Answer with "
        "one JSON object and nothing else, with these keys:\n"
        "\"summary\": two or three sentences: who called, why, and how it ended,\n"
        "\"disposition\": one of \"resolved\", \"transferred\", \"escalated\", \"unresolved\", "
        "\"abandoned\", \"failed\",\n"
        "\"goal_met\": true when the caller got what they called for,\n"
        "\"sentiment\": {\"overall\": \"negative\", \"neutral\" or \"positive\", \"end\": the "
        "same, at the end of the call},\n"
        "\"fields\": an object with the fields the schema below asks for, null when the call "
        "does not say.";

struct sb_analysis_model {
	json_t *names; /* [analysis] llm, or NULL: the agent's language models */
	int timeout_ms;
	sb_llm_chain *chain; /* the analysis thread's */
	unsigned generation; /* of the provider config it was built from */
};

sb_analysis_model *sb_analysis_model_new(json_t *llm, int timeout_ms)
{
	sb_analysis_model *m = g_new0(sb_analysis_model, 1);
	m->names = llm ? json_incref(llm) : NULL;
	m->timeout_ms = timeout_ms;
	return m;
}

void sb_analysis_model_free(sb_analysis_model *m)
{
	if (!m)
		return;
	if (m->chain)
		sb_llm_chain_free(m->chain);
	json_decref(m->names);
	g_free(m);
}

/* Appends the names in v (a list, or "a, b") other than "local": the
 * embedded engine is the fallback already. */
static void add_names(json_t *out, json_t *v)
{
	if (json_is_array(v)) {
		size_t i;
		json_t *n;
		json_array_foreach(v, i, n) add_names(out, n);
		return;
	}
	if (!json_is_string(v))
		return;
	g_auto(GStrv) parts = g_strsplit_set(json_string_value(v), ", ", -1);
	for (char **p = parts; *p; p++)
		if (**p && strcmp(*p, "local"))
			json_array_append_new(out, json_string(*p));
}

/* The chain of the provider config in force, rebuilt after a reload. */
static sb_llm_chain *chain_of(sb_analysis_model *m)
{
	sb_provider_snapshot *now = sb_providers_current();
	if (!now)
		return m->chain;
	if (now->generation != m->generation) {
		m->generation = now->generation;
		if (m->chain)
			sb_llm_chain_free(m->chain);
		m->chain = NULL;
		json_t *names = json_array();
		add_names(names, m->names ? m->names : json_object_get(now->agent, "llm"));
		sb_chain_options opt = {0};
		sb_chain_options_from_json(&opt, now->agent, SB_KIND_LLM);
		opt.first_output_timeout_ms = m->timeout_ms;
		char *error = NULL;
		if (json_array_size(names))
			m->chain = sb_llm_chain_build(now->set, names, &opt, &error);
		if (json_array_size(names) && !m->chain)
			JANUS_LOG(LOG_WARN,
			          "[switchboard] [analysis] no language model (%s): the "
			          "embedded engine's analysis only\n",
			          error ? error : "?");
		g_free(error);
		json_decref(names);
	}
	sb_provider_snapshot_unref(now);
	return m->chain;
}

/* ---- one question, waited for ---- */

typedef struct wait {
	GMutex lock;
	GCond cond;
	GString *text;
	bool done;
	char *error;
} wait;

static void on_text(void *user, const char *delta)
{
	wait *w = user;
	g_mutex_lock(&w->lock);
	if (w->text->len < MAX_ANSWER_CHARS)
		g_string_append(w->text, delta);
	g_mutex_unlock(&w->lock);
}

static void on_tool(void *user, const char *id, const char *name, json_t *arguments)
{
	(void)user, (void)id, (void)name, (void)arguments; /* no tools offered */
}

static void on_done(void *user, const char *error)
{
	wait *w = user;
	g_mutex_lock(&w->lock);
	w->done = true;
	w->error = g_strdup(error);
	g_cond_signal(&w->cond);
	g_mutex_unlock(&w->lock);
}

static const sb_llm_events events = {.text = on_text, .tool = on_tool, .done = on_done};

/* The model's text, or NULL with *error (g_free). */
static char *ask(sb_llm_chain *chain, const char *system_prompt, const char *question,
                 int timeout_ms, char **provider, char **error)
{
	wait w = {.text = g_string_new(NULL)};
	g_mutex_init(&w.lock);
	g_cond_init(&w.cond);
	json_t *messages = json_pack("[{ssss}]", "role", "user", "content", question);
	sb_llm_request req = {.system_prompt = system_prompt, .messages = messages};
	sb_llm_call *call = sb_llm_chain_start(chain, &req, &events, &w, error);
	json_decref(messages);
	char *answer = NULL;
	if (call) {
		gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
		g_mutex_lock(&w.lock);
		while (!w.done)
			if (!g_cond_wait_until(&w.cond, &w.lock, deadline))
				break;
		bool done = w.done;
		g_mutex_unlock(&w.lock);
		*provider = sb_chain_call_provider(call, NULL);
		/* After release no event comes: w may go. */
		sb_llm_chain_release(call);
		if (!done)
			*error = g_strdup_printf("no answer within %d ms", timeout_ms);
		else if (w.error)
			*error = g_strdup(w.error);
		else
			answer = g_strdup(w.text->str);
	} else if (!*error) {
		*error = g_strdup("no provider");
	}
	g_free(w.error);
	g_string_free(w.text, TRUE);
	g_cond_clear(&w.cond);
	g_mutex_clear(&w.lock);
	return answer;
}

/* ---- the answer ---- */

static bool one_of(const char *v, const char *const *list)
{
	for (size_t i = 0; v && list[i]; i++)
		if (!strcmp(v, list[i]))
			return true;
	return false;
}

static bool fits(json_t *value, const char *type)
{
	if (json_is_null(value))
		return true;
	if (!type || !strcmp(type, "string"))
		return json_is_string(value);
	if (!strcmp(type, "integer"))
		return json_is_integer(value);
	if (!strcmp(type, "number"))
		return json_is_number(value);
	return !strcmp(type, "boolean") && json_is_boolean(value);
}

bool sb_analysis_merge_model(json_t *analysis, const char *answer, json_t *fields_schema)
{
	static const char *const dispositions[] = {
	        "resolved", "transferred", "escalated", "unresolved", "abandoned", "failed", NULL};
	static const char *const labels[] = {"negative", "neutral", "positive", NULL};
	/* Models wrap JSON in a ```json fence or a sentence: take the
	 * outermost object. */
	const char *start = answer ? strchr(answer, '{') : NULL;
	const char *end = answer ? strrchr(answer, '}') : NULL;
	if (!start || !end || end < start)
		return false;
	json_t *m = json_loadb(start, (size_t)(end - start + 1), 0, NULL);
	const char *summary = json_string_value(json_object_get(m, "summary"));
	const char *disposition = json_string_value(json_object_get(m, "disposition"));
	if (!json_is_object(m) || !summary || !*summary || !one_of(disposition, dispositions)) {
		json_decref(m);
		return false;
	}
	json_object_set_new(analysis, "summary", json_string(summary));
	json_object_set_new(analysis, "disposition", json_string(disposition));
	json_t *goal = json_object_get(m, "goal_met");
	if (json_is_boolean(goal))
		json_object_set(analysis, "goal_met", goal);
	/* The labels are the model's; the timeline and score stay the
	 * lexicon's, line by line. */
	json_t *sentiment = json_object_get(analysis, "sentiment");
	json_t *said = json_object_get(m, "sentiment");
	const char *keys[] = {"overall", "end"};
	for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
		const char *label = json_string_value(json_object_get(said, keys[k]));
		if (one_of(label, labels))
			json_object_set_new(sentiment, keys[k], json_string(label));
	}
	/* Only the fields the schema asks for, of its type; else the
	 * engine's reading stays. */
	json_t *fields = json_object_get(analysis, "fields");
	json_t *given = json_object_get(m, "fields");
	const char *name;
	json_t *property;
	json_object_foreach(json_object_get(fields_schema, "properties"), name, property)
	{
		json_t *v = json_object_get(given, name);
		if (v && fits(v, json_string_value(json_object_get(property, "type"))))
			json_object_set(fields, name, v);
	}
	json_decref(m);
	return true;
}

/* "Caller: …\nAgent: …", the newest MAX_TRANSCRIPT_CHARS of it. */
static char *transcript_text(json_t *log)
{
	GString *s = g_string_new(NULL);
	size_t i;
	json_t *line;
	json_array_foreach(json_object_get(log, "lines"), i, line)
	{
		const char *text = json_string_value(json_object_get(line, "text"));
		if (text)
			g_string_append_printf(
			        s, "%s: %s\n",
			        json_is_true(json_object_get(line, "caller")) ? "Caller" : "Agent",
			        text);
	}
	if (s->len > MAX_TRANSCRIPT_CHARS)
		g_string_erase(s, 0, (gssize)(s->len - MAX_TRANSCRIPT_CHARS));
	return g_string_free(s, FALSE);
}

void sb_analysis_by_model(sb_analysis_model *m, json_t *analysis, json_t *log,
                          json_t *fields_schema)
{
	sb_llm_chain *chain = m ? chain_of(m) : NULL;
	if (!chain || !json_integer_value(json_object_get(analysis, "caller_turns")))
		return; /* nothing to ask, or nobody to ask: the engine's stands */
	g_autofree char *transcript = transcript_text(log);
	char *schema = fields_schema ? json_dumps(fields_schema, JSON_COMPACT) : NULL;
	char *local = json_dumps(analysis, JSON_COMPACT);
	g_autofree char *question = g_strdup_printf(
	        "Fields schema (JSON Schema): %s\nWhat happened on the call: %s%s%s\nA first, "
	        "mechanical analysis (a keyword reading; correct it): %s\nTranscript:\n%s",
	        schema ? schema : "{}",
	        json_is_true(json_object_get(log, "transferred")) ? "transferred to a human. " : "",
	        json_is_true(json_object_get(log, "handoff")) ? "the agent asked for a human. "
	                                                      : "",
	        json_object_get(log, "status") ? json_string_value(json_object_get(log, "status"))
	                                       : "",
	        local, transcript);
	free(schema);
	free(local);
	char *provider = NULL, *error = NULL;
	char *answer = ask(chain, PROMPT, question, m->timeout_ms, &provider, &error);
	if (answer && sb_analysis_merge_model(analysis, answer, fields_schema)) {
		json_object_set_new(analysis, "engine", json_string("llm"));
		json_object_set_new(analysis, "provider", json_string(provider ? provider : "?"));
	} else {
		const char *why = error ? error : "the model's answer is not an analysis";
		JANUS_LOG(LOG_WARN,
		          "[switchboard] [analysis] the model's analysis failed (%s): the "
		          "embedded engine's stands\n",
		          why);
		json_object_set_new(analysis, "fallback_reason", json_string(why));
	}
	g_free(answer);
	g_free(provider);
	g_free(error);
}
