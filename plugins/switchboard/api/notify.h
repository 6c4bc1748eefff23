/* WS /ws/notifications: every client gets every event of the bus
 * (events.c) as a JSON text frame.  Runs on the HTTP thread. */
#ifndef SB_NOTIFY_H
#define SB_NOTIFY_H

#include <libsoup/soup.h>

#define SB_NOTIFY_PATH "/ws/notifications"

/* HTTP thread: adds the WebSocket route and subscribes to the bus. */
void sb_notify_attach(SoupServer *server);
/* HTTP thread: closes every client and unsubscribes. */
void sb_notify_detach(void);
unsigned sb_notify_clients(void);

#endif
