/* The room module: rooms, their participants, and the mixer that gives
 * each participant its mix-minus.  Transports (endpoints/), the agent and
 * every feature module reach rooms only through this header.
 *
 * Threads: every function here may be called from any thread while the
 * caller holds a reference to the room or participant it names, except
 * where a thread is stated ("mixer thread", "network thread").  None takes
 * a lock the caller can see: the room's and the participant's locks are
 * room/'s own, and no callback below runs with one held, except a tap's
 * describe (see there).  The mixer thread calls back into transports
 * (send_rtp, pull_pcm, push_pcm, send_event for "talking"), and may drop
 * the last reference to a participant or room (free_transport, a tap's
 * unref): none of those may block.  docs/threads.md has the whole plugin. */
#ifndef SB_ROOM_ROOM_H
#define SB_ROOM_ROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>
#include <refcount.h>

#include "core/core.h"
#include "media/media.h"

/* ---- participant ----
 * A participant of a room: whoever sends audio into the mix and hears the
 * mix-minus back — a browser (web), a plain RTP endpoint, later SIP legs,
 * Twilio streams and the AI agent.  The transport behind it is reached only
 * through sb_participant_ops, so the room and mixer never care which. */
struct sb_room;
typedef struct sb_participant sb_participant;

typedef enum {
	SB_KIND_WEB = 0,
	SB_KIND_RTP,
	SB_KIND_SIP,
	SB_KIND_TWILIO,
	SB_KIND_AGENT,
} sb_kind;

const char *sb_kind_name(sb_kind kind);

typedef struct sb_participant_ops {
	/* Sends one RTP packet (mixer thread; must not block). */
	void (*send_rtp)(sb_participant *p, const uint8_t *packet, size_t len);
	/* Reads what arrived for the participant, just before the mixer takes
	 * its frame (mixer thread, every tick; must not block).  NULL: the
	 * transport delivers packets on its own thread. */
	void (*poll_input)(sb_participant *p);
	/* Delivers a room event; the event is borrowed. NULL: takes no events.
	 * Any thread, the mixer's included ("talking"): must not block. */
	void (*send_event)(sb_participant *p, json_t *event);
	/* The participant left its room (leave, kick, room destroyed): the
	 * transport lets go of it.  Called once, on the thread that removed
	 * it (never the mixer's), with no room lock held. */
	void (*removed)(sb_participant *p);
	/* Frees the transport state in p->transport when p is freed: on the
	 * thread that drops the last reference, the mixer's included. */
	void (*free_transport)(void *transport);
	/* PCM participants (the AI agent) instead of RTP: the mixer takes one
	 * frame of their audio at the room's rate (false: nothing to say) and
	 * gives them their mix-minus as PCM, with the id of the loudest
	 * speaker in it (0: nobody).  Mixer thread; must not block. */
	bool (*pull_pcm)(sb_participant *p, int16_t *frame, int samples);
	void (*push_pcm)(sb_participant *p, const int16_t *mix, int samples, guint64 speaker);
} sb_participant_ops;

typedef struct sb_participant_stats {
	uint64_t packets_in;
	uint64_t packets_invalid;   /* not RTP, or empty/oversized payload */
	uint64_t packets_wrong_pt;  /* payload type other than the negotiated one */
	uint64_t packets_dropped;   /* refused by the jitter buffer */
	uint64_t decode_errors;
	uint64_t packets_out;
} sb_participant_stats;

/* A participant, as other modules see it.  Rule for the fields below:
 * read-only — set by sb_participant_new and never written again (id
 * excepted, see there); any thread reads them without a lock while it
 * holds a reference.  Everything else — the display name, the room, the
 * flags, the jitter buffer, the mixer's state — is room/'s own
 * (room_private.h), reached through the functions below. */
struct sb_participant {
	janus_refcount ref; /* private: sb_participant_ref / sb_participant_unref */
	/* room.c may move it off a clash with another member's id at join or
	 * move, under the room's mutex, before anyone is told of the member. */
	guint64 id;
	sb_kind kind;
	char *role;     /* "caller" unless given */
	char *identity; /* from the join token (sub), else NULL */
	/* Caller ID, CallSid, X- headers …, shown by /sessions as "info";
	 * NULL: none. */
	json_t *info;
	gint64 joined_us; /* wall clock, at creation */
	sb_codec_id codec;
	const sb_participant_ops *ops;
	void *transport; /* the transport's; freed by ops->free_transport */
};

typedef struct sb_participant_params {
	sb_kind kind;
	const char *display;
	const char *role;
	const char *identity;
	const char *interface; /* NULL: from the kind */
	json_t *info;          /* borrowed; copied */
	bool muted;
	sb_codec_id codec;
	int payload_type;
	int audio_level_ext_id;
	int sampling_rate; /* the room's */
	int jitter_min_frames, jitter_max_frames;
	sb_encoder_options encoder;
	const sb_participant_ops *ops;
	void *transport;
} sb_participant_params;

/* Returns a participant with one reference, or NULL (codec set-up failed). */
sb_participant *sb_participant_new(const sb_participant_params *params);
static inline void sb_participant_ref(sb_participant *p) { janus_refcount_increase(&p->ref); }
static inline void sb_participant_unref(sb_participant *p) { janus_refcount_decrease(&p->ref); }

/* Network thread: one packet from the participant.  Never blocks beyond the
 * jitter buffer's short lock; bad packets are counted and dropped. */
void sb_participant_incoming_rtp(sb_participant *p, const uint8_t *buf, size_t len, int level);
/* Network thread: the transport refused a packet itself (a bad RFC 4733
 * event): counted as packets_invalid. */
void sb_participant_count_invalid(sb_participant *p);

/* Any thread, unless stated. */
void sb_participant_set_display(sb_participant *p, const char *display);
/* A copy of the display name (g_free it), or NULL when it has none. */
char *sb_participant_dup_display(sb_participant *p);
/* What /sessions calls the interface: web, phone, whatsapp, or the kind. */
const char *sb_participant_interface(sb_participant *p);
bool sb_participant_muted(sb_participant *p);
/* false when it already was (nothing to announce). */
bool sb_participant_set_muted(sb_participant *p, bool muted);
/* The transport says sending and receiving may start (or must stop). */
bool sb_participant_media_ready(sb_participant *p);
void sb_participant_set_media_ready(sb_participant *p, bool ready);
/* The RTP payload type its packets carry and ours get (negotiated by the
 * transport, e.g. from the browser's offer). */
int sb_participant_payload_type(sb_participant *p);
void sb_participant_set_payload_type(sb_participant *p, int payload_type);
/* A silent supervisor: joins muted, is not heard, does not keep rooms open. */
bool sb_participant_is_supervisor(const sb_participant *p);
/* Listening only (set at join for a supervisor): never mixed. */
bool sb_participant_listen_only(sb_participant *p);
/* Listening only from now on (a token that may not publish): muted and
 * never mixed, whatever a later unmute says. */
void sb_participant_set_listen_only(sb_participant *p);
/* What a back end keeps on a participant (LiveKit's metadata and
 * attributes): opaque to the room, bounded by whoever sets them.  The
 * metadata is copied ("" or NULL: none); dup gives a copy or NULL. */
void sb_participant_set_metadata(sb_participant *p, const char *metadata);
char *sb_participant_dup_metadata(sb_participant *p);
/* changes: {key: string}; an empty string deletes the key.  The getter
 * gives a copy (an object, maybe empty). */
void sb_participant_update_attributes(sb_participant *p, json_t *changes);
json_t *sb_participant_attributes(sb_participant *p);
/* {"id","display","kind","role","muted","talking","on_hold"?} */
json_t *sb_participant_to_json(sb_participant *p);
void sb_participant_get_stats(sb_participant *p, sb_participant_stats *out);
/* The jitter buffer's counters (zeros for PCM participants). */
void sb_participant_get_jitter_stats(sb_participant *p, sb_jitter_stats *out);

/* The room the participant is in, referenced, or NULL. */
struct sb_room *sb_participant_room(sb_participant *p);

/* ---- room ----
 * Rooms: the registry of rooms by name, their participants, and the events
 * that tell participants who is there.  A room's audio is mixed by mixer.c;
 * this module only keeps membership straight. */

/* Something that listens to a room without being a participant (the
 * recorder): it is not in the participant table, so it is never listed,
 * announced or counted, and never keeps a room open.  The mixer hands it
 * the full mix (everyone, no mix-minus) of every frame and, when tracks is
 * set, each participant's own decoded audio (silence when it said nothing).
 * frame/track run on the mixer thread and must not block; describe runs on
 * request threads with the room's mutex held (it may take the tap's own
 * leaf lock, nothing else); ref/unref on any thread, the mixer's too. */
typedef struct sb_room_tap sb_room_tap;
typedef struct sb_room_tap_ops {
	void (*frame)(sb_room_tap *tap, const int16_t *mix, int samples);
	void (*track)(sb_room_tap *tap, guint64 participant, const int16_t *pcm, int samples);
	json_t *(*describe)(sb_room_tap *tap);
	void (*ref)(sb_room_tap *tap);
	void (*unref)(sb_room_tap *tap);
} sb_room_tap_ops;
struct sb_room_tap {
	const sb_room_tap_ops *ops; /* read-only */
	volatile gint tracks; /* wants per-participant tracks: the tap's owner
	                         sets it, the mixer reads it each frame */
};

/* A room, as other modules see it.  Rule for the fields below: read-only —
 * set by sb_room_create and never written again; any thread reads them
 * without a lock while it holds a reference.  Membership, the tap, the
 * transcript, the agent's flag and config and the mixer's state are
 * room/'s own (room_private.h), reached through the functions below. */
typedef struct sb_room {
	janus_refcount ref; /* private: sb_room_ref / sb_room_unref */
	char *name;
	char *description;
	char *secret; /* NULL: none */
	char *pin;    /* NULL: none */
	int sampling_rate;
	bool ephemeral;     /* destroyed when the last human leaves */
	bool permanent;     /* from the config file */
	bool require_token; /* join needs a token signed for this room */
	/* Private (a transfer's consult room, an agent's desk): not listed by
	 * `list`, /rooms or /sessions; reachable only by name. */
	bool hidden;
	gint64 created_us; /* wall clock */
} sb_room;

typedef struct sb_room_params {
	const char *name; /* NULL: generate one */
	const char *description;
	const char *secret;
	const char *pin;
	int sampling_rate; /* 0: the configured default */
	bool ephemeral;
	bool permanent;
	bool require_token;
	bool agent;
	bool hidden;
	json_t *agent_config; /* borrowed */
} sb_room_params;

void sb_rooms_init(const sb_settings *settings);
/* Destroys every room (plugin shutdown). */
void sb_rooms_deinit(void);

/* Creates and registers a room; *out gets a reference when not NULL. */
sb_error sb_room_create(const sb_room_params *params, sb_room **out);
/* The same; *why (g_free, may be NULL) says why placement refused it. */
sb_error sb_room_create_placed(const sb_room_params *params, sb_room **out, char **why);

/* ---- placement ----
 * Where a room lives when several nodes share a directory (cluster/ sets
 * this; without it every room is this node's).  Hidden rooms (desks,
 * consult rooms) are always this node's and never asked about. */
typedef struct sb_room_placement {
	/* Before a room is registered: SB_OK when this node may hold it (it
	 * is claimed for this node), else SB_ERROR_ROOM_ELSEWHERE (another
	 * live node holds it) or SB_ERROR_LIMIT (this node takes no new
	 * rooms), with *why (g_free).  Any thread but a media one; may wait
	 * for the directory, bounded. */
	sb_error (*claim)(const char *name, char **why);
	/* The room is gone from this node (destroyed, or never made after a
	 * claim).  Must not block. */
	void (*release)(const char *name);
	/* A room this node does not hold: where it is, as {"node",
	 * "janus_url", "rest_url", …} (new reference), or NULL.  May wait for
	 * the directory, bounded. */
	json_t *(*locate)(const char *name);
	/* The rooms other live nodes hold: [{"room", "node", "janus_url",
	 * "rest_url"}] (new reference), or NULL. */
	json_t *(*elsewhere)(void);
	/* Where a new room goes when this node takes none (draining, or
	 * max_rooms reached): the least-loaded live node taking rooms, as
	 * locate's answer (new reference), or NULL. */
	json_t *(*least_loaded)(void);
	/* This node as locate would name it ({"node", "janus_url", …}, new
	 * reference): what a browser is told for a room held here. */
	json_t *(*here)(void);
} sb_room_placement;
/* Copied; NULL clears.  Set before rooms are made, cleared after. */
void sb_room_set_placement(const sb_room_placement *placement);
/* The placement's locate and elsewhere, or NULL without them. */
json_t *sb_room_locate(const char *name);
json_t *sb_rooms_elsewhere(void);
json_t *sb_room_least_loaded(void);
json_t *sb_room_placement_here(void);
/* A referenced room, or NULL. */
sb_room *sb_room_find(const char *name);
/* Removes the room from the registry, tells and removes its participants. */
void sb_room_destroy(sb_room *room);
/* Listed rooms (hidden ones left out), each referenced; free with
 * g_ptr_array_unref.  sb_rooms_list_all includes the hidden ones. */
GPtrArray *sb_rooms_list(void);
GPtrArray *sb_rooms_list_all(void);
guint sb_rooms_count(void);

static inline void sb_room_ref(sb_room *r) { janus_refcount_increase(&r->ref); }
static inline void sb_room_unref(sb_room *r) { janus_refcount_decrease(&r->ref); }

/* Adds a participant (the room takes a reference and announces it).
 * Fails with SB_ERROR_LIMIT when full, SB_ERROR_NO_SUCH_ROOM if destroyed. */
sb_error sb_room_add(sb_room *room, sb_participant *p);
/* Removes a participant: "leaving" or "kicked" is what the others are told.
 * An ephemeral room left empty is destroyed. */
void sb_room_remove(sb_room *room, sb_participant *p, const char *why);
sb_participant *sb_room_find_participant(sb_room *room, guint64 id);
/* Participants, each referenced; free with g_ptr_array_unref. */
GPtrArray *sb_room_participants(sb_room *room);
guint sb_room_count_participants(sb_room *room);
/* Sends an event (borrowed) to every participant that takes events. */
void sb_room_broadcast(sb_room *room, json_t *event, sb_participant *except);
/* {"switchboard":"event","room":name} to extend. */
json_t *sb_room_event(sb_room *room, const char *type);
json_t *sb_room_to_json(sb_room *room);
/* Moves a participant to another room of the same sampling rate without
 * touching its transport (a browser keeps its PeerConnection, an RTP or
 * SIP leg its socket).  The old room is told it left ("leaving", as a
 * leave), the new one that it joined, the participant gets
 * {"switchboard":"moved","room","from","participants"}.  Errors:
 * SB_ERROR_NOT_JOINED (in no room), SB_ERROR_NO_SUCH_ROOM (target
 * destroyed), SB_ERROR_LIMIT (target full), SB_ERROR_INVALID_ELEMENT
 * (different sampling rate).  An ephemeral room left without humans is
 * destroyed, as on a leave. */
sb_error sb_room_move_participant(sb_participant *p, sb_room *to);
/* Puts a participant of the room on hold or takes it off, and tells the
 * room (an "event" with the participant's new state). */
void sb_room_set_hold(sb_room *room, sb_participant *p, bool hold);
/* Participants other than the AI agent and silent supervisors: the ones
 * that keep a room open. */
guint sb_room_count_humans(sb_room *room);
/* Called after a participant joined or left (on the thread that made the
 * change, no lock held), with the number of humans left; the agent module uses it to join
 * rooms that want an agent and to leave rooms with nobody to talk to. */
typedef void (*sb_room_membership_hook)(sb_room *room, sb_participant *p, bool joined, guint humans);
void sb_room_set_membership_hook(sb_room_membership_hook hook);
/* Finer-grained listeners for modules (transfer, presence): a move is
 * MOVED_OUT of one room then MOVED_IN to the other, not a leave and a
 * join; a destroyed room reports LEFT for each participant.  Called on the
 * thread that made the change, with no room lock held. */
typedef enum {
	SB_MEMBER_JOINED,
	SB_MEMBER_LEFT,
	SB_MEMBER_MOVED_IN,
	SB_MEMBER_MOVED_OUT,
} sb_member_change;
typedef void (*sb_room_member_listener)(sb_room *room, sb_participant *p, sb_member_change change,
                                        void *user);
void sb_room_add_member_listener(sb_room_member_listener listener, void *user);
void sb_room_remove_member_listeners(void);
/* Attaches a tap (the room takes a reference); false when the room
 * already has one. */
bool sb_room_set_tap(sb_room *room, sb_room_tap *tap);
/* Detaches tap if it is the room's (and drops the room's reference). */
void sb_room_remove_tap(sb_room *room, sb_room_tap *tap);

/* What a feature adds to each final transcript line (the analysis
 * module's sentiment of a caller's words): a new object whose members join
 * the line's event, its notification and its record, or NULL.  Called on
 * the thread that adds the line (never the mixer's), with no room lock
 * held; it must not block.  One annotator; NULL removes it. */
typedef json_t *(*sb_transcript_annotator)(sb_room *room, guint64 speaker_id,
                                           const char *speaker, const char *text);
void sb_room_set_transcript_annotator(sb_transcript_annotator annotator);

/* A line of what was said in the room (by the agent's recogniser, the
 * agent itself, or from outside): a "transcript" event to the
 * participants but except, "transcript" on the bus, and, when final, a
 * line of the room's transcript.  speaker_id 0: not a participant.  Any
 * thread but the mixer's. */
void sb_room_transcript_add(sb_room *room, guint64 speaker_id, const char *speaker,
                            const char *text, bool final, sb_participant *except);
/* The final lines so far: [{"speaker","speaker_id","text","timestamp"}]
 * (a copy): the last [agent] transcript_max_lines of them (1000). */
json_t *sb_room_transcript(sb_room *room);
/* Lines dropped from rooms' transcripts to keep within that bound. */
guint64 sb_rooms_transcript_dropped(void);
/* The room's overrides of the agent's config (persona, providers …): a
 * copy is kept / given (NULL: none). */
void sb_room_set_agent_config(sb_room *room, json_t *config);
json_t *sb_room_agent_config(sb_room *room);
/* Whether the room wants the AI agent (the agent module joins it when a
 * human is there); any thread. */
bool sb_room_agent_enabled(sb_room *room);
void sb_room_set_agent_enabled(sb_room *room, bool enabled);
/* A back end's text about the room (LiveKit's room metadata), opaque to
 * it: copied ("" or NULL: none); dup gives a copy or NULL. */
void sb_room_set_metadata(sb_room *room, const char *metadata);
char *sb_room_dup_metadata(sb_room *room);
/* ---- caller context ----
 * What is known of a call when it starts — a SIP INVITE's X- headers and
 * numbers, Twilio's parameters, a WhatsApp profile, the metadata a room
 * was created with, a pre-call tool's answer — kept on the room as a flat
 * map of variables ({name: string}).  The agent's persona and greeting use
 * them as {{name}} or {{name|default}}; business tools receive them.
 * Bounded (room/variables.c): at most SB_VARIABLES_MAX, names
 * [a-z0-9_]{1,64} after lower-casing and '-' -> '_', values of at most
 * SB_VARIABLE_VALUE_MAX bytes with control characters removed.  Anything
 * else is dropped with a log line, never an error: a call is never lost
 * to its context.  They may hold personal data: operators see them, room
 * participants never (docs/security.md). */
#define SB_VARIABLES_MAX 64
#define SB_VARIABLE_NAME_MAX 64
#define SB_VARIABLE_VALUE_MAX 1024

/* Whether name is [a-z0-9_]{1,64}. */
bool sb_variable_name_valid(const char *name);
/* A source's own name as a variable's: lower-cased, '-' -> '_' (g_free). */
char *sb_variable_name_normalize(const char *name);
/* Takes the members of from (borrowed) that keep the bounds into into
 * (normalized names; a later value replaces an earlier one) and logs each
 * one dropped, naming source ("sip", "twilio" …).  How many were taken. */
guint sb_variables_merge(json_t *into, json_t *from, const char *source);
/* text with each {{name}} replaced by the variable's value, or by the
 * default of {{name|default}} when it has none (or it is empty), else by
 * "": never the braces.  Values are copied as they are, never expanded
 * again.  An unclosed "{{" is left as written.  g_free; NULL for NULL. */
char *sb_variables_render(const char *text, json_t *variables);

/* The same on a room's map (any thread). */
guint sb_room_merge_variables(sb_room *room, json_t *variables, const char *source);
/* A copy of the room's variables: an object, maybe empty. */
json_t *sb_room_variables(sb_room *room);

/* sb_room_destroy has begun: the room takes no one and goes. */
bool sb_room_is_destroyed(sb_room *room);

/* ---- mixer ----
 * The mixer: a few worker threads (one per core by default) share all rooms.
 * Each worker wakes every 20 ms on an absolute deadline (no drift) only while
 * it has rooms with participants, and sleeps on a condition otherwise, so
 * idle rooms cost nothing.  Per room and frame it decodes what is due, sums
 * the contributors, and encodes each distinct mix once.  A room that
 * gains a participant is put on a worker by the mixer itself (room.c tells
 * it through a hook the mixer sets); a worker drops a room once it is
 * empty or destroyed. */

typedef struct sb_mixer_stats {
	uint64_t ticks;        /* frames processed, summed over workers */
	uint64_t late_frames;  /* ticks that ended after their deadline */
	uint64_t skipped;      /* ticks dropped to catch up after a stall */
	uint64_t encodes;      /* frames encoded */
	uint64_t decodes;      /* frames decoded or concealed */
	uint64_t forwards;     /* one-voice mixes sent as the speaker's packet */
	uint64_t rooms_active; /* rooms currently scheduled */
	uint64_t echo_frames;  /* frames echo-cancelled (the leg's far end live) */
	uint64_t denoised_frames; /* frames through noise suppression or gain */
	int workers;
} sb_mixer_stats;

bool sb_mixer_start(const sb_settings *settings);
void sb_mixer_stop(void);
void sb_mixer_get_stats(sb_mixer_stats *out);
/* Whether the mixer cancels the echo of what it sends out of the legs of
 * this room (settings' echo_cancellation; the room's agent flag). */
bool sb_mixer_cancels_echo(sb_room *room);

#endif
