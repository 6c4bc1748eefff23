/* The console module: human agents and the queue of calls waiting for one.
 *
 * An agent is a participant who joined with a token of role "agent" and an
 * identity (the agent id).  Signing in puts them in their private desk room
 * `desk-<agentId>` (hidden), where their PeerConnection stays up while they
 * wait; taking a call or a transfer moves that participant between rooms
 * (sb_room_move_participant), so nobody renegotiates.  Status: available |
 * busy | ringing | offline; an agent is offered transfers only when
 * available and at their desk.
 *
 * The queue holds rooms waiting for a human: a caller who asked the AI
 * agent for one (handoff_requested), or whose transfer left them alone;
 * and chats (kind "whatsapp", keyed by conversation) handed over by the
 * AI, which the Twilio module serves. */
#ifndef SB_CONSOLE_CONSOLE_H
#define SB_CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <jansson.h>

#include "core/core.h"

#define SB_AGENT_ID_MAX 48

/* The module (modules.c): presence, the queue and the console's ops and
 * routes.  Starts before the modules that use it (transfer, Twilio). */
bool sb_console_start(const sb_settings *settings);
void sb_console_stop(void);
/* After the rooms are gone (their leaves still reach presence). */
void sb_console_finish(void);

/* Where an agent is: their participant and their desk (home) room. */
typedef struct sb_agent_location {
	guint64 participant;
	char room[80]; /* the room the participant is in now */
	char home[80]; /* their desk room, "" when none */
	bool available;
} sb_agent_location;

/* 1..48 of A-Z a-z 0-9 . _ - */
bool sb_presence_agent_id_valid(const char *id);
/* "desk-<id>" into buf. */
void sb_presence_desk_name(const char *agent_id, char *buf, size_t len);

bool sb_presence_locate(const char *agent_id, sb_agent_location *out);
/* The agent id of a participant, or NULL (g_free). */
char *sb_presence_agent_of(guint64 participant);
/* available|busy|ringing|offline; false: unknown agent or status. */
bool sb_presence_set_status(const char *agent_id, const char *status);
/* A cluster: what this node heard from the others about their agents
 * (agent_presence, node_lost: events from another node, borrowed), and
 * whether an agent not signed in here is available at a desk on another
 * live node by what was heard (a transfer summons them here). */
void sb_presence_heard(json_t *event);
bool sb_presence_elsewhere(const char *agent_id);
/* [{"agentId","name","status","room","participant","at_desk"}] */
json_t *sb_presence_list(void);

/* Queue: adds (or refreshes) a room waiting for a human. */
void sb_queue_add(const char *room, const char *reason, json_t *details);
/* The same with the call's summary (from the summary source below) added
 * to a copy of details (borrowed, may be NULL): what a human taking the
 * call reads first. */
void sb_queue_add_call(const char *room, const char *reason, json_t *details);
bool sb_queue_remove(const char *room);
bool sb_queue_contains(const char *room);
/* The same for any kind of entry: "call" (key: a room) or a chat kind
 * ("whatsapp", key: the conversation). */
void sb_queue_add_entry(const char *kind, const char *key, const char *reason, json_t *details);
bool sb_queue_remove_entry(const char *kind, const char *key);
/* [{"kind":"call","room"|"kind":"whatsapp","conversation", "reason","since",
 *   "waiting_ms","details"?}] oldest first */
json_t *sb_queue_list(void);

/* Who is who at the console — the one place that decides it. */
struct sb_op_ctx;
struct sb_participant;
/* A human console agent: joined from the web with a token of role agent
 * whose identity is their agent id. */
bool sb_console_is_agent(const struct sb_participant *p);
/* Who asks through the Janus API: a console agent or supervisor (their
 * session's participant, referenced in *out; out may be NULL when the
 * question is only whether they may), or a trusted caller (the Admin
 * API, REST with the key: *out NULL).  NULL, or the error to answer (not
 * joined, not an agent). */
json_t *sb_console_caller(struct sb_op_ctx *ctx, struct sb_participant **out);
/* The agent id a request acts for, into *agent_id (g_free): the asking
 * console agent's own — a supervisor's too when supervisors — or, from a
 * trusted caller, body.agentId.  NULL, or the error to answer. */
json_t *sb_console_acting_agent(json_t *body, struct sb_op_ctx *ctx, bool supervisors,
                                char **agent_id);

/* The call summary a human sees with a queued call (queue entries, taking
 * a call): the transfer module provides it when it runs (new reference or
 * NULL; request and transfer threads, must not block). */
typedef json_t *(*sb_console_summary_source)(const char *room);
void sb_console_set_summary_source(sb_console_summary_source source);

#endif
