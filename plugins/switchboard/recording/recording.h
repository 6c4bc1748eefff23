/* The recording module: [recording] configuration, the start_recording /
 * stop_recording operations and POST /rooms/{name}/recording (the recorder
 * itself: recording_private.h). */
#ifndef SB_RECORDING_RECORDING_H
#define SB_RECORDING_RECORDING_H

#include <stdbool.h>
#include <glib.h>

#include "core/core.h"

bool sb_recording_module_start(const sb_settings *settings);
void sb_recording_module_stop(void);

/* Is path a recording file this node wrote (inside the configured
 * directory)?  Only such paths are ever served. */
bool sb_recorder_path_allowed(const char *path);

#endif
