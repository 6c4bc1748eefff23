/* The agent thread's state: what agent.c and agent_gather.c (menus on
 * the keypad) share.  Everything here is the agent thread's unless a
 * field says otherwise. */
#ifndef SB_AGENT_AGENT_THREAD_H
#define SB_AGENT_AGENT_THREAD_H

#include <speex/speex_resampler.h>

#include "agent/agent.h"
#include "agent/agent_private.h"
#include "media/media.h"
#include "menus/menus.h"
#include "providers/providers.h"
#include "room/room.h"

#define AGENT_RATE SB_AGENT_RATE
#define AGENT_FRAME (AGENT_RATE / 50) /* 20 ms at 16 kHz */
#define PREROLL_FRAMES 25             /* 500 ms: an onset waits for a vowel's pitch */
#define MAX_QUEUED_FRAMES 250         /* 5 s of input backlog */

typedef enum { LISTENING = 0, THINKING, SPEAKING } agent_state;

typedef enum {
	MSG_AUDIO,
	MSG_SAY,
	MSG_DTMF,
	MSG_STOP,
	MSG_PIPELINE,  /* an event from a provider (agent_pipeline.c) */
	MSG_HEARD,     /* a listener heard our speech up to chunk `samples` */
	MSG_PRE_CALL,  /* the pre-call tool answered: event.json {record, variables?} */
	MSG_MENU_TOOL, /* a menu's tool answered: event.json {record, answer?} */
} msg_kind;

typedef struct agent_msg {
	msg_kind kind;
	int16_t *pcm;
	int samples;
	gint64 at_us; /* audio: when the mixer made the frame */
	guint64 speaker;
	char *text;
	sb_pipeline_event event;
} agent_msg;

typedef struct sb_agent {
	sb_participant *p; /* weak: p owns us through p->transport */
	sb_room *room;     /* strong while the thread runs */
	GAsyncQueue *queue;
	volatile gint stopping;
	volatile gint queued_frames;
	int room_rate;

	/* Agent thread only. */
	sb_pipeline *pipeline;
	SpeexResamplerState *down;
	sb_vad vad;
	int16_t preroll[PREROLL_FRAMES][AGENT_FRAME];
	int preroll_pos, preroll_len;
	agent_state state;
	GHashTable *speakers; /* speaker id -> frames heard in this utterance */
	gint64 speech_end_us;
	bool first_audio_sent;
	char *name;
	int onset_ms, barge_in_onset_ms;
	/* Interruptions that mean it: while we talk, a caller's onset ducks
	 * our voice; only enough speech with words that are no backchannel
	 * stop us (a partial or the final), else we un-duck and go on. */
	sb_backchannels *backchannels; /* for the conversation's language */
	json_t *backchannel_lists;     /* [agent] backchannels, to switch language */
	int confirm_ms;                /* [agent] barge_in_confirm_ms */
	float duck_gain;               /* [agent] barge_in_duck_db, as a gain */
	bool interrupting;             /* ducked, deciding */
	gint64 interrupt_onset_us;
	int interrupt_speech_ms; /* the caller's speech since the onset */
	bool interrupt_words;    /* the latest partial has words that are no backchannel */
	gint64 interrupt_end_us; /* the caller stopped first: waiting for the final */
	bool over_agent;         /* the caller's utterance began while we talked */
	/* Knowing when the caller is done (agent_endpoint.c): the silence that
	 * ends this utterance follows what the recogniser heard so far. */
	sb_turn_waits waits;
	sb_turn_shape shape;
	/* A partial comes every few hundred ms of audio and may still be on
	 * its way when the caller pauses: we ask the recogniser what it heard
	 * up to the pause and wait for its answer (bounded) before ending the
	 * turn on a stale shape.  Counted per utterance.  Its answer comes from
	 * a pass over the whole utterance, surer than the live partials, so
	 * until the caller speaks again a late partial does not overrule it. */
	int so_far_asked, so_far_answered;
	bool so_far_holds;
	bool end_call_closes_room; /* [agent] end_call, room overrides included */
	char *pending_tool;        /* to do once what was said has been heard */
	/* The turn in progress, for its agent_turn record. */
	char *turn_user;
	int turn_latency;
	/* Where its time went (agent_timing.c): the agent's own moments; the
	 * providers' come from the pipeline. */
	sb_turn_times turn_times;
	bool turn_marked;        /* its answer's first sample is marked in the voice */
	bool speech_end_taken;   /* speech_end_us already belongs to a turn */
	bool speech_end_pending; /* the final came before the VAD's end of speech */
	/* A finished turn's record, waiting for its first packet to be sent. */
	json_t *record;
	sb_turn_times record_times;
	bool record_marked;
	json_t *pending_args;
	/* What the caller heard (agent_heard.c); the answer's transcript line
	 * waits for it while marks are in use. */
	sb_heard *heard;
	char *held_said;
	sb_agent_voice *voice; /* what we say, on its way to the mixer */
	/* The greeting waits for the pre-call tool (agent_own_tool.c), never
	 * longer than its timeout and a margin. */
	char *pre_call_tool;
	sb_own_tool *pre_call;
	gint64 greeting_deadline_us; /* 0: greeted */
	/* Menus (agent_gather.c): the call's menu as configured; the gather
	 * running, within the tree it came from (owned) — a submenu is a
	 * part of its menu's; the model's call id when the model asked for it
	 * (NULL: the call's menu); a menu's tool on its way. */
	json_t *menu;
	sb_menu *gather;
	json_t *gather_tree;
	char *gather_call;
	sb_own_tool *menu_tool;
} sb_agent;

/* ---- agent.c: the agent in its room ---- */

/* The agent's thread: turns, answers and actions until it is removed. */
gpointer sb_agent_main(gpointer data);
/* The pipeline's (agent_private.h): an event posted on a provider's thread
 * hops onto the agent thread, which handles it and emits what it made. */
void sb_agent_pipeline_post(void *user, sb_pipeline_event *ev);
void sb_agent_pipeline_emit(void *user, sb_pipeline_event *ev);

/* ---- agent_life.c: joining, leaving, posting ---- */

/* What sb_agents_get_stats() reads; bumped with relaxed atomics. */
extern sb_agent_stats sb_agent_counters;
void sb_agent_msg_free(agent_msg *m);
/* The thread's last act: its place among max_agents is free. */
void sb_agent_thread_ended(void);

/* agent.c: an action to the room and the notification bus
 * (handoff_requested for "transfer", else agent_action). */
void sb_agent_announce(sb_agent *a, const char *action, json_t *details);
/* agent.c: the call's variables changed (room.h holds them): the
 * persona, the greeting and the tools see the new ones. */
void sb_agent_variables_changed(sb_agent *a);

/* ---- agent_gather.c: menus the phone way (menus/menus.h) ----
 * While a gather runs, keys and final transcripts go to it, the caller's
 * voice never interrupts (it is the answer), and nothing the caller says
 * starts a turn of the model's. */

/* The call's menu (config "menu"), if any: started in place of the
 * greeting (which comes when the menu hands the call to the agent).
 * False: no menu. */
bool sb_agent_menu_begin(sb_agent *a);
/* The model called the gather tool (id: its call; args checked). */
void sb_agent_gather_for_model(sb_agent *a, const char *id, json_t *args);
bool sb_agent_gathering(const sb_agent *a);
/* A key: true when a gather took it. */
bool sb_agent_gather_key(sb_agent *a, char key);
/* A final transcript: true when a gather runs (it took the words, or the
 * words are only transcribed: no turn). */
bool sb_agent_gather_speech(sb_agent *a, const char *text);
/* The clock (every loop of the agent thread). */
void sb_agent_gather_tick(sb_agent *a);
/* A menu's tool answered (MSG_MENU_TOOL's json: {record, answer?}). */
void sb_agent_menu_tool_answered(sb_agent *a, json_t *outcome);
/* Drops whatever gather runs, and a menu tool still out (no message
 * after).  The model's gather is settled as cancelled by the pipeline. */
void sb_agent_gather_stop(sb_agent *a);

#endif
