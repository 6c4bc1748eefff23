/* Inside the room module (private interface): the whole room and the
 * whole participant — the public part of each (room.h) first, then what
 * only room/ touches — and the hook through which a room tells the mixer
 * it has members.
 *
 * Who owns what: room.c owns membership (the participant table, the tap,
 * the transcript, the agent flags) under the room's mutex; participant.c
 * owns a participant's media state; mixer.c owns the per-frame state of
 * rooms and participants, on the one worker that mixes a room.  room.c
 * never calls the mixer: the mixer installs room_mixer_hook at start, so
 * the dependency runs one way (mixer.c -> room.c).
 *
 * The private part follows the public one in the same allocation: a
 * conversion is a cast, never a pointer to follow, so the mixer's per-frame
 * path reads a participant exactly as it did when all was one struct. */
#ifndef SB_ROOM_ROOM_PRIVATE_H
#define SB_ROOM_ROOM_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <jansson.h>

#include "media/media.h"
#include "room/mix.h"
#include "room/room.h"

/* A string field guarded by lock (a participant's or a room's): replaced
 * by a copy of value (NULL: none), the old one freed outside the lock; or
 * copied out (g_free; NULL when none). */
static inline void room_locked_set_string(GMutex *lock, char **field, const char *value)
{
	char *copy = g_strdup(value);
	g_mutex_lock(lock);
	char *old = *field;
	*field = copy;
	g_mutex_unlock(lock);
	g_free(old);
}

static inline char *room_locked_dup_string(GMutex *lock, char *const *field)
{
	g_mutex_lock(lock);
	char *copy = g_strdup(*field);
	g_mutex_unlock(lock);
	return copy;
}

/* ---- participant ---- */

/* The mixer's state of one participant: touched only by the worker that
 * mixes the participant's room — the `mixing` flag makes that one worker
 * at a time, even while the participant moves between rooms. */
typedef struct participant_mix {
	sb_decoder *decoder;
	sb_encoder *encoder; /* for this participant's own mix-minus */
	sb_limiter limiter;
	uint32_t out_ssrc;
	uint16_t out_seq;
	uint32_t out_ts;
	int16_t frame[SB_MAX_FRAME_SAMPLES];
	/* The packet frame[] was decoded from, for forwarding it unchanged;
	 * length 0 when frame[] was concealed. */
	uint8_t frame_payload[SB_MAX_PAYLOAD];
	size_t frame_payload_len;
	/* A packet whose level is known without decoding it (RFC 6464, or
	 * G.711's bytes) is decoded only when its PCM is needed
	 * (sb_participant_frame): a lone voice is forwarded as it came and
	 * costs no decode.  frame_pending: frame_payload is this tick's packet
	 * and frame[] is not decoded yet.  Decoders carry state from packet
	 * to packet, so the packets passed over since the last decode wait in
	 * catch_up (owned; allocated on first use) to be decoded first. */
	bool frame_pending;
	struct sb_catch_up *catch_up;
	int level_sum, level_count; /* the talking detector's window */
	/* Legs without levels: whether the last decoded frame was louder than
	 * silence_level, and how many frames in a row were skipped on Opus's
	 * voice flag since (sb_participant_pull). */
	bool last_loud;
	uint8_t quiet_skips;
	size_t hold_pos;            /* where the hold loop is (hold.h) */
	/* Echo cancellation (media.h, "echo"), owned; NULL while its room does
	 * not cancel echo.  Its far end is what this participant was sent the
	 * frame before (sent; silence when !sent_audible). */
	sb_echo *echo;
	int echo_rate;
	bool sent_audible;
	int16_t sent[SB_MAX_FRAME_SAMPLES];
	/* Noise suppression and gain (media.h, "denoise"), owned; NULL while
	 * its interface is not configured for them. */
	sb_denoise *denoise;
	int denoise_rate;
} participant_mix;

typedef struct participant_priv {
	sb_participant pub; /* first: the two pointer types convert by a cast */

	/* Read-only after sb_participant_new. */
	/* What /sessions calls the interface when the kind does not say it
	 * (a Twilio call from WhatsApp is kind twilio, interface whatsapp);
	 * NULL: from the kind (sb_participant_interface). */
	char *interface;
	int audio_level_ext_id;

	/* A leaf lock: nothing else is taken while it is held. */
	GMutex mutex;
	char *display;        /* guarded by mutex */
	char *metadata;       /* guarded by mutex; NULL: none */
	json_t *attributes;   /* guarded by mutex; NULL: none */
	struct sb_room *room; /* strong while in a room; guarded by mutex,
	                         written by room.c under the room's mutex too */

	/* Atomics: any thread reads; the writer is named. */
	volatile gint payload_type; /* the transport, once negotiated */
	volatile gint muted;        /* requests (mute, configure), room.c */
	volatile gint media_ready;  /* the transport: sending and receiving may start */
	volatile gint removed;      /* room.c, once: the transport was told */
	/* sb_room_set_hold: contributes nothing to the mix and hears the hold
	 * loop (hold.h) instead of its mix-minus. */
	volatile gint on_hold;
	/* room.c at join: a silent supervisor, never mixed, whatever its mute
	 * says. */
	volatile gint listen_only;
	volatile gint talking;      /* the mixer's talking detector */
	/* Set while a mixer worker mixes this participant: a participant
	 * moved between rooms is never mixed by two workers at once. */
	volatile gint mixing;

	/* Written by the network thread, read by the mixer; locks itself.
	 * NULL for PCM participants. */
	sb_jitter *jitter;
	/* Counters: each updated with atomics by its single writer thread
	 * (the network thread; the mixer for decode_errors and packets_out). */
	sb_participant_stats stats;

	participant_mix mix; /* mixer thread */
} participant_priv;

static inline participant_priv *participant_priv_of(sb_participant *p)
{
	return (participant_priv *)p;
}

/* Mixer thread: takes the frame due now.  Returns its level (0..127,
 * -dBov), -1 when there is nothing to play, or SB_LEVEL_SILENT_SKIPPED
 * when the packet said it is silence at or below silence_level and was not
 * decoded (mix.frame is then stale).  A frame with a level may be left
 * undecoded (mix.frame_pending): sb_participant_frame gives its PCM.
 * Adds the decodes it made to *decodes. */
#define SB_LEVEL_SILENT_SKIPPED 128
int sb_participant_pull(participant_priv *p, int frame_samples, int silence_level,
                        uint64_t *decodes);
/* Mixer thread: the PCM of the frame sb_participant_pull took (mix.frame),
 * decoding it now if it was left pending.  Adds its decodes to *decodes. */
const int16_t *sb_participant_frame(participant_priv *p, uint64_t *decodes);
/* Mixer thread: cancels the echo of what the leg was sent (mix.sent, the
 * frame before) out of the frame sb_participant_pull gave `pulled` for,
 * before anything hears it; the canceller is made (tail_ms) on first use.
 * Returns the frame's level now, in sb_participant_pull's terms; adds the
 * frames the canceller processed to *frames, and its decodes to *decodes. */
int sb_participant_cancel_echo(participant_priv *p, int pulled, int rate, int tail_ms,
                               int silence_level, uint64_t *frames, uint64_t *decodes);
/* Mixer thread: wraps one encoded frame in RTP and sends it. */
void sb_participant_send_payload(participant_priv *p, const uint8_t *payload, size_t len);
/* Mixer thread: feeds the talking detector; true when talking changed. */
bool sb_participant_update_talking(participant_priv *p, int level, int threshold, int window);
/* Puts the participant on hold or takes it off (any thread); false when
 * nothing changed.  The room tells its members (sb_room_set_hold). */
bool sb_participant_set_hold(sb_participant *p, bool hold);

/* ---- room ---- */

struct sb_room_mix; /* mixer.c's per-room state */

typedef struct room_priv {
	sb_room pub; /* first: the two pointer types convert by a cast */

	/* Guards participants, tap, agent_config, transcript and variables.  Taken
	 * before a participant's mutex, never after; two rooms' mutexes are
	 * taken in address order (sb_room_move_participant). */
	GMutex mutex;
	GHashTable *participants; /* guint64* id -> sb_participant* (strong) */
	sb_room_tap *tap;         /* strong; NULL: nobody listens */
	json_t *agent_config;     /* persona/provider overrides */
	json_t *transcript;       /* what was said, for the call's record */
	char *metadata;           /* a back end's (sb_room_set_metadata); NULL: none */
	json_t *variables;        /* the call's context (sb_room_merge_variables) */

	/* Atomics: any thread reads. */
	volatile gint agent_enabled; /* sb_room_set_agent_enabled */
	volatile gint destroyed;     /* room.c, once */

	/* The mixer's (mixer.c): */
	volatile gint scheduled; /* known to a mixer worker */
	struct sb_room_mix *mix; /* created by the worker that mixes the room */
	void (*free_mix)(struct sb_room_mix *mix); /* set with mix; room_free calls it */
} room_priv;

static inline room_priv *room_priv_of(sb_room *room) { return (room_priv *)room; }

/* Called by room.c when a room gained a participant (join, move in), on
 * the thread that made the change with no lock held, before anyone is
 * told; NULL until the mixer starts.  The mixer sets it (sb_mixer_start)
 * to put the room on a worker. */
typedef void (*room_mixer_hook)(room_priv *room);
void room_set_mixer_hook(room_mixer_hook hook);

#endif
