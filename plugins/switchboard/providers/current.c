#include "current.h"

#include <string.h>

#include <glib.h>

#include "chain.h"

struct snapshot_box {
	sb_provider_snapshot snapshot; /* first: the public pointer is the box */
	gint refs;
};

static GMutex lock;
static struct snapshot_box *current;

static struct snapshot_box *box_new(json_t *providers, json_t *agent)
{
	struct snapshot_box *b = g_new0(struct snapshot_box, 1);
	b->refs = 1;
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
	g_free(b);
}

bool sb_providers_current_init(json_t *providers, json_t *agent)
{
	struct snapshot_box *b = box_new(providers, agent);
	if (!b)
		return false;
	g_mutex_lock(&lock);
	struct snapshot_box *old = current;
	current = b;
	g_mutex_unlock(&lock);
	sb_provider_snapshot_unref(old ? &old->snapshot : NULL);
	return true;
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

/* Whether the agent's chain of one kind can be built: some provider of
 * its list is known and enabled. */
static bool chain_buildable(sb_provider_snapshot *s, const char *kind, char **error)
{
	json_t *list = sb_agent_chain_names(s->agent, kind);
	char *why = NULL;
	bool ok = false;
	if (!strcmp(kind, "stt")) {
		sb_stt_chain *c = sb_stt_chain_build(s->set, list, NULL, &why);
		ok = c != NULL;
		if (c)
			sb_stt_chain_free(c);
	} else if (!strcmp(kind, "llm")) {
		sb_llm_chain *c = sb_llm_chain_build(s->set, list, NULL, &why);
		ok = c != NULL;
		if (c)
			sb_llm_chain_free(c);
	} else {
		sb_tts_chain *c = sb_tts_chain_build(s->set, list, NULL, &why);
		ok = c != NULL;
		if (c)
			sb_tts_chain_free(c);
	}
	json_decref(list);
	if (!ok)
		*error = g_strdup_printf("no usable %s provider: %s", kind, why ? why : "?");
	g_free(why);
	return ok;
}

json_t *sb_providers_current_replace(json_t *providers, json_t *agent, char **error)
{
	struct snapshot_box *b = box_new(providers, agent);
	if (!b) {
		*error = g_strdup("the [providers] section could not be read");
		return NULL;
	}
	static const char *const kinds[] = {"stt", "llm", "tts"};
	json_t *chains = json_object();
	for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
		if (!chain_buildable(&b->snapshot, kinds[k], error)) {
			json_decref(chains);
			sb_provider_snapshot_unref(&b->snapshot);
			return NULL;
		}
		json_object_set_new(chains, kinds[k],
		                    sb_agent_chain_names(b->snapshot.agent, kinds[k]));
	}
	json_t *r = json_pack("{soso}", "providers", sb_provider_set_describe(b->snapshot.set),
	                      "chains", chains);
	g_mutex_lock(&lock);
	struct snapshot_box *old = current;
	current = b;
	g_mutex_unlock(&lock);
	sb_provider_snapshot_unref(old ? &old->snapshot : NULL);
	return r;
}
