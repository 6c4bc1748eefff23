/* Chains from provider names (chain.h): configs from the provider set,
 * implementations from the registry (sb_*_provider_find). */
#include <string.h>

#include <glib.h>

#include "providers/providers.h"

/* The names, from ["a", "b"] or "a, b". */
static GPtrArray *names_list(json_t *names)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	if (json_is_array(names)) {
		size_t i;
		json_t *v;
		json_array_foreach(names, i, v)
		{
			if (json_is_string(v)) {
				char *n = g_strstrip(g_strdup(json_string_value(v)));
				if (*n)
					g_ptr_array_add(out, n);
				else
					g_free(n);
			}
		}
	} else if (json_is_string(names)) {
		char **parts = g_strsplit_set(json_string_value(names), ",; ", -1);
		for (char **p = parts; *p; p++)
			if (**p)
				g_ptr_array_add(out, g_strdup(*p));
		g_strfreev(parts);
	}
	return out;
}

/* Each usable provider of the list: (impl, cfg) pairs through add(). */
static size_t build(sb_provider_set *set, sb_provider_kind kind, json_t *names,
                    void (*add)(void *chain, const sb_provider_config *cfg), void *chain)
{
	GPtrArray *list = names_list(names);
	size_t n = 0;
	for (guint i = 0; i < list->len; i++) {
		const char *name = list->pdata[i];
		const char *why = NULL;
		const sb_provider_config *cfg = sb_provider_set_get(set, kind, name, &why);
		if (!cfg) {
			g_warning("providers: %s chain: %s skipped (%s)",
			          sb_provider_kind_name(kind), name, why ? why : "unavailable");
			continue;
		}
		bool found = kind == SB_KIND_LLM   ? sb_llm_provider_find(cfg->type) != NULL
		             : kind == SB_KIND_STT ? sb_stt_provider_find(cfg->type) != NULL
		                                   : sb_tts_provider_find(cfg->type) != NULL;
		if (!found) {
			g_warning("providers: %s chain: %s skipped (no %s implementation of type "
			          "\"%s\")",
			          sb_provider_kind_name(kind), name, sb_provider_kind_name(kind),
			          cfg->type);
			continue;
		}
		add(chain, cfg);
		n++;
	}
	g_ptr_array_free(list, TRUE);
	return n;
}

static void add_llm(void *c, const sb_provider_config *cfg)
{
	sb_llm_chain_add(c, sb_llm_provider_find(cfg->type), cfg);
}

static void add_stt(void *c, const sb_provider_config *cfg)
{
	sb_stt_chain_add(c, sb_stt_provider_find(cfg->type), cfg);
}

static void add_tts(void *c, const sb_provider_config *cfg)
{
	sb_tts_chain_add(c, sb_tts_provider_find(cfg->type), cfg);
}

static void *none_left(sb_provider_kind kind, char **error)
{
	if (error)
		*error = g_strdup_printf("no usable %s provider in the list",
		                         sb_provider_kind_name(kind));
	return NULL;
}

sb_llm_chain *sb_llm_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	sb_llm_chain *c = sb_llm_chain_new(opt);
	if (build(set, SB_KIND_LLM, names, add_llm, c) == 0) {
		sb_llm_chain_free(c);
		return none_left(SB_KIND_LLM, error);
	}
	return c;
}

sb_stt_chain *sb_stt_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	sb_stt_chain *c = sb_stt_chain_new(opt);
	if (build(set, SB_KIND_STT, names, add_stt, c) == 0) {
		sb_stt_chain_free(c);
		return none_left(SB_KIND_STT, error);
	}
	return c;
}

sb_tts_chain *sb_tts_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	sb_tts_chain *c = sb_tts_chain_new(opt);
	if (build(set, SB_KIND_TTS, names, add_tts, c) == 0) {
		sb_tts_chain_free(c);
		return none_left(SB_KIND_TTS, error);
	}
	return c;
}
