/* ConversationRelay (WS /twilio/relay): Twilio does the speech, we answer
 * each prompt with the dialog's model, streamed as text tokens.  A session
 * is one dialog on the HTTP thread; interrupts keep what was heard, and a
 * hand-off to a human ends the session with its data. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>
#include <libsoup/soup.h>

#include "api/api.h"
#include "core/core.h"
#include "providers/providers.h"

#define MAX_MESSAGE 65536
#define MAX_BAD_IN_A_ROW 10
#define MAX_PROMPT 4000

typedef struct relay {
	SoupWebsocketConnection *conn;
	sb_dialog *dialog;
	bool setup_done, ended;
	int bad_in_a_row;
	char *call_sid, *from, *to, *room;
	json_t *custom;
	GString *partial_prompt; /* prompt pieces with last=false */
	char *prompt_lang;       /* the last prompt's `lang` ("ar-SA"), NULL: none */
	sb_relay_menu *menu;     /* [agent] menu, until it hands the call on */
} relay;

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void send_json(relay *r, json_t *msg)
{
	if (r->conn && soup_websocket_connection_get_state(r->conn) == SOUP_WEBSOCKET_STATE_OPEN) {
		char *text = json_dumps(msg, JSON_COMPACT);
		soup_websocket_connection_send_text(r->conn, text);
		free(text);
	}
	json_decref(msg);
}

/* Tokens carry `lang` once the dialog answers in another language than
 * the relay's own: Twilio then speaks them in it.  Twilio's own tag for
 * it ("ar-SA", from the caller's prompts) when there is one. */
static json_t *text_token(relay *r, const char *token, bool last)
{
	json_t *msg = json_pack("{sssssb}", "type", "text", "token", token, "last", last);
	const char *current = sb_dialog_language(r->dialog);
	const char *own = sb_language_code(sb_twilio_cfg()->relay_language);
	if (strcmp(current, own ? own : "en"))
		json_object_set_new(
		        msg, "lang",
		        json_string(!g_strcmp0(sb_language_code(r->prompt_lang), current)
		                            ? r->prompt_lang
		                            : current));
	return msg;
}

static void on_text(void *user, const char *delta)
{
	relay *r = user;
	if (*delta)
		send_json(r, text_token(r, delta, false));
}

static void on_done(void *user, const char *reply, const char *tool, json_t *args,
                    const char *error)
{
	relay *r = user;
	(void)reply;
	if (error)
		JANUS_LOG(LOG_WARN, "[switchboard] twilio relay %s: language model failed: %s\n",
		          r->call_sid ? r->call_sid : "?", error);
	send_json(r, text_token(r, "", true));
	if (!tool)
		return;
	if (!strcmp(tool, "transfer_to_human")) {
		char *summary = sb_dialog_summary(r->dialog);
		const char *reason = str(args, "reason");
		json_t *handoff = json_pack(
		        "{ssssss?ss?ss?ss?}", "reasonCode", "live-agent-handoff", "reason",
		        reason ? reason : "The caller asked for a person", "callSid", r->call_sid,
		        "room", r->room, "from", r->from, "summary", summary);
		char *data = json_dumps(handoff, JSON_COMPACT);
		sb_events_publish("handoff_requested",
		                  json_pack("{s:s?, s:s?, s:s, s:s?, s:s}", "room", r->room,
		                            "call_sid", r->call_sid, "interface", "phone", "from",
		                            r->from, "summary", summary));
		send_json(r, json_pack("{ssss}", "type", "end", "handoffData", data));
		free(data);
		json_decref(handoff);
		g_free(summary);
		r->ended = true;
	} else if (!strcmp(tool, "end_call")) {
		send_json(r, json_pack("{ssss}", "type", "end", "handoffData",
		                       "{\"reasonCode\":\"end-call\"}"));
		r->ended = true;
	}
}

static const sb_dialog_events dialog_events = {.text = on_text, .done = on_done};

/* ---- the menu's actions (relay_menu.c) ---- */

static void menu_say(void *user, const char *text)
{
	relay *r = user;
	send_json(r, json_pack("{sssssb}", "type", "text", "token", text, "last", 1));
}

static void menu_handoff(void *user, json_t *details)
{
	relay *r = user;
	json_t *handoff = json_pack("{ssssss?ss?ss?sO}", "reasonCode", "live-agent-handoff",
	                            "reason", "menu", "callSid", r->call_sid, "room", r->room,
	                            "from", r->from, "menu", details);
	char *data = json_dumps(handoff, JSON_COMPACT);
	sb_events_publish("handoff_requested",
	                  json_pack("{s:s?, s:s?, s:s, s:s?, s:O}", "room", r->room, "call_sid",
	                            r->call_sid, "interface", "phone", "from", r->from, "details",
	                            details));
	send_json(r, json_pack("{ssss}", "type", "end", "handoffData", data));
	free(data);
	json_decref(handoff);
	r->ended = true;
}

static void menu_end_call(void *user)
{
	relay *r = user;
	send_json(r, json_pack("{ssss}", "type", "end", "handoffData",
	                       "{\"reasonCode\":\"end-call\"}"));
	r->ended = true;
}

static void menu_to_agent(void *user, bool greet)
{
	relay *r = user;
	const char *greeting = sb_twilio_cfg()->relay_greeting;
	if (greet && greeting && *greeting)
		menu_say(r, greeting);
}

static const sb_relay_menu_events menu_events = {.say = menu_say,
                                                 .handoff = menu_handoff,
                                                 .end_call = menu_end_call,
                                                 .to_agent = menu_to_agent};

/* Returns NULL when the message was valid. */
static const char *handle(relay *r, json_t *msg)
{
	const char *type = str(msg, "type");
	if (!type)
		return "not a ConversationRelay message";
	if (!strcmp(type, "setup")) {
		if (r->setup_done)
			return "second setup";
		const char *sid = str(msg, "callSid");
		if (!sb_twilio_sid_valid(sid))
			return "setup without callSid";
		r->setup_done = true;
		r->call_sid = g_strdup(sid);
		r->from = g_strdup(str(msg, "from"));
		r->to = g_strdup(str(msg, "to"));
		json_t *custom = json_object_get(msg, "customParameters");
		r->custom = json_is_object(custom) ? json_deep_copy(custom) : json_object();
		json_t *call = sb_twilio_call_get(sid);
		/* As for Media Streams: a named room needs our grant for this call. */
		const char *why = NULL;
		r->room = !str(r->custom, "room") && str(call, "room")
		                  ? g_strdup(str(call, "room"))
		                  : sb_twilio_granted_room(r->custom, sid, &why);
		json_decref(call);
		if (!r->room) {
			/* Nothing of this call may go on without its room. */
			if (r->conn && soup_websocket_connection_get_state(r->conn) ==
			                       SOUP_WEBSOCKET_STATE_OPEN)
				soup_websocket_connection_close(
				        r->conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, why);
			return why;
		}
		json_object_del(r->custom, "room_grant");
		JANUS_LOG(LOG_INFO, "[switchboard] twilio relay: call %s from %s\n", sid,
		          r->from ? r->from : "?");
		/* What a menu's tool learns of the call, as an agent's would. */
		json_t *info = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "room", r->room,
		                         "interface", "phone", "call_id", sid, "caller", r->from,
		                         "from", r->from, "to", r->to);
		r->menu = sb_relay_menu_start(r->room, info, &menu_events, r);
		json_decref(info);
		return NULL;
	}
	if (!r->setup_done)
		return "setup must come first";
	if (!strcmp(type, "prompt")) {
		const char *text = str(msg, "voicePrompt");
		json_t *last = json_object_get(msg, "last");
		if (!text || (last && !json_is_boolean(last)))
			return "prompt without voicePrompt";
		if (r->partial_prompt->len + strlen(text) > MAX_PROMPT)
			return "prompt too long";
		g_string_append(r->partial_prompt, text);
		if (last && json_is_false(last))
			return NULL;
		char *prompt = g_strstrip(g_string_free(r->partial_prompt, FALSE));
		r->partial_prompt = g_string_new(NULL);
		const char *lang = str(msg, "lang");
		if (lang && *lang && strlen(lang) < 36) {
			g_free(r->prompt_lang);
			r->prompt_lang = g_strdup(lang);
		}
		if (*prompt && !r->ended && !sb_relay_menu_prompt(r->menu, prompt))
			sb_dialog_ask(r->dialog, prompt, lang);
		g_free(prompt);
		return NULL;
	}
	if (!strcmp(type, "interrupt")) {
		/* Twilio stopped speaking our answer: what was heard is history. */
		sb_dialog_interrupt(r->dialog, str(msg, "utteranceUntilInterrupt"));
		return NULL;
	}
	if (!strcmp(type, "dtmf")) {
		const char *digit = str(msg, "digit");
		if (!digit || strlen(digit) != 1 || !strchr("0123456789*#ABCDw", digit[0]))
			return "dtmf without digit";
		sb_events_publish("dtmf",
		                  json_pack("{s:s?, s:s?, s:s, s:s}", "room", r->room, "call_sid",
		                            r->call_sid, "digit", digit, "interface", "phone"));
		/* A key press is a turn of its own, as for audio calls
		 * (sb_agent_dtmf): the model hears it and answers in tokens. */
		if (!r->ended && digit[0] != 'w' && !sb_relay_menu_key(r->menu, digit[0])) {
			char turn[64];
			g_snprintf(turn, sizeof(turn), "The caller pressed %s on the keypad.",
			           digit);
			sb_dialog_ask(r->dialog, turn, NULL);
		}
		return NULL;
	}
	if (!strcmp(type, "error")) {
		JANUS_LOG(LOG_WARN, "[switchboard] twilio relay %s: Twilio reports: %s\n",
		          r->call_sid, str(msg, "description") ? str(msg, "description") : "?");
		return NULL;
	}
	return "unknown message type";
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
	relay *r = data;
	const char *problem = NULL;
	json_t *msg = NULL;
	if (type != SOUP_WEBSOCKET_DATA_TEXT) {
		problem = "binary frame";
	} else {
		gsize len;
		const char *text = g_bytes_get_data(message, &len);
		msg = json_loadb(text, len, 0, NULL);
		problem = json_is_object(msg) ? handle(r, msg) : "malformed JSON";
	}
	json_decref(msg);
	if (!problem) {
		r->bad_in_a_row = 0;
		return;
	}
	JANUS_LOG(LOG_WARN, "[switchboard] twilio relay: invalid message (%s)\n", problem);
	if (++r->bad_in_a_row >= MAX_BAD_IN_A_ROW &&
	    soup_websocket_connection_get_state(conn) == SOUP_WEBSOCKET_STATE_OPEN)
		soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_BAD_DATA,
		                                "too many invalid messages");
}

static void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
	relay *r = data;
	g_signal_handlers_disconnect_by_data(conn, r);
	sb_dialog_free(r->dialog); /* no event after this */
	sb_relay_menu_free(r->menu);
	r->conn = NULL;
	g_object_unref(conn);
	g_free(r->call_sid);
	g_free(r->prompt_lang);
	g_free(r->from);
	g_free(r->to);
	g_free(r->room);
	json_decref(r->custom);
	g_string_free(r->partial_prompt, TRUE);
	g_free(r);
}

static void connected(SoupWebsocketConnection *conn, const char *path, GUri *uri)
{
	(void)path, (void)uri;
	relay *r = g_new0(relay, 1);
	r->conn = g_object_ref(conn);
	r->partial_prompt = g_string_new(NULL);
	r->dialog = sb_dialog_new("voice", &dialog_events, r);
	soup_websocket_connection_set_max_incoming_payload_size(conn, MAX_MESSAGE);
	g_signal_connect(conn, "message", G_CALLBACK(on_message), r);
	g_signal_connect(conn, "closed", G_CALLBACK(on_closed), r);
}

void sb_twilio_relay_start(void)
{
	sb_http_register_websocket(
	        &(sb_http_websocket){"/twilio/relay", sb_twilio_ws_authorize, connected});
}

void sb_twilio_relay_stop(void) {}
