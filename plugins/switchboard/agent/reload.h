/* The provider configuration in force (providers/current.h): its first
 * load at start-up, and the operations that change it without a restart —
 * reload_kb (the agent's knowledge base) and reload_providers (the
 * [providers] and [agent] sections of the config file).  Admin only;
 * through the Janus Admin API and POST /api/admin. */
#ifndef SB_RELOAD_H
#define SB_RELOAD_H

#include <stdbool.h>

#include "core/settings.h"

/* Puts the settings' sections and knowledge base in force and registers
 * the reload operations; false when out of memory. */
bool sb_reload_init(const sb_settings *settings);

#endif
