/* The registry of live SIP legs: a leg is created by the SIP thread or an
 * API thread (dial), read by anyone under the registry lock, and ends
 * there; its nua handle belongs to the SIP thread alone. */
#include "sip/sip_private.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "endpoints/endpoints.h"

static GMutex mutex;
static GHashTable *calls; /* id -> sip_call* (strong) */

sip_call *sip_call_new(const char *id, bool outbound)
{
	sip_call *c = g_new0(sip_call, 1);
	c->ref = 1;
	c->id = g_strdup(id);
	c->outbound = outbound;
	c->created_us = g_get_monotonic_time();
	c->sdp_session = g_get_real_time() / 1000;
	c->sdp_version = 1;
	c->reserved_fd = c->reserved_rtcp_fd = -1;
	return c;
}

void sip_call_ref(sip_call *c)
{
	g_atomic_int_inc(&c->ref);
}

void sip_call_unref(sip_call *c)
{
	if (!c || !g_atomic_int_dec_and_test(&c->ref))
		return;
	/* An offered socket that never became a participant. */
	sb_rtp_socket_release(c->reserved_fd, c->reserved_rtcp_fd);
	if (c->participant)
		sb_participant_unref(c->participant);
	json_decref(c->info);
	g_free(c->id);
	g_free(c->call_sid);
	g_free(c->sip_call_id);
	g_free(c->room);
	g_free(c->from);
	g_free(c->to);
	g_free(c->display);
	g_free(c->identity);
	g_free(c->end_reason);
	g_free(c->crypto);
	g_free(c->their_key);
	g_free(c);
}

void sip_call_publish_status(sip_call *c, const char *status, int sip_code, const char *reason)
{
	json_t *ev = json_pack("{ss ss ss ss ss}", "call_id", c->id, "status", status, "direction",
	                       c->outbound ? "outbound" : "inbound", "interface", "phone",
	                       "transport", "sip");
	if (c->call_sid)
		json_object_set_new(ev, "call_sid", json_string(c->call_sid));
	if (c->room)
		json_object_set_new(ev, "room", json_string(c->room));
	if (c->from)
		json_object_set_new(ev, "from", json_string(c->from));
	if (c->to)
		json_object_set_new(ev, "to", json_string(c->to));
	if (sip_code)
		json_object_set_new(ev, "sip_code", json_integer(sip_code));
	if (reason)
		json_object_set_new(ev, "reason", json_string(reason));
	if (c->answered_us && (!strcmp(status, "completed")))
		json_object_set_new(
		        ev, "duration",
		        json_integer((g_get_monotonic_time() - c->answered_us) / 1000000));
	sb_events_publish("call_status", ev);
}

static const char *state_name(gint state)
{
	static const char *const names[] = {"dialing", "active", "ending", "ended"};
	return state >= 0 && state <= SIP_CALL_ENDED ? names[state] : "?";
}

json_t *sip_call_to_json(sip_call *c)
{
	json_t *j = json_pack("{ss ss ss sb}", "id", c->id, "state",
	                      state_name(g_atomic_int_get(&c->state)), "direction",
	                      c->outbound ? "outbound" : "inbound", "on_hold", c->peer_hold);
	if (c->call_sid)
		json_object_set_new(j, "call_sid", json_string(c->call_sid));
	if (c->room)
		json_object_set_new(j, "room", json_string(c->room));
	if (c->from)
		json_object_set_new(j, "from", json_string(c->from));
	if (c->to)
		json_object_set_new(j, "to", json_string(c->to));
	g_mutex_lock(&mutex);
	if (c->participant)
		json_object_set_new(j, "participant", json_integer((json_int_t)c->participant->id));
	g_mutex_unlock(&mutex);
	if (g_atomic_int_get(&c->state) == SIP_CALL_ACTIVE)
		json_object_set_new(j, "codec", json_string(sb_codec_name(c->choice.codec)));
	return j;
}

void sip_calls_init(void)
{
	calls = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
	                              (GDestroyNotify)sip_call_unref);
}

void sip_calls_deinit(void)
{
	g_mutex_lock(&mutex);
	GHashTable *all = calls;
	calls = NULL;
	g_mutex_unlock(&mutex);
	if (all)
		g_hash_table_destroy(all);
}

void sip_calls_add(sip_call *c)
{
	sip_call_ref(c);
	g_mutex_lock(&mutex);
	if (calls)
		g_hash_table_replace(calls, c->id, c);
	else
		sip_call_unref(c);
	g_mutex_unlock(&mutex);
}

void sip_calls_remove(sip_call *c)
{
	g_mutex_lock(&mutex);
	if (calls && g_hash_table_lookup(calls, c->id) == c)
		g_hash_table_remove(calls, c->id);
	g_mutex_unlock(&mutex);
}

sip_call *sip_calls_find(const char *key)
{
	if (!key)
		return NULL;
	char *end = NULL;
	guint64 pid = g_ascii_strtoull(key, &end, 10);
	bool numeric = end && *end == '\0' && end != key;
	sip_call *found = NULL;
	g_mutex_lock(&mutex);
	if (calls) {
		found = g_hash_table_lookup(calls, key);
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, calls);
		while (!found && g_hash_table_iter_next(&it, NULL, &v)) {
			sip_call *c = v;
			if ((c->call_sid && !strcmp(c->call_sid, key)) ||
			    (numeric && c->participant && c->participant->id == pid))
				found = c;
		}
		if (found)
			sip_call_ref(found);
	}
	g_mutex_unlock(&mutex);
	return found;
}

GPtrArray *sip_calls_snapshot(void)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)sip_call_unref);
	g_mutex_lock(&mutex);
	if (calls) {
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, calls);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			sip_call_ref(v);
			g_ptr_array_add(out, v);
		}
	}
	g_mutex_unlock(&mutex);
	return out;
}

guint sip_calls_count(void)
{
	g_mutex_lock(&mutex);
	guint n = calls ? g_hash_table_size(calls) : 0;
	g_mutex_unlock(&mutex);
	return n;
}

void sip_call_set_participant(sip_call *c, sb_participant *p)
{
	g_mutex_lock(&mutex);
	if (c->participant)
		sb_participant_unref(c->participant);
	c->participant = p;
	if (p)
		sb_participant_ref(p);
	g_mutex_unlock(&mutex);
}

sb_participant *sip_call_participant(sip_call *c)
{
	g_mutex_lock(&mutex);
	sb_participant *p = c->participant;
	if (p)
		sb_participant_ref(p);
	g_mutex_unlock(&mutex);
	return p;
}
