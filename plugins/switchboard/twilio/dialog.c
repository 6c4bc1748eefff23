/* A text conversation with the agent's language model chain, shared by
 * ConversationRelay (voice) and WhatsApp (chat): history, memory and the
 * knowledge base across turns.  It lives on the HTTP thread; the chain's
 * provider threads only post their deltas there. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "providers/providers.h"
#include "embedded/embedded.h"

#define APOLOGY "Sorry, I cannot answer right now. Please try again in a moment."

/* One model call; lives until its done() reached the HTTP thread or the
 * dialog let go of it. */
typedef struct turn {
	gatomicrefcount ref;
	sb_dialog *d; /* NULL once the dialog cancelled the turn */
	sb_llm_call *call;
	GString *reply;
	char *tool;
	json_t *tool_args;
} turn;

struct sb_dialog {
	sb_llm_chain *chain;
	json_t *knowledge;
	char *system_prompt;
	json_t *history;
	json_t *memory;
	sb_language_follower language; /* the agent's, then the caller's */
	turn *current;
	sb_dialog_events events;
	void *user;
};

sb_dialog *sb_dialog_new(const char *channel, const sb_dialog_events *events, void *user)
{
	sb_dialog *d = g_new0(sb_dialog, 1);
	d->events = *events;
	d->user = user;
	d->history = json_array();
	d->memory = json_object();
	/* The provider config and knowledge base in force now (a reload
	 * changes the next dialog, not this one). */
	sb_provider_snapshot *now = sb_providers_current();
	json_t *agent = now ? now->agent : NULL;
	char *error = NULL;
	if (now) {
		sb_chain_options options = {0};
		sb_chain_options_from_json(&options, agent, SB_KIND_LLM);
		json_t *names = sb_agent_chain_names(agent, "llm");
		d->chain = sb_llm_chain_build(now->set, names, &options, &error);
		json_decref(names);
	}
	if (!d->chain) {
		JANUS_LOG(LOG_WARN, "[switchboard] twilio: no language model (%s)\n",
		          error ? error : "?");
		g_clear_pointer(&error, g_free);
	}
	d->knowledge = now && now->knowledge ? json_incref(now->knowledge) : NULL;
	sb_language_follower_init(&d->language, agent);
	const char *persona = json_string_value(json_object_get(agent, "persona"));
	char *facts = d->knowledge ? json_dumps(d->knowledge, JSON_COMPACT) : NULL;
	bool chat = !strcmp(channel, "chat");
	d->system_prompt = g_strdup_printf(
	        "%s\n%s Use the transfer_to_human tool when the user asks for a person, and "
	        "end_call "
	        "after saying goodbye.%s%s",
	        persona && *persona ? persona
	                            : "You are a friendly, efficient customer service agent.",
	        chat ? "You are chatting on WhatsApp: answer in a few short sentences, plain text."
	             : "You are on a live phone call: answer in one to three short spoken "
	               "sentences, "
	               "no lists or markup.",
	        facts ? "\nKnowledge base (JSON): " : "", facts ? facts : "");
	sb_provider_snapshot_unref(now);
	free(facts);
	return d;
}

static void turn_unref(turn *t)
{
	if (!g_atomic_ref_count_dec(&t->ref))
		return;
	g_string_free(t->reply, TRUE);
	g_free(t->tool);
	json_decref(t->tool_args);
	g_free(t);
}

/* Lets go of the current turn: no event of it reaches the dialog again. */
static void cancel(sb_dialog *d)
{
	turn *t = d->current;
	if (!t)
		return;
	d->current = NULL;
	t->d = NULL;
	if (t->call)
		sb_llm_chain_release(t->call); /* waits for a callback in progress */
	t->call = NULL;
	turn_unref(t);
}

void sb_dialog_free(sb_dialog *d)
{
	if (!d)
		return;
	cancel(d);
	if (d->chain)
		sb_llm_chain_free(d->chain);
	json_decref(d->history);
	json_decref(d->memory);
	json_decref(d->knowledge);
	g_free(d->system_prompt);
	sb_language_follower_clear(&d->language);
	g_free(d);
}

/* ---- provider threads → HTTP thread ---- */

typedef struct hop {
	turn *t;
	char *text; /* a delta, or NULL for done */
	char *error;
	bool done;
} hop;

static void hop_free(gpointer data)
{
	hop *h = data;
	turn_unref(h->t);
	g_free(h->text);
	g_free(h->error);
	g_free(h);
}

static gboolean hop_run(gpointer data)
{
	hop *h = data;
	turn *t = h->t;
	sb_dialog *d = t->d;
	if (!d || d->current != t)
		return G_SOURCE_REMOVE; /* cancelled meanwhile */
	if (!h->done) {
		g_string_append(t->reply, h->text);
		if (d->events.text)
			d->events.text(d->user, h->text);
		return G_SOURCE_REMOVE;
	}
	d->current = NULL;
	t->d = NULL;
	if (t->call)
		sb_llm_chain_release(t->call); /* done() was its last callback */
	t->call = NULL;
	const char *reply = t->reply->str;
	if (h->error && !t->reply->len) {
		reply = APOLOGY;
		if (d->events.text)
			d->events.text(d->user, reply);
	}
	if (*reply)
		json_array_append_new(d->history,
		                      json_pack("{ssss}", "role", "assistant", "content", reply));
	d->events.done(d->user, reply, t->tool, t->tool_args, h->error);
	turn_unref(t);
	return G_SOURCE_REMOVE;
}

static void post(turn *t, const char *text, const char *error, bool done)
{
	hop *h = g_new0(hop, 1);
	g_atomic_ref_count_inc(&t->ref);
	h->t = t;
	h->text = g_strdup(text);
	h->error = g_strdup(error);
	h->done = done;
	sb_http_invoke(G_PRIORITY_DEFAULT, hop_run, h, hop_free);
}

static void on_text(void *user, const char *delta)
{
	post(user, delta, NULL, false);
}

static void on_tool(void *user, const char *id, const char *name, json_t *arguments)
{
	turn *t = user;
	/* Read on the HTTP thread only after done(), which comes after this. */
	g_free(t->tool);
	t->tool = g_strdup(name);
	json_decref(t->tool_args);
	t->tool_args = arguments ? json_deep_copy(arguments) : json_object();
}

static void on_done(void *user, const char *error)
{
	post(user, NULL, error, true);
}

static const sb_llm_events llm_events = {.text = on_text, .tool = on_tool, .done = on_done};

void sb_dialog_ask(sb_dialog *d, const char *text, const char *heard_language)
{
	cancel(d);
	sb_language_follow(&d->language, heard_language, text);
	json_array_append_new(d->history, json_pack("{ssss}", "role", "user", "content", text));
	turn *t = g_new0(turn, 1);
	g_atomic_ref_count_init(&t->ref);
	t->d = d;
	t->reply = g_string_new(NULL);
	d->current = t;
	char *error = NULL;
	if (d->chain) {
		g_autofree char *instruction = sb_language_instruction(&d->language);
		g_autofree char *system_prompt =
		        instruction ? g_strdup_printf("%s\n%s", d->system_prompt, instruction)
		                    : NULL;
		sb_llm_request req = {
		        .system_prompt = system_prompt ? system_prompt : d->system_prompt,
		        .messages = d->history,
		        .tools = true,
		        .memory = d->memory,
		        .knowledge = d->knowledge,
		        .language = d->language.current,
		};
		t->call = sb_llm_chain_start(d->chain, &req, &llm_events, t, &error);
	}
	if (!t->call) {
		/* Nothing started: answer with the apology, still asynchronously. */
		g_atomic_ref_count_inc(&t->ref);
		hop *h = g_new0(hop, 1);
		h->t = t;
		h->done = true;
		h->error = error ? error : g_strdup("no language model");
		sb_http_invoke(G_PRIORITY_DEFAULT_IDLE, hop_run, h, hop_free);
		return;
	}
	g_free(error);
}

void sb_dialog_interrupt(sb_dialog *d, const char *heard)
{
	bool was_busy = d->current != NULL;
	cancel(d);
	char *marked = g_strdup_printf("%s [interrupted]", heard && *heard ? heard : "");
	g_strstrip(marked);
	size_t n = json_array_size(d->history);
	json_t *last = n ? json_array_get(d->history, n - 1) : NULL;
	const char *role = json_string_value(json_object_get(last, "role"));
	if (!was_busy && role && !strcmp(role, "assistant")) {
		/* The answer was written in full but not heard in full: the
		 * history keeps what the caller actually heard. */
		json_object_set_new(last, "content", json_string(marked));
	} else if (was_busy) {
		json_array_append_new(d->history,
		                      json_pack("{ssss}", "role", "assistant", "content", marked));
	}
	g_free(marked);
}

const char *sb_dialog_language(sb_dialog *d)
{
	return d->language.current;
}

bool sb_dialog_busy(sb_dialog *d)
{
	return d->current != NULL;
}

json_t *sb_dialog_history(sb_dialog *d)
{
	return d->history;
}

char *sb_dialog_summary(sb_dialog *d)
{
	GString *s = g_string_new(NULL);
	size_t i;
	json_t *m;
	json_array_foreach(d->history, i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		if (!role || strcmp(role, "user"))
			continue;
		if (s->len)
			g_string_append(s, " / ");
		g_string_append(s, json_string_value(json_object_get(m, "content")));
	}
	const char *name = json_string_value(json_object_get(d->memory, "name"));
	if (name) {
		char *who = g_strdup_printf("Customer %s. Said: ", name);
		g_string_prepend(s, who);
		g_free(who);
	}
	return g_string_free(s, FALSE);
}

json_t *sb_dialog_summary_of(sb_dialog *d, json_t *transcript)
{
	sb_provider_snapshot *now = d ? NULL : sb_providers_current();
	json_t *s = sb_local_summary(d     ? d->knowledge
	                             : now ? now->knowledge
	                                   : NULL,
	                             d ? d->memory : NULL,
	                             transcript ? transcript
	                             : d        ? d->history
	                                        : NULL);
	sb_provider_snapshot_unref(now);
	if (s)
		json_object_set_new(s, "provider", json_string("local"));
	return s;
}
