/* The real environment of the transfer state machine (transfer.c): rooms,
 * moves, hold, presence, the summary, events, and the transfer thread (a
 * core loop) for the ring timers and for work handed over by bus
 * listeners (which may only queue). */
#include "transfer/transfer_private.h"

#include <string.h>

#include <debug.h>

#include "agent/agent.h"
#include "console/console.h"
#include "core/core.h"
#include "embedded/embedded.h"
#include "room/room.h"
#include "sip/sip.h"

static sb_loop *loop; /* the transfer thread */
static GMutex timers_mutex;
static GHashTable *timers; /* transfer id -> GSource* (referenced) */
static json_t *kb;         /* the agent's knowledge base, for summaries */
static GMutex cache_mutex;
/* room -> {"turns": transcript length, "created": the room's created_us,
 * "summary"}: the model's last summary of the room, good while nothing new
 * was said (and not for a later room of the same name). */
static json_t *ai_cache;

/* ---- participants by id ---- */

/* The participant with this id in any room (referenced), and its room. */
static sb_participant *find_participant(guint64 id, sb_room **room_out)
{
	GPtrArray *rooms = sb_rooms_list_all();
	sb_participant *p = NULL;
	for (guint i = 0; i < rooms->len && !p; i++) {
		sb_room *room = g_ptr_array_index(rooms, i);
		p = sb_room_find_participant(room, id);
		if (p && room_out) {
			sb_room_ref(room);
			*room_out = room;
		}
	}
	g_ptr_array_unref(rooms);
	return p;
}

static bool env_consult_create(void *user, const char *room_name, char *name, size_t len)
{
	(void)user;
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return false;
	g_snprintf(name, len, "consult-%08x", g_random_int());
	sb_room_params params = {.name = name,
	                         .description = "transfer consult",
	                         .sampling_rate = room->sampling_rate,
	                         .hidden = true};
	sb_room_unref(room);
	return sb_room_create(&params, NULL) == SB_OK;
}

static void env_room_destroy(void *user, const char *name)
{
	(void)user;
	sb_room *room = sb_room_find(name);
	if (room) {
		sb_room_destroy(room);
		sb_room_unref(room);
	}
}

static bool env_move(void *user, guint64 id, const char *to)
{
	(void)user;
	sb_room *target = sb_room_find(to);
	if (!target)
		return false;
	sb_participant *p = find_participant(id, NULL);
	sb_error rc = p ? sb_room_move_participant(p, target) : SB_ERROR_NO_SUCH_PARTICIPANT;
	if (rc != SB_OK)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] transfer: cannot move %" G_GUINT64_FORMAT " to %s (%d)\n",
		          id, to, rc);
	if (p)
		sb_participant_unref(p);
	sb_room_unref(target);
	return rc == SB_OK;
}

static void env_remove(void *user, guint64 id, const char *room_name)
{
	(void)user;
	sb_room *room = sb_room_find(room_name);
	sb_participant *p = room ? sb_room_find_participant(room, id) : NULL;
	if (p) {
		sb_room_remove(room, p, "leaving");
		sb_participant_unref(p);
	}
	if (room)
		sb_room_unref(room);
}

static GArray *env_others(void *user, const char *room_name, guint64 except)
{
	(void)user;
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return ids;
	GPtrArray *members = sb_room_participants(room);
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p->id != except && p->kind != SB_KIND_AGENT && !sb_participant_is_supervisor(p))
			g_array_append_val(ids, p->id);
	}
	g_ptr_array_unref(members);
	sb_room_unref(room);
	return ids;
}

static bool env_present(void *user, guint64 id, const char *room_name)
{
	(void)user;
	sb_room *room = sb_room_find(room_name);
	sb_participant *p = room ? sb_room_find_participant(room, id) : NULL;
	if (p)
		sb_participant_unref(p);
	if (room)
		sb_room_unref(room);
	return p != NULL;
}

static void env_set_hold(void *user, const char *room_name, guint64 id, bool hold)
{
	(void)user;
	sb_room *room = sb_room_find(room_name);
	sb_participant *p = room ? sb_room_find_participant(room, id) : NULL;
	if (p) {
		sb_room_set_hold(room, p, hold);
		sb_participant_unref(p);
	}
	if (room)
		sb_room_unref(room);
}

static bool env_ai_company(void *user, const char *room_name, bool on)
{
	(void)user;
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return false;
	bool was = sb_room_agent_enabled(room);
	sb_agent_enable(room, on);
	sb_room_unref(room);
	return was;
}

static bool env_agent_locate(void *user, const char *agent_id, sb_agent_location *out)
{
	(void)user;
	return sb_presence_locate(agent_id, out);
}

static bool env_agent_elsewhere(void *user, const char *agent_id)
{
	(void)user;
	return sb_presence_elsewhere(agent_id);
}

/* The agent's node hears it on the bus (console.c sends them here). */
static void env_summon(void *user, const char *agent_id, const char *transfer_id, const char *room,
                       const char *from)
{
	(void)user;
	json_t *data = json_pack("{ssssss}", "agentId", agent_id, "transfer_id", transfer_id,
	                         "room", room);
	if (from)
		json_object_set_new(data, "from", json_string(from));
	sb_events_publish("agent_summoned", data);
}

static void env_agent_busy(void *user, const char *agent_id, const char *status)
{
	(void)user;
	sb_presence_set_status(agent_id, status);
}

static json_t *env_summary(void *user, const char *room)
{
	(void)user;
	return sb_transfer_summary(room);
}

static void env_notify(void *user, guint64 id, json_t *event)
{
	(void)user;
	sb_participant *p = find_participant(id, NULL);
	if (!p)
		return;
	if (p->ops && p->ops->send_event)
		p->ops->send_event(p, event);
	sb_participant_unref(p);
}

static void env_publish(void *user, const char *type, json_t *data)
{
	(void)user;
	/* Agent A hung up before anyone took over: the caller, now alone,
	 * waits for the next human in the queue. */
	const char *reason = json_string_value(json_object_get(data, "reason"));
	const char *room = json_string_value(json_object_get(data, "room"));
	bool orphaned =
	        !strcmp(type, "transfer_failed") && reason && room && !strcmp(reason, "from_left");
	char *queued = orphaned ? g_strdup(room) : NULL;
	sb_events_publish(type, data);
	if (queued) {
		sb_queue_add_call(queued, "agent_left", NULL);
		g_free(queued);
	}
}

static gboolean timer_fired(gpointer data)
{
	g_autofree char *id = g_strdup(data); /* the table entry owns data's source */
	g_mutex_lock(&timers_mutex);
	bool ours = timers && g_hash_table_remove(timers, id);
	g_mutex_unlock(&timers_mutex);
	if (ours)
		sb_transfer_timeout(id);
	return G_SOURCE_REMOVE;
}

static void env_timer_start(void *user, const char *id, int ms)
{
	(void)user;
	/* Under the lock: timer_fired takes it first, so the source lives
	 * until it is in the table with our reference. */
	g_mutex_lock(&timers_mutex);
	GSource *source =
	        timers ? sb_loop_timeout(loop, (guint)ms, timer_fired, g_strdup(id), g_free) : NULL;
	if (source)
		g_hash_table_replace(timers, g_strdup(id), g_source_ref(source));
	g_mutex_unlock(&timers_mutex);
}

static void timer_destroy(gpointer data)
{
	g_source_destroy(data);
	g_source_unref(data);
}

static void env_timer_cancel(void *user, const char *id)
{
	(void)user;
	g_mutex_lock(&timers_mutex);
	if (timers)
		g_hash_table_remove(timers, id);
	g_mutex_unlock(&timers_mutex);
}

static gint64 env_now_ms(void *user)
{
	(void)user;
	return g_get_real_time() / 1000;
}

/* ---- phone targets ---- */

static char *env_dial(void *user, const char *room, const char *target, char **error)
{
	(void)user;
	sb_sip_dial_params params = {.room = room, .target = target};
	return sb_sip_dial(&params, error);
}

static void env_hangup(void *user, const char *call_id)
{
	(void)user;
	sb_sip_hangup(call_id); /* false: the call is already over */
}

/* The AI agent joins the consult room to read the summary to B; it stays
 * for the consult (the room goes when the transfer ends). */
static void env_say(void *user, const char *room_name, const char *text)
{
	(void)user;
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return;
	sb_agent_enable(room, true);
	if (sb_agent_say(room, text) != SB_OK)
		JANUS_LOG(LOG_WARN, "[switchboard] transfer: no agent to read the summary in %s\n",
		          room_name);
	sb_room_unref(room);
}

guint64 sb_transfer_env_call_participant(const char *room_name, const char *call_id)
{
	sb_room *room = room_name ? sb_room_find(room_name) : NULL;
	if (!room)
		return 0;
	guint64 id = 0;
	GPtrArray *members = sb_room_participants(room);
	for (guint i = 0; i < members->len && !id; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p->kind == SB_KIND_SIP &&
		    !g_strcmp0(json_string_value(json_object_get(p->info, "call_id")), call_id))
			id = p->id;
	}
	g_ptr_array_unref(members);
	sb_room_unref(room);
	return id;
}

/* ---- summary and assist ---- */

/* The room's transcript and its extractive summary (NULL: no room). */
static json_t *local_summary(const char *room_name, json_t **transcript_out, gint64 *created)
{
	sb_room *room = room_name ? sb_room_find(room_name) : NULL;
	if (!room)
		return NULL;
	json_t *transcript = sb_room_transcript(room);
	if (created)
		*created = room->created_us;
	sb_room_unref(room);
	json_t *s = sb_local_summary(kb, NULL, transcript);
	if (s)
		json_object_set_new(s, "provider", json_string("local"));
	if (transcript_out)
		*transcript_out = transcript;
	else
		json_decref(transcript);
	return s;
}

json_t *sb_transfer_summary(const char *room_name)
{
	json_t *transcript = NULL;
	gint64 created = 0;
	json_t *s = local_summary(room_name, &transcript, &created);
	if (!s)
		return NULL;
	/* The model's summary while it is current, else the extractive one. */
	g_mutex_lock(&cache_mutex);
	json_t *hit = json_object_get(ai_cache, room_name);
	if (hit &&
	    json_integer_value(json_object_get(hit, "turns")) ==
	            (json_int_t)json_array_size(transcript) &&
	    json_integer_value(json_object_get(hit, "created")) == (json_int_t)created) {
		json_decref(s);
		s = json_deep_copy(json_object_get(hit, "summary"));
	}
	g_mutex_unlock(&cache_mutex);
	json_decref(transcript);
	return s;
}

typedef struct summary_job {
	char *room;
	size_t turns;
	gint64 created;
	sb_transfer_summary_done done;
	void *user;
} summary_job;

static void summary_written(void *user, json_t *summary)
{
	summary_job *j = user;
	const char *provider = json_string_value(json_object_get(summary, "provider"));
	if (provider && strcmp(provider, "local")) {
		g_mutex_lock(&cache_mutex);
		if (ai_cache) {
			/* Forget rooms that are gone: the cache never outgrows the rooms. */
			const char *name;
			json_t *v;
			void *tmp;
			json_object_foreach_safe(ai_cache, tmp, name, v)
			{
				sb_room *r = sb_room_find(name);
				if (r)
					sb_room_unref(r);
				else
					json_object_del(ai_cache, name);
			}
			json_object_set_new(ai_cache, j->room,
			                    json_pack("{sIsIsO}", "turns", (json_int_t)j->turns,
			                              "created", (json_int_t)j->created, "summary",
			                              summary));
		}
		g_mutex_unlock(&cache_mutex);
	}
	j->done(j->user, summary);
	g_free(j->room);
	g_free(j);
}

bool sb_transfer_summary_async(const char *room_name, sb_transfer_summary_done done, void *user)
{
	json_t *transcript = NULL;
	gint64 created = 0;
	json_t *local = local_summary(room_name, &transcript, &created);
	if (!local)
		return false;
	summary_job *j = g_new0(summary_job, 1);
	j->room = g_strdup(room_name);
	j->created = created;
	j->turns = json_array_size(transcript);
	j->done = done;
	j->user = user;
	sb_transfer_ai_summary(transcript, local, summary_written, j);
	json_decref(transcript);
	json_decref(local);
	return true;
}

char *sb_transfer_assist(const char *room_name, const char *message, json_t **summary_out)
{
	json_t *summary = room_name ? sb_transfer_summary(room_name) : NULL;
	/* The dialog engine answers from the knowledge base on a scratch
	 * memory (the human's question must not change the caller's call). */
	json_t *memory = json_object();
	char *reply = kb ? sb_local_reply(kb, memory, message, "en", NULL) : NULL;
	json_decref(memory);
	if (summary_out)
		*summary_out = summary;
	else
		json_decref(summary);
	return reply;
}

/* ---- worker ---- */

void sb_transfer_env_invoke(GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	/* Never run in place: the caller may hold the bus lock. */
	sb_loop_invoke(loop, fn, data, destroy);
}

bool sb_transfer_env_start(const sb_transfer_config *config, const char *kb_path,
                           const sb_settings *settings)
{
	char *error = NULL;
	kb = sb_kb_load(kb_path ? kb_path : sb_kb_default_path(), &error);
	if (!kb) {
		JANUS_LOG(LOG_WARN,
		          "[switchboard] transfer: no knowledge base for summaries (%s)\n",
		          error ? error : "?");
		g_free(error);
	}
	g_mutex_lock(&cache_mutex);
	ai_cache = json_object();
	g_mutex_unlock(&cache_mutex);
	sb_transfer_ai_init(settings, kb);
	timers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, timer_destroy);
	loop = sb_loop_start("sb transfer", false);
	sb_transfer_env env = {
	        .consult_create = env_consult_create,
	        .room_destroy = env_room_destroy,
	        .move = env_move,
	        .remove = env_remove,
	        .others = env_others,
	        .present = env_present,
	        .set_hold = env_set_hold,
	        .ai_company = env_ai_company,
	        .agent_locate = env_agent_locate,
	        .agent_elsewhere = env_agent_elsewhere,
	        .summon = env_summon,
	        .agent_busy = env_agent_busy,
	        .summary = env_summary,
	        .notify = env_notify,
	        .publish = env_publish,
	        .timer_start = env_timer_start,
	        .timer_cancel = env_timer_cancel,
	        .now_ms = env_now_ms,
	        .dial = env_dial,
	        .hangup = env_hangup,
	        .say = env_say,
	};
	sb_transfers_init(&env, config);
	return true;
}

void sb_transfer_env_stop(void)
{
	if (!loop)
		return;
	/* First: a summary still being written is answered (fallback) while
	 * the worker can still take it. */
	sb_transfer_ai_deinit();
	g_mutex_lock(&timers_mutex);
	GHashTable *t = timers;
	timers = NULL;
	g_mutex_unlock(&timers_mutex);
	g_hash_table_destroy(t);
	sb_loop_stop(loop);
	loop = NULL;
	sb_transfers_deinit();
	json_decref(kb);
	kb = NULL;
	g_mutex_lock(&cache_mutex);
	json_decref(ai_cache);
	ai_cache = NULL;
	g_mutex_unlock(&cache_mutex);
}
