/* What a SIP peer controls before any trust: the SDP of its INVITE (parse,
 * choose, build the answer), an Authorization header, an X-Room-Signature,
 * a SIP INFO body, and telephone-event payloads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "media/media.h"
#include "sip/sip_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	switch (data[0] % 5) {
	case 0: {
		sb_sdp sdp;
		char *why = NULL;
		if (sb_sdp_parse(text, len, &sdp, &why)) {
			sb_codec_id prefs[] = {SB_CODEC_G722, SB_CODEC_OPUS, SB_CODEC_PCMU,
			                       SB_CODEC_PCMA};
			sb_sdp_choice c;
			if (sb_sdp_choose(&sdp, prefs, 4, &c)) {
				sb_sdp_local l = {.ip = sdp.ip,
				                  .port = sdp.port,
				                  .answer = &c,
				                  .direction =
				                          sb_sdp_answer_direction(sdp.direction)};
				g_free(sb_sdp_build(&l));
			}
			sb_sdp_choose_answer(&sdp, &c);
		}
		g_free(why);
		break;
	}
	case 1: {
		char *value = g_strndup(text, len);
		sb_digest_credentials creds;
		char *storage = NULL;
		if (sb_digest_parse(value, &creds, &storage))
			sb_digest_verify(&creds, "INVITE", "u", "p", "r", "secret", 1700000000,
			                 300);
		g_free(storage);
		g_free(value);
		break;
	}
	case 4: {
		char *sig = g_strndup(text, len);
		sip_room_verify("a-secret-of-at-least-32-bytes-0123456789", "room", sig,
		                1700000000);
		g_free(sig);
		break;
	}
	case 2:
		sb_dtmf_from_info("application/dtmf-relay", text, len);
		sb_dtmf_from_info("application/dtmf", text, len);
		break;
	default: {
		sb_dtmf_detector d = {0};
		for (size_t o = 0; o + 4 <= len; o += 4)
			sb_dtmf_detect(&d, (uint32_t)o / 8, data + 1 + o, 4);
		sb_dtmf_sender s;
		sb_dtmf_sender_init(&s);
		char *digits = g_strndup(text, len < 40 ? len : 40);
		sb_dtmf_sender_push(&s, digits);
		g_free(digits);
		uint8_t payload[4];
		uint32_t ts;
		bool marker;
		for (int i = 0; i < 400; i++)
			sb_dtmf_sender_next(&s, (uint32_t)i * 160, 160, payload, &ts, &marker);
		break;
	}
	}
	return 0;
}
