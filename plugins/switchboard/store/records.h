/* Turns the notification bus into call records: a call is a room's
 * lifetime, its interface (web, phone, whatsapp …) that of its first
 * participant other than the AI agent.  Everything is queued on the store;
 * the listener does a hash lookup and a queue push, nothing more. */
#ifndef SB_RECORDS_H
#define SB_RECORDS_H

#include <glib.h>
#include <jansson.h>

#include "store/store.h"

/* Subscribes to the bus; node names this process in the records. */
void sb_records_start(sb_store *store, const char *node);
/* Unsubscribes, closes the calls still open (ended now), as after a
 * shutdown. */
void sb_records_stop(void);
/* One event, as the bus delivers it (exposed for the unit tests). */
void sb_records_event(json_t *event);
/* The call id of an open room, or NULL (g_free). */
char *sb_records_call_of_room(const char *room);
/* Prometheus text: calls by interface and outcome, turn latency
 * histogram, store queue and drops. */
void sb_records_metrics(GString *out);

#endif
