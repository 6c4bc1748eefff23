/* A room's VideoRoom (video.h): made by the plugin through the Janus Admin
 * API when the room's first browser joins, private, with a secret and a
 * pin only the plugin knows, and destroyed with the room.  The stock
 * VideoRoom refuses `create` from anyone without its admin_key, so the
 * first browser in can no longer make a token room's video its own.
 *
 * Threads: the join hook runs on the Janus API's handler thread, the room
 * listener on whoever closed the room (under the bus lock), the Admin API's
 * answers on the outbound HTTP thread (net/fetch.c).  None of them waits:
 * a request to the Admin API is queued and answered later; a browser that
 * is faster than the creation finds the VideoRoom a moment later (the call
 * page asks `exists` until it is there).  One leaf lock guards the table;
 * requests are submitted under it (a queue), released outside it. */
#include "video/video.h"

#include <stdlib.h>
#include <string.h>

#include <debug.h>
#include <jansson.h>

#include "api/api.h"
#include "core/core.h"
#include "net/net.h"
#include "room/room.h"

#define ADMIN_TIMEOUT_MS 5000
#define MAX_ANSWER_BYTES 65536

typedef enum { VR_CREATING, VR_READY, VR_FAILED } vr_state;

/* A room's VideoRoom.  The table's: freed when the room closes. */
typedef struct video_room {
	sb_room *room; /* strong: tells a room from a later one of its name */
	char *id;      /* the VideoRoom's id: random, handed only to members */
	char *pin;     /* to join it */
	char *secret;  /* to destroy it */
	vr_state state;
} video_room;

typedef enum { CALL_CREATE, CALL_DESTROY } call_kind;

/* One Admin API request in flight.  Self-contained (the room may be gone
 * when it is answered).  req is taken, under the lock, by whoever releases
 * it: the answer's callback, or stop. */
typedef struct admin_call {
	call_kind kind;
	char *room_name;
	char *id;
	char *secret;
	GString *answer;
	sb_fetch_request *req;
} admin_call;

static struct {
	GMutex lock;
	GHashTable *rooms; /* room name -> video_room* */
	GHashTable *calls; /* admin_call* in flight (a set) */
	bool running;
	unsigned listener;
	/* [video], read-only while running. */
	char *admin_url;
	char *admin_secret;
	char *admin_key;
	int publishers;
	/* Counters (under the lock). */
	guint64 created, failed, destroyed;
} v;

static void video_room_free(video_room *vr)
{
	if (!vr)
		return;
	sb_room_unref(vr->room);
	g_free(vr->id);
	g_free(vr->pin);
	g_free(vr->secret);
	g_free(vr);
}

static void call_free(admin_call *c)
{
	g_free(c->room_name);
	g_free(c->id);
	g_free(c->secret);
	g_string_free(c->answer, TRUE);
	g_free(c);
}

/* A random string for an id, a pin or a secret (32 bytes of entropy). */
static char *random_token(void)
{
	return sb_auth_random_secret();
}

/* ---- the Admin API ---- */

static void call_done(void *user, long status, const char *error);

static bool call_body(void *user, long status, const char *data, size_t len)
{
	(void)status;
	admin_call *c = user;
	if (c->answer->len + len > MAX_ANSWER_BYTES)
		return false;
	g_string_append_len(c->answer, data, (gssize)len);
	return true;
}

static const sb_fetch_callbacks call_callbacks = {.body = call_body, .done = call_done};

/* Queues a message_plugin to the VideoRoom; lock held.  Takes request. */
static void submit_locked(call_kind kind, const char *room_name, const char *id, const char *secret,
                          json_t *request)
{
	json_t *msg = json_pack("{sssssssssO}", "janus", "message_plugin", "transaction",
	                        kind == CALL_CREATE ? "sb-video-create" : "sb-video-destroy",
	                        "admin_secret", v.admin_secret, "plugin", "janus.plugin.videoroom",
	                        "request", request);
	json_decref(request);
	char *body = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	admin_call *c = g_new0(admin_call, 1);
	c->kind = kind;
	c->room_name = g_strdup(room_name);
	c->id = g_strdup(id);
	c->secret = g_strdup(secret);
	c->answer = g_string_new(NULL);
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	sb_fetch_options opt = {.url = v.admin_url,
	                        .headers = headers,
	                        .body = body,
	                        .body_len = strlen(body),
	                        .connect_timeout_ms = ADMIN_TIMEOUT_MS,
	                        .total_timeout_ms = ADMIN_TIMEOUT_MS};
	char *error = NULL;
	/* The answer cannot be handled before req is stored: its callback
	 * takes the lock we hold. */
	c->req = sb_fetch_submit(&opt, &call_callbacks, c, &error);
	free(body);
	if (!c->req) {
		JANUS_LOG(LOG_ERR, "[switchboard] video: cannot reach the Admin API: %s\n",
		          error ? error : "?");
		g_free(error);
		if (kind == CALL_CREATE) {
			video_room *vr = g_hash_table_lookup(v.rooms, room_name);
			if (vr && !strcmp(vr->id, id))
				vr->state = VR_FAILED;
			v.failed++;
		}
		call_free(c);
		return;
	}
	g_hash_table_add(v.calls, c);
}

static void destroy_locked(const char *room_name, const char *id, const char *secret)
{
	json_t *request = json_pack("{sssssssb}", "request", "destroy", "room", id, "secret",
	                            secret, "permanent", false);
	submit_locked(CALL_DESTROY, room_name, id, secret, request);
}

static void create_locked(video_room *vr)
{
	vr->state = VR_CREATING;
	/* Private (never listed), a pin to join (subscribers too) and, for
	 * subscribers, a publisher's private id as well; the secret guards
	 * edit and destroy. */
	json_t *request =
	        json_pack("{sssssssssssbsbsisb}", "request", "create", "room", vr->id, "admin_key",
	                  v.admin_key, "secret", vr->secret, "pin", vr->pin, "is_private", true,
	                  "require_pvtid", true, "publishers", v.publishers, "permanent", false);
	submit_locked(CALL_CREATE, vr->room->name, vr->id, vr->secret, request);
}

/* The Admin API's verdict: NULL when it did what was asked, else why not
 * (g_free).  "Already gone" counts as done for a destroy. */
static char *admin_failure(const admin_call *c, long status, const char *error)
{
	if (error)
		return g_strdup(error);
	if (status != 200)
		return g_strdup_printf("HTTP %ld", status);
	json_t *root = json_loads(c->answer->str, 0, NULL);
	char *why = NULL;
	const char *janus = json_string_value(json_object_get(root, "janus"));
	json_t *response = json_object_get(root, "response");
	if (!janus || strcmp(janus, "success")) {
		const char *reason = json_string_value(
		        json_object_get(json_object_get(root, "error"), "reason"));
		why = g_strdup_printf("Admin API: %s", reason ? reason : "unexpected answer");
	} else if (json_object_get(response, "error_code")) {
		json_int_t code = json_integer_value(json_object_get(response, "error_code"));
		/* 426: no such room — a destroy's work is done. */
		if (!(c->kind == CALL_DESTROY && code == 426)) {
			const char *text = json_string_value(json_object_get(response, "error"));
			why = g_strdup_printf("VideoRoom %" JSON_INTEGER_FORMAT ": %s", code,
			                      text ? text : "?");
		}
	}
	json_decref(root);
	return why;
}

/* The outbound HTTP thread: an Admin API answer. */
static void call_done(void *user, long status, const char *error)
{
	admin_call *c = user;
	g_mutex_lock(&v.lock);
	sb_fetch_request *req = c->req;
	c->req = NULL;
	if (!req) {
		/* stop is letting it go and frees it once we return. */
		g_mutex_unlock(&v.lock);
		return;
	}
	g_hash_table_remove(v.calls, c);
	char *why = admin_failure(c, status, error);
	if (c->kind == CALL_CREATE) {
		video_room *vr = g_hash_table_lookup(v.rooms, c->room_name);
		bool current = vr && !strcmp(vr->id, c->id);
		if (why) {
			v.failed++;
			if (current)
				vr->state = VR_FAILED;
			JANUS_LOG(LOG_ERR, "[switchboard] video: no VideoRoom for %s: %s\n",
			          c->room_name, why);
		} else {
			v.created++;
			if (current)
				vr->state = VR_READY;
			else if (v.running) /* the room closed meanwhile */
				destroy_locked(c->room_name, c->id, c->secret);
		}
	} else if (why) {
		JANUS_LOG(LOG_WARN, "[switchboard] video: VideoRoom of %s not destroyed: %s\n",
		          c->room_name, why);
	} else {
		v.destroyed++;
	}
	g_mutex_unlock(&v.lock);
	g_free(why);
	sb_fetch_release(req); /* from its own callback: does not wait */
	call_free(c);
}

/* ---- rooms ---- */

/* The join hook (api.h): the Janus API's handler thread.  The room's
 * VideoRoom, made now if it has none yet (or the last try failed). */
static void join_answer(sb_room *room, sb_participant *p, json_t *answer)
{
	(void)p;
	g_mutex_lock(&v.lock);
	if (!v.running) {
		g_mutex_unlock(&v.lock);
		return;
	}
	video_room *vr = g_hash_table_lookup(v.rooms, room->name);
	if (vr && vr->room != room) {
		/* A room of this name that closed, whose close we have not heard
		 * of yet: its VideoRoom goes. */
		if (vr->state == VR_READY)
			destroy_locked(vr->room->name, vr->id, vr->secret);
		g_hash_table_remove(v.rooms, room->name);
		vr = NULL;
	}
	if (!vr) {
		vr = g_new0(video_room, 1);
		sb_room_ref(room);
		vr->room = room;
		char *random = random_token();
		vr->id = g_strdup_printf("sb-%.22s", random);
		g_free(random);
		vr->pin = random_token();
		vr->secret = random_token();
		g_hash_table_insert(v.rooms, g_strdup(room->name), vr);
		create_locked(vr);
	} else if (vr->state == VR_FAILED) {
		create_locked(vr);
	}
	if (vr->state != VR_FAILED)
		json_object_set_new(answer, "video",
		                    json_pack("{ssss}", "room", vr->id, "pin", vr->pin));
	g_mutex_unlock(&v.lock);
}

/* Bus listener (under the bus lock): a room closed; its VideoRoom goes.
 * Only queues the request. */
static void on_event(json_t *n, void *user)
{
	(void)user;
	if (g_strcmp0(json_string_value(json_object_get(n, "type")), "room_closed"))
		return;
	const char *name = json_string_value(json_object_get(n, "room"));
	if (!name)
		return;
	g_mutex_lock(&v.lock);
	video_room *vr = v.running ? g_hash_table_lookup(v.rooms, name) : NULL;
	/* A later room of the same name keeps its own. */
	if (vr && sb_room_is_destroyed(vr->room)) {
		if (vr->state == VR_READY)
			destroy_locked(name, vr->id, vr->secret);
		/* CREATING: the answer finds no room and destroys it then. */
		g_hash_table_remove(v.rooms, name);
	}
	g_mutex_unlock(&v.lock);
}

/* ---- counters ---- */

static json_t *video_stats(void)
{
	g_mutex_lock(&v.lock);
	json_t *s = json_pack("{sIsIsIsI}", "rooms", (json_int_t)g_hash_table_size(v.rooms),
	                      "created", (json_int_t)v.created, "failed", (json_int_t)v.failed,
	                      "destroyed", (json_int_t)v.destroyed);
	g_mutex_unlock(&v.lock);
	return s;
}

static void video_metrics(GString *out)
{
	g_mutex_lock(&v.lock);
	guint rooms = g_hash_table_size(v.rooms);
	guint64 created = v.created, failed = v.failed, destroyed = v.destroyed;
	g_mutex_unlock(&v.lock);
	sb_metrics_value(out, "switchboard_videorooms", "gauge",
	                 "Rooms with a VideoRoom the plugin made (or is making).",
	                 (long long)rooms);
	sb_metrics_value(out, "switchboard_videorooms_created_total", "counter",
	                 "VideoRooms the plugin created.", (long long)created);
	sb_metrics_value(out, "switchboard_videoroom_failures_total", "counter",
	                 "VideoRooms the Admin API did not create.", (long long)failed);
	sb_metrics_value(out, "switchboard_videorooms_destroyed_total", "counter",
	                 "VideoRooms destroyed with their room.", (long long)destroyed);
}

/* ---- module ---- */

/* The Admin API secret travels in clear: only to this machine. */
static bool loopback_url(const char *url)
{
	static const char *const ok[] = {"http://127.0.0.1:", "http://127.0.0.1/",
	                                 "http://[::1]:",     "http://[::1]/",
	                                 "http://localhost:", "http://localhost/"};
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
		if (g_str_has_prefix(url, ok[i]))
			return true;
	return false;
}

bool sb_video_module_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "video");
	const char *url = sb_section_string(section, "admin_url", NULL);
	const char *secret = sb_section_string(section, "admin_secret", NULL);
	const char *key = sb_section_string(section, "admin_key", NULL);
	if (!url || !secret || !key) {
		JANUS_LOG(LOG_WARN,
		          "[switchboard] video: [video] admin_url, admin_secret and "
		          "admin_key are not all set: rooms have no VideoRoom (audio only)\n");
		return true;
	}
	if (!loopback_url(url)) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] video: admin_url must be http:// on loopback (the "
		          "Admin API secret travels in it): rooms have no VideoRoom\n");
		return true;
	}
	g_mutex_lock(&v.lock);
	v.admin_url = g_strdup(url);
	v.admin_secret = g_strdup(secret);
	v.admin_key = g_strdup(key);
	v.publishers = (int)sb_section_int(section, "publishers", 16, 1, 64);
	v.rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                (GDestroyNotify)video_room_free);
	v.calls = g_hash_table_new(NULL, NULL);
	v.created = v.failed = v.destroyed = 0;
	v.running = true;
	g_mutex_unlock(&v.lock);
	v.listener = sb_events_subscribe(on_event, NULL);
	sb_ops_register_join_answer(join_answer);
	sb_ops_register_stats("video", video_stats);
	sb_metrics_register("video", video_metrics);
	JANUS_LOG(LOG_INFO, "[switchboard] video: rooms get a private VideoRoom through %s\n", url);
	return true;
}

void sb_video_module_stop(void)
{
	if (!v.rooms)
		return;
	sb_events_unsubscribe(v.listener);
	g_mutex_lock(&v.lock);
	v.running = false;
	/* Take every request in flight; their answers, if any come, find
	 * nothing to release. */
	GPtrArray *calls = g_ptr_array_new();
	GHashTableIter it;
	gpointer c;
	g_hash_table_iter_init(&it, v.calls);
	while (g_hash_table_iter_next(&it, &c, NULL))
		g_ptr_array_add(calls, c);
	g_hash_table_remove_all(v.calls);
	GPtrArray *reqs = g_ptr_array_new();
	for (guint i = 0; i < calls->len; i++) {
		admin_call *call = calls->pdata[i];
		g_ptr_array_add(reqs, call->req);
		call->req = NULL;
	}
	g_mutex_unlock(&v.lock);
	for (guint i = 0; i < calls->len; i++) {
		/* Waits for an answer being handled: it then sees no req. */
		sb_fetch_release(reqs->pdata[i]);
		call_free(calls->pdata[i]);
	}
	g_ptr_array_free(reqs, TRUE);
	g_ptr_array_free(calls, TRUE);
	g_mutex_lock(&v.lock);
	g_clear_pointer(&v.rooms, g_hash_table_destroy);
	g_clear_pointer(&v.calls, g_hash_table_destroy);
	g_clear_pointer(&v.admin_url, g_free);
	g_clear_pointer(&v.admin_secret, g_free);
	g_clear_pointer(&v.admin_key, g_free);
	g_mutex_unlock(&v.lock);
}
