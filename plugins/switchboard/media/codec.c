/* Audio codecs for rooms: Opus, G.711 mu-law/A-law, G.722.
 *
 * Every frame is 20 ms of mono int16 PCM.  The mixer works at one rate per
 * room; codecs whose native rate differs (G.711 at 8 kHz, G.722 at 16 kHz)
 * are bridged with a speexdsp resampler per direction and stream, because the
 * resampler keeps filter history between frames.  Opus needs no resampler:
 * libopus encodes and decodes at 8, 16 or 48 kHz itself. */
#include "media/media.h"

#include <string.h>

#include <glib.h>
#include <opus.h>
#include <speex/speex_resampler.h>

/* spandsp's headers rely on telephony.h coming first (SPAN_DECLARE); the
 * umbrella <spandsp.h> would also drag in libtiff. */
#include <spandsp/telephony.h>

#include <spandsp/g722.h>

/* Quality 3 (speexdsp's "VoIP" preset) keeps a 1 kHz tone clean and costs
 * little, which matters with one resampler per participant per direction. */
#define RESAMPLER_QUALITY SPEEX_RESAMPLER_QUALITY_VOIP

#define OPUS_DEFAULT_BITRATE 32000
#define OPUS_DEFAULT_COMPLEXITY 10
/* FEC without an expected loss makes libopus spend no bits on it. */
#define OPUS_DEFAULT_LOSS_PCT 10

#define G722_BITRATE 64000

/* Repeating a frame hides a short gap; repeated much longer it turns into a
 * buzz, so the repetition fades out over this many frames (100 ms). */
#define PLC_FADE_FRAMES 5

typedef struct codec_info {
	const char *name;
	int payload_type;
	int rtp_clock;
	int native_rate; /* 0: follows the mixing rate (Opus) */
	uint32_t ts_step;
} codec_info;

static const codec_info codecs[SB_CODEC_COUNT] = {
        [SB_CODEC_OPUS] = {"opus", 111, 48000, 0, 960},
        [SB_CODEC_PCMU] = {"pcmu", 0, 8000, 8000, 160},
        [SB_CODEC_PCMA] = {"pcma", 8, 8000, 8000, 160},
        /* RFC 3551 keeps G.722's RTP clock at 8000 although it samples at 16 kHz. */
        [SB_CODEC_G722] = {"g722", 9, 8000, 16000, 160},
};

/* Other spellings seen in SDP, SIP trunk settings and Twilio parameters. */
static const struct {
	const char *alias;
	sb_codec_id codec;
} codec_aliases[] = {
        {"ulaw", SB_CODEC_PCMU}, {"mulaw", SB_CODEC_PCMU}, {"g711u", SB_CODEC_PCMU},
        {"alaw", SB_CODEC_PCMA}, {"g711a", SB_CODEC_PCMA},
};

static bool codec_valid(sb_codec_id codec)
{
	return (int)codec >= 0 && codec < SB_CODEC_COUNT;
}

static bool rate_valid(int rate)
{
	return rate == 8000 || rate == 16000 || rate == 48000;
}

const char *sb_codec_name(sb_codec_id codec)
{
	return codec_valid(codec) ? codecs[codec].name : "unknown";
}

bool sb_codec_from_name(const char *name, sb_codec_id *out)
{
	if (name == NULL)
		return false;
	for (int i = 0; i < SB_CODEC_COUNT; i++) {
		if (g_ascii_strcasecmp(name, codecs[i].name) == 0) {
			if (out)
				*out = (sb_codec_id)i;
			return true;
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(codec_aliases); i++) {
		if (g_ascii_strcasecmp(name, codec_aliases[i].alias) == 0) {
			if (out)
				*out = codec_aliases[i].codec;
			return true;
		}
	}
	return false;
}

int sb_codec_default_payload_type(sb_codec_id codec)
{
	return codec_valid(codec) ? codecs[codec].payload_type : -1;
}

int sb_codec_rtp_clock(sb_codec_id codec)
{
	return codec_valid(codec) ? codecs[codec].rtp_clock : 0;
}

uint32_t sb_codec_rtp_ts_step(sb_codec_id codec)
{
	return codec_valid(codec) ? codecs[codec].ts_step : 0;
}

/* ---- ITU-T G.711 ----
 * The conversions work on 16-bit samples: mu-law's 14-bit and A-law's 13-bit
 * ranges are the top bits, so a decoded value is scaled the same way. */

/* Adding the bias makes each mu-law segment start at a power of two, so the
 * segment number is simply the position of the highest set bit. */
#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

static uint8_t linear_to_ulaw(int16_t sample)
{
	int magnitude = sample;
	int sign = 0;

	if (magnitude < 0) {
		magnitude = -magnitude;
		sign = 0x80;
	}
	if (magnitude > ULAW_CLIP)
		magnitude = ULAW_CLIP;
	magnitude += ULAW_BIAS;

	int segment = 7;
	for (int mask = 0x4000; segment > 0 && !(magnitude & mask); mask >>= 1)
		segment--;
	int mantissa = (magnitude >> (segment + 3)) & 0x0F;
	/* Codes are sent inverted so that silence is not a run of zero bits. */
	return (uint8_t) ~(sign | (segment << 4) | mantissa);
}

static int16_t ulaw_to_linear(uint8_t code)
{
	code = (uint8_t)~code;
	int segment = (code & 0x70) >> 4;
	/* Half a step above the segment's base: the middle of the interval. */
	int value = (((code & 0x0F) << 3) + ULAW_BIAS) << segment;
	return (int16_t)((code & 0x80) ? ULAW_BIAS - value : value - ULAW_BIAS);
}

static uint8_t linear_to_alaw(int16_t sample)
{
	int value;
	int mask;

	/* A-law is sign-magnitude on 13 bits; negative values are floored so
	 * that -1 lands next to +0 instead of on it. */
	if (sample >= 0) {
		mask = 0xD5;
		value = sample >> 3;
	} else {
		mask = 0x55;
		value = (-(int)sample - 1) >> 3;
	}

	int segment = 0;
	while (segment < 7 && value >= (0x20 << segment))
		segment++;
	int mantissa = segment < 2 ? (value >> 1) & 0x0F : (value >> segment) & 0x0F;
	/* Even bits inverted (0x55) for the same line-coding reason as mu-law. */
	return (uint8_t)(((segment << 4) | mantissa) ^ mask);
}

static int16_t alaw_to_linear(uint8_t code)
{
	code ^= 0x55;
	int segment = (code & 0x70) >> 4;
	int value = (code & 0x0F) << 4;

	if (segment == 0)
		value += 8;
	else
		value = (value + 0x108) << (segment - 1);
	return (int16_t)((code & 0x80) ? value : -value);
}

/* ---- resampling ---- */

static SpeexResamplerState *resampler_new(int from, int to, bool *ok)
{
	int err = 0;

	*ok = true;
	if (from == to)
		return NULL;
	SpeexResamplerState *rs = speex_resampler_init(1, (spx_uint32_t)from, (spx_uint32_t)to,
	                                               RESAMPLER_QUALITY, &err);
	if (rs == NULL || err != RESAMPLER_ERR_SUCCESS) {
		if (rs)
			speex_resampler_destroy(rs);
		*ok = false;
		return NULL;
	}
	return rs;
}

/* The rates we use are integer multiples of each other, so a whole frame in
 * gives a whole frame out; padding only guards against a short count ever
 * reaching the mixer as a partial frame. */
static void resample_frame(SpeexResamplerState *rs, const int16_t *in, int in_samples, int16_t *out,
                           int out_samples)
{
	if (rs == NULL) {
		memcpy(out, in, (size_t)in_samples * sizeof(*in));
		return;
	}
	spx_uint32_t in_len = (spx_uint32_t)in_samples;
	spx_uint32_t out_len = (spx_uint32_t)out_samples;
	speex_resampler_process_int(rs, 0, in, &in_len, out, &out_len);
	int16_t pad = out_len > 0 ? out[out_len - 1] : 0;
	for (int i = (int)out_len; i < out_samples; i++)
		out[i] = pad;
}

/* ---- decoder ---- */

struct sb_decoder {
	sb_codec_id codec;
	int out_rate;
	int frame;            /* samples per frame at out_rate */
	int native_frame;     /* samples per frame at the codec's rate */
	size_t payload_bytes; /* fixed payload size of G.711/G.722 frames */
	OpusDecoder *opus;
	g722_decode_state_t *g722;
	SpeexResamplerState *resampler;
	/* Last good frame, repeated by G.711/G.722 concealment. */
	int16_t last[SB_MAX_FRAME_SAMPLES];
	bool have_last;
	int concealed; /* consecutive frames concealed since the last good one */
	bool skipped;  /* silence since the last decode (sb_decoder_skipped) */
};

sb_decoder *sb_decoder_new(sb_codec_id codec, int out_rate)
{
	if (!codec_valid(codec) || !rate_valid(out_rate))
		return NULL;

	sb_decoder *dec = g_new0(sb_decoder, 1);
	dec->codec = codec;
	dec->out_rate = out_rate;
	dec->frame = sb_frame_samples(out_rate);

	bool ok = true;
	int err = 0;
	switch (codec) {
	case SB_CODEC_OPUS:
		dec->native_frame = dec->frame;
		dec->opus = opus_decoder_create(out_rate, 1, &err);
		ok = dec->opus != NULL && err == OPUS_OK;
		break;
	case SB_CODEC_PCMU:
	case SB_CODEC_PCMA:
		dec->native_frame = sb_frame_samples(8000);
		dec->payload_bytes = (size_t)dec->native_frame;
		dec->resampler = resampler_new(8000, out_rate, &ok);
		break;
	case SB_CODEC_G722:
		dec->native_frame = sb_frame_samples(16000);
		/* 64 kbit/s: one byte per two 16 kHz samples. */
		dec->payload_bytes = (size_t)dec->native_frame / 2;
		dec->g722 = g722_decode_init(NULL, G722_BITRATE, 0);
		ok = dec->g722 != NULL;
		if (ok)
			dec->resampler = resampler_new(16000, out_rate, &ok);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		sb_decoder_free(dec);
		return NULL;
	}
	return dec;
}

void sb_decoder_free(sb_decoder *dec)
{
	if (dec == NULL)
		return;
	if (dec->opus)
		opus_decoder_destroy(dec->opus);
	if (dec->g722)
		g722_decode_free(dec->g722);
	if (dec->resampler)
		speex_resampler_destroy(dec->resampler);
	g_free(dec);
}

static void remember_good_frame(sb_decoder *dec, const int16_t *pcm)
{
	memcpy(dec->last, pcm, (size_t)dec->frame * sizeof(*pcm));
	dec->have_last = true;
	dec->concealed = 0;
}

static int decode_opus(sb_decoder *dec, const uint8_t *payload, size_t len, int16_t *pcm)
{
	/* The jitter buffer and the mixer count in 20 ms packets; a packet of
	 * another duration would silently shift the timeline, so refuse it. */
	if (opus_packet_get_nb_samples(payload, (opus_int32)len, dec->out_rate) != dec->frame)
		return -1;
	int got = opus_decode(dec->opus, payload, (opus_int32)len, pcm, dec->frame, 0);
	if (got != dec->frame)
		return -1;
	dec->skipped = false;
	return got;
}

int sb_decoder_decode(sb_decoder *dec, const uint8_t *payload, size_t len, int16_t *pcm)
{
	/* An empty payload means "lost" to libopus; here it is a bad packet. */
	if (dec == NULL || payload == NULL || pcm == NULL || len == 0 || len > SB_MAX_PAYLOAD)
		return -1;

	if (dec->codec == SB_CODEC_OPUS)
		return decode_opus(dec, payload, len, pcm);

	if (len != dec->payload_bytes)
		return -1;
	int16_t native[SB_MAX_FRAME_SAMPLES];
	switch (dec->codec) {
	case SB_CODEC_PCMU:
		for (size_t i = 0; i < len; i++)
			native[i] = ulaw_to_linear(payload[i]);
		break;
	case SB_CODEC_PCMA:
		for (size_t i = 0; i < len; i++)
			native[i] = alaw_to_linear(payload[i]);
		break;
	case SB_CODEC_G722:
		if (g722_decode(dec->g722, native, payload, (int)len) != dec->native_frame)
			return -1;
		break;
	default:
		return -1;
	}
	resample_frame(dec->resampler, native, dec->native_frame, pcm, dec->frame);
	remember_good_frame(dec, pcm);
	return dec->frame;
}

bool sb_decoder_accepts(const sb_decoder *dec, const uint8_t *payload, size_t len)
{
	if (dec == NULL || payload == NULL || len == 0 || len > SB_MAX_PAYLOAD)
		return false;
	if (dec->codec == SB_CODEC_OPUS)
		return opus_packet_get_nb_samples(payload, (opus_int32)len, dec->out_rate) ==
		       dec->frame;
	return len == dec->payload_bytes;
}

void sb_decoder_restart(sb_decoder *dec)
{
	if (dec == NULL)
		return;
	if (dec->opus)
		opus_decoder_ctl(dec->opus, OPUS_RESET_STATE);
	if (dec->g722)
		g722_decode_init(dec->g722, G722_BITRATE, 0);
	if (dec->resampler)
		speex_resampler_reset_mem(dec->resampler);
	dec->have_last = false;
	dec->concealed = 0;
	dec->skipped = false;
}

/* Repeats the last good frame under a gain that falls linearly from one
 * frame to the next (a ramp inside each frame avoids steps), then silence. */
static void conceal_by_repetition(sb_decoder *dec, int16_t *pcm)
{
	int n = dec->frame;

	if (!dec->have_last || dec->concealed >= PLC_FADE_FRAMES) {
		memset(pcm, 0, (size_t)n * sizeof(*pcm));
	} else {
		float from = 1.0f - (float)dec->concealed / PLC_FADE_FRAMES;
		float to = 1.0f - (float)(dec->concealed + 1) / PLC_FADE_FRAMES;
		for (int i = 0; i < n; i++) {
			float gain = from + (to - from) * (float)i / (float)n;
			pcm[i] = (int16_t)(dec->last[i] * gain);
		}
	}
	if (dec->concealed < PLC_FADE_FRAMES)
		dec->concealed++;
}

static void conceal_opus(sb_decoder *dec, const uint8_t *next, size_t next_len, int16_t *pcm)
{
	if (next != NULL && next_len > 0 && next_len <= SB_MAX_PAYLOAD) {
		/* The next packet's LBRR data describes the lost one; libopus
		 * falls back to its own PLC when that packet carries none. */
		if (opus_decode(dec->opus, next, (opus_int32)next_len, pcm, dec->frame, 1) ==
		    dec->frame)
			return;
	}
	/* libopus's own concealment carries on from its state, which after
	 * skipped silence is the voice before it. */
	if (dec->skipped || opus_decode(dec->opus, NULL, 0, pcm, dec->frame, 0) != dec->frame)
		memset(pcm, 0, (size_t)dec->frame * sizeof(*pcm));
}

sb_voice_flag sb_opus_voice_flag(const uint8_t *payload, size_t len)
{
	if (!payload || len < 2)
		return SB_VOICE_UNKNOWN;
	int config = payload[0] >> 3;
	int frames_code = payload[0] & 0x3;
	/* configs 0-11 SILK only, 12-15 hybrid (SILK first), 16-31 CELT only */
	if (config >= 16 || frames_code != 0)
		return SB_VOICE_UNKNOWN;
	/* The range decoder's first symbol with probability 1/2 is 1 exactly
	 * when the first coded bit is 1 (RFC 6716 4.1.1-4.1.3.1). */
	return (payload[1] & 0x80) ? SB_VOICE_ACTIVE : SB_VOICE_INACTIVE;
}

double sb_g711_mean_square(sb_codec_id codec, const uint8_t *payload, size_t len)
{
	if ((codec != SB_CODEC_PCMU && codec != SB_CODEC_PCMA) || !payload || len == 0)
		return -1.0;
	double sum = 0.0;
	for (size_t i = 0; i < len; i++) {
		double s = codec == SB_CODEC_PCMU ? ulaw_to_linear(payload[i]) : alaw_to_linear(payload[i]);
		sum += s * s;
	}
	return sum / (double)len;
}

void sb_decoder_skipped(sb_decoder *dec)
{
	if (dec == NULL)
		return;
	dec->skipped = true;
	dec->have_last = false; /* repetition: silence */
}

int sb_decoder_conceal(sb_decoder *dec, const uint8_t *next, size_t next_len, int16_t *pcm)
{
	if (dec == NULL || pcm == NULL)
		return -1;
	if (dec->codec == SB_CODEC_OPUS)
		conceal_opus(dec, next, next_len, pcm);
	else
		conceal_by_repetition(dec, pcm);
	return dec->frame;
}

/* ---- encoder ---- */

struct sb_encoder {
	sb_codec_id codec;
	int in_rate;
	int frame;        /* samples per frame at in_rate */
	int native_frame; /* samples per frame at the codec's rate */
	OpusEncoder *opus;
	g722_encode_state_t *g722;
	SpeexResamplerState *resampler;
};

static int clamp_int(int value, int low, int high)
{
	return value < low ? low : (value > high ? high : value);
}

static OpusEncoder *create_opus_encoder(int rate, const sb_encoder_options *opts)
{
	int err = 0;
	OpusEncoder *enc = opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, &err);
	if (enc == NULL || err != OPUS_OK)
		return NULL;

	int bitrate = OPUS_DEFAULT_BITRATE;
	int complexity = OPUS_DEFAULT_COMPLEXITY;
	bool fec = false;
	int loss_pct = 0;
	if (opts) {
		if (opts->bitrate > 0)
			bitrate = clamp_int(opts->bitrate, 6000, 510000);
		if (opts->complexity >= 0)
			complexity = clamp_int(opts->complexity, 0, 10);
		fec = opts->fec;
		if (fec)
			loss_pct = opts->expected_loss_pct > 0
			                   ? clamp_int(opts->expected_loss_pct, 1, 100)
			                   : OPUS_DEFAULT_LOSS_PCT;
	}
	if (opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate)) != OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity)) != OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(fec ? 1 : 0)) != OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(loss_pct)) != OPUS_OK ||
	    /* The jitter buffer treats a silent sender as gone; keep sending. */
	    opus_encoder_ctl(enc, OPUS_SET_DTX(0)) != OPUS_OK) {
		opus_encoder_destroy(enc);
		return NULL;
	}
	return enc;
}

sb_encoder *sb_encoder_new(sb_codec_id codec, int in_rate, const sb_encoder_options *opts)
{
	if (!codec_valid(codec) || !rate_valid(in_rate))
		return NULL;

	sb_encoder *enc = g_new0(sb_encoder, 1);
	enc->codec = codec;
	enc->in_rate = in_rate;
	enc->frame = sb_frame_samples(in_rate);

	bool ok = true;
	switch (codec) {
	case SB_CODEC_OPUS:
		enc->native_frame = enc->frame;
		enc->opus = create_opus_encoder(in_rate, opts);
		ok = enc->opus != NULL;
		break;
	case SB_CODEC_PCMU:
	case SB_CODEC_PCMA:
		enc->native_frame = sb_frame_samples(8000);
		enc->resampler = resampler_new(in_rate, 8000, &ok);
		break;
	case SB_CODEC_G722:
		enc->native_frame = sb_frame_samples(16000);
		enc->g722 = g722_encode_init(NULL, G722_BITRATE, 0);
		ok = enc->g722 != NULL;
		if (ok)
			enc->resampler = resampler_new(in_rate, 16000, &ok);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		sb_encoder_free(enc);
		return NULL;
	}
	return enc;
}

void sb_encoder_free(sb_encoder *enc)
{
	if (enc == NULL)
		return;
	if (enc->opus)
		opus_encoder_destroy(enc->opus);
	if (enc->g722)
		g722_encode_free(enc->g722);
	if (enc->resampler)
		speex_resampler_destroy(enc->resampler);
	g_free(enc);
}

int sb_encoder_encode(sb_encoder *enc, const int16_t *pcm, uint8_t *out, size_t max)
{
	if (enc == NULL || pcm == NULL || out == NULL || max == 0)
		return -1;

	if (enc->codec == SB_CODEC_OPUS) {
		opus_int32 room = max > SB_MAX_PAYLOAD ? SB_MAX_PAYLOAD : (opus_int32)max;
		int bytes = opus_encode(enc->opus, pcm, enc->frame, out, room);
		return bytes > 0 ? bytes : -1;
	}

	/* Checked before resampling so a refused call leaves no trace in the
	 * resampler's history. */
	size_t bytes = enc->codec == SB_CODEC_G722 ? (size_t)enc->native_frame / 2
	                                           : (size_t)enc->native_frame;
	if (max < bytes)
		return -1;
	int16_t native[SB_MAX_FRAME_SAMPLES];
	resample_frame(enc->resampler, pcm, enc->frame, native, enc->native_frame);
	switch (enc->codec) {
	case SB_CODEC_PCMU:
		for (int i = 0; i < enc->native_frame; i++)
			out[i] = linear_to_ulaw(native[i]);
		return enc->native_frame;
	case SB_CODEC_PCMA:
		for (int i = 0; i < enc->native_frame; i++)
			out[i] = linear_to_alaw(native[i]);
		return enc->native_frame;
	case SB_CODEC_G722:
		return g722_encode(enc->g722, out, native, enc->native_frame);
	default:
		return -1;
	}
}
