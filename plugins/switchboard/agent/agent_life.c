/* An agent's life: joining a room (its configuration, the bound on how
 * many run), the participant the mixer sees, leaving, and the messages
 * the rest of the plugin posts to agents.  What an agent does while it is
 * in the room is agent.c. */
#include "agent/agent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <debug.h>
#include <speex/speex_resampler.h>

#include "agent/agent_private.h"
#include "agent/agent_thread.h"
#include "api/api.h"
#include "core/core.h"
#include "media/media.h"
#include "providers/providers.h"
#include "room/room.h"

static GMutex agents_mutex;
static GCond agents_cond;
static int running_agents;
static int max_agents = 50; /* [agent] max_agents */
sb_agent_stats sb_agent_counters;

void sb_agent_msg_free(agent_msg *m)
{
	if (!m)
		return;
	g_free(m->pcm);
	g_free(m->text);
	sb_pipeline_event_clear(&m->event);
	g_free(m);
}

/* Mixer thread: the next frame of our voice. */
static bool agent_pull_pcm(sb_participant *p, int16_t *frame, int samples)
{
	return sb_agent_voice_pull(((sb_agent *)p->transport)->voice, frame, samples);
}

/* Mixer thread: our mix-minus for this frame, queued for the agent thread. */
static void agent_push_pcm(sb_participant *p, const int16_t *mix, int samples, guint64 speaker)
{
	sb_agent *a = p->transport;
	if (g_atomic_int_get(&a->stopping))
		return;
	if (g_atomic_int_get(&a->queued_frames) >= MAX_QUEUED_FRAMES) {
		__atomic_add_fetch(&sb_agent_counters.frames_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	agent_msg *m = g_new0(agent_msg, 1);
	m->kind = MSG_AUDIO;
	m->pcm = g_memdup2(mix, (gsize)samples * sizeof(int16_t));
	m->samples = samples;
	m->at_us = g_get_monotonic_time();
	m->speaker = speaker;
	g_atomic_int_inc(&a->queued_frames);
	g_async_queue_push(a->queue, m);
}

/* ---- participant plumbing ---- */

static void agent_removed(sb_participant *p)
{
	sb_agent *a = p->transport;
	g_atomic_int_set(&a->stopping, 1);
	agent_msg *m = g_new0(agent_msg, 1);
	m->kind = MSG_STOP;
	g_async_queue_push(a->queue, m);
}

static void agent_free(void *transport)
{
	sb_agent *a = transport;
	if (a->queue)
		g_async_queue_unref(a->queue);
	if (a->down)
		speex_resampler_destroy(a->down);
	if (a->speakers)
		g_hash_table_destroy(a->speakers);
	sb_agent_voice_free(a->voice);
	g_free(a->name);
	g_free(a->pending_tool);
	json_decref(a->pending_args);
	sb_heard_free(a->heard);
	g_free(a->held_said);
	g_free(a->pre_call_tool);
	json_decref(a->menu);
	g_free(a->turn_user);
	json_decref(a->record);
	sb_backchannels_free(a->backchannels);
	json_decref(a->backchannel_lists);
	g_free(a);
}

static const sb_participant_ops agent_ops = {
        .send_rtp = NULL,
        .send_event = NULL,
        .removed = agent_removed,
        .free_transport = agent_free,
        .pull_pcm = agent_pull_pcm,
        .push_pcm = agent_push_pcm,
};

static bool room_has_agent(sb_room *room)
{
	return sb_room_count_participants(room) > sb_room_count_humans(room);
}

/* A place agent_join took for an agent that did not start. */
static void give_back_place(void)
{
	g_mutex_lock(&agents_mutex);
	running_agents--;
	g_cond_broadcast(&agents_cond);
	g_mutex_unlock(&agents_mutex);
}

void sb_agent_thread_ended(void)
{
	__atomic_sub_fetch(&sb_agent_counters.agents, 1, __ATOMIC_RELAXED);
	give_back_place();
}

static void agent_join(sb_room *room)
{
	if (room_has_agent(room) || sb_room_is_destroyed(room))
		return;
	/* Each agent is a thread and a recogniser: their number is bounded,
	 * whoever asks.  A room over the limit gets none (counted). */
	g_mutex_lock(&agents_mutex);
	bool full = running_agents >= max_agents;
	if (!full)
		running_agents++; /* our place, given back if we do not start */
	g_mutex_unlock(&agents_mutex);
	if (full) {
		json_decref(sb_ops_limit_error("agents", "Too many AI agents (max_agents = %d)",
		                               max_agents));
		JANUS_LOG(LOG_WARN,
		          "[switchboard] agent: room %s gets none: max_agents = %d reached\n",
		          room->name, max_agents);
		return;
	}
	json_t *overrides = sb_room_agent_config(room);
	sb_provider_snapshot *now = sb_providers_current();
	json_t *config = now ? json_deep_copy(now->agent) : json_object();
	/* A room names a knowledge base by its [agent] knowledge_bases name
	 * (checked when it was set); the file is the configuration's. */
	json_t *kb = json_object_get(overrides, "knowledge_base");
	if (kb) {
		json_t *path = json_object_get(json_object_get(config, "knowledge_bases"),
		                               json_string_value(kb) ? json_string_value(kb) : "");
		if (json_is_string(path)) {
			json_object_set(overrides, "knowledge_base", path);
		} else {
			JANUS_LOG(LOG_WARN,
			          "[switchboard] agent for %s: knowledge base \"%s\" is no longer "
			          "configured: the default one\n",
			          room->name, json_string_value(kb) ? json_string_value(kb) : "?");
			json_object_del(overrides, "knowledge_base");
		}
	}
	sb_provider_snapshot_unref(now);
	if (overrides)
		json_object_update(config, overrides);
	json_decref(overrides);

	sb_agent *a = g_new0(sb_agent, 1);
	a->queue = g_async_queue_new_full((GDestroyNotify)sb_agent_msg_free);
	a->room_rate = room->sampling_rate;
	a->heard = sb_heard_new();
	a->voice = sb_agent_voice_new(a->room_rate, a->heard);
	a->speakers = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	const char *name = json_string_value(json_object_get(config, "name"));
	a->name = g_strdup(name ? name : "AI Agent");
	int err = 0;
	if (a->room_rate != AGENT_RATE)
		a->down = speex_resampler_init(1, (spx_uint32_t)a->room_rate, AGENT_RATE, 3, &err);
	sb_vad_config vc = {.frame_ms = 20,
	                    .onset_ms = 100,
	                    .hangover_ms = 300,
	                    .margin_db = 12.0f,
	                    .min_level_db = -50.0f,
	                    .rate = AGENT_RATE};
	const char *v;
	if ((v = json_string_value(json_object_get(config, "vad_onset_ms"))))
		vc.onset_ms = atoi(v);
	if ((v = json_string_value(json_object_get(config, "vad_voiced_ms"))))
		vc.onset_voiced_ms = atoi(v);
	if ((v = json_string_value(json_object_get(config, "vad_hangover_ms"))))
		vc.hangover_ms = atoi(v);
	sb_vad_init(&a->vad, &vc);
	a->waits.base_ms = vc.hangover_ms;
	a->waits.min_ms = MIN(250, vc.hangover_ms);
	a->waits.max_ms = MAX(1200, vc.hangover_ms);
	if ((v = json_string_value(json_object_get(config, "turn_min_wait_ms"))))
		a->waits.min_ms = atoi(v);
	if ((v = json_string_value(json_object_get(config, "turn_max_wait_ms"))))
		a->waits.max_ms = atoi(v);
	a->onset_ms = vc.onset_ms;
	a->barge_in_onset_ms = 80;
	v = json_string_value(json_object_get(config, "end_call"));
	a->end_call_closes_room = v && !strcmp(v, "close_room");
	if ((v = json_string_value(json_object_get(config, "barge_in_onset_ms"))))
		a->barge_in_onset_ms = atoi(v);
	a->confirm_ms = 700;
	if ((v = json_string_value(json_object_get(config, "barge_in_confirm_ms"))))
		a->confirm_ms = atoi(v);
	int duck_db = 15;
	if ((v = json_string_value(json_object_get(config, "barge_in_duck_db"))))
		duck_db = atoi(v);
	a->duck_gain = powf(10.0f, -(float)CLAMP(duck_db, 0, 90) / 20.0f);
	a->backchannel_lists = json_incref(json_object_get(config, "backchannels"));
	a->backchannels = sb_backchannels_new(
	        a->backchannel_lists, json_string_value(json_object_get(config, "language")));
	char *error = NULL;
	a->pipeline = sb_pipeline_new(config, room->name, sb_agent_pipeline_post,
	                              sb_agent_pipeline_emit, a, &error);
	a->pre_call_tool = g_strdup(json_string_value(json_object_get(config, "pre_call_tool")));
	/* Checked where it was set ([agent] menu, the agent op's config). */
	if (json_is_object(json_object_get(config, "menu")))
		a->menu = json_incref(json_object_get(config, "menu"));
	json_decref(config);
	if (!a->pipeline) {
		JANUS_LOG(LOG_ERR, "[switchboard] agent for %s cannot start: %s\n", room->name,
		          error ? error : "?");
		g_free(error);
		agent_free(a);
		give_back_place();
		return;
	}
	/* What is known of the call so far (room.h's caller context). */
	json_t *variables = sb_room_variables(room);
	sb_pipeline_set_variables(a->pipeline, variables);
	json_decref(variables);
	sb_participant_params pp = {
	        .kind = SB_KIND_AGENT,
	        .display = a->name,
	        .role = "agent",
	        .sampling_rate = room->sampling_rate,
	        .ops = &agent_ops,
	        .transport = a,
	};
	sb_participant *p = sb_participant_new(&pp);
	a->p = p;
	if (sb_room_add(room, p) != SB_OK) {
		sb_pipeline_free(a->pipeline);
		a->pipeline = NULL;
		sb_participant_unref(p); /* frees a */
		give_back_place();
		return;
	}
	sb_participant_set_media_ready(p, true);
	sb_room_ref(room);
	a->room = room;
	__atomic_add_fetch(&sb_agent_counters.agents, 1, __ATOMIC_RELAXED);
	/* The thread owns our reference to p from here. */
	GThread *t = g_thread_new("sb agent", sb_agent_main, a);
	g_thread_unref(t);
}

static void agent_leave(sb_room *room)
{
	GPtrArray *members = sb_room_participants(room);
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p->kind == SB_KIND_AGENT)
			sb_room_remove(room, p, "leaving");
	}
	g_ptr_array_unref(members);
}

/* Interfaces whose calls get the agent without asking ([agent]
 * auto_join = ["phone", "whatsapp"]). */
static bool auto_join_for(sb_participant *p)
{
	sb_provider_snapshot *now = sb_providers_current();
	json_t *list = now ? json_object_get(now->agent, "auto_join") : NULL;
	const char *iface = sb_participant_interface(p);
	bool wanted = false;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) if (json_is_string(v) &&
	                                   !strcmp(json_string_value(v), iface)) wanted = true;
	sb_provider_snapshot_unref(now);
	return wanted;
}

static void membership_changed(sb_room *room, sb_participant *p, bool joined, guint humans)
{
	if (p->kind == SB_KIND_AGENT)
		return;
	if (joined && auto_join_for(p))
		sb_room_set_agent_enabled(room, true);
	if (joined && humans > 0 && sb_room_agent_enabled(room))
		agent_join(room);
	else if (!joined && humans == 0)
		agent_leave(room);
}

/* ---- public ---- */

void sb_agents_init(void)
{
	sb_room_set_membership_hook(membership_changed);
}

void sb_agents_set_max(int max)
{
	g_mutex_lock(&agents_mutex);
	max_agents = max;
	g_mutex_unlock(&agents_mutex);
}

int sb_agents_max(void)
{
	g_mutex_lock(&agents_mutex);
	int max = max_agents;
	g_mutex_unlock(&agents_mutex);
	return max;
}

bool sb_agents_at_limit(void)
{
	g_mutex_lock(&agents_mutex);
	bool full = running_agents >= max_agents;
	g_mutex_unlock(&agents_mutex);
	return full;
}

void sb_agents_deinit(void)
{
	sb_room_set_membership_hook(NULL);
	g_mutex_lock(&agents_mutex);
	gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
	while (running_agents > 0)
		if (!g_cond_wait_until(&agents_cond, &agents_mutex, deadline))
			break;
	if (running_agents > 0)
		JANUS_LOG(LOG_ERR, "[switchboard] %d agent thread(s) did not stop\n",
		          running_agents);
	g_mutex_unlock(&agents_mutex);
}

void sb_agent_enable(sb_room *room, bool enable)
{
	sb_room_set_agent_enabled(room, enable);
	if (enable && sb_room_count_humans(room) > 0)
		agent_join(room);
	else if (!enable)
		agent_leave(room);
}

/* A message (text or a chunk) to every agent in room. */
static sb_error post(sb_room *room, msg_kind kind, const char *text, unsigned chunk)
{
	GPtrArray *members = sb_room_participants(room);
	sb_error rc = SB_ERROR_NO_SUCH_PARTICIPANT;
	for (guint i = 0; i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (p->kind != SB_KIND_AGENT)
			continue;
		agent_msg *m = g_new0(agent_msg, 1);
		m->kind = kind;
		m->text = g_strdup(text);
		m->samples = (int)chunk;
		g_async_queue_push(((sb_agent *)p->transport)->queue, m);
		rc = SB_OK;
	}
	g_ptr_array_unref(members);
	return rc;
}

sb_error sb_agent_say(sb_room *room, const char *text)
{
	return post(room, MSG_SAY, text, 0);
}

sb_error sb_agent_dtmf(sb_room *room, char digit)
{
	char text[64];
	g_snprintf(text, sizeof(text), "(pressed %c on the keypad)", digit);
	return post(room, MSG_DTMF, text, (unsigned char)digit); /* the key rides in samples */
}

sb_error sb_agent_heard(sb_room *room, unsigned chunk)
{
	return post(room, MSG_HEARD, NULL, chunk);
}

void sb_agents_get_stats(sb_agent_stats *out)
{
	out->agents = __atomic_load_n(&sb_agent_counters.agents, __ATOMIC_RELAXED);
	out->turns = __atomic_load_n(&sb_agent_counters.turns, __ATOMIC_RELAXED);
	out->barge_ins = __atomic_load_n(&sb_agent_counters.barge_ins, __ATOMIC_RELAXED);
	out->ducks = __atomic_load_n(&sb_agent_counters.ducks, __ATOMIC_RELAXED);
	out->resumed = __atomic_load_n(&sb_agent_counters.resumed, __ATOMIC_RELAXED);
	out->backchannels = __atomic_load_n(&sb_agent_counters.backchannels, __ATOMIC_RELAXED);
	out->language_switches =
	        __atomic_load_n(&sb_agent_counters.language_switches, __ATOMIC_RELAXED);
	out->provider_errors =
	        __atomic_load_n(&sb_agent_counters.provider_errors, __ATOMIC_RELAXED);
	out->frames_dropped = __atomic_load_n(&sb_agent_counters.frames_dropped, __ATOMIC_RELAXED);
}
