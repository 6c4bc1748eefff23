/* A participant of a room: whoever sends audio into the mix and hears the
 * mix-minus back — a browser (web), a plain RTP endpoint, later SIP legs,
 * Twilio streams and the AI agent.  The transport behind it is reached only
 * through sb_participant_ops, so the room and mixer never care which. */
#ifndef SB_PARTICIPANT_H
#define SB_PARTICIPANT_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>
#include <refcount.h>

#include "media/codec.h"
#include "media/jitter.h"
#include "room/mix.h"

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
	/* Delivers a room event; the event is borrowed. NULL: takes no events. */
	void (*send_event)(sb_participant *p, json_t *event);
	/* The participant left its room (leave, kick, room destroyed): the
	 * transport lets go of it.  Called once, from a request thread. */
	void (*removed)(sb_participant *p);
	/* Frees the transport state in p->transport when p is freed. */
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

struct sb_participant {
	janus_refcount ref;
	guint64 id;
	char *display; /* guarded by mutex */
	char *role;
	char *identity; /* from the join token (sub), else NULL */
	/* What /sessions calls the interface when the kind does not say it
	 * (a Twilio call from WhatsApp is kind twilio, interface whatsapp). */
	char *interface;
	/* Caller ID, CallSid, X- headers …: set before the join, read-only
	 * after, shown by /sessions as "info". */
	json_t *info;
	gint64 joined_us; /* wall clock */
	sb_kind kind;
	GMutex mutex;
	struct sb_room *room; /* strong reference while in a room */
	volatile gint muted;
	volatile gint media_ready; /* sending and receiving may start */
	volatile gint removed;
	/* On hold (transfer.c): contributes nothing to the mix and hears the
	 * hold audio (hold.h) instead of its mix-minus.  hold_pos belongs to
	 * the mixer thread. */
	volatile gint on_hold;
	size_t hold_pos;
	/* Set while a mixer worker mixes this participant: a participant
	 * moved between rooms is never mixed by two workers at once. */
	volatile gint mixing;
	/* A silent supervisor: never mixed, whatever its mute says. */
	volatile gint listen_only;

	const sb_participant_ops *ops;
	void *transport; /* owned, freed by ops->free_transport */

	/* Input: written by the network thread through the jitter buffer. */
	sb_codec_id codec;
	volatile gint payload_type;
	int audio_level_ext_id;
	sb_jitter *jitter;
	volatile gint last_level; /* RFC 6464 level of the newest packet, -1 if none */

	/* Everything below belongs to the mixer thread of the room. */
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
	int level_sum, level_count;
	bool talking;
	uint64_t skipped_decodes;

	/* Counters: updated with atomics by their single writer thread. */
	sb_participant_stats stats;
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

/* Mixer thread: decodes the frame due now into p->frame.  Returns its level
 * (0..127, -dBov), -1 when there is nothing to play, or
 * SB_LEVEL_SILENT_SKIPPED when the packet said it is silence at or below
 * silence_level and was not decoded (p->frame is then stale). */
#define SB_LEVEL_SILENT_SKIPPED 128
int sb_participant_pull(sb_participant *p, int frame_samples, int silence_level);

/* Mixer thread: wraps one encoded frame in RTP and sends it. */
void sb_participant_send_payload(sb_participant *p, const uint8_t *payload, size_t len);

/* Mixer thread: feeds the talking detector; true when talking changed. */
bool sb_participant_update_talking(sb_participant *p, int level, int threshold, int window);

void sb_participant_set_display(sb_participant *p, const char *display);
/* What /sessions calls the interface: web, phone, whatsapp, or the kind. */
const char *sb_participant_interface(sb_participant *p);
/* Puts the participant on hold or takes it off (any thread); false when
 * nothing changed.  The room is told by the caller (sb_room_set_hold). */
bool sb_participant_set_hold(sb_participant *p, bool hold);
/* {"id","display","kind","role","muted","talking","on_hold"?} */
json_t *sb_participant_to_json(sb_participant *p);
void sb_participant_get_stats(sb_participant *p, sb_participant_stats *out);



/* The room the participant is in, referenced, or NULL. */
struct sb_room *sb_participant_room(sb_participant *p);
#endif
