/* Opus-in-Ogg writer for recordings (RFC 7845 over RFC 3533), with the Ogg
 * pages built here: the CRC, lacing, granule positions at 48 kHz, the
 * OpusHead and OpusTags header packets.  Audio pages are flushed about once
 * a second, so a crash loses at most that much. */
#ifndef SB_REC_OGG_OPUS_H
#define SB_REC_OGG_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
