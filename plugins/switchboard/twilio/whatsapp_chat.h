/* WhatsApp chats held by a human (console agents): the ops chat_take
 * (queue_take with a conversation), chat_reply, chat_release,
 * chat_history and their REST routes /whatsapp/chat/…  Internal to the
 * Twilio module: whatsapp.c owns the conversations and shares them here. */
#ifndef SB_TWILIO_WHATSAPP_CHAT_H
#define SB_TWILIO_WHATSAPP_CHAT_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "twilio/dialog.h"
#include "api/rest.h"

#define SB_WA_MAX_BODY 1600                     /* Twilio's limit for a message body */
#define SB_WA_WINDOW_US (24 * G_TIME_SPAN_HOUR) /* free-form replies after a user's message */
#define SB_WA_LOG_MAX 200 /* messages a conversation keeps for a human agent */

typedef struct sb_wa_conversation sb_wa_conversation;
struct sb_wa_conversation {
	char *key;  /* WaId or From */
	char *from; /* whatsapp:+…, the user */
	char *to;   /* whatsapp:+…, our number */
	char *profile_name;
	sb_dialog *dialog;
	sb_rest_reply *pending; /* the webhook waiting for the answer, or NULL */
	GSource *deadline;      /* when the webhook stops waiting */
	/* Under sb_wa_lock (console ops run on other threads): */
	bool handed_off; /* a human has the chat (queued or held): the AI is quiet */
	char *agent;     /* the console agent holding it; NULL while queued */
	json_t *log;     /* [{"direction","by","agentId"?,"body","at"}], last SB_WA_LOG_MAX */
	unsigned messages;
	gint64 last_activity_us;
};

/* The conversations' lock: the human state (handed_off, agent, log) is
 * read and changed under it, since console ops run on other threads. */
void sb_wa_lock(void);
void sb_wa_unlock(void);
/* Locked: the conversation of key, or NULL. */
sb_wa_conversation *sb_wa_find(const char *key);
/* Locked: the user wrote within the last 24 hours. */
bool sb_wa_in_window(const char *from);
/* Locked: keeps a message for the human agent's view. */
void sb_wa_log(sb_wa_conversation *c, const char *direction, const char *by, const char *agent,
               const char *body);
/* HTTP thread: sends through Messages.json; by: "ai", "api" or "agent"
 * (agent: the human who wrote it). */
bool sb_wa_send(const char *conv, const char *from, const char *to, const char *body,
                const char *content_sid, const char *content_vars, sb_rest_reply *reply,
                const char *by, const char *agent, char **error);

/* Registers the ops and routes (whatsapp.c's start). */
void sb_wa_chat_start(void);

#endif
