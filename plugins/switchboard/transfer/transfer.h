/* The warm-transfer module (modules.c): the transfer, summary and assist
 * ops and their REST routes; the call summary the console shows with a
 * queued call; it listens for room membership (hang-ups) and outbound
 * calls' progress (phone targets).  Needs the console module.  Config: the
 * [transfer] section (ring_timeout, ai_company, knowledge_base,
 * summary_llm, summary_timeout_ms). */
#ifndef SB_TRANSFER_TRANSFER_H
#define SB_TRANSFER_TRANSFER_H

#include <stdbool.h>

#include "core/core.h"

bool sb_transfer_module_start(const sb_settings *settings);
void sb_transfer_module_stop(void);
void sb_transfer_module_finish(void);

#endif
