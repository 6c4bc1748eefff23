/* Webhooks in LiveKit's format (livekit.md 4), so that a back end's
 * WebhookReceiver takes Switchboard's events unchanged: the room and
 * membership changes of every room, as LiveKit's events with its Room and
 * ParticipantInfo in proto3 JSON (and the egresses' EgressInfo), POSTed to
 * each [livekit] webhook_urls with an Authorization JWT whose sha256 claim
 * is the body's hash.
 *
 * Delivery is the net module's outbox: per URL in order (LiveKit orders
 * per room; one order per URL is stricter and needs no more), retried with
 * backoff until a 2xx, bounded, spooled in the state directory
 * (livekit-webhooks/) so that a restart loses nothing.
 *
 * participant_joined is sent as LiveKit sends it: once the participant is
 * ACTIVE, its media up (ICE and DTLS for a browser, the RTP endpoint for
 * a phone).  Until then it waits in `joining`, looked at every
 * ACTIVE_CHECK_MS on this module's loop thread; one that leaves before it
 * is active was never announced, so its leaving is not either.
 *
 * Threads: events are built on the thread that changed the room (a member
 * listener or the bus: they only build the body and queue it), or on the
 * loop for those that waited to be active. */
#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "livekit/livekit_private.h"
#include "net/net.h"
#include "room/room.h"

#define ACTIVE_CHECK_MS 100

static struct {
	GMutex lock; /* the fields below */
	bool running;
	sb_outbox *outbox;
	sb_loop *loop; /* the check of `joining` */
	char *api_key, *secret;
	unsigned bus;
	/* room name -> sid, from room_started to room_finished: the bus's
	 * room_closed comes after the room has left the registry. */
	GHashTable *sids;
	/* sb_participant (referenced) -> itself: joined, not active yet. */
	GHashTable *joining;
} hooks;

/* The outbox's thread: LiveKit's headers, signed at each attempt (the
 * token lives five minutes; a retry may come later than that). */
static char **webhook_headers(void *user, const char *body, size_t len)
{
	(void)user;
	char *token = sb_outbox_body_token(hooks.api_key, hooks.secret, body, len,
	                                   g_get_real_time() / G_USEC_PER_SEC);
	char **headers = g_new0(char *, 4);
	headers[0] = g_strdup_printf("Authorization: %s", token); /* no "Bearer " */
	headers[1] = g_strdup("Content-Type: application/webhook+json");
	headers[2] = g_strdup("User-Agent: LiveKit");
	g_free(token);
	return headers;
}

/* ---- events (any thread) ---- */

/* Queues one event for every URL. */
static void deliver(const char *event, json_t *room, json_t *participant, json_t *track,
                    json_t *egress)
{
	g_mutex_lock(&hooks.lock);
	bool running = hooks.running;
	g_mutex_unlock(&hooks.lock);
	if (!running)
		return; /* no URL: nothing to build */
	json_t *ev = json_pack("{ss}", "event", event);
	if (egress)
		json_object_set_new(ev, "egressInfo", sb_lk_protojson(egress));
	if (room)
		json_object_set_new(ev, "room", sb_lk_protojson(room));
	if (participant)
		json_object_set_new(ev, "participant", sb_lk_protojson(participant));
	if (track)
		json_object_set_new(ev, "track", sb_lk_protojson(track));
	char *id = g_uuid_string_random();
	char *ev_id = g_strdup_printf("EV_%.12s", id);
	json_object_set_new(ev, "id", json_string(ev_id));
	char created[24];
	g_snprintf(created, sizeof(created), "%" G_GINT64_FORMAT,
	           g_get_real_time() / G_USEC_PER_SEC);
	json_object_set_new(ev, "createdAt", json_string(created));
	char *body = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	g_free(ev_id);
	g_free(id);
	g_mutex_lock(&hooks.lock);
	if (hooks.running)
		sb_outbox_push(hooks.outbox, body);
	g_mutex_unlock(&hooks.lock);
	free(body);
}

/* Room with only its sid and name (LiveKit's minimal room). */
static json_t *minimal_room(const char *name)
{
	g_mutex_lock(&hooks.lock);
	const char *sid = hooks.sids ? g_hash_table_lookup(hooks.sids, name) : NULL;
	json_t *room = json_pack("{ssss}", "sid", sid ? sid : "", "name", name);
	g_mutex_unlock(&hooks.lock);
	return room;
}

static void on_bus(json_t *notification, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(notification, "type"));
	const char *name = json_string_value(json_object_get(notification, "room"));
	if (!type || !name)
		return;
	if (!strcmp(type, "room_created")) {
		sb_room *room = sb_room_find(name);
		if (!room)
			return; /* gone already: its room_finished has no start either */
		json_t *info = sb_lk_room_info(room);
		g_mutex_lock(&hooks.lock);
		if (hooks.sids)
			g_hash_table_replace(hooks.sids, g_strdup(name), sb_lk_room_sid(room));
		g_mutex_unlock(&hooks.lock);
		sb_room_unref(room);
		deliver("room_started", info, NULL, NULL, NULL);
		json_decref(info);
	} else if (!strcmp(type, "room_closed")) {
		json_t *room = minimal_room(name);
		json_object_set_new(room, "numParticipants", json_integer(0));
		deliver("room_finished", room, NULL, NULL, NULL);
		json_decref(room);
		g_mutex_lock(&hooks.lock);
		if (hooks.sids)
			g_hash_table_remove(hooks.sids, name);
		g_mutex_unlock(&hooks.lock);
	}
}

void sb_lk_webhook_egress(const char *event, const char *room_name, json_t *egress_info)
{
	/* Egress events carry LiveKit's minimal room: its sid and name. */
	json_t *room = minimal_room(room_name);
	deliver(event, room, NULL, NULL, egress_info);
	json_decref(room);
}

/* participant_joined (and track_published, with its one audio track) or
 * participant_left. */
static void announce(sb_room *room, sb_participant *p, bool joined)
{
	json_t *info = sb_lk_room_info(room);
	json_t *participant = sb_lk_participant_info(p);
	deliver(joined ? "participant_joined" : "participant_left", info, participant, NULL, NULL);
	json_t *track = json_array_get(json_object_get(participant, "tracks"), 0);
	if (joined && track) {
		/* track_published names the participant by sid and identity only. */
		json_t *who = json_pack("{sOsO}", "sid", json_object_get(participant, "sid"),
		                        "identity", json_object_get(participant, "identity"));
		deliver("track_published", info, who, track, NULL);
		json_decref(who);
	}
	json_decref(participant);
	json_decref(info);
}

/* A move between rooms is, in LiveKit's terms, leaving one room and
 * joining the other. */
static void on_member(sb_room *room, sb_participant *p, sb_member_change change, void *user)
{
	(void)user;
	bool joined = change == SB_MEMBER_JOINED || change == SB_MEMBER_MOVED_IN;
	g_mutex_lock(&hooks.lock);
	bool running = hooks.running, waited = false;
	if (running && joined && !sb_participant_media_ready(p)) {
		sb_participant_ref(p);
		g_hash_table_add(hooks.joining, p);
		g_mutex_unlock(&hooks.lock);
		return; /* announced once active */
	}
	if (running && !joined)
		waited = g_hash_table_remove(hooks.joining, p);
	g_mutex_unlock(&hooks.lock);
	if (running && !waited)
		announce(room, p, joined);
}

/* The loop: those of `joining` whose media is up now are announced. */
static gboolean check_joining(gpointer data)
{
	(void)data;
	GPtrArray *active = g_ptr_array_new_with_free_func((GDestroyNotify)sb_participant_unref);
	g_mutex_lock(&hooks.lock);
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, hooks.joining);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		if (sb_participant_media_ready(key)) {
			g_ptr_array_add(active, key);
			g_hash_table_iter_steal(&it);
		}
	}
	g_mutex_unlock(&hooks.lock);
	for (guint i = 0; i < active->len; i++) {
		sb_participant *p = active->pdata[i];
		sb_room *room = sb_participant_room(p);
		if (room) { /* else gone meanwhile: never announced, nor its leaving */
			announce(room, p, true);
			sb_room_unref(room);
		}
	}
	g_ptr_array_unref(active);
	return G_SOURCE_CONTINUE;
}

/* ---- metrics ---- */

static void metrics(GString *out)
{
	sb_outbox_stats stats;
	g_mutex_lock(&hooks.lock);
	sb_outbox_get_stats(hooks.outbox, &stats);
	g_mutex_unlock(&hooks.lock);
	sb_metrics_value(out, "switchboard_livekit_webhooks_sent_total", "counter",
	                 "LiveKit webhook events a receiver took (2xx)", (long long)stats.sent);
	sb_metrics_value(out, "switchboard_livekit_webhook_failures_total", "counter",
	                 "LiveKit webhook attempts that failed (retried)",
	                 (long long)stats.failed_attempts);
	sb_metrics_value(out, "switchboard_livekit_webhooks_dropped_total", "counter",
	                 "LiveKit webhook events dropped because a queue was full",
	                 (long long)stats.dropped);
	sb_metrics_value(out, "switchboard_livekit_webhooks_waiting", "gauge",
	                 "LiveKit webhook events waiting for their receiver",
	                 (long long)stats.waiting);
}

/* ---- start and stop ---- */

static bool member_listener_added;

bool sb_lk_webhooks_start(json_t *section, GHashTable *keys)
{
	g_auto(GStrv) urls =
	        sb_outbox_urls(json_object_get(section, "webhook_urls"), "[livekit] webhook_urls");
	if (!urls[0])
		return true;
	/* The key that signs: webhook_api_key, or the only key there is. */
	const char *key = json_string_value(json_object_get(section, "webhook_api_key"));
	if (!key && g_hash_table_size(keys) == 1) {
		GHashTableIter it;
		gpointer k;
		g_hash_table_iter_init(&it, keys);
		g_hash_table_iter_next(&it, &k, NULL);
		key = k;
	}
	const char *secret = key ? g_hash_table_lookup(keys, key) : NULL;
	if (!secret) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] [livekit] webhook_urls set but no key to sign with: set "
		          "webhook_api_key to one of [livekit] keys\n");
		return false;
	}
	hooks.api_key = g_strdup(key);
	hooks.secret = g_strdup(secret);
	sb_outbox_config config = {.name = "[livekit] webhook",
	                           .spool_folder = "livekit-webhooks",
	                           .urls = (const char *const *)urls,
	                           .headers = webhook_headers};
	sb_outbox *outbox = sb_outbox_start(&config);
	sb_loop *loop = outbox ? sb_loop_start("sb lk-webhook", true) : NULL;
	if (!loop) {
		sb_outbox_stop(outbox);
		g_clear_pointer(&hooks.api_key, g_free);
		g_clear_pointer(&hooks.secret, g_free);
		return false;
	}
	g_mutex_lock(&hooks.lock);
	hooks.outbox = outbox;
	hooks.loop = loop;
	hooks.sids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	hooks.joining =
	        g_hash_table_new_full(NULL, NULL, (GDestroyNotify)sb_participant_unref, NULL);
	hooks.running = true;
	g_mutex_unlock(&hooks.lock);
	sb_loop_timeout(loop, ACTIVE_CHECK_MS, check_joining, NULL, NULL);
	hooks.bus = sb_events_subscribe(on_bus, NULL);
	if (!member_listener_added) { /* member listeners stay for the process */
		sb_room_add_member_listener(on_member, NULL);
		member_listener_added = true;
	}
	sb_metrics_register("livekit_webhooks", metrics);
	JANUS_LOG(LOG_INFO, "[switchboard] [livekit] webhooks to %u URL(s), signed by %s\n",
	          g_strv_length(urls), key);
	return true;
}

void sb_lk_webhooks_stop(void)
{
	if (!hooks.loop)
		return;
	sb_events_unsubscribe(hooks.bus);
	g_mutex_lock(&hooks.lock);
	hooks.running = false;
	g_mutex_unlock(&hooks.lock);
	sb_loop_stop(hooks.loop); /* the check with it */
	/* Nothing queues now; what waits goes out after the next start. */
	sb_outbox_stop(hooks.outbox);
	g_mutex_lock(&hooks.lock);
	hooks.loop = NULL;
	hooks.outbox = NULL;
	g_clear_pointer(&hooks.sids, g_hash_table_unref);
	g_clear_pointer(&hooks.joining, g_hash_table_unref);
	g_clear_pointer(&hooks.api_key, g_free);
	g_clear_pointer(&hooks.secret, g_free);
	g_mutex_unlock(&hooks.lock);
}
