/* Rooms: the registry of rooms by name, their participants, and the events
 * that tell participants who is there.  A room's audio is mixed by mixer.c;
 * this module only keeps membership straight. */
#ifndef SB_ROOM_H
#define SB_ROOM_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>
#include <refcount.h>

#include "room/participant.h"
#include "core/sb.h"
#include "core/settings.h"

struct sb_room_mix;

/* Something that listens to a room without being a participant (the
 * recorder): it is not in the participant table, so it is never listed,
 * announced or counted, and never keeps a room open.  The mixer hands it
 * the full mix (everyone, no mix-minus) of every frame and, when tracks is
 * set, each participant's own decoded audio (silence when it said nothing).
 * frame/track run on the mixer thread and must not block; describe runs on
 * request threads with the room's mutex held. */
typedef struct sb_room_tap sb_room_tap;
typedef struct sb_room_tap_ops {
	void (*frame)(sb_room_tap *tap, const int16_t *mix, int samples);
	void (*track)(sb_room_tap *tap, guint64 participant, const int16_t *pcm, int samples);
	json_t *(*describe)(sb_room_tap *tap);
	void (*ref)(sb_room_tap *tap);
	void (*unref)(sb_room_tap *tap);
} sb_room_tap_ops;
struct sb_room_tap {
	const sb_room_tap_ops *ops;
	volatile gint tracks; /* wants per-participant tracks */
};

typedef struct sb_room {
	janus_refcount ref;
	char *name;
	char *description;
	char *secret;
	char *pin;
	int sampling_rate;
	bool ephemeral; /* destroyed when the last participant leaves */
	bool permanent; /* from the config file */
	bool require_token; /* join needs a token signed for this room */
	/* Private (a transfer's consult room, an agent's desk): not listed by
	 * `list`, /rooms or /sessions; reachable only by name. */
	bool hidden;
	volatile gint agent_enabled;
	json_t *agent_config; /* persona/provider overrides, guarded by mutex */
	json_t *transcript;   /* what was said, for the call's record; mutex */
	gint64 created_us;
	GMutex mutex;             /* guards participants */
	GHashTable *participants; /* guint64* id -> sb_participant* (strong) */
	volatile gint destroyed;
	volatile gint scheduled;  /* known to a mixer worker */
	struct sb_room_mix *mix;  /* mixer worker state, freed with the room */
	void (*free_mix)(struct sb_room_mix *mix);
	sb_room_tap *tap; /* strong, guarded by mutex; NULL: nobody listens */
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
/* Called after a participant joined or left (request threads, no lock
 * held), with the number of humans left; the agent module uses it to join
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

/* A silent supervisor: joins muted, is not heard, does not keep rooms open. */
bool sb_participant_is_supervisor(const sb_participant *p);

#endif
