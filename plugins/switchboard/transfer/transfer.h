/* Warm transfer: the state machine, and nothing else.  Every room
 * operation (create the consult room, move a participant, hold, summary,
 * events, timers) goes through an injected sb_transfer_env, so the machine
 * is tested without Janus (tests/unit/test_transfer.c) and the real
 * environment lives in transfer_env.c.
 *
 *   start ──► ringing ──accept──► consulting ──three_way──► three_way
 *               │  │                 │   │                     │
 *      decline/ │  └─cancel──►cancelled  └──complete──►completed◄┘
 *      timeout  ▼                                          (and cancel from
 *            failed                                   consulting/three_way)
 *
 * ringing: the caller(s) on hold (or kept company by the AI agent), Agent A
 * moved into a private consult room, Agent B told (transfer event with the
 * summary).  consulting: B accepted and is in the consult room with A.
 * three_way: A and B with the caller in the caller's room, hold over.
 * completed: B with the caller, A back at their desk (or out), consult
 * room gone.  cancelled/failed: A back with the caller, B back at their
 * desk, consult room gone — nothing lost.  Hang-ups end in a defined state
 * too (see sb_transfer_participant_left).  Final transfers are kept (for
 * "complete twice" to get a clear error) until sb_transfers_forget_old.
 *
 * Thread-safety: one recursive lock around the machine; env callbacks run
 * under it and may re-enter (a removal reports a leave). */
#ifndef SB_TRANSFER_H
#define SB_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

typedef enum {
	SB_TRANSFER_RINGING = 0,
	SB_TRANSFER_CONSULTING,
	SB_TRANSFER_THREE_WAY,
	SB_TRANSFER_COMPLETED,
	SB_TRANSFER_CANCELLED,
	SB_TRANSFER_FAILED,
} sb_transfer_state;

const char *sb_transfer_state_name(sb_transfer_state state);

typedef enum {
	SB_TARGET_AGENT = 0, /* a human at the console, by agent id */
	SB_TARGET_NUMBER,    /* E.164, dialled through the SIP trunk */
	SB_TARGET_URI,       /* sip: URI */
} sb_target_kind;

/* Where an agent is: their participant and their desk (home) room. */
typedef struct sb_agent_location {
	guint64 participant;
	char room[80]; /* the room the participant is in now */
	char home[80]; /* their desk room, "" when none */
	bool available;
} sb_agent_location;

typedef struct sb_transfer_env {
	void *user;
	/* Creates a private room for the consult, like `room` (same rate). */
	bool (*consult_create)(void *user, const char *room, char *name, size_t len);
	void (*room_destroy)(void *user, const char *room);
	/* Moves participant `id` into room `to`; false if it is not there. */
	bool (*move)(void *user, guint64 id, const char *to);
	/* Takes participant `id` out of room (it has nowhere to go back to). */
	void (*remove)(void *user, guint64 id, const char *room);
	/* The humans of room other than `except` (not the AI, not supervisors). */
	GArray *(*others)(void *user, const char *room, guint64 except);
	/* Is participant id in room? */
	bool (*present)(void *user, guint64 id, const char *room);
	void (*set_hold)(void *user, const char *room, guint64 id, bool hold);
	/* Turns the AI agent of room on (returns whether it was on) or back. */
	bool (*ai_company)(void *user, const char *room, bool on);
	bool (*agent_locate)(void *user, const char *agent_id, sb_agent_location *out);
	void (*agent_busy)(void *user, const char *agent_id, const char *status);
	/* The call's summary (new reference, may be NULL). */
	json_t *(*summary)(void *user, const char *room);
	/* A `transfer` event (borrowed) to one participant. */
	void (*notify)(void *user, guint64 participant, json_t *event);
	/* A bus event; takes ownership of data. */
	void (*publish)(void *user, const char *type, json_t *data);
	void (*timer_start)(void *user, const char *transfer_id, int ms);
	void (*timer_cancel)(void *user, const char *transfer_id);
	gint64 (*now_ms)(void *user);
	/* Phone targets (number/uri): dials target into room; returns the
	 * call id (g_free), or NULL with *error (g_free).  Progress comes back
	 * through sb_transfer_call_status. */
	char *(*dial)(void *user, const char *room, const char *target, char **error);
	/* Ends the call (any state); a call already gone is fine. */
	void (*hangup)(void *user, const char *call_id);
	/* The AI agent speaks text in room (joining it for that). */
	void (*say)(void *user, const char *room, const char *text);
} sb_transfer_env;

typedef struct sb_transfer_config {
	int ring_timeout_ms;
	bool ai_company; /* the AI agent keeps the caller company instead of hold audio */
} sb_transfer_config;

void sb_transfers_init(const sb_transfer_env *env, const sb_transfer_config *config);
/* Cancels every live transfer (shutdown) and forgets them all. */
void sb_transfers_deinit(void);

typedef enum {
	SB_TRANSFER_OK = 0,
	SB_TRANSFER_E_INVALID,   /* bad input */
	SB_TRANSFER_E_NOT_FOUND, /* no such transfer */
	SB_TRANSFER_E_STATE,     /* not allowed in this state (e.g. complete twice) */
	SB_TRANSFER_E_OFFLINE,   /* target agent offline or busy */
	SB_TRANSFER_E_BUSY,      /* a participant is already in another transfer */
	SB_TRANSFER_E_ROOM,      /* room or participant gone, consult room failed */
	SB_TRANSFER_E_UNSUPPORTED,
	SB_TRANSFER_E_DIAL, /* a phone target could not be dialled */
} sb_transfer_error;

typedef struct sb_transfer_request {
	const char *room;       /* the caller's room */
	guint64 from;           /* Agent A's participant in room */
	const char *from_agent; /* Agent A's agent id, if a console agent */
	sb_target_kind kind;
	const char *target; /* agent id, number or uri */
	const char *reason;
} sb_transfer_request;

/* Starts a warm transfer; *id_out (g_free) gets its id.  error_text says why. */
sb_transfer_error sb_transfer_start(const sb_transfer_request *req, char **id_out, char *error_text,
                                    size_t len);
/* action: "accept", "decline", "complete", "cancel", "three_way". */
sb_transfer_error sb_transfer_act(const char *id, const char *action, char *error_text, size_t len);
/* A better summary arrived (the model's, written after the start): it
 * replaces the transfer's and the agents get a transfer event with it.
 * Ignored once the transfer is over.  summary is borrowed. */
void sb_transfer_set_summary(const char *id, json_t *summary);
/* The ring timer of a transfer fired. */
void sb_transfer_timeout(const char *id);
/* Progress of a phone target's call (the call_status bus event, handed
 * to the transfer worker thread): "ringing" restarts the ring timer;
 * "answered" (participant: the SIP leg in the consult room) reads the
 * summary aloud and is the accept; "busy", "no-answer", "failed",
 * "canceled" end back with the caller; "completed" (B hung up) too. */
void sb_transfer_call_status(const char *call_id, const char *status, guint64 participant);
/* A participant left `room` for good (leave, hang-up, room closed). */
void sb_transfer_participant_left(const char *room, guint64 participant);
/* {"transfer_id","state","room","from","to","target_kind","consult_room",
 *  "summary"?,"reason"?,"created","duration_ms"?}, or NULL. */
json_t *sb_transfer_info(const char *id);
/* Every live transfer. */
json_t *sb_transfers_list(void);
typedef struct sb_transfer_stats {
	uint64_t started, completed, cancelled, failed; /* since start-up */
	uint64_t active;                                /* live now */
} sb_transfer_stats;
void sb_transfers_get_stats(sb_transfer_stats *out);

/* Forgets final transfers older than max_age_ms. */
void sb_transfers_forget_old(gint64 max_age_ms);

#endif
