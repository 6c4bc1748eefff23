/* The provider configuration in force: the [providers] and [agent]
 * sections as read at start-up, or by the last reload, with the knowledge
 * base the [agent] section names, parsed once (reload.c loads them).
 *
 * A reload replaces them as a whole.  Agents, dialogs and summaries that
 * are already running keep the chains they built (chains copy their
 * provider configs); whatever starts afterwards uses the new ones.  A
 * reader takes a snapshot — a reference — for as long as it reads from it,
 * so a reload never frees what someone is looking at. */
#ifndef SB_PROVIDERS_CURRENT_H
#define SB_PROVIDERS_CURRENT_H

#include <stdbool.h>

#include <jansson.h>

#include "providers/config.h"

typedef struct sb_provider_snapshot {
	sb_provider_set *set;
	json_t *agent;       /* the [agent] section (strings and lists, as in the file) */
	json_t *providers;   /* the [providers] section */
	json_t *knowledge;   /* the [agent] knowledge base, parsed; NULL when unreadable */
	unsigned generation; /* 1 at start-up, +1 per reload: lets users rebuild */
} sb_provider_snapshot;

void sb_providers_current_deinit(void);

/* New reference (NULL before init or after deinit). */
sb_provider_snapshot *sb_providers_current(void);
void sb_provider_snapshot_unref(sb_provider_snapshot *snapshot);

/* The provider names of one kind ("stt", "llm", "tts") in an agent
 * config ([agent] merged with a room's overrides): its list, or the
 * embedded default (pocketsphinx, local, espeak-ng).  New reference. */
json_t *sb_agent_chain_names(json_t *agent_config, const char *kind);

/* A snapshot of these sections (borrowed; copied) and knowledge base
 * (borrowed; referenced, may be NULL), not in force yet: a reload checks
 * it before putting it in force.  NULL when out of memory. */
sb_provider_snapshot *sb_provider_snapshot_new(json_t *providers, json_t *agent, json_t *knowledge);
/* Puts the snapshot in force (takes a reference of its own). */
void sb_providers_current_set(sb_provider_snapshot *snapshot);

#endif
