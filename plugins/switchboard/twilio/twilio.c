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
#define REPLAY_MAX 100000

/* What was refused, for switchboard_twilio_refused_total{reason}. */
typedef enum {
	REFUSED_SIGNATURE,  /* missing, wrong, or a body it does not cover */
	REFUSED_REPLAYED,   /* a signature used before */
	REFUSED_SOCKET_URL, /* a socket URL not from our TwiML, or expired */
	REFUSED_FULL,       /* too many live signatures to check for replays */
	REFUSED_ROOM_GRANT, /* a socket naming a room not granted to its call */
	REFUSED_REASONS
} refused_reason;
static const char *const refused_names[REFUSED_REASONS] = {"signature", "replayed", "socket_url",
                                                           "full", "room_grant"};
static guint64 refused[REFUSED_REASONS];

static void count_refused(refused_reason reason)
{
	__atomic_add_fetch(&refused[reason], 1, __ATOMIC_RELAXED);
}

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

/* Twilio's names as variables': CallSid -> call_sid, customerName ->
 * customer_name, FromCity -> from_city; the room's rules do the rest. */
static char *variable_name(const char *name)
{
	GString *out = g_string_new(NULL);
	for (const char *c = name; *c; c++) {
		if (g_ascii_isupper(*c) && c != name &&
		    (g_ascii_islower(c[-1]) || g_ascii_isdigit(c[-1])))
			g_string_append_c(out, '_');
		g_string_append_c(out, g_ascii_tolower(*c));
	}
	return g_string_free(out, FALSE);
}

void sb_twilio_set_variables(sb_room *room, json_t *params, const char *source)
{
	json_t *variables = json_object();
	const char *name;
	json_t *value;
	json_object_foreach(params, name, value)
	{
		char *snake = variable_name(name);
		json_object_set(variables, snake, value);
		g_free(snake);
	}
	/* A WhatsApp caller's number on its own, as the chat knows it. */
	const char *from = json_string_value(json_object_get(params, "From"));
	if (!from)
		from = json_string_value(json_object_get(params, "from"));
	if (from && g_str_has_prefix(from, "whatsapp:"))
		json_object_set_new(variables, "whatsapp_number", json_string(from + 9));
	sb_room_merge_variables(room, variables, source);
	json_decref(variables);
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

/* Records a signature as used until expiry (monotonic us); false when it
 * was already used, or when the table is full of live entries: a
 * signature we could not record could be replayed, so it fails closed. */
static bool use_once(const char *signature, gint64 expiry, const char **why,
                     refused_reason *reason)
{
	gint64 now = g_get_monotonic_time();
	bool fresh = false;
	g_mutex_lock(&calls_mutex);
	if (g_hash_table_size(replays) >= REPLAY_MAX) {
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, replays);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (*(gint64 *)v < now)
				g_hash_table_iter_remove(&it);
	}
	gint64 *seen = g_hash_table_lookup(replays, signature);
	if (seen && *seen > now) {
		*why = "replayed request (signature already used)";
		*reason = REFUSED_REPLAYED;
	} else if (g_hash_table_size(replays) >= REPLAY_MAX) {
		*why = "too many recent requests to check for replays";
		*reason = REFUSED_FULL;
	} else {
		gint64 *e = g_new(gint64, 1);
		*e = expiry;
		g_hash_table_replace(replays, g_strdup(signature), e);
		fresh = true;
	}
	g_mutex_unlock(&calls_mutex);
	return fresh;
}

#define SOCKET_NONCE_BYTES 16

char *sb_twilio_public_link(const char *path, const char *room, bool ws)
{
	return sb_twilio_link_on(cfg.public_url, path, room, ws);
}

char *sb_twilio_link_on(const char *base, const char *path, const char *room, bool ws)
{
	size_t n = strlen(base);
	while (n && base[n - 1] == '/') /* a node's rest_url may end with one */
		n--;
	g_autofree char *trimmed = g_strndup(base, n);
	base = trimmed;
	const char *rest = base;
	const char *scheme = "";
	if (ws && g_str_has_prefix(base, "https://"))
		scheme = "wss://", rest = base + 8;
	else if (ws && g_str_has_prefix(base, "http://"))
		scheme = "ws://", rest = base + 7;
	char *q = room ? g_uri_escape_string(room, NULL, FALSE) : NULL;
	char *url =
	        g_strdup_printf("%s%s%s%s%s", scheme, rest, path, q ? "?room=" : "", q ? q : "");
	g_free(q);
	return url;
}

char *sb_twilio_socket_url(const char *path)
{
	return sb_twilio_socket_url_on(cfg.public_url, path);
}

char *sb_twilio_socket_url_on(const char *base, const char *path)
{
	guint8 nonce[SOCKET_NONCE_BYTES];
	for (size_t i = 0; i < sizeof(nonce); i += 4) {
		guint32 r = g_random_int();
		memcpy(nonce + i, &r, 4);
	}
	GString *p = g_string_new(path);
	g_string_append_printf(p, "/%" G_GINT64_FORMAT ".",
	                       g_get_real_time() / G_USEC_PER_SEC + cfg.socket_url_ttl_s);
	for (size_t i = 0; i < sizeof(nonce); i++)
		g_string_append_printf(p, "%02x", nonce[i]);
	char *url = sb_twilio_link_on(base, p->str, NULL, true);
	g_string_free(p, TRUE);
	return url;
}

/* The expiry (Unix s) in a socket path's last segment "<expires>.<hex>",
 * or -1 when it has none. */
static gint64 socket_path_expiry(const char *path)
{
	const char *seg = strrchr(path, '/');
	const char *dot = seg ? strchr(seg + 1, '.') : NULL;
	if (!dot || dot == seg + 1 || dot - seg - 1 > 19 ||
	    strlen(dot + 1) != 2 * SOCKET_NONCE_BYTES)
		return -1;
	for (const char *c = seg + 1; c < dot; c++)
		if (!g_ascii_isdigit(*c))
			return -1;
	for (const char *c = dot + 1; *c; c++)
		if (!g_ascii_isxdigit(*c))
			return -1;
	return g_ascii_strtoll(seg + 1, NULL, 10);
}

#define ROOM_GRANT_PURPOSE "switchboard-twilio-room"

static char *room_subject(const char *room, const char *call_sid)
{
	return g_strdup_printf("%s\n%s", room, call_sid);
}

void sb_twilio_grant_room(json_t *params, const char *room, const char *call_sid)
{
	char *subject = room_subject(room, call_sid);
	char *grant = sb_grant_sign(cfg.settings->jwt_secret, ROOM_GRANT_PURPOSE, subject,
	                            g_get_real_time() / G_USEC_PER_SEC + cfg.socket_url_ttl_s);
	json_object_set_new(params, "room", json_string(room));
	if (grant)
		json_object_set_new(params, "room_grant", json_string(grant));
	g_free(grant);
	g_free(subject);
}

char *sb_twilio_granted_room(json_t *custom, const char *call_sid, const char **why)
{
	const char *room = json_string_value(json_object_get(custom, "room"));
	if (!room)
		return g_strdup_printf("twilio-%s", call_sid);
	char *subject = room_subject(room, call_sid);
	sb_grant_status st =
	        sb_grant_verify(cfg.settings->jwt_secret, ROOM_GRANT_PURPOSE, subject,
	                        json_string_value(json_object_get(custom, "room_grant")),
	                        g_get_real_time() / G_USEC_PER_SEC);
	g_free(subject);
	if (st != SB_GRANT_OK)
		count_refused(REFUSED_ROOM_GRANT);
	switch (st) {
	case SB_GRANT_OK:
		return g_strdup(room);
	case SB_GRANT_MISSING:
		*why = "room without room_grant";
		break;
	case SB_GRANT_EXPIRED:
		*why = "room_grant has expired";
		break;
	default:
		*why = "room_grant is not for this room and call";
		break;
	}
	return NULL;
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
	gint64 now = g_get_monotonic_time();
	gint64 expiry = now + REPLAY_WINDOW_US;
	bool ok = true;
	refused_reason reason = REFUSED_SOCKET_URL;
	if (ws) {
		/* The handshake has no body: only a URL of its own makes its
		 * signature single-use (our TwiML's <path>/<expires>.<nonce>). */
		gint64 expires_s = socket_path_expiry(req->path);
		gint64 left_s = expires_s - g_get_real_time() / G_USEC_PER_SEC;
		if (expires_s < 0) {
			ok = false;
			why = g_strdup("not a socket URL from our TwiML "
			               "(<path>/<expires>.<nonce>)");
		} else if (left_s < 0) {
			ok = false;
			why = g_strdup("socket URL has expired");
		} else {
			expiry = now + (left_s + 1) * G_USEC_PER_SEC;
		}
	}
	if (ok) {
		ok = sb_twilio_request_ok(cfg.auth_token, url, req->raw_body, req->raw_body_len,
		                          is_form, sig, &why);
		reason = REFUSED_SIGNATURE;
	}
	const char *used = NULL;
	if (ok && !use_once(sig, expiry, &used, &reason)) {
		ok = false;
		why = g_strdup(used);
	}
	if (!ok) {
		count_refused(reason);
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
	sb_metrics_header(out, "switchboard_twilio_refused_total", "counter",
	                  "Twilio webhooks and sockets refused, by reason.");
	for (int i = 0; i < REFUSED_REASONS; i++)
		g_string_append_printf(out,
		                       "switchboard_twilio_refused_total{reason=\"%s\"} %" G_GUINT64_FORMAT
		                       "\n",
		                       refused_names[i], __atomic_load_n(&refused[i], __ATOMIC_RELAXED));
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
	cfg.rooms_require_token = sb_section_bool(tw, "rooms_require_token", true);
	cfg.socket_url_ttl_s = (int)sb_section_int(tw, "socket_url_ttl", 300, 10, 3600);
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
