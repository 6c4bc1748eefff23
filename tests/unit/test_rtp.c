/* RTP parsing of untrusted input, and header writing. */
#include <glib.h>
#include <string.h>

#include "media/media.h"

static void test_roundtrip(void)
{
	uint8_t buf[64];
	size_t h = sb_rtp_write_header(buf, 111, true, 65535, 0xdeadbeef, 0x01020304);
	memcpy(buf + h, "abc", 3);
	sb_rtp_packet p;
	g_assert_true(sb_rtp_parse(buf, h + 3, 0, &p));
	g_assert_cmpint(p.payload_type, ==, 111);
	g_assert_true(p.marker);
	g_assert_cmpint(p.seq, ==, 65535);
	g_assert_cmpuint(p.timestamp, ==, 0xdeadbeef);
	g_assert_cmpuint(p.ssrc, ==, 0x01020304);
	g_assert_cmpuint(p.payload_len, ==, 3);
	g_assert_cmpmem(p.payload, 3, "abc", 3);
	g_assert_cmpint(p.audio_level, ==, -1);
}

static void test_audio_level_extension(void)
{
	uint8_t buf[64];
	size_t h = sb_rtp_write_header(buf, 0, false, 1, 160, 7);
	buf[0] |= 0x10;
	const uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x01, 0x10, 0x80 | 42, 0x00, 0x00};
	memcpy(buf + h, ext, sizeof(ext));
	buf[h + sizeof(ext)] = 0xff;
	sb_rtp_packet p;
	g_assert_true(sb_rtp_parse(buf, h + sizeof(ext) + 1, 1, &p));
	g_assert_cmpint(p.audio_level, ==, 42);
	g_assert_true(p.voice);
	g_assert_cmpuint(p.payload_len, ==, 1);
	g_assert_cmpint(p.payload[0], ==, 0xff);
	/* Another id: ignored. */
	g_assert_true(sb_rtp_parse(buf, h + sizeof(ext) + 1, 2, &p));
	g_assert_cmpint(p.audio_level, ==, -1);
}

static void test_rejects_garbage(void)
{
	uint8_t buf[64] = {0};
	sb_rtp_packet p;
	g_assert_false(sb_rtp_parse(NULL, 0, 0, &p));
	g_assert_false(sb_rtp_parse(buf, 11, 0, &p)); /* too short */
	buf[0] = 0x40;                                 /* version 1 */
	g_assert_false(sb_rtp_parse(buf, 20, 0, &p));
	buf[0] = 0x8f; /* 15 CSRCs, not there */
	g_assert_false(sb_rtp_parse(buf, 20, 0, &p));
	buf[0] = 0x90; /* extension header cut off */
	g_assert_false(sb_rtp_parse(buf, 14, 0, &p));
	buf[0] = 0x90; /* extension longer than the packet */
	buf[12] = 0xBE; buf[13] = 0xDE; buf[14] = 0x00; buf[15] = 0x09;
	g_assert_false(sb_rtp_parse(buf, 20, 1, &p));
	buf[0] = 0xa0; /* padding longer than the payload */
	buf[19] = 200;
	g_assert_false(sb_rtp_parse(buf, 20, 0, &p));
	buf[19] = 0;
	g_assert_false(sb_rtp_parse(buf, 20, 0, &p));
	/* Random bytes never crash the parser (and ASan watches). */
	GRand *r = g_rand_new_with_seed(42);
	for (int i = 0; i < 100000; i++) {
		size_t len = (size_t)g_rand_int_range(r, 0, 64);
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)g_rand_int(r);
		uint8_t *copy = g_memdup2(buf, len ? len : 1);
		if (sb_rtp_parse(copy, len, (int)(i % 15), &p))
			g_assert_true(p.payload + p.payload_len <= copy + len);
		g_free(copy);
	}
	g_rand_free(r);
}

static void test_rtcp_detection(void)
{
	uint8_t rr[8] = {0x81, 201, 0, 1, 0, 0, 0, 1};
	g_assert_true(sb_rtp_is_rtcp(rr, sizeof(rr)));
	uint8_t rtp[12];
	sb_rtp_write_header(rtp, 111, false, 1, 1, 1);
	g_assert_false(sb_rtp_is_rtcp(rtp, sizeof(rtp)));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtp/roundtrip", test_roundtrip);
	g_test_add_func("/rtp/audio-level-extension", test_audio_level_extension);
	g_test_add_func("/rtp/rejects-garbage", test_rejects_garbage);
	g_test_add_func("/rtp/rtcp-detection", test_rtcp_detection);
	return g_test_run();
}
