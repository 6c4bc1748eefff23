/* The provider configuration in force (providers.h, "current"): one
 * snapshot — the provider set, the [agent] and [providers] sections and
 * the parsed knowledge base — replaced as a whole by a reload.  Readers
 * hold a reference for as long as they read, so a reload never frees what
 * someone is looking at, and a running call keeps what it started with. */
#include "providers/providers.h"

#include <string.h>

#include <glib.h>

struct snapshot_box {
	sb_provider_snapshot snapshot; /* first: the public pointer is the box */
	gint refs;
};

static GMutex lock;
static struct snapshot_box *current;
static unsigned generations;

static struct snapshot_box *box_new(json_t *providers, json_t *agent, json_t *knowledge)
{
	struct snapshot_box *b = g_new0(struct snapshot_box, 1);
	b->refs = 1;
	b->snapshot.knowledge = knowledge ? json_incref(knowledge) : NULL;
	b->snapshot.providers = providers ? json_deep_copy(providers) : json_object();
	b->snapshot.agent = agent ? json_deep_copy(agent) : json_object();
	b->snapshot.set = sb_provider_set_new(b->snapshot.providers);
	if (!b->snapshot.set) {
		sb_provider_snapshot_unref(&b->snapshot);
		return NULL;
	}
	return b;
}

void sb_provider_snapshot_unref(sb_provider_snapshot *snapshot)
{
	struct snapshot_box *b = (struct snapshot_box *)snapshot;
	if (!b || !g_atomic_int_dec_and_test(&b->refs))
		return;
	sb_provider_set_free(b->snapshot.set);
	json_decref(b->snapshot.providers);
	json_decref(b->snapshot.agent);
	json_decref(b->snapshot.knowledge);
	g_free(b);
}

void sb_providers_current_deinit(void)
{
	g_mutex_lock(&lock);
	struct snapshot_box *old = current;
	current = NULL;
	g_mutex_unlock(&lock);
	sb_provider_snapshot_unref(old ? &old->snapshot : NULL);
}

sb_provider_snapshot *sb_providers_current(void)
{
	g_mutex_lock(&lock);
	struct snapshot_box *b = current;
	if (b)
		g_atomic_int_inc(&b->refs);
	g_mutex_unlock(&lock);
	return b ? &b->snapshot : NULL;
}

json_t *sb_agent_chain_names(json_t *agent_config, const char *kind)
{
	json_t *v = json_object_get(agent_config, kind);
	if (json_is_array(v) || json_is_string(v))
		return json_incref(v);
	return json_string(!strcmp(kind, "stt")   ? "pocketsphinx"
	                   : !strcmp(kind, "llm") ? "local"
	                                          : "espeak-ng");
}

sb_provider_snapshot *sb_provider_snapshot_new(json_t *providers, json_t *agent, json_t *knowledge)
{
	struct snapshot_box *b = box_new(providers, agent, knowledge);
	return b ? &b->snapshot : NULL;
}

void sb_providers_current_set(sb_provider_snapshot *snapshot)
{
	struct snapshot_box *b = (struct snapshot_box *)snapshot;
	g_atomic_int_inc(&b->refs);
	g_mutex_lock(&lock);
	struct snapshot_box *old = current;
	b->snapshot.generation = ++generations;
	current = b;
	g_mutex_unlock(&lock);
	sb_provider_snapshot_unref(old ? &old->snapshot : NULL);
}
