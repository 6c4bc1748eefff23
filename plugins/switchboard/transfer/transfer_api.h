/* The warm-transfer module (plugin.c's modules[]): registers the transfer,
 * summary, assist, presence and queue ops and their REST routes, listens
 * for the AI agent's hand-off requests and for room membership.  Config:
 * the [transfer] section (ring_timeout, ai_company, knowledge_base). */
#ifndef SB_TRANSFER_API_H
#define SB_TRANSFER_API_H

#include <stdbool.h>

#include "core/settings.h"

bool sb_transfer_module_start(const sb_settings *settings);
void sb_transfer_module_stop(void);
void sb_transfer_module_finish(void);

#endif
