/* Inside the recording module (private interface): the WAV and
 * Opus-in-Ogg writers and the recorder. */
#ifndef SB_RECORDING_RECORDING_PRIVATE_H
#define SB_RECORDING_RECORDING_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <glib.h>
#include <jansson.h>

#include "recording/recording.h"
#include "room/room.h"

/* ---- wav ----
 * WAV (RIFF, 16-bit PCM, mono) writer for recordings.  The header is
 * written first with "unknown" sizes, then fixed up every second and at
 * close, so a file cut short by a crash still opens in players. */
#define SB_REC_WAV_HEADER_BYTES 44

/* The 44-byte canonical header for data_bytes of 16-bit mono PCM at rate;
 * data_bytes = UINT32_MAX means "unknown" (streaming), as players expect. */
void sb_rec_wav_header(uint8_t out[SB_REC_WAV_HEADER_BYTES], int rate, uint32_t data_bytes);

typedef struct sb_rec_wav_writer sb_rec_wav_writer;

/* Creates path (fails if it exists); NULL with *error (g_free) on failure. */
sb_rec_wav_writer *sb_rec_wav_open(const char *path, int rate, char **error);
/* Appends samples; false on a write error (disk full …). */
bool sb_rec_wav_write(sb_rec_wav_writer *w, const int16_t *pcm, int samples);
/* Rewrites the header with the sizes so far (called about once a second). */
bool sb_rec_wav_sync(sb_rec_wav_writer *w);
/* Bytes in the file so far, header included. */
uint64_t sb_rec_wav_bytes(const sb_rec_wav_writer *w);
/* Fixes the header up, closes and frees; returns the file's size. */
uint64_t sb_rec_wav_close(sb_rec_wav_writer *w);

/* ---- ogg_opus ----
 * Opus-in-Ogg writer for recordings (RFC 7845 over RFC 3533), with the Ogg
 * pages built here: the CRC, lacing, granule positions at 48 kHz, the
 * OpusHead and OpusTags header packets.  Audio pages are flushed about once
 * a second, so a crash loses at most that much. */

/* Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, initial value 0). */
uint32_t sb_ogg_crc(const uint8_t *data, size_t len);

#define SB_OGG_CONTINUED 0x1
#define SB_OGG_BOS 0x2
#define SB_OGG_EOS 0x4
#define SB_OGG_MAX_SEGMENTS 255

/* Builds one page into out (capacity cap) from a segment table that is
 * already laced and its data; returns the page length, 0 if it does not
 * fit.  The CRC is computed over the page with its CRC field zero. */
size_t sb_ogg_page(uint8_t *out, size_t cap, uint8_t flags, uint64_t granule, uint32_t serial,
                   uint32_t sequence, const uint8_t *segments, int nsegments, const uint8_t *data,
                   size_t len);
/* Appends the lacing values of one packet of len bytes to segments;
 * returns the new count, or -1 when more than SB_OGG_MAX_SEGMENTS. */
int sb_ogg_lace(uint8_t *segments, int nsegments, size_t len);

/* The 19-byte OpusHead packet: version 1, mono/stereo, pre-skip at 48 kHz,
 * the input rate (informational), gain 0, mapping family 0. */
#define SB_OPUS_HEAD_BYTES 19
void sb_opus_head(uint8_t out[SB_OPUS_HEAD_BYTES], int channels, uint16_t preskip,
                  uint32_t input_rate);
/* The OpusTags packet with a vendor string and no comments; returns its
 * length (cap must be at least 16 + strlen(vendor)). */
size_t sb_opus_tags(uint8_t *out, size_t cap, const char *vendor);

typedef struct sb_ogg_opus_writer sb_ogg_opus_writer;

/* Creates path (fails if it exists) for mono audio at rate (8, 12, 16,
 * 24 or 48 kHz) in 20 ms frames; NULL with *error (g_free) on failure. */
sb_ogg_opus_writer *sb_ogg_opus_open(const char *path, int rate, int bitrate, char **error);
/* Encodes one 20 ms frame (rate / 50 samples); false on a write error. */
bool sb_ogg_opus_write(sb_ogg_opus_writer *w, const int16_t *pcm, int samples);
/* Writes the page in progress (called about once a second). */
bool sb_ogg_opus_sync(sb_ogg_opus_writer *w);
uint64_t sb_ogg_opus_bytes(const sb_ogg_opus_writer *w);
/* Writes the last page (end of stream), closes and frees; returns the
 * file's size. */
uint64_t sb_ogg_opus_close(sb_ogg_opus_writer *w);

/* ---- recorder ----
 * The room recorder: records a room's full mix (and, when asked, each
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

typedef enum { SB_REC_WAV = 0, SB_REC_OGG } sb_rec_format;

typedef struct sb_recorder_config {
	bool enabled;         /* record every room once somebody joins it */
	sb_rec_format format; /* default format */
	const char *dir;      /* where files go (created; must be writable) */
	bool tracks;          /* per-participant tracks by default */
	int max_seconds;      /* 0: no limit */
	int max_active;       /* recordings at once, in all rooms */
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
	SB_REC_LIMIT,  /* max_active recordings are running */
} sb_rec_result;

/* Starts recording room; *out gets {id, format, path, tracks, started}.
 * Otherwise the reason, and *error (g_free) says what went wrong. */
sb_rec_result sb_recorder_start(sb_room *room, sb_rec_format format, bool tracks, json_t **out,
                                char **error);
/* Stops the room's recording; *out gets {id, format, path}.  The files
 * are finalised by the writer thread (recording_stopped says when). */
sb_rec_result sb_recorder_stop(sb_room *room, json_t **out);
/* The configured defaults. */
sb_rec_format sb_recorder_default_format(void);
bool sb_recorder_default_tracks(void);
/* True when path is a regular file inside the recordings directory. */

typedef struct sb_recorder_stats {
	guint64 active;        /* recordings running */
	int max_active;        /* the limits in force */
	int max_seconds;
	guint64 bytes_written; /* bytes of audio files written since start */
	guint64 dropped;       /* frames dropped: a ring was full */
	guint64 started;       /* recordings started since start */
	guint64 write_errors;
} sb_recorder_stats;
void sb_recorder_get_stats(sb_recorder_stats *out);

#endif
