/* Inside the Twilio module (private interface): signatures and TwiML
 * (pure, tested alone), the module's configuration and helpers, the REST
 * client, the dialog shared by ConversationRelay and WhatsApp, the voice
 * webhooks, Media Streams, ConversationRelay and WhatsApp. */
#ifndef SB_TWILIO_TWILIO_PRIVATE_H
#define SB_TWILIO_TWILIO_PRIVATE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"
#include "core/core.h"
#include "room/room.h"
#include "twilio/twilio.h"

/* ---- signature ----
 * X-Twilio-Signature: Twilio signs every webhook and WebSocket handshake
 * with HMAC-SHA1(auth_token, URL + sorted POST parameters), base64.  The
 * URL is the one Twilio called (our public base URL, not what the socket
 * saw).  JSON bodies are signed through the URL alone, which then carries
 * bodySHA256=<hex sha256 of the body>.  Pure functions, no I/O: unit
 * tested against vectors computed independently (Node's crypto). */
/* Form pairs of an x-www-form-urlencoded body, in order, repeats kept:
 * a GPtrArray of g_strdup'd strings name0, value0, name1, value1 …
 * NULL when the body is not valid form encoding (bad %-escape, NUL). */
GPtrArray *sb_twilio_form_pairs(const char *body, size_t len);

/* The signature of url + the pairs sorted by name then value (pairs may be
 * NULL).  g_free. */
char *sb_twilio_sign(const char *auth_token, const char *url, GPtrArray *pairs);

/* Whether signature is valid for url and the pairs, in constant time,
 * with the URL also tried with its default port added or removed (:443 /
 * :80), as Twilio's own SDKs do. */
bool sb_twilio_signature_ok(const char *auth_token, const char *url, GPtrArray *pairs,
                            const char *signature);

/* The whole check for a request: form bodies by their pairs; a URL with a
 * bodySHA256 parameter by the URL alone plus the body's hash.  False with
 * the reason in *error (g_free). */
bool sb_twilio_request_ok(const char *auth_token, const char *url, const char *body,
                          size_t body_len, bool is_form, const char *signature, char **error);

/* The value of a query parameter of url (decoded), or NULL.  g_free. */
char *sb_twilio_query_param(const char *url, const char *name);

/* "a&b" comparison in constant time for equal lengths. */
bool sb_twilio_equal(const char *a, const char *b);

/* ---- twiml ----
 * TwiML answers, built as text with every value XML-escaped (names of
 * rooms, parameters, greetings and message bodies come from callers). */

/* Escapes & < > " ' and drops characters XML 1.0 cannot carry.  g_free. */
char *sb_twiml_escape(const char *text);

/* <Response/> */
char *sb_twiml_empty(void);
/* <Response><Message>text</Message></Response> */
char *sb_twiml_message(const char *text);
/* <Response><Say>text</Say><Hangup/></Response> */
char *sb_twiml_say_hangup(const char *text);
/* <Response><Dial><Sip>uri</Sip></Dial></Response> */
char *sb_twiml_sip(const char *uri);
/* <Redirect method="POST">url</Redirect>: Twilio asks url for the call's
 * TwiML instead (a cluster: a node that takes no new call). */
char *sb_twiml_redirect(const char *url);
/* <Response><Connect><Stream url><Parameter …/>…</Stream></Connect></Response>;
 * params: object of strings (may be NULL). */
char *sb_twiml_stream(const char *url, json_t *params);
/* <Response><Connect action><ConversationRelay url welcomeGreeting
 * language><Parameter …/></ConversationRelay></Connect></Response> */
char *sb_twiml_relay(const char *url, const char *action, const char *greeting,
                     const char *language, json_t *params);

/* ---- twilio ----
 * The Twilio module: configuration ([twilio], [whatsapp], [phone]), the
 * signature check every webhook and WebSocket goes through, the table of
 * live calls, and start/stop (routes, WebSockets, ops, sessions). */

typedef struct sb_twilio_config {
	char *account_sid;
	char *auth_token;
	char *public_url;    /* https://host[:port], what Twilio calls; no trailing / */
	char *voice_mode;    /* sip | stream | relay */
	char *sip_uri;       /* for voice_mode sip */
	char *rest_base_url; /* https://api.twilio.com */
	char *relay_greeting;
	char *relay_language;
	bool validate_signatures;
	bool rooms_require_token; /* rooms made for calls: browsers need a token */
	int socket_url_ttl_s;     /* how long a stream/relay URL in our TwiML is good for */
	bool outbound;       /* [phone] outbound = "twilio": /phone/call, dial, hangup are ours */
	char *whatsapp_from; /* whatsapp:+E164 used by /whatsapp/send and replies */
	int whatsapp_idle_timeout_s;
	int whatsapp_reply_timeout_ms; /* longer: answered through Messages.json */
	const sb_settings *settings;
} sb_twilio_config;

const sb_twilio_config *sb_twilio_cfg(void);

/* The public URL Twilio called for this request: public_url + path +
 * ?raw_query; ws is true for WebSockets (wss://).  g_free. */
char *sb_twilio_request_url(const sb_rest_request *req, bool ws);

/* Checks X-Twilio-Signature (and replays, for form webhooks).  Returns 0,
 * or 403 with *out set. */
int sb_twilio_verify(const sb_rest_request *req, bool ws, json_t **out);
/* The same as a WebSocket route's authorize (sb_http_websocket): Media
 * Streams and ConversationRelay handshakes. */
int sb_twilio_ws_authorize(const sb_rest_request *req, char **message);

/* ---- the sockets our TwiML opens ----
 * Twilio signs a WebSocket handshake over its URL alone, so the URL must
 * differ per call for "each signature once" to mean anything: our TwiML
 * points at <path>/<expires>.<nonce>, and the handshake is refused once
 * expired or seen.  The room rides as <Parameter>s: room, room_grant (a
 * core grant over the room and the CallSid), checked when the socket says
 * which call it is. */

/* public_url + path (ws: wss://), with ?room=… when room is given.  g_free. */
char *sb_twilio_public_link(const char *path, const char *room, bool ws);
/* The wss:// URL of a new single-use socket at path.  g_free. */
char *sb_twilio_socket_url(const char *path);
/* The same on another node of a cluster, whose public URL is base (the
 * rest_url it advertises): its sockets check Twilio's signature over the
 * URL Twilio calls, so any node may write them. */
char *sb_twilio_link_on(const char *base, const char *path, const char *room, bool ws);
char *sb_twilio_socket_url_on(const char *base, const char *path);
/* Sets room and room_grant in params for the call. */
void sb_twilio_grant_room(json_t *params, const char *room, const char *call_sid);
/* The room a socket's call may enter: custom's room when its room_grant
 * matches the call, the call's own twilio-<CallSid> when custom names no
 * room, else NULL with *why (static). g_free. */
char *sb_twilio_granted_room(json_t *custom, const char *call_sid, const char **why);

/* Form field (last value), or NULL. */
const char *sb_twilio_form(const sb_rest_request *req, const char *name);

/* The call's context (room.h): params ({name: string}, borrowed: the voice
 * webhook's form, a stream's customParameters) as the room's variables,
 * names in snake case (CallSid -> call_sid), plus whatsapp_number for a
 * WhatsApp caller.  source names them in log lines. */
void sb_twilio_set_variables(sb_room *room, json_t *params, const char *source);

/* Twilio identifiers: 2 letters + 32 hex digits; permissive: 1-64 of
 * [A-Za-z0-9]. */
bool sb_twilio_sid_valid(const char *sid);

/* ---- live calls (voice.c keeps them) ---- */

/* {call_sid, room, from, to, direction, interface, status, created_room} */
void sb_twilio_call_remember(const char *call_sid, json_t *call);
/* A new reference, or NULL. */
json_t *sb_twilio_call_get(const char *call_sid);
void sb_twilio_call_forget(const char *call_sid);

/* Publishes call_status. */
void sb_twilio_publish_status(json_t *call, const char *status, json_int_t duration);

/* ---- rest_client ----
 * Twilio's REST API (2010-04-01): create calls, hang up, send messages.
 * Form bodies with HTTP Basic AccountSid:AuthToken, through the plugin's
 * one libcurl worker (net/net.h, sb_fetch).  429 and 5xx (and no
 * answer at all) are retried with backoff; 4xx never is.  The result comes
 * back on the HTTP server's thread. */

/* status: Twilio's HTTP status (0: no answer); body: its JSON (borrowed,
 * may be NULL); error: NULL on 2xx, else Twilio's message or the transport
 * error.  HTTP thread. */
typedef void (*sb_twilio_rest_done)(void *user, long status, json_t *body, const char *error);

/* POSTs the form pairs (name, value, name, value …; copied) to
 * {rest_base_url}/2010-04-01/Accounts/{AccountSid}{path}.  False with
 * *error (g_free) when nothing could be sent (no credentials). */
bool sb_twilio_rest_post(const char *path, GPtrArray *pairs, sb_twilio_rest_done done, void *user,
                         char **error);

/* Form encoding of the pairs (for tests and the body).  g_free. */
char *sb_twilio_form_encode(GPtrArray *pairs);

/* Cancels every retry timer and waits for nothing more (module stop). */
void sb_twilio_rest_shutdown(void);

typedef struct sb_twilio_rest_stats {
	guint64 requests, retries, failures;
} sb_twilio_rest_stats;
void sb_twilio_rest_get_stats(sb_twilio_rest_stats *out);

/* ---- dialog ----
 * A text conversation with the agent's language model chain (the [agent]
 * llm list, "local" by default, with the knowledge base): what
 * ConversationRelay prompts and WhatsApp messages are answered with.  It
 * keeps the history and the per-conversation memory across turns.
 *
 * Threads: everything is called on the HTTP server's thread, and the
 * events come back there (the chain's provider threads only queue). */

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
 * (providers/providers.h, section current).  channel: "voice" (short
 * spoken answers) or "chat" (WhatsApp). */
sb_dialog *sb_dialog_new(const char *channel, const sb_dialog_events *events, void *user);
/* Cancels any turn in progress; no event after it returns. */
void sb_dialog_free(sb_dialog *d);
/* Starts a turn (a turn in progress is cancelled first).  heard_language:
 * the language the caller's words were recognised in (ConversationRelay's
 * `lang`), NULL when unknown; the dialog follows the caller into it, or
 * into the language their script gives away (providers.h, "languages"). */
void sb_dialog_ask(sb_dialog *d, const char *text, const char *heard_language);
/* The language the dialog answers in now ("en", "ar"). */
const char *sb_dialog_language(sb_dialog *d);
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

/* ---- a menu on ConversationRelay (relay_menu.c) ----
 * [agent] menu (menus/menus.h) for relay calls: its prompt is the TwiML's
 * welcomeGreeting; keys and Twilio's transcripts go to it until it hands
 * the call on.  The relay's thread only. */
typedef struct sb_relay_menu sb_relay_menu;
typedef struct sb_relay_menu_events {
	/* Words for the caller, sent as the relay's text tokens. */
	void (*say)(void *user, const char *text);
	/* A queue: the session ends with a hand-off carrying details
	 * {reason: "menu", queue, menu: outcome} (borrowed). */
	void (*handoff)(void *user, json_t *details);
	void (*end_call)(void *user);
	/* The AI takes the call; greet: say the greeting (not after a tool). */
	void (*to_agent)(void *user, bool greet);
} sb_relay_menu_events;
/* The menu's prompt, for the TwiML (g_free), or NULL: no menu. */
char *sb_relay_menu_prompt_of(void);
/* NULL when no menu is configured.  call: what a tool learns of the call
 * (borrowed, copied). */
sb_relay_menu *sb_relay_menu_start(const char *room, json_t *call,
                                   const sb_relay_menu_events *events, void *user);
/* A key or a prompt: true when the menu took it (the model must not). */
bool sb_relay_menu_key(sb_relay_menu *m, char key);
bool sb_relay_menu_prompt(sb_relay_menu *m, const char *text);
/* No event after it returns. */
void sb_relay_menu_free(sb_relay_menu *m);

/* ---- voice ----
 * Twilio voice: the voice webhook (POST /twilio/voice → TwiML that brings
 * the call into its room in the configured mode), the status callback
 * (POST /twilio/status → call_status events; a finished call closes the
 * room it got), and, when [phone] outbound = "twilio", outbound calls
 * (POST /phone/call, POST /phone/end/{callSid}, ops dial/hangup) through
 * Calls.json. */

void sb_twilio_voice_register(void);
void sb_twilio_voice_stop(void);

/* Creates the room when missing; true when this call created it.  NULL
 * error on success, else a message (g_free). */
bool sb_twilio_ensure_room(const char *room, bool agent, bool *created, char **error);

/* Places a call through Calls.json that joins room when answered; replies
 * to reply (201 {callSid, room, status} or the Twilio error).  interface:
 * "phone" or "whatsapp". */
void sb_twilio_place_call(const char *to, const char *from, const char *room, const char *interface,
                          sb_rest_reply *reply);

/* ---- media_stream ----
 * Twilio Media Streams (WS /twilio/stream, bidirectional <Connect><Stream>):
 * the call becomes a participant of kind twilio in its room.  μ-law 8 kHz
 * in both directions in 20 ms frames; a mark after each stretch of agent
 * audio; `clear` when the agent is interrupted (barge-in) so Twilio drops
 * what it has queued; dtmf events published; a clean end on `stop` or when
 * the socket closes.  Bad input (binary frames, bad JSON or base64, media
 * before `start`) gets the socket closed with a clear code and reason. */

void sb_twilio_streams_start(void);
void sb_twilio_streams_stop(void);

typedef struct sb_twilio_stream_stats {
	uint64_t open; /* sockets now */
	uint64_t frames_in, frames_out, frames_dropped;
	uint64_t bad_messages; /* refused: binary, bad JSON, bad base64, out of order */
	uint64_t clears;       /* barge-ins sent to Twilio */
} sb_twilio_stream_stats;
void sb_twilio_streams_get_stats(sb_twilio_stream_stats *out);

/* ---- relay ----
 * ConversationRelay (WS /twilio/relay): Twilio does speech to text and
 * text to speech; we answer each final `prompt` with the agent's language
 * model, streamed as `text` tokens (`last` on the final one).  `interrupt`
 * stops the answer and keeps what the caller heard of it; `dtmf` digits are
 * treated as typed input; a transfer_to_human from the model ends the
 * session with `end` + handoffData (and a handoff_requested event); 10
 * invalid messages in a row close the socket with 1007. */

void sb_twilio_relay_start(void);
void sb_twilio_relay_stop(void);

/* ---- whatsapp_chat ----
 * WhatsApp chats held by a human (console agents): the ops chat_take
 * (queue_take with a conversation), chat_reply, chat_release,
 * chat_history and their REST routes /whatsapp/chat/…  Internal to the
 * Twilio module: whatsapp.c owns the conversations and shares them here. */

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

/* ---- whatsapp ----
 * WhatsApp through Twilio: the inbound message webhook (POST
 * /whatsapp/message) with one conversation per sender (WaId, else From)
 * that remembers across messages until an idle timeout; answers by the
 * agent's language model as TwiML <Message>, or through Messages.json when
 * the answer takes longer than the webhook should wait; media answered
 * politely; "talk to a human" hands the chat to the console queue
 * (handoff_requested).  POST /whatsapp/send (24-hour rule: outside it, a
 * template ContentSid only), POST /whatsapp/call (Calls.json), and the
 * conversations as sessions of type whatsapp. */

void sb_twilio_whatsapp_start(void);
void sb_twilio_whatsapp_stop(void);

#endif
