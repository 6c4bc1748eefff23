/* Unit tests for a participant's receive side (room/participant.c): what
 * the mixer pulls from a leg that sends no RFC 6464 levels, as phones and
 * PBXs do — silent frames skipped without decoding (Opus on its voice flag,
 * G.711 on the loudness in its bytes), and nothing loud ever skipped. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <opus.h>

#include "media/media.h"
#include "room/room.h"
#include "room/room_private.h"

/* The Janus logger and refcount switch: janus_log_stub.c. */

#define RATE 48000
#define FRAME 960
#define SILENCE_LEVEL 70 /* [general] silence_level's default */

typedef struct leg {
	sb_participant *pub;
	OpusEncoder *enc;
	uint16_t seq;
	uint32_t ts;
	int inactive_flags; /* packets sent with Opus's voice flag off */
} leg;

static void leg_open(leg *l, int complexity)
{
	memset(l, 0, sizeof(*l));
	sb_participant_params params = {
	        .kind = SB_KIND_RTP,
	        .display = "phone",
	        .codec = SB_CODEC_OPUS,
	        .payload_type = 111,
	        .audio_level_ext_id = 0, /* no levels */
	        .sampling_rate = RATE,
	        .jitter_min_frames = 1,
	        .jitter_max_frames = 10,
	};
	l->pub = sb_participant_new(&params);
	g_assert_nonnull(l->pub);
	int err = 0;
	l->enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
	g_assert_cmpint(err, ==, OPUS_OK);
	opus_encoder_ctl(l->enc, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(l->enc, OPUS_SET_COMPLEXITY(complexity));
	opus_encoder_ctl(l->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}

static void leg_close(leg *l)
{
	sb_participant_unref(l->pub);
	opus_encoder_destroy(l->enc);
}

/* Sends one frame as an RTP packet with no header extension, then pulls
 * the frame due: its level, SB_LEVEL_SILENT_SKIPPED or -1 (nothing yet). */
static int leg_send_and_pull(leg *l, const int16_t *pcm)
{
	uint8_t packet[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD];
	size_t header = sb_rtp_write_header(packet, 111, false, l->seq++, l->ts, 0x1234);
	l->ts += FRAME;
	int bytes = opus_encode(l->enc, pcm, FRAME, packet + header, SB_MAX_PAYLOAD);
	g_assert_cmpint(bytes, >, 1);
	l->inactive_flags +=
	        sb_opus_voice_flag(packet + header, (size_t)bytes) == SB_VOICE_INACTIVE;
	sb_participant_incoming_rtp(l->pub, packet, header + (size_t)bytes, -1);
	return sb_participant_pull(participant_priv_of(l->pub), FRAME, SILENCE_LEVEL);
}

static void tone(int16_t *out, int frame, double amplitude)
{
	for (int i = 0; i < FRAME; i++)
		out[i] = (int16_t)lrint(amplitude *
		                        sin(2.0 * G_PI * 1000.0 * (frame * FRAME + i) / RATE));
}

/* Silence is skipped, but one frame in five is still decoded: the flag
 * alone never decides. */
static void test_silence_mostly_skipped(void)
{
	leg l;
	leg_open(&l, 10);
	static int16_t silence[FRAME];
	int skipped = 0, decoded = 0;
	for (int f = 0; f < 100; f++) {
		int level = leg_send_and_pull(&l, silence);
		if (f < 10)
			continue; /* the encoder and jitter buffer settle */
		if (level == SB_LEVEL_SILENT_SKIPPED)
			skipped++;
		else if (level >= 0) {
			decoded++;
			g_assert_cmpint(level, >=, SILENCE_LEVEL);
		}
	}
	g_assert_cmpint(skipped + decoded, ==, 90);
	g_assert_cmpint(decoded, >=, 90 / 5);
	g_assert_cmpint(decoded, <=, 90 / 5 + 1);
	leg_close(&l);
}

/* A loud steady tone that the encoder stops calling speech: every frame
 * is decoded (and would be mixed), none skipped. */
static void test_loud_without_voice_flag_is_never_skipped(void)
{
	leg l;
	leg_open(&l, 10);
	int16_t pcm[FRAME];
	int skipped = 0, loud = 0;
	for (int f = 0; f < 150; f++) {
		tone(pcm, f, 3277.0); /* -20 dBov */
		int level = leg_send_and_pull(&l, pcm);
		skipped += level == SB_LEVEL_SILENT_SKIPPED;
		loud += level >= 0 && level < SILENCE_LEVEL;
	}
	/* The case is real: libopus flagged most of the tone inactive. */
	g_assert_cmpint(l.inactive_flags, >, 50);
	g_assert_cmpint(skipped, ==, 0);
	g_assert_cmpint(loud, >=, 145);
	leg_close(&l);
}

/* Speech after silence is decoded from its first frame. */
static void test_onset_after_silence_is_decoded_at_once(void)
{
	leg l;
	leg_open(&l, 10);
	static int16_t silence[FRAME];
	int16_t pcm[FRAME];
	for (int f = 0; f < 30; f++)
		leg_send_and_pull(&l, silence);
	tone(pcm, 30, 12000.0);
	int level = leg_send_and_pull(&l, pcm);
	g_assert_cmpint(level, !=, SB_LEVEL_SILENT_SKIPPED);
	g_assert_cmpint(level, >=, 0);
	leg_close(&l);
}

/* G.711: silence is never decoded, a quiet voice always is. */
static void test_g711_silence_skipped(void)
{
	sb_participant_params params = {
	        .kind = SB_KIND_SIP,
	        .codec = SB_CODEC_PCMU,
	        .payload_type = 0,
	        .sampling_rate = 16000,
	        .jitter_min_frames = 1,
	        .jitter_max_frames = 10,
	};
	sb_participant *pub = sb_participant_new(&params);
	g_assert_nonnull(pub);
	sb_encoder *enc = sb_encoder_new(SB_CODEC_PCMU, 8000, NULL);
	uint8_t packet[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD];
	int16_t pcm[160];
	int skipped = 0, heard = 0;
	for (int f = 0; f < 40; f++) {
		/* 20 frames of line noise at about -80 dBov, then a voice at -50 */
		double amplitude = f < 20 ? 3.0 : 100.0;
		for (int i = 0; i < 160; i++)
			pcm[i] = (int16_t)lrint(amplitude *
			                        sin(2.0 * G_PI * 440.0 * (f * 160 + i) / 8000));
		size_t header =
		        sb_rtp_write_header(packet, 0, false, (uint16_t)f, (uint32_t)f * 160, 7);
		int bytes = sb_encoder_encode(enc, pcm, packet + header, SB_MAX_PAYLOAD);
		sb_participant_incoming_rtp(pub, packet, header + (size_t)bytes, -1);
		int level = sb_participant_pull(participant_priv_of(pub), 320, SILENCE_LEVEL);
		if (f < 20)
			skipped += level == SB_LEVEL_SILENT_SKIPPED;
		else
			heard += level >= 0 && level < SILENCE_LEVEL;
	}
	g_assert_cmpint(skipped, >=, 19); /* all but what the jitter buffer held back */
	g_assert_cmpint(heard, >=, 19);
	sb_encoder_free(enc);
	sb_participant_unref(pub);
}

/* A phone caller says a word, then is quiet (frames skipped), then a packet
 * is lost: the loss is concealed as the silence around it, not as the last
 * word said (the agent heard that as the caller speaking again). */
static void test_loss_after_skipped_silence_is_silent(void)
{
	sb_participant_params params = {
	        .kind = SB_KIND_SIP,
	        .codec = SB_CODEC_PCMU,
	        .payload_type = 0,
	        .sampling_rate = 16000,
	        .jitter_min_frames = 1,
	        .jitter_max_frames = 10,
	};
	sb_participant *pub = sb_participant_new(&params);
	g_assert_nonnull(pub);
	sb_encoder *enc = sb_encoder_new(SB_CODEC_PCMU, 8000, NULL);
	uint8_t packet[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD];
	int16_t pcm[160];
	int loud_after = 0, concealed_slots = 0, pulled_after = 0;
	for (int f = 0; f < 60; f++) {
		/* 20 frames of a voice at -20 dBov, then digital silence */
		double amplitude = f < 20 ? 3277.0 : 0.0;
		for (int i = 0; i < 160; i++)
			pcm[i] = (int16_t)lrint(amplitude *
			                        sin(2.0 * G_PI * 440.0 * (f * 160 + i) / 8000));
		if (f != 40 && f != 41) { /* two packets lost in the quiet */
			size_t header = sb_rtp_write_header(packet, 0, false, (uint16_t)f,
			                                    (uint32_t)f * 160, 7);
			int bytes = sb_encoder_encode(enc, pcm, packet + header, SB_MAX_PAYLOAD);
			sb_participant_incoming_rtp(pub, packet, header + (size_t)bytes, -1);
		}
		int level = sb_participant_pull(participant_priv_of(pub), 320, SILENCE_LEVEL);
		if (f >= 25) {
			pulled_after += level != -1;
			loud_after += level >= 0 && level < SILENCE_LEVEL;
			concealed_slots += level >= 0; /* skipped silence has no level */
		}
	}
	g_assert_cmpint(concealed_slots, >=, 1); /* the loss was played, concealed */
	g_assert_cmpint(pulled_after, >=, 33);
	g_assert_cmpint(loud_after, ==, 0);
	sb_encoder_free(enc);
	sb_participant_unref(pub);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/participant/no-levels/silence-mostly-skipped",
	                test_silence_mostly_skipped);
	g_test_add_func("/participant/no-levels/loud-never-skipped",
	                test_loud_without_voice_flag_is_never_skipped);
	g_test_add_func("/participant/no-levels/onset-decoded",
	                test_onset_after_silence_is_decoded_at_once);
	g_test_add_func("/participant/no-levels/g711-silence-skipped", test_g711_silence_skipped);
	g_test_add_func("/participant/no-levels/loss-after-silence",
	                test_loss_after_skipped_silence_is_silent);
	return g_test_run();
}
