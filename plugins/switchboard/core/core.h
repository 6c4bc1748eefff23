/* The core: what every module of the plugin shares — its names, limits and
 * error codes, the configuration file, the notification bus, and the rule
 * for background threads.  It depends on no other module. */
#ifndef SB_CORE_CORE_H
#define SB_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <glib.h>
#include <jansson.h>

/* ---- names ----
 * Names, limits and error codes shared by every module of the plugin. */
#define SB_PLUGIN_VERSION 1
#define SB_PLUGIN_VERSION_STRING "0.1.0"
#define SB_PLUGIN_NAME "Switchboard"
#define SB_PLUGIN_PACKAGE "janus.plugin.switchboard"
#define SB_PLUGIN_AUTHOR "Switchboard"
#define SB_EVENT_KEY "switchboard"

#define SB_ROOM_NAME_MAX 64
#define SB_DISPLAY_MAX 128
#define SB_SECRET_MAX 256
#define SB_DESCRIPTION_MAX 256

/* Application errors of the Janus API (AudioBridge-style numbering). */
typedef enum {
	SB_OK = 0,
	SB_ERROR_UNKNOWN = 480,
	SB_ERROR_NO_MESSAGE = 481,
	SB_ERROR_INVALID_JSON = 482,
	SB_ERROR_INVALID_REQUEST = 483,
	SB_ERROR_MISSING_ELEMENT = 484,
	SB_ERROR_INVALID_ELEMENT = 485,
	SB_ERROR_NO_SUCH_ROOM = 486,
	SB_ERROR_ROOM_EXISTS = 487,
	SB_ERROR_UNAUTHORIZED = 488,
	SB_ERROR_NOT_JOINED = 489,
	SB_ERROR_ALREADY_JOINED = 490,
	SB_ERROR_NO_SUCH_PARTICIPANT = 491,
	SB_ERROR_INVALID_SDP = 492,
	SB_ERROR_LIMIT = 493,
	SB_ERROR_ROOM_ELSEWHERE = 494, /* a cluster: the room lives on another node */
} sb_error;

/* 1..SB_ROOM_NAME_MAX characters of A-Z a-z 0-9 . _ - */
bool sb_room_name_valid(const char *name);

/* ---- errors ----
 * How the plugin says that something failed — three ways, each in its
 * place, for every module:
 *  - A function that can fail returns bool (or a pointer: NULL), and says
 *    why in char **error: a g_free-able text, set only on failure.  When
 *    a caller must tell reasons apart, it returns an enum of them instead
 *    (0 is success) and still gives the text in char **error where there
 *    is more to say than the reason: sb_error for rooms and participants,
 *    sb_transfer_error, sb_rec_result, sb_token_status, sb_store_result.
 *  - An operation of the ops table (api/api.h) answers a failure only with
 *    sb_ops_error (an sb_error code and the text) or sb_ops_error_named
 *    (also a name for programs and the HTTP status REST gives it).
 *  - A REST handler answers a failure with sb_rest_error (status, name,
 *    text); an op's error becomes one through sb_rest_op_failed.
 * Errors of libraries (GError, errno, libcurl, sqlite, libpq) become text
 * where they happen.  Protocol answers are not errors in this sense: a
 * SIP status, an HTTP status of a WebSocket handshake. */

/* ---- settings ----
 * Plugin configuration (janus.plugin.switchboard.jcfg, then the
 * environment).  Read-only after start-up: plugin.c loads it and fills in
 * the missing secrets (sb_settings_generate_secrets) before any module or
 * thread starts, and frees it after they all stopped; in between any thread
 * reads every field without a lock, and nothing writes one.  A reload
 * (reload_providers) loads a copy of its own and leaves this one alone. */

typedef struct sb_room_config {
	char *name;
	char *description;
	char *secret;
	char *pin;
	int sampling_rate;
} sb_room_config;

typedef enum {
	SB_ECHO_ROOMS_AGENT = 0, /* rooms where the AI agent is on */
	SB_ECHO_ROOMS_ALL,
	SB_ECHO_ROOMS_NONE,
} sb_echo_rooms;

typedef struct sb_settings { /* read-only after start-up: see above */
	int sampling_rate;
	int mixer_threads;
	bool ephemeral_rooms;
	bool auto_create;
	char *admin_key;
	int talking_level_threshold;
	int talking_window;
	int silence_level;
	int jitter_min_frames;
	int jitter_max_frames;
	int opus_complexity;
	int opus_bitrate;
	bool opus_fec;
	/* Where legs are echo-cancelled from what the mixer sent them (media.h,
	 * "echo"), and the longest echo path cancelled. */
	sb_echo_rooms echo_cancellation;
	int echo_tail_ms;
	/* The interfaces (sb_participant_interface: "phone", "web", "whatsapp"
	 * …, or "all") whose legs get noise suppression, and automatic gain
	 * (media.h, "denoise"); NULL-terminated, NULL for none. */
	char **noise_suppression;
	int noise_suppress_db;
	char **agc;
	char *rtp_ip;
	uint16_t rtp_port_min;
	uint16_t rtp_port_max;
	int max_participants;
	int max_rooms;
	/* Embedded HTTP server: REST, pages, notifications. */
	bool http_enabled;
	char *http_ip;
	int http_port;
	char *http_cert; /* PEM; with http_key, serves HTTPS */
	char *http_key;
	char *html_folder;
	char *janus_js;  /* Debian's janus.js, served as /janus.js */
	int http_max_body;
	char *api_key;   /* REST bearer key (or SWITCHBOARD_API_KEY) */
	char *jwt_secret;/* join tokens (or SWITCHBOARD_JWT_SECRET) */
	int token_ttl;   /* seconds */
	bool require_token; /* every room needs a join token on `join` */
	char *janus_url; /* what /room/join tells clients; empty: same host, 8088 */
	GPtrArray *rooms; /* sb_room_config*, the permanent rooms */
	/* The [agent] and [providers] sections as JSON objects (values of
	 * items are strings, as the config file has them; lists are arrays). */
	json_t *agent;
	json_t *providers;
	/* Module sections ([sip], [twilio], [whatsapp], [store], [recording],
	 * [transfer], [phone]) as JSON objects of strings; read them with
	 * sb_settings_section and the sb_section_* getters. */
	json_t *sections;
	/* Where the file was read from (NULL: defaults only), for reloads. */
	char *config_folder;
} sb_settings;

/* The settings in force, for code that is not handed them at start: set
 * by plugin.c before the modules start, NULL again after they stopped. */
extern const sb_settings *sb_plugin_settings;

/* The section as a JSON object (empty when absent; NULL only without cfg). */
json_t *sb_settings_section(const sb_settings *cfg, const char *name);
/* Typed reads of a section's items; a bad value is logged and def used. */
const char *sb_section_string(json_t *section, const char *name, const char *def);
long sb_section_int(json_t *section, const char *name, long def, long min, long max);
bool sb_section_bool(json_t *section, const char *name, bool def);
/* Whether a list such as noise_suppression names this interface (or
 * "all"). */
bool sb_settings_names(char *const *list, const char *interface);

/* Defaults, then whatever <folder>/janus.plugin.switchboard.jcfg sets.
 * A missing file is fine; an invalid value is logged and replaced by the
 * default.  Returns NULL only when out of memory. */
sb_settings *sb_settings_load(const char *folder);
/* Start-up only, before the settings are shared: a jwt_secret that
 * neither the file nor the environment set is made with generate (a fresh
 * random secret, for this run only, so tokens do not outlive the process).
 * A missing api_key stays missing (said in the log, never made up): the
 * routes that need it then refuse every request. */
void sb_settings_generate_secrets(sb_settings *cfg, char *(*generate)(void));
void sb_settings_free(sb_settings *cfg);

/* ---- events ----
 * The notification bus: room_created, room_closed, participant_joined,
 * participant_left, call_status … published by any module, delivered to the
 * notifications WebSocket (http) and to Janus event handlers when they are
 * enabled.  Listeners are called on the publisher's thread and must only
 * queue the event (never block). */

typedef void (*sb_event_listener)(json_t *notification, void *user);

struct janus_callbacks;
struct janus_plugin;
void sb_events_init(struct janus_callbacks *gateway, struct janus_plugin *plugin);
void sb_events_deinit(void);
/* Returns an id for sb_events_unsubscribe. */
unsigned sb_events_subscribe(sb_event_listener listener, void *user);
void sb_events_unsubscribe(unsigned id);
/* Publishes {"type": type, "timestamp": ms since epoch, …fields of data}.
 * Takes ownership of data (may be NULL). */
void sb_events_publish(const char *type, json_t *data);
/* A cluster (cluster/): the notifications WebSocket is cluster-wide — its
 * listener, subscribed this way, also gets what other nodes publish
 * (sb_events_publish_remote, a whole notification, borrowed); the other
 * listeners (records, webhooks, the console …) act on this node's events
 * only.  With a node name set, every event says "node": name. */
unsigned sb_events_subscribe_cluster(sb_event_listener listener, void *user);
void sb_events_publish_remote(json_t *notification);
void sb_events_set_node(const char *name);
/* This node's name (g_free), NULL without a cluster.  Not from a listener
 * (it takes the lock listeners are called under). */
char *sb_events_node(void);

/* ---- background ----
 * Background work — speech recognition and synthesis, the agents' threads —
 * yields the CPU to the mixer, whose frames have a deadline every 20 ms.
 * Raising one's own nice value needs no privilege. */

static inline void sb_thread_background(void)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
}

/* ---- gate ----
 * An event gate (gate.c): the promise of every provider, chain and engine
 * that after release() returns no event for that object is delivered.
 * Every event a module delivers to its user goes through enter/leave.
 * close() makes later enters fail and waits until a delivery running on
 * another thread has finished; called from inside a delivery (same
 * thread) it does not wait.  Deliveries are serialised: one thread at a
 * time, re-entrant on that thread. */
typedef struct sb_gate {
	GMutex lock;
	GCond cond;
	GThread *owner;
	int depth;
	bool closed;
} sb_gate;

void sb_gate_init(sb_gate *g);
void sb_gate_clear(sb_gate *g);
bool sb_gate_enter(sb_gate *g);
void sb_gate_leave(sb_gate *g);
void sb_gate_close(sb_gate *g);
/* Has close() been called?  For work nobody will hear the result of. */
bool sb_gate_closed(sb_gate *g);

/* ---- loop ----
 * A thread running a GLib main loop of its own (loop.c): modules hand work
 * to it from threads that must not wait, and run their timers there.
 * Rules: sb_loop_invoke never runs fn in place (the caller may hold
 * locks); once the loop is stopping, it runs destroy(data) at once and
 * returns false.  sb_loop_stop runs what was queued before it, then the
 * teardown hook, then joins the thread; timers still pending are
 * destroyed with their notifies.  A loop is stopped by whoever started
 * it, once, from another thread; a thread that may still post to it
 * after that holds a reference (sb_loop_ref), and its posts then find a
 * stopped loop.  The functions take NULL for a loop that never started:
 * as if stopping. */
typedef struct sb_loop sb_loop;

/* background: the thread yields to the mixer (sb_thread_background). */
sb_loop *sb_loop_start(const char *name, bool background);
/* The same with set-up and tear-down on the loop's own thread (with its
 * context as the thread default): setup before the loop runs — this
 * returns only once setup has, and NULL (the thread gone) when setup
 * returned false; teardown once the loop has stopped.  Either may be
 * NULL.  setup may publish the loop: work posted to it waits for the
 * loop to run. */
sb_loop *sb_loop_start_with(const char *name, bool background,
                            bool (*setup)(sb_loop *loop, void *user),
                            void (*teardown)(sb_loop *loop, void *user), void *user);
/* Stops, joins, and drops the starter's reference. */
void sb_loop_stop(sb_loop *loop);
sb_loop *sb_loop_ref(sb_loop *loop);
void sb_loop_unref(sb_loop *loop);
/* NULL once stopped. */
GMainContext *sb_loop_context(sb_loop *loop);
/* Is the calling thread the loop's? */
bool sb_loop_is_current(sb_loop *loop);
/* fn(data) later on the loop's thread, then destroy(data); idle
 * priority, or the one given. */
bool sb_loop_invoke(sb_loop *loop, GSourceFunc fn, gpointer data, GDestroyNotify destroy);
bool sb_loop_invoke_full(sb_loop *loop, gint priority, GSourceFunc fn, gpointer data,
                         GDestroyNotify destroy);
/* A timer on the loop; the returned source (not referenced) may be passed
 * to g_source_destroy until it fires for the last time (the loop's own
 * thread may reference it at once).  NULL when the loop is stopping
 * (destroy has run). */
GSource *sb_loop_timeout(sb_loop *loop, guint ms, GSourceFunc fn, gpointer data,
                         GDestroyNotify destroy);

/* ---- util ----
 * Small things more than one module needs (util.c). */

/* Where the plugin keeps its state files: $SWITCHBOARD_STATE_DIR, else
 * ~/.local/state/switchboard (XDG_STATE_HOME).  The path of name there;
 * g_free. */
char *sb_state_path(const char *name);
/* A secret as the config gives it: the text itself, or "env:VAR" for the
 * plugin's environment variable VAR (NULL when unset or empty).  g_free;
 * NULL for NULL. */
char *sb_config_secret(const char *value);
/* Writes all of buf to fd, again after EINTR and short writes; false when
 * it could not (errno says why). */
bool sb_write_all(int fd, const void *buf, size_t len);

/* ---- grant ----
 * A signed grant (grant.c): "<expires>.<hex HMAC-SHA256(secret, purpose
 * "\n" subject "\n" expires)>", expires in Unix seconds.  Handed to a third
 * party that hands it back: the purpose names the door (one grant never
 * opens another), the subject what it opens. */
typedef enum {
	SB_GRANT_OK = 0,
	SB_GRANT_MISSING,
	SB_GRANT_MALFORMED,
	SB_GRANT_EXPIRED,
	SB_GRANT_WRONG, /* another subject or purpose, another secret, or forged */
} sb_grant_status;
/* NULL without a secret; g_free. */
char *sb_grant_sign(const char *secret, const char *purpose, const char *subject,
                    gint64 expires_s);
/* Constant time in the MAC; "expired" only for a grant we made. */
sb_grant_status sb_grant_verify(const char *secret, const char *purpose, const char *subject,
                                const char *grant, gint64 now_s);

#endif
