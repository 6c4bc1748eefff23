/* The store module: opens the configured store at start-up, feeds it from
 * the bus (records.c), serves the read API and the admin routes, and
 * flushes once the rooms are gone.  Config: [store] store = "sqlite" (a
 * file, path = …) or "postgresql://…"; queue_max. */
#ifndef SB_STORE_STORE_H
#define SB_STORE_STORE_H

#include <stdbool.h>
#include <glib.h>

#include "core/core.h"

bool sb_store_module_start(const sb_settings *settings);
void sb_store_module_stop(void);
void sb_store_module_finish(void);

#endif
