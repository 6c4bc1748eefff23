/* Webhooks in LiveKit's format (livekit.md 4), so that a back end's
 * WebhookReceiver takes Switchboard's events unchanged: the room and
 * membership changes of every room, as LiveKit's events with its Room and
 * ParticipantInfo in proto3 JSON (and the egresses' EgressInfo), POSTed to each [livekit]
 * webhook_urls with an Authorization JWT whose sha256 claim is the body's hash.
 *
 * Delivery: per URL one queue, sent one at a time and in order (LiveKit
 * orders per room; one order per URL is stricter and needs no more), each
 * event until the receiver answers 2xx, with a backoff of 1 s doubling to
 * 30 s between attempts: a receiver that is down gets every event when it
 * is back.  The queue is bounded (WEBHOOK_QUEUE_MAX): past it the oldest
 * event waiting is dropped and counted, so a receiver that never answers
 * costs bounded memory.  What waits is also spooled to a file per URL in
 * the state directory (livekit-webhooks/, rewritten at most once a second
 * and at stop), and read back at start: a receiver that is down across a
 * restart still gets every event, at least once (an event that was on its
 * way when the process died may come twice; its id tells).
 *
 * Threads: events are made on the thread that changed the room (a member
 * listener or the bus: they only build the body and queue it); sending
 * and the timers run on this module's loop thread; the HTTP exchange on
 * the net module's curl thread. */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include <debug.h>

#include "api/api.h"
#include "livekit/livekit_private.h"
#include "net/net.h"
#include "room/room.h"

#define WEBHOOK_QUEUE_MAX 10000
#define WEBHOOK_TIMEOUT_MS 10000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define SPOOL_EVERY_MS 1000

typedef struct target {
	char *url;
	GQueue waiting; /* char* bodies, oldest first; the head may be in flight */
	bool in_flight;
	int attempts; /* failed attempts of the head event */
	GSource *retry;
	sb_fetch_request *request;
	long last_status;
	char *spool; /* the file its waiting events are kept in */
	bool dirty;  /* waiting changed since the spool was written */
} target;

static struct {
	GMutex lock; /* the targets' fields and the counters */
	bool running;
	sb_loop *loop;
	GPtrArray *targets;
	char *api_key, *secret;
	unsigned bus;
	GSource *spooler;
	/* room name -> sid, from room_started to room_finished: the bus's
	 * room_closed comes after the room has left the registry. */
	GHashTable *sids;
	guint64 sent, failed_attempts, dropped;
} hooks;

static void send_head(target *t);

/* ---- sending (loop thread) ---- */

typedef struct outcome {
	target *t;
	long status;
	char *error;
} outcome;

static void outcome_free(gpointer data)
{
	outcome *o = data;
	g_free(o->error);
	g_free(o);
}

static gboolean retry_cb(gpointer data)
{
	target *t = data;
	g_mutex_lock(&hooks.lock);
	t->retry = NULL;
	g_mutex_unlock(&hooks.lock);
	send_head(t);
	return G_SOURCE_REMOVE;
}

static gboolean on_outcome(gpointer data)
{
	outcome *o = data;
	target *t = o->t;
	g_mutex_lock(&hooks.lock);
	sb_fetch_request *done = t->request;
	t->request = NULL;
	t->in_flight = false;
	t->last_status = o->status;
	bool delivered = !o->error && o->status >= 200 && o->status < 300;
	if (delivered) {
		g_free(g_queue_pop_head(&t->waiting));
		t->dirty = true;
		t->attempts = 0;
		hooks.sent++;
	} else {
		t->attempts++;
		hooks.failed_attempts++;
	}
	int backoff = BACKOFF_FIRST_MS;
	for (int i = 1; i < t->attempts && backoff < BACKOFF_MAX_MS; i++)
		backoff *= 2;
	backoff = MIN(backoff, BACKOFF_MAX_MS);
	bool running = hooks.running;
	g_mutex_unlock(&hooks.lock);
	if (done)
		sb_fetch_release(done);
	if (!running)
		return G_SOURCE_REMOVE;
	if (delivered) {
		send_head(t);
	} else {
		if (t->attempts == 1)
			JANUS_LOG(LOG_WARN,
			          "[switchboard] [livekit] webhook %s: %s; retrying with backoff\n",
			          t->url, o->error ? o->error : "not a 2xx answer");
		GSource *retry = sb_loop_timeout(hooks.loop, (guint)backoff, retry_cb, t, NULL);
		g_mutex_lock(&hooks.lock);
		t->retry = retry;
		g_mutex_unlock(&hooks.lock);
	}
	return G_SOURCE_REMOVE;
}

/* curl thread: hand the outcome to the loop. */
static void on_done(void *user, long status, const char *error)
{
	outcome *o = g_new0(outcome, 1);
	o->t = user;
	o->status = status;
	o->error = g_strdup(error);
	sb_loop_invoke(hooks.loop, on_outcome, o, outcome_free);
}

static const sb_fetch_callbacks fetch_callbacks = {.done = on_done};

/* Loop thread: the head event of t, unless one is on its way or waits for
 * its retry.  Signed at each attempt: the token lives five minutes. */
static void send_head(target *t)
{
	g_mutex_lock(&hooks.lock);
	char *body = t->in_flight || t->retry || !hooks.running
	                     ? NULL
	                     : g_strdup(g_queue_peek_head(&t->waiting));
	if (body)
		t->in_flight = true;
	g_mutex_unlock(&hooks.lock);
	if (!body)
		return;
	size_t len = strlen(body);
	char *token = sb_lk_webhook_token(hooks.api_key, hooks.secret, body, len,
	                                  g_get_real_time() / G_USEC_PER_SEC);
	char *authorization = g_strdup_printf("Authorization: %s", token); /* no "Bearer " */
	const char *headers[] = {authorization, "Content-Type: application/webhook+json",
	                         "User-Agent: LiveKit", NULL};
	sb_fetch_options opt = {.method = "POST",
	                        .url = t->url,
	                        .headers = headers,
	                        .body = body,
	                        .body_len = len,
	                        .total_timeout_ms = WEBHOOK_TIMEOUT_MS};
	char *error = NULL;
	sb_fetch_request *req = sb_fetch_submit(&opt, &fetch_callbacks, t, &error);
	g_mutex_lock(&hooks.lock);
	if (req && t->in_flight && !t->request)
		t->request = req;
	g_mutex_unlock(&hooks.lock);
	if (!req)
		on_done(t, 0, error ? error : "cannot send");
	g_free(error);
	g_free(authorization);
	g_free(token);
	g_free(body);
}

static gboolean kick_cb(gpointer data)
{
	send_head(data);
	return G_SOURCE_REMOVE;
}

/* ---- the spool ---- */

/* Writes what t has waiting to its spool (a new file renamed over the
 * old: a crash leaves one or the other).  Not on a request thread. */
static void spool_write(target *t)
{
	g_mutex_lock(&hooks.lock);
	bool dirty = t->dirty;
	t->dirty = false;
	GString *text = g_string_new(NULL);
	for (GList *l = dirty ? t->waiting.head : NULL; l; l = l->next) {
		g_string_append(text, l->data);
		g_string_append_c(text, '\n');
	}
	g_mutex_unlock(&hooks.lock);
	GError *error = NULL;
	if (dirty && !g_file_set_contents_full(t->spool, text->str, (gssize)text->len,
	                                       G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
		JANUS_LOG(LOG_WARN, "[switchboard] [livekit] webhook spool %s: %s\n", t->spool,
		          error->message);
		g_clear_error(&error);
	}
	g_string_free(text, TRUE);
}

static gboolean spool_cb(gpointer data)
{
	(void)data;
	for (guint i = 0; hooks.targets && i < hooks.targets->len; i++)
		spool_write(hooks.targets->pdata[i]);
	return G_SOURCE_CONTINUE;
}

/* What a previous run left waiting for t, oldest first, within the bound. */
static void spool_read(target *t)
{
	char *text = NULL;
	gsize len = 0;
	if (!g_file_get_contents(t->spool, &text, &len, NULL))
		return;
	gchar **lines = g_strsplit(text, "\n", -1);
	guint n = 0;
	for (gchar **l = lines; *l; l++) {
		if (!**l)
			continue;
		json_t *ev = json_loads(*l, 0, NULL);
		if (json_is_object(ev) && json_is_string(json_object_get(ev, "event"))) {
			g_queue_push_tail(&t->waiting, g_strdup(*l));
			n++;
		}
		json_decref(ev);
	}
	while (g_queue_get_length(&t->waiting) > WEBHOOK_QUEUE_MAX) {
		g_free(g_queue_pop_head(&t->waiting));
		hooks.dropped++;
	}
	if (n)
		JANUS_LOG(LOG_INFO,
		          "[switchboard] [livekit] %u webhook event(s) for %s from before\n", n,
		          t->url);
	g_strfreev(lines);
	g_free(text);
}

static char *spool_path(const char *url)
{
	char *dir = sb_state_path("livekit-webhooks");
	if (g_mkdir_with_parents(dir, 0700) != 0)
		JANUS_LOG(LOG_WARN,
		          "[switchboard] [livekit] %s: %s (webhooks not kept across a restart)\n",
		          dir, g_strerror(errno));
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
	char *name = g_strdup_printf("%.16s.jsonl", hash);
	char *path = g_build_filename(dir, name, NULL);
	g_free(name);
	g_free(hash);
	g_free(dir);
	return path;
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
	for (guint i = 0; hooks.running && i < hooks.targets->len; i++) {
		target *t = hooks.targets->pdata[i];
		g_queue_push_tail(&t->waiting, g_strdup(body));
		t->dirty = true;
		/* Full: the oldest event that is not on its way makes room. */
		if (g_queue_get_length(&t->waiting) > WEBHOOK_QUEUE_MAX) {
			guint drop = t->in_flight ? 1 : 0;
			g_free(g_queue_pop_nth(&t->waiting, drop));
			hooks.dropped++;
		}
		if (!t->in_flight && !t->retry)
			sb_loop_invoke(hooks.loop, kick_cb, t, NULL);
	}
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

/* A move between rooms is, in LiveKit's terms, leaving one room and
 * joining the other. */
static void on_member(sb_room *room, sb_participant *p, sb_member_change change, void *user)
{
	(void)user;
	g_mutex_lock(&hooks.lock);
	bool running = hooks.running;
	g_mutex_unlock(&hooks.lock);
	if (!running)
		return;
	bool joined = change == SB_MEMBER_JOINED || change == SB_MEMBER_MOVED_IN;
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

/* ---- metrics ---- */

static void metrics(GString *out)
{
	g_mutex_lock(&hooks.lock);
	guint64 sent = hooks.sent, failed = hooks.failed_attempts, dropped = hooks.dropped;
	guint waiting = 0;
	for (guint i = 0; hooks.targets && i < hooks.targets->len; i++)
		waiting += g_queue_get_length(&((target *)hooks.targets->pdata[i])->waiting);
	g_mutex_unlock(&hooks.lock);
	sb_metrics_value(out, "switchboard_livekit_webhooks_sent_total", "counter",
	                 "LiveKit webhook events a receiver took (2xx)", (long long)sent);
	sb_metrics_value(out, "switchboard_livekit_webhook_failures_total", "counter",
	                 "LiveKit webhook attempts that failed (retried)", (long long)failed);
	sb_metrics_value(out, "switchboard_livekit_webhooks_dropped_total", "counter",
	                 "LiveKit webhook events dropped because a queue was full",
	                 (long long)dropped);
	sb_metrics_value(out, "switchboard_livekit_webhooks_waiting", "gauge",
	                 "LiveKit webhook events waiting for their receiver", (long long)waiting);
}

/* ---- start and stop ---- */

static void target_free(gpointer data)
{
	target *t = data;
	g_queue_clear_full(&t->waiting, g_free);
	g_free(t->spool);
	g_free(t->url);
	g_free(t);
}

/* webhook_urls: a list of http(s) URLs (or one string); anything else is
 * left out with a log line. */
static GPtrArray *read_urls(json_t *section)
{
	GPtrArray *urls = g_ptr_array_new_with_free_func(g_free);
	json_t *v = json_object_get(section, "webhook_urls");
	json_t *list = json_is_string(v) ? json_pack("[O]", v) : json_incref(v);
	size_t i;
	json_t *u;
	json_array_foreach(list, i, u)
	{
		const char *url = json_string_value(u);
		if (url &&
		    (g_str_has_prefix(url, "http://") || g_str_has_prefix(url, "https://")) &&
		    strlen(url) < 2048)
			g_ptr_array_add(urls, g_strdup(url));
		else
			JANUS_LOG(
			        LOG_WARN,
			        "[switchboard] [livekit] webhook_urls[%zu] is not an http(s) URL: "
			        "left out\n",
			        i);
	}
	if (v && !json_is_array(list))
		JANUS_LOG(LOG_WARN,
		          "[switchboard] [livekit] webhook_urls is not a list: no webhooks\n");
	json_decref(list);
	return urls;
}

static bool member_listener_added;

bool sb_lk_webhooks_start(json_t *section, GHashTable *keys)
{
	g_autoptr(GPtrArray) urls = read_urls(section);
	if (!urls->len)
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
	hooks.loop = sb_loop_start("sb lk-webhook", true);
	if (!hooks.loop)
		return false;
	g_mutex_lock(&hooks.lock);
	hooks.api_key = g_strdup(key);
	hooks.secret = g_strdup(secret);
	hooks.targets = g_ptr_array_new_with_free_func(target_free);
	for (guint i = 0; i < urls->len; i++) {
		target *t = g_new0(target, 1);
		t->url = g_strdup(urls->pdata[i]);
		g_queue_init(&t->waiting);
		t->spool = spool_path(t->url);
		spool_read(t);
		g_ptr_array_add(hooks.targets, t);
	}
	hooks.sids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	hooks.running = true;
	for (guint i = 0; i < hooks.targets->len; i++)
		if (g_queue_get_length(&((target *)hooks.targets->pdata[i])->waiting))
			sb_loop_invoke(hooks.loop, kick_cb, hooks.targets->pdata[i], NULL);
	g_mutex_unlock(&hooks.lock);
	hooks.spooler = sb_loop_timeout(hooks.loop, SPOOL_EVERY_MS, spool_cb, NULL, NULL);
	hooks.bus = sb_events_subscribe(on_bus, NULL);
	if (!member_listener_added) { /* member listeners stay for the process */
		sb_room_add_member_listener(on_member, NULL);
		member_listener_added = true;
	}
	sb_metrics_register("livekit_webhooks", metrics);
	JANUS_LOG(LOG_INFO, "[switchboard] [livekit] webhooks to %u URL(s), signed by %s\n",
	          urls->len, key);
	return true;
}

void sb_lk_webhooks_stop(void)
{
	if (!hooks.loop)
		return;
	sb_events_unsubscribe(hooks.bus);
	g_mutex_lock(&hooks.lock);
	hooks.running = false;
	guint lost = 0;
	GPtrArray *requests = g_ptr_array_new();
	for (guint i = 0; i < hooks.targets->len; i++) {
		target *t = hooks.targets->pdata[i];
		lost += g_queue_get_length(&t->waiting);
		if (t->request)
			g_ptr_array_add(requests, t->request);
		t->request = NULL;
	}
	g_mutex_unlock(&hooks.lock);
	/* After release no callback runs: nothing more reaches the loop. */
	for (guint i = 0; i < requests->len; i++)
		sb_fetch_release(requests->pdata[i]);
	g_ptr_array_unref(requests);
	sb_loop_stop(hooks.loop); /* its timers with it */
	hooks.loop = NULL;
	hooks.spooler = NULL;
	/* What is still waiting goes out after the next start. */
	for (guint i = 0; i < hooks.targets->len; i++) {
		target *t = hooks.targets->pdata[i];
		t->dirty = true;
		spool_write(t);
	}
	if (lost)
		JANUS_LOG(LOG_INFO,
		          "[switchboard] [livekit] %u webhook event(s) kept for the next start\n",
		          lost);
	g_mutex_lock(&hooks.lock);
	g_clear_pointer(&hooks.targets, g_ptr_array_unref);
	g_clear_pointer(&hooks.sids, g_hash_table_unref);
	g_clear_pointer(&hooks.api_key, g_free);
	g_clear_pointer(&hooks.secret, g_free);
	g_mutex_unlock(&hooks.lock);
}
