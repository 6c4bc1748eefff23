/* The SIP bridge's inbound router from LiveKit's trunks and dispatch
 * rules (sb_sip_set_inbound_router): an INVITE that names no signed room
 * is matched, on the SIP thread and from memory only, as LiveKit's SIP
 * service does:
 *
 *   1. the inbound trunk: its numbers hold the called number (a trunk
 *      without numbers takes any), then its allowedNumbers the caller and
 *      its allowedAddresses the source (when set); a trunk that lists the
 *      number wins over one that takes any.  No trunk for the number:
 *      404 "Does not match Trunks or Dispatch Rules" (LiveKit's answer); a
 *      trunk for the number that refuses the caller or the source: 403.
 *      authUsername/authPassword: the SIP bridge asks for the digest;
 *   2. the dispatch rule: one that names the trunk in trunkIds wins over
 *      one without trunkIds (for every trunk); its numbers (called) and
 *      inboundNumbers (callers), when set, must hold the call's; the
 *      oldest of equals.  None: 404 as above;
 *   3. the room: direct = roomName; individual = roomPrefix_<caller>
 *      (+ _<random> unless noRandomness); callee = roomPrefix_<called>
 *      (+ _<random> with randomize).  Room names here are A-Z a-z 0-9 . _ -,
 *      so a number's '+' is left out.  A rule with a pin refuses the call
 *      (403): Switchboard does not prompt for PINs.
 *
 * The caller joins as identity sip_<caller> with the attributes
 * sip.trunkID, sip.ruleID, sip.trunkPhoneNumber, sip.phoneNumber and the
 * rule's attributes, the rule's metadata as its metadata; a rule whose
 * roomConfig names agents sends the room's AI agent in (op `agent`, as an
 * agent dispatch does), from this module's loop.
 *
 * With no inbound trunk at all the router has no opinion: calls go where
 * they went before. */
#include "livekit/livekit_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "endpoints/endpoints.h"
#include "room/room.h"
#include "sip/sip.h"

#define NO_MATCH "Does not match Trunks or Dispatch Rules"

static sb_loop *loop;

/* A number as LiveKit compares them: with one leading '+'. */
static char *normalized(const char *number)
{
	if (!number || !*number)
		return g_strdup("");
	return number[0] == '+' ? g_strdup(number) : g_strdup_printf("+%s", number);
}

static bool holds_number(json_t *list, const char *number)
{
	char *wanted = normalized(number);
	bool found = false;
	json_t *item;
	size_t i;
	json_array_foreach(list, i, item)
	{
		char *n = normalized(json_string_value(item));
		found = found || !strcmp(n, wanted);
		g_free(n);
	}
	g_free(wanted);
	return found;
}

typedef struct match {
	const sb_sip_inbound *call;
	sb_sip_route *route;
} match;

/* The trunk for the call, or NULL with route->status set (or 0: none). */
static sb_lk_sip_object *match_trunk(GPtrArray *trunks, const sb_sip_inbound *call,
                                     sb_sip_route *route)
{
	sb_lk_sip_object *best = NULL;
	bool best_listed = false, number_taken = false;
	for (guint i = 0; i < trunks->len; i++) {
		sb_lk_sip_object *t = g_ptr_array_index(trunks, i);
		json_t *numbers = json_object_get(t->body, "numbers");
		bool listed = json_array_size(numbers) && holds_number(numbers, call->called);
		if (json_array_size(numbers) && !listed)
			continue;
		number_taken = true;
		json_t *callers = json_object_get(t->body, "allowed_numbers");
		if (json_array_size(callers) && !holds_number(callers, call->caller))
			continue;
		if (t->allowed && !sb_acl_allows(t->allowed, call->source))
			continue;
		if (!best || (listed && !best_listed)) {
			best = t;
			best_listed = listed;
		}
	}
	if (!best) {
		route->status = number_taken ? 403 : 404;
		route->warning = g_strdup(number_taken ? "the trunk does not take calls from this "
		                                         "caller or source"
		                                       : NO_MATCH);
	}
	return best;
}

static sb_lk_sip_object *match_rule(GPtrArray *rules, const char *trunk_id,
                                    const sb_sip_inbound *call)
{
	sb_lk_sip_object *fallback = NULL;
	for (guint i = 0; i < rules->len; i++) {
		sb_lk_sip_object *r = g_ptr_array_index(rules, i);
		json_t *trunk_ids = json_object_get(r->body, "trunk_ids");
		json_t *called = json_object_get(r->body, "numbers");
		json_t *callers = json_object_get(r->body, "inbound_numbers");
		if (json_array_size(trunk_ids) && !sb_lk_list_holds(trunk_ids, trunk_id))
			continue;
		if (json_array_size(called) && !holds_number(called, call->called))
			continue;
		if (json_array_size(callers) && !holds_number(callers, call->caller))
			continue;
		if (json_array_size(trunk_ids))
			return r;
		if (!fallback)
			fallback = r;
	}
	return fallback;
}

/* s without what a room name may not hold. */
static void append_clean(GString *out, const char *s)
{
	for (; s && *s; s++)
		if (g_ascii_isalnum(*s) || strchr("._-", *s))
			g_string_append_c(out, *s);
}

static void append_random(GString *out)
{
	char *uuid = g_uuid_string_random();
	g_string_append_printf(out, "_%.8s", uuid);
	g_free(uuid);
}

/* The room the rule names for the call (g_free), or NULL: a pin. */
static char *room_of(json_t *rule, const sb_sip_inbound *call)
{
	json_t *direct = json_object_get(rule, "dispatch_rule_direct");
	json_t *individual = json_object_get(rule, "dispatch_rule_individual");
	json_t *v = direct       ? direct
	            : individual ? individual
	                         : json_object_get(rule, "dispatch_rule_callee");
	if (json_string_length(json_object_get(v, "pin")))
		return NULL;
	if (direct)
		return g_strdup(json_string_value(json_object_get(v, "room_name")));
	GString *room = g_string_new(json_string_value(json_object_get(v, "room_prefix")));
	g_string_append_c(room, '_');
	append_clean(room, individual ? call->caller : call->called);
	if (individual ? !json_is_true(json_object_get(v, "no_randomness"))
	               : json_is_true(json_object_get(v, "randomize")))
		append_random(room);
	if (room->len > SB_ROOM_NAME_MAX)
		g_string_truncate(room, SB_ROOM_NAME_MAX);
	return g_string_free(room, FALSE);
}

static void set_attribute(json_t *attributes, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(attributes, key, json_string(value));
}

/* Under the objects' lock (sb_lk_sip_objects_read): copies what it keeps. */
static void route_locked(GPtrArray *const objects[SB_LK_KINDS], void *user)
{
	match *m = user;
	sb_sip_route *route = m->route;
	const sb_sip_inbound *call = m->call;
	if (!objects[SB_LK_INBOUND] || !objects[SB_LK_INBOUND]->len)
		return; /* no trunks: no opinion */
	sb_lk_sip_object *trunk = match_trunk(objects[SB_LK_INBOUND], call, route);
	if (!trunk)
		return;
	sb_lk_sip_object *rule = match_rule(objects[SB_LK_RULE], trunk->id, call);
	if (!rule) {
		route->status = 404;
		route->warning = g_strdup(NO_MATCH);
		return;
	}
	char *room = room_of(json_object_get(rule->body, "rule"), call);
	if (!room) {
		route->status = 403;
		route->warning = g_strdup("the dispatch rule needs a PIN, which Switchboard does "
		                          "not prompt for");
		return;
	}
	route->status = 200;
	route->room = room;
	GString *identity = g_string_new("sip_");
	append_clean(identity, call->caller);
	route->identity = g_string_free(identity, FALSE);
	route->display = call->caller && *call->caller ? g_strdup(call->caller) : NULL;
	const char *user_name = json_string_value(json_object_get(trunk->body, "auth_username"));
	const char *password = json_string_value(json_object_get(trunk->body, "auth_password"));
	const char *realm = json_string_value(json_object_get(trunk->body, "auth_realm"));
	if (user_name && *user_name && password && *password) {
		route->auth_user = g_strdup(user_name);
		route->auth_password = g_strdup(password);
		route->auth_realm = realm && *realm ? g_strdup(realm) : NULL;
	}
	json_t *attributes = json_deep_copy(json_object_get(rule->body, "attributes"));
	set_attribute(attributes, "sip.trunkID", trunk->id);
	set_attribute(attributes, "sip.ruleID", rule->id);
	set_attribute(attributes, "sip.trunkPhoneNumber", call->called);
	set_attribute(attributes, "sip.phoneNumber", call->caller);
	route->attributes = attributes;
	route->metadata = g_strdup(json_string_value(json_object_get(rule->body, "metadata")));
	json_t *agents =
	        sb_lk_field(json_object_get(rule->body, "room_config"), "agents", "agents");
	if (json_array_size(agents)) {
		/* The agent goes in, with the first dispatch's metadata, as an
		 * agent dispatch's (dispatch_metadata says what it may do). */
		const char *metadata =
		        json_string_value(json_object_get(json_array_get(agents, 0), "metadata"));
		route->user = g_strdup(metadata ? metadata : "");
		route->free_user = g_free;
	}
}

/* sb_sip_router: the SIP thread. */
static void route_call(const sb_sip_inbound *call, sb_sip_route *route)
{
	match m = {.call = call, .route = route};
	sb_lk_sip_objects_read(route_locked, &m);
	if (route->status && route->status != 200)
		JANUS_LOG(LOG_INFO,
		          "[switchboard] LiveKit SIP routing: call from %s to %s: %d %s\n",
		          call->caller ? call->caller : "?", call->called ? call->called : "?",
		          route->status, route->warning);
}

/* On this module's loop: the room's AI agent, as an agent dispatch
 * ({room, metadata}). */
static gboolean send_agent(gpointer data)
{
	const char *room = json_string_value(json_object_get(data, "room"));
	json_t *request = json_pack("{sssssb}", "request", "agent", "room", room, "enable", true);
	sb_lk_agent_with_metadata(request, json_string_value(json_object_get(data, "metadata")));
	json_t *answer = sb_lk_run(request, NULL);
	if (json_object_get(answer, "error_code"))
		JANUS_LOG(LOG_WARN,
		          "[switchboard] LiveKit SIP routing: the agent did not join %s: %s\n",
		          room, json_string_value(json_object_get(answer, "error")));
	json_decref(answer);
	return G_SOURCE_REMOVE;
}

/* sb_sip_routed: the SIP thread, the caller in room. */
static void routed_call(const sb_sip_route *route, const char *room, struct sb_participant *p)
{
	(void)p;
	if (route->user && loop)
		sb_loop_invoke(
		        loop, send_agent,
		        json_pack("{ssss}", "room", room, "metadata", (const char *)route->user),
		        (GDestroyNotify)json_decref);
}

void sb_lk_routing_start(void)
{
	loop = sb_loop_start("sb lk-route", true);
	sb_sip_set_inbound_router(route_call, routed_call);
}

void sb_lk_routing_stop(void)
{
	sb_sip_set_inbound_router(NULL, NULL);
	sb_loop_stop(loop);
	loop = NULL;
}
