/*
 * loadgen — plain-RTP Opus load generator for Janus audio-mixing plugins.
 *
 * Drives the same load against janus.plugin.switchboard (rtp_join) and the
 * stock janus.plugin.audiobridge (join with an "rtp" object), so that bench/
 * run.sh can compare the two side by side in one Janus process.
 *
 *   loadgen --plugin switchboard|audiobridge --rooms N --per-room P
 *           --talkers T --seconds S [--warmup W] [--idle]
 *           [--speech FILE.wav] [--janus URL] [--cpu-pid PID] ...
 *
 * Start-up: reads a 48 kHz mono 16-bit WAV (speech), encodes it once into
 * 20 ms Opus frames (48 kHz mono, 32 kbit/s, complexity 10) and encodes one
 * Opus silence frame. No encoding happens while the load runs.
 *
 * Set-up: creates the rooms and the participants over HTTP (one keep-alive
 * CURL handle): Switchboard `create` + `rtp_join` through the Admin API's
 * message_plugin (they are the operator's requests); AudioBridge `create`
 * on a Janus API control handle, then one handle per
 * participant with an async `join` {"rtp":{…}} whose `joined` event (read by
 * long-poll) carries the plugin's RTP address.
 *
 * Load: one UDP socket per participant; a single timer thread wakes every
 * 1 ms (clock_nanosleep TIMER_ABSTIME on absolute deadlines: no drift) and
 * sends the packets of the participants in that 1 ms slot, so each
 * participant sends every 20 ms and senders are spread over the period the
 * way independent phones would be. Talkers send the speech frames in a loop,
 * the others the silence frame; every packet carries the RFC 6464 one-byte
 * audio-level header extension (id 1). All sockets are drained through
 * epoll after every tick so no kernel buffer fills.
 *
 * Measurement: with --cpu-pid, utime+stime of that process (Janus) are read
 * from /proc/PID/stat at the start and at the end of the steady window
 * (after --warmup seconds of load), and reported with the packet counts of
 * that window as one JSON line on stdout. Progress goes to stderr.
 *
 * --latency: talkers send a 1 s cycle instead of speech (a 200 ms 1 kHz
 * burst, then -60 dBov noise or silence); every listener decodes what it
 * gets and times each burst's onset against the send time of its first
 * packet (latency.c has the detector). The wait between ticks is then an
 * epoll_pwait2 on the sockets so that receive times are not rounded to the
 * 1 ms tick. The JSON gets "latency" (p50/p95/max, samples) and, for
 * AudioBridge, the prebuffer and queue it showed over the Admin API.
 *
 * --idle: create the rooms only (paced at --create-rate rooms/s), hold them
 * for --warmup + --seconds (CPU measured over --seconds), destroy them.
 *
 * Teardown always destroys the rooms and the Janus session (also on
 * SIGINT/SIGTERM and when --deadline is reached).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "audio.h"
#include "latency.h"

#define RATE 48000
#define FRAME_SAMPLES 960 /* 20 ms at 48 kHz */
#define FRAME_NS 20000000LL
#define SLOT_NS 1000000LL /* timer tick: 1 ms */
#define SLOTS ((int)(FRAME_NS / SLOT_NS))
#define MAX_OPUS 1275
#define RTP_PT 111
#define PCMU_PT 0 /* G.711 mu-law, RFC 3551 */
#define EXT_ID 1
#define VOICE_DBOV 60 /* decoded frame louder than this: voice, not silence */

/* ------------------------------------------------------------------ */
/* options */

enum plugin_kind { PLUGIN_SWITCHBOARD, PLUGIN_AUDIOBRIDGE };

static struct {
	enum plugin_kind plugin;
	const char *plugin_name;
	const char *janus_url;
	const char *admin_url;
	const char *admin_secret;
	const char *speech;
	const char *prefix;
	const char *local_ip;
	const char *record_dir; /* record every room's mix to WAV (AudioBridge: files here) */
	int rooms, per_room, talkers;
	double seconds, warmup, create_rate, deadline;
	bool idle;
	bool measured_levels;
	bool no_levels; /* --no-levels: no RFC 6464 extension, as phone legs send */
	bool pcmu;      /* --codec pcmu: G.711 mu-law 8 kHz legs instead of Opus */
	int sampling_rate; /* the rooms' mixing rate */
	bool latency;  /* --latency: tone bursts, onset timed at every listener */
	int lat_floor; /* dBov of the floor between bursts (127: digital silence) */
	int lat_tone;  /* dBov (RMS) of the 1 kHz burst */
	int lat_period, lat_burst; /* frames: one burst every period, burst long */
	int speech_level; /* dBov sent with speech frames in fixed mode */
	int ab_quality, ab_bitrate; /* AudioBridge encoder settings per join */
	long cpu_pid;
	const char *canary_cpus; /* --canary-cpus: the stall canaries' CPUs */
	bool mixer_stats;        /* --mixer-stats: Switchboard's mixer counters */
	int verbose;
} opt = {
	.plugin = PLUGIN_SWITCHBOARD,
	.plugin_name = "janus.plugin.switchboard",
	.janus_url = "http://127.0.0.1:8088/janus",
	.admin_url = "http://127.0.0.1:7088/admin",
	.admin_secret = "", /* Janus has no default: --admin-secret or JANUS_ADMIN_SECRET */
	.prefix = "bench",
	.local_ip = "127.0.0.1",
	.rooms = 1, .per_room = 3, .talkers = 1,
	.seconds = 10, .warmup = 3, .create_rate = 500, .deadline = 240,
	.speech_level = 30,
	.lat_floor = 60, .lat_tone = 10, .lat_period = 50, .lat_burst = 10,
	.ab_quality = 10, .ab_bitrate = 32000,
	.sampling_rate = 48000,
	.cpu_pid = 0,
};

static volatile sig_atomic_t g_stop;
static struct timespec g_start;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - g_start.tv_sec) + (double)(t.tv_nsec - g_start.tv_nsec) / 1e9;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "[loadgen %7.2f] ", now_s());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool past_deadline(void)
{
	return g_stop || now_s() > opt.deadline;
}

/* ------------------------------------------------------------------ */
/* speech: WAV -> Opus frames, once */

struct frame {
	unsigned char data[MAX_OPUS];
	int len;
	uint8_t level; /* RFC 6464 level, 0..127 (-dBov) */
	bool voice;
	bool burst_start; /* --latency: first loud frame of a burst */
};

static struct frame *g_speech;
static int g_speech_n;
static struct frame g_silence;

/* The payload type, timestamp step and frame encoding of the legs. */
static int payload_type(void)
{
	return opt.pcmu ? PCMU_PT : RTP_PT;
}

static uint32_t frame_ticks(void)
{
	return opt.pcmu ? AUDIO_ULAW_SAMPLES : FRAME_SAMPLES;
}

static OpusEncoder *new_encoder(void)
{
	int err;
	OpusEncoder *enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
	if (!enc) {
		logf_("opus_encoder_create: %s", opus_strerror(err));
		return NULL;
	}
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(10));
	opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	return enc;
}

/* --latency: one cycle (a tone burst, then the floor) encoded into g_speech.
 * The cycle is encoded twice with the same encoder and the second pass kept,
 * so the encoder state at the cycle's start is the one it has when the
 * talker loops (after the floor), as with a real microphone. */
static int prepare_bursts(void)
{
	int16_t *pcm = lat_make_cycle(opt.lat_period, opt.lat_burst, opt.lat_tone, opt.lat_floor);
	OpusEncoder *enc = pcm ? new_encoder() : NULL;
	if (!enc) {
		free(pcm);
		return -1;
	}
	g_speech_n = opt.lat_period;
	g_speech = calloc((size_t)g_speech_n, sizeof *g_speech);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < g_speech_n; i++) {
			const int16_t *buf = pcm + (size_t)i * FRAME_SAMPLES;
			struct frame *fr = &g_speech[i];
			fr->len = opus_encode(enc, buf, FRAME_SAMPLES, fr->data, MAX_OPUS);
			if (fr->len < 0) {
				logf_("opus_encode: %s", opus_strerror(fr->len));
				free(pcm);
				opus_encoder_destroy(enc);
				return -1;
			}
			uint8_t measured = audio_frame_level(buf, FRAME_SAMPLES);
			bool loud = i < opt.lat_burst;
			/* the burst like speech (fixed level unless --measured-levels);
			 * the floor always with its real level and no voice bit */
			fr->level = loud && !opt.measured_levels ? (uint8_t)opt.speech_level : measured;
			fr->voice = loud;
			fr->burst_start = i == 0;
		}
	}
	logf_("latency cycle: %d frames, burst %d frames of 1 kHz at -%d dBov (frame 0: %d bytes), "
	      "floor %s (level %u, frame %d bytes)",
	      g_speech_n, opt.lat_burst, opt.lat_tone, g_speech[0].len,
	      opt.lat_floor >= 127 ? "digital silence" : "white noise", g_speech[g_speech_n - 1].level,
	      g_speech[g_speech_n - 1].len);
	free(pcm);
	opus_encoder_destroy(enc);
	return 0;
}

static int prepare_audio(void)
{
	OpusEncoder *enc = new_encoder();
	if (!enc)
		return -1;
	/* silence: a few frames of zeros so the encoder is in steady state */
	int16_t zeros[FRAME_SAMPLES] = {0};
	for (int i = 0; i < 10; i++) {
		g_silence.len = opus_encode(enc, zeros, FRAME_SAMPLES, g_silence.data, MAX_OPUS);
		if (g_silence.len < 0) {
			logf_("opus_encode: %s", opus_strerror(g_silence.len));
			opus_encoder_destroy(enc);
			return -1;
		}
	}
	g_silence.level = 127;
	g_silence.voice = false;
	opus_encoder_destroy(enc);
	if (opt.pcmu)
		g_silence.len = audio_encode_ulaw_frame(zeros, g_silence.data);

	if (opt.latency)
		return prepare_bursts();
	if (!opt.speech)
		return 0; /* idle mode needs no speech */
	size_t n = 0;
	int16_t *pcm = audio_read_wav48(opt.speech, &n);
	if (!pcm)
		return -1;
	enc = new_encoder();
	if (!enc) {
		free(pcm);
		return -1;
	}
	g_speech_n = (int)((n + FRAME_SAMPLES - 1) / FRAME_SAMPLES);
	g_speech = calloc((size_t)g_speech_n, sizeof *g_speech);
	int16_t buf[FRAME_SAMPLES];
	double bytes = 0;
	int quiet = 0;
	for (int i = 0; i < g_speech_n; i++) {
		size_t off = (size_t)i * FRAME_SAMPLES;
		size_t take = n - off < FRAME_SAMPLES ? n - off : FRAME_SAMPLES;
		memset(buf, 0, sizeof buf);
		memcpy(buf, pcm + off, take * sizeof *buf);
		struct frame *fr = &g_speech[i];
		fr->len = opt.pcmu ? audio_encode_ulaw_frame(buf, fr->data)
		                   : opus_encode(enc, buf, FRAME_SAMPLES, fr->data, MAX_OPUS);
		if (fr->len < 0) {
			logf_("opus_encode: %s", opus_strerror(fr->len));
			free(pcm);
			opus_encoder_destroy(enc);
			return -1;
		}
		uint8_t measured = audio_frame_level(buf, FRAME_SAMPLES);
		if (measured > 70)
			quiet++;
		fr->level = opt.measured_levels ? measured : (uint8_t)opt.speech_level;
		fr->voice = fr->level < 127;
		bytes += fr->len;
	}
	free(pcm);
	opus_encoder_destroy(enc);
	logf_("speech: %d %s frames (%.1f s), mean %.0f bytes/frame, %d frames quieter than 70 dBov, "
	      "silence frame %d bytes; levels %s",
	      g_speech_n, opt.pcmu ? "PCMU" : "Opus", g_speech_n * 0.02, bytes / g_speech_n, quiet,
	      g_silence.len,
	      opt.no_levels ? "not sent" : opt.measured_levels ? "measured per frame" : "fixed");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Janus HTTP API client (libcurl keep-alive + jansson) */

struct http {
	CURL *curl;
	atomic_bool *abort; /* optional: abort transfers when set */
	struct curl_slist *hdrs;
	char *buf;
	size_t len, cap;
};

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *user)
{
	struct http *h = user;
	size_t n = size * nmemb;
	if (h->len + n + 1 > h->cap) {
		size_t cap = (h->cap ? h->cap * 2 : 4096);
		while (cap < h->len + n + 1)
			cap *= 2;
		char *b = realloc(h->buf, cap);
		if (!b)
			return 0;
		h->buf = b;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, ptr, n);
	h->len += n;
	h->buf[h->len] = 0;
	return n;
}

static int http_abort_cb(void *p, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct http *h = p;
	(void)a; (void)b; (void)c; (void)d;
	return (g_stop || (h->abort && atomic_load(h->abort))) ? 1 : 0;
}

static int http_init(struct http *h)
{
	memset(h, 0, sizeof *h);
	h->curl = curl_easy_init();
	if (!h->curl)
		return -1;
	h->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, http_abort_cb);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, h);
	return 0;
}

static void http_free(struct http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdrs);
	free(h->buf);
	memset(h, 0, sizeof *h);
}

/* POST body (or GET when body is NULL); returns the parsed JSON answer. */
static json_t *http_req(struct http *h, const char *url, json_t *body, long timeout_s)
{
	char *text = NULL;
	h->len = 0;
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, timeout_s);
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->hdrs);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, text);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	CURLcode rc = curl_easy_perform(h->curl);
	free(text);
	if (rc != CURLE_OK) {
		if ((rc != CURLE_OPERATION_TIMEDOUT && rc != CURLE_ABORTED_BY_CALLBACK) || body)
			logf_("HTTP %s %s: %s", body ? "POST" : "GET", url, curl_easy_strerror(rc));
		return NULL;
	}
	json_error_t err;
	json_t *j = json_loadb(h->buf, h->len, 0, &err);
	if (!j)
		logf_("bad JSON from %s: %s", url, err.text);
	return j;
}

struct janus {
	struct http http;
	char session_url[256];
	uint64_t session;
	unsigned long txn;
};

static char *next_txn(struct janus *jn, char *buf, size_t n)
{
	snprintf(buf, n, "lg%lu", ++jn->txn);
	return buf;
}

static json_t *janus_post(struct janus *jn, const char *url, json_t *body)
{
	json_t *r = http_req(&jn->http, url, body, 30);
	json_decref(body);
	return r;
}

static int janus_connect(struct janus *jn)
{
	memset(jn, 0, sizeof *jn);
	if (http_init(&jn->http))
		return -1;
	char t[32];
	json_t *r = janus_post(jn, opt.janus_url,
	                       json_pack("{s:s,s:s}", "janus", "create", "transaction", next_txn(jn, t, sizeof t)));
	json_t *id = r ? json_object_get(json_object_get(r, "data"), "id") : NULL;
	if (!json_is_integer(id)) {
		logf_("cannot create a Janus session at %s", opt.janus_url);
		json_decref(r);
		return -1;
	}
	jn->session = (uint64_t)json_integer_value(id);
	snprintf(jn->session_url, sizeof jn->session_url, "%s/%" PRIu64, opt.janus_url, jn->session);
	json_decref(r);
	return 0;
}

static uint64_t janus_attach(struct janus *jn)
{
	char t[32];
	json_t *r = janus_post(jn, jn->session_url,
	                       json_pack("{s:s,s:s,s:s}", "janus", "attach", "plugin", opt.plugin_name,
	                                 "transaction", next_txn(jn, t, sizeof t)));
	json_t *id = r ? json_object_get(json_object_get(r, "data"), "id") : NULL;
	uint64_t h = json_is_integer(id) ? (uint64_t)json_integer_value(id) : 0;
	if (!h) {
		char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
		logf_("attach %s failed: %s", opt.plugin_name, s ? s : "(no answer)");
		free(s);
	}
	json_decref(r);
	return h;
}

/* Sends a plugin message on a handle; returns the whole Janus answer
 * (ack for async requests, success + plugindata for sync ones). Steals body. */
static json_t *janus_message(struct janus *jn, uint64_t handle, json_t *body, char *txn, size_t txn_len)
{
	char url[320];
	snprintf(url, sizeof url, "%s/%" PRIu64, jn->session_url, handle);
	return janus_post(jn, url,
	                  json_pack("{s:s,s:s,s:o}", "janus", "message", "transaction",
	                            next_txn(jn, txn, txn_len), "body", body));
}

/* plugindata.data of a synchronous answer, or NULL (logged) on error. */
static json_t *plugin_data(json_t *answer, const char *what)
{
	json_t *d = json_object_get(json_object_get(answer, "plugindata"), "data");
	if (!d || json_object_get(d, "error_code")) {
		char *s = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
		logf_("%s failed: %s", what, s ? s : "(no answer)");
		free(s);
		return NULL;
	}
	return d;
}

/* Long-polls the session until the event with this transaction arrives. */
static json_t *janus_wait_event(struct janus *jn, const char *txn, double timeout_s)
{
	char url[320];
	snprintf(url, sizeof url, "%s?maxev=50", jn->session_url);
	double until = now_s() + timeout_s;
	while (now_s() < until && !g_stop) {
		json_t *r = http_req(&jn->http, url, NULL, 5);
		if (!r)
			continue;
		json_t *arr = json_is_array(r) ? r : NULL;
		size_t n = arr ? json_array_size(arr) : 1;
		for (size_t i = 0; i < n; i++) {
			json_t *ev = arr ? json_array_get(arr, i) : r;
			const char *t = json_string_value(json_object_get(ev, "transaction"));
			const char *kind = json_string_value(json_object_get(ev, "janus"));
			if (t && !strcmp(t, txn) && kind && !strcmp(kind, "event")) {
				json_incref(ev);
				json_decref(r);
				return ev;
			}
		}
		json_decref(r);
	}
	logf_("no event for transaction %s within %.0f s", txn, timeout_s);
	return NULL;
}

static void janus_destroy_session(struct janus *jn)
{
	if (!jn->session)
		return;
	char t[32];
	json_decref(janus_post(jn, jn->session_url,
	                       json_pack("{s:s,s:s}", "janus", "destroy", "transaction", next_txn(jn, t, sizeof t))));
	jn->session = 0;
}

/* Background thread while the load runs: drains session events by long-poll
 * and sends keep-alives, so the session never times out. */
static atomic_bool g_poll_stop;
static atomic_ulong g_events;
static atomic_bool g_in_window;
static atomic_int g_foreign_max = -1; /* most sessions of other clients seen in the window */
static atomic_int g_foreign_checks;

/* Admin API list_sessions: sessions other than ours (-1: cannot tell). */
static int foreign_sessions(struct http *h, uint64_t ours)
{
	json_t *b = json_pack("{s:s,s:s,s:s}", "janus", "list_sessions", "transaction", "lgadm",
	                      "admin_secret", opt.admin_secret);
	json_t *r = http_req(h, opt.admin_url, b, 2);
	json_decref(b);
	json_t *list = json_object_get(r, "sessions");
	int n = -1;
	if (json_is_array(list)) {
		n = 0;
		for (size_t i = 0; i < json_array_size(list); i++)
			if ((uint64_t)json_integer_value(json_array_get(list, i)) != ours)
				n++;
	}
	json_decref(r);
	return n;
}

static void ab_queue_sample(struct http *h, uint64_t session);

static void *poll_thread(void *arg)
{
	struct janus *jn = arg;
	struct http h;
	if (http_init(&h))
		return NULL;
	h.abort = &g_poll_stop;
	char url[320];
	snprintf(url, sizeof url, "%s?maxev=100", jn->session_url);
	double last_ka = now_s();
	unsigned long ka = 0;
	while (!atomic_load(&g_poll_stop) && !g_stop) {
		if (atomic_load(&g_in_window) && opt.admin_url[0]) {
			int n = foreign_sessions(&h, jn->session);
			atomic_fetch_add(&g_foreign_checks, 1);
			if (n > atomic_load(&g_foreign_max))
				atomic_store(&g_foreign_max, n);
		}
		if (atomic_load(&g_in_window) && opt.latency && opt.plugin == PLUGIN_AUDIOBRIDGE &&
		    opt.admin_url[0])
			ab_queue_sample(&h, jn->session);
		json_t *r = http_req(&h, url, NULL, 1);
		if (r) {
			atomic_fetch_add(&g_events, json_is_array(r) ? json_array_size(r) : 1);
			json_decref(r);
		}
		if (now_s() - last_ka > 10) {
			char t[32];
			snprintf(t, sizeof t, "ka%lu", ++ka);
			json_t *b = json_pack("{s:s,s:s}", "janus", "keepalive", "transaction", t);
			json_decref(http_req(&h, jn->session_url, b, 5));
			json_decref(b);
			last_ka = now_s();
		}
	}
	http_free(&h);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* rooms and participants */

struct part {
	int fd;
	int room;
	bool talker;
	bool joined;
	struct sockaddr_in dst;
	uint32_t ssrc, ts;
	uint16_t seq;
	int frame; /* next speech frame */
	uint64_t handle; /* AudioBridge: this participant's handle */
	json_t *id; /* participant id as the plugin gave it */
	bool sampled;     /* room 0's participants (all with --latency): decoded */
	OpusDecoder *dec; /* their Opus decoder (NULL with --codec pcmu) */
	struct lat_listener lat; /* --latency: burst onset detector */
	uint64_t tx, rx, rx_bytes, rx_voice;
	uint64_t rx_w0, rx_voice_w0; /* at window start */
	uint64_t tx_w0;
};

static struct janus g_jn;
static uint64_t g_ctl; /* control handle: creates, destroys, rtp_join */

/* Switchboard's control plane (create, start_recording, rtp_join, destroy)
 * is the operator's: it goes through the Admin API's message_plugin, as an
 * operator's back end would send it. The answer is reshaped into a Janus API
 * answer (plugindata.data = response) so both plugins share plugin_data().
 * AudioBridge takes the same requests on the control handle. Steals body. */
static json_t *control_message(json_t *body, char *txn, size_t txn_len)
{
	if (opt.plugin != PLUGIN_SWITCHBOARD)
		return janus_message(&g_jn, g_ctl, body, txn, txn_len);
	json_t *r = janus_post(&g_jn, opt.admin_url,
	                       json_pack("{s:s,s:s,s:s,s:s,s:o}", "janus", "message_plugin",
	                                 "transaction", next_txn(&g_jn, txn, txn_len), "admin_secret",
	                                 opt.admin_secret, "plugin", opt.plugin_name, "request", body));
	json_t *response = json_object_get(r, "response");
	if (!response)
		return r; /* a Janus-level error: plugin_data() logs it whole */
	json_t *shaped = json_pack("{s:s,s:{s:s,s:O}}", "janus", "success", "plugindata", "plugin",
	                           opt.plugin_name, "data", response);
	json_decref(r);
	return shaped;
}
static struct part *g_parts;
static int g_nparts;
static bool *g_room_created;
static int g_rooms_created;
static int g_errors;
static struct lat_room *g_lat_rooms; /* --latency: each room's last burst */
static struct lat_stats g_lat;       /* --latency: samples of the window */

/* --latency on AudioBridge: what its handle_info (Admin API) shows for room
 * 0's talker, about once a second in the window: the prebuffer setting and
 * the packets queued before the mixer (queue-in) - where its delay sits. */
static struct {
	int samples, prebuffer, in_min, in_max;
	long in_sum;
} g_abq = {.prebuffer = -1, .in_min = 1 << 30};

static json_t *ab_handle_info(struct http *h, uint64_t session, uint64_t handle)
{
	char url[320];
	snprintf(url, sizeof url, "%s/%" PRIu64 "/%" PRIu64, opt.admin_url, session, handle);
	json_t *b = json_pack("{s:s,s:s,s:s}", "janus", "handle_info", "transaction", "lgq",
	                      "admin_secret", opt.admin_secret);
	json_t *r = http_req(h, url, b, 2);
	json_decref(b);
	json_t *ps = json_object_get(json_object_get(r, "info"), "plugin_specific");
	json_incref(ps);
	json_decref(r);
	return ps;
}

static void ab_queue_sample(struct http *h, uint64_t session)
{
	if (!g_parts || !g_parts[0].handle)
		return;
	json_t *t = ab_handle_info(h, session, g_parts[0].handle); /* room 0's talker */
	json_t *qi = json_object_get(t, "queue-in");
	if (json_is_integer(qi)) {
		int in = (int)json_integer_value(qi);
		g_abq.samples++;
		g_abq.in_sum += in;
		g_abq.in_min = in < g_abq.in_min ? in : g_abq.in_min;
		g_abq.in_max = in > g_abq.in_max ? in : g_abq.in_max;
		json_t *pb = json_object_get(t, "prebuffer-count");
		if (json_is_integer(pb))
			g_abq.prebuffer = (int)json_integer_value(pb);
	}
	json_decref(t);
}

static void room_name(int r, char *buf, size_t n)
{
	snprintf(buf, n, "%s-%d", opt.prefix, r);
}

static int create_room(int r)
{
	char name[96], txn[32];
	room_name(r, name, sizeof name);
	json_t *body = json_pack("{s:s,s:s,s:i}", "request", "create", "room", name, "sampling_rate", opt.sampling_rate);
	if (opt.plugin == PLUGIN_AUDIOBRIDGE)
		json_object_set_new(body, "allow_rtp_participants", json_true());
	else
		json_object_set_new(body, "ephemeral", json_false());
	if (opt.record_dir && opt.plugin == PLUGIN_AUDIOBRIDGE) {
		/* AudioBridge records the mix to WAV from its creation. */
		char file[512];
		snprintf(file, sizeof file, "%s/%s.wav", opt.record_dir, name);
		json_object_set_new(body, "record", json_true());
		json_object_set_new(body, "record_file", json_string(file));
	}
	json_t *a = control_message(body, txn, sizeof txn);
	json_t *d = plugin_data(a, "create");
	const char *what = d ? json_string_value(json_object_get(d, opt.plugin == PLUGIN_AUDIOBRIDGE ? "audiobridge" : "switchboard")) : NULL;
	int rc = (what && !strcmp(what, "created")) ? 0 : -1;
	if (d && rc) {
		char *s = json_dumps(a, JSON_COMPACT);
		logf_("create %s: unexpected answer %s", name, s);
		free(s);
	}
	json_decref(a);
	if (!rc && opt.record_dir && opt.plugin == PLUGIN_SWITCHBOARD) {
		/* The same for Switchboard: its recorder, WAV, from now on. */
		a = control_message(json_pack("{s:s,s:s,s:s}", "request", "start_recording", "room",
		                              name, "format", "wav"),
		                    txn, sizeof txn);
		d = plugin_data(a, "start_recording");
		what = d ? json_string_value(json_object_get(d, "switchboard")) : NULL;
		if (!what || strcmp(what, "success")) {
			char *s = json_dumps(a, JSON_COMPACT);
			logf_("start_recording %s: unexpected answer %s", name, s);
			free(s);
			rc = -1;
		}
		json_decref(a);
	}
	if (!rc) {
		g_room_created[r] = true;
		g_rooms_created++;
	}
	return rc;
}

static int destroy_room(int r)
{
	char name[96], txn[32];
	room_name(r, name, sizeof name);
	json_t *a = control_message(json_pack("{s:s,s:s}", "request", "destroy", "room", name), txn, sizeof txn);
	json_t *d = plugin_data(a, "destroy");
	json_decref(a);
	return d ? 0 : -1;
}

static int open_socket(struct part *p)
{
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		logf_("socket: %s", strerror(errno));
		return -1;
	}
	int sz = 1 << 20;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, opt.local_ip, &a.sin_addr);
	if (bind(p->fd, (struct sockaddr *)&a, sizeof a)) {
		logf_("bind: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	if (getsockname(fd, (struct sockaddr *)&a, &l))
		return -1;
	return ntohs(a.sin_port);
}

static int set_dst(struct part *p, json_t *ip, json_t *port, const char *who)
{
	if (!json_is_string(ip) || !json_is_integer(port)) {
		logf_("%s: answer has no ip/port", who);
		return -1;
	}
	memset(&p->dst, 0, sizeof p->dst);
	p->dst.sin_family = AF_INET;
	p->dst.sin_port = htons((uint16_t)json_integer_value(port));
	if (inet_pton(AF_INET, json_string_value(ip), &p->dst.sin_addr) != 1) {
		logf_("%s: bad ip %s", who, json_string_value(ip));
		return -1;
	}
	return 0;
}

static int join_switchboard(struct part *p, int idx)
{
	char name[96], disp[64], txn[32], who[192];
	room_name(p->room, name, sizeof name);
	snprintf(disp, sizeof disp, "lg-%d%s", idx, p->talker ? "-talker" : "");
	snprintf(who, sizeof who, "rtp_join %s/%s", name, disp);
	json_t *body = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:i}", "request", "rtp_join", "room", name,
	                         "ip", opt.local_ip, "port", local_port(p->fd), "codec",
	                         opt.pcmu ? "pcmu" : "opus", "display", disp, "payload_type",
	                         payload_type());
	if (!opt.no_levels)
		json_object_set_new(body, "audio_level_ext", json_integer(EXT_ID));
	json_t *a = control_message(body, txn, sizeof txn);
	json_t *d = plugin_data(a, who);
	int rc = -1;
	if (d) {
		const char *what = json_string_value(json_object_get(d, "switchboard"));
		if (!what || strcmp(what, "rtp_joined")) {
			char *s = json_dumps(a, JSON_COMPACT);
			logf_("%s: expected rtp_joined, got %s", who, s);
			free(s);
		} else if (!set_dst(p, json_object_get(d, "ip"), json_object_get(d, "port"), who)) {
			p->id = json_incref(json_object_get(d, "id"));
			rc = 0;
		}
	}
	json_decref(a);
	return rc;
}

static int join_audiobridge(struct part *p, int idx)
{
	char name[96], disp[64], txn[32], who[192];
	room_name(p->room, name, sizeof name);
	snprintf(disp, sizeof disp, "lg-%d%s", idx, p->talker ? "-talker" : "");
	snprintf(who, sizeof who, "join %s/%s", name, disp);
	p->handle = janus_attach(&g_jn);
	if (!p->handle)
		return -1;
	json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:{s:s,s:i,s:i}}", "request", "join", "room",
	                         name, "display", disp, "codec", opt.pcmu ? "pcmu" : "opus", "quality",
	                         opt.ab_quality, "bitrate", opt.ab_bitrate, "rtp", "ip", opt.local_ip,
	                         "port", local_port(p->fd), "payload_type", payload_type());
	if (!opt.no_levels)
		json_object_set_new(json_object_get(body, "rtp"), "audiolevel_ext", json_integer(EXT_ID));
	json_t *a = janus_message(&g_jn, p->handle, body, txn, sizeof txn);
	const char *kind = json_string_value(json_object_get(a, "janus"));
	if (!kind || strcmp(kind, "ack")) {
		/* a synchronous error answer */
		plugin_data(a, who);
		json_decref(a);
		return -1;
	}
	json_decref(a);
	json_t *ev = janus_wait_event(&g_jn, txn, 15);
	json_t *d = plugin_data(ev, who);
	int rc = -1;
	if (d) {
		const char *what = json_string_value(json_object_get(d, "audiobridge"));
		json_t *rtp = json_object_get(d, "rtp");
		if (!what || strcmp(what, "joined") || !rtp) {
			char *s = json_dumps(ev, JSON_COMPACT);
			logf_("%s: expected joined with rtp, got %s", who, s);
			free(s);
		} else if (!set_dst(p, json_object_get(rtp, "ip"), json_object_get(rtp, "port"), who)) {
			p->id = json_incref(json_object_get(d, "id"));
			rc = 0;
		}
	}
	json_decref(ev);
	return rc;
}

/* ------------------------------------------------------------------ */
/* RTP */

static int build_rtp(struct part *p, unsigned char *out)
{
	const struct frame *fr = p->talker ? &g_speech[p->frame] : &g_silence;
	out[0] = opt.no_levels ? 0x80 : 0x90; /* V=2, X=1 with levels */
	out[1] = (unsigned char)payload_type();
	out[2] = (unsigned char)(p->seq >> 8);
	out[3] = (unsigned char)p->seq;
	out[4] = (unsigned char)(p->ts >> 24);
	out[5] = (unsigned char)(p->ts >> 16);
	out[6] = (unsigned char)(p->ts >> 8);
	out[7] = (unsigned char)p->ts;
	out[8] = (unsigned char)(p->ssrc >> 24);
	out[9] = (unsigned char)(p->ssrc >> 16);
	out[10] = (unsigned char)(p->ssrc >> 8);
	out[11] = (unsigned char)p->ssrc;
	int header = 12;
	if (opt.no_levels)
		goto payload;
	/* RFC 8285 one-byte header extension block with one element (RFC 6464) */
	header = 20;
	out[12] = 0xBE;
	out[13] = 0xDE;
	out[14] = 0;
	out[15] = 1; /* length in 32-bit words */
	out[16] = (EXT_ID << 4) | 0; /* id 1, len-1 = 0 */
	out[17] = (unsigned char)((fr->voice ? 0x80 : 0) | (fr->level & 0x7f));
	out[18] = 0;
	out[19] = 0;
payload:
	memcpy(out + header, fr->data, (size_t)fr->len);
	p->seq++;
	p->ts += frame_ticks();
	if (p->talker && ++p->frame >= g_speech_n)
		p->frame = 0;
	return header + fr->len;
}

/* payload length of a received RTP packet, or -1 */
static int rtp_payload_len(const unsigned char *b, int n)
{
	if (n < 12 || (b[0] >> 6) != 2)
		return -1;
	int off = 12 + 4 * (b[0] & 0x0f);
	if (b[0] & 0x10) {
		if (n < off + 4)
			return -1;
		off += 4 + 4 * ((b[off + 2] << 8) | b[off + 3]);
	}
	int len = n - off;
	if (b[0] & 0x20 && len > 0)
		len -= b[n - 1];
	return len < 0 ? -1 : len;
}

static uint64_t g_rx_other; /* RTCP or junk */

static int64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void drain(int ep)
{
	struct epoll_event evs[256];
	int n;
	while ((n = epoll_wait(ep, evs, 256, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			struct part *p = evs[i].data.ptr;
			unsigned char buf[2048];
			for (;;) {
				ssize_t r = recv(p->fd, buf, sizeof buf, 0);
				if (r < 0)
					break;
				int64_t rx_ns = opt.latency ? mono_ns() : 0; /* before decoding */
				int pl = rtp_payload_len(buf, (int)r);
				if (pl < 0 || ((buf[1] & 0x7f) >= 72 && (buf[1] & 0x7f) <= 76)) {
					g_rx_other++;
					continue;
				}
				p->rx++;
				p->rx_bytes += (uint64_t)pl;
				if (p->sampled) {
					/* sampled participants: decode and check the mix is audible */
					int16_t pcm[FRAME_SAMPLES * 6];
					const unsigned char *payload = buf + (r - pl);
					int ns;
					if (opt.pcmu) {
						ns = pl < FRAME_SAMPLES * 6 ? pl : FRAME_SAMPLES * 6;
						for (int k = 0; k < ns; k++)
							pcm[k] = audio_ulaw_to_linear(payload[k]);
					} else {
						ns = opus_decode(p->dec, payload, pl, pcm, FRAME_SAMPLES * 6, 0);
					}
					int level = ns > 0 ? audio_frame_level(pcm, ns) : 127;
					if (ns > 0 && level < VOICE_DBOV)
						p->rx_voice++;
					if (ns > 0 && opt.latency && !p->talker)
						lat_on_frame(&g_lat, &p->lat, &g_lat_rooms[p->room], level, rx_ns);
				}
			}
		}
		if (n < 256)
			break;
	}
}

/* Sleeps until the absolute CLOCK_MONOTONIC deadline due_ns. With --latency
 * the wait is an epoll_pwait2 on the sockets, so a packet is read and
 * timestamped as soon as it arrives instead of at the next 1 ms tick (up to
 * 1 ms late); without it, a plain clock_nanosleep as before (the CPU
 * scenarios keep their exact loop). */
static void wait_tick(int ep, long long due_ns)
{
	static bool no_pwait2;
	if (opt.latency && !no_pwait2) {
		for (;;) {
			long long left = due_ns - mono_ns();
			if (left <= 0 || g_stop)
				return;
			struct timespec to = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
			struct epoll_event ev;
			int n = epoll_pwait2(ep, &ev, 1, &to, NULL);
			if (n > 0)
				drain(ep);
			else if (n < 0 && errno == ENOSYS) {
				no_pwait2 = true; /* old kernel: fall back to the tick */
				break;
			}
		}
	}
	struct timespec ts = {.tv_sec = due_ns / 1000000000LL, .tv_nsec = due_ns % 1000000000LL};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !g_stop)
		;
}

/* ------------------------------------------------------------------ */
/* CPU of the measured process */

static long long proc_cpu_ticks(long pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *s = strrchr(buf, ')');
	if (!s)
		return -1;
	/* after ")": field 3 (state) ... field 14 utime, 15 stime */
	unsigned long long ut = 0, st = 0;
	if (sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* Resident memory of the measured process (VmRSS), kB, or -1. */
static long proc_rss_kb(long pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Switchboard's mixer counters (--mixer-stats: the "stats" op over the
 * Admin API), read at both ends of the window: a mixer pass that ends after
 * its 20 ms deadline is a late frame. ticks < 0: not read. Not by default:
 * the request holds up the send loop for a moment at the window's start. */
struct mixer_counts {
	long long ticks, late, skipped;
	int workers;
};

static void mixer_counts_read(struct mixer_counts *m)
{
	m->ticks = m->late = m->skipped = -1;
	m->workers = -1;
	if (!opt.mixer_stats || opt.plugin != PLUGIN_SWITCHBOARD || !opt.admin_url[0])
		return;
	char txn[32];
	json_t *a = control_message(json_pack("{s:s}", "request", "stats"), txn, sizeof txn);
	json_t *mx = json_object_get(plugin_data(a, "stats"), "mixer");
	if (json_is_object(mx)) {
		m->ticks = json_integer_value(json_object_get(mx, "ticks"));
		m->late = json_integer_value(json_object_get(mx, "late_frames"));
		m->skipped = json_integer_value(json_object_get(mx, "skipped"));
		m->workers = (int)json_integer_value(json_object_get(mx, "workers"));
	}
	json_decref(a);
}

/* The stall canaries (--canary-cpus, the CPUs Janus runs on): one thread
 * per CPU, pinned to it at loadgen's priority, that does nothing but wake
 * every 20 ms on absolute deadlines. A wake-up more than a frame after its
 * deadline would have made any mixer pass on that CPU late, however short:
 * such stalls are the machine's (other work, the hypervisor), and the
 * mixer's late frames are read against them. */
#define MAX_CANARIES 64
static atomic_llong g_canary_ticks, g_canary_late, g_canary_max_ns;
static atomic_bool g_canary_stop;

static int parse_cpus(const char *list, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (const char *p = list; *p;) {
		char *end;
		long a = strtol(p, &end, 10), b = a;
		if (end == p || a < 0 || a >= CPU_SETSIZE)
			return -1;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a || b >= CPU_SETSIZE)
				return -1;
		}
		for (long c = a; c <= b; c++)
			CPU_SET((int)c, set);
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return CPU_COUNT(set) ? 0 : -1;
}

static void *canary_thread(void *arg)
{
	(void)arg; /* pinned by its attributes */
	/* Under a real-time policy (run.sh BENCH_CORES_PRIO=rr) Janus's threads
	 * share loadgen's priority and round-robin slices: one step above them,
	 * a canary counts the machine's stalls, not Janus's own threads. */
	int policy;
	struct sched_param sp;
	if (!pthread_getschedparam(pthread_self(), &policy, &sp) &&
	    (policy == SCHED_RR || policy == SCHED_FIFO)) {
		sp.sched_priority++;
		pthread_setschedparam(pthread_self(), policy, &sp);
	}
	long long due = mono_ns();
	while (!atomic_load(&g_canary_stop)) {
		due += FRAME_NS;
		struct timespec ts = {.tv_sec = due / 1000000000LL, .tv_nsec = due % 1000000000LL};
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		long long late = mono_ns() - due;
		atomic_fetch_add(&g_canary_ticks, 1);
		if (late > FRAME_NS)
			atomic_fetch_add(&g_canary_late, 1);
		if (atomic_load(&g_in_window) && late > atomic_load(&g_canary_max_ns))
			atomic_store(&g_canary_max_ns, late);
		/* like the mixer: far behind, start again from now */
		if (late > 10 * FRAME_NS)
			due += late / FRAME_NS * FRAME_NS;
	}
	return NULL;
}

struct window {
	double t0, t1;
	long long canary_ticks0, canary_late0, canary_ticks1, canary_late1;
	long long cpu0, cpu1;
	double self0, self1;
	struct mixer_counts mix0, mix1;
	long rss_before_kb; /* before the first room was made */
	long rss_kb;        /* at the end of the window, everything in place */
};

static void window_begin(struct window *w)
{
	mixer_counts_read(&w->mix0);
	w->canary_ticks0 = atomic_load(&g_canary_ticks);
	w->canary_late0 = atomic_load(&g_canary_late);
	atomic_store(&g_in_window, true);
	w->cpu0 = opt.cpu_pid ? proc_cpu_ticks(opt.cpu_pid) : -1;
	w->t0 = now_s();
	w->self0 = self_cpu_s();
}

static void window_end(struct window *w)
{
	atomic_store(&g_in_window, false);
	w->canary_ticks1 = atomic_load(&g_canary_ticks);
	w->canary_late1 = atomic_load(&g_canary_late);
	w->cpu1 = opt.cpu_pid ? proc_cpu_ticks(opt.cpu_pid) : -1;
	w->rss_kb = opt.cpu_pid ? proc_rss_kb(opt.cpu_pid) : -1;
	w->t1 = now_s();
	w->self1 = self_cpu_s();
	mixer_counts_read(&w->mix1);
}

/* ------------------------------------------------------------------ */

static void on_signal(int s)
{
	(void)s;
	g_stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: loadgen --plugin switchboard|audiobridge --rooms N --per-room P --talkers T\n"
	        "               --seconds S [--warmup W] [--idle] [--speech FILE.wav]\n"
	        "               [--janus URL] [--cpu-pid PID] [--prefix NAME] [--create-rate R]\n"
	        "               [--local-ip IP] [--speech-level DBOV | --measured-levels]\n"
	        "               [--no-levels]  (no RFC 6464 extension, as phone legs send)\n"
	        "               [--codec opus|pcmu]  (pcmu: G.711 mu-law 8 kHz legs)\n"
	        "               [--sampling-rate HZ]  (the rooms' mixing rate, 48000)\n"
	        "               [--ab-quality Q] [--ab-bitrate BPS] [--deadline S] [--label L] [-v]\n"
	        "               [--record DIR]  (record every room's mix to WAV)\n"
	        "               [--latency [--latency-floor DBOV] [--latency-tone DBOV]]\n"
	        "                 (talkers send a 200 ms 1 kHz burst every 1 s over a floor of\n"
	        "                  -60 dBov noise, 127 = digital silence; every listener times\n"
	        "                  the burst's onset: mouth-to-ear through the mixer)\n"
	        "               [--admin URL|\"\"] [--admin-secret S]  (watch for other clients' sessions)\n"
	        "               [--canary-cpus LIST]  (a thread waking every 20 ms on those CPUs\n"
	        "                                      counts the machine's stalls)\n"
	        "               [--mixer-stats]  (Switchboard: the mixer's late frames in the window)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_MONOTONIC, &g_start);
	if (getenv("JANUS_ADMIN_SECRET"))
		opt.admin_secret = getenv("JANUS_ADMIN_SECRET");
	const char *label = NULL;
	static const struct option lo[] = {
		{"plugin", 1, 0, 'p'}, {"rooms", 1, 0, 'r'}, {"per-room", 1, 0, 'n'}, {"talkers", 1, 0, 't'},
		{"seconds", 1, 0, 's'}, {"warmup", 1, 0, 'w'}, {"idle", 0, 0, 'i'}, {"speech", 1, 0, 'f'},
		{"janus", 1, 0, 'j'}, {"cpu-pid", 1, 0, 'c'}, {"prefix", 1, 0, 'x'}, {"create-rate", 1, 0, 'R'},
		{"local-ip", 1, 0, 'l'}, {"speech-level", 1, 0, 'L'}, {"measured-levels", 0, 0, 'M'},
		{"ab-quality", 1, 0, 'Q'}, {"ab-bitrate", 1, 0, 'B'}, {"deadline", 1, 0, 'D'},
		{"label", 1, 0, 'b'}, {"record", 1, 0, 'W'}, {"admin", 1, 0, 'A'}, {"admin-secret", 1, 0, 'S'},
		{"latency", 0, 0, 'T'}, {"no-levels", 0, 0, 'N'}, {"codec", 1, 0, 'C'},
		{"sampling-rate", 1, 0, 'H'}, {"latency-floor", 1, 0, 'F'}, {"latency-tone", 1, 0, 'O'}, {"canary-cpus", 1, 0, 'K'}, {"mixer-stats", 0, 0, 'X'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strcmp(optarg, "switchboard")) {
				opt.plugin = PLUGIN_SWITCHBOARD;
				opt.plugin_name = "janus.plugin.switchboard";
			} else if (!strcmp(optarg, "audiobridge")) {
				opt.plugin = PLUGIN_AUDIOBRIDGE;
				opt.plugin_name = "janus.plugin.audiobridge";
			} else
				usage();
			break;
		case 'r': opt.rooms = atoi(optarg); break;
		case 'n': opt.per_room = atoi(optarg); break;
		case 't': opt.talkers = atoi(optarg); break;
		case 's': opt.seconds = atof(optarg); break;
		case 'w': opt.warmup = atof(optarg); break;
		case 'i': opt.idle = true; break;
		case 'f': opt.speech = optarg; break;
		case 'j': opt.janus_url = optarg; break;
		case 'c': opt.cpu_pid = atol(optarg); break;
		case 'x': opt.prefix = optarg; break;
		case 'R': opt.create_rate = atof(optarg); break;
		case 'W': opt.record_dir = optarg; break;
		case 'l': opt.local_ip = optarg; break;
		case 'L': opt.speech_level = atoi(optarg); break;
		case 'M': opt.measured_levels = true; break;
		case 'Q': opt.ab_quality = atoi(optarg); break;
		case 'B': opt.ab_bitrate = atoi(optarg); break;
		case 'D': opt.deadline = atof(optarg); break;
		case 'b': label = optarg; break;
		case 'A': opt.admin_url = optarg; break;
		case 'S': opt.admin_secret = optarg; break;
		case 'T': opt.latency = true; break;
		case 'N': opt.no_levels = true; break;
		case 'C':
			if (!strcmp(optarg, "pcmu"))
				opt.pcmu = true;
			else if (strcmp(optarg, "opus"))
				usage();
			break;
		case 'H': opt.sampling_rate = atoi(optarg); break;
		case 'F': opt.lat_floor = atoi(optarg); break;
		case 'O': opt.lat_tone = atoi(optarg); break;
		case 'K': opt.canary_cpus = optarg; break;
		case 'X': opt.mixer_stats = true; break;
		case 'v': opt.verbose++; break;
		default: usage();
		}
	}
	if (opt.rooms < 0 || opt.per_room < 1 || opt.talkers < 0 || opt.talkers > opt.per_room ||
	    opt.seconds <= 0 || opt.warmup < 0 || opt.create_rate <= 0 || opt.speech_level < 0 ||
	    opt.speech_level > 127 || (!opt.idle && !opt.latency && !opt.speech && opt.talkers > 0))
		usage();
	/* one talker per room, so that every onset a listener hears is that
	 * talker's burst; the floor must stay below the quiet threshold */
	if (opt.latency && (opt.idle || opt.talkers != 1 || opt.per_room < 2 || opt.lat_tone < 0 ||
	                    opt.lat_tone >= LAT_LOUD_DBOV || opt.lat_floor <= LAT_QUIET_DBOV ||
	                    opt.lat_floor > 127)) {
		fprintf(stderr, "loadgen: --latency needs --talkers 1, --per-room >= 2, no --idle, "
		                "--latency-tone 0..%d and --latency-floor %d..127\n",
		        LAT_LOUD_DBOV - 1, LAT_QUIET_DBOV + 1);
		exit(2);
	}
	if (opt.sampling_rate != 8000 && opt.sampling_rate != 16000 && opt.sampling_rate != 24000 &&
	    opt.sampling_rate != 48000) {
		fprintf(stderr, "loadgen: --sampling-rate is 8000, 16000, 24000 or 48000\n");
		exit(2);
	}
	if (opt.latency && opt.pcmu) {
		fprintf(stderr, "loadgen: --latency times Opus bursts; it does not take --codec pcmu\n");
		exit(2);
	}
	if (opt.latency)
		opt.speech = NULL;
	if (opt.idle)
		opt.speech = NULL;

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	srandom((unsigned)(getpid() ^ time(NULL)));

	int rc = 1;
	int ep = -1;
	pthread_t poller, canary[MAX_CANARIES];
	bool poller_started = false;
	int canaries = 0;
	struct window w = {0};
	double setup_s = 0, teardown_s = 0, t_setup0;
	int joined = 0, late_ticks = 0;
	long long max_late_ns = 0;

	if (prepare_audio())
		return 1;
	if (janus_connect(&g_jn))
		return 1;
	g_ctl = janus_attach(&g_jn);
	if (!g_ctl)
		goto teardown;
	g_room_created = calloc((size_t)opt.rooms + 1, sizeof *g_room_created);

	/* ---- set-up ---- */
	w.rss_before_kb = opt.cpu_pid ? proc_rss_kb(opt.cpu_pid) : -1;
	t_setup0 = now_s();
	logf_("%s: creating %d room(s)%s", opt.plugin_name, opt.rooms, opt.idle ? " (idle)" : "");
	for (int r = 0; r < opt.rooms && !past_deadline(); r++) {
		if (create_room(r)) {
			g_errors++;
			if (g_errors > 20) {
				logf_("too many errors, giving up");
				goto teardown;
			}
		}
		/* pace: room r+1 not before (r+1)/rate seconds after the start */
		double due = t_setup0 + (r + 1) / opt.create_rate;
		double lag = due - now_s();
		if (lag > 0)
			usleep((useconds_t)(lag * 1e6));
		if (opt.idle && (r + 1) % 1000 == 0)
			logf_("  %d rooms created (%.0f rooms/s)", r + 1, (r + 1) / (now_s() - t_setup0));
	}
	if (g_rooms_created < opt.rooms)
		goto teardown;

	if (!opt.idle) {
		g_nparts = opt.rooms * opt.per_room;
		g_parts = calloc((size_t)g_nparts, sizeof *g_parts);
		for (int i = 0; i < g_nparts; i++)
			g_parts[i].fd = -1;
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (opt.latency)
			g_lat_rooms = calloc((size_t)opt.rooms, sizeof *g_lat_rooms);
		for (int i = 0; i < g_nparts && !past_deadline(); i++) {
			struct part *p = &g_parts[i];
			p->room = i / opt.per_room;
			int k = i % opt.per_room;
			p->talker = k < opt.talkers;
			/* talkers of a room start at different points of the speech */
			if (p->talker && g_speech_n > 0)
				p->frame = (int)((long)g_speech_n * k / (opt.talkers ? opt.talkers : 1)) % g_speech_n;
			/* --latency: rooms burst at different moments of the second */
			if (p->talker && opt.latency)
				p->frame = (int)((long)g_speech_n * p->room / opt.rooms) % g_speech_n;
			p->ssrc = (uint32_t)random();
			p->seq = (uint16_t)random();
			p->ts = (uint32_t)random();
			if (open_socket(p))
				goto teardown;
			p->sampled = p->room == 0 || opt.latency;
			if (p->sampled && !opt.pcmu) {
				int derr;
				p->dec = opus_decoder_create(RATE, 1, &derr);
			}
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
			epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev);
			int jr = opt.plugin == PLUGIN_SWITCHBOARD ? join_switchboard(p, i) : join_audiobridge(p, i);
			if (jr) {
				g_errors++;
				goto teardown;
			}
			p->joined = true;
			joined++;
			if (opt.verbose) {
				char ip[32];
				inet_ntop(AF_INET, &p->dst.sin_addr, ip, sizeof ip);
				logf_("  participant %d (room %d%s) local %d -> %s:%d", i, p->room,
				      p->talker ? ", talker" : "", local_port(p->fd), ip, ntohs(p->dst.sin_port));
			}
		}
		if (joined < g_nparts)
			goto teardown;
	}
	setup_s = now_s() - t_setup0;
	logf_("set-up done in %.2f s: %d rooms, %d participants", setup_s, g_rooms_created, joined);

	atomic_store(&g_poll_stop, false);
	poller_started = !pthread_create(&poller, NULL, poll_thread, &g_jn);
	if (opt.canary_cpus) {
		cpu_set_t set;
		if (parse_cpus(opt.canary_cpus, &set)) {
			logf_("--canary-cpus %s: not a CPU list", opt.canary_cpus);
			g_errors++;
		}
		for (int c = 0; c < CPU_SETSIZE && !g_errors && canaries < MAX_CANARIES; c++) {
			if (!CPU_ISSET(c, &set))
				continue;
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			pthread_attr_t attr;
			pthread_attr_init(&attr);
			if (pthread_attr_setaffinity_np(&attr, sizeof one, &one) ||
			    pthread_create(&canary[canaries], &attr, canary_thread, NULL)) {
				logf_("--canary-cpus: cannot start a canary on CPU %d", c);
				g_errors++;
			} else
				canaries++;
			pthread_attr_destroy(&attr);
		}
	}

	/* ---- load ---- */
	if (opt.idle) {
		double until = now_s() + opt.warmup;
		while (!past_deadline() && now_s() < until)
			usleep(50000);
		window_begin(&w);
		until = now_s() + opt.seconds;
		while (!past_deadline() && now_s() < until)
			usleep(50000);
		window_end(&w);
	} else {
		/* slots: participant i sends in 1 ms slot (i * SLOTS / n) of each 20 ms */
		int *slot_start = calloc((size_t)SLOTS + 1, sizeof *slot_start);
		int **slots = calloc((size_t)SLOTS, sizeof *slots);
		int *slot_n = calloc((size_t)SLOTS, sizeof *slot_n);
		for (int s = 0; s < SLOTS; s++)
			slots[s] = calloc((size_t)g_nparts, sizeof **slots);
		for (int i = 0; i < g_nparts; i++) {
			int s = (int)((long)i * SLOTS / g_nparts);
			slots[s][slot_n[s]++] = i;
		}
		long long total_ticks = (long long)((opt.warmup + opt.seconds) * 1e9 / SLOT_NS);
		long long warm_ticks = (long long)(opt.warmup * 1e9 / SLOT_NS);
		struct timespec base;
		clock_gettime(CLOCK_MONOTONIC, &base);
		long long base_ns = base.tv_sec * 1000000000LL + base.tv_nsec;
		long long end_ns = base_ns + total_ticks * SLOT_NS;
		unsigned char pkt[20 + MAX_OPUS];
		for (long long k = 0; k < total_ticks && !past_deadline(); k++) {
			long long due = base_ns + k * SLOT_NS;
			wait_tick(ep, due);
			struct timespec nw;
			clock_gettime(CLOCK_MONOTONIC, &nw);
			long long late = nw.tv_sec * 1000000000LL + nw.tv_nsec - due;
			if (late > 2 * SLOT_NS)
				late_ticks++;
			if (late > max_late_ns)
				max_late_ns = late;
			if (k == warm_ticks) {
				drain(ep);
				for (int i = 0; i < g_nparts; i++) {
					g_parts[i].rx_w0 = g_parts[i].rx;
					g_parts[i].rx_voice_w0 = g_parts[i].rx_voice;
					g_parts[i].tx_w0 = g_parts[i].tx;
				}
				window_begin(&w);
			}
			int s = (int)(k % SLOTS);
			for (int j = 0; j < slot_n[s]; j++) {
				struct part *p = &g_parts[slots[s][j]];
				bool burst = opt.latency && p->talker && g_speech[p->frame].burst_start;
				int len = build_rtp(p, pkt);
				int64_t t_send = burst ? mono_ns() : 0; /* the burst leaves the mouth */
				if (sendto(p->fd, pkt, (size_t)len, 0, (struct sockaddr *)&p->dst, sizeof p->dst) == len)
					p->tx++;
				if (burst) {
					/* measured when sent inside the window and at least 1 s
					 * before its end, so that its onset can still arrive */
					struct lat_room *lr = &g_lat_rooms[p->room];
					lr->burst_id++;
					lr->burst_ns = t_send;
					lr->counted = k >= warm_ticks && t_send + 1000000000LL <= end_ns;
					if (lr->counted)
						g_lat.expected += opt.per_room - opt.talkers;
				}
			}
			drain(ep);
		}
		drain(ep);
		window_end(&w);
		for (int s = 0; s < SLOTS; s++)
			free(slots[s]);
		free(slots);
		free(slot_n);
		free(slot_start);
	}
	rc = g_stop ? 1 : 0;
	if (opt.latency && rc == 0 && g_lat.n == 0) {
		logf_("--latency: no listener heard a burst in the window");
		rc = 1;
	}
	if (now_s() > opt.deadline) {
		logf_("deadline of %.0f s reached", opt.deadline);
		rc = 1;
	}

teardown:;
	double t_td = now_s();
	atomic_store(&g_poll_stop, true);
	if (poller_started)
		pthread_join(poller, NULL);
	atomic_store(&g_canary_stop, true);
	for (int c = 0; c < canaries; c++)
		pthread_join(canary[c], NULL);
	int destroyed = 0;
	g_stop = 0; /* teardown must run even after a signal */
	if (g_room_created) {
		for (int r = 0; r < opt.rooms; r++)
			if (g_room_created[r] && !destroy_room(r))
				destroyed++;
	}
	janus_destroy_session(&g_jn);
	teardown_s = now_s() - t_td;
	if (g_room_created)
		logf_("teardown: %d/%d rooms destroyed in %.2f s", destroyed, g_rooms_created, teardown_s);

	/* ---- report ---- */
	uint64_t tx = 0, tx_w = 0, rx_t = 0, rx_l = 0, rx_all = 0;
	uint64_t s_rx_t = 0, s_rx_l = 0, s_v_t = 0, s_v_l = 0; /* decoded sample: room 0 */
	int receiving = 0, voice_receiving_listeners = 0, n_talkers = 0, n_listeners = 0;
	for (int i = 0; i < g_nparts; i++) {
		struct part *p = &g_parts[i];
		tx += p->tx;
		tx_w += p->tx - p->tx_w0;
		rx_all += p->rx;
		uint64_t rw = p->rx - p->rx_w0, rvw = p->rx_voice - p->rx_voice_w0;
		if (rw > 0)
			receiving++;
		if (p->talker) {
			n_talkers++;
			rx_t += rw;
		} else {
			n_listeners++;
			rx_l += rw;
		}
		if (p->sampled) {
			if (p->talker) {
				s_rx_t += rw;
				s_v_t += rvw;
			} else {
				s_rx_l += rw;
				s_v_l += rvw;
				if (rvw > 0)
					voice_receiving_listeners++;
			}
		}
		if (p->fd >= 0)
			close(p->fd);
		if (p->dec)
			opus_decoder_destroy(p->dec);
		json_decref(p->id);
	}
	if (ep >= 0)
		close(ep);
	double win = w.t1 - w.t0;
	long hz = sysconf(_SC_CLK_TCK);
	double cpu_s = (w.cpu0 >= 0 && w.cpu1 >= 0) ? (double)(w.cpu1 - w.cpu0) / (double)hz : -1;
	json_t *out = json_pack("{s:s,s:s,s:i,s:i,s:i,s:b,s:i,s:i,s:i,s:i}", "plugin",
	                        opt.plugin == PLUGIN_SWITCHBOARD ? "switchboard" : "audiobridge", "label",
	                        label ? label : "", "rooms", opt.rooms, "per_room", opt.idle ? 0 : opt.per_room,
	                        "talkers_per_room", opt.idle ? 0 : opt.talkers, "idle", opt.idle,
	                        "rooms_created", g_rooms_created, "rooms_destroyed", destroyed,
	                        "participants", joined, "errors", g_errors);
	json_object_set_new(out, "ok", json_boolean(rc == 0 && g_errors == 0));
	json_object_set_new(out, "active_participants", json_integer(n_talkers));
	json_object_set_new(out, "setup_s", json_real(setup_s));
	json_object_set_new(out, "teardown_s", json_real(teardown_s));
	json_object_set_new(out, "window_s", json_real(win > 0 ? win : 0));
	json_object_set_new(out, "cpu_pid", json_integer(opt.cpu_pid));
	json_object_set_new(out, "janus_cpu_s", json_real(cpu_s));
	json_object_set_new(out, "janus_cpu_pct", json_real(cpu_s >= 0 && win > 0 ? 100.0 * cpu_s / win : -1));
	/* What the rooms and participants hold in memory: the growth of Janus's
	 * resident set from before the first room to the end of the window (a
	 * lower bound when earlier runs freed memory these ones reused). */
	json_object_set_new(out, "janus_rss_before_kb", json_integer(w.rss_before_kb));
	json_object_set_new(out, "janus_rss_kb", json_integer(w.rss_kb));
	json_object_set_new(out, "loadgen_cpu_pct", json_real(win > 0 ? 100.0 * (w.self1 - w.self0) / win : -1));
	json_object_set_new(out, "tx_packets", json_integer((json_int_t)tx));
	json_object_set_new(out, "tx_packets_window", json_integer((json_int_t)tx_w));
	json_object_set_new(out, "rx_packets", json_integer((json_int_t)rx_all));
	json_object_set_new(out, "rx_window_talkers", json_integer((json_int_t)rx_t));
	json_object_set_new(out, "rx_window_listeners", json_integer((json_int_t)rx_l));
	/* room 0 decoded: share of received frames louder than VOICE_DBOV */
	json_object_set_new(out, "room0_talker_rx", json_integer((json_int_t)s_rx_t));
	json_object_set_new(out, "room0_talker_voice_frames", json_integer((json_int_t)s_v_t));
	json_object_set_new(out, "room0_listener_rx", json_integer((json_int_t)s_rx_l));
	json_object_set_new(out, "room0_listener_voice_frames", json_integer((json_int_t)s_v_l));
	json_object_set_new(out, "expected_rx_per_participant", json_real(win > 0 && !opt.idle ? win / 0.02 : 0));
	json_object_set_new(out, "participants_receiving", json_integer(receiving));
	json_object_set_new(out, "room0_listeners_hearing_voice", json_integer(voice_receiving_listeners));
	json_object_set_new(out, "rx_other", json_integer((json_int_t)g_rx_other));
	json_object_set_new(out, "session_events", json_integer((json_int_t)atomic_load(&g_events)));
	/* other clients on this Janus during the window would skew its CPU */
	json_object_set_new(out, "foreign_sessions_max", json_integer(atomic_load(&g_foreign_max)));
	json_object_set_new(out, "foreign_session_checks", json_integer(atomic_load(&g_foreign_checks)));
	json_object_set_new(out, "late_ticks", json_integer(late_ticks));
	json_object_set_new(out, "max_late_ms", json_real((double)max_late_ns / 1e6));
	json_object_set_new(out, "speech_frames", json_integer(g_speech_n));
	if (canaries)
		json_object_set_new(out, "canary",
		                    json_pack("{s:s,s:i,s:I,s:I,s:f}", "cpus", opt.canary_cpus,
		                              "threads", canaries, "ticks",
		                              (json_int_t)(w.canary_ticks1 - w.canary_ticks0),
		                              "late", (json_int_t)(w.canary_late1 - w.canary_late0),
		                              "max_late_ms",
		                              (double)atomic_load(&g_canary_max_ns) / 1e6));
	if (w.mix0.ticks >= 0 && w.mix1.ticks >= 0)
		json_object_set_new(out, "mixer",
		                    json_pack("{s:i,s:I,s:I,s:I}", "workers", w.mix1.workers,
		                              "ticks", (json_int_t)(w.mix1.ticks - w.mix0.ticks),
		                              "late_frames",
		                              (json_int_t)(w.mix1.late - w.mix0.late), "skipped",
		                              (json_int_t)(w.mix1.skipped - w.mix0.skipped)));
	if (opt.latency && g_abq.samples > 0)
		json_object_set_new(
		        out, "audiobridge_queues",
		        json_pack("{s:i,s:i,s:f,s:i,s:i}", "samples", g_abq.samples, "prebuffer_count",
		                  g_abq.prebuffer, "talker_queue_in_mean",
		                  (double)g_abq.in_sum / g_abq.samples, "talker_queue_in_min", g_abq.in_min,
		                  "talker_queue_in_max", g_abq.in_max));
	if (opt.latency) {
		json_object_set_new(out, "latency", lat_report(&g_lat));
		json_object_set_new(
		        out, "latency_probe",
		        json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:s}", "period_ms", opt.lat_period * 20,
		                  "burst_ms", opt.lat_burst * 20, "tone_dbov", opt.lat_tone, "floor_dbov",
		                  opt.lat_floor, "onset_louder_than_dbov", LAT_LOUD_DBOV,
		                  "quiet_below_dbov", LAT_QUIET_DBOV, "quiet_frames_before_onset",
		                  LAT_ARM_FRAMES, "clock", "CLOCK_MONOTONIC"));
	}
	if (opt.plugin == PLUGIN_AUDIOBRIDGE && !opt.idle) {
		json_object_set_new(out, "ab_quality", json_integer(opt.ab_quality));
		json_object_set_new(out, "ab_bitrate", json_integer(opt.ab_bitrate));
	}
	char *s = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6));
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(out);
	free(g_parts);
	free(g_room_created);
	free(g_speech);
	free(g_lat_rooms);
	lat_free(&g_lat);
	http_free(&g_jn.http);
	curl_global_cleanup();
	return (rc == 0 && g_errors == 0) ? 0 : 1;
}
