/* The warm-transfer state machine against a fake environment: rooms are a
 * participant → room table, the bus a list of event types.  Every path of
 * the issue: complete, cancel, decline, no answer, three-way, complete
 * twice, cancel after complete, offline target, A or the caller hanging up
 * mid-transfer — each ends in a defined state with nobody stranded and no
 * consult room left. */
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "transfer/transfer_private.h"

enum { CALLER = 1, A = 2, B = 3, C = 4, LEG = 5 };

static struct fake {
	GHashTable *where;      /* id -> room name (g_strdup) */
	GHashTable *rooms;      /* name -> 1 */
	GHashTable *held;       /* id -> 1 */
	GHashTable *status;     /* agent id -> status */
	GPtrArray *bus;         /* event types */
	GHashTable *last_state; /* participant -> last transfer state notified */
	char *timer;
	char *dialled_room; /* the last dial: into which room */
	char *said;         /* the last thing the agent said, and where */
	char *said_room;
	GPtrArray *hangups; /* call ids hung up */
	bool dial_fails;
	bool ai_on;
	bool carol_elsewhere; /* a cluster: carol is at her desk on another node */
	char *summoned;       /* the last agent summoned from another node */
	int consults;
	gint64 now;
} f;

#define ID(x) GSIZE_TO_POINTER((gsize)(x))

static bool consult_create(void *u, const char *room, char *name, size_t len)
{
	(void)u;
	if (!g_hash_table_contains(f.rooms, room))
		return false;
	g_snprintf(name, len, "consult-%d", ++f.consults);
	g_hash_table_add(f.rooms, g_strdup(name));
	return true;
}
static void room_destroy(void *u, const char *room)
{
	(void)u;
	g_hash_table_remove(f.rooms, room);
}
static bool move(void *u, guint64 id, const char *to)
{
	(void)u;
	if (!g_hash_table_contains(f.where, ID(id)) || !g_hash_table_contains(f.rooms, to))
		return false;
	g_hash_table_replace(f.where, ID(id), g_strdup(to));
	return true;
}
static const char *room_of(guint64 id)
{
	return g_hash_table_lookup(f.where, ID(id));
}
static void remove_p(void *u, guint64 id, const char *room)
{
	(void)u;
	if (g_strcmp0(room_of(id), room) == 0)
		g_hash_table_remove(f.where, ID(id));
}
static GArray *others(void *u, const char *room, guint64 except)
{
	(void)u;
	GArray *a = g_array_new(FALSE, FALSE, sizeof(guint64));
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, f.where);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint64 id = GPOINTER_TO_SIZE(k);
		if (id != except && id != B && id != C && !strcmp(v, room))
			g_array_append_val(a, id);
	}
	return a;
}
static bool present(void *u, guint64 id, const char *room)
{
	(void)u;
	return g_strcmp0(room_of(id), room) == 0;
}
static void set_hold(void *u, const char *room, guint64 id, bool hold)
{
	(void)u, (void)room;
	if (hold)
		g_hash_table_add(f.held, ID(id));
	else
		g_hash_table_remove(f.held, ID(id));
}
static bool ai_company(void *u, const char *room, bool on)
{
	(void)u, (void)room;
	bool was = f.ai_on;
	f.ai_on = on;
	return was;
}
static bool agent_locate(void *u, const char *agent, sb_agent_location *out)
{
	(void)u;
	memset(out, 0, sizeof(*out));
	guint64 id = !strcmp(agent, "bob")     ? B
	             : !strcmp(agent, "carol") ? C
	             : !strcmp(agent, "alice") ? A
	                                       : 0;
	if (!id || !room_of(id))
		return false;
	out->participant = id;
	g_strlcpy(out->room, room_of(id), sizeof(out->room));
	g_snprintf(out->home, sizeof(out->home), "desk-%s", agent);
	const char *st = g_hash_table_lookup(f.status, agent);
	out->available = (!st || !strcmp(st, "available")) && !strcmp(out->room, out->home);
	return true;
}
static bool agent_elsewhere(void *u, const char *agent)
{
	(void)u;
	return f.carol_elsewhere && !strcmp(agent, "carol");
}
static void summon(void *u, const char *agent, const char *transfer_id, const char *room,
                   const char *from)
{
	(void)u;
	g_assert_nonnull(transfer_id);
	g_assert_cmpstr(room, ==, "call");
	g_assert_cmpstr(from, ==, "alice");
	g_free(f.summoned);
	f.summoned = g_strdup(agent);
}
static void agent_busy(void *u, const char *agent, const char *status)
{
	(void)u;
	g_hash_table_replace(f.status, g_strdup(agent), g_strdup(status));
}
static json_t *summary(void *u, const char *room)
{
	(void)u;
	return json_pack("{ssss}", "room", room, "issue", "my order 12345 is late");
}
static void notify(void *u, guint64 id, json_t *ev)
{
	(void)u;
	g_hash_table_replace(f.last_state, ID(id),
	                     g_strdup(json_string_value(json_object_get(ev, "state"))));
}
static void publish(void *u, const char *type, json_t *data)
{
	(void)u;
	g_ptr_array_add(f.bus, g_strdup(type));
	/* Every bus event carries the documented fields. */
	g_assert_nonnull(json_object_get(data, "transfer_id"));
	g_assert_nonnull(json_object_get(data, "room"));
	g_assert_nonnull(json_object_get(data, "from"));
	g_assert_nonnull(json_object_get(data, "to"));
	g_assert_true(g_str_has_prefix(json_string_value(json_object_get(data, "consult_room")),
	                               "consult-"));
	const char *kind = json_string_value(json_object_get(data, "target_kind"));
	g_assert_true(!strcmp(kind, "agent") || !strcmp(kind, "number") || !strcmp(kind, "uri"));
	if (!strcmp(type, "transfer_completed"))
		g_assert_nonnull(json_object_get(data, "duration_ms"));
	if (!strcmp(type, "transfer_failed") || !strcmp(type, "transfer_cancelled"))
		g_assert_nonnull(json_object_get(data, "reason"));
	json_decref(data);
}
static void timer_start(void *u, const char *id, int ms)
{
	(void)u;
	g_assert_cmpint(ms, ==, 5000);
	g_free(f.timer);
	f.timer = g_strdup(id);
}
static void timer_cancel(void *u, const char *id)
{
	(void)u;
	if (!g_strcmp0(f.timer, id))
		g_clear_pointer(&f.timer, g_free);
}
static char *dial(void *u, const char *room, const char *target, char **error)
{
	(void)u;
	g_assert_nonnull(target);
	if (f.dial_fails) {
		*error = g_strdup("no trunk");
		return NULL;
	}
	g_free(f.dialled_room);
	f.dialled_room = g_strdup(room);
	return g_strdup("call-1");
}
static void hangup(void *u, const char *call_id)
{
	(void)u;
	g_ptr_array_add(f.hangups, g_strdup(call_id));
	/* The leg leaves its room, as sip_leg_finish does. */
	g_hash_table_remove(f.where, ID(LEG));
}
static void say(void *u, const char *room, const char *text)
{
	(void)u;
	g_free(f.said);
	g_free(f.said_room);
	f.said = g_strdup(text);
	f.said_room = g_strdup(room);
}
static gint64 now_ms(void *u)
{
	(void)u;
	return f.now += 10;
}

static void setup(bool ai)
{
	memset(&f, 0, sizeof(f));
	f.where = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	f.rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f.held = g_hash_table_new(g_direct_hash, g_direct_equal);
	f.status = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	f.last_state = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	f.bus = g_ptr_array_new_with_free_func(g_free);
	f.hangups = g_ptr_array_new_with_free_func(g_free);
	for (const char *const *r =
	             (const char *const[]){"call", "desk-alice", "desk-bob", "desk-carol", NULL};
	     *r; r++)
		g_hash_table_add(f.rooms, g_strdup(*r));
	g_hash_table_insert(f.where, ID(CALLER), g_strdup("call"));
	g_hash_table_insert(f.where, ID(A), g_strdup("call"));
	g_hash_table_insert(f.where, ID(B), g_strdup("desk-bob"));
	sb_transfer_env env = {.consult_create = consult_create,
	                       .room_destroy = room_destroy,
	                       .move = move,
	                       .remove = remove_p,
	                       .others = others,
	                       .present = present,
	                       .set_hold = set_hold,
	                       .ai_company = ai_company,
	                       .agent_locate = agent_locate,
	                       .agent_elsewhere = agent_elsewhere,
	                       .summon = summon,
	                       .agent_busy = agent_busy,
	                       .summary = summary,
	                       .notify = notify,
	                       .publish = publish,
	                       .timer_start = timer_start,
	                       .timer_cancel = timer_cancel,
	                       .now_ms = now_ms,
	                       .dial = dial,
	                       .hangup = hangup,
	                       .say = say};
	sb_transfer_config config = {.ring_timeout_ms = 5000, .ai_company = ai};
	sb_transfers_init(&env, &config);
}

static void teardown(void)
{
	sb_transfers_deinit();
	g_hash_table_destroy(f.where);
	g_hash_table_destroy(f.rooms);
	g_hash_table_destroy(f.held);
	g_hash_table_destroy(f.status);
	g_hash_table_destroy(f.last_state);
	g_ptr_array_unref(f.bus);
	g_ptr_array_unref(f.hangups);
	g_free(f.timer);
	g_free(f.dialled_room);
	g_free(f.said);
	g_free(f.said_room);
	g_free(f.summoned);
}

static char *start_to(const char *agent, sb_transfer_error expect)
{
	sb_transfer_request req = {.room = "call",
	                           .from = A,
	                           .from_agent = "alice",
	                           .kind = SB_TARGET_AGENT,
	                           .target = agent,
	                           .reason = "billing"};
	char *id = NULL, *error = NULL;
	g_assert_cmpint(sb_transfer_start(&req, &id, &error), ==, expect);
	g_free(error);
	return id;
}

static const char *state_of(const char *id)
{
	static char buf[32];
	json_t *j = sb_transfer_info(id);
	g_strlcpy(buf, json_string_value(json_object_get(j, "state")), sizeof(buf));
	json_decref(j);
	return buf;
}

static const char *last_bus(void)
{
	return g_ptr_array_index(f.bus, f.bus->len - 1);
}
static const char *notified(guint64 id)
{
	return g_hash_table_lookup(f.last_state, ID(id));
}
static guint consult_rooms(void)
{
	guint n = 0;
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, f.rooms);
	while (g_hash_table_iter_next(&it, &k, NULL))
		n += g_str_has_prefix(k, "consult-");
	return n;
}

static void act(const char *id, const char *action, sb_transfer_error expect)
{
	char *error = NULL;
	g_assert_cmpint(sb_transfer_act(id, action, &error), ==, expect);
	if (expect != SB_TRANSFER_OK)
		g_assert_cmpuint(strlen(error), >, 0);
	g_free(error);
}

static void test_complete(void)
{
	setup(false);
	char *id = start_to("bob", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "ringing");
	g_assert_true(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpstr(room_of(A), ==, "consult-1");
	g_assert_cmpstr(room_of(B), ==, "desk-bob");
	g_assert_cmpstr(notified(B), ==, "ringing");
	g_assert_cmpstr(notified(CALLER), ==, "on_hold");
	g_assert_cmpstr(last_bus(), ==, "transfer_initiated");
	g_assert_nonnull(f.timer);
	act(id, "complete", SB_TRANSFER_E_STATE); /* B has not accepted */
	act(id, "accept", SB_TRANSFER_OK);
	g_assert_null(f.timer);
	g_assert_cmpstr(room_of(B), ==, "consult-1");
	g_assert_cmpstr(last_bus(), ==, "transfer_accepted");
	act(id, "complete", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "completed");
	sb_transfer_stats st;
	sb_transfers_get_stats(&st);
	g_assert_cmpuint(st.completed, ==, 1);
	g_assert_cmpuint(st.active, ==, 0);
	g_assert_cmpstr(room_of(B), ==, "call");
	g_assert_cmpstr(room_of(A), ==, "desk-alice");
	g_assert_cmpstr(room_of(CALLER), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_assert_cmpstr(last_bus(), ==, "transfer_completed");
	g_assert_cmpstr(notified(CALLER), ==, "completed");
	/* Bad input after the end: a clear error, nothing changes. */
	guint events = f.bus->len;
	act(id, "complete", SB_TRANSFER_E_STATE);
	act(id, "cancel", SB_TRANSFER_E_STATE);
	act(id, "dance", SB_TRANSFER_E_INVALID);
	act("tr-nope", "cancel", SB_TRANSFER_E_NOT_FOUND);
	g_assert_cmpuint(f.bus->len, ==, events);
	g_assert_cmpstr(room_of(B), ==, "call");
	g_free(id);
	teardown();
}

static void test_cancel_and_decline(void)
{
	setup(false);
	char *id = start_to("bob", SB_TRANSFER_OK);
	act(id, "accept", SB_TRANSFER_OK);
	act(id, "cancel", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "cancelled");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_cmpstr(room_of(B), ==, "desk-bob");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_assert_cmpstr(last_bus(), ==, "transfer_cancelled");
	g_assert_cmpstr(g_hash_table_lookup(f.status, "bob"), ==, "available");
	g_free(id);

	id = start_to("bob", SB_TRANSFER_OK);
	act(id, "decline", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_cmpstr(last_bus(), ==, "transfer_failed");
	g_assert_cmpstr(notified(CALLER), ==, "failed");
	g_assert_null(f.timer);
	g_free(id);

	/* No answer in time. */
	id = start_to("bob", SB_TRANSFER_OK);
	char *timer = g_strdup(f.timer);
	sb_transfer_timeout(timer);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	json_t *info = sb_transfer_info(id);
	g_assert_cmpstr(json_string_value(json_object_get(info, "end_reason")), ==, "no_answer");
	json_decref(info);
	sb_transfer_timeout(timer); /* late duplicate: nothing */
	g_free(timer);
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();
}

static void test_three_way(void)
{
	setup(false);
	char *id = start_to("bob", SB_TRANSFER_OK);
	act(id, "three_way", SB_TRANSFER_E_STATE);
	act(id, "accept", SB_TRANSFER_OK);
	act(id, "three_way", SB_TRANSFER_OK);
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_cmpstr(room_of(B), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	act(id, "complete", SB_TRANSFER_OK);
	g_assert_cmpstr(room_of(A), ==, "desk-alice");
	g_assert_cmpstr(room_of(B), ==, "call");
	g_free(id);
	teardown();
}

static void test_bad_targets(void)
{
	setup(false);
	g_assert_null(start_to("dave", SB_TRANSFER_E_OFFLINE)); /* not signed in */
	g_hash_table_replace(f.status, g_strdup("bob"), g_strdup("busy"));
	g_assert_null(start_to("bob", SB_TRANSFER_E_OFFLINE));   /* busy */
	g_assert_null(start_to("alice", SB_TRANSFER_E_OFFLINE)); /* not at a desk */
	g_assert_cmpuint(f.bus->len, ==, 0);
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpstr(room_of(A), ==, "call");
	g_hash_table_replace(f.status, g_strdup("bob"), g_strdup("available"));
	char *id = start_to("bob", SB_TRANSFER_OK);
	/* One transfer of a call at a time. */
	g_hash_table_insert(f.where, ID(C), g_strdup("desk-carol"));
	g_assert_null(start_to("carol", SB_TRANSFER_E_BUSY));
	sb_transfer_request req = {
	        .room = "call", .kind = SB_TARGET_NUMBER, .from = A, .target = "+15551234567"};
	char *none = NULL, *error = NULL;
	g_assert_cmpint(sb_transfer_start(&req, &none, &error), ==, SB_TRANSFER_E_BUSY);
	g_free(error);
	act(id, "cancel", SB_TRANSFER_OK);
	g_free(id);
	teardown();
}

/* A cluster: carol is at her desk on another node.  The transfer rings
 * once she has come here; a summons nobody answers times out as a ring. */
static void test_agent_elsewhere(void)
{
	setup(false);
	g_assert_null(start_to("carol", SB_TRANSFER_E_OFFLINE)); /* nowhere */
	f.carol_elsewhere = true;
	char *id = start_to("carol", SB_TRANSFER_OK);
	g_assert_cmpstr(f.summoned, ==, "carol");
	g_assert_cmpstr(state_of(id), ==, "ringing");
	g_assert_cmpstr(room_of(A), ==, "consult-1");
	g_assert_true(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_null(notified(C));                            /* not here yet */
	g_assert_null(g_hash_table_lookup(f.status, "carol")); /* her node's to say */
	sb_transfer_agent_arrived("dave");                     /* not the one awaited */
	g_assert_null(notified(C));
	/* She arrives at her desk here: rung as if she had been here. */
	g_hash_table_insert(f.where, ID(C), g_strdup("desk-carol"));
	sb_transfer_agent_arrived("carol");
	g_assert_cmpstr(notified(C), ==, "ringing");
	g_assert_cmpstr(g_hash_table_lookup(f.status, "carol"), ==, "ringing");
	sb_transfer_agent_arrived("carol"); /* twice: nothing more */
	act(id, "accept", SB_TRANSFER_OK);
	g_assert_cmpstr(room_of(C), ==, "consult-1");
	act(id, "complete", SB_TRANSFER_OK);
	g_assert_cmpstr(room_of(C), ==, "call");
	g_assert_cmpstr(room_of(A), ==, "desk-alice");
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();

	/* Summoned, never comes: the ring timeout ends it, A back with the
	 * caller; arriving afterwards rings nothing. */
	setup(false);
	f.carol_elsewhere = true;
	id = start_to("carol", SB_TRANSFER_OK);
	sb_transfer_timeout(id);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(last_bus(), ==, "transfer_failed");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_hash_table_insert(f.where, ID(C), g_strdup("desk-carol"));
	sb_transfer_agent_arrived("carol");
	g_assert_null(notified(C));
	g_free(id);
	teardown();
}

static void test_hang_ups(void)
{
	setup(false);
	/* A hangs up while B is ringing: the caller is back off hold, told. */
	char *id = start_to("bob", SB_TRANSFER_OK);
	g_hash_table_remove(f.where, ID(A));
	sb_transfer_participant_left("consult-1", A);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpstr(notified(CALLER), ==, "failed");
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();

	/* A hangs up after B accepted: B takes the call. */
	setup(false);
	id = start_to("bob", SB_TRANSFER_OK);
	act(id, "accept", SB_TRANSFER_OK);
	g_hash_table_remove(f.where, ID(A));
	sb_transfer_participant_left("consult-1", A);
	g_assert_cmpstr(state_of(id), ==, "completed");
	g_assert_cmpstr(room_of(B), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_free(id);
	teardown();

	/* The caller hangs up mid-consult: A and B back at their desks. */
	setup(false);
	id = start_to("bob", SB_TRANSFER_OK);
	act(id, "accept", SB_TRANSFER_OK);
	g_hash_table_remove(f.where, ID(CALLER));
	sb_transfer_participant_left("call", CALLER);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(room_of(A), ==, "desk-alice");
	g_assert_cmpstr(room_of(B), ==, "desk-bob");
	g_assert_cmpuint(consult_rooms(), ==, 0);
	act(id, "complete", SB_TRANSFER_E_STATE);
	g_free(id);
	teardown();

	/* B goes offline while ringing. */
	setup(false);
	id = start_to("bob", SB_TRANSFER_OK);
	g_hash_table_remove(f.where, ID(B));
	sb_transfer_participant_left("desk-bob", B);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_free(id);
	teardown();
}

static void test_ai_company(void)
{
	setup(true);
	char *id = start_to("bob", SB_TRANSFER_OK);
	g_assert_true(f.ai_on);
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpstr(notified(CALLER), ==, "waiting");
	act(id, "cancel", SB_TRANSFER_OK);
	g_assert_false(f.ai_on); /* it was off before */
	g_free(id);
	teardown();
}

/* ---- phone targets ---- */

static char *start_phone(sb_target_kind kind, const char *target, sb_transfer_error expect)
{
	sb_transfer_request req = {.room = "call",
	                           .from = A,
	                           .from_agent = "alice",
	                           .kind = kind,
	                           .target = target,
	                           .reason = "billing"};
	char *id = NULL, *error = NULL;
	g_assert_cmpint(sb_transfer_start(&req, &id, &error), ==, expect);
	if (expect != SB_TRANSFER_OK)
		g_assert_cmpuint(strlen(error), >, 0);
	g_free(error);
	return id;
}

/* The trunk answered: B's leg joins the consult room, then the status. */
static void answer(void)
{
	g_hash_table_insert(f.where, ID(LEG), g_strdup(f.dialled_room));
	sb_transfer_call_status("call-1", "answered", LEG);
}

static const char *end_reason(const char *id)
{
	static char buf[32];
	json_t *j = sb_transfer_info(id);
	g_strlcpy(buf, json_string_value(json_object_get(j, "end_reason")), sizeof(buf));
	json_decref(j);
	return buf;
}

static void test_phone_complete(void)
{
	setup(false);
	char *id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "ringing");
	g_assert_cmpstr(f.dialled_room, ==, "consult-1");
	g_assert_cmpstr(room_of(A), ==, "consult-1");
	g_assert_true(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_nonnull(f.timer);
	g_assert_null(g_hash_table_lookup(f.status, "+15551234567")); /* no presence for numbers */
	/* Status of another call, or a ringing: nothing changes but the timer. */
	sb_transfer_call_status("call-other", "answered", LEG);
	g_assert_cmpstr(state_of(id), ==, "ringing");
	g_clear_pointer(&f.timer, g_free);
	sb_transfer_call_status("call-1", "ringing", 0);
	g_assert_nonnull(f.timer);
	g_assert_cmpstr(state_of(id), ==, "ringing");
	/* A phone accepts by answering, not by the console action. */
	act(id, "accept", SB_TRANSFER_E_STATE);
	act(id, "decline", SB_TRANSFER_E_STATE);
	act(id, "complete", SB_TRANSFER_E_STATE);
	answer();
	g_assert_cmpstr(state_of(id), ==, "consulting");
	g_assert_null(f.timer);
	g_assert_cmpstr(last_bus(), ==, "transfer_accepted");
	g_assert_cmpstr(f.said_room, ==, "consult-1");
	g_assert_nonnull(strstr(f.said, "billing"));
	g_assert_true(g_hash_table_contains(f.held, ID(CALLER))); /* still on hold */
	g_assert_cmpstr(room_of(A), ==, "consult-1");
	g_assert_cmpstr(room_of(LEG), ==, "consult-1");
	json_t *info = sb_transfer_info(id);
	g_assert_cmpint(json_integer_value(json_object_get(info, "to_participant")), ==, LEG);
	g_assert_cmpstr(json_string_value(json_object_get(info, "target_kind")), ==, "number");
	json_decref(info);
	sb_transfer_call_status("call-1", "answered", LEG); /* duplicate: nothing */
	g_assert_cmpstr(state_of(id), ==, "consulting");
	act(id, "complete", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "completed");
	g_assert_cmpstr(room_of(LEG), ==, "call");
	g_assert_cmpstr(room_of(CALLER), ==, "call");
	g_assert_cmpstr(room_of(A), ==, "desk-alice");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_assert_cmpuint(f.hangups->len, ==, 0); /* B's leg stays up with the caller */
	g_assert_cmpstr(last_bus(), ==, "transfer_completed");
	/* The leg hanging up later is no longer the transfer's business. */
	sb_transfer_call_status("call-1", "completed", 0);
	g_assert_cmpstr(state_of(id), ==, "completed");
	g_free(id);
	teardown();
}

static void test_phone_busy_no_answer(void)
{
	const char *statuses[] = {"busy", "no-answer", "failed"};
	const char *reasons[] = {"busy", "no_answer", "call_failed"};
	for (guint i = 0; i < G_N_ELEMENTS(statuses); i++) {
		setup(false);
		char *id = start_phone(SB_TARGET_URI, "sip:bob@example.com", SB_TRANSFER_OK);
		sb_transfer_call_status("call-1", "ringing", 0);
		sb_transfer_call_status("call-1", statuses[i], 0);
		g_assert_cmpstr(state_of(id), ==, "failed");
		g_assert_cmpstr(end_reason(id), ==, reasons[i]);
		g_assert_cmpstr(room_of(A), ==, "call");
		g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
		g_assert_cmpstr(notified(CALLER), ==, "failed");
		g_assert_cmpuint(consult_rooms(), ==, 0);
		g_assert_null(f.timer);
		g_assert_cmpstr(last_bus(), ==, "transfer_failed");
		act(id, "complete", SB_TRANSFER_E_STATE);
		g_free(id);
		teardown();
	}

	/* The ring timer fires before the trunk gives up: the leg is hung up. */
	setup(false);
	char *id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	char *timer = g_strdup(f.timer);
	sb_transfer_timeout(timer);
	g_free(timer);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(end_reason(id), ==, "no_answer");
	g_assert_cmpuint(f.hangups->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(f.hangups, 0), ==, "call-1");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();

	/* The dial itself fails: a clear error, everything as before. */
	setup(false);
	f.dial_fails = true;
	g_assert_null(start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_E_DIAL));
	g_assert_cmpuint(f.bus->len, ==, 0);
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	teardown();
}

static void test_phone_cancel_and_hang_ups(void)
{
	/* Cancel while ringing: the call is hung up. */
	setup(false);
	char *id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	act(id, "cancel", SB_TRANSFER_OK);
	g_assert_cmpstr(state_of(id), ==, "cancelled");
	g_assert_cmpuint(f.hangups->len, ==, 1);
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();

	/* Cancel mid-consult: B's leg is hung up and gone, A back. */
	setup(false);
	id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	answer();
	act(id, "cancel", SB_TRANSFER_OK);
	g_assert_cmpuint(f.hangups->len, ==, 1);
	g_assert_null(room_of(LEG));
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();

	/* B hangs up mid-consult: A back with the caller. */
	setup(false);
	id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	answer();
	g_hash_table_remove(f.where, ID(LEG));
	sb_transfer_participant_left("consult-1", LEG);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(end_reason(id), ==, "target_left");
	g_assert_cmpstr(room_of(A), ==, "call");
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_free(id);
	teardown();

	/* A hangs up while B's phone rings: the call is hung up. */
	setup(false);
	id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	g_hash_table_remove(f.where, ID(A));
	sb_transfer_participant_left("consult-1", A);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpuint(f.hangups->len, ==, 1);
	g_assert_false(g_hash_table_contains(f.held, ID(CALLER)));
	g_free(id);
	teardown();

	/* A hangs up after B answered: B takes the call. */
	setup(false);
	id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	answer();
	g_hash_table_remove(f.where, ID(A));
	sb_transfer_participant_left("consult-1", A);
	g_assert_cmpstr(state_of(id), ==, "completed");
	g_assert_cmpstr(room_of(LEG), ==, "call");
	g_assert_cmpuint(f.hangups->len, ==, 0);
	g_free(id);
	teardown();

	/* The caller hangs up mid-consult: B's leg is hung up, A home. */
	setup(false);
	id = start_phone(SB_TARGET_NUMBER, "+15551234567", SB_TRANSFER_OK);
	answer();
	g_hash_table_remove(f.where, ID(CALLER));
	sb_transfer_participant_left("call", CALLER);
	g_assert_cmpstr(state_of(id), ==, "failed");
	g_assert_cmpstr(end_reason(id), ==, "caller_left");
	g_assert_cmpuint(f.hangups->len, ==, 1);
	g_assert_null(room_of(LEG));
	g_assert_cmpstr(room_of(A), ==, "desk-alice");
	g_assert_cmpuint(consult_rooms(), ==, 0);
	g_free(id);
	teardown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/transfer/complete", test_complete);
	g_test_add_func("/transfer/cancel_decline_timeout", test_cancel_and_decline);
	g_test_add_func("/transfer/three_way", test_three_way);
	g_test_add_func("/transfer/bad_targets", test_bad_targets);
	g_test_add_func("/transfer/hang_ups", test_hang_ups);
	g_test_add_func("/transfer/agent_elsewhere", test_agent_elsewhere);
	g_test_add_func("/transfer/ai_company", test_ai_company);
	g_test_add_func("/transfer/phone/complete", test_phone_complete);
	g_test_add_func("/transfer/phone/busy_no_answer", test_phone_busy_no_answer);
	g_test_add_func("/transfer/phone/cancel_hang_ups", test_phone_cancel_and_hang_ups);
	return g_test_run();
}
