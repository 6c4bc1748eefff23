/* Twilio Media Streams (WS /twilio/stream): the call as a participant of
 * kind twilio, μ-law 8 kHz both ways in 20 ms frames.  The mixer only
 * queues frames and posts one flush to the HTTP thread, which owns the
 * socket; marks tell the agent what the caller heard, `clear` drops what
 * Twilio queued on a barge-in. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>
#include <libsoup/soup.h>

#include "agent/agent.h"
#include "core/core.h"
#include "api/api.h"
#include "media/media.h"
#include "room/room.h"

#define MAX_MESSAGE 16384 /* a 20 ms frame is ~250 bytes of JSON */
#define MAX_PAYLOAD 1600  /* 200 ms of μ-law */
#define OUT_QUEUE_MAX 50  /* 1 s of audio waiting for the HTTP thread */
#define MAX_BAD_IN_A_ROW 10

typedef struct stream {
	gatomicrefcount ref;
	SoupWebsocketConnection *conn; /* HTTP thread only; NULL once closed */
	char *stream_sid, *call_sid, *room;
	bool started, ended;
	int bad_in_a_row;
	sb_participant *p; /* strong while in the room (HTTP thread) */
	/* Input RTP wrapping (HTTP thread). */
	uint16_t seq;
	uint32_t ts, ssrc;
	/* Output: the mixer thread queues payloads, the HTTP thread sends. */
	GMutex mutex;
	GQueue out; /* GBytes* */
	bool flush_scheduled;
	/* Marks (HTTP thread): "agent-<chunk>" after each chunk of the agent's
	 * speech; an echo means Twilio played it.  After a clear, Twilio echoes
	 * every pending mark: those up to cleared_upto were not heard. */
	unsigned last_mark, cleared_upto;
} stream;

static GMutex streams_mutex;
static GPtrArray *streams; /* stream* (strong), for barge-in lookups */
static unsigned listener_id;
static sb_twilio_stream_stats stats;

static stream *stream_ref(stream *s)
{
	g_atomic_ref_count_inc(&s->ref);
	return s;
}

static void stream_unref(stream *s)
{
	if (!g_atomic_ref_count_dec(&s->ref))
		return;
	g_queue_clear_full(&s->out, (GDestroyNotify)g_bytes_unref);
	g_mutex_clear(&s->mutex);
	g_free(s->stream_sid);
	g_free(s->call_sid);
	g_free(s->room);
	g_free(s);
}

static void send_json(stream *s, json_t *msg)
{
	if (s->conn && soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN) {
		char *text = json_dumps(msg, JSON_COMPACT);
		soup_websocket_connection_send_text(s->conn, text);
		free(text);
	}
	json_decref(msg);
}

/* Leaves the room (once); the socket may stay open until Twilio closes it. */
static void leave_room(stream *s)
{
	sb_participant *p = s->p;
	s->p = NULL;
	if (!p)
		return;
	sb_room *room = sb_participant_room(p);
	if (room) {
		sb_room_remove(room, p, "leaving");
		sb_room_unref(room);
	}
	sb_participant_unref(p);
}

static void close_with(stream *s, gushort code, const char *why)
{
	if (code != SOUP_WEBSOCKET_CLOSE_NORMAL)
		JANUS_LOG(LOG_WARN, "[switchboard] twilio stream %s: closing (%u %s)\n",
		          s->stream_sid ? s->stream_sid : "(not started)", code, why);
	leave_room(s);
	s->ended = true;
	if (s->conn && soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN)
		soup_websocket_connection_close(s->conn, code, why);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- output: mixer thread → HTTP thread ---- */

static gboolean flush(gpointer data)
{
	stream *s = data;
	g_mutex_lock(&s->mutex);
	GQueue frames = s->out;
	g_queue_init(&s->out);
	s->flush_scheduled = false;
	g_mutex_unlock(&s->mutex);
	GBytes *b;
	while ((b = g_queue_pop_head(&frames))) {
		gsize n;
		const uint8_t *d = g_bytes_get_data(b, &n);
		if (s->started && !s->ended && s->conn) {
			char *payload = g_base64_encode(d, n);
			send_json(s, json_pack("{sssss{ss}}", "event", "media", "streamSid",
			                       s->stream_sid, "media", "payload", payload));
			g_free(payload);
			__atomic_add_fetch(&stats.frames_out, 1, __ATOMIC_RELAXED);
		}
		g_bytes_unref(b);
	}
	return G_SOURCE_REMOVE;
}

static void stream_send_rtp(sb_participant *p, const uint8_t *packet, size_t len)
{
	stream *s = p->transport;
	sb_rtp_packet rtp;
	if (!sb_rtp_parse(packet, len, 0, &rtp) || rtp.payload_len == 0)
		return;
	g_mutex_lock(&s->mutex);
	if (g_queue_get_length(&s->out) >= OUT_QUEUE_MAX) {
		/* The HTTP thread is behind: drop the oldest, never wait. */
		g_bytes_unref(g_queue_pop_head(&s->out));
		__atomic_add_fetch(&stats.frames_dropped, 1, __ATOMIC_RELAXED);
	}
	g_queue_push_tail(&s->out, g_bytes_new(rtp.payload, rtp.payload_len));
	bool schedule = !s->flush_scheduled;
	s->flush_scheduled = true;
	g_mutex_unlock(&s->mutex);
	if (schedule)
		sb_http_invoke(G_PRIORITY_HIGH, flush, stream_ref(s), (GDestroyNotify)stream_unref);
}

static void stream_removed(sb_participant *p)
{
	sb_participant_set_media_ready(p, false);
}

static void stream_free_transport(void *transport)
{
	stream_unref(transport);
}

static const sb_participant_ops stream_ops = {
        .send_rtp = stream_send_rtp,
        .removed = stream_removed,
        .free_transport = stream_free_transport,
};

/* The streams of room that are under way (referenced), taken under the
 * list's lock and used after it. */
static GPtrArray *live_streams_in(const char *room)
{
	GPtrArray *matches = g_ptr_array_new_with_free_func((GDestroyNotify)stream_unref);
	g_mutex_lock(&streams_mutex);
	for (guint i = 0; streams && i < streams->len; i++) {
		stream *s = streams->pdata[i];
		if (s->room && !strcmp(s->room, room) && s->started && !s->ended)
			g_ptr_array_add(matches, stream_ref(s));
	}
	g_mutex_unlock(&streams_mutex);
	return matches;
}

/* ---- barge-in: the agent was interrupted in a room with our streams ---- */

static gboolean clear_room(gpointer data)
{
	const char *room = data;
	GPtrArray *matches = live_streams_in(room);
	for (guint i = 0; i < matches->len; i++) {
		stream *s = matches->pdata[i];
		g_mutex_lock(&s->mutex);
		g_queue_clear_full(&s->out, (GDestroyNotify)g_bytes_unref);
		g_mutex_unlock(&s->mutex);
		s->cleared_upto = s->last_mark;
		send_json(s, json_pack("{ssss}", "event", "clear", "streamSid", s->stream_sid));
		__atomic_add_fetch(&stats.clears, 1, __ATOMIC_RELAXED);
	}
	g_ptr_array_unref(matches);
	return G_SOURCE_REMOVE;
}

/* ---- marks: the agent played a chunk out (agent_speech) ---- */

typedef struct chunk_played {
	char *room;
	unsigned chunk;
} chunk_played;

static void chunk_played_free(gpointer data)
{
	g_free(((chunk_played *)data)->room);
	g_free(data);
}

/* After the audio already queued for Twilio: a mark naming the chunk. */
static gboolean mark_room(gpointer data)
{
	chunk_played *c = data;
	GPtrArray *matches = live_streams_in(c->room);
	for (guint i = 0; i < matches->len; i++) {
		stream *s = matches->pdata[i];
		flush(s); /* the chunk's last frames go first */
		char name[32];
		g_snprintf(name, sizeof(name), "agent-%u", c->chunk);
		s->last_mark = c->chunk;
		send_json(s, json_pack("{sssss{ss}}", "event", "mark", "streamSid", s->stream_sid,
		                       "mark", "name", name));
	}
	g_ptr_array_unref(matches);
	return G_SOURCE_REMOVE;
}

/* Twilio played everything up to this mark: the agent learns it was heard. */
static void on_mark(stream *s, json_t *msg)
{
	const char *name = str(json_object_get(msg, "mark"), "name");
	char *end = NULL;
	if (!name || !g_str_has_prefix(name, "agent-"))
		return;
	guint64 chunk = g_ascii_strtoull(name + 6, &end, 10);
	if (!end || *end || chunk == 0 || chunk > s->last_mark || chunk <= s->cleared_upto)
		return; /* not ours, or dropped by a clear */
	sb_room *room = s->room ? sb_room_find(s->room) : NULL;
	if (room) {
		sb_agent_heard(room, (unsigned)chunk);
		sb_room_unref(room);
	}
}

static void on_event(json_t *n, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(n, "type"));
	const char *action = json_string_value(json_object_get(n, "action"));
	const char *room = json_string_value(json_object_get(n, "room"));
	if (type && room && !strcmp(type, "agent_speech")) {
		chunk_played *c = g_new0(chunk_played, 1);
		c->room = g_strdup(room);
		c->chunk = (unsigned)json_integer_value(json_object_get(n, "chunk"));
		sb_http_invoke(G_PRIORITY_HIGH, mark_room, c, chunk_played_free);
		return;
	}
	if (!type || strcmp(type, "agent_action") || !action || strcmp(action, "interrupted") ||
	    !room)
		return;
	sb_http_invoke(G_PRIORITY_HIGH, clear_room, g_strdup(room), g_free);
}

/* ---- input ---- */

static bool base64_valid(const char *s, size_t len)
{
	if (len == 0 || len % 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool pad = c == '=' && i >= len - 2 && (i == len - 1 || s[len - 1] == '=');
		if (!g_ascii_isalnum(c) && c != '+' && c != '/' && !pad)
			return false;
	}
	return true;
}

/* The call's context: the stream's <Parameter>s (customParameters) and
 * the call's numbers and CallSid as the room's variables, before the
 * caller joins so an agent greets with them.  The room grant admits to a
 * room: it is not context. */
static void set_call_variables(sb_room *room, json_t *custom, const char *call_sid,
                               const char *from, const char *to)
{
	json_t *params = json_is_object(custom) ? json_deep_copy(custom) : json_object();
	json_object_del(params, "room_grant");
	json_object_set_new(params, "call_sid", json_string(call_sid));
	if (from)
		json_object_set_new(params, "from", json_string(from));
	if (to)
		json_object_set_new(params, "to", json_string(to));
	sb_twilio_set_variables(room, params, "Twilio Media Streams");
	json_decref(params);
}

static const char *on_start(stream *s, json_t *msg)
{
	json_t *start = json_object_get(msg, "start");
	const char *sid = str(msg, "streamSid") ? str(msg, "streamSid") : str(start, "streamSid");
	const char *call_sid = str(start, "callSid");
	if (!json_is_object(start) || !sb_twilio_sid_valid(sid) || !sb_twilio_sid_valid(call_sid))
		return "start without streamSid/callSid";
	json_t *fmt = json_object_get(start, "mediaFormat");
	const char *enc = str(fmt, "encoding");
	if (fmt && ((enc && strcmp(enc, "audio/x-mulaw")) ||
	            (json_object_get(fmt, "sampleRate") &&
	             json_integer_value(json_object_get(fmt, "sampleRate")) != 8000)))
		return "only audio/x-mulaw at 8000 Hz";
	json_t *custom = json_object_get(start, "customParameters");
	json_t *call = sb_twilio_call_get(call_sid);
	/* A room named by the socket counts only with our grant for this call;
	 * else the room the voice webhook gave the call, else its own. */
	const char *why = NULL;
	char *room_name = !str(custom, "room") && str(call, "room")
	                          ? g_strdup(str(call, "room"))
	                          : sb_twilio_granted_room(custom, call_sid, &why);
	if (!room_name) {
		json_decref(call);
		return why;
	}
	if (!sb_room_name_valid(room_name)) {
		g_free(room_name);
		json_decref(call);
		return "invalid room";
	}
	bool created = false;
	char *error = NULL;
	if (!sb_twilio_ensure_room(room_name, true, &created, &error)) {
		g_free(error);
		g_free(room_name);
		json_decref(call);
		return "room cannot be created";
	}
	sb_room *r = sb_room_find(room_name);
	if (!r) {
		g_free(room_name);
		json_decref(call);
		return "room is gone";
	}
	const char *from = str(call, "from") ? str(call, "from") : str(custom, "from");
	const char *to = str(call, "to") ? str(call, "to") : str(custom, "to");
	json_t *info = json_pack("{ssssss?ss?ss?}", "call_sid", call_sid, "stream_sid", sid,
	                         "account_sid", str(start, "accountSid"), "from", from, "to", to);
	json_object_set_new(info, "custom_parameters",
	                    json_is_object(custom) ? json_deep_copy(custom) : json_object());
	/* Readers of sessions see the parameters, not the grant. */
	json_object_del(json_object_get(info, "custom_parameters"), "room_grant");
	s->stream_sid = g_strdup(sid);
	s->call_sid = g_strdup(call_sid);
	s->room = g_strdup(room_name);
	const sb_settings *settings = sb_twilio_cfg()->settings;
	sb_participant_params pp = {
	        .kind = SB_KIND_TWILIO,
	        .display = from ? from : "Twilio caller",
	        .role = "caller",
	        .interface = from && g_str_has_prefix(from, "whatsapp:") ? "whatsapp" : "phone",
	        .info = info,
	        .codec = SB_CODEC_PCMU,
	        .payload_type = 0,
	        .sampling_rate = r->sampling_rate,
	        .jitter_min_frames = settings->jitter_min_frames,
	        .jitter_max_frames = settings->jitter_max_frames,
	        .ops = &stream_ops,
	        .transport = stream_ref(s),
	};
	set_call_variables(r, custom, call_sid, from, to);
	sb_participant *p = sb_participant_new(&pp);
	json_decref(info);
	json_decref(call);
	g_free(room_name);
	if (!p) {
		stream_unref(s);
		sb_room_unref(r);
		return "participant set-up failed";
	}
	sb_participant_set_media_ready(p, true);
	sb_error rc = sb_room_add(r, p);
	sb_room_unref(r);
	if (rc != SB_OK) {
		sb_participant_unref(p);
		return rc == SB_ERROR_LIMIT ? "room is full" : "room is gone";
	}
	s->p = p;
	s->started = true;
	s->ssrc = g_random_int();
	JANUS_LOG(LOG_INFO, "[switchboard] twilio stream %s (call %s) joined room %s\n", sid,
	          call_sid, s->room);
	return NULL;
}

static const char *on_media(stream *s, json_t *msg)
{
	json_t *media = json_object_get(msg, "media");
	const char *track = str(media, "track");
	if (track && strcmp(track, "inbound") && strcmp(track, "inbound_track"))
		return NULL; /* listen-only streams may carry outbound: not ours to mix */
	const char *payload = str(media, "payload");
	size_t len = payload ? strlen(payload) : 0;
	if (!base64_valid(payload, len) || len > (MAX_PAYLOAD / 3 + 1) * 4)
		return "bad base64 payload";
	uint8_t packet[SB_RTP_HEADER_SIZE + MAX_PAYLOAD + 4];
	gsize n = 0;
	guchar *raw = g_base64_decode(payload, &n);
	if (n == 0 || n > MAX_PAYLOAD) {
		g_free(raw);
		return "bad media payload size";
	}
	sb_rtp_write_header(packet, 0, s->seq == 0, s->seq, s->ts, s->ssrc);
	memcpy(packet + SB_RTP_HEADER_SIZE, raw, n);
	g_free(raw);
	s->seq++;
	s->ts += (uint32_t)n;
	if (s->p)
		sb_participant_incoming_rtp(s->p, packet, SB_RTP_HEADER_SIZE + n, -1);
	__atomic_add_fetch(&stats.frames_in, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void on_dtmf(stream *s, json_t *msg)
{
	const char *digit = str(json_object_get(msg, "dtmf"), "digit");
	if (!digit || strlen(digit) != 1 || !strchr("0123456789*#ABCD", digit[0]))
		return;
	sb_events_publish("dtmf", json_pack("{ssssssss}", "room", s->room, "call_sid", s->call_sid,
	                                    "digit", digit, "interface", "phone"));
	/* The agent hears key presses as a turn, as on SIP calls. */
	sb_room *room = sb_room_find(s->room);
	if (room) {
		sb_agent_dtmf(room, digit[0]);
		sb_room_unref(room);
	}
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
	(void)conn;
	stream *s = data;
	if (s->ended)
		return;
	if (type != SOUP_WEBSOCKET_DATA_TEXT) {
		__atomic_add_fetch(&stats.bad_messages, 1, __ATOMIC_RELAXED);
		close_with(s, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA,
		           "binary frames are not Media Streams (31950)");
		return;
	}
	gsize len;
	const char *text = g_bytes_get_data(message, &len);
	json_t *msg = len <= MAX_MESSAGE ? json_loadb(text, len, 0, NULL) : NULL;
	const char *event = str(msg, "event");
	const char *problem = NULL;
	if (!event) {
		problem = "not a Media Streams message";
	} else if (!strcmp(event, "connected")) {
		/* first, nothing to do */
	} else if (!strcmp(event, "start")) {
		if (s->started) {
			json_decref(msg);
			close_with(s, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "second start");
			return;
		}
		const char *err = on_start(s, msg);
		if (err) {
			json_decref(msg);
			__atomic_add_fetch(&stats.bad_messages, 1, __ATOMIC_RELAXED);
			close_with(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, err);
			return;
		}
	} else if (!s->started) {
		json_decref(msg);
		__atomic_add_fetch(&stats.bad_messages, 1, __ATOMIC_RELAXED);
		close_with(s, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "start must come first");
		return;
	} else if (!strcmp(event, "media")) {
		problem = on_media(s, msg);
	} else if (!strcmp(event, "mark")) {
		on_mark(s, msg);
	} else if (!strcmp(event, "dtmf")) {
		on_dtmf(s, msg);
	} else if (!strcmp(event, "stop")) {
		json_decref(msg);
		close_with(s, SOUP_WEBSOCKET_CLOSE_NORMAL, "stopped");
		return;
	} else {
		problem = "unknown event";
	}
	json_decref(msg);
	if (problem) {
		__atomic_add_fetch(&stats.bad_messages, 1, __ATOMIC_RELAXED);
		if (++s->bad_in_a_row >= MAX_BAD_IN_A_ROW)
			close_with(s, SOUP_WEBSOCKET_CLOSE_BAD_DATA, "too many invalid messages");
		else
			JANUS_LOG(LOG_WARN, "[switchboard] twilio stream: %s (ignored)\n", problem);
	} else {
		s->bad_in_a_row = 0;
	}
}

static void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
	stream *s = data;
	leave_room(s);
	s->ended = true;
	g_mutex_lock(&streams_mutex);
	if (streams)
		g_ptr_array_remove(streams, s);
	g_mutex_unlock(&streams_mutex);
	__atomic_sub_fetch(&stats.open, 1, __ATOMIC_RELAXED);
	s->conn = NULL;
	g_signal_handlers_disconnect_by_data(conn, s);
	g_object_unref(conn);
	stream_unref(s); /* the connection's reference */
}

static void connected(SoupWebsocketConnection *conn, const char *path, GUri *uri)
{
	(void)path, (void)uri;
	stream *s = g_new0(stream, 1);
	g_atomic_ref_count_init(&s->ref); /* the connection's */
	g_mutex_init(&s->mutex);
	g_queue_init(&s->out);
	s->conn = g_object_ref(conn);
	soup_websocket_connection_set_max_incoming_payload_size(conn, MAX_MESSAGE);
	g_signal_connect(conn, "message", G_CALLBACK(on_message), s);
	g_signal_connect(conn, "closed", G_CALLBACK(on_closed), s);
	g_mutex_lock(&streams_mutex);
	if (streams)
		g_ptr_array_add(streams, stream_ref(s));
	g_mutex_unlock(&streams_mutex);
	__atomic_add_fetch(&stats.open, 1, __ATOMIC_RELAXED);
}

void sb_twilio_streams_start(void)
{
	streams = g_ptr_array_new_with_free_func((GDestroyNotify)stream_unref);
	sb_http_register_websocket(
	        &(sb_http_websocket){"/twilio/stream", sb_twilio_ws_authorize, connected});
	listener_id = sb_events_subscribe(on_event, NULL);
}

void sb_twilio_streams_stop(void)
{
	sb_events_unsubscribe(listener_id);
	/* HTTP is down: the connections are gone; drop what is left. */
	g_mutex_lock(&streams_mutex);
	GPtrArray *left = streams;
	streams = NULL;
	g_mutex_unlock(&streams_mutex);
	if (left)
		g_ptr_array_unref(left);
}

void sb_twilio_streams_get_stats(sb_twilio_stream_stats *out)
{
	out->open = __atomic_load_n(&stats.open, __ATOMIC_RELAXED);
	out->frames_in = __atomic_load_n(&stats.frames_in, __ATOMIC_RELAXED);
	out->frames_out = __atomic_load_n(&stats.frames_out, __ATOMIC_RELAXED);
	out->frames_dropped = __atomic_load_n(&stats.frames_dropped, __ATOMIC_RELAXED);
	out->bad_messages = __atomic_load_n(&stats.bad_messages, __ATOMIC_RELAXED);
	out->clears = __atomic_load_n(&stats.clears, __ATOMIC_RELAXED);
}
