/* Inside the tools module (private interface): what its files share. */
#ifndef SB_TOOLS_TOOLS_PRIVATE_H
#define SB_TOOLS_TOOLS_PRIVATE_H

#include "tools/tools.h"

/* A config value: "env:NAME" reads the environment (NULL when unset or
 * empty), anything else is itself.  g_free. */
char *sb_tools_config_value(const char *value);

#endif
