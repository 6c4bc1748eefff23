/* Presence and the queue: which console agents are signed in, where, and
 * in what state (from room membership changes), and the calls and chats
 * waiting for a human.  A leaf lock guards both; events are built under it
 * and published after, since bus listeners take locks of their own. */
#include "console/console_private.h"

#include <string.h>

#include <debug.h>

#include "core/core.h"

typedef struct agent_entry {
	char *id;
	char *name;
	char status[16];
	guint64 participant;
	char room[80];
	char home[80];
} agent_entry;

typedef struct queue_entry {
	char *kind; /* "call" (room is a room name) or a chat kind ("whatsapp") */
	char *room; /* the room, or the chat's conversation key */
	char *reason;
	json_t *details;
	gint64 since_ms;
} queue_entry;

static GMutex mutex;       /* a leaf lock: nothing is called while holding it */
static GHashTable *agents; /* id -> agent_entry* */
static GQueue queue;       /* queue_entry*, oldest first */
/* Other nodes' agents as the bus told them: "<agent> <node>" -> 1 while
 * available at their desk there (agent ids have no blanks). */
static GHashTable *elsewhere;

static void agent_free(gpointer data)
{
	agent_entry *a = data;
	g_free(a->id);
	g_free(a->name);
	g_free(a);
}

static void queue_entry_free(gpointer data)
{
	queue_entry *q = data;
	g_free(q->kind);
	g_free(q->room);
	g_free(q->reason);
	json_decref(q->details);
	g_free(q);
}

void sb_presence_init(void)
{
	g_mutex_lock(&mutex);
	if (!agents)
		agents = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, agent_free);
	g_mutex_unlock(&mutex);
}

void sb_presence_deinit(void)
{
	g_mutex_lock(&mutex);
	if (agents)
		g_hash_table_destroy(agents);
	agents = NULL;
	g_clear_pointer(&elsewhere, g_hash_table_destroy);
	g_queue_clear_full(&queue, queue_entry_free);
	g_mutex_unlock(&mutex);
}

bool sb_presence_agent_id_valid(const char *id)
{
	if (!id || !*id || strlen(id) > SB_AGENT_ID_MAX)
		return false;
	for (const char *c = id; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '.' && *c != '_' && *c != '-')
			return false;
	return true;
}

void sb_presence_desk_name(const char *agent_id, char *buf, size_t len)
{
	g_snprintf(buf, len, "desk-%s", agent_id);
}

sb_error sb_presence_desk_open(const char *desk)
{
	/* The configured default rate: the rooms the agent moves to share it. */
	sb_room_params params = {.name = desk, .description = "agent desk", .hidden = true};
	sb_error rc = sb_room_create(&params, NULL);
	return rc == SB_ERROR_ROOM_EXISTS ? SB_OK : rc;
}

/* agent_presence's fields, taken under the lock and published after it
 * (listeners may take locks of their own). */
static json_t *presence_fields(const agent_entry *a)
{
	return json_pack("{sssssssI}", "agentId", a->id, "status", a->status, "room", a->room,
	                 "participant", (json_int_t)a->participant);
}

static void publish_presence(json_t *fields)
{
	if (fields)
		sb_events_publish("agent_presence", fields);
}

/* The last human left a call that closes when empty: supervisors
 * listening in go back to their desks, told why ("listen_ended"), before
 * the room goes — instead of being dropped with it. */
static void return_supervisors(sb_room *room)
{
	GPtrArray *members = sb_room_participants(room);
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (!sb_participant_is_supervisor(p) || !sb_presence_agent_id_valid(p->identity))
			continue;
		char desk[80];
		sb_presence_desk_name(p->identity, desk, sizeof(desk));
		sb_error rc = sb_presence_desk_open(desk); /* there already, as a rule */
		sb_room *d = rc == SB_OK ? sb_room_find(desk) : NULL;
		rc = d ? sb_room_move_participant(p, d) : SB_ERROR_NO_SUCH_ROOM;
		if (rc == SB_OK && p->ops && p->ops->send_event) {
			json_t *ev = sb_room_event(d, "listen_ended");
			json_object_set_new(ev, "call", json_string(room->name));
			json_object_set_new(ev, "reason", json_string("call_ended"));
			p->ops->send_event(p, ev);
			json_decref(ev);
		}
		if (rc != SB_OK)
			JANUS_LOG(LOG_WARN,
			          "[switchboard] supervisor %s could not go back to %s (%d)\n",
			          p->identity, desk, rc);
		if (d)
			sb_room_unref(d);
	}
	g_ptr_array_unref(members);
}

void sb_presence_member_change(sb_room *room, sb_participant *p, sb_member_change change,
                               void *user)
{
	(void)user;
	/* Nobody left to wait: the call is no longer queued. */
	if (change == SB_MEMBER_LEFT && sb_room_count_humans(room) == 0)
		sb_queue_remove(room->name);
	if ((change == SB_MEMBER_LEFT || change == SB_MEMBER_MOVED_OUT) &&
	    !sb_participant_is_supervisor(p) && p->kind != SB_KIND_AGENT && room->ephemeral &&
	    !sb_room_is_destroyed(room) && sb_room_count_humans(room) == 0)
		return_supervisors(room);
	if (!sb_console_is_agent(p))
		return;
	bool changed = false;
	g_mutex_lock(&mutex);
	agent_entry *a = agents ? g_hash_table_lookup(agents, p->identity) : NULL;
	if (change == SB_MEMBER_JOINED && agents) {
		if (!a) {
			a = g_new0(agent_entry, 1);
			a->id = g_strdup(p->identity);
			g_hash_table_insert(agents, a->id, a);
		}
		g_free(a->name);
		g_autofree char *display = sb_participant_dup_display(p);
		a->name = g_strdup(display ? display : p->identity);
		a->participant = p->id;
		g_strlcpy(a->room, room->name, sizeof(a->room));
		char desk[80];
		sb_presence_desk_name(a->id, desk, sizeof(desk));
		g_strlcpy(a->home, strcmp(desk, room->name) == 0 ? desk : "", sizeof(a->home));
		g_strlcpy(a->status, a->home[0] ? "available" : "busy", sizeof(a->status));
		changed = true;
	} else if (a && a->participant == p->id) {
		if (change == SB_MEMBER_MOVED_IN) {
			g_strlcpy(a->room, room->name, sizeof(a->room));
			changed = true;
		} else if (change == SB_MEMBER_LEFT) {
			g_strlcpy(a->status, "offline", sizeof(a->status));
			a->participant = 0;
			a->room[0] = 0;
			changed = true;
		}
	}
	json_t *fields = changed ? presence_fields(a) : NULL;
	g_mutex_unlock(&mutex);
	publish_presence(fields);
}

void sb_presence_heard(json_t *event)
{
	const char *type = json_string_value(json_object_get(event, "type"));
	const char *node = json_string_value(json_object_get(event, "node"));
	const char *agent = json_string_value(json_object_get(event, "agentId"));
	const char *lost = json_string_value(json_object_get(event, "lost"));
	g_mutex_lock(&mutex);
	if (!elsewhere)
		elsewhere = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (!g_strcmp0(type, "agent_presence") && node && sb_presence_agent_id_valid(agent)) {
		char desk[80];
		sb_presence_desk_name(agent, desk, sizeof(desk));
		const char *room = json_string_value(json_object_get(event, "room"));
		const char *status = json_string_value(json_object_get(event, "status"));
		char *key = g_strdup_printf("%s %s", agent, node);
		if (!g_strcmp0(status, "available") && !g_strcmp0(room, desk))
			g_hash_table_add(elsewhere, key);
		else {
			g_hash_table_remove(elsewhere, key);
			g_free(key);
		}
	} else if (!g_strcmp0(type, "node_lost") && lost) {
		GHashTableIter it;
		gpointer key;
		g_hash_table_iter_init(&it, elsewhere);
		while (g_hash_table_iter_next(&it, &key, NULL)) {
			const char *on = strchr(key, ' ');
			if (on && !strcmp(on + 1, lost))
				g_hash_table_iter_remove(&it);
		}
	}
	g_mutex_unlock(&mutex);
}

bool sb_presence_elsewhere(const char *agent_id)
{
	if (!sb_presence_agent_id_valid(agent_id))
		return false;
	size_t len = strlen(agent_id);
	bool found = false;
	g_mutex_lock(&mutex);
	GHashTableIter it;
	gpointer key;
	if (elsewhere) {
		g_hash_table_iter_init(&it, elsewhere);
		while (!found && g_hash_table_iter_next(&it, &key, NULL))
			found = !strncmp(key, agent_id, len) && ((const char *)key)[len] == ' ';
	}
	g_mutex_unlock(&mutex);
	return found;
}

bool sb_presence_locate(const char *agent_id, sb_agent_location *out)
{
	memset(out, 0, sizeof(*out));
	g_mutex_lock(&mutex);
	agent_entry *a = agents && agent_id ? g_hash_table_lookup(agents, agent_id) : NULL;
	bool found = a && a->participant;
	if (found) {
		out->participant = a->participant;
		g_strlcpy(out->room, a->room, sizeof(out->room));
		g_strlcpy(out->home, a->home, sizeof(out->home));
		out->available = strcmp(a->status, "available") == 0 && a->home[0] &&
		                 strcmp(a->room, a->home) == 0;
	}
	g_mutex_unlock(&mutex);
	return found;
}

char *sb_presence_agent_of(guint64 participant)
{
	char *id = NULL;
	g_mutex_lock(&mutex);
	if (agents) {
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, agents);
		while (!id && g_hash_table_iter_next(&it, NULL, &value))
			if (((agent_entry *)value)->participant == participant)
				id = g_strdup(((agent_entry *)value)->id);
	}
	g_mutex_unlock(&mutex);
	return id;
}

bool sb_presence_set_status(const char *agent_id, const char *status)
{
	if (!status || (strcmp(status, "available") && strcmp(status, "busy") &&
	                strcmp(status, "ringing") && strcmp(status, "offline")))
		return false;
	g_mutex_lock(&mutex);
	agent_entry *a = agents && agent_id ? g_hash_table_lookup(agents, agent_id) : NULL;
	bool changed = a && strcmp(a->status, status) != 0;
	if (a)
		g_strlcpy(a->status, status, sizeof(a->status));
	json_t *fields = changed ? presence_fields(a) : NULL;
	bool known = a != NULL;
	g_mutex_unlock(&mutex);
	publish_presence(fields);
	return known;
}

json_t *sb_presence_list(void)
{
	json_t *list = json_array();
	g_mutex_lock(&mutex);
	if (agents) {
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, agents);
		while (g_hash_table_iter_next(&it, NULL, &value)) {
			agent_entry *a = value;
			json_t *j = json_pack("{ssssss}", "agentId", a->id, "name",
			                      a->name ? a->name : a->id, "status", a->status);
			if (a->participant) {
				json_object_set_new(j, "participant",
				                    json_integer((json_int_t)a->participant));
				json_object_set_new(j, "room", json_string(a->room));
			}
			json_object_set_new(
			        j, "at_desk",
			        json_boolean(a->home[0] && strcmp(a->room, a->home) == 0));
			json_array_append_new(list, j);
		}
	}
	g_mutex_unlock(&mutex);
	return list;
}

static queue_entry *queue_find(const char *kind, const char *room)
{
	for (GList *l = queue.head; l; l = l->next) {
		queue_entry *q = l->data;
		if (strcmp(q->room, room) == 0 && strcmp(q->kind, kind) == 0)
			return q;
	}
	return NULL;
}

static bool is_call(const char *kind)
{
	return strcmp(kind, "call") == 0;
}

void sb_queue_add(const char *room, const char *reason, json_t *details)
{
	sb_queue_add_entry("call", room, reason, details);
}

void sb_queue_add_entry(const char *kind, const char *key, const char *reason, json_t *details)
{
	const char *room = key;
	g_mutex_lock(&mutex);
	queue_entry *q = queue_find(kind, room);
	if (!q) {
		q = g_new0(queue_entry, 1);
		q->kind = g_strdup(kind);
		q->room = g_strdup(room);
		q->since_ms = g_get_real_time() / 1000;
		g_queue_push_tail(&queue, q);
	}
	g_free(q->reason);
	q->reason = g_strdup(reason);
	json_decref(q->details);
	q->details = details ? json_deep_copy(details) : NULL;
	g_mutex_unlock(&mutex);
	sb_events_publish("queue_updated",
	                  json_pack("{ssssssss}", is_call(kind) ? "room" : "conversation", room,
	                            "kind", kind, "action", "added", "reason",
	                            reason ? reason : ""));
}

bool sb_queue_remove(const char *room)
{
	return sb_queue_remove_entry("call", room);
}

bool sb_queue_remove_entry(const char *kind, const char *key)
{
	const char *room = key;
	g_mutex_lock(&mutex);
	queue_entry *q = queue_find(kind, room);
	if (q) {
		g_queue_remove(&queue, q);
		queue_entry_free(q);
	}
	g_mutex_unlock(&mutex);
	if (q)
		sb_events_publish("queue_updated",
		                  json_pack("{ssssss}", is_call(kind) ? "room" : "conversation",
		                            room, "kind", kind, "action", "removed"));
	return q != NULL;
}

bool sb_queue_contains(const char *room)
{
	g_mutex_lock(&mutex);
	bool found = queue_find("call", room) != NULL;
	g_mutex_unlock(&mutex);
	return found;
}

json_t *sb_queue_list(void)
{
	json_t *list = json_array();
	gint64 now = g_get_real_time() / 1000;
	g_mutex_lock(&mutex);
	for (GList *l = queue.head; l; l = l->next) {
		queue_entry *q = l->data;
		json_t *j = json_pack("{sssssssIsI}", is_call(q->kind) ? "room" : "conversation",
		                      q->room, "kind", q->kind, "reason",
		                      q->reason ? q->reason : "", "since", (json_int_t)q->since_ms,
		                      "waiting_ms", (json_int_t)(now - q->since_ms));
		if (q->details)
			json_object_set(j, "details", q->details);
		json_array_append_new(list, j);
	}
	g_mutex_unlock(&mutex);
	return list;
}
