/* The room recorder: a tap on a room's mix (and its tracks) that only
 * queues frames, and one writer thread that encodes and writes them, so
 * the mixer never waits on a disk (recording_private.h, section
 * recorder). */
#include "recording/recording_private.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"
#include "media/media.h"

/* Frames a recording may hold before the writer takes them: 10 s of mix
 * alone, less with tracks.  Past that, frames are dropped, never waited
 * for. */
#define RING_SLOTS 512
/* Frames the writer copies out of a ring per lock. */
#define BATCH 32
/* Headers and pages are brought up to date about once a second. */
#define SYNC_FRAMES 50

typedef struct ring_slot {
	guint64 key; /* 0: the mix; else the participant of a track */
	int samples;
	int16_t pcm[SB_MAX_FRAME_SAMPLES];
} ring_slot;

/* One file: the mix or one participant's track.  Writer thread only (and
 * the starting request thread before the writer sees it). */
typedef struct rec_file {
	char *id;
	char *path;
	guint64 participant; /* 0: the mix */
	sb_rec_wav_writer *wav;
	sb_ogg_opus_writer *ogg;
	guint64 frames;
	gint64 started_ms;
	uint64_t reported_bytes; /* counted in the stats so far */
	bool failed;
} rec_file;

typedef struct recording {
	sb_room_tap tap; /* first: the room holds &tap */
	volatile gint refs;
	char *id;
	char *room_name;
	sb_room *room; /* strong until finished */
	sb_rec_format format;
	bool tracks;
	int rate;
	gint64 started_ms;
	char *base; /* path without extension */

	GMutex ring_mutex; /* mixer thread vs writer thread, held only to copy */
	ring_slot *ring;
	guint head, count;

	volatile gint stopping;
	const char *stop_reason; /* static string */

	/* Writer thread only. */
	rec_file *mix;
	GHashTable *track_files; /* guint64* participant -> rec_file* */
	guint64 since_sync;
} recording;

static sb_recorder_config config;
static char *dir_real; /* realpath of config.dir */
static GMutex mutex;
static GCond cond;
static GHashTable *by_room;      /* room name -> recording* (strong); guarded by mutex */
static GPtrArray *stopping;      /* recording* (strong) to finalise; mutex */
static GPtrArray *auto_rooms;    /* room names to start recording; mutex */
static GHashTable *manual_stops; /* rooms stopped by request: no auto restart */
static GThread *writer;
static volatile gint running;
static unsigned subscription;
static sb_recorder_stats stats;

/* ---- the tap (mixer thread) ---- */

static void rec_ref(sb_room_tap *tap)
{
	g_atomic_int_inc(&((recording *)tap)->refs);
}

static void file_free(rec_file *f)
{
	if (!f)
		return;
	g_free(f->id);
	g_free(f->path);
	g_free(f);
}

static void rec_unref(sb_room_tap *tap)
{
	recording *r = (recording *)tap;
	if (!g_atomic_int_dec_and_test(&r->refs))
		return;
	/* Files are closed by finish() before the last reference goes. */
	if (r->track_files)
		g_hash_table_destroy(r->track_files);
	file_free(r->mix);
	g_mutex_clear(&r->ring_mutex);
	g_free(r->ring);
	g_free(r->id);
	g_free(r->room_name);
	g_free(r->base);
	g_free(r);
}

static void push(recording *r, guint64 key, const int16_t *pcm, int samples)
{
	if (samples <= 0 || samples > SB_MAX_FRAME_SAMPLES || g_atomic_int_get(&r->stopping))
		return;
	g_mutex_lock(&r->ring_mutex);
	if (r->count == RING_SLOTS) {
		g_mutex_unlock(&r->ring_mutex);
		__atomic_add_fetch(&stats.dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	ring_slot *s = &r->ring[(r->head + r->count) % RING_SLOTS];
	s->key = key;
	s->samples = samples;
	memcpy(s->pcm, pcm, (size_t)samples * sizeof(int16_t));
	r->count++;
	g_mutex_unlock(&r->ring_mutex);
}

static void tap_frame(sb_room_tap *tap, const int16_t *mix, int samples)
{
	push((recording *)tap, 0, mix, samples);
}

static void tap_track(sb_room_tap *tap, guint64 participant, const int16_t *pcm, int samples)
{
	if (participant)
		push((recording *)tap, participant, pcm, samples);
}

static json_t *rec_describe(sb_room_tap *tap)
{
	recording *r = (recording *)tap;
	return json_pack("{sbsssssssbsI}", "active", !g_atomic_int_get(&r->stopping), "id", r->id,
	                 "format", sb_rec_format_name(r->format), "path",
	                 r->mix ? r->mix->path : "", "tracks", r->tracks, "started",
	                 (json_int_t)r->started_ms);
}

static const sb_room_tap_ops tap_ops = {
        .frame = tap_frame,
        .track = tap_track,
        .describe = rec_describe,
        .ref = rec_ref,
        .unref = rec_unref,
};

/* ---- files (writer thread) ---- */

bool sb_rec_format_parse(const char *name, sb_rec_format *out)
{
	if (name && !strcmp(name, "wav"))
		*out = SB_REC_WAV;
	else if (name && (!strcmp(name, "ogg") || !strcmp(name, "opus")))
		*out = SB_REC_OGG;
	else
		return false;
	return true;
}

const char *sb_rec_format_name(sb_rec_format format)
{
	return format == SB_REC_WAV ? "wav" : "ogg";
}

static rec_file *file_open(recording *r, guint64 participant, char **error)
{
	rec_file *f = g_new0(rec_file, 1);
	f->participant = participant;
	f->id = participant ? g_uuid_string_random() : g_strdup(r->id);
	const char *ext = r->format == SB_REC_WAV ? "wav" : "ogg";
	f->path = participant ? g_strdup_printf("%s-p%" G_GUINT64_FORMAT ".%s", r->base,
	                                        participant, ext)
	                      : g_strdup_printf("%s.%s", r->base, ext);
	f->started_ms = g_get_real_time() / 1000;
	if (r->format == SB_REC_WAV)
		f->wav = sb_rec_wav_open(f->path, r->rate, error);
	else
		f->ogg = sb_ogg_opus_open(f->path, r->rate, config.opus_bitrate, error);
	if (!f->wav && !f->ogg) {
		file_free(f);
		return NULL;
	}
	return f;
}

static uint64_t file_bytes(rec_file *f)
{
	return f->wav ? sb_rec_wav_bytes(f->wav) : f->ogg ? sb_ogg_opus_bytes(f->ogg) : 0;
}

static void count_bytes(rec_file *f, uint64_t now)
{
	if (now > f->reported_bytes)
		__atomic_add_fetch(&stats.bytes_written, now - f->reported_bytes, __ATOMIC_RELAXED);
	f->reported_bytes = now;
}

static void file_write(recording *r, rec_file *f, const int16_t *pcm, int samples)
{
	if (f->failed)
		return;
	bool ok = f->wav ? sb_rec_wav_write(f->wav, pcm, samples)
	                 : sb_ogg_opus_write(f->ogg, pcm, samples);
	if (!ok) {
		f->failed = true;
		__atomic_add_fetch(&stats.write_errors, 1, __ATOMIC_RELAXED);
		JANUS_LOG(LOG_ERR, "[switchboard] recording %s: cannot write %s: %s\n", r->id,
		          f->path, g_strerror(errno));
		return;
	}
	f->frames++;
}

static void file_sync(rec_file *f)
{
	if (f->failed)
		return;
	if (f->wav)
		sb_rec_wav_sync(f->wav);
	else
		sb_ogg_opus_sync(f->ogg);
	count_bytes(f, file_bytes(f));
}

static json_t *file_event(recording *r, rec_file *f)
{
	json_t *ev = json_pack("{sssssssssssssI}", "room", r->room_name, "id", f->id, "recording",
	                       r->id, "kind", f->participant ? "track" : "mix", "format",
	                       sb_rec_format_name(r->format), "path", f->path, "started",
	                       (json_int_t)f->started_ms);
	if (f->participant)
		json_object_set_new(ev, "participant_id", json_integer((json_int_t)f->participant));
	return ev;
}

static void file_close(recording *r, rec_file *f, const char *reason)
{
	uint64_t bytes = f->wav ? sb_rec_wav_close(f->wav) : sb_ogg_opus_close(f->ogg);
	f->wav = NULL;
	f->ogg = NULL;
	count_bytes(f, bytes);
	json_t *ev = file_event(r, f);
	json_object_set_new(ev, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(ev, "seconds", json_real((double)f->frames * SB_FRAME_MS / 1000.0));
	json_object_set_new(ev, "reason", json_string(reason));
	sb_events_publish("recording_stopped", ev);
}

/* A participant's first frame: its track starts with silence for the time
 * the mix ran without it, so every file of a recording lines up. */
static rec_file *track_for(recording *r, guint64 participant, int samples)
{
	rec_file *f = g_hash_table_lookup(r->track_files, &participant);
	if (f)
		return f;
	char *error = NULL;
	f = file_open(r, participant, &error);
	if (!f) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] recording %s: no track for %" G_GUINT64_FORMAT ": %s\n",
		          r->id, participant, error ? error : "?");
		g_free(error);
		__atomic_add_fetch(&stats.write_errors, 1, __ATOMIC_RELAXED);
		/* Remember the failure (a file that writes nothing). */
		f = g_new0(rec_file, 1);
		f->participant = participant;
		f->failed = true;
	} else {
		sb_events_publish("recording_started", file_event(r, f));
		static const int16_t zeros[SB_MAX_FRAME_SAMPLES];
		guint64 behind = r->mix->frames > 0 ? r->mix->frames - 1 : 0;
		for (guint64 i = 0; i < behind; i++)
			file_write(r, f, zeros, samples);
	}
	guint64 *key = g_new(guint64, 1);
	*key = participant;
	g_hash_table_insert(r->track_files, key, f);
	return f;
}

/* Writes what the ring holds; returns the frames taken. */
static guint drain(recording *r)
{
	static ring_slot batch[BATCH]; /* writer thread only */
	guint total = 0;
	for (;;) {
		g_mutex_lock(&r->ring_mutex);
		guint n = MIN(r->count, (guint)BATCH);
		for (guint i = 0; i < n; i++) {
			ring_slot *s = &r->ring[(r->head + i) % RING_SLOTS];
			batch[i].key = s->key;
			batch[i].samples = s->samples;
			memcpy(batch[i].pcm, s->pcm, (size_t)s->samples * sizeof(int16_t));
		}
		r->head = (r->head + n) % RING_SLOTS;
		r->count -= n;
		g_mutex_unlock(&r->ring_mutex);
		if (n == 0)
			return total;
		total += n;
		/* max_seconds is exact: frames past it are not written. */
		guint64 limit = config.max_seconds > 0
		                        ? (guint64)config.max_seconds * (1000 / SB_FRAME_MS)
		                        : G_MAXUINT64;
		for (guint i = 0; i < n; i++) {
			ring_slot *s = &batch[i];
			if (s->key == 0 && r->mix->frames >= limit)
				break;
			if (s->key == 0) {
				file_write(r, r->mix, s->pcm, s->samples);
				if (++r->since_sync >= SYNC_FRAMES) {
					r->since_sync = 0;
					file_sync(r->mix);
					GHashTableIter it;
					gpointer v;
					g_hash_table_iter_init(&it, r->track_files);
					while (g_hash_table_iter_next(&it, NULL, &v))
						file_sync(v);
				}
			} else if (r->tracks) {
				file_write(r, track_for(r, s->key, s->samples), s->pcm, s->samples);
			}
		}
	}
}

static void finish(recording *r)
{
	/* No more frames: the room forgets the tap (if not done already). */
	if (r->room)
		sb_room_remove_tap(r->room, &r->tap);
	g_atomic_int_set(&r->stopping, 1);
	drain(r);
	const char *reason = r->stop_reason ? r->stop_reason : "stopped";
	file_close(r, r->mix, reason);
	GHashTableIter it;
	gpointer v;
	g_hash_table_iter_init(&it, r->track_files);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		rec_file *f = v;
		if (f->wav || f->ogg)
			file_close(r, f, reason);
	}
	g_hash_table_remove_all(r->track_files);
	JANUS_LOG(LOG_INFO, "[switchboard] recording %s of room %s stopped (%s)\n", r->id,
	          r->room_name, reason);
	if (r->room) {
		sb_room_unref(r->room);
		r->room = NULL;
	}
	__atomic_sub_fetch(&stats.active, 1, __ATOMIC_RELAXED);
}

/* Moves a running recording to the stopping list (mutex held). */
static void request_stop_locked(recording *r, const char *reason)
{
	if (g_hash_table_lookup(by_room, r->room_name) != r)
		return;
	r->stop_reason = reason;
	g_atomic_int_set(&r->stopping, 1);
	rec_ref(&r->tap);
	g_ptr_array_add(stopping, r);
	g_hash_table_remove(by_room, r->room_name); /* drops the table's reference */
	g_cond_signal(&cond);
}

/* ---- starting ---- */

static recording *recording_new(sb_room *room, sb_rec_format format, bool tracks)
{
	recording *r = g_new0(recording, 1);
	r->tap.ops = &tap_ops;
	g_atomic_int_set(&r->tap.tracks, tracks);
	r->refs = 1;
	r->id = g_uuid_string_random();
	r->room_name = g_strdup(room->name);
	sb_room_ref(room);
	r->room = room;
	r->format = format;
	r->tracks = tracks;
	r->rate = room->sampling_rate;
	r->started_ms = g_get_real_time() / 1000;
	g_mutex_init(&r->ring_mutex);
	r->ring = g_new(ring_slot, RING_SLOTS);
	r->track_files = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
	                                       (GDestroyNotify)file_free);
	/* Room names are [A-Za-z0-9._-]: never a path separator. */
	GDateTime *now = g_date_time_new_now_utc();
	char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
	g_date_time_unref(now);
	char *name = g_strdup_printf("%s-%s-%.8s", room->name, stamp, r->id);
	r->base = g_build_filename(config.dir, name, NULL);
	g_free(name);
	g_free(stamp);
	return r;
}

sb_rec_result sb_recorder_start(sb_room *room, sb_rec_format format, bool tracks, json_t **out,
                                char **error)
{
	*out = NULL;
	*error = NULL;
	g_mutex_lock(&mutex);
	/* Checked under the lock: shutdown clears running under it too, so no
	 * recording starts once the writer is on its way out. */
	if (!g_atomic_int_get(&running) || !by_room) {
		g_mutex_unlock(&mutex);
		*error = g_strdup("Recording is off");
		return SB_REC_OFF;
	}
	if (g_hash_table_lookup(by_room, room->name)) {
		g_mutex_unlock(&mutex);
		*error = g_strdup_printf("Room %s is already being recorded", room->name);
		return SB_REC_ALREADY;
	}
	/* Each recording is a ring, files and the writer's time: bounded. */
	if ((int)g_hash_table_size(by_room) >= config.max_active) {
		g_mutex_unlock(&mutex);
		*error = g_strdup_printf("Too many recordings at once (max_active = %d)",
		                         config.max_active);
		return SB_REC_LIMIT;
	}
	recording *r = recording_new(room, format, tracks);
	char *why = NULL;
	r->mix = file_open(r, 0, &why);
	if (!r->mix || !sb_room_set_tap(room, &r->tap)) {
		g_mutex_unlock(&mutex);
		if (r->mix) { /* another recording is still detaching */
			sb_rec_wav_close(r->mix->wav);
			sb_ogg_opus_close(r->mix->ogg);
			unlink(r->mix->path);
			*error = g_strdup_printf("Room %s is already being recorded", room->name);
		} else {
			*error = g_strdup_printf("Cannot record: %s", why ? why : "?");
		}
		g_free(why);
		bool already = r->mix != NULL;
		sb_room_unref(r->room);
		r->room = NULL;
		rec_unref(&r->tap);
		return already ? SB_REC_ALREADY : SB_REC_FAILED;
	}
	g_hash_table_insert(by_room, r->room_name, r); /* the creation reference */
	g_hash_table_remove(manual_stops, room->name);
	__atomic_add_fetch(&stats.active, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stats.started, 1, __ATOMIC_RELAXED);
	*out = json_pack("{sssssssbsI}", "id", r->id, "format", sb_rec_format_name(format), "path",
	                 r->mix->path, "tracks", tracks, "started", (json_int_t)r->started_ms);
	json_t *ev = file_event(r, r->mix);
	g_cond_signal(&cond);
	g_mutex_unlock(&mutex);
	/* Listeners may take locks of their own: never publish under ours. */
	sb_events_publish("recording_started", ev);
	JANUS_LOG(LOG_INFO, "[switchboard] recording room %s to %s\n", room->name, r->mix->path);
	return SB_REC_OK;
}

sb_rec_result sb_recorder_stop(sb_room *room, json_t **out)
{
	*out = NULL;
	g_mutex_lock(&mutex);
	recording *r = by_room ? g_hash_table_lookup(by_room, room->name) : NULL;
	if (!r) {
		g_mutex_unlock(&mutex);
		return SB_REC_NOT_RECORDING;
	}
	*out = json_pack("{ssssssss}", "id", r->id, "format", sb_rec_format_name(r->format), "path",
	                 r->mix->path, "state", "stopping");
	g_hash_table_add(manual_stops, g_strdup(room->name));
	rec_ref(&r->tap);
	request_stop_locked(r, "stopped");
	g_mutex_unlock(&mutex);
	/* Detach now, so a new recording may start at once; the writer
	 * finalises the files. */
	sb_room_remove_tap(room, &r->tap);
	rec_unref(&r->tap);
	return SB_REC_OK;
}

/* Writer thread: a room that wants recording by configuration. */
static void auto_start(const char *name)
{
	sb_room *room = sb_room_find(name);
	if (!room)
		return;
	if (!room->hidden && !sb_room_is_destroyed(room)) {
		json_t *out = NULL;
		char *error = NULL;
		sb_rec_result res =
		        sb_recorder_start(room, config.format, config.tracks, &out, &error);
		if (res == SB_REC_LIMIT) /* counted as every refusal of a limit */
			json_decref(sb_ops_limit_error("recordings", "%s", error));
		if (res != SB_REC_OK && res != SB_REC_ALREADY)
			JANUS_LOG(LOG_ERR, "[switchboard] cannot record room %s: %s\n", name,
			          error ? error : "?");
		json_decref(out);
		g_free(error);
	}
	sb_room_unref(room);
}

/* ---- the writer thread ---- */

static gpointer writer_main(gpointer data)
{
	(void)data;
	GPtrArray *live = g_ptr_array_new_with_free_func((GDestroyNotify)rec_unref);
	GPtrArray *done = g_ptr_array_new_with_free_func((GDestroyNotify)rec_unref);
	GPtrArray *starts = g_ptr_array_new_with_free_func(g_free);
	for (;;) {
		g_mutex_lock(&mutex);
		bool idle = g_hash_table_size(by_room) == 0 && stopping->len == 0 &&
		            auto_rooms->len == 0;
		if (g_atomic_int_get(&running)) {
			if (idle)
				g_cond_wait(&cond, &mutex);
			else if (stopping->len == 0 && auto_rooms->len == 0)
				g_cond_wait_until(&cond, &mutex,
				                  g_get_monotonic_time() +
				                          SB_FRAME_MS * G_TIME_SPAN_MILLISECOND);
		}
		bool run = g_atomic_int_get(&running);
		/* At shutdown every recording stops. */
		if (!run) {
			GList *all = g_hash_table_get_values(by_room);
			for (GList *l = all; l; l = l->next) {
				recording *r = l->data;
				rec_ref(&r->tap);
				request_stop_locked(r, "shutdown");
				rec_unref(&r->tap);
			}
			g_list_free(all);
		}
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, by_room);
		while (g_hash_table_iter_next(&it, NULL, &v)) {
			rec_ref(v);
			g_ptr_array_add(live, v);
		}
		g_ptr_array_extend_and_steal(done, stopping);
		stopping = g_ptr_array_new_with_free_func((GDestroyNotify)rec_unref);
		g_ptr_array_extend_and_steal(starts, auto_rooms);
		auto_rooms = g_ptr_array_new_with_free_func(g_free);
		g_mutex_unlock(&mutex);

		for (guint i = 0; i < starts->len; i++)
			auto_start(g_ptr_array_index(starts, i));
		g_ptr_array_set_size(starts, 0);
		for (guint i = 0; i < live->len; i++) {
			recording *r = g_ptr_array_index(live, i);
			drain(r);
			bool over = config.max_seconds > 0 &&
			            r->mix->frames >=
			                    (guint64)config.max_seconds * (1000 / SB_FRAME_MS);
			bool gone = sb_room_is_destroyed(r->room);
			if (over || gone) {
				g_mutex_lock(&mutex);
				request_stop_locked(r, over ? "max_seconds" : "room_closed");
				g_mutex_unlock(&mutex);
			}
		}
		g_ptr_array_set_size(live, 0);
		for (guint i = 0; i < done->len; i++)
			finish(g_ptr_array_index(done, i));
		g_ptr_array_set_size(done, 0);
		if (!run) {
			g_mutex_lock(&mutex);
			bool empty = stopping->len == 0 && g_hash_table_size(by_room) == 0;
			g_mutex_unlock(&mutex);
			if (empty)
				break;
		}
	}
	g_ptr_array_unref(live);
	g_ptr_array_unref(done);
	g_ptr_array_unref(starts);
	return NULL;
}

/* Bus listener (publisher's thread): only looks up and queues. */
static void on_event(json_t *ev, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *room = json_string_value(json_object_get(ev, "room"));
	if (!type || !room)
		return;
	bool closed = !strcmp(type, "room_closed");
	bool joined = !strcmp(type, "participant_joined");
	if (!closed && !joined)
		return;
	g_mutex_lock(&mutex);
	if (!by_room) {
		g_mutex_unlock(&mutex);
		return;
	}
	if (closed) {
		recording *r = g_hash_table_lookup(by_room, room);
		if (r)
			request_stop_locked(r, "room_closed");
		g_hash_table_remove(manual_stops, room);
	} else if (config.enabled && !g_hash_table_lookup(by_room, room) &&
	           !g_hash_table_contains(manual_stops, room)) {
		g_ptr_array_add(auto_rooms, g_strdup(room));
		g_cond_signal(&cond);
	}
	g_mutex_unlock(&mutex);
}

/* ---- lifecycle ---- */

bool sb_recorder_init(const sb_recorder_config *cfg, char **error)
{
	config = *cfg;
	config.dir = NULL;
	if (g_mkdir_with_parents(cfg->dir, 0750) != 0) {
		*error = g_strdup_printf("cannot create the recordings directory %s: %s", cfg->dir,
		                         g_strerror(errno));
		return false;
	}
	char *real = realpath(cfg->dir, NULL);
	if (!real || access(real, W_OK | X_OK) != 0) {
		*error = g_strdup_printf("the recordings directory %s is not writable: %s",
		                         cfg->dir, g_strerror(errno));
		free(real);
		return false;
	}
	dir_real = g_strdup(real);
	free(real);
	config.dir = dir_real;
	memset(&stats, 0, sizeof(stats));
	by_room = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)rec_unref);
	stopping = g_ptr_array_new_with_free_func((GDestroyNotify)rec_unref);
	auto_rooms = g_ptr_array_new_with_free_func(g_free);
	manual_stops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_atomic_int_set(&running, 1);
	GError *err = NULL;
	writer = g_thread_try_new("sb recorder", writer_main, NULL, &err);
	if (!writer) {
		*error = g_strdup_printf("cannot start the recorder thread: %s",
		                         err ? err->message : "?");
		g_clear_error(&err);
		g_atomic_int_set(&running, 0);
		sb_recorder_shutdown();
		return false;
	}
	subscription = sb_events_subscribe(on_event, NULL);
	return true;
}

void sb_recorder_shutdown(void)
{
	if (subscription)
		sb_events_unsubscribe(subscription);
	subscription = 0;
	g_mutex_lock(&mutex);
	g_atomic_int_set(&running, 0);
	g_cond_signal(&cond);
	g_mutex_unlock(&mutex);
	if (writer)
		g_thread_join(writer);
	writer = NULL;
	g_mutex_lock(&mutex);
	g_clear_pointer(&by_room, g_hash_table_destroy);
	g_clear_pointer(&stopping, g_ptr_array_unref);
	g_clear_pointer(&auto_rooms, g_ptr_array_unref);
	g_clear_pointer(&manual_stops, g_hash_table_destroy);
	g_mutex_unlock(&mutex);
	g_clear_pointer(&dir_real, g_free);
	config.dir = NULL;
}

sb_rec_format sb_recorder_default_format(void)
{
	return config.format;
}
bool sb_recorder_default_tracks(void)
{
	return config.tracks;
}

bool sb_recorder_path_allowed(const char *path)
{
	if (!dir_real || !path)
		return false;
	char *real = realpath(path, NULL);
	size_t len = strlen(dir_real);
	struct stat st;
	bool ok = real && !strncmp(real, dir_real, len) && real[len] == '/' &&
	          stat(real, &st) == 0 && S_ISREG(st.st_mode);
	free(real);
	return ok;
}

void sb_recorder_get_stats(sb_recorder_stats *out)
{
	out->active = __atomic_load_n(&stats.active, __ATOMIC_RELAXED);
	out->bytes_written = __atomic_load_n(&stats.bytes_written, __ATOMIC_RELAXED);
	out->dropped = __atomic_load_n(&stats.dropped, __ATOMIC_RELAXED);
	out->started = __atomic_load_n(&stats.started, __ATOMIC_RELAXED);
	out->write_errors = __atomic_load_n(&stats.write_errors, __ATOMIC_RELAXED);
	out->max_active = config.max_active;
	out->max_seconds = config.max_seconds;
}
