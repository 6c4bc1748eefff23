/* The analysis module's inside: the pure analysis of a call's log
 * (local.c), tested apart from the bus and its thread. */
#ifndef SB_ANALYSIS_PRIVATE_H
#define SB_ANALYSIS_PRIVATE_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "analysis/analysis.h"

/* What one call leaves for its analysis, gathered from the bus (a JSON
 * object, so the log and the tests read alike):
 *   lines        [{"text", "caller": bool, "at": ms, "mood": int}]
 *                final transcript lines in order, at most
 *                SB_ANALYSIS_MAX_LINES (the newest kept)
 *   agent_turns, tools_ok, tools_failed   counts
 *   handoff      the agent asked for a human
 *   transferred  a transfer was accepted
 *   status       the last call_status ("completed", "busy" …) or absent */
#define SB_ANALYSIS_MAX_LINES 400
#define SB_ANALYSIS_MAX_LINE_BYTES 1024

/* The analysis of log (borrowed), a new object:
 *   engine     "local"
 *   summary    the extractive summary's paragraph; issue, topics
 *   disposition "resolved" | "transferred" | "escalated" | "unresolved" |
 *              "abandoned" | "failed"
 *   goal_met   resolved or transferred
 *   sentiment  {overall, end: "negative"|"neutral"|"positive", score
 *              (-1..1), timeline: [{at, mood, label}] per caller line}
 *   fields     {name: value or null} for each property of fields_schema
 * kb (the knowledge base: intents, lexicon) and fields_schema may be
 * NULL. */
json_t *sb_analysis_local(json_t *kb, json_t *log, json_t *fields_schema);

/* A mood (positive minus negative words) as a label. */
const char *sb_analysis_label(int mood);

/* The fields fields_schema's properties name, read from text (the
 * caller's words): a property's "pattern" (a regular expression; its
 * first group, else the whole match), else by its name (order, name,
 * email, phone, date or time); summary's caller {name, order} helps.
 * number/integer properties become numbers.  A new object. */
json_t *sb_analysis_fields(json_t *fields_schema, const char *text, json_t *summary);

/* Whether schema is one sb_analysis_fields can follow: an object schema
 * whose properties are objects with a string, number, integer or boolean
 * type and, if any, a pattern that compiles.  False with *error. */
bool sb_analysis_schema_ok(json_t *schema, char **error);

/* ---- model.c: the analysis by a language model ---- */

/* llm: [analysis] llm (provider names; NULL: the [agent] llm list), the
 * embedded "local" left out: it is the fallback.  timeout_ms bounds the
 * wait for one answer. */
typedef struct sb_analysis_model sb_analysis_model;
sb_analysis_model *sb_analysis_model_new(json_t *llm, int timeout_ms);
void sb_analysis_model_free(sb_analysis_model *m);
/* Asks the model (the analysis thread only: it waits) and merges its
 * answer into analysis (the local one): engine "llm" and provider, or
 * fallback_reason with the local analysis left as it was.  Nothing when
 * there is no model or the caller never spoke. */
void sb_analysis_by_model(sb_analysis_model *m, json_t *analysis, json_t *log,
                          json_t *fields_schema);
/* Merges a model's answer (its outermost JSON object: summary,
 * disposition, goal_met, sentiment {overall, end}, fields) into analysis;
 * false, leaving it as it was, when the answer is not such an object.
 * Fields are taken only as fields_schema names and types them. */
bool sb_analysis_merge_model(json_t *analysis, const char *answer, json_t *fields_schema);

#endif
