/* Summaries and assist answers from a cloud language model
 * (transfer_private.h, section transfer_ai).  One job per request; the
 * chain call streams text deltas into the job, and done() turns the text
 * into the answer (or the fallback) and hands it to the requester. */
#include "transfer/transfer_private.h"

#include <string.h>

#include <debug.h>

#include "providers/providers.h"

#define MAX_TRANSCRIPT_CHARS 24000 /* the newest part of a long call */
#define MAX_ANSWER_CHARS 16000     /* a model that rambles is cut off */

static const char SUMMARY_PROMPT[] =
        "You write the hand-over note for a warm transfer in a contact centre. A human agent "
        "will read it before taking over the call, so they never ask the caller to repeat "
        "themselves. Use only what the transcript says; never invent names, numbers or facts. "
        "Answer with one JSON object and nothing else, with these keys:\n"
        "\"caller\": {\"name\": string or null, \"order\": string or null} (who the caller is),\n"
        "\"issue\": one sentence, the caller's problem,\n"
        "\"tried\": array of short strings, what was already tried or said to the caller,\n"
        "\"mood\": \"negative\", \"neutral\" or \"positive\",\n"
        "\"next_step\": one sentence, what the human agent should do next,\n"
        "\"text\": the whole note as one short paragraph that can be read aloud.";

static const char ASSIST_PROMPT[] =
        "You assist a human agent in a contact centre during a live call. Answer the agent's "
        "question in one to three short sentences, from the call summary and the knowledge "
        "base below; say so when they do not have the answer.";

static GMutex lock;
static sb_llm_chain *chain; /* NULL: no cloud model, the fallback only */
/* The chain follows the provider config in force (reload_providers):
 * built from snapshot `chain_generation`, unless a test injected one. */
static unsigned chain_generation;
static bool chain_injected;
static json_t *summary_llm; /* [transfer] summary_llm, or NULL: the agent's llm */
static int summary_timeout_ms;
static json_t *knowledge;
static GHashTable *jobs;                     /* job* -> job*, the ones with a call running */
static guint64 answered_by_model, fell_back; /* for /metrics */

typedef struct job {
	gatomicrefcount ref;
	bool summary; /* else assist */
	sb_llm_call *call;
	GString *text;
	char *provider; /* which one produced the text */
	json_t *local;  /* the fallback: summary, or {"reply"} */
	gint delivered; /* the requester got its answer */
	bool asked;     /* a model was asked (a fallback says why) */
	/* The answer is handed over when both start() returned and done()
	 * came, in whichever order (done() may come from inside start()). */
	gint steps;
	char *error;   /* done()'s */
	bool orphaned; /* the module stopped before start() returned */
	sb_transfer_ai_done done;
	void *user;
} job;

static void job_unref(job *j)
{
	if (!g_atomic_ref_count_dec(&j->ref))
		return;
	g_string_free(j->text, TRUE);
	g_free(j->provider);
	g_free(j->error);
	json_decref(j->local);
	g_free(j);
}

/* ---- parsing ---- */

static const char *string_or_null(json_t *v)
{
	const char *s = json_string_value(v);
	return s && *s ? s : NULL;
}

json_t *sb_transfer_ai_parse_summary(const char *answer, json_t *local)
{
	if (!answer)
		return NULL;
	/* Models like to wrap JSON in a ```json fence or a sentence: take the
	 * outermost object. */
	const char *start = strchr(answer, '{');
	const char *end = strrchr(answer, '}');
	if (!start || !end || end < start)
		return NULL;
	json_t *m = json_loadb(start, (size_t)(end - start + 1), 0, NULL);
	const char *issue = string_or_null(json_object_get(m, "issue"));
	if (!json_is_object(m) || !issue) {
		json_decref(m);
		return NULL;
	}
	json_t *s = json_is_object(local) ? json_deep_copy(local) : json_object();
	json_object_set_new(s, "issue", json_string(issue));
	json_t *caller = json_object_get(m, "caller");
	json_t *c = json_object();
	const char *name = string_or_null(json_object_get(caller, "name"));
	const char *order = string_or_null(json_object_get(caller, "order"));
	json_t *lc = json_object_get(local, "caller");
	/* The model's words win; what it left out stays as the call had it. */
	if (!name)
		name = string_or_null(json_object_get(lc, "name"));
	if (!order)
		order = string_or_null(json_object_get(lc, "order"));
	json_object_set_new(c, "name", name ? json_string(name) : json_null());
	json_object_set_new(c, "order", order ? json_string(order) : json_null());
	json_object_set_new(s, "caller", c);
	json_t *tried = json_object_get(m, "tried");
	if (json_is_array(tried)) {
		json_t *t = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(tried, i, v) if (json_is_string(v) && i < 10)
		        json_array_append(t, v);
		json_object_set_new(s, "tried", t);
	}
	const char *mood = json_string_value(json_object_get(m, "mood"));
	if (mood &&
	    (!strcmp(mood, "negative") || !strcmp(mood, "neutral") || !strcmp(mood, "positive")))
		json_object_set_new(s, "mood", json_string(mood));
	const char *next = string_or_null(json_object_get(m, "next_step"));
	if (next)
		json_object_set_new(s, "next_step", json_string(next));
	const char *text = string_or_null(json_object_get(m, "text"));
	if (text) {
		json_object_set_new(s, "text", json_string(text));
	} else {
		g_autofree char *t = g_strdup_printf("%s%s%s. %s", name ? name : "The caller",
		                                     name ? ": " : ": ", issue, next ? next : "");
		json_object_set_new(s, "text", json_string(g_strstrip(t)));
	}
	json_decref(m);
	return s;
}

/* ---- jobs ---- */

/* Hands the answer over once: the model's, or the fallback with why. */
static void deliver(job *j, const char *error)
{
	if (!g_atomic_int_compare_and_exchange(&j->delivered, 0, 1))
		return;
	json_t *result = NULL;
	if (!j->asked) {
		/* No model: the fallback is the answer, nothing went wrong. */
	} else if (!error && j->summary) {
		result = sb_transfer_ai_parse_summary(j->text->str, j->local);
		if (!result)
			error = "the model's answer is not a summary";
	} else if (!error) {
		g_autofree char *reply = g_strstrip(g_strdup(j->text->str));
		if (!*reply)
			error = "empty reply";
		else
			result = json_pack("{ss}", "reply", reply);
	}
	if (j->asked)
		__atomic_add_fetch(result ? &answered_by_model : &fell_back, 1, __ATOMIC_RELAXED);
	if (result) {
		json_object_set_new(result, "provider",
		                    json_string(j->provider ? j->provider : "?"));
	} else {
		if (j->asked)
			JANUS_LOG(LOG_WARN,
			          "[switchboard] transfer: AI %s fell back to local (%s)\n",
			          j->summary ? "summary" : "assist", error);
		result = json_deep_copy(j->local);
		json_object_set_new(result, "provider", json_string("local"));
		if (j->asked)
			json_object_set_new(result, "fallback_reason", json_string(error));
	}
	j->done(j->user, result);
}

static void on_text(void *user, const char *delta)
{
	job *j = user;
	if (j->text->len < MAX_ANSWER_CHARS)
		g_string_append(j->text, delta);
}

static void on_tool(void *user, const char *id, const char *name, json_t *arguments)
{
	(void)user, (void)name, (void)arguments; /* no tools offered */
}

/* Both steps done: the answer, then the call and the table's reference
 * go (unless the module stopped and took them). */
static void finish(job *j)
{
	g_mutex_lock(&lock);
	bool mine = (jobs && g_hash_table_remove(jobs, j)) || j->orphaned;
	j->orphaned = false;
	if (!j->error && j->call)
		j->provider = sb_chain_call_provider(j->call, NULL);
	g_mutex_unlock(&lock);
	deliver(j, j->error);
	if (mine) {
		sb_llm_chain_release(j->call); /* also allowed inside its own event */
		job_unref(j);                  /* the table's */
	}
}

static void step(job *j)
{
	if (g_atomic_int_dec_and_test(&j->steps))
		finish(j);
}

static void on_done(void *user, const char *error)
{
	job *j = user;
	j->error = g_strdup(error);
	step(j);
}

static const sb_llm_events events = {.text = on_text, .tool = on_tool, .done = on_done};

static void refresh_chain_locked(void);

static void run(job *j, const char *system_prompt, const char *question)
{
	g_mutex_lock(&lock);
	refresh_chain_locked();
	sb_llm_chain *c = chain;
	if (c) {
		g_hash_table_add(jobs, j);       /* the table holds the caller's reference */
		g_atomic_ref_count_inc(&j->ref); /* and this function one, till it returns */
	}
	g_mutex_unlock(&lock);
	if (!c) {
		deliver(j, NULL);
		job_unref(j);
		return;
	}
	json_t *messages = json_pack("[{ssss}]", "role", "user", "content", question);
	sb_llm_request req = {.system_prompt = system_prompt, .messages = messages};
	char *error = NULL;
	j->asked = true;
	g_atomic_int_set(&j->steps, 2);
	/* Not under the lock: a provider may deliver from inside start(). */
	sb_llm_call *call = sb_llm_chain_start(c, &req, &events, j, &error);
	json_decref(messages);
	if (!call) { /* nothing started, no event will come */
		g_mutex_lock(&lock);
		bool mine = (jobs && g_hash_table_remove(jobs, j)) || j->orphaned;
		g_mutex_unlock(&lock);
		deliver(j, error ? error : "no provider");
		g_free(error);
		if (mine)
			job_unref(j);
	} else {
		g_mutex_lock(&lock);
		j->call = call;
		g_mutex_unlock(&lock);
		step(j);
	}
	job_unref(j); /* this function's */
}

static job *job_new(bool summary, json_t *local, sb_transfer_ai_done done, void *user)
{
	job *j = g_new0(job, 1);
	g_atomic_ref_count_init(&j->ref);
	j->summary = summary;
	j->text = g_string_new(NULL);
	j->local = local;
	j->done = done;
	j->user = user;
	return j;
}

/* "Caller: …\nAI Agent: …", the newest MAX_TRANSCRIPT_CHARS of it. */
static char *transcript_text(json_t *transcript)
{
	GString *s = g_string_new(NULL);
	size_t i;
	json_t *line;
	json_array_foreach(transcript, i, line)
	{
		const char *who = json_string_value(json_object_get(line, "speaker"));
		const char *text = json_string_value(json_object_get(line, "text"));
		if (!who)
			who = json_string_value(json_object_get(line, "role"));
		if (!text)
			text = json_string_value(json_object_get(line, "content"));
		if (text && *text)
			g_string_append_printf(s, "%s: %s\n", who ? who : "?", text);
	}
	if (s->len > MAX_TRANSCRIPT_CHARS)
		g_string_erase(s, 0, (gssize)(s->len - MAX_TRANSCRIPT_CHARS));
	return g_string_free(s, FALSE);
}

void sb_transfer_ai_summary(json_t *transcript, json_t *local, sb_transfer_ai_done done, void *user)
{
	job *j = job_new(true, local ? json_deep_copy(local) : json_object(), done, user);
	g_autofree char *text = transcript_text(transcript);
	if (!*text) {
		/* Nothing said yet: nothing for a model to summarise. */
		json_t *r = json_deep_copy(j->local);
		json_object_set_new(r, "provider", json_string("local"));
		done(user, r);
		job_unref(j);
		return;
	}
	g_autofree char *question = g_strdup_printf("Call transcript so far:\n%s", text);
	run(j, SUMMARY_PROMPT, question);
}

void sb_transfer_ai_assist(const char *message, json_t *summary, const char *local_reply,
                           sb_transfer_ai_done done, void *user)
{
	json_t *local = json_pack("{ss}", "reply",
	                          local_reply ? local_reply
	                                      : "I have nothing on that in the knowledge base.");
	job *j = job_new(false, local, done, user);
	char *s = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
	g_mutex_lock(&lock);
	char *facts = knowledge ? json_dumps(knowledge, JSON_COMPACT) : NULL;
	g_mutex_unlock(&lock);
	g_autofree char *system_prompt = g_strdup_printf(
	        "%s\nCall summary (JSON): %s%s%s", ASSIST_PROMPT, s ? s : "none (not on a call)",
	        facts ? "\nKnowledge base (JSON): " : "", facts ? facts : "");
	free(s);
	free(facts);
	run(j, system_prompt, message);
}

/* ---- set-up ---- */

/* Appends the names in v (array, or "a, b" string) other than "local". */
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

void sb_transfer_ai_use_chain(sb_llm_chain *c, json_t *kb)
{
	g_mutex_lock(&lock);
	knowledge = kb ? json_incref(kb) : NULL;
	if (!jobs)
		jobs = g_hash_table_new(NULL, NULL);
	chain = c;
	chain_injected = true;
	g_mutex_unlock(&lock);
}

/* Builds the chain again when the provider config in force changed:
 * summary_llm (or the agent's llm chain) without the embedded "local",
 * which the extractive fallback already is.  Chains are cheap to build;
 * calls running on the old one keep it alive. */
static void refresh_chain_locked(void)
{
	sb_provider_snapshot *now = chain_injected ? NULL : sb_providers_current();
	if (!now || now->generation == chain_generation) {
		sb_provider_snapshot_unref(now);
		return;
	}
	chain_generation = now->generation;
	if (chain)
		sb_llm_chain_free(chain);
	chain = NULL;
	json_t *names = json_array();
	add_names(names, summary_llm ? summary_llm : json_object_get(now->agent, "llm"));
	sb_chain_options opt = {0};
	sb_chain_options_from_json(&opt, now->agent, SB_KIND_LLM);
	opt.first_output_timeout_ms = summary_timeout_ms;
	char *error = NULL;
	if (json_array_size(names))
		chain = sb_llm_chain_build(now->set, names, &opt, &error);
	char *list = json_dumps(names, JSON_COMPACT);
	if (json_array_size(names) && !chain)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] transfer: no language model for summaries (%s); "
		          "extractive only\n",
		          error ? error : "?");
	else
		JANUS_LOG(LOG_INFO, "[switchboard] transfer: summaries by %s\n",
		          chain ? list : "the extractive summariser");
	free(list);
	g_free(error);
	json_decref(names);
	sb_provider_snapshot_unref(now);
}

bool sb_transfer_ai_init(const sb_settings *settings, json_t *kb)
{
	json_t *section = sb_settings_section(settings, "transfer");
	g_mutex_lock(&lock);
	json_decref(summary_llm);
	summary_llm = json_incref(json_object_get(section, "summary_llm"));
	summary_timeout_ms = (int)sb_section_int(section, "summary_timeout_ms", 8000, 500, 120000);
	knowledge = kb ? json_incref(kb) : NULL;
	if (!jobs)
		jobs = g_hash_table_new(NULL, NULL);
	chain_injected = false;
	chain_generation = 0;
	refresh_chain_locked();
	g_mutex_unlock(&lock);
	return true;
}

void sb_transfer_ai_get_stats(uint64_t *model, uint64_t *fallback)
{
	*model = __atomic_load_n(&answered_by_model, __ATOMIC_RELAXED);
	*fallback = __atomic_load_n(&fell_back, __ATOMIC_RELAXED);
}

bool sb_transfer_ai_enabled(void)
{
	g_mutex_lock(&lock);
	refresh_chain_locked();
	bool on = chain != NULL;
	g_mutex_unlock(&lock);
	return on;
}

void sb_transfer_ai_deinit(void)
{
	GPtrArray *stop = g_ptr_array_new();
	g_mutex_lock(&lock);
	GHashTable *running = jobs;
	jobs = NULL;
	sb_llm_chain *c = chain;
	chain = NULL;
	if (running) {
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, running);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			job *j = key;
			if (j->call)
				g_ptr_array_add(stop, j);
			else
				j->orphaned = true; /* start() still running: finish() lets go */
		}
		g_hash_table_destroy(running);
	}
	g_mutex_unlock(&lock);
	for (guint i = 0; i < stop->len; i++) {
		job *j = stop->pdata[i];
		/* No event after release: the requester gets the fallback now. */
		sb_llm_chain_release(j->call);
		deliver(j, "shutting down");
		job_unref(j); /* the table's */
	}
	g_ptr_array_unref(stop);
	if (c)
		sb_llm_chain_free(c);
	g_mutex_lock(&lock);
	chain_generation = 0;
	chain_injected = false;
	g_clear_pointer(&summary_llm, json_decref);
	g_mutex_unlock(&lock);
	json_decref(knowledge);
	knowledge = NULL;
}
