/* The room recorder: records a room's full mix (and, when asked, each
 * participant's own audio as a separate track) to WAV or Opus-in-Ogg.
 *
 * A recording listens to its room through the room's tap (room.h), not as
 * a participant: it is never listed, announced or counted, and never keeps
 * a room open or brings the agent in.  The mixer only copies frames into
 * the recording's bounded ring (what does not fit is dropped and counted);
 * one writer thread drains every ring, encodes and writes the files, and
 * finalises them when a recording stops (on request, at max_seconds, or
 * when its room closes).  Each file is announced on the bus with
 * recording_started / recording_stopped (the store keeps a row per file). */
#ifndef SB_RECORDER_H
#define SB_RECORDER_H

#include <stdbool.h>

#include <glib.h>
#include <jansson.h>

#include "room/room.h"

typedef enum { SB_REC_WAV = 0, SB_REC_OGG } sb_rec_format;

typedef struct sb_recorder_config {
	bool enabled;         /* record every room once somebody joins it */
	sb_rec_format format; /* default format */
	const char *dir;      /* where files go (created; must be writable) */
	bool tracks;          /* per-participant tracks by default */
	int max_seconds;      /* 0: no limit */
	int opus_bitrate;
} sb_recorder_config;

/* "wav" / "ogg"; false for anything else. */
bool sb_rec_format_parse(const char *name, sb_rec_format *out);
const char *sb_rec_format_name(sb_rec_format format);

/* Checks the directory, starts the writer thread and listens to the bus.
 * false with *error (g_free) when the directory is not usable. */
bool sb_recorder_init(const sb_recorder_config *config, char **error);
/* Stops every recording (files finalised), joins the writer thread. */
void sb_recorder_shutdown(void);

typedef enum {
	SB_REC_OK = 0,
	SB_REC_ALREADY, /* the room is being recorded */
	SB_REC_NOT_RECORDING,
	SB_REC_FAILED, /* the file could not be created */
	SB_REC_OFF,    /* the recorder is not running */
} sb_rec_result;

/* Starts recording room; *out gets {id, format, path, tracks, started}.
 * *message (g_free) says what went wrong otherwise. */
sb_rec_result sb_recorder_start(sb_room *room, sb_rec_format format, bool tracks, json_t **out,
                                char **message);
/* Stops the room's recording; *out gets {id, format, path}.  The files
 * are finalised by the writer thread (recording_stopped says when). */
sb_rec_result sb_recorder_stop(sb_room *room, json_t **out);
/* The configured defaults. */
sb_rec_format sb_recorder_default_format(void);
bool sb_recorder_default_tracks(void);
/* True when path is a regular file inside the recordings directory. */
bool sb_recorder_path_allowed(const char *path);

typedef struct sb_recorder_stats {
	guint64 active;        /* recordings running */
	guint64 bytes_written; /* bytes of audio files written since start */
	guint64 dropped;       /* frames dropped: a ring was full */
	guint64 started;       /* recordings started since start */
	guint64 write_errors;
} sb_recorder_stats;
void sb_recorder_get_stats(sb_recorder_stats *out);

#endif
