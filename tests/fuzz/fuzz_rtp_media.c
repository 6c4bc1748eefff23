/* libFuzzer target for everything a remote RTP sender controls: the RTP
 * parser (header, CSRCs, extensions, padding), the jitter buffer's
 * sequence/timestamp handling, and every decoder on the payload. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sb_jitter *jb;
	static sb_decoder *dec[SB_CODEC_COUNT];
	if (!jb) {
		jb = sb_jitter_new(1, 10, 960);
		for (int c = 0; c < SB_CODEC_COUNT; c++)
			dec[c] = sb_decoder_new((sb_codec_id)c, 16000);
	}
	/* The first byte picks the audio-level extension id, as configured. */
	int ext_id = size > 0 ? data[0] % 16 : 0;
	sb_rtp_packet pkt;
	if (size < 1 || !sb_rtp_parse(data + 1, size - 1, ext_id, &pkt))
		return 0;
	if (pkt.payload + pkt.payload_len > data + size)
		__builtin_trap();
	sb_jitter_put_level(jb, pkt.seq, pkt.timestamp, pkt.payload, pkt.payload_len,
	                    pkt.audio_level);
	uint8_t payload[SB_MAX_PAYLOAD];
	size_t len;
	int level;
	int16_t pcm[SB_MAX_FRAME_SAMPLES];
	sb_jitter_result r = sb_jitter_get_level(jb, payload, &len, &level);
	sb_decoder *d = dec[pkt.payload_type % SB_CODEC_COUNT];
	if (r == SB_JITTER_PACKET && sb_decoder_decode(d, payload, len, pcm) < 0)
		sb_decoder_conceal(d, NULL, 0, pcm);
	else if (r == SB_JITTER_LOST)
		sb_decoder_conceal(d, len ? payload : NULL, len, pcm);
	return 0;
}
