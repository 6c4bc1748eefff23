/* The recording writers: the WAV header and a file read back (also as a
 * crash leaves it), the Ogg CRC, lacing and page layout, OpusHead and
 * OpusTags, and a whole Opus-in-Ogg file parsed page by page and decoded. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <opus.h>
#include <string.h>

#include "recording/recording_private.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void tone(int16_t *out, int n, int offset, double freq, int rate)
{
	for (int i = 0; i < n; i++)
		out[i] = (int16_t)(8000 * sin(2 * M_PI * freq * (offset + i) / rate));
}

/* Goertzel power of freq, normalised by the signal's energy. */
static double tone_share(const int16_t *pcm, int n, double freq, int rate)
{
	double k = 2 * cos(2 * M_PI * freq / rate), s1 = 0, s2 = 0, energy = 0;
	for (int i = 0; i < n; i++) {
		double s = pcm[i] + k * s1 - s2;
		s2 = s1;
		s1 = s;
		energy += (double)pcm[i] * pcm[i];
	}
	double power = s1 * s1 + s2 * s2 - k * s1 * s2;
	return energy > 0 ? power / (energy * n / 2) : 0;
}

static char *temp_path(const char *name)
{
	char *dir = g_dir_make_tmp("sb-rec-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, name, NULL);
	g_free(dir);
	return path;
}

static void remove_with_dir(char *path)
{
	char *dir = g_path_get_dirname(path);
	g_unlink(path);
	g_rmdir(dir);
	g_free(dir);
	g_free(path);
}

static void test_wav_header(void)
{
	uint8_t h[SB_REC_WAV_HEADER_BYTES];
	sb_rec_wav_header(h, 16000, 32000);
	g_assert_cmpmem(h, 4, "RIFF", 4);
	g_assert_cmpuint(rd32(h + 4), ==, 32000 + 36);
	g_assert_cmpmem(h + 8, 8, "WAVEfmt ", 8);
	g_assert_cmpuint(rd32(h + 16), ==, 16);
	g_assert_cmpuint(rd16(h + 20), ==, 1);     /* PCM */
	g_assert_cmpuint(rd16(h + 22), ==, 1);     /* mono */
	g_assert_cmpuint(rd32(h + 24), ==, 16000); /* rate */
	g_assert_cmpuint(rd32(h + 28), ==, 32000); /* bytes per second */
	g_assert_cmpuint(rd16(h + 32), ==, 2);
	g_assert_cmpuint(rd16(h + 34), ==, 16);
	g_assert_cmpmem(h + 36, 4, "data", 4);
	g_assert_cmpuint(rd32(h + 40), ==, 32000);
	/* Unknown length (still recording): both sizes at the maximum. */
	sb_rec_wav_header(h, 8000, UINT32_MAX);
	g_assert_cmpuint(rd32(h + 4), ==, UINT32_MAX);
	g_assert_cmpuint(rd32(h + 40), ==, UINT32_MAX);
}

static void test_wav_file(void)
{
	char *path = temp_path("a.wav");
	char *error = NULL;
	sb_rec_wav_writer *w = sb_rec_wav_open(path, 16000, &error);
	g_assert_null(error);
	g_assert_nonnull(w);
	/* A second writer on the same path is refused (never overwrites). */
	g_assert_null(sb_rec_wav_open(path, 16000, &error));
	g_assert_nonnull(error);
	g_clear_pointer(&error, g_free);

	int16_t frame[320];
	for (int f = 0; f < 60; f++) {
		tone(frame, 320, f * 320, 440, 16000);
		g_assert_true(sb_rec_wav_write(w, frame, 320));
		if (f == 49)
			g_assert_true(sb_rec_wav_sync(w));
	}
	/* What a crash after the sync at 50 frames leaves: a valid header
	 * that covers 50 frames, more data after it. */
	gchar *data = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpuint(len, ==, 44 + 60 * 640);
	g_assert_cmpuint(rd32((uint8_t *)data + 40), ==, 50 * 640);
	g_free(data);

	g_assert_cmpuint(sb_rec_wav_close(w), ==, 44 + 60 * 640);
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpuint(len, ==, 44 + 60 * 640);
	const uint8_t *u = (const uint8_t *)data;
	g_assert_cmpuint(rd32(u + 4), ==, len - 8);
	g_assert_cmpuint(rd32(u + 40), ==, 60 * 640);
	int16_t pcm[60 * 320];
	for (int i = 0; i < 60 * 320; i++)
		pcm[i] = (int16_t)rd16(u + 44 + 2 * i);
	int16_t expect[320];
	tone(expect, 320, 59 * 320, 440, 16000);
	g_assert_cmpmem(pcm + 59 * 320, 640, expect, 640);
	g_assert_cmpfloat(tone_share(pcm, 60 * 320, 440, 16000), >, 0.9);
	g_free(data);
	remove_with_dir(path);
}

static void test_ogg_crc(void)
{
	/* CRC-32/POSIX without its final inversion (0x765e7680 inverted). */
	g_assert_cmphex(sb_ogg_crc((const uint8_t *)"123456789", 9), ==, 0x89a1897f);
	g_assert_cmphex(sb_ogg_crc((const uint8_t *)"", 0), ==, 0);
}

static void test_ogg_lacing(void)
{
	uint8_t seg[SB_OGG_MAX_SEGMENTS];
	g_assert_cmpint(sb_ogg_lace(seg, 0, 0), ==, 1);
	g_assert_cmpuint(seg[0], ==, 0);
	g_assert_cmpint(sb_ogg_lace(seg, 0, 255), ==, 2);
	g_assert_cmpuint(seg[0], ==, 255);
	g_assert_cmpuint(seg[1], ==, 0);
	g_assert_cmpint(sb_ogg_lace(seg, 0, 300), ==, 2);
	g_assert_cmpuint(seg[1], ==, 45);
	g_assert_cmpint(sb_ogg_lace(seg, 0, 100), ==, 1);
	g_assert_cmpint(sb_ogg_lace(seg, 1, 100), ==, 2);
	g_assert_cmpint(sb_ogg_lace(seg, 254, 255), ==, -1); /* needs two, one left */
	g_assert_cmpint(sb_ogg_lace(seg, 254, 254), ==, 255);
}

static void test_ogg_page(void)
{
	uint8_t seg[] = {3, 2}, data[] = {1, 2, 3, 4, 5}, page[64];
	size_t n = sb_ogg_page(page, sizeof(page), SB_OGG_BOS, 0x0102030405060708ull, 0xdeadbeef, 7,
	                       seg, 2, data, 5);
	g_assert_cmpuint(n, ==, 27 + 2 + 5);
	g_assert_cmpmem(page, 4, "OggS", 4);
	g_assert_cmpuint(page[4], ==, 0);
	g_assert_cmpuint(page[5], ==, SB_OGG_BOS);
	g_assert_cmpuint(rd32(page + 6), ==, 0x05060708);
	g_assert_cmpuint(rd32(page + 10), ==, 0x01020304);
	g_assert_cmphex(rd32(page + 14), ==, 0xdeadbeef);
	g_assert_cmpuint(rd32(page + 18), ==, 7);
	g_assert_cmpuint(page[26], ==, 2);
	g_assert_cmpmem(page + 29, 5, data, 5);
	uint32_t crc = rd32(page + 22);
	memset(page + 22, 0, 4);
	g_assert_cmphex(sb_ogg_crc(page, n), ==, crc);
	/* Too small a buffer: nothing. */
	g_assert_cmpuint(sb_ogg_page(page, 20, 0, 0, 0, 0, seg, 2, data, 5), ==, 0);
}

static void test_opus_head(void)
{
	uint8_t h[SB_OPUS_HEAD_BYTES];
	sb_opus_head(h, 1, 312, 16000);
	g_assert_cmpmem(h, 8, "OpusHead", 8);
	g_assert_cmpuint(h[8], ==, 1);
	g_assert_cmpuint(h[9], ==, 1);
	g_assert_cmpuint(rd16(h + 10), ==, 312);
	g_assert_cmpuint(rd32(h + 12), ==, 16000);
	g_assert_cmpuint(rd16(h + 16), ==, 0);
	g_assert_cmpuint(h[18], ==, 0);
	uint8_t t[64];
	size_t n = sb_opus_tags(t, sizeof(t), "vendor");
	g_assert_cmpuint(n, ==, 8 + 4 + 6 + 4);
	g_assert_cmpmem(t, 8, "OpusTags", 8);
	g_assert_cmpuint(rd32(t + 8), ==, 6);
	g_assert_cmpmem(t + 12, 6, "vendor", 6);
	g_assert_cmpuint(rd32(t + 18), ==, 0);
	g_assert_cmpuint(sb_opus_tags(t, 10, "vendor"), ==, 0);
}

/* Writes 3 s of 1 kHz at 16 kHz, then walks the pages: CRCs, sequence,
 * BOS/EOS, headers, granules, and the audio decoded again. */
static void test_ogg_file(void)
{
	const int rate = 16000, frame = 320, frames = 150;
	char *path = temp_path("a.ogg");
	char *error = NULL;
	sb_ogg_opus_writer *w = sb_ogg_opus_open(path, rate, 32000, &error);
	g_assert_null(error);
	g_assert_nonnull(w);
	int16_t pcm[320];
	g_assert_false(sb_ogg_opus_write(w, pcm, 100)); /* not a 20 ms frame */
	for (int f = 0; f < frames; f++) {
		tone(pcm, frame, f * frame, 1000, rate);
		g_assert_true(sb_ogg_opus_write(w, pcm, frame));
	}
	uint64_t bytes = sb_ogg_opus_close(w);

	gchar *data = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpuint(len, ==, bytes);
	uint8_t *u = (uint8_t *)data;
	size_t pos = 0;
	uint32_t seq = 0, serial = 0;
	uint16_t preskip = 0;
	uint64_t last_granule = 0;
	int packets = 0, pages = 0;
	bool eos = false;
	int err = 0;
	OpusDecoder *dec = opus_decoder_create(48000, 1, &err);
	g_assert_nonnull(dec);
	int16_t *out = g_new0(int16_t, 48000 * 4);
	int decoded = 0;
	while (pos < len) {
		g_assert_false(eos); /* nothing after the last page */
		g_assert_cmpuint(len - pos, >=, 27);
		g_assert_cmpmem(u + pos, 4, "OggS", 4);
		uint8_t flags = u[pos + 5];
		uint64_t granule = rd32(u + pos + 6) | (uint64_t)rd32(u + pos + 10) << 32;
		int nseg = u[pos + 26];
		size_t body = 0;
		for (int i = 0; i < nseg; i++)
			body += u[pos + 27 + i];
		size_t plen = 27 + (size_t)nseg + body;
		g_assert_cmpuint(pos + plen, <=, len);
		uint32_t crc = rd32(u + pos + 22);
		memset(u + pos + 22, 0, 4);
		g_assert_cmphex(sb_ogg_crc(u + pos, plen), ==, crc);
		if (pages == 0)
			serial = rd32(u + pos + 14);
		g_assert_cmpuint(rd32(u + pos + 14), ==, serial);
		g_assert_cmpuint(rd32(u + pos + 18), ==, seq++);
		g_assert_cmpint(!!(flags & SB_OGG_BOS), ==, pages == 0);
		eos = flags & SB_OGG_EOS;
		/* Packets of the page (lacing values < 255 end one). */
		const uint8_t *p = u + pos + 27 + nseg;
		size_t plen_acc = 0;
		for (int i = 0; i < nseg; i++) {
			plen_acc += u[pos + 27 + i];
			if (u[pos + 27 + i] == 255)
				continue;
			if (pages == 0) {
				g_assert_cmpuint(plen_acc, ==, SB_OPUS_HEAD_BYTES);
				g_assert_cmpmem(p, 8, "OpusHead", 8);
				g_assert_cmpuint(p[9], ==, 1);
				preskip = rd16(p + 10);
				g_assert_cmpuint(rd32(p + 12), ==, (uint32_t)rate);
			} else if (pages == 1) {
				g_assert_cmpmem(p, 8, "OpusTags", 8);
			} else {
				int n = opus_decode(dec, p, (opus_int32)plen_acc, out + decoded,
				                    5760, 0);
				g_assert_cmpint(n, ==, 960);
				decoded += n;
				packets++;
			}
			p += plen_acc;
			plen_acc = 0;
		}
		if (pages < 2) {
			g_assert_cmpuint(granule, ==, 0);
			g_assert_cmpint(nseg, ==, 1); /* each header alone on its page */
		} else {
			/* Granule: 48 kHz samples decoded so far (pre-skip among them). */
			g_assert_cmpuint(granule, ==, (uint64_t)packets * 960);
			g_assert_cmpuint(granule, >=, last_granule);
		}
		last_granule = granule;
		pos += plen;
		pages++;
	}
	g_assert_true(eos);
	g_assert_cmpint(packets, ==, frames);
	g_assert_cmpuint(preskip, >, 0);
	g_assert_cmpuint(last_granule, ==, (uint64_t)frames * 960);
	/* More than one audio page (about one a second), not one per packet. */
	g_assert_cmpint(pages, >=, 2 + 3);
	g_assert_cmpint(pages, <=, 2 + 5);
	/* The tone survives the codec (skip the start-up). */
	int skip = preskip + 4800;
	g_assert_cmpfloat(tone_share(out + skip, decoded - skip, 1000, 48000), >, 0.8);
	g_assert_cmpfloat(tone_share(out + skip, decoded - skip, 440, 48000), <, 0.01);
	g_free(out);
	opus_decoder_destroy(dec);
	g_free(data);
	remove_with_dir(path);
}

/* Stopped before any audio: still a stream players open (one silent
 * packet on an end-of-stream page after the two header pages). */
static void test_ogg_empty(void)
{
	char *path = temp_path("empty.ogg");
	char *error = NULL;
	sb_ogg_opus_writer *w = sb_ogg_opus_open(path, 48000, 32000, &error);
	g_assert_nonnull(w);
	uint64_t bytes = sb_ogg_opus_close(w);
	gchar *data = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	g_assert_cmpuint(len, ==, bytes);
	const uint8_t *u = (const uint8_t *)data;
	size_t pos = 0;
	int pages = 0;
	uint64_t granule = 0;
	uint8_t flags = 0;
	while (pos + 27 <= len) {
		g_assert_cmpmem(u + pos, 4, "OggS", 4);
		flags = u[pos + 5];
		granule = rd32(u + pos + 6) | (uint64_t)rd32(u + pos + 10) << 32;
		int nseg = u[pos + 26];
		size_t body = 0;
		for (int i = 0; i < nseg; i++)
			body += u[pos + 27 + i];
		pos += 27 + (size_t)nseg + body;
		pages++;
	}
	g_assert_cmpuint(pos, ==, len);
	g_assert_cmpint(pages, ==, 3);
	g_assert_true(flags & SB_OGG_EOS);
	g_assert_cmpuint(granule, ==, 960);
	g_free(data);
	remove_with_dir(path);
}

static void test_ogg_bad_rate(void)
{
	char *error = NULL;
	g_assert_null(sb_ogg_opus_open("/nonexistent/x.ogg", 44100, 32000, &error));
	g_assert_nonnull(error);
	g_free(error);
	error = NULL;
	g_assert_null(sb_ogg_opus_open("/nonexistent/x.ogg", 16000, 32000, &error));
	g_assert_nonnull(strstr(error, "/nonexistent/x.ogg"));
	g_free(error);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/recording/wav/header", test_wav_header);
	g_test_add_func("/recording/wav/file", test_wav_file);
	g_test_add_func("/recording/ogg/crc", test_ogg_crc);
	g_test_add_func("/recording/ogg/lacing", test_ogg_lacing);
	g_test_add_func("/recording/ogg/page", test_ogg_page);
	g_test_add_func("/recording/opus/head", test_opus_head);
	g_test_add_func("/recording/ogg/file", test_ogg_file);
	g_test_add_func("/recording/ogg/empty", test_ogg_empty);
	g_test_add_func("/recording/ogg/bad-input", test_ogg_bad_rate);
	return g_test_run();
}
