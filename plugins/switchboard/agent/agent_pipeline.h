/* The agent's speech pipeline: a streaming STT, the language model and
 * TTS, glued so that the first sentence of an answer is spoken while the
 * rest is still being written.  It keeps the conversation (history, the
 * call's memory, the knowledge base) and says a short apology when every
 * provider fails.
 *
 * Threads: providers report on their own threads; the pipeline never acts
 * there — it hands each raw event to `post` (any thread), and the agent
 * thread gives it back to sb_pipeline_handle(), where all state lives.
 * Everything else is called on the agent thread too. */
#ifndef SB_AGENT_PIPELINE_H
#define SB_AGENT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/settings.h"

typedef enum {
	/* What the agent sees (emitted from sb_pipeline_handle). */
	SB_PIPE_HEARD_PARTIAL = 1, /* text */
	SB_PIPE_HEARD_FINAL,       /* text: a caller turn; an answer is coming */
	SB_PIPE_SPEECH_AUDIO,      /* pcm/samples: 16 kHz, to play now */
	SB_PIPE_SAID,              /* text: the whole answer, once spoken */
	SB_PIPE_REPLY_DONE,        /* error: NULL, or why the providers failed */
	SB_PIPE_ACTION,            /* text: a tool (transfer_to_human, end_call); json: args */
	SB_PIPE_SPEECH_CHUNK,      /* text: the sentence whose audio comes next */
	/* Raw provider events (posted, then handled). */
	SB_PIPE_RAW_STT_PARTIAL = 100,
	SB_PIPE_RAW_STT_FINAL,
	SB_PIPE_RAW_STT_FAILED,
	SB_PIPE_RAW_LLM_TEXT,
	SB_PIPE_RAW_LLM_TOOL,
	SB_PIPE_RAW_LLM_DONE,
	SB_PIPE_RAW_TTS_AUDIO,
	SB_PIPE_RAW_TTS_DONE,
} sb_pipeline_event_type;

typedef struct sb_pipeline_event {
	sb_pipeline_event_type type;
	unsigned generation; /* raw events from before an interruption are dropped */
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

/* config: the agent's settings ([agent] in force, see providers/current.h,
 * merged with the room's overrides):
 * stt/llm/tts lists of provider names, language, voice, greeting, persona,
 * knowledge_base.  NULL with *error when no provider of a kind can start. */
sb_pipeline *sb_pipeline_new(json_t *config, const char *room, sb_pipeline_post post,
                             sb_pipeline_emit emit, void *user, char **error);
/* Releases every provider object: no post after it returns. */
void sb_pipeline_free(sb_pipeline *p);

const char *sb_pipeline_greeting(sb_pipeline *p);
void sb_pipeline_handle(sb_pipeline *p, sb_pipeline_event *raw);
void sb_pipeline_audio(sb_pipeline *p, const int16_t *pcm, size_t samples);
void sb_pipeline_end_of_speech(sb_pipeline *p);
/* A caller's turn that did not come through STT (a DTMF key press):
 * heard as is, and answered. */
void sb_pipeline_text(sb_pipeline *p, const char *text);
/* Speaks text (not an answer to anyone: greeting, `say`). */
void sb_pipeline_say(sb_pipeline *p, const char *text);
/* Cancels the answer in progress; returns its text so far (g_free), which
 * the history keeps, marked as interrupted. */
char *sb_pipeline_interrupt(sb_pipeline *p);
/* Which providers served the latest caller turn, for its record:
 * {"stt","llm","tts": name or null, "fallback": a chain fell back}.  New
 * reference. */
json_t *sb_pipeline_turn_providers(sb_pipeline *p);
/* The caller heard only `heard` of the last answer (Media Streams marks):
 * the history keeps that, marked as interrupted. */
void sb_pipeline_heard(sb_pipeline *p, const char *heard);
/* No answer being written or spoken. */
bool sb_pipeline_idle(sb_pipeline *p);

#endif
