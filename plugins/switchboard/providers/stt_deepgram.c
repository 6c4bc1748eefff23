/* STT: Deepgram live streaming over a WebSocket, type "deepgram".
 *
 * Connects to {base_url}/listen?encoding=linear16&sample_rate=16000&
 * channels=1&interim_results=true&punctuate=true[&model=…][&language=…]
 * (default base wss://api.deepgram.com/v1; ws:// for tests) with the
 * header "Authorization: Token <key>", on the shared WS client thread
 * (ws_client.c).  Audio goes up as binary frames (queued until the socket
 * is open).  The server answers {"type":"Results", "is_final",
 * "speech_final", "from_finalize", "channel":{"alternatives":[{
 * "transcript"}]}}: interim results become partial events (the finalised
 * segments of the utterance so far plus the interim text); finalised
 * segments are joined; at end_of_speech we send {"type":"Finalize"} and
 * the next finalised result (from_finalize / speech_final at once, else
 * after a short settle time) gives the final event.  KeepAlive every few
 * seconds without audio; release sends {"type":"CloseStream"} and closes.
 *
 * Language detection, when language is "multi" (sent as language=multi)
 * or extra detect_language is true (sent as detect_language=true, and then
 * no language=): a finalised result's language is its channel's
 * "detected_language", else the first of alternatives[0] "languages" (the
 * multilingual model), else the most frequent "language" of
 * alternatives[0] "words".  The last one found in the utterance's
 * finalised segments goes out as a language event just before its final.
 *
 * Endpointing: a finalised result with "speech_final" (the server's
 * endpointer: `endpointing` ms of silence, default 10) or an
 * {"type":"UtteranceEnd"} (sent with extra utterance_end_ms) before our
 * Finalize is an endpoint event with the utterance so far. */
#include <string.h>

#include <glib.h>
#include <jansson.h>
#include <libsoup/soup.h>

#include "providers/providers_private.h"
#include "providers/providers.h"
#include "net/net.h"

#define MAX_PENDING_BYTES (30 * SB_AGENT_RATE * 2)
#define KEEPALIVE_MS 4000
#define SETTLE_MS 300

static char finalize_marker;

struct sb_stt_stream {
	sb_stt_base base; /* first; base.lock guards the three below too */
	GQueue pending;   /* GBytes* audio or &finalize_marker */
	size_t pending_bytes;
	bool flush_scheduled;
	/* WS thread only: */
	SoupMessage *msg;
	SoupWebsocketConnection *conn;
	GCancellable *cancel;
	GSource *connect_timer;
	GSource *keepalive;
	GSource *settle;
	gint64 last_send;
	GString *utter;  /* finalised segments of the current utterance */
	int eos_pending; /* Finalize sent, final not delivered yet */
	bool detect;     /* the server reports languages */
	/* The language of utter's segments (sb_language_code's: static) or NULL. */
	const char *utter_lang;
	bool failed;
	bool closing;
	bool timed_out;
};

static sb_stt_stream *stream_ref(sb_stt_stream *s)
{
	g_atomic_int_inc(&s->base.ref);
	return s;
}

static void stream_unref(gpointer data)
{
	sb_stt_stream *s = data;
	if (!g_atomic_int_dec_and_test(&s->base.ref))
		return;
	sb_stt_base_clear(&s->base);
	gpointer item;
	while ((item = g_queue_pop_head(&s->pending)))
		if (item != &finalize_marker)
			g_bytes_unref(item);
	g_string_free(s->utter, TRUE);
	g_free(s);
}

static void stop_source(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		*src = NULL;
	}
}

/* ---- events (WS thread) ---- */

static void emit_partial(sb_stt_stream *s, const char *text)
{
	if (*text)
		sb_stt_base_emit(&s->base, s->base.ev.partial, text);
}

static void emit_endpoint(sb_stt_stream *s)
{
	if (s->utter->len)
		sb_stt_base_emit(&s->base, s->base.ev.endpoint, s->utter->str);
}

static void emit_final(sb_stt_stream *s)
{
	stop_source(&s->settle);
	if (s->eos_pending > 0)
		s->eos_pending--;
	char *text = g_strdup(s->utter->str);
	const char *lang = s->utter_lang;
	g_string_truncate(s->utter, 0);
	s->utter_lang = NULL;
	if (lang)
		sb_stt_base_emit(&s->base, s->base.ev.language, lang);
	sb_stt_base_emit(&s->base, s->base.ev.final, text);
	g_free(text);
}

static void close_conn(sb_stt_stream *s, gushort code, const char *reason)
{
	if (s->conn && soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN)
		soup_websocket_connection_close(s->conn, code, reason);
}

static void fail(sb_stt_stream *s, const char *error)
{
	if (s->failed || s->closing)
		return;
	s->failed = true;
	stop_source(&s->keepalive);
	stop_source(&s->settle);
	stop_source(&s->connect_timer);
	close_conn(s, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
	sb_stt_base_emit(&s->base, s->base.ev.failed, error);
}

/* ---- sending (WS thread) ---- */

static void send_text(sb_stt_stream *s, const char *text)
{
	soup_websocket_connection_send_text(s->conn, text);
	s->last_send = g_get_monotonic_time();
}

static bool conn_open(sb_stt_stream *s)
{
	return s->conn && soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN;
}

static void flush(sb_stt_stream *s)
{
	if (!conn_open(s) || s->failed || s->closing)
		return;
	for (;;) {
		g_mutex_lock(&s->base.lock);
		gpointer item = g_queue_pop_head(&s->pending);
		if (item && item != &finalize_marker)
			s->pending_bytes -= g_bytes_get_size(item);
		g_mutex_unlock(&s->base.lock);
		if (!item)
			break;
		if (item == &finalize_marker) {
			send_text(s, "{\"type\":\"Finalize\"}");
			s->eos_pending++;
		} else {
			gsize n;
			gconstpointer p = g_bytes_get_data(item, &n);
			soup_websocket_connection_send_binary(s->conn, p, n);
			s->last_send = g_get_monotonic_time();
			g_bytes_unref(item);
		}
	}
}

static gboolean flush_cb(gpointer data)
{
	sb_stt_stream *s = data;
	g_mutex_lock(&s->base.lock);
	s->flush_scheduled = false;
	g_mutex_unlock(&s->base.lock);
	flush(s);
	return G_SOURCE_REMOVE;
}

static gboolean keepalive_cb(gpointer data)
{
	sb_stt_stream *s = data;
	if (conn_open(s) && g_get_monotonic_time() - s->last_send >= KEEPALIVE_MS * 1000)
		send_text(s, "{\"type\":\"KeepAlive\"}");
	return G_SOURCE_CONTINUE;
}

static gboolean settle_cb(gpointer data)
{
	sb_stt_stream *s = data;
	s->settle = NULL;
	if (s->eos_pending > 0)
		emit_final(s);
	return G_SOURCE_REMOVE;
}

/* ---- receiving (WS thread) ---- */

/* The language of a Results message, normalised, or NULL.  A value we
 * cannot read falls through to the next place Deepgram may put it. */
static const char *results_language(json_t *channel, json_t *alt)
{
	const char *code =
	        sb_language_code(json_string_value(json_object_get(channel, "detected_language")));
	if (!code)
		code = sb_language_code(
		        json_string_value(json_array_get(json_object_get(alt, "languages"), 0)));
	if (code)
		return code;
	/* Codes are static or interned strings: one pointer per language. */
	GHashTable *counts = g_hash_table_new(g_direct_hash, g_direct_equal);
	guint best = 0;
	size_t i;
	json_t *word;
	json_array_foreach(json_object_get(alt, "words"), i, word)
	{
		const char *c =
		        sb_language_code(json_string_value(json_object_get(word, "language")));
		if (!c)
			continue;
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, c)) + 1;
		g_hash_table_insert(counts, (gpointer)c, GUINT_TO_POINTER(n));
		if (n > best) {
			best = n;
			code = c;
		}
	}
	g_hash_table_destroy(counts);
	return code;
}

static void on_results(sb_stt_stream *s, json_t *root)
{
	json_t *channel = json_object_get(root, "channel");
	json_t *alt = json_array_get(json_object_get(channel, "alternatives"), 0);
	const char *text = json_string_value(json_object_get(alt, "transcript"));
	if (!text)
		text = "";
	bool is_final = json_is_true(json_object_get(root, "is_final"));
	bool speech_final = json_is_true(json_object_get(root, "speech_final"));
	bool from_finalize = json_is_true(json_object_get(root, "from_finalize"));
	if (!is_final) {
		char *partial = s->utter->len && *text
		                        ? g_strdup_printf("%s %s", s->utter->str, text)
		                        : g_strdup(s->utter->len ? s->utter->str : text);
		emit_partial(s, partial);
		g_free(partial);
		return;
	}
	if (*text) {
		if (s->utter->len)
			g_string_append_c(s->utter, ' ');
		g_string_append(s->utter, text);
		const char *lang = s->detect ? results_language(channel, alt) : NULL;
		if (lang)
			s->utter_lang = lang;
	}
	if (s->eos_pending > 0) {
		if (from_finalize || speech_final) {
			emit_final(s);
		} else {
			stop_source(&s->settle);
			s->settle =
			        sb_ws_timeout(SETTLE_MS, settle_cb, stream_ref(s), stream_unref);
		}
	} else {
		/* Finalised text while the caller still speaks (our VAD decides
		 * when the utterance ends); its endpointer may already say the
		 * sentence is over. */
		if (*text)
			emit_partial(s, s->utter->str);
		if (speech_final)
			emit_endpoint(s);
	}
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
	(void)conn;
	sb_stt_stream *s = data;
	if (type != SOUP_WEBSOCKET_DATA_TEXT || s->failed || s->closing)
		return;
	gsize n;
	const char *p = g_bytes_get_data(message, &n);
	json_t *root = json_loadb(p, n, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		fail(s, "bad message from the server: not JSON");
		return;
	}
	const char *mtype = json_string_value(json_object_get(root, "type"));
	if (mtype && strcmp(mtype, "Results") == 0) {
		on_results(s, root);
	} else if ((mtype && strcmp(mtype, "Error") == 0) || json_object_get(root, "err_code")) {
		const char *m = sb_json_error_message(root);
		char *e = g_strdup_printf("server error: %s", m ? m : "(no message)");
		fail(s, e);
		g_free(e);
	} else if (mtype && strcmp(mtype, "UtteranceEnd") == 0 && s->eos_pending == 0) {
		emit_endpoint(s); /* with extra utterance_end_ms: a gap in the words */
	}
	/* Metadata, SpeechStarted: nothing to do. */
	json_decref(root);
}

static void drop_conn(sb_stt_stream *s)
{
	if (!s->conn)
		return;
	g_signal_handlers_disconnect_by_data(s->conn, s);
	sb_ws_unhold(G_OBJECT(s->conn));
	g_clear_object(&s->conn);
	stream_unref(s); /* the connection's reference */
}

static void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
	sb_stt_stream *s = data;
	if (!s->closing && !s->failed) {
		gushort code = soup_websocket_connection_get_close_code(conn);
		const char *reason = soup_websocket_connection_get_close_data(conn);
		char *e = g_strdup_printf("connection closed by the server (%u%s%s)", code,
		                          reason && *reason ? ": " : "", reason ? reason : "");
		fail(s, e);
		g_free(e);
	}
	stop_source(&s->keepalive);
	drop_conn(s);
}

static void on_error(SoupWebsocketConnection *conn, GError *error, gpointer data)
{
	(void)conn;
	sb_stt_stream *s = data;
	char *e = g_strdup_printf("connection error: %s", error->message);
	fail(s, e);
	g_free(e);
}

static void on_connected(GObject *source, GAsyncResult *res, gpointer data)
{
	sb_stt_stream *s = data;
	GError *error = NULL;
	SoupWebsocketConnection *conn =
	        soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &error);
	stop_source(&s->connect_timer);
	if (s->cancel) {
		sb_ws_unhold(G_OBJECT(s->cancel));
		g_clear_object(&s->cancel);
	}
	guint status = s->msg ? soup_message_get_status(s->msg) : 0;
	char *reason = s->msg ? g_strdup(soup_message_get_reason_phrase(s->msg)) : NULL;
	g_clear_object(&s->msg);
	if (!conn) {
		char *e;
		if (s->timed_out)
			e = g_strdup_printf("timed out: not connected within %d ms",
			                    s->base.timeout_ms);
		else if (status >= 300)
			e = g_strdup_printf("HTTP %u%s%s", status, reason && *reason ? ": " : "",
			                    reason ? reason : "");
		else
			e = g_strdup_printf("connect failed: %s", error ? error->message : "?");
		fail(s, e);
		g_free(e);
	} else if (s->closing || s->failed) {
		soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
		g_object_unref(conn);
	} else {
		s->conn = conn;
		stream_ref(s); /* held while the connection is */
		sb_ws_hold(G_OBJECT(conn));
		soup_websocket_connection_set_keepalive_interval(conn, 0);
		g_signal_connect(conn, "message", G_CALLBACK(on_message), s);
		g_signal_connect(conn, "closed", G_CALLBACK(on_closed), s);
		g_signal_connect(conn, "error", G_CALLBACK(on_error), s);
		s->last_send = g_get_monotonic_time();
		s->keepalive = sb_ws_timeout(1000, keepalive_cb, stream_ref(s), stream_unref);
		flush(s);
	}
	g_free(reason);
	g_clear_error(&error);
	stream_unref(s); /* the connect operation's reference */
}

static gboolean connect_timeout_cb(gpointer data)
{
	sb_stt_stream *s = data;
	s->connect_timer = NULL;
	s->timed_out = true;
	if (s->cancel)
		g_cancellable_cancel(s->cancel);
	return G_SOURCE_REMOVE;
}

static gboolean connect_cb(gpointer data)
{
	sb_stt_stream *s = data;
	if (s->closing)
		return G_SOURCE_REMOVE;
	s->msg = soup_message_new("GET", s->base.url);
	if (!s->msg) {
		fail(s, "invalid URL");
		return G_SOURCE_REMOVE;
	}
	if (s->base.auth)
		soup_message_headers_replace(soup_message_get_request_headers(s->msg),
		                             "Authorization", s->base.auth);
	s->cancel = g_cancellable_new();
	sb_ws_hold(G_OBJECT(s->cancel));
	s->connect_timer = sb_ws_timeout((guint)s->base.timeout_ms, connect_timeout_cb,
	                                 stream_ref(s), stream_unref);
	soup_session_websocket_connect_async(sb_ws_session(), s->msg, NULL, NULL,
	                                     G_PRIORITY_DEFAULT, s->cancel, on_connected,
	                                     stream_ref(s));
	return G_SOURCE_REMOVE;
}

static gboolean teardown_cb(gpointer data)
{
	sb_stt_stream *s = data;
	s->closing = true;
	stop_source(&s->keepalive);
	stop_source(&s->settle);
	stop_source(&s->connect_timer);
	if (s->cancel)
		g_cancellable_cancel(s->cancel);
	if (conn_open(s)) {
		send_text(s, "{\"type\":\"CloseStream\"}");
		close_conn(s, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
	}
	return G_SOURCE_REMOVE;
}

/* ---- the interface (any thread) ---- */

static void schedule_flush_locked(sb_stt_stream *s)
{
	if (s->flush_scheduled)
		return;
	s->flush_scheduled = true;
	sb_ws_run(flush_cb, stream_ref(s), stream_unref);
}

/* extra detect_language: true, or "true" as a config file has it. */
static bool detect_asked(const sb_provider_config *cfg)
{
	json_t *v = json_object_get(cfg->extra, "detect_language");
	return json_is_true(v) ||
	       (json_is_string(v) && !g_ascii_strcasecmp(json_string_value(v), "true"));
}

static char *http_url(const char *base, const sb_provider_config *cfg)
{
	char *listen = sb_url_join(base, "listen");
	GString *u = g_string_new(NULL);
	if (g_str_has_prefix(listen, "wss://"))
		g_string_append_printf(u, "https://%s", listen + 6);
	else if (g_str_has_prefix(listen, "ws://"))
		g_string_append_printf(u, "http://%s", listen + 5);
	else
		g_string_append(u, listen);
	g_free(listen);
	g_string_append(u, "?encoding=linear16&sample_rate=16000&channels=1"
	                   "&interim_results=true&punctuate=true");
	if (cfg->model && *cfg->model) {
		char *m = g_uri_escape_string(cfg->model, NULL, FALSE);
		g_string_append_printf(u, "&model=%s", m);
		g_free(m);
	}
	if (detect_asked(cfg)) {
		/* Detection replaces the language: Deepgram takes one or the other. */
		g_string_append(u, "&detect_language=true");
	} else if (cfg->language && *cfg->language) {
		char *l = g_uri_escape_string(cfg->language, NULL, FALSE);
		g_string_append_printf(u, "&language=%s", l);
		g_free(l);
	}
	return g_string_free(u, FALSE);
}

static sb_stt_stream *deepgram_open(const sb_provider_config *cfg, const sb_stt_events *events,
                                    void *user, char **error)
{
	sb_stt_stream *s = g_new0(sb_stt_stream, 1);
	if (!sb_stt_base_init(&s->base, "deepgram", cfg, events, user, error)) {
		g_free(s);
		return NULL;
	}
	s->base.url = http_url(cfg->base_url, cfg);
	s->base.auth = cfg->api_key ? g_strdup_printf("Token %s", cfg->api_key) : NULL;
	g_queue_init(&s->pending);
	s->utter = g_string_new(NULL);
	s->detect =
	        detect_asked(cfg) || (cfg->language && !g_ascii_strcasecmp(cfg->language, "multi"));
	if (!sb_ws_run(connect_cb, stream_ref(s), stream_unref)) {
		if (error)
			*error = g_strdup("deepgram: WebSocket client shut down");
		stream_unref(s);
		return NULL;
	}
	return s;
}

static void deepgram_audio(sb_stt_stream *s, const int16_t *pcm, size_t samples)
{
	if (samples == 0)
		return;
	guint8 *le = g_malloc(samples * 2);
	for (size_t i = 0; i < samples; i++) {
		uint16_t v = (uint16_t)pcm[i];
		le[2 * i] = (guint8)(v & 0xff);
		le[2 * i + 1] = (guint8)(v >> 8);
	}
	GBytes *b = g_bytes_new_take(le, samples * 2);
	g_mutex_lock(&s->base.lock);
	if (!s->base.released && s->pending_bytes + samples * 2 <= MAX_PENDING_BYTES) {
		g_queue_push_tail(&s->pending, b);
		s->pending_bytes += samples * 2;
		b = NULL;
		schedule_flush_locked(s);
	}
	g_mutex_unlock(&s->base.lock);
	if (b)
		g_bytes_unref(b);
}

static void deepgram_end_of_speech(sb_stt_stream *s)
{
	g_mutex_lock(&s->base.lock);
	if (!s->base.released) {
		g_queue_push_tail(&s->pending, &finalize_marker);
		schedule_flush_locked(s);
	}
	g_mutex_unlock(&s->base.lock);
}

static void deepgram_release(sb_stt_stream *s)
{
	if (!s)
		return;
	sb_stt_base_release(&s->base);
	sb_ws_run(teardown_cb, stream_ref(s), stream_unref);
	stream_unref(s);
}

const sb_stt_provider sb_stt_deepgram = {
        .type = "deepgram",
        .open = deepgram_open,
        .audio = deepgram_audio,
        .end_of_speech = deepgram_end_of_speech,
        .release = deepgram_release,
};
