/* The speech pipeline's own state and what its two files share:
 * agent_pipeline.c (STT -> model -> TTS, the answer being spoken) and
 * agent_tool_rounds.c (the business's tools the model calls between).
 * Nothing outside the pipeline includes this: the agent sees the pipeline
 * through agent_private.h.  Everything here is the agent thread's, except
 * callback_ctx.generation, which provider threads read. */
#ifndef SB_AGENT_AGENT_PIPELINE_H
#define SB_AGENT_AGENT_PIPELINE_H

#include "agent/agent_private.h"
#include "providers/providers.h"
#include "tools/tools.h"

/* A model that keeps calling tools is stopped: rounds of calls per caller
 * turn, and calls per round. */
#define MAX_TOOL_ROUNDS 3
#define MAX_TOOL_CALLS 5

/* What a provider callback needs: which pipeline, which answer. */
typedef struct callback_ctx {
	sb_pipeline *p;
	unsigned generation;
} callback_ctx;

/* One business tool call of the current round. */
typedef struct tool_run {
	callback_ctx ctx; /* first: the HTTP thread's done posts through it */
	char *id;         /* the model's id for the call */
	char *name;
	json_t *arguments;
	sb_tool_call *call; /* NULL once answered (or never started) */
	json_t *result;     /* what the model is told: the answer, or {"error"} */
	json_t *record;     /* {tool, arguments, status, latency_ms, …} */
	int64_t started_us; /* a gather: when the agent took it */
} tool_run;

struct sb_pipeline {
	sb_pipeline_post post;
	sb_pipeline_emit emit;
	void *user;
	unsigned generation;
	char *room;
	/* The conversation's language: configured, then the caller's. */
	sb_language_follower language;
	char *heard_language; /* the recogniser's, for the final to come */
	/* The persona and greeting as configured ({{variables}} in them) and
	 * as rendered with the call's context (sb_pipeline_set_variables). */
	char *greeting_template;
	char *persona_template;
	char *facts; /* the knowledge base, JSON; NULL: none */
	char *greeting;
	char *system_prompt;
	json_t *variables;
	char *apology;
	json_t *kb;
	json_t *memory;
	json_t *history;

	sb_stt_chain *stt;
	sb_stt_stream *stt_stream;
	callback_ctx *stt_ctx;

	sb_llm_chain *llm;
	sb_llm_call *llm_call;
	callback_ctx *llm_ctx;
	char *llm_error;

	sb_tts_chain *tts;
	sb_tts_job *tts_job;
	callback_ctx *tts_ctx;
	GQueue sentences; /* char*, waiting for TTS */

	bool answering;    /* an answer or a `say` is under way */
	bool is_reply;     /* …and it answers a caller (history, tools) */
	GString *reply;    /* everything the model wrote for this answer */
	GString *sentence; /* text not yet sent to TTS */
	char *tool;
	json_t *tool_args;
	/* Who served the current caller turn: {"stt","llm","tts","fallback"}. */
	json_t *turn;
	/* When its providers' first outputs came (stt_final, llm_first, tts_first). */
	sb_turn_times times;

	/* The business's tools (tools/tools.h). */
	sb_toolset *toolset;
	json_t *functions; /* offered to the model: [{name, description, parameters}] */
	json_t *call_info; /* what a tool learns of the call */
	json_t *wanted;    /* [{id, name, arguments}] the model asked for this round */
	GPtrArray *runs;   /* tool_run*, the round being called */
	int tool_rounds;   /* rounds in this caller turn */
	gsize round_start; /* where this round's text starts in reply */
};

/* ---- agent_pipeline.c ---- */

/* Provider thread: an event for the agent thread, stamped now. */
void sb_pipe_post(callback_ctx *ctx, sb_pipeline_event_type type, const char *text,
                  const char *error, const int16_t *pcm, size_t samples, json_t *json);
/* Agent thread: an event for the agent (nothing is copied or kept). */
void sb_pipe_emit(sb_pipeline *p, sb_pipeline_event_type type, const char *text, const char *error,
                  int16_t *pcm, size_t samples, json_t *json);
/* A sentence to speak after those queued. */
void sb_pipe_queue_sentence(sb_pipeline *p, const char *text);
/* Asks the model (again, after tools answered) with the history so far. */
void sb_pipe_start_llm(sb_pipeline *p);

/* ---- agent_tool_rounds.c: the business's tools ----
 * A round: the model asked for tools (RAW_LLM_TOOL, collected in wanted);
 * when its reply is over, each is checked (offered, arguments valid
 * against its schema) and called on net's HTTP thread; their outcomes
 * come back as RAW_TOOL_DONE; once every one has answered, the results go
 * into the history (role "tool") and the model is asked again.  A barge-in
 * cancels the calls still running. */

void sb_pipe_tool_run_free(tool_run *r);
/* The model's reply asked for tools: false when it may not (too many
 * rounds in this turn), and the answer ends there. */
bool sb_pipe_tools_run(sb_pipeline *p);
/* RAW_TOOL_DONE: one call's outcome. */
void sb_pipe_tools_answered(sb_pipeline *p, sb_pipeline_event *raw);
/* The caller spoke: calls still running are dropped, and the history is
 * kept whole (every call the model made has a result). */
void sb_pipe_tools_cancel(sb_pipeline *p);

#endif
