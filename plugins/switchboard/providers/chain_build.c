/* Chains from provider names (providers.h, "chain"): configs from the
 * provider set, implementations from the registry (sb_*_provider_find).
 * A public chain is a chain_state (chain.c), so one builder serves the
 * three kinds. */
#include <string.h>

#include <glib.h>

#include "providers/providers_private.h"

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

/* The registered implementation of a type, for one kind. */
static const void *impl_find(sb_provider_kind kind, const char *type)
{
	return kind == SB_KIND_LLM   ? (const void *)sb_llm_provider_find(type)
	       : kind == SB_KIND_STT ? (const void *)sb_stt_provider_find(type)
	                             : (const void *)sb_tts_provider_find(type);
}

/* Adds each usable provider of the list to chain; the chain, or NULL with
 * *error (the chain freed) when none was. */
static void *build(sb_provider_set *set, sb_provider_kind kind, json_t *names, chain_state *chain,
                   char **error)
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
		const void *impl = impl_find(kind, cfg->type);
		if (!impl) {
			g_warning("providers: %s chain: %s skipped (no %s implementation of type "
			          "\"%s\")",
			          sb_provider_kind_name(kind), name, sb_provider_kind_name(kind),
			          cfg->type);
			continue;
		}
		sb_chain_add_entry(chain, impl, cfg);
		n++;
	}
	g_ptr_array_free(list, TRUE);
	if (n > 0)
		return chain;
	sb_chain_unref(chain);
	if (error)
		*error = g_strdup_printf("no usable %s provider in the list",
		                         sb_provider_kind_name(kind));
	return NULL;
}

sb_llm_chain *sb_llm_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	return build(set, SB_KIND_LLM, names, (chain_state *)sb_llm_chain_new(opt), error);
}

sb_stt_chain *sb_stt_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	return build(set, SB_KIND_STT, names, (chain_state *)sb_stt_chain_new(opt), error);
}

sb_tts_chain *sb_tts_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	return build(set, SB_KIND_TTS, names, (chain_state *)sb_tts_chain_new(opt), error);
}
