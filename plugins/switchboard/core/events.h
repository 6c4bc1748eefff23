/* The notification bus: room_created, room_closed, participant_joined,
 * participant_left, call_status … published by any module, delivered to the
 * notifications WebSocket (http) and to Janus event handlers when they are
 * enabled.  Listeners are called on the publisher's thread and must only
 * queue the event (never block). */
#ifndef SB_EVENTS_H
#define SB_EVENTS_H

#include <jansson.h>
#include <plugins/plugin.h>

typedef void (*sb_event_listener)(json_t *notification, void *user);

void sb_events_init(janus_callbacks *gateway, janus_plugin *plugin);
void sb_events_deinit(void);
/* Returns an id for sb_events_unsubscribe. */
unsigned sb_events_subscribe(sb_event_listener listener, void *user);
void sb_events_unsubscribe(unsigned id);
/* Publishes {"type": type, "timestamp": ms since epoch, …fields of data}.
 * Takes ownership of data (may be NULL). */
void sb_events_publish(const char *type, json_t *data);

#endif
