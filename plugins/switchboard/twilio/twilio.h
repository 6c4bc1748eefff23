/* The Twilio module: configuration ([twilio], [whatsapp], [phone]), the
 * signature check every webhook and WebSocket goes through, the table of
 * live calls, and start/stop (routes, WebSockets, ops, sessions). */
#ifndef SB_TWILIO_H
#define SB_TWILIO_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "api/rest.h"
#include "core/settings.h"

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
	bool outbound;       /* [phone] outbound = "twilio": /phone/call, dial, hangup are ours */
	char *whatsapp_from; /* whatsapp:+E164 used by /whatsapp/send and replies */
	int whatsapp_idle_timeout_s;
	int whatsapp_reply_timeout_ms; /* longer: answered through Messages.json */
	const sb_settings *settings;
} sb_twilio_config;

const sb_twilio_config *sb_twilio_cfg(void);

/* The module table entry (plugin.c). */
bool sb_twilio_start(const sb_settings *settings);
void sb_twilio_stop(void);

/* The public URL Twilio called for this request: public_url + path +
 * ?raw_query; ws is true for WebSockets (wss://).  g_free. */
char *sb_twilio_request_url(const sb_rest_request *req, bool ws);

/* Checks X-Twilio-Signature (and replays, for form webhooks).  Returns 0,
 * or 403 with *out set. */
int sb_twilio_verify(const sb_rest_request *req, bool ws, json_t **out);

/* Form field (last value), or NULL. */
const char *sb_twilio_form(const sb_rest_request *req, const char *name);

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

/* Runs fn(data) on the HTTP server's thread, from any thread (mixer,
 * provider, curl worker, event publishers).  Holds its own reference to the
 * server's context so that a post racing with shutdown never touches a
 * freed context; false (and notify(data) called) once the module stopped. */
bool sb_twilio_invoke(GSourceFunc fn, gpointer data, GDestroyNotify notify, gint priority);

/* Runs an op of the ops table as a trusted caller; new reference. */
json_t *sb_twilio_op(json_t *request /* stolen */);

#endif
