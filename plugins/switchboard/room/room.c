/* Rooms: the registry by name, each room's members, and the events that
 * tell members (and the bus, and the modules' listeners) who is there.
 * Membership changes under the room's mutex and is announced after it is
 * released, so a listener may call back into the room.  The mixer is told
 * of new members through the hook it sets (room_private.h), never called:
 * room.c knows nothing of mixing. */
#include "room/room.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"
#include "room/room_private.h"

static GMutex rooms_mutex;
static GHashTable *rooms; /* name -> sb_room* (strong) */
static const sb_settings *settings;
static sb_room_membership_hook membership_hook;
static room_mixer_hook mixer_hook; /* atomic: set by the mixer at start */

void room_set_mixer_hook(room_mixer_hook hook)
{
	g_atomic_pointer_set(&mixer_hook, hook);
}

/* A room gained a member: the mixer puts it on a worker. */
static void tell_mixer(sb_room *room)
{
	room_mixer_hook hook = g_atomic_pointer_get(&mixer_hook);
	if (hook)
		hook(room_priv_of(room));
}

void sb_room_set_membership_hook(sb_room_membership_hook hook)
{
	membership_hook = hook;
}

#define MEMBER_LISTENERS_MAX 4
static struct {
	sb_room_member_listener fn;
	void *user;
} member_listeners[MEMBER_LISTENERS_MAX];
static volatile gint member_listener_count;

void sb_room_add_member_listener(sb_room_member_listener listener, void *user)
{
	gint n = g_atomic_int_get(&member_listener_count);
	g_assert(n < MEMBER_LISTENERS_MAX);
	member_listeners[n].fn = listener;
	member_listeners[n].user = user;
	g_atomic_int_set(&member_listener_count, n + 1);
}

void sb_room_remove_member_listeners(void)
{
	g_atomic_int_set(&member_listener_count, 0);
}

static void tell_listeners(sb_room *room, sb_participant *p, sb_member_change change)
{
	gint n = g_atomic_int_get(&member_listener_count);
	for (gint i = 0; i < n; i++)
		member_listeners[i].fn(room, p, change, member_listeners[i].user);
}

bool sb_participant_is_supervisor(const sb_participant *p)
{
	return p->role && strcmp(p->role, "supervisor") == 0;
}

guint sb_room_count_humans(sb_room *pub)
{
	room_priv *room = room_priv_of(pub);
	guint n = 0;
	g_mutex_lock(&room->mutex);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, room->participants);
	while (g_hash_table_iter_next(&it, NULL, &value))
		n += ((sb_participant *)value)->kind != SB_KIND_AGENT &&
		     !sb_participant_is_supervisor(value);
	g_mutex_unlock(&room->mutex);
	return n;
}

static void room_free(const janus_refcount *ref)
{
	room_priv *room = room_priv_of(janus_refcount_containerof(ref, sb_room, ref));
	if (room->mix && room->free_mix)
		room->free_mix(room->mix);
	if (room->tap)
		room->tap->ops->unref(room->tap);
	g_hash_table_destroy(room->participants);
	g_mutex_clear(&room->mutex);
	g_free(room->pub.name);
	g_free(room->pub.description);
	g_free(room->pub.secret);
	g_free(room->pub.pin);
	json_decref(room->agent_config);
	json_decref(room->transcript);
	g_free(room->metadata);
	json_decref(room->variables);
	g_free(room);
}

static void participant_unref_cb(gpointer data)
{
	sb_participant_unref(data);
}

/* [agent] transcript_max_lines: a room keeps at most this many final
 * lines (oldest dropped, counted): whoever talks for days, or pushes
 * transcript_add in a loop, does not grow a room without end. */
static long transcript_max_lines = 1000;
static guint64 transcript_dropped;

void sb_rooms_init(const sb_settings *s)
{
	settings = s;
	transcript_max_lines =
	        s ? sb_section_int(s->agent, "transcript_max_lines", 1000, 1, 1000000) : 1000;
	rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
}

void sb_rooms_deinit(void)
{
	GPtrArray *all = sb_rooms_list_all();
	for (guint i = 0; i < all->len; i++)
		sb_room_destroy(g_ptr_array_index(all, i));
	g_ptr_array_unref(all);
	g_mutex_lock(&rooms_mutex);
	g_hash_table_destroy(rooms);
	rooms = NULL;
	g_mutex_unlock(&rooms_mutex);
}

/* Written before rooms are made and after they are gone. */
static sb_room_placement placement;

void sb_room_set_placement(const sb_room_placement *p)
{
	if (p)
		placement = *p;
	else
		memset(&placement, 0, sizeof(placement));
}

json_t *sb_room_locate(const char *name)
{
	return placement.locate && name ? placement.locate(name) : NULL;
}

json_t *sb_rooms_elsewhere(void)
{
	return placement.elsewhere ? placement.elsewhere() : NULL;
}

json_t *sb_room_least_loaded(void)
{
	return placement.least_loaded ? placement.least_loaded() : NULL;
}

json_t *sb_room_placement_here(void)
{
	return placement.here ? placement.here() : NULL;
}

sb_error sb_room_create(const sb_room_params *params, sb_room **out)
{
	return sb_room_create_placed(params, out, NULL);
}

static bool registered_here(const char *name)
{
	g_mutex_lock(&rooms_mutex);
	bool here = rooms && g_hash_table_contains(rooms, name);
	g_mutex_unlock(&rooms_mutex);
	return here;
}

sb_error sb_room_create_placed(const sb_room_params *params, sb_room **out, char **why)
{
	char generated[32];
	const char *name = params->name;
	if (why)
		*why = NULL;
	if (name && !sb_room_name_valid(name))
		return SB_ERROR_INVALID_ELEMENT;
	int rate = params->sampling_rate ? params->sampling_rate : settings->sampling_rate;
	if (rate != 16000 && rate != 48000)
		return SB_ERROR_INVALID_ELEMENT;
	if (!name) {
		do {
			g_snprintf(generated, sizeof(generated), "room-%08x", g_random_int());
		} while (registered_here(generated));
		name = generated;
	}
	/* Claimed in the directory first, outside the registry's lock: the
	 * round trip must not hold every other room's lookup. */
	bool claimed = false;
	if (placement.claim && !params->hidden && !registered_here(name)) {
		char *reason = NULL;
		sb_error rc = placement.claim(name, &reason);
		if (rc != SB_OK) {
			if (why)
				*why = reason;
			else
				g_free(reason);
			return rc;
		}
		claimed = true;
	}

	g_mutex_lock(&rooms_mutex);
	sb_error refused = SB_OK;
	if (!rooms)
		refused = SB_ERROR_UNKNOWN;
	else if (g_hash_table_contains(rooms, name))
		refused = SB_ERROR_ROOM_EXISTS;
	else if ((int)g_hash_table_size(rooms) >= settings->max_rooms)
		refused = SB_ERROR_LIMIT;
	if (refused != SB_OK) {
		g_mutex_unlock(&rooms_mutex);
		/* Ours already (exists): the claim stays with the room. */
		if (claimed && refused != SB_ERROR_ROOM_EXISTS && placement.release)
			placement.release(name);
		return refused;
	}
	room_priv *priv = g_new0(room_priv, 1);
	sb_room *room = &priv->pub;
	janus_refcount_init(&room->ref, room_free);
	room->name = g_strdup(name);
	room->description = g_strdup(params->description ? params->description : name);
	room->secret = g_strdup(params->secret);
	room->pin = g_strdup(params->pin);
	room->sampling_rate = rate;
	room->ephemeral = params->ephemeral && !params->permanent;
	room->permanent = params->permanent;
	room->require_token = params->require_token || settings->require_token;
	room->hidden = params->hidden;
	room->created_us = g_get_real_time();
	priv->agent_enabled = params->agent ? 1 : 0;
	priv->agent_config = params->agent_config ? json_deep_copy(params->agent_config) : NULL;
	priv->transcript = json_array();
	priv->variables = json_object();
	g_mutex_init(&priv->mutex);
	priv->participants =
	        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, participant_unref_cb);
	g_hash_table_insert(rooms, room->name, room); /* the registry's reference */
	if (out) {
		sb_room_ref(room);
		*out = room;
	}
	g_mutex_unlock(&rooms_mutex);
	JANUS_LOG(LOG_INFO, "[switchboard] room %s created (%d Hz%s)\n", room->name, rate,
	          room->ephemeral ? ", ephemeral" : "");
	sb_events_publish("room_created", sb_room_to_json(room));
	return SB_OK;
}

sb_room *sb_room_find(const char *name)
{
	if (!name)
		return NULL;
	g_mutex_lock(&rooms_mutex);
	sb_room *room = rooms ? g_hash_table_lookup(rooms, name) : NULL;
	if (room)
		sb_room_ref(room);
	g_mutex_unlock(&rooms_mutex);
	return room;
}

static GPtrArray *rooms_list(bool hidden_too)
{
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)sb_room_unref);
	g_mutex_lock(&rooms_mutex);
	if (rooms) {
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, rooms);
		while (g_hash_table_iter_next(&it, NULL, &value)) {
			if (!hidden_too && ((sb_room *)value)->hidden)
				continue;
			sb_room_ref(value);
			g_ptr_array_add(list, value);
		}
	}
	g_mutex_unlock(&rooms_mutex);
	return list;
}

GPtrArray *sb_rooms_list(void)
{
	return rooms_list(false);
}
GPtrArray *sb_rooms_list_all(void)
{
	return rooms_list(true);
}

guint sb_rooms_count(void)
{
	g_mutex_lock(&rooms_mutex);
	guint n = rooms ? g_hash_table_size(rooms) : 0;
	g_mutex_unlock(&rooms_mutex);
	return n;
}

json_t *sb_room_event(sb_room *room, const char *type)
{
	json_t *ev = json_object();
	json_object_set_new(ev, SB_EVENT_KEY, json_string(type));
	json_object_set_new(ev, "room", json_string(room->name));
	return ev;
}

/* Detaches a participant that is no longer in the room's table. */
static void participant_detach(sb_participant *pub)
{
	participant_priv *p = participant_priv_of(pub);
	if (g_atomic_int_compare_and_exchange(&p->removed, 0, 1)) {
		if (pub->ops && pub->ops->removed)
			pub->ops->removed(pub);
		g_mutex_lock(&p->mutex);
		sb_room *r = p->room;
		p->room = NULL;
		g_mutex_unlock(&p->mutex);
		if (r)
			sb_room_unref(r);
	}
}

/* participant_joined / participant_left for the notification bus: the
 * participant with its interface and call info (the store keeps both). */
static json_t *membership_event(sb_room *room, sb_participant *p, const char *reason)
{
	json_t *participant = sb_participant_to_json(p);
	if (p->info)
		json_object_set(participant, "info", p->info);
	json_t *ev = json_pack("{sssoss}", "room", room->name, "participant", participant,
	                       "interface", sb_participant_interface(p));
	if (reason)
		json_object_set_new(ev, "reason", json_string(reason));
	return ev;
}

void sb_room_destroy(sb_room *room)
{
	room_priv *priv = room_priv_of(room);
	if (!g_atomic_int_compare_and_exchange(&priv->destroyed, 0, 1))
		return;
	g_mutex_lock(&rooms_mutex);
	bool registered = rooms && g_hash_table_lookup(rooms, room->name) == room;
	if (registered)
		g_hash_table_remove(rooms, room->name);
	g_mutex_unlock(&rooms_mutex);

	json_t *ev = sb_room_event(room, "destroyed");
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);

	GPtrArray *members = sb_room_participants(room);
	g_mutex_lock(&priv->mutex);
	g_hash_table_remove_all(priv->participants);
	g_mutex_unlock(&priv->mutex);
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		participant_detach(p);
		sb_events_publish("participant_left", membership_event(room, p, "room_closed"));
		tell_listeners(room, p, SB_MEMBER_LEFT);
	}
	g_ptr_array_unref(members);
	JANUS_LOG(LOG_INFO, "[switchboard] room %s destroyed\n", room->name);
	if (registered && !room->hidden && placement.release)
		placement.release(room->name);
	sb_events_publish("room_closed", json_pack("{ss}", "room", room->name));
	if (registered)
		sb_room_unref(room); /* the registry's reference */
}

sb_error sb_room_add(sb_room *room, sb_participant *p)
{
	room_priv *priv = room_priv_of(room);
	participant_priv *pp = participant_priv_of(p);
	g_mutex_lock(&priv->mutex);
	if (g_atomic_int_get(&priv->destroyed)) {
		g_mutex_unlock(&priv->mutex);
		return SB_ERROR_NO_SUCH_ROOM;
	}
	if ((int)g_hash_table_size(priv->participants) >= settings->max_participants) {
		g_mutex_unlock(&priv->mutex);
		return SB_ERROR_LIMIT;
	}
	while (g_hash_table_contains(priv->participants, &p->id))
		p->id++;
	/* A supervisor listens in silently: nobody hears them. */
	if (sb_participant_is_supervisor(p)) {
		g_atomic_int_set(&pp->muted, 1);
		g_atomic_int_set(&pp->listen_only, 1);
	}
	sb_participant_ref(p);
	g_hash_table_insert(priv->participants, g_memdup2(&p->id, sizeof(p->id)), p);
	g_mutex_lock(&pp->mutex);
	sb_room_ref(room);
	pp->room = room;
	g_mutex_unlock(&pp->mutex);
	g_mutex_unlock(&priv->mutex);

	json_t *ev = sb_room_event(room, "event");
	json_t *list = json_array();
	json_array_append_new(list, sb_participant_to_json(p));
	json_object_set_new(ev, "participants", list);
	sb_room_broadcast(room, ev, p);
	json_decref(ev);
	tell_mixer(room);
	sb_events_publish("participant_joined", membership_event(room, p, NULL));
	if (membership_hook)
		membership_hook(room, p, true, sb_room_count_humans(room));
	tell_listeners(room, p, SB_MEMBER_JOINED);
	return SB_OK;
}

void sb_room_remove(sb_room *room, sb_participant *p, const char *why)
{
	room_priv *priv = room_priv_of(room);
	g_mutex_lock(&priv->mutex);
	bool present = g_hash_table_lookup(priv->participants, &p->id) == p;
	sb_participant_ref(p);
	if (present)
		g_hash_table_remove(priv->participants, &p->id);
	g_mutex_unlock(&priv->mutex);
	if (present) {
		participant_detach(p);
		json_t *ev = sb_room_event(room, "event");
		json_object_set_new(ev, why, json_integer((json_int_t)p->id));
		sb_room_broadcast(room, ev, NULL);
		json_decref(ev);
		sb_events_publish("participant_left", membership_event(room, p, why));
		/* The agent alone does not keep a room open. */
		guint humans = sb_room_count_humans(room);
		if (membership_hook)
			membership_hook(room, p, false, humans);
		tell_listeners(room, p, SB_MEMBER_LEFT);
		if (humans == 0 && room->ephemeral)
			sb_room_destroy(room);
	}
	sb_participant_unref(p);
}

sb_error sb_room_move_participant(sb_participant *p, sb_room *to)
{
	sb_room *from = sb_participant_room(p);
	if (!from)
		return SB_ERROR_NOT_JOINED;
	if (from == to) {
		sb_room_unref(from);
		return SB_OK;
	}
	if (from->sampling_rate != to->sampling_rate) {
		/* Its codecs run at the old room's rate. */
		sb_room_unref(from);
		return SB_ERROR_INVALID_ELEMENT;
	}
	/* Both tables change under both locks (taken in address order), so the
	 * participant is in exactly one room at every instant. */
	room_priv *src = room_priv_of(from), *dst = room_priv_of(to);
	room_priv *first = src < dst ? src : dst, *second = src < dst ? dst : src;
	participant_priv *pp = participant_priv_of(p);
	g_mutex_lock(&first->mutex);
	g_mutex_lock(&second->mutex);
	sb_error rc = SB_OK;
	if (g_hash_table_lookup(src->participants, &p->id) != p)
		rc = SB_ERROR_NOT_JOINED;
	else if (g_atomic_int_get(&dst->destroyed))
		rc = SB_ERROR_NO_SUCH_ROOM;
	else if ((int)g_hash_table_size(dst->participants) >= settings->max_participants)
		rc = SB_ERROR_LIMIT;
	guint64 old_id = p->id;
	if (rc == SB_OK) {
		sb_participant_ref(p); /* the new table's */
		g_hash_table_remove(src->participants, &p->id);
		while (g_hash_table_contains(dst->participants, &p->id))
			p->id++;
		g_hash_table_insert(dst->participants, g_memdup2(&p->id, sizeof(p->id)), p);
		g_mutex_lock(&pp->mutex);
		sb_room_ref(to);
		pp->room = to;
		g_mutex_unlock(&pp->mutex);
		sb_room_unref(from); /* p's reference to its old room */
	}
	g_mutex_unlock(&second->mutex);
	g_mutex_unlock(&first->mutex);
	if (rc != SB_OK) {
		sb_room_unref(from);
		return rc;
	}
	tell_mixer(to);

	json_t *ev = sb_room_event(from, "event");
	json_object_set_new(ev, "leaving", json_integer((json_int_t)old_id));
	sb_room_broadcast(from, ev, NULL);
	json_decref(ev);
	ev = sb_room_event(to, "event");
	json_t *list = json_array();
	json_array_append_new(list, sb_participant_to_json(p));
	json_object_set_new(ev, "participants", list);
	sb_room_broadcast(to, ev, p);
	json_decref(ev);
	if (p->ops && p->ops->send_event) {
		ev = sb_room_event(to, "moved");
		json_object_set_new(ev, "from", json_string(from->name));
		json_object_set_new(ev, "id", json_integer((json_int_t)p->id));
		list = json_array();
		GPtrArray *members = sb_room_participants(to);
		for (guint i = 0; i < members->len; i++)
			if (g_ptr_array_index(members, i) != p)
				json_array_append_new(list, sb_participant_to_json(
				                                    g_ptr_array_index(members, i)));
		g_ptr_array_unref(members);
		json_object_set_new(ev, "participants", list);
		p->ops->send_event(p, ev);
		json_decref(ev);
	}
	json_t *left = membership_event(from, p, "moved");
	json_object_set_new(left, "to", json_string(to->name));
	sb_events_publish("participant_left", left);
	json_t *joined = membership_event(to, p, NULL);
	json_object_set_new(joined, "from", json_string(from->name));
	sb_events_publish("participant_joined", joined);

	guint humans = sb_room_count_humans(from);
	if (membership_hook) {
		membership_hook(from, p, false, humans);
		membership_hook(to, p, true, sb_room_count_humans(to));
	}
	tell_listeners(from, p, SB_MEMBER_MOVED_OUT);
	tell_listeners(to, p, SB_MEMBER_MOVED_IN);
	if (humans == 0 && from->ephemeral)
		sb_room_destroy(from);
	sb_room_unref(from);
	return SB_OK;
}

void sb_room_set_hold(sb_room *room, sb_participant *p, bool hold)
{
	if (!sb_participant_set_hold(p, hold))
		return;
	json_t *ev = sb_room_event(room, "event");
	json_t *list = json_array();
	json_array_append_new(list, sb_participant_to_json(p));
	json_object_set_new(ev, "participants", list);
	json_object_set_new(ev, "on_hold", json_boolean(hold));
	json_object_set_new(ev, "id", json_integer((json_int_t)p->id));
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
}

sb_participant *sb_room_find_participant(sb_room *pub, guint64 id)
{
	room_priv *room = room_priv_of(pub);
	g_mutex_lock(&room->mutex);
	sb_participant *p = g_hash_table_lookup(room->participants, &id);
	if (p)
		sb_participant_ref(p);
	g_mutex_unlock(&room->mutex);
	return p;
}

GPtrArray *sb_room_participants(sb_room *pub)
{
	room_priv *room = room_priv_of(pub);
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)sb_participant_unref);
	g_mutex_lock(&room->mutex);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, room->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		sb_participant_ref(value);
		g_ptr_array_add(list, value);
	}
	g_mutex_unlock(&room->mutex);
	return list;
}

guint sb_room_count_participants(sb_room *pub)
{
	room_priv *room = room_priv_of(pub);
	g_mutex_lock(&room->mutex);
	guint n = g_hash_table_size(room->participants);
	g_mutex_unlock(&room->mutex);
	return n;
}

void sb_room_broadcast(sb_room *room, json_t *event, sb_participant *except)
{
	GPtrArray *members = sb_room_participants(room);
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p != except && p->ops && p->ops->send_event)
			p->ops->send_event(p, event);
	}
	g_ptr_array_unref(members);
}

json_t *sb_room_to_json(sb_room *room)
{
	json_t *j = json_object();
	json_object_set_new(j, "room", json_string(room->name));
	json_object_set_new(j, "description", json_string(room->description));
	json_object_set_new(j, "num_participants", json_integer(sb_room_count_participants(room)));
	json_object_set_new(j, "sampling_rate", json_integer(room->sampling_rate));
	json_object_set_new(j, "pin_required", json_boolean(room->pin != NULL));
	json_object_set_new(j, "ephemeral", json_boolean(room->ephemeral));
	json_object_set_new(j, "permanent", json_boolean(room->permanent));
	json_object_set_new(j, "require_token", json_boolean(room->require_token));
	json_object_set_new(j, "agent", json_boolean(sb_room_agent_enabled(room)));
	json_object_set_new(j, "created", json_integer(room->created_us / 1000));
	room_priv *priv = room_priv_of(room);
	g_mutex_lock(&priv->mutex);
	/* What the recorder says about itself; false when nothing records. */
	json_object_set_new(j, "recording",
	                    priv->tap && priv->tap->ops->describe
	                            ? priv->tap->ops->describe(priv->tap)
	                            : json_false());
	g_mutex_unlock(&priv->mutex);
	return j;
}

bool sb_room_set_tap(sb_room *pub, sb_room_tap *tap)
{
	room_priv *room = room_priv_of(pub);
	g_mutex_lock(&room->mutex);
	bool vacant = room->tap == NULL;
	if (vacant) {
		tap->ops->ref(tap);
		room->tap = tap;
	}
	g_mutex_unlock(&room->mutex);
	return vacant;
}

void sb_room_remove_tap(sb_room *pub, sb_room_tap *tap)
{
	room_priv *room = room_priv_of(pub);
	g_mutex_lock(&room->mutex);
	bool ours = room->tap == tap;
	if (ours)
		room->tap = NULL;
	g_mutex_unlock(&room->mutex);
	if (ours)
		tap->ops->unref(tap);
}

static sb_transcript_annotator transcript_annotator; /* atomic pointer */

void sb_room_set_transcript_annotator(sb_transcript_annotator annotator)
{
	g_atomic_pointer_set(&transcript_annotator, annotator);
}

void sb_room_transcript_add(sb_room *room, guint64 speaker_id, const char *speaker,
                            const char *text, bool final, sb_participant *except)
{
	sb_transcript_annotator annotate = g_atomic_pointer_get(&transcript_annotator);
	json_t *extra = final && annotate ? annotate(room, speaker_id, speaker, text) : NULL;
	json_t *ev = sb_room_event(room, "transcript");
	json_object_set_new(ev, "speaker", json_string(speaker));
	if (speaker_id)
		json_object_set_new(ev, "speaker_id", json_integer((json_int_t)speaker_id));
	json_object_set_new(ev, "text", json_string(text));
	json_object_set_new(ev, "final", json_boolean(final));
	json_object_update_missing(ev, extra);
	sb_room_broadcast(room, ev, except);
	json_decref(ev);
	json_t *n = json_pack("{sssssssb}", "room", room->name, "speaker", speaker, "text", text,
	                      "final", final);
	if (speaker_id)
		json_object_set_new(n, "speaker_id", json_integer((json_int_t)speaker_id));
	json_object_update_missing(n, extra);
	sb_events_publish("transcript", n);
	if (!final)
		return;
	json_t *line =
	        json_pack("{sssIsssI}", "speaker", speaker, "speaker_id", (json_int_t)speaker_id,
	                  "text", text, "timestamp", (json_int_t)(g_get_real_time() / 1000));
	json_object_update_missing(line, extra);
	json_decref(extra);
	room_priv *priv = room_priv_of(room);
	guint64 dropped = 0;
	g_mutex_lock(&priv->mutex);
	json_array_append_new(priv->transcript, line);
	while ((long)json_array_size(priv->transcript) > transcript_max_lines) {
		json_array_remove(priv->transcript, 0);
		dropped++;
	}
	g_mutex_unlock(&priv->mutex);
	if (dropped)
		__atomic_add_fetch(&transcript_dropped, dropped, __ATOMIC_RELAXED);
}

guint64 sb_rooms_transcript_dropped(void)
{
	return __atomic_load_n(&transcript_dropped, __ATOMIC_RELAXED);
}

/* A copy of one of the room's JSON fields, taken under its mutex. */
static json_t *locked_copy(room_priv *room, json_t *const *field)
{
	g_mutex_lock(&room->mutex);
	json_t *copy = *field ? json_deep_copy(*field) : NULL;
	g_mutex_unlock(&room->mutex);
	return copy;
}

json_t *sb_room_transcript(sb_room *pub)
{
	room_priv *room = room_priv_of(pub);
	return locked_copy(room, &room->transcript);
}

void sb_room_set_agent_config(sb_room *pub, json_t *config)
{
	room_priv *room = room_priv_of(pub);
	json_t *copy = config ? json_deep_copy(config) : NULL;
	g_mutex_lock(&room->mutex);
	json_t *old = room->agent_config;
	room->agent_config = copy;
	g_mutex_unlock(&room->mutex);
	json_decref(old);
}

json_t *sb_room_agent_config(sb_room *pub)
{
	room_priv *room = room_priv_of(pub);
	return locked_copy(room, &room->agent_config);
}

bool sb_room_agent_enabled(sb_room *room)
{
	return g_atomic_int_get(&room_priv_of(room)->agent_enabled);
}

void sb_room_set_agent_enabled(sb_room *room, bool enabled)
{
	g_atomic_int_set(&room_priv_of(room)->agent_enabled, enabled ? 1 : 0);
}

void sb_room_set_metadata(sb_room *room, const char *metadata)
{
	room_priv *priv = room_priv_of(room);
	room_locked_set_string(&priv->mutex, &priv->metadata,
	                       metadata && *metadata ? metadata : NULL);
}

char *sb_room_dup_metadata(sb_room *room)
{
	room_priv *priv = room_priv_of(room);
	return room_locked_dup_string(&priv->mutex, &priv->metadata);
}

guint sb_room_merge_variables(sb_room *room, json_t *variables, const char *source)
{
	room_priv *priv = room_priv_of(room);
	g_mutex_lock(&priv->mutex);
	guint taken = sb_variables_merge(priv->variables, variables, source);
	json_t *now = taken ? json_deep_copy(priv->variables) : NULL;
	g_mutex_unlock(&priv->mutex);
	/* For the call's record (store/); the bus is the operator's
	 * (docs/security.md). */
	if (now)
		sb_events_publish("call_variables",
		                  json_pack("{s:s, s:o}", "room", room->name, "variables", now));
	return taken;
}

json_t *sb_room_variables(sb_room *room)
{
	room_priv *priv = room_priv_of(room);
	return locked_copy(priv, &priv->variables);
}

bool sb_room_is_destroyed(sb_room *room)
{
	return g_atomic_int_get(&room_priv_of(room)->destroyed);
}
