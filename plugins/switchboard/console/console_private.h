/* Inside the console module: presence.c keeps agents and the queue,
 * console_api.c has the ops and routes, console.c starts them.  Private
 * interface. */
#ifndef SB_CONSOLE_CONSOLE_PRIVATE_H
#define SB_CONSOLE_CONSOLE_PRIVATE_H

#include "console/console.h"
#include "room/room.h"

void sb_presence_init(void);
/* An agent's desk room here ("desk-<agentId>", hidden), made when missing:
 * SB_OK then too. */
sb_error sb_presence_desk_open(const char *desk);
void sb_presence_deinit(void);
/* Room membership changes (an sb_room_member_listener). */
void sb_presence_member_change(sb_room *room, sb_participant *p, sb_member_change change,
                               void *user);

/* The summary for room from the registered source, or NULL. */
json_t *sb_console_summary(const char *room);

/* accounts.c: agents' accounts, password and single sign-on, their ops
 * and routes (registered before console_api.c's). */
bool sb_accounts_start(const sb_settings *settings);
void sb_accounts_stop(void);

/* console_ws.c: WS /ws/console.  Start before the HTTP server starts;
 * stop after it stopped. */
void sb_console_ws_start(void);
void sb_console_ws_stop(void);

/* console_api.c */
void sb_console_api_register(void);

#endif
