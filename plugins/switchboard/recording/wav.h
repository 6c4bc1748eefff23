/* WAV (RIFF, 16-bit PCM, mono) writer for recordings.  The header is
 * written first with "unknown" sizes, then fixed up every second and at
 * close, so a file cut short by a crash still opens in players. */
#ifndef SB_REC_WAV_H
#define SB_REC_WAV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

#endif
