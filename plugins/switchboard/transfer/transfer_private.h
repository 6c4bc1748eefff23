/* Inside the transfer module (private interface): the state machine, its
 * real environment, and the model's summary and assist.  Not for other
 * modules, which use transfer.h (and the ops). */
#ifndef SB_TRANSFER_TRANSFER_PRIVATE_H
#define SB_TRANSFER_TRANSFER_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "console/console.h"
#include "core/core.h"
#include "providers/providers.h"

/* ---- machine ----
 * Warm transfer: the state machine, and nothing else.  Every room
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
	/* A cluster (both may be NULL): is an agent not signed in here
	 * available at a desk on another node; and asks that node to send
	 * them here for transfer_id (room: the caller's).  They are rung once
	 * they arrive (sb_transfer_agent_arrived). */
	bool (*agent_elsewhere)(void *user, const char *agent_id);
	void (*summon)(void *user, const char *agent_id, const char *transfer_id, const char *room,
	               const char *from);
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

/* Starts a warm transfer; *id_out (g_free) gets its id.  Otherwise the
 * reason, and *error (g_free) says what went wrong. */
sb_transfer_error sb_transfer_start(const sb_transfer_request *req, char **id_out, char **error);
/* action: "accept", "decline", "complete", "cancel", "three_way"; as
 * sb_transfer_start on failure. */
sb_transfer_error sb_transfer_act(const char *id, const char *action, char **error);
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
/* An agent arrived at their desk here: a ringing transfer that summoned
 * them from another node rings them now (as start would have). */
void sb_transfer_agent_arrived(const char *agent_id);
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

/* ---- transfer_env ----
 * The real environment of the transfer state machine: see transfer_env.c. */

/* Loads the knowledge base for summaries, starts the AI summaries
 * (transfer_ai.c), the transfer thread and the state machine. */
bool sb_transfer_env_start(const sb_transfer_config *config, const char *kb_path,
                           const sb_settings *settings);
void sb_transfer_env_stop(void);
/* Runs fn on the transfer thread, never in place (for bus listeners,
 * which must only queue). */
void sb_transfer_env_invoke(GSourceFunc fn, gpointer data, GDestroyNotify destroy);

/* The SIP participant of call_id in room (its info "call_id"), or 0. */
guint64 sb_transfer_env_call_participant(const char *room, const char *call_id);

/* The call's summary now, never waiting: the model's last one while
 * nothing new was said since, else the extractive one (sb_local_summary);
 * NULL when there is no such room.  "provider" says which. */
json_t *sb_transfer_summary(const char *room);
/* summary: a new reference the callback owns. */
typedef void (*sb_transfer_summary_done)(void *user, json_t *summary);
/* Asks the model (transfer_ai.c) for the room's summary; done runs once,
 * on a provider thread or at once, with the model's summary or the
 * extractive fallback.  False (done never runs) when there is no room. */
bool sb_transfer_summary_async(const char *room, sb_transfer_summary_done done, void *user);
/* AI assistance for a human agent: an answer to message from the
 * knowledge base (g_free; NULL when there is none), and the call's
 * summary for context. */
char *sb_transfer_assist(const char *room, const char *message, json_t **summary_out);

/* ---- transfer_ai ----
 * The AI side of warm transfers: the call summary and the agent's assist
 * answers written by a cloud language model through the LLM chain
 * (providers/providers.h, section chain), with the extractive summary and the knowledge-base
 * answer as the fallback.
 *
 * Nothing here blocks: a request starts a chain call and returns; the
 * answer comes back through a callback on a provider (or the chain's
 * timer) thread, or at once on the calling thread when no cloud model is
 * configured.  Every answer says which provider wrote it ("provider":
 * "openai", or "local" for the fallback, with "fallback_reason" when a
 * model was asked and failed).
 *
 * Config, [transfer]: summary_llm = provider names (default: the agent's
 * llm chain without "local", whose dialog engine does not summarise);
 * summary_timeout_ms = the chain's first-output timeout (default 8000). */

/* kb: the knowledge base for the assist prompt (borrowed; kept referenced). */
bool sb_transfer_ai_init(const sb_settings *settings, json_t *kb);
/* Waits for nothing: calls still running finish on their own threads and
 * their callbacks still run (the callers' contexts must stay valid, or be
 * refcounted as ours are). */
void sb_transfer_ai_deinit(void);
/* Is a cloud model configured for summaries and assist? */
bool sb_transfer_ai_enabled(void);

/* Answers by a model, and fallbacks after a model was asked (for
 * /metrics). */
void sb_transfer_ai_get_stats(uint64_t *model, uint64_t *fallback);

/* result: a new reference the callback owns. */
typedef void (*sb_transfer_ai_done)(void *user, json_t *result);

/* Summarises transcript ([{"speaker","text"}], borrowed) into the shape
 * of local (the extractive summary, borrowed, used as the fallback and for
 * the fields the model does not give). */
void sb_transfer_ai_summary(json_t *transcript, json_t *local, sb_transfer_ai_done done,
                            void *user);

/* Answers a human agent's question with the call's summary as context:
 * result {"reply", "provider", "fallback_reason"?}; local_reply is the
 * knowledge base's answer (may be NULL), the fallback. */
void sb_transfer_ai_assist(const char *message, json_t *summary, const char *local_reply,
                           sb_transfer_ai_done done, void *user);

/* Uses chain (taken; NULL: none) and kb (borrowed) instead of what
 * init builds from the settings.  (Init uses it; so do the unit tests.) */
void sb_transfer_ai_use_chain(sb_llm_chain *chain, json_t *kb);

/* Parses a model's answer (JSON, possibly fenced) into a summary merged
 * over local; NULL when it is not a usable summary.  (For tests.) */
json_t *sb_transfer_ai_parse_summary(const char *answer, json_t *local);

#endif
