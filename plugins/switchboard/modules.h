/* The feature modules, started and stopped from one table (modules.c):
 * the only place that names them all.  Each registers its operations,
 * routes, WebSockets, bus and room listeners, stats and metrics when it
 * starts, before the HTTP server starts; the core never calls them. */
#ifndef SB_MODULES_H
#define SB_MODULES_H

#include "core/core.h"

/* In table order; a module that fails to start is logged and left off
 * (what needs it says so). */
void sb_modules_start(const sb_settings *settings);
/* In reverse order, once the HTTP server and the request thread are down
 * and before the rooms are destroyed. */
void sb_modules_stop(void);
/* In reverse order, after the rooms are gone (to flush what their closing
 * produced and to stop the threads rooms used). */
void sb_modules_finish(void);

#endif
