/* Inside the chains: shared by chain_core.c (breakers, counters, the timer
 * thread, the attempt runner) and chain.c (the three kinds' events and
 * public functions).  Not for other modules. */
#ifndef SB_CHAIN_INTERNAL_H
#define SB_CHAIN_INTERNAL_H

#include <glib.h>

#include "providers/chain.h"
#include "providers/cloud_util.h"

#define CHAIN_DEFAULT_TIMEOUT_MS 5000
#define CHAIN_DEFAULT_THRESHOLD 3
#define CHAIN_DEFAULT_COOLDOWN_MS 30000

typedef struct pstat pstat; /* one provider's counters and breaker */

typedef struct entry {
	const void *impl; /* sb_llm_provider / sb_stt_provider / sb_tts_provider */
	sb_provider_config *cfg;
	pstat *st;
} entry;

typedef struct chain {
	gint ref;
	sb_provider_kind kind;
	sb_chain_options opt;
	GPtrArray *entries; /* entry* */
} chain;

typedef struct ccall ccall;

/* One provider tried for one call. */
typedef struct attempt {
	ccall *cc;
	guint index;
	guint gen;
	void *handle;      /* the provider's call / stream / job */
	bool started;      /* its start() has returned */
	bool failed_early; /* it failed before start() returned */
	bool trial;        /* it holds its breaker's half-open trial */
	bool success_recorded;
	char *early_error;
} attempt;

/* A chain call (LLM call, STT stream or TTS job). */
struct ccall {
	gint ref;
	chain *ch;
	GMutex lock;  /* the state below */
	GMutex feed;  /* serialises feeding audio with switching providers */
	GCond fed;    /* signalled when feeding drops to 0 */
	int feeding;  /* audio()/end_of_speech() calls inside a provider now */
	sb_gate gate; /* every event to the user goes through it */
	attempt *cur;
	guint gen; /* bumped whenever cur changes: stale events are dropped */
	bool released;
	bool finished;
	bool output;      /* LLM/TTS: output has started */
	bool any_started; /* some provider's start() returned a handle */
	int served;       /* index of the entry whose output the user got; -1: none yet */
	GSource *timer;
	GString *summary;
	void *user;
	union {
		sb_llm_events llm;
		sb_stt_events stt;
		sb_tts_events tts;
	} ev;
	/* LLM: a copy of the request. */
	sb_llm_request req;
	/* TTS */
	char *text;
	/* STT: audio not transcribed yet, and end_of_speech marks in it. */
	GArray *buf;   /* int16 */
	GArray *marks; /* guint sample offsets into buf */
};

/* chain.c: the kind-specific start (with STT replay) and release. */
void *sb_chain_kind_start(ccall *cc, attempt *att, entry *e, char **error);
void sb_chain_kind_release(chain *ch, entry *e, void *handle);

/* chain_core.c */
chain *sb_chain_new_kind(sb_provider_kind kind, const sb_chain_options *opt);
void sb_chain_add_entry(chain *ch, const void *impl, const sb_provider_config *cfg);
void sb_chain_unref(chain *ch);
ccall *sb_ccall_new(chain *ch, void *user);
ccall *sb_ccall_ref(ccall *cc);
void sb_ccall_unref(ccall *cc);
entry *sb_ccall_entry(ccall *cc, attempt *att);

/* Tries providers from index on; the caller holds cc->feed.  False when
 * every remaining one failed (the summary says why). */
bool sb_ccall_run_from(ccall *cc, guint index);
/* Locks cc and returns true when att is the live attempt of a live call;
 * else returns false, unlocked. */
bool sb_ccall_event_begin(attempt *att);
/* With the lock held (from event_begin): att failed; falls through or
 * ends the call.  Unlocks. */
void sb_ccall_failure_locked(attempt *att, const char *error, bool timeout);
/* With the lock held: the call finished well. Unlocks, then delivers. */
void sb_ccall_success_locked(attempt *att);
/* Marks output started (LLM/TTS), stops the first-output timer, records
 * the provider's success once.  Call with the lock held; unlocks. */
void sb_ccall_output_locked(attempt *att, bool counts);
void sb_ccall_arm_timer_locked(ccall *cc);
void sb_ccall_cancel_timer_locked(ccall *cc);
/* done(error) / failed(error) to the user through the gate. */
void sb_ccall_deliver_done(ccall *cc, const char *error);
/* The user's release. */
void sb_ccall_release(ccall *cc);
/* After all failed: finished, done(summary) — now, or (async) from the
 * timer thread. */
void sb_ccall_all_failed(ccall *cc);
void sb_ccall_all_failed_async(ccall *cc);

void sb_pstat_success(pstat *st);

#endif
