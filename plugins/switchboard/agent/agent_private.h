/* Inside the agent module (private interface): what a listener heard of
 * the agent, its outgoing voice, and its speech pipeline. */
#ifndef SB_AGENT_AGENT_PRIVATE_H
#define SB_AGENT_AGENT_PRIVATE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---- agent_timing ----
 * Where an answered turn's time goes: five moments, monotonic µs (0: it
 * did not happen, or is not known yet), each taken where it happens — so
 * a busy agent thread does not blur them. */
typedef struct sb_turn_times {
	int64_t speech_end;   /* the VAD: the caller's last voiced frame, by the mixer's clock */
	int64_t stt_final;    /* the STT chain reported the final (its thread) */
	int64_t llm_first;    /* the LLM chain's first token or tool call (its thread) */
	int64_t tts_first;    /* the TTS chain's first audio of the answer (its thread) */
	int64_t first_packet; /* the mixer took the answer's first frame to send */
} sb_turn_times;

/* The turn record's "stages": {"end_of_speech": 0, "stt_final",
 * "llm_first_token", "tts_first_audio", "first_packet"} in ms after the end
 * of speech, null for a moment that did not happen; JSON null for a turn
 * without speech (a key press).  New reference. */
json_t *sb_turn_times_json(const sb_turn_times *t);
/* Counts a finished turn's stages in the histograms. */
void sb_turn_times_observe(const sb_turn_times *t);
/* /metrics: switchboard_agent_turn_stage_ms{stage} (Prometheus histogram). */
void sb_turn_times_metrics(GString *out);

/* ---- agent_backchannel ----
 * What a listener says to show they are listening ("mm-hmm", "okay",
 * "uh-huh"): said over the agent, it does not stop it. */
typedef struct sb_backchannels sb_backchannels;

/* config: [agent] backchannels, {"<language>": ["phrase", …]} or a list;
 * without one for the language, English has defaults, others none. */
sb_backchannels *sb_backchannels_new(json_t *config, const char *language);
void sb_backchannels_free(sb_backchannels *b);
/* text is nothing but backchannel phrases (case, punctuation and hyphens
 * aside); false for an empty text. */
bool sb_backchannels_match(const sb_backchannels *b, const char *text);

/* ---- agent_endpoint ----
 * When the caller is done: the silence that ends a turn depends on what
 * was heard so far. */
typedef enum {
	SB_TURN_UNSURE = 0, /* silence as configured (vad_hangover_ms) */
	SB_TURN_OPEN,     /* unfinished ("… and", "my order number is", "one two"): wait longer */
	SB_TURN_COMPLETE, /* a whole question: end sooner */
} sb_turn_shape;

typedef struct sb_turn_waits {
	int min_ms;  /* [agent] turn_min_wait_ms: after a complete question */
	int base_ms; /* vad_hangover_ms */
	int max_ms;  /* [agent] turn_max_wait_ms: after an unfinished sentence */
} sb_turn_waits;

/* The knowledge base's whole sentences, where its grammar ends: an
 * intent's phrases (but for those a caller goes on after in the same
 * breath: hello, thanks, their name) and the FAQs' questions and
 * paraphrases, in every language they are written in.  NULL kb: none. */
typedef struct sb_turn_ends sb_turn_ends;
sb_turn_ends *sb_turn_ends_new(json_t *kb);
void sb_turn_ends_free(sb_turn_ends *ends);
/* The shape of what the recogniser heard so far (a partial); ends may be
 * NULL. */
sb_turn_shape sb_turn_shape_of(const char *heard, const sb_turn_ends *ends);
/* The silence that ends a turn of that shape. */
int sb_turn_wait_ms(sb_turn_shape shape, const sb_turn_waits *w);

/* ---- agent_heard ----
 * What the caller actually heard of the agent's speech, when a listener
 * can tell (Twilio Media Streams marks).  The agent speaks in chunks (one
 * TTS sentence each, numbered 1, 2, …); the mixer notes when a chunk's
 * audio has been played out; a listener marks that point in its own
 * stream and confirms the chunk once its far end has played it.  On a
 * barge-in the agent keeps, of its answer, only the confirmed chunks.
 *
 * Threads: sb_heard_played on the mixer thread, everything else on the
 * agent thread; a leaf mutex inside. */
typedef struct sb_heard sb_heard;

sb_heard *sb_heard_new(void);
void sb_heard_free(sb_heard *h);

/* A new answer (or greeting, or `say`) begins: its chunks are what
 * sb_heard_answer reports from now on. */
void sb_heard_new_answer(sb_heard *h);
/* A chunk whose audio starts at output position start; returns its id. */
unsigned sb_heard_chunk(sb_heard *h, uint64_t start, const char *text);
/* Mixer: the output has been played up to played (of written). */
void sb_heard_played(sb_heard *h, uint64_t played, uint64_t written);
/* The latest chunk played out since the last call, or 0. */
unsigned sb_heard_take_played(sb_heard *h);
/* The output was dropped (barge-in, a new turn): chunks not played out
 * yet never will be, and later confirmations of this answer are stale. */
void sb_heard_cleared(sb_heard *h);
/* A listener heard every chunk up to id. */
void sb_heard_confirm(sb_heard *h, unsigned id);
/* Confirmations have arrived in this call: what was heard is known. */
bool sb_heard_active(sb_heard *h);
/* Every chunk of the current answer has been confirmed. */
bool sb_heard_all(sb_heard *h);
/* The current answer's confirmed chunks, space-separated (g_free). */
char *sb_heard_answer(sb_heard *h);

/* ---- agent_voice ----
 * The agent's voice on its way to the room: 16 kHz speech the agent thread
 * writes as it is synthesised, and the mixer takes one frame at a time,
 * resampled to the room's rate.  Up to a minute is held; the rest of an
 * over-long answer is dropped.  What has been played out is told to the
 * heard tracker (agent_heard, above), so a listener can confirm it.
 *
 * Threads: pull() and level_db() on the mixer thread, everything else on
 * the agent thread; a leaf mutex inside, never held for long. */

typedef struct sb_agent_voice sb_agent_voice;

/* heard is borrowed and must outlive the voice. */
sb_agent_voice *sb_agent_voice_new(int room_rate, sb_heard *heard);
void sb_agent_voice_free(sb_agent_voice *v);

void sb_agent_voice_append(sb_agent_voice *v, const int16_t *pcm, size_t samples);
/* Drops what was not played yet (a barge-in, a new turn). */
void sb_agent_voice_clear(sb_agent_voice *v);
bool sb_agent_voice_empty(sb_agent_voice *v);
/* Samples written so far: where the next chunk of speech will start. */
uint64_t sb_agent_voice_written(sb_agent_voice *v);

/* Mixer: the next frame of `samples` at the room's rate; false when there
 * is nothing to play. */
bool sb_agent_voice_pull(sb_agent_voice *v, int16_t *frame, int samples);
/* Ducks the voice to gain (0..1; 1 is full voice): from the next frame,
 * ramped over it so it does not click.  Any thread. */
void sb_agent_voice_duck(sb_agent_voice *v, float gain);
/* Level of the frame last played (dBFS), for the echo guard. */
float sb_agent_voice_level_db(sb_agent_voice *v);
/* The next sample appended begins an answer: the mixer notes the moment it
 * takes that sample to send (the answer's first packet). */
void sb_agent_voice_mark(sb_agent_voice *v);
/* When the marked sample was taken (monotonic µs), or 0; *pending says
 * whether it may still be (false once taken, or dropped by a clear). */
int64_t sb_agent_voice_mark_sent(sb_agent_voice *v, bool *pending);

/* ---- agent_pipeline ----
 * The agent's speech pipeline: a streaming STT, the language model and
 * TTS, glued so that the first sentence of an answer is spoken while the
 * rest is still being written.  It keeps the conversation (history, the
 * call's memory, the knowledge base) and says a short apology when every
 * provider fails.
 *
 * Threads: providers report on their own threads; the pipeline never acts
 * there — it hands each raw event to `post` (any thread), and the agent
 * thread gives it back to sb_pipeline_handle(), where all state lives.
 * Everything else is called on the agent thread too. */

typedef enum {
	/* What the agent sees (emitted from sb_pipeline_handle). */
	SB_PIPE_HEARD_PARTIAL = 1, /* text */
	SB_PIPE_HEARD_FINAL,       /* text: a caller turn; an answer is coming, unless the
	                              agent declines it or text is "" (nothing heard);
	                              at_us 0: typed (a key press), no utterance */
	SB_PIPE_HEARD_SO_FAR,      /* text: the answer to sb_pipeline_pause() */
	SB_PIPE_SPEECH_AUDIO,      /* pcm/samples: 16 kHz, to play now */
	SB_PIPE_SAID,              /* text: the whole answer, once spoken */
	SB_PIPE_REPLY_DONE,        /* error: NULL, or why the providers failed */
	SB_PIPE_ACTION,            /* text: a tool (transfer_to_human, end_call); json: args */
	SB_PIPE_SPEECH_CHUNK,      /* text: the sentence whose audio comes next */
	SB_PIPE_TOOL_CALLED,       /* text: a business tool; json: {id, tool, arguments,
	                              status, latency_ms, error?, http_status?} */
	SB_PIPE_GATHER,         /* text: the call's id; json: the gather tool's arguments (checked):
	                           the agent runs it and answers with sb_pipeline_tool_result */
	SB_PIPE_LANGUAGE,       /* text: the language the conversation moved to ("ar"), just
	                           before the HEARD_FINAL that moved it */
	SB_PIPE_HEARD_ENDPOINT, /* text: heard so far, which the recogniser's endpointer
	                           says is over (sb_stt_events.endpoint) */
	/* Raw provider events (posted, then handled). */
	SB_PIPE_RAW_STT_PARTIAL = 100,
	SB_PIPE_RAW_STT_FINAL,
	SB_PIPE_RAW_STT_FAILED,
	SB_PIPE_RAW_STT_PAUSED,
	SB_PIPE_RAW_LLM_TEXT,
	SB_PIPE_RAW_LLM_TOOL,
	SB_PIPE_RAW_LLM_DONE,
	SB_PIPE_RAW_TTS_AUDIO,
	SB_PIPE_RAW_TTS_DONE,
	SB_PIPE_RAW_TOOL_DONE,    /* text: the call's id; json: its outcome */
	SB_PIPE_RAW_STT_LANGUAGE, /* text: the recogniser's language for the next final */
	SB_PIPE_RAW_STT_ENDPOINT, /* text: heard so far */
} sb_pipeline_event_type;

typedef struct sb_pipeline_event {
	sb_pipeline_event_type type;
	unsigned generation; /* raw events from before an interruption are dropped */
	int64_t at_us;       /* monotonic: when the provider reported it */
	bool declined;       /* HEARD_FINAL: the agent will not answer it (a backchannel) */
	char *text;
	char *error;
	int16_t *pcm;
	size_t samples;
	json_t *json;
} sb_pipeline_event;

void sb_pipeline_event_clear(sb_pipeline_event *ev);

/* Any thread; takes the event's fields. */
typedef void (*sb_pipeline_post)(void *user, sb_pipeline_event *raw);
/* Agent thread; the event is borrowed. */
typedef void (*sb_pipeline_emit)(void *user, sb_pipeline_event *ev);

typedef struct sb_pipeline sb_pipeline;

/* config: the agent's settings ([agent] in force, see providers/providers.h,
 * merged with the room's overrides):
 * stt/llm/tts lists of provider names, language, voice, greeting, persona,
 * knowledge_base.  NULL with *error when no provider of a kind can start. */
sb_pipeline *sb_pipeline_new(json_t *config, const char *room, sb_pipeline_post post,
                             sb_pipeline_emit emit, void *user, char **error);
/* Releases every provider object: no post after it returns. */
void sb_pipeline_free(sb_pipeline *p);

const char *sb_pipeline_greeting(sb_pipeline *p);
/* The knowledge base the pipeline answers from (borrowed); NULL: none. */
json_t *sb_pipeline_knowledge(sb_pipeline *p);
void sb_pipeline_handle(sb_pipeline *p, sb_pipeline_event *raw);
void sb_pipeline_audio(sb_pipeline *p, const int16_t *pcm, size_t samples);
void sb_pipeline_end_of_speech(sb_pipeline *p);
/* The caller went quiet: true when a HEARD_SO_FAR event will follow with
 * what the recogniser heard up to here (the embedded one can say). */
bool sb_pipeline_pause(sb_pipeline *p);
/* A caller's turn that did not come through STT (a DTMF key press):
 * heard as is, and answered. */
void sb_pipeline_text(sb_pipeline *p, const char *text);
/* Speaks text (not an answer to anyone: greeting, `say`). */
void sb_pipeline_say(sb_pipeline *p, const char *text);
/* The same, within the answer under way when there is one (a gather's
 * prompt while the model waits for its result). */
void sb_pipeline_speak(sb_pipeline *p, const char *text);
/* Stops speaking (what is queued and the TTS job) without ending the
 * answer's other work: the model and the tool calls go on. */
void sb_pipeline_hush(sb_pipeline *p);
/* Sentences queued or being synthesised. */
bool sb_pipeline_speaking(sb_pipeline *p);
/* The gather tool's call id has its outcome (borrowed): it is the
 * model's result, and the model is asked again once the round is whole.
 * False when no such call waits (cancelled meanwhile). */
bool sb_pipeline_tool_result(sb_pipeline *p, const char *id, json_t *outcome);
/* Cancels the answer in progress; returns its text so far (g_free), which
 * the history keeps, marked as interrupted. */
char *sb_pipeline_interrupt(sb_pipeline *p);
/* Which providers served the latest caller turn, for its record:
 * {"stt","llm","tts": name or null, "fallback": a chain fell back}.  New
 * reference. */
json_t *sb_pipeline_turn_providers(sb_pipeline *p);
/* The moments of the latest caller turn the providers marked (stt_final,
 * llm_first, tts_first); the others are left as they are. */
void sb_pipeline_turn_times(sb_pipeline *p, sb_turn_times *t);
/* The caller heard only `heard` of the last answer (Media Streams marks):
 * the history keeps that, marked as interrupted. */
void sb_pipeline_heard(sb_pipeline *p, const char *heard);
/* No answer being written or spoken. */
bool sb_pipeline_idle(sb_pipeline *p);
/* What the business's tools learn of the call ("call" of their request):
 * interface, caller, call_id …; the room is added.  Borrowed (copied). */
void sb_pipeline_set_call(sb_pipeline *p, json_t *call);
/* The call's context (room/room.h, borrowed, copied): the persona and the
 * greeting are rendered again with it, and tools get it as the call's
 * "variables". */
void sb_pipeline_set_variables(sb_pipeline *p, json_t *variables);
/* What a business tool learns of the call (borrowed). */
json_t *sb_pipeline_call(sb_pipeline *p);

/* ---- agent_own_tool.c ---- */

/* A business tool the agent calls of its own accord: the pre-call tool
 * before the greeting, a menu's tool with the digits keyed in. */
typedef struct sb_own_tool sb_own_tool;
/* On net's HTTP thread, once (must not block): record is the call's row
 * {tool, arguments, status, latency_ms, <purpose>: true, error?,
 * http_status?}; answer the tool's JSON object, or NULL when it failed.
 * Both borrowed. */
typedef void (*sb_own_tool_done)(void *user, json_t *record, json_t *answer);
/* Calls tool_name (a configured tool) with arguments and call as the
 * request's "call" (both borrowed); purpose ("pre_call", "menu") names it
 * in the record and the log.  NULL when no tool is named, or when it
 * cannot be called (logged and counted): then done never runs. */
sb_own_tool *sb_own_tool_start(const char *purpose, const char *tool_name, json_t *arguments,
                               json_t *call, sb_own_tool_done done, void *user);
int sb_own_tool_timeout_ms(const sb_own_tool *c);
/* Cancels it if still running (no done after it returns) and frees it. */
void sb_own_tool_release(sb_own_tool *c);
/* Pre-call tools that failed, timed out or were not there. */
unsigned long long sb_pre_call_failures(void);

/* ---- agent.c ---- */

/* Agents build their providers from the configuration in force. */
void sb_agents_init(void);
/* [agent] max_agents: AI agents in all rooms at once (docs/security.md,
 * "Limits"); set before the first room wants one. */
void sb_agents_set_max(int max);
int sb_agents_max(void);
/* No agent may start now: the limit is reached. */
bool sb_agents_at_limit(void);
/* Stops every agent and waits for their threads. */
void sb_agents_deinit(void);

typedef struct sb_agent_stats {
	uint64_t agents; /* running now */
	uint64_t turns;  /* answers started */
	uint64_t barge_ins;
	uint64_t ducks;             /* a caller's onset over the agent ducked it */
	uint64_t resumed;           /* …and it went on: no interruption after all */
	uint64_t backchannels;      /* finals that were backchannels said over it */
	uint64_t provider_errors;   /* turns where every provider failed */
	uint64_t frames_dropped;    /* audio the agent could not keep up with */
	uint64_t language_switches; /* conversations that moved to the caller's language */
} sb_agent_stats;
void sb_agents_get_stats(sb_agent_stats *out);

/* ---- reload (reload.c) ----
 * The provider configuration in force (providers/providers.h, section
 * current): its first
 * load at start-up, and the operations that change it without a restart —
 * reload_kb (the agent's knowledge base) and reload_providers (the
 * [providers] and [agent] sections of the config file).  Admin only;
 * through the Janus Admin API and POST /api/admin. */

/* Puts the settings' sections and knowledge base in force and registers
 * the reload operations; false when out of memory. */
bool sb_reload_init(const sb_settings *settings);

#endif
