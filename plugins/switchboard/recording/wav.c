/* The WAV writer: a header with an open length, patched when the file is
 * closed, so a crash leaves a file players still read
 * (recording_private.h, section wav). */
#include "recording/recording_private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

struct sb_rec_wav_writer {
	int fd;
	int rate;
	uint64_t data_bytes;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

void sb_rec_wav_header(uint8_t out[SB_REC_WAV_HEADER_BYTES], int rate, uint32_t data_bytes)
{
	memcpy(out, "RIFF", 4);
	/* RIFF size is the file minus 8; "unknown" stays at the maximum. */
	put32(out + 4, data_bytes == UINT32_MAX ? UINT32_MAX : data_bytes + 36);
	memcpy(out + 8, "WAVEfmt ", 8);
	put32(out + 16, 16);                  /* fmt chunk size */
	put16(out + 20, 1);                   /* PCM */
	put16(out + 22, 1);                   /* mono */
	put32(out + 24, (uint32_t)rate);      /* sample rate */
	put32(out + 28, (uint32_t)rate * 2u); /* byte rate */
	put16(out + 32, 2);                   /* block align */
	put16(out + 34, 16);                  /* bits per sample */
	memcpy(out + 36, "data", 4);
	put32(out + 40, data_bytes);
}

sb_rec_wav_writer *sb_rec_wav_open(const char *path, int rate, char **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		*error = g_strdup_printf("cannot create %s: %s", path, g_strerror(errno));
		return NULL;
	}
	uint8_t h[SB_REC_WAV_HEADER_BYTES];
	sb_rec_wav_header(h, rate, UINT32_MAX);
	if (!sb_write_all(fd, h, sizeof(h))) {
		*error = g_strdup_printf("cannot write %s: %s", path, g_strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	sb_rec_wav_writer *w = g_new0(sb_rec_wav_writer, 1);
	w->fd = fd;
	w->rate = rate;
	return w;
}

bool sb_rec_wav_write(sb_rec_wav_writer *w, const int16_t *pcm, int samples)
{
	uint8_t buf[2 * 960];
	while (samples > 0) {
		int n = MIN(samples, 960);
		for (int i = 0; i < n; i++) /* WAV is little-endian whatever the host */
			put16(buf + 2 * i, (uint16_t)pcm[i]);
		if (!sb_write_all(w->fd, buf, (size_t)n * 2))
			return false;
		w->data_bytes += (uint64_t)n * 2;
		pcm += n;
		samples -= n;
	}
	return true;
}

bool sb_rec_wav_sync(sb_rec_wav_writer *w)
{
	/* Past 4 GiB the sizes cannot be said: leave them "unknown". */
	uint32_t data = w->data_bytes > UINT32_MAX - 36 ? UINT32_MAX : (uint32_t)w->data_bytes;
	uint8_t h[SB_REC_WAV_HEADER_BYTES];
	sb_rec_wav_header(h, w->rate, data);
	return pwrite(w->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
}

uint64_t sb_rec_wav_bytes(const sb_rec_wav_writer *w)
{
	return SB_REC_WAV_HEADER_BYTES + w->data_bytes;
}

uint64_t sb_rec_wav_close(sb_rec_wav_writer *w)
{
	if (!w)
		return 0;
	sb_rec_wav_sync(w);
	uint64_t bytes = sb_rec_wav_bytes(w);
	close(w->fd);
	g_free(w);
	return bytes;
}
