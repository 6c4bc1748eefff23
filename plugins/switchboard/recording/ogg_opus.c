/* The Opus-in-Ogg writer: pages, lacing and granules by hand (RFC 3533,
 * RFC 7845), so a file is valid up to its last page even when the process
 * dies mid-call (recording_private.h, section ogg_opus). */
#include "recording/recording_private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <opus.h>

/* One page holds at most 255 segments of 255 bytes. */
#define PAGE_DATA_MAX (SB_OGG_MAX_SEGMENTS * 255)
#define PAGE_MAX (27 + SB_OGG_MAX_SEGMENTS + PAGE_DATA_MAX)
/* Audio pages are written once they hold this many 20 ms packets. */
#define PACKETS_PER_PAGE 50
#define GRANULE_PER_FRAME 960 /* 20 ms at 48 kHz, whatever the input rate */

struct sb_ogg_opus_writer {
	int fd;
	OpusEncoder *enc;
	int rate;
	uint32_t serial, sequence;
	uint64_t granule; /* 48 kHz samples of the packets so far, pre-skip included */
	uint64_t bytes;
	uint8_t segments[SB_OGG_MAX_SEGMENTS];
	int nsegments;
	uint8_t data[PAGE_DATA_MAX];
	size_t len;
	int packets; /* pending in the page */
	uint8_t page[PAGE_MAX];
};

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t r = i << 24;
		for (int b = 0; b < 8; b++)
			r = (r & 0x80000000u) ? (r << 1) ^ 0x04c11db7u : r << 1;
		crc_table[i] = r;
	}
}

uint32_t sb_ogg_crc(const uint8_t *data, size_t len)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, (GThreadFunc)(void (*)(void))crc_init, NULL);
	uint32_t crc = 0;
	for (size_t i = 0; i < len; i++)
		crc = (crc << 8) ^ crc_table[((crc >> 24) & 0xff) ^ data[i]];
	return crc;
}

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t sb_ogg_page(uint8_t *out, size_t cap, uint8_t flags, uint64_t granule, uint32_t serial,
                   uint32_t sequence, const uint8_t *segments, int nsegments, const uint8_t *data,
                   size_t len)
{
	size_t total = 27 + (size_t)nsegments + len;
	if (nsegments < 0 || nsegments > SB_OGG_MAX_SEGMENTS || total > cap)
		return 0;
	memcpy(out, "OggS", 4);
	out[4] = 0; /* version */
	out[5] = flags;
	for (int i = 0; i < 8; i++)
		out[6 + i] = (uint8_t)(granule >> (8 * i));
	le32(out + 14, serial);
	le32(out + 18, sequence);
	le32(out + 22, 0);
	out[26] = (uint8_t)nsegments;
	memcpy(out + 27, segments, (size_t)nsegments);
	memcpy(out + 27 + nsegments, data, len);
	le32(out + 22, sb_ogg_crc(out, total));
	return total;
}

int sb_ogg_lace(uint8_t *segments, int nsegments, size_t len)
{
	/* len / 255 full segments, then one shorter (possibly 0) ends it. */
	size_t need = len / 255 + 1;
	if ((size_t)nsegments + need > SB_OGG_MAX_SEGMENTS)
		return -1;
	for (size_t i = 0; i + 1 < need; i++)
		segments[nsegments++] = 255;
	segments[nsegments++] = (uint8_t)(len % 255);
	return nsegments;
}

void sb_opus_head(uint8_t out[SB_OPUS_HEAD_BYTES], int channels, uint16_t preskip,
                  uint32_t input_rate)
{
	memcpy(out, "OpusHead", 8);
	out[8] = 1; /* version */
	out[9] = (uint8_t)channels;
	out[10] = (uint8_t)preskip, out[11] = (uint8_t)(preskip >> 8);
	le32(out + 12, input_rate);
	out[16] = 0, out[17] = 0; /* output gain */
	out[18] = 0;              /* mapping family 0: mono or stereo */
}

size_t sb_opus_tags(uint8_t *out, size_t cap, const char *vendor)
{
	size_t vlen = strlen(vendor);
	if (cap < 16 + vlen)
		return 0;
	memcpy(out, "OpusTags", 8);
	le32(out + 8, (uint32_t)vlen);
	memcpy(out + 12, vendor, vlen);
	le32(out + 12 + vlen, 0); /* no user comments */
	return 16 + vlen;
}

/* Writes one page made of a single packet (the headers). */
static bool write_packet_page(sb_ogg_opus_writer *w, uint8_t flags, const uint8_t *packet,
                              size_t len)
{
	uint8_t segments[SB_OGG_MAX_SEGMENTS];
	int n = sb_ogg_lace(segments, 0, len);
	size_t plen = n < 0 ? 0
	                    : sb_ogg_page(w->page, sizeof(w->page), flags, 0, w->serial,
	                                  w->sequence++, segments, n, packet, len);
	if (!plen || !sb_write_all(w->fd, w->page, plen))
		return false;
	w->bytes += plen;
	return true;
}

static bool flush_page(sb_ogg_opus_writer *w, uint8_t flags)
{
	if (w->packets == 0 && !(flags & SB_OGG_EOS))
		return true;
	size_t plen = sb_ogg_page(w->page, sizeof(w->page), flags, w->granule, w->serial,
	                          w->sequence++, w->segments, w->nsegments, w->data, w->len);
	w->nsegments = 0;
	w->len = 0;
	w->packets = 0;
	if (!plen || !sb_write_all(w->fd, w->page, plen))
		return false;
	w->bytes += plen;
	return true;
}

sb_ogg_opus_writer *sb_ogg_opus_open(const char *path, int rate, int bitrate, char **error)
{
	int err = 0;
	OpusEncoder *enc = opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &err);
	if (!enc) {
		*error = g_strdup_printf("Opus encoder at %d Hz: %s", rate, opus_strerror(err));
		return NULL;
	}
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		*error = g_strdup_printf("cannot create %s: %s", path, g_strerror(errno));
		opus_encoder_destroy(enc);
		return NULL;
	}
	sb_ogg_opus_writer *w = g_new0(sb_ogg_opus_writer, 1);
	w->fd = fd;
	w->enc = enc;
	w->rate = rate;
	w->serial = g_random_int();
	/* The decoder drops the encoder's look-ahead: pre-skip, at 48 kHz. */
	opus_int32 lookahead = 0;
	opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(&lookahead));
	uint16_t preskip = (uint16_t)((int64_t)lookahead * 48000 / rate);
	uint8_t head[SB_OPUS_HEAD_BYTES], tags[64];
	sb_opus_head(head, 1, preskip, (uint32_t)rate);
	size_t tlen = sb_opus_tags(tags, sizeof(tags), "Switchboard recorder");
	if (!write_packet_page(w, SB_OGG_BOS, head, sizeof(head)) ||
	    !write_packet_page(w, 0, tags, tlen)) {
		*error = g_strdup_printf("cannot write %s: %s", path, g_strerror(errno));
		close(fd);
		unlink(path);
		opus_encoder_destroy(enc);
		g_free(w);
		return NULL;
	}
	/* Granules count every decoded sample, the pre-skip included (RFC
	 * 7845 4.1): a player drops the first preskip samples and plays
	 * granule - preskip of them. */
	w->granule = 0;
	return w;
}

bool sb_ogg_opus_write(sb_ogg_opus_writer *w, const int16_t *pcm, int samples)
{
	if (samples != w->rate / 50)
		return false;
	uint8_t packet[1275]; /* the largest Opus packet */
	int len = opus_encode(w->enc, pcm, samples, packet, sizeof(packet));
	if (len < 0)
		return false;
	int n = sb_ogg_lace(w->segments, w->nsegments, (size_t)len);
	if (n < 0) { /* no room in this page: write it and start the next */
		if (!flush_page(w, 0))
			return false;
		n = sb_ogg_lace(w->segments, 0, (size_t)len);
	}
	w->nsegments = n;
	memcpy(w->data + w->len, packet, (size_t)len);
	w->len += (size_t)len;
	w->packets++;
	w->granule += GRANULE_PER_FRAME;
	return w->packets < PACKETS_PER_PAGE || flush_page(w, 0);
}

bool sb_ogg_opus_sync(sb_ogg_opus_writer *w)
{
	return flush_page(w, 0);
}

uint64_t sb_ogg_opus_bytes(const sb_ogg_opus_writer *w)
{
	return w->bytes;
}

uint64_t sb_ogg_opus_close(sb_ogg_opus_writer *w)
{
	if (!w)
		return 0;
	/* Players refuse a stream without audio: one frame of silence. */
	if (w->granule == 0) {
		int16_t zeros[960] = {0};
		sb_ogg_opus_write(w, zeros, w->rate / 50);
	}
	flush_page(w, SB_OGG_EOS);
	uint64_t bytes = w->bytes;
	close(w->fd);
	opus_encoder_destroy(w->enc);
	g_free(w);
	return bytes;
}
