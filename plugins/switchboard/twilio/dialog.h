/* A text conversation with the agent's language model chain (the [agent]
 * llm list, "local" by default, with the knowledge base): what
 * ConversationRelay prompts and WhatsApp messages are answered with.  It
 * keeps the history and the per-conversation memory across turns.
 *
 * Threads: everything is called on the HTTP server's thread, and the
 * events come back there (the chain's provider threads only queue). */
#ifndef SB_TWILIO_DIALOG_H
#define SB_TWILIO_DIALOG_H

#include <stdbool.h>

#include <jansson.h>


typedef struct sb_dialog sb_dialog;

typedef struct sb_dialog_events {
	/* A piece of the answer (not cumulative). */
	void (*text)(void *user, const char *delta);
	/* The turn is over: reply is the whole answer, tool the tool the model
	 * asked for (transfer_to_human, end_call) or NULL; error when every
	 * provider failed (reply is then the apology). */
	void (*done)(void *user, const char *reply, const char *tool, json_t *tool_args,
	             const char *error);
} sb_dialog_events;

/* Uses the provider config and knowledge base in force when it starts
 * (providers/current.h).  channel: "voice" (short spoken answers) or "chat" (WhatsApp). */
sb_dialog *sb_dialog_new(const char *channel, const sb_dialog_events *events, void *user);
/* Cancels any turn in progress; no event after it returns. */
void sb_dialog_free(sb_dialog *d);
/* Starts a turn (a turn in progress is cancelled first). */
void sb_dialog_ask(sb_dialog *d, const char *text);
/* Cancels the turn in progress; heard (may be NULL) is what the caller
 * actually heard of it, kept in the history marked as interrupted. */
void sb_dialog_interrupt(sb_dialog *d, const char *heard);
bool sb_dialog_busy(sb_dialog *d);
/* The history [{"role","content"}], borrowed. */
json_t *sb_dialog_history(sb_dialog *d);
/* An extractive summary of the conversation for a human (g_free). */
char *sb_dialog_summary(sb_dialog *d);
/* The transfer module's summary object (sb_local_summary: caller, issue,
 * mood, tried, next_step …) of transcript ([{"role","content"}]; NULL: the
 * dialog's history), with the dialog's memory; a new reference. */
json_t *sb_dialog_summary_of(sb_dialog *d, json_t *transcript);

#endif
