/* The recording module: [recording] configuration, the start_recording /
 * stop_recording operations and POST /rooms/{name}/recording (see
 * recorder.h for the recorder itself). */
#ifndef SB_RECORDING_API_H
#define SB_RECORDING_API_H

#include <stdbool.h>

#include <glib.h>

#include "core/settings.h"

bool sb_recording_module_start(const sb_settings *settings);
void sb_recording_module_stop(void);

#endif
