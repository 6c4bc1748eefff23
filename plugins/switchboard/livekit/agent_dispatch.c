/* livekit.AgentDispatchService on the ops table (livekit.md 3.3): a
 * dispatch is the room's AI agent turned on (op `agent`, run as the room's
 * admin, as the roomAdmin grant proves); deleting it turns the agent off.
 * The embedded agent answers to every agent name, and a room has one
 * agent: a second dispatch to a room that has one is `already_exists`.
 *
 * A dispatch's metadata is the back end's text for the agent, as in
 * LiveKit (where the agent's code reads it).  It is kept and listed with
 * the dispatch and its job; what else it may do is the operator's choice,
 * [livekit] dispatch_metadata (docs/security.md), never the request's:
 *   "none"       nothing more;
 *   "variables"  (the default) when it is a JSON object, its string
 *                members are the call's variables ({{name}} in the
 *                persona and greeting, sent to tools);
 *   "config"     that, and its "agent" object is the room's agent config
 *                (persona, greeting, language …: the keys and checks of
 *                the `agent` op's config; a bad one refuses the dispatch).
 * Either way the `agent` op carries them, run as the operator: the
 * setting, not the token, vouches for them.
 *
 * The dispatches live while their room does (the bus's room_closed
 * forgets them).  Answers are LiveKit's: snake_case, int64 as strings,
 * created_at and the job's times in nanoseconds. */
#include "livekit/livekit_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "room/room.h"

typedef struct dispatch {
	char *id, *job_id;
	char *agent_name;
	char *metadata;
	gint64 created_ns;
} dispatch;

typedef enum { METADATA_NONE, METADATA_VARIABLES, METADATA_CONFIG } metadata_use;

static struct {
	GMutex lock;
	GHashTable *by_room; /* room name -> dispatch (one agent per room) */
	unsigned bus;
	metadata_use metadata_use; /* written at start, before any request */
} dispatches;

static void dispatch_free(gpointer data)
{
	dispatch *d = data;
	g_free(d->id);
	g_free(d->job_id);
	g_free(d->agent_name);
	g_free(d->metadata);
	g_free(d);
}

/* A copy to build answers from without the lock held (building them takes
 * room locks; the bus may call in with one held). */
static dispatch *dispatch_copy(const dispatch *d)
{
	dispatch *c = g_new0(dispatch, 1);
	c->id = g_strdup(d->id);
	c->job_id = g_strdup(d->job_id);
	c->agent_name = g_strdup(d->agent_name);
	c->metadata = g_strdup(d->metadata);
	c->created_ns = d->created_ns;
	return c;
}

static json_t *nanos(gint64 ns)
{
	char text[24];
	g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, ns);
	return json_string(text);
}

/* The room's AI agent participant, referenced, or NULL. */
static sb_participant *agent_of(sb_room *room)
{
	GPtrArray *members = sb_room_participants(room);
	sb_participant *agent = NULL;
	for (guint i = 0; !agent && i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p->kind == SB_KIND_AGENT) {
			sb_participant_ref(p);
			agent = p;
		}
	}
	g_ptr_array_unref(members);
	return agent;
}

/* AgentDispatch with its one job: running once the agent is in the room,
 * pending until then (it joins when someone is there to talk to). */
static json_t *dispatch_info(const dispatch *d, const char *room_name, gint64 deleted_ns)
{
	sb_room *room = sb_room_find(room_name);
	sb_participant *agent = room ? agent_of(room) : NULL;
	json_t *participant = agent ? sb_lk_participant_info(agent) : NULL;
	const char *identity = json_string_value(json_object_get(participant, "identity"));
	json_t *job_state = json_pack(
	        "{ss ss so so so ss ss ss}", "status",
	        deleted_ns ? "JS_SUCCESS"
	        : agent    ? "JS_RUNNING"
	                   : "JS_PENDING",
	        "error", "", "started_at", nanos(agent ? agent->joined_us * 1000 : 0), "ended_at",
	        nanos(deleted_ns), "updated_at", nanos(g_get_real_time() * 1000),
	        "participant_identity", identity ? identity : "", "worker_id", "", "agent_id", "");
	json_t *job = json_pack(
	        "{ss ss ss so ss ss so}", "id", d->job_id, "dispatch_id", d->id, "type", "JT_ROOM",
	        "room", room ? sb_lk_room_info(room) : json_pack("{ss}", "name", room_name),
	        "metadata", d->metadata, "agent_name", d->agent_name, "state", job_state);
	if (participant)
		json_object_set_new(job, "participant", participant);
	json_t *state = json_pack("{s[o] so so}", "jobs", job, "created_at", nanos(d->created_ns),
	                          "deleted_at", nanos(deleted_ns));
	if (agent)
		sb_participant_unref(agent);
	if (room)
		sb_room_unref(room);
	return json_pack("{ss ss ss ss so ss ss s{}}", "id", d->id, "agent_name", d->agent_name,
	                 "room", room_name, "metadata", d->metadata, "state", state,
	                 "restart_policy", "JRP_ON_FAILURE", "deployment", "", "attributes");
}

static char *new_id(const char *prefix)
{
	char *uuid = g_uuid_string_random();
	char *id = g_strdup_printf("%s%.12s", prefix, uuid);
	g_free(uuid);
	return id;
}

bool sb_lk_agent_with_metadata(json_t *request, const char *metadata)
{
	if (dispatches.metadata_use == METADATA_NONE || !metadata || *metadata != '{')
		return false;
	json_t *parsed = json_loads(metadata, 0, NULL);
	if (!json_is_object(parsed)) {
		json_decref(parsed);
		return false;
	}
	json_t *variables = json_object();
	const char *key;
	json_t *value;
	json_object_foreach(parsed, key, value)
	{
		if (json_is_string(value))
			json_object_set(variables, key, value);
	}
	json_t *config = json_object_get(parsed, "agent");
	if (dispatches.metadata_use == METADATA_CONFIG && json_is_object(config))
		json_object_set(request, "config", config);
	if (json_object_size(variables))
		json_object_set(request, "variables", variables);
	json_decref(variables);
	json_decref(parsed);
	return json_object_get(request, "config") || json_object_get(request, "variables");
}

static int create_dispatch(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	const char *room_name, *agent_name, *metadata;
	int status = sb_lk_room_name(body, "room", &room_name, out);
	if (status)
		return status;
	if (!sb_lk_string_field(body, "agentName", "agent_name", &agent_name) ||
	    !sb_lk_string_field(body, "metadata", "metadata", &metadata))
		return sb_lk_malformed(out);
	if (agent_name && strlen(agent_name) > SB_DISPLAY_MAX)
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "agent names here are at most %d bytes", SB_DISPLAY_MAX);
	if (metadata && strlen(metadata) > SB_METADATA_MAX)
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "metadata is longer than %d bytes", SB_METADATA_MAX);
	g_mutex_lock(&dispatches.lock);
	bool taken = g_hash_table_contains(dispatches.by_room, room_name);
	g_mutex_unlock(&dispatches.lock);
	if (taken)
		return sb_lk_twirp_error(out, "already_exists",
		                         "the room has its agent dispatched already (one AI agent "
		                         "per room)");
	/* As LiveKit's auto-create: a room that is not there is made (one that
	 * closes when its last participant leaves, all a room admin may make). */
	sb_room *room = sb_room_find(room_name);
	if (!room) {
		json_decref(sb_lk_run(json_pack("{ssss}", "request", "create", "room", room_name),
		                      claims->room));
		room = sb_room_find(room_name);
		if (!room)
			return sb_lk_room_missing(out);
	}
	sb_room_unref(room);
	json_t *request =
	        json_pack("{sssssb}", "request", "agent", "room", room_name, "enable", true);
	json_t *answer;
	status = sb_lk_run_ok(request,
	                      sb_lk_agent_with_metadata(request, metadata) ? NULL : claims->room,
	                      &answer, out);
	if (status)
		return status;
	json_decref(answer);
	dispatch *d = g_new0(dispatch, 1);
	d->id = new_id("AD_");
	d->job_id = new_id("AJ_");
	d->agent_name = g_strdup(agent_name ? agent_name : "");
	d->metadata = g_strdup(metadata ? metadata : "");
	d->created_ns = g_get_real_time() * 1000;
	*out = dispatch_info(d, room_name, 0);
	g_mutex_lock(&dispatches.lock);
	g_hash_table_replace(dispatches.by_room, g_strdup(room_name), d);
	g_mutex_unlock(&dispatches.lock);
	return 200;
}

static int list_dispatch(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *room_name, *id;
	int status = sb_lk_room_name(body, "room", &room_name, out);
	if (status)
		return status;
	if (!sb_lk_string_field(body, "dispatchId", "dispatch_id", &id))
		return sb_lk_malformed(out);
	json_t *list = json_array();
	g_mutex_lock(&dispatches.lock);
	dispatch *d = g_hash_table_lookup(dispatches.by_room, room_name);
	d = d && (!id || !*id || !strcmp(id, d->id)) ? dispatch_copy(d) : NULL;
	g_mutex_unlock(&dispatches.lock);
	if (d) {
		json_array_append_new(list, dispatch_info(d, room_name, 0));
		dispatch_free(d);
	}
	*out = json_pack("{so}", "agent_dispatches", list);
	return 200;
}

static int delete_dispatch(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	const char *room_name, *id;
	int status = sb_lk_room_name(body, "room", &room_name, out);
	if (status)
		return status;
	if (!sb_lk_string_field(body, "dispatchId", "dispatch_id", &id))
		return sb_lk_malformed(out);
	g_mutex_lock(&dispatches.lock);
	dispatch *d = g_hash_table_lookup(dispatches.by_room, room_name);
	bool found = d && id && !strcmp(id, d->id);
	if (found)
		g_hash_table_steal(dispatches.by_room, room_name);
	g_mutex_unlock(&dispatches.lock);
	if (!found)
		return sb_lk_twirp_error(out, "not_found",
		                         "requested agent dispatch does not exist");
	json_t *answer = sb_lk_run(
	        json_pack("{sssssb}", "request", "agent", "room", room_name, "enable", false),
	        claims->room);
	json_decref(answer); /* the room may be gone: the dispatch is, either way */
	*out = dispatch_info(d, room_name, g_get_real_time() * 1000);
	dispatch_free(d);
	return 200;
}

const sb_lk_method sb_lk_agent_dispatch_service[] = {
        {"CreateDispatch", create_dispatch, NULL},
        {"ListDispatch", list_dispatch, NULL},
        {"DeleteDispatch", delete_dispatch, NULL},
};
const size_t sb_lk_agent_dispatch_service_count = G_N_ELEMENTS(sb_lk_agent_dispatch_service);

/* A closed room's dispatch goes with it (bus thread: a short lock). */
static void on_bus(json_t *notification, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(notification, "type"));
	const char *name = json_string_value(json_object_get(notification, "room"));
	if (!type || !name || strcmp(type, "room_closed"))
		return;
	g_mutex_lock(&dispatches.lock);
	if (dispatches.by_room)
		g_hash_table_remove(dispatches.by_room, name);
	g_mutex_unlock(&dispatches.lock);
}

bool sb_lk_dispatch_start(json_t *section)
{
	json_t *use = json_object_get(section, "dispatch_metadata");
	const char *text = use ? json_string_value(use) : "variables";
	if (text && !strcmp(text, "none"))
		dispatches.metadata_use = METADATA_NONE;
	else if (text && !strcmp(text, "variables"))
		dispatches.metadata_use = METADATA_VARIABLES;
	else if (text && !strcmp(text, "config"))
		dispatches.metadata_use = METADATA_CONFIG;
	else {
		JANUS_LOG(LOG_ERR, "[switchboard] [livekit] dispatch_metadata must be \"none\", "
		                   "\"variables\" or \"config\"\n");
		return false;
	}
	g_mutex_lock(&dispatches.lock);
	dispatches.by_room = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, dispatch_free);
	g_mutex_unlock(&dispatches.lock);
	dispatches.bus = sb_events_subscribe(on_bus, NULL);
	return true;
}

void sb_lk_dispatch_stop(void)
{
	sb_events_unsubscribe(dispatches.bus);
	g_mutex_lock(&dispatches.lock);
	g_clear_pointer(&dispatches.by_room, g_hash_table_unref);
	g_mutex_unlock(&dispatches.lock);
}
