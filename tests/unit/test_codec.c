/* Unit tests for the media codecs: mappings, G.711 against the standard,
 * a 1 kHz tone through every codec at every mixing rate, Opus FEC, PLC and
 * garbage input. */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <opus.h>

#include "media/media.h"

static const int mixing_rates[] = {8000, 16000, 48000};

typedef struct codec_case {
	sb_codec_id codec;
	int rate;
} codec_case;

/* ---- signal helpers ---- */

static void make_sine(int16_t *out, int samples, int rate, double freq, double amplitude, int start)
{
	for (int i = 0; i < samples; i++)
		out[i] = (int16_t)lrint(amplitude * sin(2.0 * G_PI * freq * (start + i) / rate));
}

/* |X(freq)|^2 over x[0..n), by the Goertzel recurrence. */
static double goertzel_power(const int16_t *x, int n, double freq, int rate)
{
	double coeff = 2.0 * cos(2.0 * G_PI * freq / rate);
	double s1 = 0.0, s2 = 0.0;

	for (int i = 0; i < n; i++) {
		double s0 = x[i] + coeff * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

static double energy(const int16_t *x, int n)
{
	double sum = 0.0;
	for (int i = 0; i < n; i++)
		sum += (double)x[i] * x[i];
	return sum;
}

static double rms(const int16_t *x, int n)
{
	return n > 0 ? sqrt(energy(x, n) / n) : 0.0;
}

/* Share of the window's energy at freq: 1.0 for a pure tone on a bin. */
static double tone_fraction(const int16_t *x, int n, double freq, int rate)
{
	double total = energy(x, n);
	return total > 0.0 ? 2.0 * goertzel_power(x, n, freq, rate) / (n * total) : 0.0;
}

static double correlation(const int16_t *a, const int16_t *b, int n)
{
	double ab = 0.0, aa = 0.0, bb = 0.0;
	for (int i = 0; i < n; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return aa > 0.0 && bb > 0.0 ? ab / sqrt(aa * bb) : 0.0;
}

/* ---- mappings ---- */

static void test_mappings(void)
{
	static const struct {
		sb_codec_id codec;
		const char *name;
		int pt;
		int clock;
		uint32_t step;
	} expected[] = {
	        {SB_CODEC_OPUS, "opus", 111, 48000, 960},
	        {SB_CODEC_PCMU, "pcmu", 0, 8000, 160},
	        {SB_CODEC_PCMA, "pcma", 8, 8000, 160},
	        {SB_CODEC_G722, "g722", 9, 8000, 160},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
		sb_codec_id parsed = SB_CODEC_COUNT;
		g_assert_cmpstr(sb_codec_name(expected[i].codec), ==, expected[i].name);
		g_assert_cmpint(sb_codec_default_payload_type(expected[i].codec), ==,
		                expected[i].pt);
		g_assert_cmpint(sb_codec_rtp_clock(expected[i].codec), ==, expected[i].clock);
		g_assert_cmpuint(sb_codec_rtp_ts_step(expected[i].codec), ==, expected[i].step);
		g_assert_true(sb_codec_from_name(expected[i].name, &parsed));
		g_assert_cmpint(parsed, ==, expected[i].codec);
	}

	sb_codec_id parsed = SB_CODEC_COUNT;
	g_assert_true(sb_codec_from_name("OPUS", &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_OPUS);
	g_assert_true(sb_codec_from_name("PCMU", &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_PCMU);
	g_assert_true(sb_codec_from_name("PcmA", &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_PCMA);
	g_assert_true(sb_codec_from_name("G722", &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_G722);
	g_assert_true(sb_codec_from_name("ulaw", &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_PCMU);
	g_assert_true(sb_codec_from_name("alaw", &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_PCMA);

	parsed = SB_CODEC_COUNT;
	g_assert_false(sb_codec_from_name("g729", &parsed));
	g_assert_false(sb_codec_from_name("", &parsed));
	g_assert_false(sb_codec_from_name("opus ", &parsed));
	g_assert_false(sb_codec_from_name(NULL, &parsed));
	g_assert_cmpint(parsed, ==, SB_CODEC_COUNT);

	g_assert_cmpstr(sb_codec_name(SB_CODEC_COUNT), ==, "unknown");
	g_assert_cmpint(sb_codec_default_payload_type(SB_CODEC_COUNT), ==, -1);
	g_assert_cmpint(sb_codec_rtp_clock(SB_CODEC_COUNT), ==, 0);
	g_assert_cmpuint(sb_codec_rtp_ts_step(SB_CODEC_COUNT), ==, 0);

	g_assert_cmpint(sb_frame_samples(8000), ==, 160);
	g_assert_cmpint(sb_frame_samples(16000), ==, 320);
	g_assert_cmpint(sb_frame_samples(48000), ==, SB_MAX_FRAME_SAMPLES);
}

static void test_constructors_reject_bad_arguments(void)
{
	g_assert_null(sb_decoder_new(SB_CODEC_COUNT, 8000));
	g_assert_null(sb_encoder_new(SB_CODEC_COUNT, 8000, NULL));
	for (int codec = 0; codec < SB_CODEC_COUNT; codec++) {
		g_assert_null(sb_decoder_new((sb_codec_id)codec, 44100));
		g_assert_null(sb_decoder_new((sb_codec_id)codec, 0));
		g_assert_null(sb_encoder_new((sb_codec_id)codec, 12345, NULL));
	}
	sb_decoder_free(NULL);
	sb_encoder_free(NULL);
}

/* ---- G.711 ---- */

/* Encodes and decodes n samples through 8 kHz G.711 (no resampling). */
static void g711_round_trip(sb_codec_id codec, const int16_t *in, uint8_t *codes, int16_t *out)
{
	sb_encoder *enc = sb_encoder_new(codec, 8000, NULL);
	sb_decoder *dec = sb_decoder_new(codec, 8000);
	g_assert_nonnull(enc);
	g_assert_nonnull(dec);
	g_assert_cmpint(sb_encoder_encode(enc, in, codes, 160), ==, 160);
	g_assert_cmpint(sb_decoder_decode(dec, codes, 160, out), ==, 160);
	sb_encoder_free(enc);
	sb_decoder_free(dec);
}

static void test_g711_known_vectors(void)
{
	/* ITU-T G.711 tables, with decoded values in 16-bit scale (the 14-bit
	 * mu-law value x4, the 13-bit A-law value x8). */
	static const struct {
		sb_codec_id codec;
		int16_t linear;
		uint8_t code;
		int16_t decoded;
	} vectors[] = {
	        {SB_CODEC_PCMU, 0, 0xFF, 0},         {SB_CODEC_PCMU, -1, 0x7F, 0},
	        {SB_CODEC_PCMU, 32767, 0x80, 32124}, {SB_CODEC_PCMU, -32768, 0x00, -32124},
	        {SB_CODEC_PCMU, 1000, 0xCE, 988},    {SB_CODEC_PCMU, -1000, 0x4E, -988},
	        {SB_CODEC_PCMA, 0, 0xD5, 8},         {SB_CODEC_PCMA, -1, 0x55, -8},
	        {SB_CODEC_PCMA, 32767, 0xAA, 32256}, {SB_CODEC_PCMA, -32768, 0x2A, -32256},
	        {SB_CODEC_PCMA, 1000, 0xFA, 1008},   {SB_CODEC_PCMA, -1000, 0x7A, -1008},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(vectors); i++) {
		int16_t in[160], out[160];
		uint8_t codes[160];
		for (int j = 0; j < 160; j++)
			in[j] = vectors[i].linear;
		g711_round_trip(vectors[i].codec, in, codes, out);
		g_assert_cmphex(codes[0], ==, vectors[i].code);
		g_assert_cmphex(codes[159], ==, vectors[i].code);
		g_assert_cmpint(out[0], ==, vectors[i].decoded);
	}
}

static void check_g711_round_trip(sb_codec_id codec)
{
	int16_t in[160], out[160];
	uint8_t codes[160];

	/* Every 16-bit value: the error stays within half a quantisation step,
	 * which grows with the segment (about 1/32 of the magnitude). */
	for (int base = -32768; base <= 32767; base += 160) {
		for (int j = 0; j < 160; j++)
			in[j] = (int16_t)CLAMP(base + j, -32768, 32767);
		g711_round_trip(codec, in, codes, out);
		for (int j = 0; j < 160; j++) {
			int error = abs(in[j] - out[j]);
			int bound = 16 + abs(in[j]) / 32;
			if (error > bound)
				g_error("%s: %d -> 0x%02x -> %d (error %d > %d)",
				        sb_codec_name(codec), in[j], codes[j], out[j], error,
				        bound);
		}
	}

	/* Every code: decoding then re-encoding gives the code back, except
	 * mu-law's negative zero which re-encodes as positive zero. */
	for (int first = 0; first < 256; first += 128) {
		sb_decoder *dec = sb_decoder_new(codec, 8000);
		sb_encoder *enc = sb_encoder_new(codec, 8000, NULL);
		for (int j = 0; j < 160; j++)
			codes[j] = (uint8_t)((first + j) & 0xFF);
		g_assert_cmpint(sb_decoder_decode(dec, codes, 160, out), ==, 160);
		uint8_t again[160];
		g_assert_cmpint(sb_encoder_encode(enc, out, again, sizeof(again)), ==, 160);
		for (int j = 0; j < 128; j++) {
			if (codec == SB_CODEC_PCMU && codes[j] == 0x7F)
				g_assert_cmphex(again[j], ==, 0xFF);
			else
				g_assert_cmphex(again[j], ==, codes[j]);
		}
		sb_decoder_free(dec);
		sb_encoder_free(enc);
	}
}

static void test_g711_round_trip_ulaw(void)
{
	check_g711_round_trip(SB_CODEC_PCMU);
}

static void test_g711_round_trip_alaw(void)
{
	check_g711_round_trip(SB_CODEC_PCMA);
}

/* ---- 1 kHz tone through every codec and rate ---- */

#define TONE_FRAMES 50  /* 1 s */
#define SETTLE_FRAMES 5 /* skip codec delay and onset (100 ms) */

static void test_tone(gconstpointer data)
{
	const codec_case *c = data;
	int n = sb_frame_samples(c->rate);
	int total = TONE_FRAMES * n;
	int16_t *in = g_new(int16_t, total);
	int16_t *out = g_new(int16_t, total);
	const double amplitude = 12000.0; /* about -8.7 dBFS */

	make_sine(in, total, c->rate, 1000.0, amplitude, 0);
	sb_encoder *enc = sb_encoder_new(c->codec, c->rate, NULL);
	sb_decoder *dec = sb_decoder_new(c->codec, c->rate);
	g_assert_nonnull(enc);
	g_assert_nonnull(dec);
	for (int f = 0; f < TONE_FRAMES; f++) {
		uint8_t payload[SB_MAX_PAYLOAD];
		int bytes = sb_encoder_encode(enc, in + f * n, payload, sizeof(payload));
		g_assert_cmpint(bytes, >, 0);
		g_assert_cmpint(bytes, <=, SB_MAX_PAYLOAD);
		g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, out + f * n), ==, n);
	}

	/* A whole number of 1 kHz periods, so the tone sits exactly on a bin. */
	const int16_t *window = out + SETTLE_FRAMES * n;
	int len = (TONE_FRAMES - SETTLE_FRAMES) * n;
	double fraction = tone_fraction(window, len, 1000.0, c->rate);
	double level = rms(window, len) / (amplitude / sqrt(2.0));
	g_test_message("%s@%d: tone fraction %.4f, level %.3f", sb_codec_name(c->codec), c->rate,
	               fraction, level);
	g_assert_cmpfloat(fraction, >, 0.95);
	g_assert_cmpfloat(level, >, 0.8);
	g_assert_cmpfloat(level, <, 1.2);
	static const double others[] = {300.0, 500.0, 1500.0, 2000.0, 3000.0};
	for (size_t i = 0; i < G_N_ELEMENTS(others); i++)
		g_assert_cmpfloat(tone_fraction(window, len, others[i], c->rate), <, 0.005);

	sb_encoder_free(enc);
	sb_decoder_free(dec);
	g_free(in);
	g_free(out);
}

/* ---- Opus FEC ---- */

#define FEC_FRAMES 30
#define FEC_LOST 15

/* A tone that changes pitch where the packet is lost: plain PLC can only
 * extrapolate the old pitch, FEC carries the new one. */
static void make_fec_signal(int16_t *out, int rate, int n)
{
	for (int f = 0; f < FEC_FRAMES; f++)
		make_sine(out + f * n, n, rate, f < FEC_LOST ? 440.0 : 1250.0, 10000.0, f * n);
}

static void test_opus_fec(gconstpointer data)
{
	int rate = GPOINTER_TO_INT(data);
	int n = sb_frame_samples(rate);
	int16_t *in = g_new(int16_t, FEC_FRAMES * n);
	uint8_t payloads[FEC_FRAMES][SB_MAX_PAYLOAD];
	int sizes[FEC_FRAMES];
	sb_encoder_options opts = {
	        .bitrate = 32000, .complexity = -1, .fec = true, .expected_loss_pct = 20};

	make_fec_signal(in, rate, n);
	sb_encoder *enc = sb_encoder_new(SB_CODEC_OPUS, rate, &opts);
	g_assert_nonnull(enc);
	for (int f = 0; f < FEC_FRAMES; f++) {
		sizes[f] = sb_encoder_encode(enc, in + f * n, payloads[f], SB_MAX_PAYLOAD);
		g_assert_cmpint(sizes[f], >, 0);
	}
	sb_encoder_free(enc);

	/* Three receivers: one gets everything (the reference), one recovers
	 * the lost packet from the next one, one only has PLC. */
	sb_decoder *reference = sb_decoder_new(SB_CODEC_OPUS, rate);
	sb_decoder *with_fec = sb_decoder_new(SB_CODEC_OPUS, rate);
	sb_decoder *plc_only = sb_decoder_new(SB_CODEC_OPUS, rate);
	int16_t ref[SB_MAX_FRAME_SAMPLES], fec[SB_MAX_FRAME_SAMPLES], plc[SB_MAX_FRAME_SAMPLES];
	for (int f = 0; f <= FEC_LOST; f++) {
		g_assert_cmpint(sb_decoder_decode(reference, payloads[f], (size_t)sizes[f], ref),
		                ==, n);
		if (f == FEC_LOST)
			break;
		g_assert_cmpint(sb_decoder_decode(with_fec, payloads[f], (size_t)sizes[f], fec), ==,
		                n);
		g_assert_cmpint(sb_decoder_decode(plc_only, payloads[f], (size_t)sizes[f], plc), ==,
		                n);
	}
	const uint8_t *next = payloads[FEC_LOST + 1];
	size_t next_len = (size_t)sizes[FEC_LOST + 1];
	g_assert_cmpint(sb_decoder_conceal(with_fec, next, next_len, fec), ==, n);
	g_assert_cmpint(sb_decoder_conceal(plc_only, NULL, 0, plc), ==, n);

	/* The recovered frame's tail is past the codec delay, entirely the new pitch. */
	int tail = n / 2;
	double fec_corr = correlation(fec + n - tail, ref + n - tail, tail);
	double plc_corr = correlation(plc + n - tail, ref + n - tail, tail);
	double fec_new_pitch = tone_fraction(fec + n - tail, tail, 1250.0, rate);
	g_test_message("opus@%d: FEC corr %.3f (PLC %.3f), rms %.0f, 1250 Hz share %.3f", rate,
	               fec_corr, plc_corr, rms(fec, n), fec_new_pitch);
	g_assert_cmpfloat(rms(fec, n), >, 1000.0);
	g_assert_cmpfloat(fec_corr, >, 0.7);
	g_assert_cmpfloat(fec_corr, >, plc_corr + 0.3);
	g_assert_cmpfloat(fec_new_pitch, >, 0.5);

	/* The stream goes on normally after the recovered frame. */
	g_assert_cmpint(sb_decoder_decode(with_fec, next, next_len, fec), ==, n);
	g_assert_cmpint(sb_decoder_decode(reference, next, next_len, ref), ==, n);
	g_assert_cmpfloat(correlation(fec, ref, n), >, 0.7);

	sb_decoder_free(reference);
	sb_decoder_free(with_fec);
	sb_decoder_free(plc_only);
	g_free(in);
}

/* ---- PLC ---- */

static void test_plc(gconstpointer data)
{
	const codec_case *c = data;
	int n = sb_frame_samples(c->rate);
	int16_t in[SB_MAX_FRAME_SAMPLES], pcm[SB_MAX_FRAME_SAMPLES];
	uint8_t payload[SB_MAX_PAYLOAD];

	sb_decoder *dec = sb_decoder_new(c->codec, c->rate);
	sb_encoder *enc = sb_encoder_new(c->codec, c->rate, NULL);

	/* Nothing decoded yet: still a full frame (of silence for G.711/G.722). */
	memset(pcm, 0x55, sizeof(pcm));
	g_assert_cmpint(sb_decoder_conceal(dec, NULL, 0, pcm), ==, n);
	if (c->codec != SB_CODEC_OPUS)
		g_assert_cmpfloat(rms(pcm, n), ==, 0.0);

	for (int f = 0; f < 10; f++) {
		make_sine(in, n, c->rate, 1000.0, 10000.0, f * n);
		int bytes = sb_encoder_encode(enc, in, payload, sizeof(payload));
		g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, pcm), ==, n);
	}
	double good = rms(pcm, n);

	/* The first concealed frame carries the sound on, then it fades out
	 * instead of buzzing on forever. */
	double previous = good * 1.01;
	for (int lost = 0; lost < 12; lost++) {
		g_assert_cmpint(sb_decoder_conceal(dec, NULL, 0, pcm), ==, n);
		double level = rms(pcm, n);
		if (lost == 0)
			g_assert_cmpfloat(level, >, good * 0.5);
		if (c->codec != SB_CODEC_OPUS) {
			g_assert_cmpfloat(level, <=, previous);
			previous = level;
		}
	}
	g_assert_cmpfloat(rms(pcm, n), <, good * 0.05);

	/* A G.711/G.722 "next" payload has no FEC: the result is still PLC. */
	g_assert_cmpint(sb_decoder_conceal(dec, payload, 3, pcm), ==, n);
	g_assert_cmpint(sb_decoder_conceal(NULL, NULL, 0, pcm), ==, -1);

	sb_encoder_free(enc);
	sb_decoder_free(dec);
}

/* Silence that was skipped, not decoded: a loss after it conceals
 * silence, not the sound decoded before it (sb_decoder_skipped). */
static void test_plc_after_skip(gconstpointer data)
{
	const codec_case *c = data;
	int n = sb_frame_samples(c->rate);
	int16_t in[SB_MAX_FRAME_SAMPLES], pcm[SB_MAX_FRAME_SAMPLES];
	uint8_t payload[SB_MAX_PAYLOAD];
	sb_decoder *dec = sb_decoder_new(c->codec, c->rate);
	sb_encoder *enc = sb_encoder_new(c->codec, c->rate, NULL);
	for (int f = 0; f < 10; f++) {
		make_sine(in, n, c->rate, 1000.0, 10000.0, f * n);
		int bytes = sb_encoder_encode(enc, in, payload, sizeof(payload));
		g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, pcm), ==, n);
	}
	sb_decoder_skipped(dec);
	g_assert_cmpint(sb_decoder_conceal(dec, NULL, 0, pcm), ==, n);
	g_assert_cmpfloat(rms(pcm, n), ==, 0.0);
	/* A decode ends it: the next loss is concealed from that frame again. */
	make_sine(in, n, c->rate, 1000.0, 10000.0, 10 * n);
	int bytes = sb_encoder_encode(enc, in, payload, sizeof(payload));
	g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, pcm), ==, n);
	double good = rms(pcm, n);
	g_assert_cmpint(sb_decoder_conceal(dec, NULL, 0, pcm), ==, n);
	g_assert_cmpfloat(rms(pcm, n), >, good * 0.5);
	sb_decoder_skipped(NULL); /* harmless */
	sb_encoder_free(enc);
	sb_decoder_free(dec);
}

/* ---- garbage ---- */

static void test_garbage(gconstpointer data)
{
	const codec_case *c = data;
	int n = sb_frame_samples(c->rate);
	size_t big = 100000;
	uint8_t *junk = g_malloc(big);
	int16_t pcm[SB_MAX_FRAME_SAMPLES];
	sb_decoder *dec = sb_decoder_new(c->codec, c->rate);

	for (size_t i = 0; i < big; i++)
		junk[i] = (uint8_t)g_test_rand_int_range(0, 256);

	g_assert_cmpint(sb_decoder_decode(dec, junk, 0, pcm), ==, -1);
	g_assert_cmpint(sb_decoder_decode(dec, NULL, 160, pcm), ==, -1);
	g_assert_cmpint(sb_decoder_decode(dec, junk, SB_MAX_PAYLOAD + 1, pcm), ==, -1);
	g_assert_cmpint(sb_decoder_decode(dec, junk, big, pcm), ==, -1);
	g_assert_cmpint(sb_decoder_decode(NULL, junk, 160, pcm), ==, -1);
	g_assert_cmpint(sb_decoder_decode(dec, junk, 160, NULL), ==, -1);

	/* Random sizes and contents: never a crash, only -1 or a full frame.
	 * G.711/G.722 accept exactly one 20 ms payload size and nothing else. */
	int accepted = 0;
	for (int round = 0; round < 2000; round++) {
		/* Every fourth try has the G.711/G.722 frame size: junk contents. */
		size_t len = round % 4 == 0 ? 160
		                            : (size_t)g_test_rand_int_range(0, SB_MAX_PAYLOAD + 64);
		size_t offset = (size_t)g_test_rand_int_range(0, (gint32)(big - len));
		int got = sb_decoder_decode(dec, junk + offset, len, pcm);
		g_assert_true(got == -1 || got == n);
		if (got == n)
			accepted++;
		if (c->codec != SB_CODEC_OPUS)
			g_assert_cmpint(got, ==, len == 160 ? n : -1);
		g_assert_cmpint(sb_decoder_conceal(dec, junk + offset, len, pcm), ==, n);
	}
	g_test_message("%s@%d: %d of 2000 random payloads decoded", sb_codec_name(c->codec),
	               c->rate, accepted);
	g_assert_cmpint(sb_decoder_conceal(dec, junk, big, pcm), ==, n);

	/* The decoder still works on real packets afterwards. */
	sb_encoder *enc = sb_encoder_new(c->codec, c->rate, NULL);
	int16_t in[SB_MAX_FRAME_SAMPLES];
	uint8_t payload[SB_MAX_PAYLOAD];
	for (int f = 0; f < 10; f++) {
		make_sine(in, n, c->rate, 1000.0, 8000.0, f * n);
		int bytes = sb_encoder_encode(enc, in, payload, sizeof(payload));
		g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, pcm), ==, n);
	}
	g_assert_cmpfloat(rms(pcm, n), >, 2000.0);

	/* Encoder misuse is refused too. */
	g_assert_cmpint(sb_encoder_encode(enc, NULL, payload, sizeof(payload)), ==, -1);
	g_assert_cmpint(sb_encoder_encode(enc, in, NULL, sizeof(payload)), ==, -1);
	g_assert_cmpint(sb_encoder_encode(enc, in, payload, 0), ==, -1);
	if (c->codec != SB_CODEC_OPUS)
		g_assert_cmpint(sb_encoder_encode(enc, in, payload, 100), ==, -1);
	g_assert_cmpint(sb_encoder_encode(NULL, in, payload, sizeof(payload)), ==, -1);

	sb_encoder_free(enc);
	sb_decoder_free(dec);
	g_free(junk);
}

/* The mixer's timeline is 20 ms per packet: other Opus durations are refused. */
static void test_opus_rejects_other_frame_sizes(void)
{
	int err = 0;
	OpusEncoder *raw = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	g_assert_cmpint(err, ==, OPUS_OK);
	sb_decoder *dec = sb_decoder_new(SB_CODEC_OPUS, 48000);
	static int16_t in[2880];
	int16_t pcm[SB_MAX_FRAME_SAMPLES];
	uint8_t payload[SB_MAX_PAYLOAD];
	static const int durations[] = {480, 1920, 2880};

	make_sine(in, 2880, 48000, 1000.0, 8000.0, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(durations); i++) {
		int bytes = opus_encode(raw, in, durations[i], payload, sizeof(payload));
		g_assert_cmpint(bytes, >, 0);
		g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, pcm), ==, -1);
	}
	int bytes = opus_encode(raw, in, 960, payload, sizeof(payload));
	g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, pcm), ==, 960);

	/* The same Opus packet decodes at any mixing rate. */
	sb_decoder *narrow = sb_decoder_new(SB_CODEC_OPUS, 8000);
	g_assert_cmpint(sb_decoder_decode(narrow, payload, (size_t)bytes, pcm), ==, 160);

	sb_decoder_free(narrow);
	sb_decoder_free(dec);
	opus_encoder_destroy(raw);
}

/* ---- Opus's voice flag ---- */

static sb_voice_flag encode_and_flag(OpusEncoder *enc, const int16_t *pcm)
{
	uint8_t payload[SB_MAX_PAYLOAD];
	int bytes = opus_encode(enc, pcm, 960, payload, sizeof(payload));
	g_assert_cmpint(bytes, >, 1);
	return sb_opus_voice_flag(payload, (size_t)bytes);
}

static void test_opus_voice_flag(void)
{
	int err = 0;
	OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	g_assert_cmpint(err, ==, OPUS_OK);
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(enc,
	                 OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); /* as a phone's: stays SILK/hybrid */
	static int16_t silence[960];
	int16_t tone[960];

	/* Silence: the encoder says so in every frame once it settled. */
	for (int i = 0; i < 25; i++) {
		sb_voice_flag flag = encode_and_flag(enc, silence);
		if (i >= 5)
			g_assert_cmpint(flag, ==, SB_VOICE_INACTIVE);
	}
	/* A loud onset is speech to it at once. */
	int active_at_onset = 0;
	for (int i = 0; i < 5; i++) {
		make_sine(tone, 960, 48000, 1000.0, 3277.0, i * 960);
		active_at_onset += encode_and_flag(enc, tone) == SB_VOICE_ACTIVE;
	}
	g_assert_cmpint(active_at_onset, >=, 1);
	opus_encoder_destroy(enc);

	/* CELT-only packets carry no SILK layer and so no flag. */
	OpusEncoder *celt =
	        opus_encoder_create(48000, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
	g_assert_cmpint(err, ==, OPUS_OK);
	g_assert_cmpint(encode_and_flag(celt, silence), ==, SB_VOICE_UNKNOWN);
	opus_encoder_destroy(celt);

	/* Several frames in a packet (code 1), a TOC alone, nothing: unknown. */
	const uint8_t two_frames[] = {(13 << 3) | 1, 0xff, 0x00};
	const uint8_t toc_only[] = {13 << 3};
	g_assert_cmpint(sb_opus_voice_flag(two_frames, sizeof(two_frames)), ==, SB_VOICE_UNKNOWN);
	g_assert_cmpint(sb_opus_voice_flag(toc_only, sizeof(toc_only)), ==, SB_VOICE_UNKNOWN);
	g_assert_cmpint(sb_opus_voice_flag(NULL, 0), ==, SB_VOICE_UNKNOWN);
	/* The flag is the top bit after the TOC (hybrid 20 ms, one frame). */
	const uint8_t on[] = {13 << 3, 0x80}, off[] = {13 << 3, 0x7f};
	g_assert_cmpint(sb_opus_voice_flag(on, sizeof(on)), ==, SB_VOICE_ACTIVE);
	g_assert_cmpint(sb_opus_voice_flag(off, sizeof(off)), ==, SB_VOICE_INACTIVE);
}

static void test_g711_mean_square(void)
{
	int16_t pcm[160];
	uint8_t payload[SB_MAX_PAYLOAD];
	make_sine(pcm, 160, 8000, 1000.0, 8000.0, 0);
	static const sb_codec_id g711[] = {SB_CODEC_PCMU, SB_CODEC_PCMA};
	for (size_t c = 0; c < G_N_ELEMENTS(g711); c++) {
		sb_encoder *enc = sb_encoder_new(g711[c], 8000, NULL);
		int bytes = sb_encoder_encode(enc, pcm, payload, sizeof(payload));
		g_assert_cmpint(bytes, ==, 160);
		/* A sine's mean square is A^2 / 2; companding moves it by < 5 %. */
		double ms = sb_g711_mean_square(g711[c], payload, (size_t)bytes);
		g_assert_cmpfloat(fabs(ms - 8000.0 * 8000.0 / 2.0), <, 0.05 * 8000.0 * 8000.0 / 2.0);
		/* and it is what decoding then measuring gives */
		sb_decoder *dec = sb_decoder_new(g711[c], 8000);
		int16_t decoded[160];
		g_assert_cmpint(sb_decoder_decode(dec, payload, (size_t)bytes, decoded), ==, 160);
		g_assert_cmpfloat(fabs(ms - energy(decoded, 160) / 160.0), <, 1.0);
		sb_decoder_free(dec);
		sb_encoder_free(enc);
	}
	g_assert_cmpfloat(sb_g711_mean_square(SB_CODEC_OPUS, payload, 160), <, 0.0);
	g_assert_cmpfloat(sb_g711_mean_square(SB_CODEC_G722, payload, 160), <, 0.0);
	g_assert_cmpfloat(sb_g711_mean_square(SB_CODEC_PCMU, payload, 0), <, 0.0);
}

static codec_case all_cases[SB_CODEC_COUNT * G_N_ELEMENTS(mixing_rates)];

static void add_per_codec_tests(const char *kind, GTestDataFunc func)
{
	size_t i = 0;
	for (int codec = 0; codec < SB_CODEC_COUNT; codec++) {
		for (size_t r = 0; r < G_N_ELEMENTS(mixing_rates); r++, i++) {
			all_cases[i] = (codec_case){(sb_codec_id)codec, mixing_rates[r]};
			char *path =
			        g_strdup_printf("/codec/%s/%s/%d", kind,
			                        sb_codec_name((sb_codec_id)codec), mixing_rates[r]);
			g_test_add_data_func(path, &all_cases[i], func);
			g_free(path);
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/codec/mappings", test_mappings);
	g_test_add_func("/codec/constructors", test_constructors_reject_bad_arguments);
	g_test_add_func("/codec/g711/known-vectors", test_g711_known_vectors);
	g_test_add_func("/codec/g711/round-trip/ulaw", test_g711_round_trip_ulaw);
	g_test_add_func("/codec/g711/round-trip/alaw", test_g711_round_trip_alaw);
	add_per_codec_tests("tone", test_tone);
	add_per_codec_tests("plc", test_plc);
	add_per_codec_tests("plc-after-skip", test_plc_after_skip);
	add_per_codec_tests("garbage", test_garbage);
	for (size_t r = 0; r < G_N_ELEMENTS(mixing_rates); r++) {
		char *path = g_strdup_printf("/codec/opus/fec/%d", mixing_rates[r]);
		g_test_add_data_func(path, GINT_TO_POINTER(mixing_rates[r]), test_opus_fec);
		g_free(path);
	}
	g_test_add_func("/codec/opus/frame-sizes", test_opus_rejects_other_frame_sizes);
	g_test_add_func("/codec/opus/voice-flag", test_opus_voice_flag);
	g_test_add_func("/codec/g711/mean-square", test_g711_mean_square);

	return g_test_run();
}
