/* The recorder's faces: the start_recording / stop_recording operations
 * (Janus API, Admin API, REST), POST /rooms/{name}/recording, the [recording]
 * configuration and the module's lifecycle. */
#include "recording/recording.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "room/room.h"
#include "recording/recording_private.h"

static bool started;

static const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

static const sb_field start_fields[] = {
        {"room", SB_F_STRING, true, 128, 0},
        {"secret", SB_F_STRING, false, 256, 0},
        {"format", SB_F_STRING, false, 16, 0},
        {"tracks", SB_F_BOOLEAN, false, 0, 0},
        {NULL, 0, 0, 0, 0},
};

static json_t *op_start_recording(json_t *body, sb_op_ctx *ctx)
{
	json_t *err = sb_ops_check_fields(body, start_fields);
	if (err)
		return err;
	sb_rec_format format = sb_recorder_default_format();
	const char *fmt = str(body, "format");
	if (fmt && !sb_rec_format_parse(fmt, &format))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element (format must be \"ogg\" or \"wav\")");
	json_t *t = json_object_get(body, "tracks");
	bool tracks = t ? json_is_true(t) : sb_recorder_default_tracks();
	sb_room *room = NULL;
	if ((err = sb_ops_room(body, ctx, &room)))
		return err;
	json_t *info = NULL;
	char *error = NULL;
	sb_rec_result res = sb_recorder_start(room, format, tracks, &info, &error);
	json_t *r;
	switch (res) {
	case SB_REC_OK:
		r = json_pack("{sssssO}", "switchboard", "success", "room", room->name, "recording",
		              info);
		break;
	case SB_REC_ALREADY:
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "already_recording", 409, "%s",
		                       error);
		break;
	case SB_REC_OFF:
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "recording_off", 503, "%s", error);
		break;
	case SB_REC_LIMIT:
		r = sb_ops_limit_error("recordings", "%s", error);
		break;
	default:
		r = sb_ops_error_named(SB_ERROR_UNKNOWN, "recording_failed", 500, "%s", error);
		break;
	}
	json_decref(info);
	g_free(error);
	sb_room_unref(room);
	return r;
}

static const sb_field stop_fields[] = {
        {"room", SB_F_STRING, true, 128, 0},
        {"secret", SB_F_STRING, false, 256, 0},
        {NULL, 0, 0, 0, 0},
};

static json_t *op_stop_recording(json_t *body, sb_op_ctx *ctx)
{
	json_t *err = sb_ops_check_fields(body, stop_fields);
	if (err)
		return err;
	sb_room *room = NULL;
	if ((err = sb_ops_room(body, ctx, &room)))
		return err;
	json_t *info = NULL;
	json_t *r;
	if (sb_recorder_stop(room, &info) == SB_REC_OK) {
		r = json_pack("{sssssO}", "switchboard", "success", "room", room->name, "recording",
		              info);
	} else {
		r = sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "not_recording", 409,
		                       "Room %s is not being recorded", room->name);
	}
	json_decref(info);
	sb_room_unref(room);
	return r;
}

static const sb_op ops[] = {
        {"start_recording", op_start_recording, 0, SB_ACCESS_ROOM_ADMIN},
        {"stop_recording", op_stop_recording, 0, SB_ACCESS_ROOM_ADMIN},
};

/* POST /rooms/{name}/recording {"action":"start"|"stop", "format"?, "tracks"?} */
static int route_recording(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	const char *action = req->body ? str(req->body, "action") : NULL;
	if (!action || (strcmp(action, "start") && strcmp(action, "stop")))
		return sb_rest_error(out, 400, "invalid_request",
		                     "action must be \"start\" or \"stop\"");
	bool start = !strcmp(action, "start");
	json_t *op = json_pack("{ssss}", "request", start ? "start_recording" : "stop_recording",
	                       "room", req->param);
	json_t *v;
	if (start && (v = json_object_get(req->body, "format")))
		json_object_set(op, "format", v);
	if (start && (v = json_object_get(req->body, "tracks")))
		json_object_set(op, "tracks", v);
	json_t *r = sb_ops_run_trusted(op);
	int status = sb_rest_op_failed(r, out);
	if (status == 0) {
		*out = json_pack("{sssO}", "room", req->param, "recording",
		                 json_object_get(r, "recording"));
		status = start ? 201 : 200;
	}
	json_decref(r);
	return status;
}

static const sb_rest_route routes[] = {
        {"POST", "/rooms/{}/recording", route_recording, 0, NULL},
};

/* [recording] dir: default <state dir>/recordings, as the store's file. */
static char *recordings_dir(json_t *section)
{
	const char *dir = sb_section_string(section, "dir", NULL);
	if (dir && *dir)
		return g_strdup(dir);
	return sb_state_path("recordings");
}

static json_t *recording_stats(void)
{
	sb_recorder_stats st;
	sb_recorder_get_stats(&st);
	return json_pack("{sIsIsIsIsIsisi}", "active", (json_int_t)st.active, "started",
	                 (json_int_t)st.started, "bytes_written", (json_int_t)st.bytes_written,
	                 "frames_dropped", (json_int_t)st.dropped, "write_errors",
	                 (json_int_t)st.write_errors, "max_active", st.max_active, "max_seconds",
	                 st.max_seconds);
}

/* ---- metrics ---- */

static void recording_metrics(GString *out)
{
	sb_recorder_stats rs;
	sb_recorder_get_stats(&rs);
	sb_metrics_value(out, "switchboard_recordings_active", "gauge", "Recordings running.",
	       (long long)rs.active);
	sb_metrics_value(out, "switchboard_recordings_started_total", "counter", "Recordings started.",
	       (long long)rs.started);
	sb_metrics_value(out, "switchboard_recording_bytes_total", "counter",
	       "Bytes of recording files written.", (long long)rs.bytes_written);
	sb_metrics_value(out, "switchboard_recording_frames_dropped_total", "counter",
	       "Frames dropped: the recorder's writer fell behind.", (long long)rs.dropped);
	sb_metrics_value(out, "switchboard_recording_write_errors_total", "counter",
	       "Recording files that could not be created or written.", (long long)rs.write_errors);
}

bool sb_recording_module_start(const sb_settings *settings)
{
	sb_ops_register_stats("recordings", recording_stats);
	sb_metrics_register("recordings", recording_metrics);
	sb_ops_register(ops, G_N_ELEMENTS(ops));
	sb_rest_register(routes, G_N_ELEMENTS(routes));
	json_t *section = sb_settings_section(settings, "recording");
	sb_recorder_config cfg = {
	        .enabled = sb_section_bool(section, "enabled", false),
	        .tracks = sb_section_bool(section, "tracks", false),
	        /* A recording nobody stops ends after 4 h unless the config
	         * says otherwise (0: never, the operator's explicit choice). */
	        .max_seconds =
	                (int)sb_section_int(section, "max_seconds", 4 * 3600, 0, 7 * 24 * 3600),
	        .max_active = (int)sb_section_int(section, "max_active", 100, 0, 100000),
	        .opus_bitrate = settings->opus_bitrate > 0 ? settings->opus_bitrate : 32000,
	};
	const char *fmt = sb_section_string(section, "format", "ogg");
	if (!sb_rec_format_parse(fmt, &cfg.format)) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] [recording] format = \"%s\": use \"ogg\" or \"wav\"\n",
		          fmt);
		return false;
	}
	char *dir = recordings_dir(section);
	cfg.dir = dir;
	char *error = NULL;
	started = sb_recorder_init(&cfg, &error);
	if (!started)
		JANUS_LOG(LOG_ERR, "[switchboard] recording is OFF: %s\n", error ? error : "?");
	else
		JANUS_LOG(LOG_INFO, "[switchboard] recordings: %s (%s%s)\n", dir,
		          sb_rec_format_name(cfg.format), cfg.enabled ? ", every room" : "");
	g_free(error);
	g_free(dir);
	return started;
}

void sb_recording_module_stop(void)
{
	/* HTTP is down; the rooms are still there: finalise every file now,
	 * while the store can still take the rows. */
	if (started)
		sb_recorder_shutdown();
	started = false;
}
