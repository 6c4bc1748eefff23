#include "media/media.h"

static uint16_t read16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t read32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* RFC 8285 one-byte header extensions (profile 0xBEDE). */
static void parse_one_byte_extensions(const uint8_t *ext, size_t len, int level_id,
                                      sb_rtp_packet *out)
{
	size_t i = 0;
	while (i < len) {
		uint8_t b = ext[i];
		if (b == 0) { /* padding */
			i++;
			continue;
		}
		int id = b >> 4;
		size_t elen = (size_t)(b & 0x0f) + 1;
		if (id == 15 || i + 1 + elen > len)
			return;
		if (id == level_id) {
			out->voice = (ext[i + 1] & 0x80) != 0;
			out->audio_level = ext[i + 1] & 0x7f;
		}
		i += 1 + elen;
	}
}

bool sb_rtp_parse(const uint8_t *buf, size_t len, int audio_level_ext_id, sb_rtp_packet *out)
{
	if (buf == NULL || len < SB_RTP_HEADER_SIZE || (buf[0] >> 6) != 2)
		return false;
	size_t csrc = buf[0] & 0x0f;
	size_t offset = SB_RTP_HEADER_SIZE + 4 * csrc;
	if (offset > len)
		return false;
	out->payload_type = buf[1] & 0x7f;
	out->marker = (buf[1] & 0x80) != 0;
	out->seq = read16(buf + 2);
	out->timestamp = read32(buf + 4);
	out->ssrc = read32(buf + 8);
	out->audio_level = -1;
	out->voice = false;
	if (buf[0] & 0x10) {
		if (offset + 4 > len)
			return false;
		uint16_t profile = read16(buf + offset);
		size_t ext_len = 4 * (size_t)read16(buf + offset + 2);
		if (offset + 4 + ext_len > len)
			return false;
		if (profile == 0xBEDE && audio_level_ext_id > 0 && audio_level_ext_id < 15)
			parse_one_byte_extensions(buf + offset + 4, ext_len, audio_level_ext_id, out);
		offset += 4 + ext_len;
	}
	size_t end = len;
	if (buf[0] & 0x20) {
		uint8_t pad = buf[len - 1];
		if (pad == 0 || pad > end - offset)
			return false;
		end -= pad;
	}
	out->payload = buf + offset;
	out->payload_len = end - offset;
	return true;
}

bool sb_rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	if (len < 4 || (buf[0] >> 6) != 2)
		return false;
	uint8_t pt = buf[1] & 0x7f;
	return pt >= 64 && pt <= 95;
}

size_t sb_rtp_write_header(uint8_t *buf, uint8_t payload_type, bool marker, uint16_t seq,
                           uint32_t timestamp, uint32_t ssrc)
{
	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | (payload_type & 0x7f));
	buf[2] = (uint8_t)(seq >> 8);
	buf[3] = (uint8_t)seq;
	buf[4] = (uint8_t)(timestamp >> 24);
	buf[5] = (uint8_t)(timestamp >> 16);
	buf[6] = (uint8_t)(timestamp >> 8);
	buf[7] = (uint8_t)timestamp;
	buf[8] = (uint8_t)(ssrc >> 24);
	buf[9] = (uint8_t)(ssrc >> 16);
	buf[10] = (uint8_t)(ssrc >> 8);
	buf[11] = (uint8_t)ssrc;
	return SB_RTP_HEADER_SIZE;
}
