/* The warm transfer state machine: ringing → consulting → (three-way) →
 * completed, or cancelled/failed with everyone back where they were.  It
 * acts only through the injected environment (transfer_env.c in the
 * plugin, fakes in test_transfer), so every path is unit-tested without
 * Janus; one recursive lock, since the environment reports leaves back
 * into the machine. */
#include "transfer/transfer_private.h"

#include <string.h>

typedef struct transfer {
	char *id;
	sb_transfer_state state;
	char *room;         /* the caller's */
	char *consult;      /* the private consult room, NULL once destroyed */
	char *consult_name; /* its name, kept for the record */
	guint64 from;       /* Agent A's participant */
	char *from_agent;
	char from_home[80];
	sb_target_kind kind;
	char *target;
	guint64 to;    /* Agent B's participant, once known */
	char *call_id; /* a phone target's outbound call */
	char to_home[80];
	char *reason;     /* why it was started */
	char *end_reason; /* why it ended (cancelled, declined, no_answer …) */
	json_t *summary;
	GArray *held; /* guint64: the callers put on hold */
	bool ai_company, ai_was_on;
	gint64 created_ms, accepted_ms, ended_ms;
} transfer;

static GRecMutex lock;
static GHashTable *transfers; /* id -> transfer* (owned) */
static sb_transfer_env env;
static sb_transfer_config config;
static guint counter;
static sb_transfer_stats stats; /* guarded by lock */

const char *sb_transfer_state_name(sb_transfer_state state)
{
	static const char *const names[] = {"ringing",   "consulting", "three_way",
	                                    "completed", "cancelled",  "failed"};
	return state <= SB_TRANSFER_FAILED ? names[state] : "unknown";
}

static const char *kind_name(sb_target_kind kind)
{
	return kind == SB_TARGET_AGENT ? "agent" : kind == SB_TARGET_NUMBER ? "number" : "uri";
}

static bool is_final(const transfer *t)
{
	return t->state >= SB_TRANSFER_COMPLETED;
}

static bool is_phone(const transfer *t)
{
	return t->kind != SB_TARGET_AGENT;
}

/* A failed phone transfer must not leave B's leg ringing or talking to an
 * empty consult room. */
static void hangup_target(transfer *t)
{
	if (is_phone(t) && t->call_id && env.hangup)
		env.hangup(env.user, t->call_id);
}

static void transfer_free(gpointer data)
{
	transfer *t = data;
	g_free(t->id);
	g_free(t->room);
	g_free(t->consult);
	g_free(t->consult_name);
	g_free(t->from_agent);
	g_free(t->target);
	g_free(t->call_id);
	g_free(t->reason);
	g_free(t->end_reason);
	json_decref(t->summary);
	g_array_unref(t->held);
	g_free(t);
}

void sb_transfers_init(const sb_transfer_env *e, const sb_transfer_config *c)
{
	g_rec_mutex_lock(&lock);
	env = *e;
	config = *c;
	if (config.ring_timeout_ms <= 0)
		config.ring_timeout_ms = 30000;
	if (!transfers)
		transfers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, transfer_free);
	g_rec_mutex_unlock(&lock);
}

void sb_transfers_deinit(void)
{
	g_rec_mutex_lock(&lock);
	if (transfers)
		g_hash_table_destroy(transfers);
	transfers = NULL;
	g_rec_mutex_unlock(&lock);
}

static json_t *info_json(const transfer *t, bool with_summary)
{
	json_t *j = json_object();
	json_object_set_new(j, "transfer_id", json_string(t->id));
	json_object_set_new(j, "state", json_string(sb_transfer_state_name(t->state)));
	json_object_set_new(j, "room", json_string(t->room));
	json_object_set_new(j, "from",
	                    t->from_agent ? json_string(t->from_agent)
	                                  : json_integer((json_int_t)t->from));
	json_object_set_new(j, "from_participant", json_integer((json_int_t)t->from));
	json_object_set_new(j, "to", json_string(t->target));
	if (t->to)
		json_object_set_new(j, "to_participant", json_integer((json_int_t)t->to));
	json_object_set_new(j, "target_kind", json_string(kind_name(t->kind)));
	json_object_set_new(j, "consult_room", json_string(t->consult_name));
	if (t->reason)
		json_object_set_new(j, "reason", json_string(t->reason));
	if (t->end_reason)
		json_object_set_new(j, "end_reason", json_string(t->end_reason));
	if (with_summary && t->summary)
		json_object_set(j, "summary", t->summary);
	json_object_set_new(j, "ai_company", json_boolean(t->ai_company));
	json_object_set_new(j, "created", json_integer(t->created_ms));
	if (t->ended_ms)
		json_object_set_new(j, "duration_ms", json_integer(t->ended_ms - t->created_ms));
	return j;
}

/* The `transfer` event on the Janus API: the agents get everything; the
 * callers get the state (so they know why they hear music), not the
 * summary written about them. */
static void notify_all(transfer *t)
{
	json_t *full = info_json(t, true);
	json_object_set_new(full, "switchboard", json_string("transfer"));
	json_t *brief =
	        json_pack("{sssssssO}", "switchboard", "transfer", "transfer_id", t->id, "state",
	                  t->state == SB_TRANSFER_RINGING || t->state == SB_TRANSFER_CONSULTING
	                          ? (t->ai_company ? "waiting" : "on_hold")
	                          : sb_transfer_state_name(t->state),
	                  "room", json_object_get(full, "room"));
	if (t->end_reason)
		json_object_set_new(brief, "end_reason", json_string(t->end_reason));
	env.notify(env.user, t->from, full);
	if (t->to)
		env.notify(env.user, t->to, full);
	for (guint i = 0; i < t->held->len; i++)
		env.notify(env.user, g_array_index(t->held, guint64, i), brief);
	json_decref(full);
	json_decref(brief);
}

static void publish(transfer *t, const char *type)
{
	json_t *j = info_json(t, strcmp(type, "transfer_initiated") == 0 ||
	                                 strcmp(type, "transfer_completed") == 0);
	if (t->end_reason)
		json_object_set_new(j, "reason", json_string(t->end_reason));
	env.publish(env.user, type, j);
}

static transfer *find(const char *id)
{
	return id && transfers ? g_hash_table_lookup(transfers, id) : NULL;
}

/* The first live transfer that match() says is the one, or NULL. */
static transfer *find_live(bool (*match)(const transfer *t, const void *key), const void *key)
{
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, transfers);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		transfer *t = value;
		if (!is_final(t) && match(t, key))
			return t;
	}
	return NULL;
}

static bool has_participant(const transfer *t, const void *key)
{
	guint64 p = *(const guint64 *)key;
	return t->from == p || (t->to && t->to == p);
}

/* A live transfer that involves participant p, or NULL. */
static transfer *involving(guint64 p)
{
	return find_live(has_participant, &p);
}

static bool in_room(const transfer *t, const void *room)
{
	return strcmp(t->room, room) == 0;
}

static bool of_call(const transfer *t, const void *call_id)
{
	return t->call_id && strcmp(t->call_id, call_id) == 0;
}

static void end_hold(transfer *t)
{
	if (t->ai_company) {
		if (!t->ai_was_on)
			env.ai_company(env.user, t->room, false);
		return;
	}
	for (guint i = 0; i < t->held->len; i++)
		env.set_hold(env.user, t->room, g_array_index(t->held, guint64, i), false);
}

/* Someone with nowhere else to be: back to their desk, else into `fallback`
 * (the caller's room), else out. */
static void send_home(guint64 p, const char *home, const char *fallback, const char *where)
{
	if (home && *home && env.move(env.user, p, home))
		return;
	if (fallback && env.move(env.user, p, fallback))
		return;
	env.remove(env.user, p, where);
}

static void destroy_consult(transfer *t)
{
	if (!t->consult)
		return;
	char *consult = t->consult;
	t->consult = NULL;
	env.room_destroy(env.user, consult);
	g_free(consult);
}

/* The transfer is over (state final, counted, why); the state it was in.
 * Final before any side effect, so a leave reported meanwhile finds
 * nothing to do. */
static sb_transfer_state end(transfer *t, sb_transfer_state state, const char *reason)
{
	sb_transfer_state was = t->state;
	t->state = state;
	t->ended_ms = env.now_ms(env.user);
	if (state == SB_TRANSFER_COMPLETED)
		stats.completed++;
	else if (state == SB_TRANSFER_CANCELLED)
		stats.cancelled++;
	else
		stats.failed++;
	g_free(t->end_reason);
	t->end_reason = g_strdup(reason);
	return was;
}

/* The last steps of every end once the people are where they go: the
 * agents' statuses, the consult room, the news. */
static void wrap_up(transfer *t, const char *target_status, const char *event)
{
	if (t->from_agent)
		env.agent_busy(env.user, t->from_agent, "available");
	if (t->kind == SB_TARGET_AGENT)
		env.agent_busy(env.user, t->target, target_status);
	destroy_consult(t);
	notify_all(t);
	publish(t, event);
}

/* cancel, decline, no answer, a hang-up on B's side: A goes back to the
 * caller, B back to their desk, the hold ends. */
static void end_back_to_caller(transfer *t, sb_transfer_state state, const char *reason)
{
	sb_transfer_state was = end(t, state, reason);
	if (was == SB_TRANSFER_RINGING)
		env.timer_cancel(env.user, t->id);
	hangup_target(t);
	const char *b_room = was == SB_TRANSFER_THREE_WAY ? t->room : t->consult;
	if (t->to && was != SB_TRANSFER_RINGING && b_room && env.present(env.user, t->to, b_room))
		send_home(t->to, t->to_home, NULL, b_room);
	if (t->kind == SB_TARGET_AGENT)
		env.agent_busy(env.user, t->target, "available");
	if (t->consult && env.present(env.user, t->from, t->consult))
		env.move(env.user, t->from, t->room);
	end_hold(t);
	destroy_consult(t);
	notify_all(t);
	publish(t, state == SB_TRANSFER_CANCELLED ? "transfer_cancelled" : "transfer_failed");
}

static void complete(transfer *t, const char *reason)
{
	sb_transfer_state was = end(t, SB_TRANSFER_COMPLETED, reason);
	/* B reaches the caller before A lets go: the caller is never alone. */
	if (was == SB_TRANSFER_CONSULTING && !env.move(env.user, t->to, t->room)) {
		t->state = was;
		t->ended_ms = 0;
		stats.completed--;
		end_back_to_caller(t, SB_TRANSFER_FAILED, "target_left");
		return;
	}
	end_hold(t);
	const char *a_room = was == SB_TRANSFER_CONSULTING ? t->consult : t->room;
	if (env.present(env.user, t->from, a_room)) {
		if (t->from_home[0] && strcmp(t->from_home, t->room) != 0)
			send_home(t->from, t->from_home, NULL, a_room);
		else
			env.remove(env.user, t->from, a_room);
	}
	wrap_up(t, "busy", "transfer_completed");
}

sb_transfer_error sb_transfer_start(const sb_transfer_request *req, char **id_out, char **error)
{
	if (!req->room || !*req->room || !req->target || !*req->target || !req->from) {
		*error = g_strdup("room, from and a target are required");
		return SB_TRANSFER_E_INVALID;
	}
	/* PHONE TARGETS: B is dialled into the consult room once A is there;
	 * answering is B's accept (sb_transfer_call_status). */
	bool phone = req->kind != SB_TARGET_AGENT;
	if (phone && !env.dial) {
		*error = g_strdup(
		        "phone targets (number/uri) need the SIP trunk module, not loaded");
		return SB_TRANSFER_E_UNSUPPORTED;
	}
	g_rec_mutex_lock(&lock);
	sb_transfer_error rc = SB_TRANSFER_OK;
	sb_agent_location target = {0};
	bool summoned = false; /* B is on another node: asked to come here first */
	char consult[80] = "";
	if (!transfers) {
		rc = SB_TRANSFER_E_ROOM;
		*error = g_strdup("transfers are not running");
	} else if (involving(req->from) || find_live(in_room, req->room)) {
		rc = SB_TRANSFER_E_BUSY;
		*error = g_strdup("a transfer of this call is already under way");
	} else if (!env.present(env.user, req->from, req->room)) {
		rc = SB_TRANSFER_E_ROOM;
		*error = g_strdup_printf("participant %" G_GUINT64_FORMAT " is not in room %s",
		                         req->from, req->room);
	} else if (!phone &&
	           (!env.agent_locate(env.user, req->target, &target) || !target.available) &&
	           !(summoned = !target.participant && env.agent_elsewhere && env.summon &&
	                        env.agent_elsewhere(env.user, req->target))) {
		rc = SB_TRANSFER_E_OFFLINE;
		*error = g_strdup_printf("agent %s is %s", req->target,
		                         target.participant ? "not available" : "offline");
	} else if (!phone && !summoned &&
	           (target.participant == req->from || involving(target.participant))) {
		rc = target.participant == req->from ? SB_TRANSFER_E_INVALID : SB_TRANSFER_E_BUSY;
		*error = g_strdup_printf("agent %s cannot take this transfer", req->target);
	} else if (!env.consult_create(env.user, req->room, consult, sizeof(consult))) {
		rc = SB_TRANSFER_E_ROOM;
		*error = g_strdup("could not create the consult room");
	}
	/* Dial before anything else changes, so a trunk that refuses (or
	 * none configured) leaves the call as it was.  Progress is handled on
	 * the worker under this lock, so nothing of it can arrive before the
	 * transfer exists. */
	g_autofree char *call_id = NULL;
	if (rc == SB_TRANSFER_OK && phone) {
		char *why = NULL;
		call_id = env.dial(env.user, consult, req->target, &why);
		if (!call_id) {
			rc = SB_TRANSFER_E_DIAL;
			*error = g_strdup_printf("could not dial %s: %s", req->target,
			                         why ? why : "unknown error");
			env.room_destroy(env.user, consult);
		}
		g_free(why);
	}
	if (rc != SB_TRANSFER_OK) {
		g_rec_mutex_unlock(&lock);
		return rc;
	}
	sb_transfers_forget_old(3600 * 1000);
	transfer *t = g_new0(transfer, 1);
	t->id = g_strdup_printf("tr-%08x%04x", g_random_int(), ++counter & 0xffff);
	t->state = SB_TRANSFER_RINGING;
	t->room = g_strdup(req->room);
	t->consult = g_strdup(consult);
	t->consult_name = g_strdup(consult);
	t->from = req->from;
	t->from_agent = g_strdup(req->from_agent);
	if (req->from_agent) {
		sb_agent_location a = {0};
		if (env.agent_locate(env.user, req->from_agent, &a) && a.participant == req->from)
			g_strlcpy(t->from_home, a.home, sizeof(t->from_home));
	}
	t->kind = req->kind;
	t->target = g_strdup(req->target);
	t->to = target.participant;
	t->call_id = g_steal_pointer(&call_id);
	g_strlcpy(t->to_home, target.home, sizeof(t->to_home));
	t->reason = g_strdup(req->reason);
	t->summary = env.summary(env.user, req->room);
	t->created_ms = env.now_ms(env.user);
	t->held = env.others(env.user, req->room, req->from);
	t->ai_company = config.ai_company;
	if (t->ai_company)
		t->ai_was_on = env.ai_company(env.user, t->room, true);
	else
		for (guint i = 0; i < t->held->len; i++)
			env.set_hold(env.user, t->room, g_array_index(t->held, guint64, i), true);
	g_hash_table_insert(transfers, t->id, t);
	stats.started++;
	if (!env.move(env.user, t->from, t->consult)) {
		end_back_to_caller(t, SB_TRANSFER_FAILED, "from_unreachable");
		*error = g_strdup("Agent A could not be moved to the consult room");
		g_rec_mutex_unlock(&lock);
		return SB_TRANSFER_E_ROOM;
	}
	if (summoned)
		env.summon(env.user, t->target, t->id, t->room, t->from_agent);
	else if (!phone)
		env.agent_busy(env.user, t->target, "ringing");
	/* For a phone target too: a trunk that never reports back must not
	 * keep the caller on hold forever. */
	env.timer_start(env.user, t->id, config.ring_timeout_ms);
	notify_all(t);
	publish(t, "transfer_initiated");
	*id_out = g_strdup(t->id);
	g_rec_mutex_unlock(&lock);
	return SB_TRANSFER_OK;
}

void sb_transfer_set_summary(const char *id, json_t *summary)
{
	g_rec_mutex_lock(&lock);
	transfer *t = transfers ? find(id) : NULL;
	if (t && !is_final(t) && json_is_object(summary)) {
		json_decref(t->summary);
		t->summary = json_incref(summary);
		notify_all(t); /* the agents' consoles show the new one */
	}
	g_rec_mutex_unlock(&lock);
}

sb_transfer_error sb_transfer_act(const char *id, const char *action, char **error)
{
	g_rec_mutex_lock(&lock);
	transfer *t = transfers ? find(id) : NULL;
	sb_transfer_error rc = SB_TRANSFER_OK;
	if (!t) {
		*error = g_strdup_printf("no such transfer (%s)", id ? id : "");
		g_rec_mutex_unlock(&lock);
		return SB_TRANSFER_E_NOT_FOUND;
	}
	sb_transfer_state s = t->state;
	if (!action) {
		rc = SB_TRANSFER_E_INVALID;
	} else if (is_phone(t) && (!strcmp(action, "accept") || !strcmp(action, "decline"))) {
		/* A phone target accepts by answering, declines by rejecting. */
		*error = g_strdup_printf("a phone target cannot %s here (it answers or not)",
		                         action);
		g_rec_mutex_unlock(&lock);
		return SB_TRANSFER_E_STATE;
	} else if (!strcmp(action, "accept") && s == SB_TRANSFER_RINGING) {
		sb_agent_location b = {0};
		if (!env.agent_locate(env.user, t->target, &b) || b.participant != t->to ||
		    !env.move(env.user, t->to, t->consult)) {
			end_back_to_caller(t, SB_TRANSFER_FAILED, "target_unreachable");
		} else {
			env.timer_cancel(env.user, t->id);
			t->state = SB_TRANSFER_CONSULTING;
			t->accepted_ms = env.now_ms(env.user);
			env.agent_busy(env.user, t->target, "busy");
			notify_all(t);
			publish(t, "transfer_accepted");
		}
	} else if (!strcmp(action, "decline") && s == SB_TRANSFER_RINGING) {
		end_back_to_caller(t, SB_TRANSFER_FAILED, "declined");
	} else if (!strcmp(action, "cancel") && !is_final(t)) {
		end_back_to_caller(t, SB_TRANSFER_CANCELLED, "cancelled");
	} else if (!strcmp(action, "three_way") && s == SB_TRANSFER_CONSULTING) {
		/* A introduces B: both join the caller, the hold ends. */
		if (!env.move(env.user, t->to, t->room)) {
			end_back_to_caller(t, SB_TRANSFER_FAILED, "target_left");
		} else {
			env.move(env.user, t->from, t->room);
			t->state = SB_TRANSFER_THREE_WAY;
			end_hold(t);
			destroy_consult(t);
			notify_all(t);
			publish(t, "transfer_three_way");
		}
	} else if (!strcmp(action, "complete") &&
	           (s == SB_TRANSFER_CONSULTING || s == SB_TRANSFER_THREE_WAY)) {
		complete(t, "completed");
	} else if (strcmp(action, "accept") && strcmp(action, "decline") &&
	           strcmp(action, "cancel") && strcmp(action, "three_way") &&
	           strcmp(action, "complete")) {
		rc = SB_TRANSFER_E_INVALID;
	} else {
		rc = SB_TRANSFER_E_STATE;
	}
	if (rc == SB_TRANSFER_E_INVALID)
		*error =
		        g_strdup("unknown action (accept, decline, complete, cancel or three_way)");
	else if (rc == SB_TRANSFER_E_STATE)
		*error = g_strdup_printf("cannot %s a transfer that is %s", action,
		                         sb_transfer_state_name(s));
	g_rec_mutex_unlock(&lock);
	return rc;
}

static bool awaits_agent(const transfer *t, const void *agent_id)
{
	return t->state == SB_TRANSFER_RINGING && t->kind == SB_TARGET_AGENT && !t->to &&
	       strcmp(t->target, agent_id) == 0;
}

void sb_transfer_agent_arrived(const char *agent_id)
{
	g_rec_mutex_lock(&lock);
	transfer *t = transfers && agent_id ? find_live(awaits_agent, agent_id) : NULL;
	sb_agent_location b = {0};
	if (t && env.agent_locate(env.user, agent_id, &b) && b.available &&
	    !involving(b.participant)) {
		t->to = b.participant;
		g_strlcpy(t->to_home, b.home, sizeof(t->to_home));
		env.agent_busy(env.user, t->target, "ringing");
		notify_all(t);
	}
	g_rec_mutex_unlock(&lock);
}

void sb_transfer_timeout(const char *id)
{
	g_rec_mutex_lock(&lock);
	transfer *t = transfers ? find(id) : NULL;
	if (t && t->state == SB_TRANSFER_RINGING)
		end_back_to_caller(t, SB_TRANSFER_FAILED, "no_answer");
	g_rec_mutex_unlock(&lock);
}

/* B answered: the agent reads the summary to B (A hears it too), then A
 * and B talk, as after a web accept. */
static void phone_answered(transfer *t, guint64 participant)
{
	if (!participant || !t->consult || !env.present(env.user, participant, t->consult)) {
		end_back_to_caller(t, SB_TRANSFER_FAILED, "target_unreachable");
		return;
	}
	env.timer_cancel(env.user, t->id);
	t->to = participant;
	t->state = SB_TRANSFER_CONSULTING;
	t->accepted_ms = env.now_ms(env.user);
	const char *text = json_string_value(json_object_get(t->summary, "text"));
	g_autofree char *speech = g_strdup_printf(
	        "Transfer request%s%s. %s", t->reason ? ": " : "", t->reason ? t->reason : "",
	        text && *text ? text : "No summary of the call is available.");
	if (env.say)
		env.say(env.user, t->consult, speech);
	notify_all(t);
	publish(t, "transfer_accepted");
}

void sb_transfer_call_status(const char *call_id, const char *status, guint64 participant)
{
	if (!call_id || !status)
		return;
	g_rec_mutex_lock(&lock);
	transfer *t = transfers ? find_live(of_call, call_id) : NULL;
	if (!t) {
		g_rec_mutex_unlock(&lock);
		return;
	}
	bool ringing = t->state == SB_TRANSFER_RINGING;
	if (!strcmp(status, "ringing") && ringing) {
		/* Restart the ring timer from the moment B's phone rings. */
		env.timer_start(env.user, t->id, config.ring_timeout_ms);
	} else if (!strcmp(status, "answered") && ringing) {
		phone_answered(t, participant);
	} else if (!strcmp(status, "busy") && ringing) {
		end_back_to_caller(t, SB_TRANSFER_FAILED, "busy");
	} else if (!strcmp(status, "no-answer") && ringing) {
		end_back_to_caller(t, SB_TRANSFER_FAILED, "no_answer");
	} else if (!strcmp(status, "failed") || !strcmp(status, "canceled") ||
	           !strcmp(status, "shutdown")) {
		end_back_to_caller(t, SB_TRANSFER_FAILED, ringing ? "call_failed" : "target_left");
	} else if (!strcmp(status, "completed")) {
		/* B hung up (normally reported first as B's participant leaving). */
		end_back_to_caller(t, SB_TRANSFER_FAILED, ringing ? "call_failed" : "target_left");
	}
	g_rec_mutex_unlock(&lock);
}

static bool held_remove(transfer *t, guint64 p)
{
	for (guint i = 0; i < t->held->len; i++) {
		if (g_array_index(t->held, guint64, i) == p) {
			g_array_remove_index(t->held, i);
			return true;
		}
	}
	return false;
}

/* The caller hung up: nobody to transfer to.  A and B go back to their
 * desks (or out), the consult room goes. */
static void caller_gone(transfer *t)
{
	sb_transfer_state was = end(t, SB_TRANSFER_FAILED, "caller_left");
	if (was == SB_TRANSFER_RINGING)
		env.timer_cancel(env.user, t->id);
	hangup_target(t);
	const char *where = was == SB_TRANSFER_THREE_WAY ? t->room : t->consult;
	if (where && env.present(env.user, t->from, where))
		send_home(t->from, t->from_home, NULL, where);
	if (t->to && was != SB_TRANSFER_RINGING && where && env.present(env.user, t->to, where))
		send_home(t->to, t->to_home, NULL, where);
	wrap_up(t, "available", "transfer_failed");
}

void sb_transfer_participant_left(const char *room, guint64 p)
{
	g_rec_mutex_lock(&lock);
	if (!transfers) {
		g_rec_mutex_unlock(&lock);
		return;
	}
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, transfers);
	transfer *hit = NULL;
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		transfer *t = value;
		if (is_final(t))
			continue;
		if (t->from == p || (t->to && t->to == p) ||
		    (strcmp(t->room, room) == 0 && held_remove(t, p))) {
			hit = t;
			break;
		}
	}
	if (hit) {
		transfer *t = hit;
		if (t->from == p) {
			/* A hung up: if B already accepted, B takes the call. */
			if (t->state == SB_TRANSFER_RINGING)
				end_back_to_caller(t, SB_TRANSFER_FAILED, "from_left");
			else
				complete(t, "from_left");
		} else if (t->to == p) {
			end_back_to_caller(t, SB_TRANSFER_FAILED,
			                   t->state == SB_TRANSFER_RINGING ? "target_offline"
			                                                   : "target_left");
		} else if (t->held->len == 0 && t->state != SB_TRANSFER_THREE_WAY) {
			caller_gone(t);
		}
	}
	g_rec_mutex_unlock(&lock);
}

json_t *sb_transfer_info(const char *id)
{
	g_rec_mutex_lock(&lock);
	transfer *t = transfers ? find(id) : NULL;
	json_t *j = t ? info_json(t, true) : NULL;
	g_rec_mutex_unlock(&lock);
	return j;
}

json_t *sb_transfers_list(void)
{
	json_t *list = json_array();
	g_rec_mutex_lock(&lock);
	if (transfers) {
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, transfers);
		while (g_hash_table_iter_next(&it, NULL, &value))
			if (!is_final(value))
				json_array_append_new(list, info_json(value, false));
	}
	g_rec_mutex_unlock(&lock);
	return list;
}

void sb_transfers_forget_old(gint64 max_age_ms)
{
	g_rec_mutex_lock(&lock);
	if (transfers) {
		gint64 now = env.now_ms(env.user);
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, transfers);
		while (g_hash_table_iter_next(&it, NULL, &value)) {
			transfer *t = value;
			if (is_final(t) && now - t->ended_ms > max_age_ms)
				g_hash_table_iter_remove(&it);
		}
	}
	g_rec_mutex_unlock(&lock);
}

void sb_transfers_get_stats(sb_transfer_stats *out)
{
	g_rec_mutex_lock(&lock);
	*out = stats;
	out->active = 0;
	if (transfers) {
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, transfers);
		while (g_hash_table_iter_next(&it, NULL, &value))
			out->active += !is_final(value);
	}
	g_rec_mutex_unlock(&lock);
}
