/* Adaptive jitter buffer for 20 ms audio packets.
 *
 * Packets live in a ring of preallocated slots indexed by RTP sequence number
 * modulo the ring size, so put and get are O(1) and never allocate.  The
 * playout point (next_seq) advances by one slot per mixer tick.  How far a
 * packet arrives ahead of the playout point (its "lead", in frames) is what
 * the adaptation watches:
 *   - a packet arriving after its slot was played is late: the target delay
 *     grows and the next gap is stretched by one concealed frame;
 *   - when a whole window of packets arrived with spare lead, the delay is
 *     more than the network needs: one frame is dropped to shrink it.
 * A sender that stops (DTX, mute, hang-up) makes the buffer go idle after a
 * few concealed frames; the next packet starts a fresh prebuffer.  A large
 * sequence jump confirmed by a second packet (a restarted sender) resets the
 * buffer. */
#include "media/media.h"

#include <limits.h>
#include <string.h>

#include <glib.h>

/* Consecutive missing frames with nothing queued before the stream is
 * considered stopped (200 ms): beyond that, concealment is just noise. */
#define IDLE_FRAMES 10
/* Packets observed (2 s) before the delay may shrink by one frame. */
#define SHRINK_WINDOW 100
#define MIN_RING 32
#define MAX_DEPTH 50
#define INITIAL_DEPTH 2

typedef enum {
	SLOT_EMPTY = 0,
	SLOT_QUEUED, /* waiting for its turn */
	SLOT_PLAYED, /* remembered so a late copy counts as a duplicate */
	SLOT_MISSED, /* its turn passed with no packet */
} slot_state;

typedef struct jitter_slot {
	uint32_t epoch; /* slots from an older epoch are empty */
	slot_state state;
	uint16_t seq;
	uint32_t ts;
	int level; /* RFC 6464 level carried with the packet, -1 unknown */
	size_t len;
	uint8_t data[SB_MAX_PAYLOAD];
} jitter_slot;

struct sb_jitter {
	GMutex lock;
	int min_frames;
	int max_frames;
	uint32_t ts_step;
	int ring_size; /* a power of two */
	int jump;      /* sequence distance treated as a different stream */
	jitter_slot *slots;
	/* Bumping the epoch empties every slot at once: resets stay O(1). */
	uint32_t epoch;

	/* Level of the packet being put (set by sb_jitter_put_level). */
	int put_level;
	/* Level of the packet last returned by get. */
	int got_level;

	/* First packet after a big jump, kept until the next one confirms it. */
	jitter_slot probation;
	bool probation_valid;

	bool started; /* a stream is being buffered */
	bool playing; /* prebuffering is over */
	uint16_t next_seq;
	uint32_t next_ts;
	uint16_t highest_seq; /* meaningful while queued > 0 */
	int queued;
	int prebuffer_ticks;
	int idle_misses;

	int target;
	int grow_pending; /* frames of delay still to add at the next gap */
	bool shrink_pending;
	int window_packets;
	int window_min_lead;
	bool window_late;

	sb_jitter_stats stats;
};

static int seq_diff(uint16_t a, uint16_t b)
{
	int d = (uint16_t)(a - b);
	return d >= 0x8000 ? d - 0x10000 : d;
}

static int64_t ts_diff(uint32_t a, uint32_t b)
{
	int64_t d = (uint32_t)(a - b);
	return d >= INT64_C(0x80000000) ? d - INT64_C(0x100000000) : d;
}

static int clamp_int(int value, int low, int high)
{
	return value < low ? low : (value > high ? high : value);
}

sb_jitter *sb_jitter_new(int min_frames, int max_frames, uint32_t ts_step)
{
	sb_jitter *jb = g_new0(sb_jitter, 1);

	jb->max_frames = clamp_int(max_frames, 1, MAX_DEPTH);
	jb->min_frames = clamp_int(min_frames, 1, jb->max_frames);
	jb->ts_step = ts_step;
	/* Room for a burst of twice the largest delay on top of the delay. */
	jb->ring_size = MIN_RING;
	while (jb->ring_size < 4 * jb->max_frames)
		jb->ring_size *= 2;
	jb->jump = 2 * jb->ring_size;
	jb->slots = g_new0(jitter_slot, (gsize)jb->ring_size);
	jb->epoch = 1;
	jb->target = clamp_int(INITIAL_DEPTH, jb->min_frames, jb->max_frames);
	jb->window_min_lead = INT_MAX;
	g_mutex_init(&jb->lock);
	return jb;
}

void sb_jitter_free(sb_jitter *jb)
{
	if (jb == NULL)
		return;
	g_mutex_clear(&jb->lock);
	g_free(jb->slots);
	g_free(jb);
}

static jitter_slot *slot_for(sb_jitter *jb, uint16_t seq)
{
	return &jb->slots[seq & (jb->ring_size - 1)];
}

static bool slot_is(const sb_jitter *jb, const jitter_slot *slot, uint16_t seq, slot_state state)
{
	return slot->epoch == jb->epoch && slot->state == state && slot->seq == seq;
}

static void mark_slot(sb_jitter *jb, jitter_slot *slot, uint16_t seq, slot_state state)
{
	slot->epoch = jb->epoch;
	slot->seq = seq;
	slot->state = state;
}

static void reset_window(sb_jitter *jb)
{
	jb->window_packets = 0;
	jb->window_min_lead = INT_MAX;
	jb->window_late = false;
}

/* Forgets whatever was queued and waits for seq to prebuffer from. */
static void start_stream(sb_jitter *jb, uint16_t seq, uint32_t ts)
{
	jb->epoch++;
	jb->started = true;
	jb->playing = false;
	jb->next_seq = seq;
	jb->next_ts = ts;
	jb->queued = 0;
	jb->prebuffer_ticks = 0;
	jb->idle_misses = 0;
	jb->grow_pending = 0;
	jb->shrink_pending = false;
	reset_window(jb);
}

static void go_idle(sb_jitter *jb)
{
	jb->epoch++;
	jb->started = false;
	jb->playing = false;
	jb->queued = 0;
	jb->idle_misses = 0;
	jb->grow_pending = 0;
	jb->shrink_pending = false;
}

static bool store(sb_jitter *jb, uint16_t seq, uint32_t ts, const uint8_t *payload, size_t len)
{
	jitter_slot *slot = slot_for(jb, seq);

	if (slot_is(jb, slot, seq, SLOT_QUEUED)) {
		jb->stats.duplicate++;
		return false;
	}
	/* Only slots at or after the playout point can be queued, and they
	 * never share a slot; this guards the count against a broken caller. */
	if (slot->epoch == jb->epoch && slot->state == SLOT_QUEUED)
		jb->queued--;
	mark_slot(jb, slot, seq, SLOT_QUEUED);
	slot->ts = ts;
	slot->level = jb->put_level;
	slot->len = len;
	memcpy(slot->data, payload, len);
	if (jb->queued++ == 0 || seq_diff(seq, jb->highest_seq) > 0)
		jb->highest_seq = seq;
	jb->stats.received++;
	return true;
}

static void note_late(sb_jitter *jb)
{
	jb->stats.late++;
	if (!jb->playing)
		return;
	jb->window_late = true;
	jb->shrink_pending = false;
	if (jb->target < jb->max_frames) {
		jb->target++;
		jb->grow_pending++;
	}
}

/* Called for every packet queued while playing, with its lead in frames. */
static void note_lead(sb_jitter *jb, int lead)
{
	if (lead < jb->window_min_lead)
		jb->window_min_lead = lead;
	if (++jb->window_packets < SHRINK_WINDOW)
		return;
	/* Every packet of the window would still have been in time with one
	 * frame less, and no packet was late. */
	if (!jb->window_late && jb->window_min_lead >= jb->min_frames) {
		jb->target = clamp_int(jb->target - 1, jb->min_frames, jb->max_frames);
		jb->shrink_pending = true;
		jb->grow_pending = 0;
	}
	reset_window(jb);
}

static void drop_probation(sb_jitter *jb)
{
	if (jb->probation_valid) {
		jb->stats.invalid++;
		jb->probation_valid = false;
	}
}

/* A packet far from the playout point is either a stray or the first of a
 * restarted sender; only the packet right after it tells which. */
static bool put_far(sb_jitter *jb, uint16_t seq, uint32_t ts, const uint8_t *payload, size_t len)
{
	jitter_slot *held = &jb->probation;

	if (jb->probation_valid && seq == (uint16_t)(held->seq + 1)) {
		jb->probation_valid = false;
		jb->stats.reset++;
		start_stream(jb, held->seq, held->ts);
		int level = jb->put_level;
		jb->put_level = held->level;
		store(jb, held->seq, held->ts, held->data, held->len);
		jb->put_level = level;
		return store(jb, seq, ts, payload, len);
	}
	drop_probation(jb);
	held->seq = seq;
	held->ts = ts;
	held->level = jb->put_level;
	held->len = len;
	memcpy(held->data, payload, len);
	jb->probation_valid = true;
	return true;
}

static bool put_behind(sb_jitter *jb, int d, uint16_t seq, uint32_t ts, const uint8_t *payload,
                       size_t len)
{
	/* Reordered around the very first packet: move the start back. */
	if (!jb->playing && seq_diff(jb->highest_seq, seq) < jb->ring_size - 1 &&
	    -d <= jb->max_frames) {
		jb->next_seq = seq;
		jb->next_ts = ts;
		return store(jb, seq, ts, payload, len);
	}
	jitter_slot *slot = slot_for(jb, seq);
	if (slot_is(jb, slot, seq, SLOT_PLAYED)) {
		jb->stats.duplicate++;
		return false;
	}
	/* Sequence says late but the timestamp says it is not due yet: the
	 * sender paused without a sequence gap (DTX, a talkspurt). */
	if (jb->playing && jb->queued == 0 && ts_diff(ts, jb->next_ts) >= 0) {
		start_stream(jb, seq, ts);
		return store(jb, seq, ts, payload, len);
	}
	note_late(jb);
	return false;
}

static bool put_locked(sb_jitter *jb, uint16_t seq, uint32_t ts, const uint8_t *payload, size_t len)
{
	if (!jb->started) {
		drop_probation(jb);
		start_stream(jb, seq, ts);
		return store(jb, seq, ts, payload, len);
	}
	int d = seq_diff(seq, jb->next_seq);
	if (d >= jb->jump || d < -jb->jump)
		return put_far(jb, seq, ts, payload, len);
	drop_probation(jb);
	if (d < 0)
		return put_behind(jb, d, seq, ts, payload, len);
	if (d >= jb->ring_size) {
		jb->stats.overflow++;
		return false;
	}
	bool queued = store(jb, seq, ts, payload, len);
	if (queued && jb->playing)
		note_lead(jb, d);
	return queued;
}

bool sb_jitter_put(sb_jitter *jb, uint16_t seq, uint32_t rtp_ts, const uint8_t *payload, size_t len)
{
	return sb_jitter_put_level(jb, seq, rtp_ts, payload, len, -1);
}

bool sb_jitter_put_level(sb_jitter *jb, uint16_t seq, uint32_t rtp_ts, const uint8_t *payload,
                         size_t len, int level)
{
	if (jb == NULL)
		return false;
	g_mutex_lock(&jb->lock);
	jb->put_level = level;
	bool queued;
	if (payload == NULL || len == 0 || len > SB_MAX_PAYLOAD) {
		jb->stats.invalid++;
		queued = false;
	} else {
		queued = put_locked(jb, seq, rtp_ts, payload, len);
	}
	g_mutex_unlock(&jb->lock);
	return queued;
}

static void advance(sb_jitter *jb, uint32_t due_ts)
{
	jb->next_seq++;
	jb->next_ts = due_ts + jb->ts_step;
}

/* Skips the frame due now, whether or not it arrived. */
static void drop_due(sb_jitter *jb)
{
	jitter_slot *due = slot_for(jb, jb->next_seq);

	if (slot_is(jb, due, jb->next_seq, SLOT_QUEUED)) {
		due->state = SLOT_PLAYED;
		jb->queued--;
		jb->stats.overflow++;
		advance(jb, due->ts);
	} else {
		mark_slot(jb, due, jb->next_seq, SLOT_MISSED);
		advance(jb, jb->next_ts);
	}
}

static int queued_span(const sb_jitter *jb)
{
	return jb->queued > 0 ? seq_diff(jb->highest_seq, jb->next_seq) + 1 : 0;
}

/* Prebuffering ends when target frames are queued, or when the first packet
 * has waited as long as target frames would have taken to arrive. */
static bool prebuffer_done(sb_jitter *jb)
{
	jb->prebuffer_ticks++;
	if (queued_span(jb) < jb->target && jb->prebuffer_ticks < jb->target)
		return false;
	jb->playing = true;
	reset_window(jb);
	return true;
}

static void shed_excess_delay(sb_jitter *jb)
{
	/* A burst (or a stalled mixer) never leaves more than max_frames of
	 * delay queued; the one frame of slack spares a missing frame due now
	 * whose successor is queued, the very case FEC needs. */
	while (queued_span(jb) > jb->max_frames + 1)
		drop_due(jb);
	/* A planned shrink drops a frame only where the next one is at hand,
	 * so it costs 20 ms of audio and no concealment. */
	if (jb->shrink_pending &&
	    slot_is(jb, slot_for(jb, jb->next_seq), jb->next_seq, SLOT_QUEUED) &&
	    slot_is(jb, slot_for(jb, (uint16_t)(jb->next_seq + 1)), (uint16_t)(jb->next_seq + 1),
	            SLOT_QUEUED)) {
		drop_due(jb);
		jb->shrink_pending = false;
	}
}

static sb_jitter_result get_locked(sb_jitter *jb, uint8_t *payload, size_t *len)
{
	if (!jb->started)
		return SB_JITTER_EMPTY;
	if (!jb->playing && !prebuffer_done(jb))
		return SB_JITTER_EMPTY;
	shed_excess_delay(jb);

	jitter_slot *due = slot_for(jb, jb->next_seq);
	if (slot_is(jb, due, jb->next_seq, SLOT_QUEUED)) {
		memcpy(payload, due->data, due->len);
		*len = due->len;
		jb->got_level = due->level;
		due->state = SLOT_PLAYED;
		jb->queued--;
		jb->idle_misses = 0;
		advance(jb, due->ts);
		return SB_JITTER_PACKET;
	}

	if (jb->queued > 0) {
		jb->idle_misses = 0;
	} else if (++jb->idle_misses > IDLE_FRAMES) {
		go_idle(jb);
		return SB_JITTER_EMPTY;
	}
	jb->stats.lost++;
	/* Stretching: a concealed frame without moving the playout point adds
	 * one frame of delay, hidden in a gap that is concealed anyway. */
	if (jb->grow_pending > 0) {
		jb->grow_pending--;
		return SB_JITTER_LOST;
	}
	uint16_t after_seq = (uint16_t)(jb->next_seq + 1);
	jitter_slot *after = slot_for(jb, after_seq);
	if (slot_is(jb, after, after_seq, SLOT_QUEUED)) {
		memcpy(payload, after->data, after->len);
		*len = after->len;
		jb->stats.recovered++;
	}
	mark_slot(jb, due, jb->next_seq, SLOT_MISSED);
	advance(jb, jb->next_ts);
	return SB_JITTER_LOST;
}

sb_jitter_result sb_jitter_get(sb_jitter *jb, uint8_t *payload, size_t *len)
{
	if (len)
		*len = 0;
	if (jb == NULL || payload == NULL || len == NULL)
		return SB_JITTER_EMPTY;
	g_mutex_lock(&jb->lock);
	jb->got_level = -1;
	sb_jitter_result result = get_locked(jb, payload, len);
	g_mutex_unlock(&jb->lock);
	return result;
}

sb_jitter_result sb_jitter_get_level(sb_jitter *jb, uint8_t *payload, size_t *len, int *level)
{
	sb_jitter_result result = sb_jitter_get(jb, payload, len);
	/* Only the consumer thread calls get, so got_level is ours to read. */
	*level = result == SB_JITTER_PACKET && jb ? jb->got_level : -1;
	return result;
}

void sb_jitter_get_stats(sb_jitter *jb, sb_jitter_stats *out)
{
	if (jb == NULL || out == NULL)
		return;
	g_mutex_lock(&jb->lock);
	*out = jb->stats;
	out->depth = jb->target;
	g_mutex_unlock(&jb->lock);
}
