/* Unit tests for the jitter buffer: prebuffering, reordering, duplicates,
 * late and lost packets (with the FEC look-ahead), sequence wraparound,
 * resynchronisation, idle streams, adaptation and counters. */
#include <string.h>

#include <glib.h>

#include "media/media.h"

#define STEP 960u

/* Payloads carry their sequence number so the tests can see what played. */
static size_t payload_len(uint16_t seq)
{
	return 20 + seq % 7;
}

static bool put(sb_jitter *jb, uint16_t seq)
{
	uint8_t payload[64];
	size_t len = payload_len(seq);

	memset(payload, 0xA5, sizeof(payload));
	payload[0] = (uint8_t)(seq >> 8);
	payload[1] = (uint8_t)(seq & 0xFF);
	return sb_jitter_put(jb, seq, (uint32_t)seq * STEP + 12345u, payload, len);
}

/* Same, with an explicit timestamp (for pauses and restarts). */
static bool put_ts(sb_jitter *jb, uint16_t seq, uint32_t ts)
{
	uint8_t payload[64] = {(uint8_t)(seq >> 8), (uint8_t)(seq & 0xFF)};
	return sb_jitter_put(jb, seq, ts, payload, payload_len(seq));
}

static uint16_t payload_seq(const uint8_t *payload)
{
	return (uint16_t)(payload[0] << 8 | payload[1]);
}

static void expect_packet(sb_jitter *jb, uint16_t seq)
{
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len = 999;
	g_assert_cmpint(sb_jitter_get(jb, payload, &len), ==, SB_JITTER_PACKET);
	g_assert_cmpuint(len, ==, payload_len(seq));
	g_assert_cmpuint(payload_seq(payload), ==, seq);
}

static void expect_empty(sb_jitter *jb)
{
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len = 999;
	g_assert_cmpint(sb_jitter_get(jb, payload, &len), ==, SB_JITTER_EMPTY);
	g_assert_cmpuint(len, ==, 0);
}

/* LOST; next_seq < 0 means no following packet is offered. */
static void expect_lost(sb_jitter *jb, int next_seq)
{
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len = 999;
	g_assert_cmpint(sb_jitter_get(jb, payload, &len), ==, SB_JITTER_LOST);
	if (next_seq < 0) {
		g_assert_cmpuint(len, ==, 0);
	} else {
		g_assert_cmpuint(len, ==, payload_len((uint16_t)next_seq));
		g_assert_cmpuint(payload_seq(payload), ==, (uint16_t)next_seq);
	}
}

static sb_jitter_stats stats_of(sb_jitter *jb)
{
	sb_jitter_stats stats;
	memset(&stats, 0xFF, sizeof(stats));
	sb_jitter_get_stats(jb, &stats);
	return stats;
}

static void test_in_order(void)
{
	sb_jitter *jb = sb_jitter_new(3, 3, STEP);

	/* One packet per tick: nothing plays until three frames are held. */
	g_assert_true(put(jb, 0));
	expect_empty(jb);
	g_assert_true(put(jb, 1));
	expect_empty(jb);
	g_assert_true(put(jb, 2));
	expect_packet(jb, 0);
	for (uint16_t seq = 3; seq < 200; seq++) {
		g_assert_true(put(jb, seq));
		expect_packet(jb, (uint16_t)(seq - 2));
	}
	expect_packet(jb, 198);
	expect_packet(jb, 199);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, ==, 200);
	g_assert_cmpuint(stats.lost, ==, 0);
	g_assert_cmpuint(stats.late + stats.duplicate + stats.overflow + stats.reset, ==, 0);
	g_assert_cmpuint(stats.invalid, ==, 0);
	g_assert_cmpint(stats.depth, ==, 3);
	sb_jitter_free(jb);
}

static void test_prebuffer_burst(void)
{
	/* Packets already queued up to the target play at the first tick. */
	sb_jitter *jb = sb_jitter_new(2, 2, STEP);
	expect_empty(jb);
	g_assert_true(put(jb, 500));
	g_assert_true(put(jb, 501));
	expect_packet(jb, 500);
	expect_packet(jb, 501);
	sb_jitter_free(jb);
}

static void test_reordering(void)
{
	sb_jitter *jb = sb_jitter_new(3, 10, STEP);

	/* Swapped around the very first packet: the start moves back. */
	g_assert_true(put(jb, 11));
	g_assert_true(put(jb, 10));
	g_assert_true(put(jb, 12));
	expect_packet(jb, 10);
	/* Swapped later on, within the buffered window. */
	g_assert_true(put(jb, 15));
	g_assert_true(put(jb, 13));
	g_assert_true(put(jb, 14));
	expect_packet(jb, 11);
	expect_packet(jb, 12);
	expect_packet(jb, 13);
	g_assert_true(put(jb, 17));
	g_assert_true(put(jb, 16));
	expect_packet(jb, 14);
	expect_packet(jb, 15);
	expect_packet(jb, 16);
	expect_packet(jb, 17);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, ==, 8);
	g_assert_cmpuint(stats.lost + stats.late + stats.duplicate, ==, 0);
	sb_jitter_free(jb);
}

static void test_duplicate(void)
{
	sb_jitter *jb = sb_jitter_new(2, 2, STEP);

	g_assert_true(put(jb, 7));
	g_assert_false(put(jb, 7)); /* still queued */
	g_assert_true(put(jb, 8));
	expect_packet(jb, 7);
	g_assert_false(put(jb, 7)); /* already played: a duplicate, not late */
	expect_packet(jb, 8);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, ==, 2);
	g_assert_cmpuint(stats.duplicate, ==, 2);
	g_assert_cmpuint(stats.late, ==, 0);
	g_assert_cmpint(stats.depth, ==, 2); /* duplicates do not add delay */
	sb_jitter_free(jb);
}

static void test_late(void)
{
	sb_jitter *jb = sb_jitter_new(2, 2, STEP);

	g_assert_true(put(jb, 0));
	g_assert_true(put(jb, 1));
	expect_packet(jb, 0);
	expect_packet(jb, 1);
	expect_lost(jb, -1);
	g_assert_false(put(jb, 2)); /* its turn has passed */
	g_assert_true(put(jb, 3));
	expect_packet(jb, 3);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, ==, 3);
	g_assert_cmpuint(stats.late, ==, 1);
	g_assert_cmpuint(stats.lost, ==, 1);
	g_assert_cmpuint(stats.duplicate, ==, 0);
	sb_jitter_free(jb);
}

static void test_lost_with_and_without_next(void)
{
	sb_jitter *jb = sb_jitter_new(2, 2, STEP);

	g_assert_true(put(jb, 0));
	g_assert_true(put(jb, 1));
	expect_packet(jb, 0);
	g_assert_true(put(jb, 3)); /* 2 is lost */
	expect_packet(jb, 1);
	g_assert_true(put(jb, 4));
	expect_lost(jb, 3);   /* 3 is offered for FEC... */
	expect_packet(jb, 3); /* ...and still plays in its own turn */
	expect_packet(jb, 4);

	/* 5 and 6 lost, 7 queued: no FEC for 5, FEC from 7 for 6. */
	g_assert_true(put(jb, 7));
	expect_lost(jb, -1);
	expect_lost(jb, 7);
	expect_packet(jb, 7);
	/* Nothing at all queued: plain loss. */
	expect_lost(jb, -1);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, ==, 5);
	g_assert_cmpuint(stats.lost, ==, 4);
	g_assert_cmpuint(stats.recovered, ==, 2);
	sb_jitter_free(jb);
}

static void test_wraparound(void)
{
	sb_jitter *jb = sb_jitter_new(2, 10, STEP);
	/* 0 arrives before 65535, which is still in time. */
	static const uint16_t arrivals[] = {65532, 65533, 65534, 0, 65535, 1};

	g_assert_true(put(jb, 65530));
	g_assert_true(put(jb, 65531));
	expect_packet(jb, 65530);
	uint16_t due = 65531;
	for (size_t i = 0; i < G_N_ELEMENTS(arrivals); i++) {
		g_assert_true(put(jb, arrivals[i]));
		expect_packet(jb, due++);
	}
	for (uint16_t seq = 2; seq < 20; seq++) {
		g_assert_true(put(jb, seq));
		expect_packet(jb, due++);
	}
	expect_packet(jb, due++);
	g_assert_cmpuint(due, ==, 20);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, ==, 26);
	g_assert_cmpuint(stats.lost + stats.late + stats.reset + stats.overflow, ==, 0);
	sb_jitter_free(jb);
}

static void test_timestamp_wraparound(void)
{
	sb_jitter *jb = sb_jitter_new(1, 1, STEP);
	uint32_t ts = UINT32_MAX - 3 * STEP;
	uint16_t seq;

	for (seq = 0; seq < 3; seq++, ts += STEP) {
		g_assert_true(put_ts(jb, seq, ts));
		expect_packet(jb, seq);
	}
	/* A pause while the timestamp wraps: the packet after it is not late. */
	expect_lost(jb, -1);
	expect_lost(jb, -1);
	ts += 5 * STEP;
	g_assert_true(ts < 10 * STEP);
	g_assert_true(put_ts(jb, seq, ts));
	expect_packet(jb, seq);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.late + stats.reset, ==, 0);
	g_assert_cmpuint(stats.received, ==, 4);
	sb_jitter_free(jb);
}

static void test_resync_on_jump(void)
{
	sb_jitter *jb = sb_jitter_new(2, 2, STEP);
	uint16_t seq;

	for (seq = 100; seq < 110; seq++) {
		g_assert_true(put(jb, seq));
		if (seq > 100)
			expect_packet(jb, (uint16_t)(seq - 1));
	}
	/* One stray far away is not trusted... */
	g_assert_true(put(jb, 30000));
	g_assert_true(put(jb, 110));
	expect_packet(jb, 109);
	g_assert_cmpuint(stats_of(jb).reset, ==, 0);
	g_assert_cmpuint(stats_of(jb).invalid, ==, 1);

	/* ...two in a row are: the sender restarted, prebuffer afresh. */
	g_assert_true(put(jb, 40000));
	g_assert_true(put(jb, 40001));
	expect_packet(jb, 40000);
	g_assert_true(put(jb, 40002));
	expect_packet(jb, 40001);
	expect_packet(jb, 40002);
	g_assert_cmpuint(stats_of(jb).reset, ==, 1);

	/* Backwards jumps too. */
	g_assert_true(put(jb, 5));
	g_assert_true(put(jb, 6));
	expect_packet(jb, 5);
	expect_packet(jb, 6);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.reset, ==, 2);
	g_assert_cmpuint(stats.late, ==, 0);
	g_assert_cmpuint(stats.invalid, ==, 1);
	g_assert_cmpuint(stats.received, ==, 10 + 1 + 3 + 2);
	sb_jitter_free(jb);
}

static void test_idle_stream(void)
{
	sb_jitter *jb = sb_jitter_new(1, 1, STEP);
	uint16_t seq;

	for (seq = 0; seq < 20; seq++) {
		g_assert_true(put(jb, seq));
		expect_packet(jb, seq);
	}
	/* The sender stops: a few concealed frames, then the stream is idle. */
	int lost = 0;
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len;
	while (sb_jitter_get(jb, payload, &len) == SB_JITTER_LOST)
		lost++;
	g_assert_cmpint(lost, >=, 3);
	g_assert_cmpint(lost, <=, 15);
	for (int i = 0; i < 500; i++)
		expect_empty(jb);
	g_assert_cmpuint(stats_of(jb).lost, ==, (uint64_t)lost);

	/* It resumes with the next sequence number (a pause, not a gap) and a
	 * timestamp that moved on: plays after a fresh prebuffer. */
	uint32_t ts = (uint32_t)(seq + 600) * STEP;
	g_assert_true(put_ts(jb, seq, ts));
	expect_packet(jb, seq);
	g_assert_true(put_ts(jb, (uint16_t)(seq + 1), ts + STEP));
	expect_packet(jb, (uint16_t)(seq + 1));
	seq += 2;
	ts += 2 * STEP;

	/* A short pause of the same kind (DTX): the sequence number says
	 * "late" but the timestamp says "not due yet". */
	expect_lost(jb, -1);
	expect_lost(jb, -1);
	expect_lost(jb, -1);
	ts += 10 * STEP;
	g_assert_true(put_ts(jb, seq, ts));
	expect_packet(jb, seq);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.late, ==, 0);
	g_assert_cmpuint(stats.reset, ==, 0);
	g_assert_cmpuint(stats.received, ==, 23);
	sb_jitter_free(jb);
}

static void test_overflow(void)
{
	sb_jitter *jb = sb_jitter_new(1, 4, STEP);

	/* A burst of ten frames: only the newest max_frames (+1 of slack) are
	 * kept, the older ones would only add delay. */
	for (uint16_t seq = 0; seq < 10; seq++)
		g_assert_true(put(jb, seq));
	for (uint16_t seq = 5; seq < 10; seq++)
		expect_packet(jb, seq);
	g_assert_cmpuint(stats_of(jb).overflow, ==, 5);

	/* Far beyond the ring, but not far enough to be another stream. */
	g_assert_false(put(jb, 10 + 40));
	g_assert_cmpuint(stats_of(jb).overflow, ==, 6);
	g_assert_cmpuint(stats_of(jb).reset, ==, 0);
	sb_jitter_free(jb);
}

static void test_invalid_input(void)
{
	sb_jitter *jb = sb_jitter_new(1, 1, STEP);
	static uint8_t big[SB_MAX_PAYLOAD + 1];
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len = 5;

	g_assert_false(sb_jitter_put(jb, 1, 1, NULL, 10));
	g_assert_false(sb_jitter_put(jb, 1, 1, big, 0));
	g_assert_false(sb_jitter_put(jb, 1, 1, big, sizeof(big)));
	g_assert_true(sb_jitter_put(jb, 1, 1, big, SB_MAX_PAYLOAD));
	g_assert_false(sb_jitter_put(NULL, 1, 1, big, 10));
	g_assert_cmpint(sb_jitter_get(NULL, payload, &len), ==, SB_JITTER_EMPTY);
	g_assert_cmpuint(len, ==, 0);
	g_assert_cmpint(sb_jitter_get(jb, NULL, &len), ==, SB_JITTER_EMPTY);
	g_assert_cmpint(sb_jitter_get(jb, payload, NULL), ==, SB_JITTER_EMPTY);
	g_assert_cmpint(sb_jitter_get(jb, payload, &len), ==, SB_JITTER_PACKET);
	g_assert_cmpuint(len, ==, SB_MAX_PAYLOAD);

	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.invalid, ==, 3);
	g_assert_cmpuint(stats.received, ==, 1);
	sb_jitter_get_stats(jb, NULL);
	sb_jitter_get_stats(NULL, &stats);
	sb_jitter_free(NULL);

	/* Nonsense bounds are clamped rather than refused. */
	sb_jitter *odd = sb_jitter_new(0, -3, 0);
	g_assert_cmpint(stats_of(odd).depth, ==, 1);
	sb_jitter_free(odd);
	sb_jitter_free(jb);
}

/* ---- adaptation, driven by a simulated network ---- */

enum { SIM_CALM_UNTIL = 500, SIM_JITTER_UNTIL = 3000, SIM_TICKS = 8000, SIM_MAX_DELAY = 3 };

static uint32_t sim_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

static void test_adapts_to_jitter(void)
{
	static int arrival[SIM_TICKS];
	uint32_t rng = 42;
	sb_jitter *jb = sb_jitter_new(1, 6, STEP);
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len;
	int depth_after_calm = 0, depth_after_jitter = 0;
	int late_while_jittery = 0, late_after_warm_up = 0, late_while_calm = 0;

	/* Packet s is sent at tick s and arrives just before the get of tick
	 * arrival[s]: calm, then up to 60 ms of jitter, then calm again. */
	for (int s = 0; s < SIM_TICKS; s++) {
		bool jittery = s >= SIM_CALM_UNTIL && s < SIM_JITTER_UNTIL;
		arrival[s] = s + (jittery ? (int)(sim_random(&rng) % (SIM_MAX_DELAY + 1)) : 0);
	}
	for (int tick = 0; tick < SIM_TICKS; tick++) {
		for (int s = MAX(0, tick - SIM_MAX_DELAY); s <= tick; s++) {
			if (arrival[s] != tick)
				continue;
			uint64_t late_before = stats_of(jb).late;
			put(jb, (uint16_t)s);
			if (stats_of(jb).late == late_before)
				continue;
			if (tick < SIM_CALM_UNTIL || tick >= SIM_JITTER_UNTIL + SIM_MAX_DELAY)
				late_while_calm++;
			else
				late_while_jittery++;
			if (tick >= SIM_CALM_UNTIL + 1000 && tick < SIM_JITTER_UNTIL)
				late_after_warm_up++;
		}
		sb_jitter_get(jb, payload, &len);
		if (tick == SIM_CALM_UNTIL - 1)
			depth_after_calm = stats_of(jb).depth;
		if (tick == SIM_JITTER_UNTIL - 1)
			depth_after_jitter = stats_of(jb).depth;
	}

	sb_jitter_stats stats = stats_of(jb);
	g_test_message("depth %d -> %d -> %d; late %d while jittery (%d after warm-up), "
	               "%d while calm; lost %" G_GUINT64_FORMAT ", overflow %" G_GUINT64_FORMAT,
	               depth_after_calm, depth_after_jitter, stats.depth, late_while_jittery,
	               late_after_warm_up, late_while_calm, stats.lost, stats.overflow);
	/* A calm network needs no more than the minimum. */
	g_assert_cmpint(depth_after_calm, ==, 1);
	/* Jitter makes packets late at first, then the depth grows past the
	 * worst delay and lateness stops. */
	g_assert_cmpint(late_while_jittery, >, 0);
	g_assert_cmpint(depth_after_jitter, >=, SIM_MAX_DELAY + 1);
	g_assert_cmpint(late_after_warm_up, <=, 2);
	/* Calm again: the delay comes back down, slowly, and nothing is late. */
	g_assert_cmpint(stats.depth, <=, 2);
	g_assert_cmpint(late_while_calm, ==, 0);
	g_assert_cmpuint(stats.reset, ==, 0);
	g_assert_cmpuint(stats.received + stats.late, ==, SIM_TICKS);
	sb_jitter_free(jb);
}

/* ---- threads ---- */

typedef struct producer_args {
	sb_jitter *jb;
	int packets;
	gint put; /* packets put so far */
	gint done;
} producer_args;

static gpointer producer(gpointer data)
{
	producer_args *args = data;
	for (int s = 0; s < args->packets; s++) {
		put(args->jb, (uint16_t)s);
		g_atomic_int_inc(&args->put);
		if (s % 16 == 0)
			g_thread_yield();
	}
	g_atomic_int_set(&args->done, 1);
	return NULL;
}

/* Plays what the producer puts, in order and never twice, until it is done
 * and the buffer drained; returns how many packets played.  Each get is a
 * 20 ms tick of the buffer's clock: a consumer spinning faster than the
 * producer puts would make every packet late (it once played nothing on a
 * busy CI machine), so it never ticks ahead of what was put, as a mixer
 * never runs ahead of real time.  After the last put a few empty answers
 * in a row are not the end yet. */
static int consume(sb_jitter *jb, producer_args *args)
{
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len;
	int played = 0, last = -1, empty_after_done = 0, ticks = 0;
	for (;;) {
		if (!g_atomic_int_get(&args->done) && ticks >= g_atomic_int_get(&args->put)) {
			g_thread_yield();
			continue;
		}
		ticks++;
		sb_jitter_result r = sb_jitter_get(jb, payload, &len);
		if (r == SB_JITTER_PACKET) {
			int seq = payload_seq(payload);
			g_assert_cmpint(seq, >, last); /* in order, never twice */
			g_assert_cmpuint(len, ==, payload_len((uint16_t)seq));
			last = seq;
			played++;
		}
		if (!g_atomic_int_get(&args->done))
			continue;
		empty_after_done = r == SB_JITTER_EMPTY ? empty_after_done + 1 : 0;
		if (empty_after_done > 16)
			return played;
	}
}

static void test_threads(void)
{
	sb_jitter *jb = sb_jitter_new(1, 8, STEP);
	producer_args args = {.jb = jb, .packets = 20000};
	GThread *thread = g_thread_new("producer", producer, &args);
	int played = consume(jb, &args);
	g_thread_join(thread);
	sb_jitter_stats stats = stats_of(jb);
	g_assert_cmpuint(stats.received, <=, 20000);
	g_assert_cmpint(played, >, 0);
	g_test_message("played %d of 20000 with the producer in its own thread", played);
	sb_jitter_free(jb);
	/* The producer done before the first get, as a busy machine may
	 * schedule it: what is left still plays. */
	jb = sb_jitter_new(1, 8, STEP);
	producer_args first = {.jb = jb, .packets = 20000};
	producer(&first);
	g_assert_cmpint(consume(jb, &first), >, 0);
	sb_jitter_free(jb);
}

/* Audio levels travel with their packets, also across reordering. */
static void test_levels(void)
{
	sb_jitter *jb = sb_jitter_new(2, 10, STEP);
	uint8_t payload[SB_MAX_PAYLOAD] = {0};
	size_t len;
	int level;
	g_assert_true(sb_jitter_put_level(jb, 10, 10 * STEP, payload, 20, 30));
	g_assert_true(sb_jitter_put_level(jb, 12, 12 * STEP, payload, 20, 127));
	g_assert_true(sb_jitter_put_level(jb, 11, 11 * STEP, payload, 20, 45));
	g_assert_true(sb_jitter_put(jb, 13, 13 * STEP, payload, 20));
	const int expected[] = {30, 45, 127, -1};
	for (int i = 0; i < 4; i++) {
		g_assert_cmpint(sb_jitter_get_level(jb, payload, &len, &level), ==, SB_JITTER_PACKET);
		g_assert_cmpint(level, ==, expected[i]);
	}
	g_assert_cmpint(sb_jitter_get_level(jb, payload, &len, &level), ==, SB_JITTER_LOST);
	g_assert_cmpint(level, ==, -1);
	sb_jitter_free(jb);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/jitter/in-order", test_in_order);
	g_test_add_func("/jitter/prebuffer-burst", test_prebuffer_burst);
	g_test_add_func("/jitter/reordering", test_reordering);
	g_test_add_func("/jitter/duplicate", test_duplicate);
	g_test_add_func("/jitter/late", test_late);
	g_test_add_func("/jitter/lost", test_lost_with_and_without_next);
	g_test_add_func("/jitter/wraparound", test_wraparound);
	g_test_add_func("/jitter/timestamp-wraparound", test_timestamp_wraparound);
	g_test_add_func("/jitter/resync", test_resync_on_jump);
	g_test_add_func("/jitter/idle", test_idle_stream);
	g_test_add_func("/jitter/overflow", test_overflow);
	g_test_add_func("/jitter/invalid", test_invalid_input);
	g_test_add_func("/jitter/adaptive", test_adapts_to_jitter);
	g_test_add_func("/jitter/threads", test_threads);
	g_test_add_func("/jitter/levels", test_levels);

	return g_test_run();
}
