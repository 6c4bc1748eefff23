/* Read queries over the records: call history with filters, one call in
 * full, analytics over a range, transfer history, CSV export.  Inputs are
 * already validated (api.c); values go in as bound parameters only. */
#ifndef SB_STORE_QUERIES_H
#define SB_STORE_QUERIES_H

#include <glib.h>
#include <jansson.h>

#include "store/store.h"

#define SB_CALLS_LIMIT_MAX 200

typedef struct sb_call_filter {
	const char *interface; /* NULL: any */
	gint64 from_ms, to_ms; /* started in [from, to); 0: open */
	const char *agent;     /* a human agent's identity or display, or the AI's name */
	const char *outcome;
	const char *search; /* substring of room, from, to or CallSid */
	int page;           /* 1-based */
	int limit;
} sb_call_filter;

/* {"calls":[…],"total","page","limit"} or NULL with *error. */
json_t *sb_query_calls(sb_store *s, const sb_call_filter *f, char **error);
/* The call with participants, transcript, agent_turns, transfers,
 * recordings, messages; json_null() when there is no such call. */
json_t *sb_query_call(sb_store *s, const char *id, char **error);
/* Analytics for the days before now_ms. */
json_t *sb_query_analytics(sb_store *s, int days, gint64 now_ms, char **error);
/* {"transfers":[…]} newest first. */
json_t *sb_query_transfers(sb_store *s, const char *agent_id, int limit, char **error);
/* 1 when the call is known, 0 when not, -1 (with *error) when the read failed. */
int sb_query_call_exists(sb_store *s, const char *id, char **error);
/* The recording rows of a call (newest first), or NULL with *error. */
json_t *sb_query_recordings(sb_store *s, const char *call_id, char **error);

/* Rows as CSV with the given columns (NULL-terminated).  Cells that a
 * spreadsheet would run as a formula are prefixed with '. */
char *sb_rows_csv(json_t *rows, const char *const *columns);
extern const char *const sb_call_columns[];
extern const char *const sb_transfer_columns[];

#endif
