/* livekit.Egress on the ops table (livekit.md 3.5): a room composite
 * egress is the room's recording (op start_recording, Opus in Ogg, the mix
 * only), stopped by StopEgress (op stop_recording) or when the room
 * closes; ListEgress lists them with their file.  The roomRecord grant is
 * room-wide in LiveKit, so the ops run as the operator.
 *
 * Files go where [recording] dir says, under Switchboard's names: a
 * request never names a file (docs/security.md), so `filepath` is not
 * honoured and cloud uploads (s3, gcp, azure, aliOSS) are refused; the
 * answer's file_results say where the file is.  Other outputs (streams,
 * segments, images) and the other Start* methods are refused or
 * unimplemented.
 *
 * An egress follows its recording through the bus (recording_stopped of
 * its mix) to EGRESS_COMPLETE, and egress_started / egress_ended go to the
 * webhooks.  Ended egresses are remembered up to EGRESS_KEEP (the oldest
 * forgotten first), so the registry stays bounded. */
#include "livekit/livekit_private.h"

#include <string.h>

#include "api/api.h"
#include "room/room.h"

#define EGRESS_KEEP 1000

typedef enum {
	EGRESS_STARTING = 0,
	EGRESS_ACTIVE,
	EGRESS_ENDING,
	EGRESS_COMPLETE,
	EGRESS_FAILED,
} egress_status;

static const char *const status_names[] = {"EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING",
                                           "EGRESS_COMPLETE", "EGRESS_FAILED"};

typedef struct egress {
	char *id;
	char *room_name, *room_sid;
	char *recording_id;
	char *path;
	json_t *request; /* the room_composite request, echoed */
	egress_status status;
	gint64 started_ns, ended_ns, updated_ns;
	gint64 bytes, duration_ns;
	char *error;
} egress;

static struct {
	GMutex lock;
	GHashTable *by_id; /* id -> egress */
	GQueue order;      /* ids, oldest first */
	unsigned bus;
} egresses;

static void egress_free(gpointer data)
{
	egress *e = data;
	g_free(e->id);
	g_free(e->room_name);
	g_free(e->room_sid);
	g_free(e->recording_id);
	g_free(e->path);
	json_decref(e->request);
	g_free(e->error);
	g_free(e);
}

static json_t *int64_text(gint64 v)
{
	char text[24];
	g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, v);
	return json_string(text);
}

static gint64 now_ns(void)
{
	return g_get_real_time() * 1000;
}

/* EgressInfo (livekit.md 3.5), under the lock. */
static json_t *info_locked(const egress *e)
{
	json_t *results = json_array();
	if (e->path) {
		const char *slash = strrchr(e->path, '/');
		json_array_append_new(
		        results,
		        json_pack("{ss so so so so ss}", "filename", slash ? slash + 1 : e->path,
		                  "started_at", int64_text(e->started_ns), "ended_at",
		                  int64_text(e->ended_ns), "duration", int64_text(e->duration_ns),
		                  "size", int64_text(e->bytes), "location", e->path));
	}
	return json_pack("{ss ss ss ss ss so so so sO so ss si}", "egress_id", e->id, "room_id",
	                 e->room_sid ? e->room_sid : "", "room_name", e->room_name, "source_type",
	                 "EGRESS_SOURCE_TYPE_SDK", "status", status_names[e->status], "started_at",
	                 int64_text(e->started_ns), "ended_at", int64_text(e->ended_ns),
	                 "updated_at", int64_text(e->updated_ns), "room_composite", e->request,
	                 "file_results", results, "error", e->error ? e->error : "", "error_code",
	                 0);
}

/* Forgets the oldest ended egresses beyond EGRESS_KEEP. */
static void trim_locked(void)
{
	guint n = g_queue_get_length(&egresses.order);
	for (GList *l = egresses.order.head; l && n > EGRESS_KEEP;) {
		GList *next = l->next;
		egress *e = g_hash_table_lookup(egresses.by_id, l->data);
		if (!e || e->status >= EGRESS_COMPLETE) {
			g_hash_table_remove(egresses.by_id, l->data);
			g_free(l->data);
			g_queue_delete_link(&egresses.order, l);
			n--;
		}
		l = next;
	}
}

/* The one file output of a request: `file` (deprecated, sent by the SDK
 * next to fileOutputs) or fileOutputs[0]; 0 or a Twirp error's status. */
static int file_output(json_t *body, json_t **out)
{
	json_t *file = sb_lk_field(body, "file", "file");
	json_t *outputs = sb_lk_field(body, "fileOutputs", "file_outputs");
	if (outputs && !json_is_array(outputs))
		return sb_lk_malformed(out);
	if (!file)
		file = json_array_get(outputs, 0);
	if (json_array_size(outputs) > 1)
		return sb_lk_twirp_error(out, "invalid_argument", "one file output at most here");
	static const char *const others[][2] = {{"stream", "stream"},
	                                        {"segments", "segments"},
	                                        {"streamOutputs", "stream_outputs"},
	                                        {"segmentOutputs", "segment_outputs"},
	                                        {"imageOutputs", "image_outputs"}};
	for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
		json_t *v = sb_lk_field(body, others[i][0], others[i][1]);
		if (v && !(json_is_array(v) && json_array_size(v) == 0))
			return sb_lk_twirp_error(
			        out, "invalid_argument",
			        "only a file output is supported here (audio, Ogg)");
	}
	if (!file)
		return sb_lk_twirp_error(out, "invalid_argument", "no output: give a file output");
	if (!json_is_object(file))
		return sb_lk_malformed(out);
	json_t *type = sb_lk_field(file, "fileType", "file_type");
	/* An enum may come by name or by number (proto3 JSON takes both). */
	bool ogg =
	        !type ||
	        (json_is_string(type) && (!strcmp(json_string_value(type), "OGG") ||
	                                  !strcmp(json_string_value(type), "DEFAULT_FILETYPE"))) ||
	        (json_is_integer(type) &&
	         (json_integer_value(type) == 0 || json_integer_value(type) == 2));
	if (!ogg)
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "only OGG files (Opus audio) are written here");
	static const char *const uploads[] = {"s3", "gcp", "azure", "aliOSS"};
	for (size_t i = 0; i < G_N_ELEMENTS(uploads); i++)
		if (json_object_get(file, uploads[i]))
			return sb_lk_twirp_error(out, "invalid_argument",
			                         "uploads are not supported: files go to the "
			                         "server's recording directory");
	return 0;
}

static int start_room_composite(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *room_name;
	int status = sb_lk_room_name(body, "roomName", &room_name, out);
	if (status)
		return status;
	json_t *video_only = sb_lk_field(body, "videoOnly", "video_only");
	if (json_is_true(video_only))
		return sb_lk_twirp_error(out, "invalid_argument", "rooms here are audio only");
	if ((status = file_output(body, out)))
		return status;
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return sb_lk_room_missing(out);
	char *sid = sb_lk_room_sid(room);
	sb_room_unref(room);
	json_t *answer;
	status = sb_lk_run_ok(json_pack("{sssssssb}", "request", "start_recording", "room",
	                                room_name, "format", "ogg", "tracks", false),
	                      NULL, &answer, out);
	if (status) {
		g_free(sid);
		return status;
	}
	json_t *recording = json_object_get(answer, "recording");
	egress *e = g_new0(egress, 1);
	char *uuid = g_uuid_string_random();
	e->id = g_strdup_printf("EG_%.12s", uuid);
	g_free(uuid);
	e->room_name = g_strdup(room_name);
	e->room_sid = sid;
	e->recording_id = g_strdup(json_string_value(json_object_get(recording, "id")));
	e->path = g_strdup(json_string_value(json_object_get(recording, "path")));
	e->request = json_deep_copy(body);
	e->status = EGRESS_ACTIVE;
	e->started_ns = e->updated_ns = now_ns();
	json_decref(answer);
	g_mutex_lock(&egresses.lock);
	g_hash_table_replace(egresses.by_id, g_strdup(e->id), e);
	g_queue_push_tail(&egresses.order, g_strdup(e->id));
	trim_locked();
	*out = info_locked(e);
	g_mutex_unlock(&egresses.lock);
	/* LiveKit answers a start with the egress starting. */
	json_object_set_new(*out, "status", json_string(status_names[EGRESS_STARTING]));
	sb_lk_webhook_egress("egress_started", room_name, *out);
	return 200;
}

static int stop_egress(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *id;
	if (!sb_lk_string_field(body, "egressId", "egress_id", &id))
		return sb_lk_malformed(out);
	g_mutex_lock(&egresses.lock);
	egress *e = id ? g_hash_table_lookup(egresses.by_id, id) : NULL;
	egress_status status = e ? e->status : EGRESS_FAILED;
	char *room_name = e ? g_strdup(e->room_name) : NULL;
	if (e && status == EGRESS_ACTIVE) {
		e->status = EGRESS_ENDING;
		e->updated_ns = now_ns();
	}
	g_mutex_unlock(&egresses.lock);
	if (!e)
		return sb_lk_twirp_error(out, "not_found", "egress does not exist");
	if (status != EGRESS_ACTIVE) {
		g_free(room_name);
		return sb_lk_twirp_error(out, "failed_precondition",
		                         "egress with status %s cannot be stopped",
		                         status_names[status]);
	}
	/* The recording's end (the bus) completes it; a room already gone
	 * ended its recording before. */
	json_decref(sb_lk_run(json_pack("{ssss}", "request", "stop_recording", "room", room_name),
	                      NULL));
	g_free(room_name);
	g_mutex_lock(&egresses.lock);
	e = g_hash_table_lookup(egresses.by_id, id);
	*out = e ? info_locked(e) : NULL;
	g_mutex_unlock(&egresses.lock);
	if (!*out)
		return sb_lk_twirp_error(out, "not_found", "egress does not exist");
	return 200;
}

static int list_egress(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *room_name, *id;
	if (!sb_lk_string_field(body, "roomName", "room_name", &room_name) ||
	    !sb_lk_string_field(body, "egressId", "egress_id", &id))
		return sb_lk_malformed(out);
	bool active = json_is_true(sb_lk_field(body, "active", "active"));
	json_t *items = json_array();
	g_mutex_lock(&egresses.lock);
	for (GList *l = egresses.order.head; l; l = l->next) {
		egress *e = g_hash_table_lookup(egresses.by_id, l->data);
		if (!e || (room_name && *room_name && strcmp(room_name, e->room_name)) ||
		    (id && *id && strcmp(id, e->id)) || (active && e->status >= EGRESS_COMPLETE))
			continue;
		json_array_append_new(items, info_locked(e));
	}
	g_mutex_unlock(&egresses.lock);
	*out = json_pack("{so}", "items", items);
	return 200;
}

const sb_lk_method sb_lk_egress_service[] = {
        {"StartRoomCompositeEgress", start_room_composite, NULL},
        {"StopEgress", stop_egress, NULL},
        {"ListEgress", list_egress, NULL},
};
const size_t sb_lk_egress_service_count = G_N_ELEMENTS(sb_lk_egress_service);

/* The mix of an egress's recording is closed: the egress is complete (or
 * failed, when the recorder says so). */
static void on_bus(json_t *notification, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(notification, "type"));
	if (!type || strcmp(type, "recording_stopped") ||
	    g_strcmp0(json_string_value(json_object_get(notification, "kind")), "mix"))
		return;
	const char *recording = json_string_value(json_object_get(notification, "recording"));
	const char *reason = json_string_value(json_object_get(notification, "reason"));
	json_t *info = NULL;
	char *room_name = NULL;
	g_mutex_lock(&egresses.lock);
	for (GList *l = egresses.order.head; recording && l; l = l->next) {
		egress *e = g_hash_table_lookup(egresses.by_id, l->data);
		if (!e || g_strcmp0(e->recording_id, recording) || e->status >= EGRESS_COMPLETE)
			continue;
		bool failed = reason && strstr(reason, "error");
		e->status = failed ? EGRESS_FAILED : EGRESS_COMPLETE;
		if (failed)
			e->error = g_strdup(reason);
		e->ended_ns = e->updated_ns = now_ns();
		e->bytes = json_integer_value(json_object_get(notification, "bytes"));
		e->duration_ns =
		        (gint64)(json_number_value(json_object_get(notification, "seconds")) * 1e9);
		info = info_locked(e);
		room_name = g_strdup(e->room_name);
		trim_locked();
		break;
	}
	g_mutex_unlock(&egresses.lock);
	if (info)
		sb_lk_webhook_egress("egress_ended", room_name, info);
	json_decref(info);
	g_free(room_name);
}

void sb_lk_egress_start(void)
{
	g_mutex_lock(&egresses.lock);
	egresses.by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, egress_free);
	g_queue_init(&egresses.order);
	g_mutex_unlock(&egresses.lock);
	egresses.bus = sb_events_subscribe(on_bus, NULL);
}

void sb_lk_egress_stop(void)
{
	sb_events_unsubscribe(egresses.bus);
	g_mutex_lock(&egresses.lock);
	g_clear_pointer(&egresses.by_id, g_hash_table_unref);
	g_queue_clear_full(&egresses.order, g_free);
	g_mutex_unlock(&egresses.lock);
}
