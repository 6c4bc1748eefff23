/* The analysis of every call (issue 17's "analysis of every call"): when
 * a call ends, off its threads, a summary, an outcome, whether the goal
 * was met, the caller's sentiment over the call and at its end, and the
 * fields [analysis] fields asks for (a JSON Schema), published as the bus
 * event `call_analysis` — the store keeps it with the call record, the
 * webhooks send it.  Each caller's final transcript line also carries its
 * sentiment, live.  The embedded engine's deterministic analysis (the
 * knowledge base's intents, a sentiment lexicon); README, "The analysis
 * of every call". */
#ifndef SB_ANALYSIS_H
#define SB_ANALYSIS_H

#include <stdbool.h>

#include "core/core.h"

/* Module lifecycle (modules.c).  False (logged) for [analysis] fields that
 * is not a JSON Schema this module can follow: the analysis is then off. */
bool sb_analysis_start(const sb_settings *settings);
void sb_analysis_stop(void);
void sb_analysis_finish(void);

#endif
