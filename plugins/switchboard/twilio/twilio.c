/* The Twilio module: its configuration ([twilio], [whatsapp], [phone]),
 * the signature check every webhook and WebSocket handshake passes (with a
 * replay window for webhooks), the table of live calls, and start/stop of
 * voice, Media Streams, ConversationRelay and WhatsApp. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "api/api.h"

static sb_twilio_config cfg;
static GMutex calls_mutex;
static GHashTable *calls;   /* call_sid -> json_t* */
static GHashTable *replays; /* signature -> expiry (monotonic us) */
#define REPLAY_WINDOW_US (15 * 60 * G_TIME_SPAN_SECOND)
#define REPLAY_MAX 20000

const sb_twilio_config *sb_twilio_cfg(void)
{
	return &cfg;
}

bool sb_twilio_sid_valid(const char *sid)
{
	if (!sid || !*sid || strlen(sid) > 64)
		return false;
	for (const char *p = sid; *p; p++)
		if (!g_ascii_isalnum(*p))
			return false;
	return true;
}

const char *sb_twilio_form(const sb_rest_request *req, const char *name)
{
	if (req->form)
		return g_hash_table_lookup(req->form, name);
	return req->body ? json_string_value(json_object_get(req->body, name)) : NULL;
}

char *sb_twilio_request_url(const sb_rest_request *req, bool ws)
{
	const char *base = cfg.public_url;
	char *scheme_fixed = NULL;
	if (ws) {
		if (g_str_has_prefix(base, "https://"))
			base = scheme_fixed = g_strconcat("wss://", base + 8, NULL);
		else if (g_str_has_prefix(base, "http://"))
			base = scheme_fixed = g_strconcat("ws://", base + 7, NULL);
	}
	char *url = g_strdup_printf("%s%s%s%s", base, req->path, req->raw_query ? "?" : "",
	                            req->raw_query ? req->raw_query : "");
	g_free(scheme_fixed);
	return url;
}

/* True when the signature was seen in the replay window (and records it). */
static bool replayed(const char *signature)
{
	gint64 now = g_get_monotonic_time();
	g_mutex_lock(&calls_mutex);
	if (g_hash_table_size(replays) >= REPLAY_MAX) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, replays);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (*(gint64 *)v < now)
				g_hash_table_iter_remove(&it);
	}
	gint64 *expiry = g_hash_table_lookup(replays, signature);
	bool seen = expiry && *expiry > now;
	if (!seen && g_hash_table_size(replays) < REPLAY_MAX) {
		gint64 *e = g_new(gint64, 1);
		*e = now + REPLAY_WINDOW_US;
		g_hash_table_replace(replays, g_strdup(signature), e);
	}
	g_mutex_unlock(&calls_mutex);
	return seen;
}

/* 0, or 403 with *message (g_free) saying why. */
static int check_signature(const sb_rest_request *req, bool ws, char **message)
{
	if (!cfg.validate_signatures) {
		JANUS_LOG(LOG_WARN,
		          "[switchboard] twilio: SIGNATURE CHECK OFF (validate_signatures = "
		          "false): accepting %s unchecked — never do this in production\n",
		          req->path);
		return 0;
	}
	const char *sig = sb_rest_header(req, "X-Twilio-Signature");
	char *url = sb_twilio_request_url(req, ws);
	char *why = NULL;
	bool is_form = req->content_type &&
	               !g_ascii_strcasecmp(req->content_type, "application/x-www-form-urlencoded");
	bool ok = sb_twilio_request_ok(cfg.auth_token, url, req->raw_body, req->raw_body_len,
	                               is_form, sig, &why);
	/* A WebSocket handshake has no body: its signature is the same for
	 * every connection to the URL, so only webhooks can be replays. */
	if (ok && !ws && replayed(sig)) {
		ok = false;
		why = g_strdup("replayed request (signature already used)");
	}
	if (!ok) {
		JANUS_LOG(LOG_WARN, "[switchboard] twilio: refused %s from %s: %s (url %s)\n",
		          req->path, req->remote_ip ? req->remote_ip : "?", why, url);
		*message = g_strdup_printf("Twilio signature check failed: %s", why);
	}
	g_free(why);
	g_free(url);
	return ok ? 0 : 403;
}

int sb_twilio_verify(const sb_rest_request *req, bool ws, json_t **out)
{
	char *message = NULL;
	int status = check_signature(req, ws, &message);
	if (status)
		*out = sb_http_error("forbidden", "%s", message);
	g_free(message);
	return status;
}

int sb_twilio_ws_authorize(const sb_rest_request *req, char **message)
{
	return check_signature(req, true, message);
}

#define CALLS_MAX 20000

void sb_twilio_call_remember(const char *call_sid, json_t *call)
{
	g_mutex_lock(&calls_mutex);
	/* Calls whose final status never came must not pile up for ever. */
	if (calls && g_hash_table_size(calls) >= CALLS_MAX &&
	    !g_hash_table_contains(calls, call_sid)) {
		JANUS_LOG(
		        LOG_WARN,
		        "[switchboard] twilio: %d calls without a final status: forgetting them\n",
		        CALLS_MAX);
		g_hash_table_remove_all(calls);
	}
	if (calls)
		g_hash_table_replace(calls, g_strdup(call_sid), json_incref(call));
	g_mutex_unlock(&calls_mutex);
}

json_t *sb_twilio_call_get(const char *call_sid)
{
	g_mutex_lock(&calls_mutex);
	json_t *c = calls && call_sid ? g_hash_table_lookup(calls, call_sid) : NULL;
	json_t *copy = c ? json_deep_copy(c) : NULL;
	g_mutex_unlock(&calls_mutex);
	return copy;
}

void sb_twilio_call_forget(const char *call_sid)
{
	g_mutex_lock(&calls_mutex);
	if (calls)
		g_hash_table_remove(calls, call_sid);
	g_mutex_unlock(&calls_mutex);
}

void sb_twilio_publish_status(json_t *call, const char *status, json_int_t duration)
{
	json_t *n = json_object();
	static const char *keys[] = {"call_sid", "room", "direction", "from", "to", "interface"};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		json_t *v = json_object_get(call, keys[i]);
		json_object_set(n, keys[i], v ? v : json_null());
	}
	json_object_set_new(n, "status", json_string(status));
	if (duration >= 0)
		json_object_set_new(n, "duration", json_integer(duration));
	sb_events_publish("call_status", n);
}

static char *dup_setting(json_t *section, const char *name, const char *def)
{
	const char *v = sb_section_string(section, name, def);
	return g_strdup(v ? v : "");
}

/* ---- metrics ---- */

static void twilio_metrics(GString *out)
{
	sb_twilio_stream_stats ts;
	sb_twilio_streams_get_stats(&ts);
	sb_metrics_value(out, "switchboard_twilio_streams", "gauge", "Twilio Media Streams sockets open.", (long long)ts.open);
	sb_metrics_header(out, "switchboard_twilio_stream_frames_total", "counter", "Media Streams audio frames by direction and fate.");
	g_string_append_printf(out, "switchboard_twilio_stream_frames_total{type=\"in\"} %llu\n"
	                            "switchboard_twilio_stream_frames_total{type=\"out\"} %llu\n"
	                            "switchboard_twilio_stream_frames_total{type=\"dropped\"} %llu\n",
	                       (unsigned long long)ts.frames_in, (unsigned long long)ts.frames_out,
	                       (unsigned long long)ts.frames_dropped);
	sb_metrics_value(out, "switchboard_twilio_stream_bad_messages_total", "counter",
	       "Media Streams messages refused (binary, bad JSON or base64, out of order).", (long long)ts.bad_messages);
	sb_metrics_value(out, "switchboard_twilio_stream_clears_total", "counter", "Barge-ins sent to Twilio as clear.",
	       (long long)ts.clears);
	sb_twilio_rest_stats rs;
	sb_twilio_rest_get_stats(&rs);
	sb_metrics_value(out, "switchboard_twilio_rest_requests_total", "counter", "Twilio REST requests sent (retries included).",
	       (long long)rs.requests);
	sb_metrics_value(out, "switchboard_twilio_rest_retries_total", "counter", "Twilio REST retries after 429/5xx or no answer.",
	       (long long)rs.retries);
	sb_metrics_value(out, "switchboard_twilio_rest_failures_total", "counter", "Twilio REST calls that failed for good.",
	       (long long)rs.failures);
}

bool sb_twilio_start(const sb_settings *s)
{
	json_t *tw = sb_settings_section(s, "twilio");
	json_t *wa = sb_settings_section(s, "whatsapp");
	json_t *phone = sb_settings_section(s, "phone");
	cfg.settings = s;
	cfg.account_sid = dup_setting(tw, "account_sid", g_getenv("TWILIO_ACCOUNT_SID"));
	cfg.auth_token = dup_setting(tw, "auth_token", g_getenv("TWILIO_AUTH_TOKEN"));
	cfg.public_url = dup_setting(tw, "public_url", "");
	size_t n = strlen(cfg.public_url);
	while (n > 0 && cfg.public_url[n - 1] == '/')
		cfg.public_url[--n] = '\0';
	cfg.voice_mode = dup_setting(tw, "voice_mode", "stream");
	cfg.sip_uri = dup_setting(tw, "sip_uri", "");
	cfg.rest_base_url = dup_setting(tw, "rest_base_url", "https://api.twilio.com");
	cfg.relay_greeting = dup_setting(tw, "relay_greeting", "");
	cfg.relay_language = dup_setting(tw, "relay_language", "en-US");
	cfg.validate_signatures = sb_section_bool(tw, "validate_signatures", true);
	cfg.outbound = !strcmp(sb_section_string(phone, "outbound", "sip"), "twilio");
	cfg.whatsapp_from = dup_setting(wa, "from", "");
	cfg.whatsapp_idle_timeout_s = (int)sb_section_int(wa, "idle_timeout", 1800, 10, 7 * 86400);
	cfg.whatsapp_reply_timeout_ms =
	        (int)sb_section_int(wa, "reply_timeout_ms", 8000, 100, 14000);
	if (strcmp(cfg.voice_mode, "sip") && strcmp(cfg.voice_mode, "stream") &&
	    strcmp(cfg.voice_mode, "relay")) {
		JANUS_LOG(LOG_WARN, "[switchboard] twilio: voice_mode %s unknown, using stream\n",
		          cfg.voice_mode);
		g_free(cfg.voice_mode);
		cfg.voice_mode = g_strdup("stream");
	}
	sb_metrics_register("twilio", twilio_metrics);
	if (!cfg.validate_signatures)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] twilio: validate_signatures = false — Twilio webhooks "
		          "are NOT authenticated (local testing only)\n");
	else if (!*cfg.auth_token)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] twilio: no auth_token: every webhook will be refused\n");
	if (!*cfg.public_url)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] twilio: no public_url: signatures cannot match\n");
	calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
	replays = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sb_twilio_voice_register();
	sb_twilio_streams_start();
	sb_twilio_relay_start();
	sb_twilio_whatsapp_start();
	JANUS_LOG(LOG_INFO, "[switchboard] twilio: voice_mode %s, outbound calls %s, REST %s\n",
	          cfg.voice_mode, cfg.outbound ? "through Twilio" : "not ours", cfg.rest_base_url);
	return true;
}

void sb_twilio_stop(void)
{
	/* The HTTP server stopped first: nothing posted to it runs any more. */
	sb_twilio_whatsapp_stop();
	sb_twilio_relay_stop();
	sb_twilio_streams_stop();
	sb_twilio_voice_stop();
	g_mutex_lock(&calls_mutex);
	g_clear_pointer(&calls, g_hash_table_destroy);
	g_clear_pointer(&replays, g_hash_table_destroy);
	g_mutex_unlock(&calls_mutex);
	g_free(cfg.account_sid);
	g_free(cfg.auth_token);
	g_free(cfg.public_url);
	g_free(cfg.voice_mode);
	g_free(cfg.sip_uri);
	g_free(cfg.rest_base_url);
	g_free(cfg.relay_greeting);
	g_free(cfg.relay_language);
	g_free(cfg.whatsapp_from);
	memset(&cfg, 0, sizeof(cfg));
}
