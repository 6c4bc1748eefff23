/* The "local" LLM provider: the local dialog engine (llm_local.c) behind
 * the asynchronous LLM interface (providers/providers.h), answering on a
 * small shared thread pool.  Answers take microseconds; the pool is there
 * so that start() never blocks and events come on a provider thread, as
 * the cloud providers' do. */
#include <string.h>

#include <glib.h>

#include "core/core.h"
#include "embedded/embedded.h"

struct sb_llm_call {
	gint refs; /* the caller's and the queued task's */
	/* Entered while the worker touches the caller's objects (memory is
	 * borrowed) or delivers: release() closes it, so after release()
	 * nothing runs for this call. */
	sb_gate gate;
	sb_llm_events events;
	void *user;
	json_t *kb; /* NULL: load kb_path on the worker */
	char *kb_path;
	json_t *memory;
	char *utterance;
	char *language;
	bool tools;
	json_t *functions; /* names of the business's tools offered */
	json_t *results;   /* the tool results this call answers, or NULL */
};

static GMutex pool_lock;
static GThreadPool *pool;
static GHashTable *kb_cache; /* path → json_t*, loaded once per process */

static void call_unref(sb_llm_call *c)
{
	if (!g_atomic_int_dec_and_test(&c->refs))
		return;
	json_decref(c->kb);
	json_decref(c->memory);
	g_free(c->kb_path);
	g_free(c->utterance);
	g_free(c->language);
	json_decref(c->functions);
	json_decref(c->results);
	sb_gate_clear(&c->gate);
	g_free(c);
}

static json_t *cached_kb(const char *path, char **error)
{
	g_mutex_lock(&pool_lock);
	json_t *kb = json_incref(kb_cache ? g_hash_table_lookup(kb_cache, path) : NULL);
	if (!kb) {
		kb = sb_kb_load(path, error);
		if (kb && kb_cache)
			g_hash_table_insert(kb_cache, g_strdup(path), json_incref(kb));
	}
	g_mutex_unlock(&pool_lock);
	return kb;
}

/* Sentence by sentence, so speech synthesis can start on the first one. */
static void emit_sentences(sb_llm_call *c, const char *reply)
{
	const char *start = reply;
	for (const char *p = reply; *p; p++) {
		bool end = strchr(".!?", *p) && (p[1] == ' ' || !p[1]);
		if (!end && p[1])
			continue;
		const char *stop = *p && p[1] == ' ' ? p + 2 : p + 1;
		g_autofree char *chunk = g_strndup(start, (gsize)(stop - start));
		if (!sb_gate_enter(&c->gate))
			return;
		c->events.text(c->user, chunk);
		sb_gate_leave(&c->gate);
		start = stop;
		p = stop - 1;
		if (!*stop)
			break;
	}
}

static void emit_tool(sb_llm_call *c, const char *tool)
{
	/* Inside enter/leave from here: memory is the caller's again after
	 * release(). */
	if (!sb_gate_enter(&c->gate))
		return;
	json_t *args = json_object();
	if (strcmp(tool, "transfer_to_human") == 0) {
		g_autofree char *reason = g_strdup_printf(
		        "The caller asked to talk to a person: \"%s\"", c->utterance);
		json_object_set_new(args, "reason", json_string(reason));
		const char *keys[] = {"name", "order", "topic"};
		for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
			if (json_object_get(c->memory, keys[i]))
				json_object_set(args, keys[i], json_object_get(c->memory, keys[i]));
	}
	c->events.tool(c->user, NULL, tool, args);
	sb_gate_leave(&c->gate);
	json_decref(args);
}

/* A business tool instead of an answer: the agent calls it and asks again
 * with its result (sb_local_tool_reply). */
static void emit_call(sb_llm_call *c, json_t *call)
{
	if (!c->events.tool || !sb_gate_enter(&c->gate))
		return;
	c->events.tool(c->user, NULL, json_string_value(json_object_get(call, "name")),
	               json_object_get(call, "arguments"));
	sb_gate_leave(&c->gate);
}

static void run_call(gpointer data, gpointer unused)
{
	sb_llm_call *c = data;
	(void)unused;
	char *error = NULL, *tool = NULL, *reply = NULL;
	json_t *call = NULL;
	if (!c->kb)
		c->kb = cached_kb(c->kb_path, &error);
	if (c->kb && sb_gate_enter(&c->gate)) {
		if (c->results)
			reply = sb_local_tool_reply(c->kb, c->memory, c->results, c->language);
		else
			reply = sb_local_turn(c->kb, c->memory, c->utterance, c->language,
			                      c->tools ? c->functions : NULL, &tool, &call);
		sb_gate_leave(&c->gate);
	}
	if (reply)
		emit_sentences(c, reply);
	if (call)
		emit_call(c, call);
	json_decref(call);
	if (tool && c->tools && c->events.tool)
		emit_tool(c, tool);
	if (sb_gate_enter(&c->gate)) {
		c->events.done(c->user, error);
		sb_gate_leave(&c->gate);
	}
	g_free(reply);
	g_free(tool);
	g_free(error);
	call_unref(c);
}

/* The newest user message is the utterance; the dialog state is in memory,
 * so older messages are not needed. */
static const char *last_user_text(json_t *messages)
{
	for (size_t i = json_array_size(messages); i > 0; i--) {
		json_t *m = json_array_get(messages, i - 1);
		const char *role = json_string_value(json_object_get(m, "role"));
		if (role && strcmp(role, "user") == 0)
			return json_string_value(json_object_get(m, "content"));
	}
	return NULL;
}

static sb_llm_call *local_start(const sb_provider_config *cfg, const sb_llm_request *req,
                                const sb_llm_events *events, void *user, char **error)
{
	if (!req || !events || !events->text || !events->done) {
		*error = g_strdup("local: request and text/done events are required");
		return NULL;
	}
	g_mutex_lock(&pool_lock);
	if (!pool) {
		/* Answers take microseconds: two threads are plenty, and
		 * callbacks on them may take a little time (starting TTS). */
		pool = g_thread_pool_new(run_call, NULL, 2, FALSE, NULL);
		kb_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
		                                 (GDestroyNotify)json_decref);
	}
	g_mutex_unlock(&pool_lock);
	sb_llm_call *c = g_new0(sb_llm_call, 1);
	c->refs = 2;
	sb_gate_init(&c->gate);
	c->events = *events;
	c->user = user;
	c->kb = json_incref(req->knowledge);
	if (!c->kb) {
		const char *path =
		        cfg ? json_string_value(json_object_get(cfg->extra, "kb")) : NULL;
		c->kb_path = g_strdup(path ? path : sb_kb_default_path());
	}
	/* The caller must not touch memory until done() (it is borrowed). */
	c->memory = req->memory ? json_incref(req->memory) : json_object();
	c->utterance = g_strdup(last_user_text(req->messages));
	c->language = g_strdup(req->language ? req->language : cfg ? cfg->language : NULL);
	c->tools = req->tools;
	c->functions = json_array();
	size_t i;
	json_t *f;
	json_array_foreach(req->functions, i, f)
	        json_array_append(c->functions, json_object_get(f, "name"));
	/* Asked again once the tools it called have answered. */
	json_t *last = json_array_get(req->messages, json_array_size(req->messages) - 1);
	if (!g_strcmp0(json_string_value(json_object_get(last, "role")), "tool"))
		c->results = json_deep_copy(req->messages);
	g_thread_pool_push(pool, c, NULL);
	return c;
}

static void local_release(sb_llm_call *c)
{
	if (!c)
		return;
	/* From inside one of our own callbacks it does not wait. */
	sb_gate_close(&c->gate);
	call_unref(c);
}

void sb_llm_local_shutdown(void)
{
	g_mutex_lock(&pool_lock);
	GThreadPool *p = pool;
	pool = NULL;
	g_mutex_unlock(&pool_lock);
	if (p) {
		g_thread_pool_free(p, FALSE, TRUE);  /* runs what is queued, then joins */
		g_thread_pool_stop_unused_threads(); /* GLib keeps idle ones around */
	}
	g_mutex_lock(&pool_lock);
	if (kb_cache)
		g_hash_table_destroy(kb_cache);
	kb_cache = NULL;
	g_mutex_unlock(&pool_lock);
}

void sb_llm_local_forget_kb(void)
{
	g_mutex_lock(&pool_lock);
	if (kb_cache)
		g_hash_table_remove_all(kb_cache);
	g_mutex_unlock(&pool_lock);
}

const sb_llm_provider sb_llm_local = {
        .type = "local",
        .start = local_start,
        .release = local_release,
};
