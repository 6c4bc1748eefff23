/*
 * floor — the codec work of a bench scenario alone, so that bench/run.sh can
 * say how far a mixer is from the physical limit, not only from AudioBridge.
 *
 *   floor --rooms N --per-room P --talkers T [--codec opus|pcmu] [--no-levels]
 *         [--sampling-rate HZ] [--bitrate BPS] [--complexity C]
 *         [--speech FILE.wav] [--seconds S]
 *
 * The least any mixer must do every 20 ms in a room, at the scenario's codec
 * settings:
 *   - decode: every talker's frame; with --no-levels every participant's
 *     frame as well (without RFC 6464 levels nobody can tell silence from
 *     speech without decoding it). Opus straight to the mixing rate (the
 *     decoder resamples internally); mu-law by table to 8 kHz.
 *   - encode: each distinct mix once — one for the listeners (when there are
 *     any) and, with two talkers or more, one per talker (its mix-minus).  A
 *     lone talker's mix-minus is silence, which a mixer can send without
 *     encoding.  Opus at the mixing rate with --bitrate/--complexity, mu-law
 *     from 8 kHz.
 * Nothing else is counted: no mixing sums, no resampling between rates, no
 * packet I/O, no jitter buffer.
 *
 * One room is run for --seconds of audio (default 10) as fast as it goes,
 * on one thread; the CPU time it took (CLOCK_PROCESS_CPUTIME_ID) over the
 * audio time, times the number of rooms, is the floor in % of one core —
 * printed as one JSON line on stdout.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <opus/opus.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio.h"

#define MAX_PACKET 1275
#define MAX_LEGS 64

static struct {
	int rooms, per_room, talkers;
	bool pcmu, no_levels;
	int rate, bitrate, complexity;
	double seconds;
	const char *speech, *label;
} opt = {
        .rooms = 1,
        .per_room = 3,
        .talkers = 1,
        .rate = 48000,
        .bitrate = 32000,
        .complexity = 10,
        .seconds = 10,
};

/* A leg's frames as the phone sent them: Opus at 48 kHz, 32 kbit/s, as
 * loadgen sends them, or mu-law. */
struct sent_frame {
	unsigned char data[MAX_PACKET];
	int len;
};

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: floor --rooms N --per-room P --talkers T [--codec opus|pcmu] "
	                "[--no-levels]\n"
	                "             [--sampling-rate HZ] [--bitrate BPS] [--complexity C]\n"
	                "             [--speech FILE.wav] [--seconds S] [--label L]\n");
	exit(2);
}

static OpusEncoder *phone_encoder(void)
{
	int err;
	OpusEncoder *enc = opus_encoder_create(AUDIO_RATE, 1, OPUS_APPLICATION_VOIP, &err);
	if (enc) {
		opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
		opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(10));
		opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	}
	return enc;
}

/* The talkers' speech and the others' silence, encoded once, before the
 * clock starts (that is the phones' work, not the mixer's). */
static int prepare(struct sent_frame **speech, int *speech_n, struct sent_frame *silence)
{
	size_t n = 0;
	int16_t *pcm = NULL;
	if (opt.speech) {
		pcm = audio_read_wav48(opt.speech, &n);
		if (!pcm)
			return -1;
	}
	if (n < AUDIO_FRAME_SAMPLES) {
		/* no speech file: a 440 Hz tone stands in for a voice */
		free(pcm);
		n = AUDIO_RATE * 5;
		pcm = malloc(n * sizeof *pcm);
		for (size_t i = 0; i < n; i++)
			pcm[i] = (int16_t)(8000 * ((i / 55) % 2 ? 1 : -1) * ((i % 55) / 55.0));
	}
	OpusEncoder *enc = phone_encoder();
	if (!enc) {
		free(pcm);
		return -1;
	}
	*speech_n = (int)(n / AUDIO_FRAME_SAMPLES);
	*speech = calloc((size_t)*speech_n, sizeof **speech);
	for (int i = 0; i < *speech_n; i++) {
		const int16_t *frame = pcm + (size_t)i * AUDIO_FRAME_SAMPLES;
		struct sent_frame *f = &(*speech)[i];
		f->len = opt.pcmu ? audio_encode_ulaw_frame(frame, f->data)
		                  : opus_encode(enc, frame, AUDIO_FRAME_SAMPLES, f->data,
		                                MAX_PACKET);
	}
	int16_t zeros[AUDIO_FRAME_SAMPLES] = {0};
	for (int i = 0; i < 10; i++)
		silence->len = opt.pcmu ? audio_encode_ulaw_frame(zeros, silence->data)
		                        : opus_encode(enc, zeros, AUDIO_FRAME_SAMPLES,
		                                      silence->data, MAX_PACKET);
	opus_encoder_destroy(enc);
	free(pcm);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"rooms", 1, 0, 'r'},
	                                   {"per-room", 1, 0, 'n'},
	                                   {"talkers", 1, 0, 't'},
	                                   {"codec", 1, 0, 'C'},
	                                   {"no-levels", 0, 0, 'N'},
	                                   {"sampling-rate", 1, 0, 'H'},
	                                   {"bitrate", 1, 0, 'B'},
	                                   {"complexity", 1, 0, 'Q'},
	                                   {"speech", 1, 0, 'f'},
	                                   {"seconds", 1, 0, 's'},
	                                   {"label", 1, 0, 'b'},
	                                   {"help", 0, 0, 'h'},
	                                   {0, 0, 0, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			opt.rooms = atoi(optarg);
			break;
		case 'n':
			opt.per_room = atoi(optarg);
			break;
		case 't':
			opt.talkers = atoi(optarg);
			break;
		case 'C':
			if (!strcmp(optarg, "pcmu"))
				opt.pcmu = true;
			else if (strcmp(optarg, "opus"))
				usage();
			break;
		case 'N':
			opt.no_levels = true;
			break;
		case 'H':
			opt.rate = atoi(optarg);
			break;
		case 'B':
			opt.bitrate = atoi(optarg);
			break;
		case 'Q':
			opt.complexity = atoi(optarg);
			break;
		case 'f':
			opt.speech = optarg;
			break;
		case 's':
			opt.seconds = atof(optarg);
			break;
		case 'b':
			opt.label = optarg;
			break;
		default:
			usage();
		}
	}
	if (opt.rooms < 1 || opt.per_room < 1 || opt.per_room > MAX_LEGS || opt.talkers < 0 ||
	    opt.talkers > opt.per_room || opt.seconds <= 0 || opt.complexity < 0 ||
	    opt.complexity > 10 ||
	    (opt.rate != 8000 && opt.rate != 16000 && opt.rate != 24000 && opt.rate != 48000))
		usage();
	struct sent_frame *speech = NULL, silence;
	int speech_n = 0;
	if (prepare(&speech, &speech_n, &silence))
		return 1;

	int decoded_legs = opt.no_levels ? opt.per_room : opt.talkers;
	/* with nobody talking every mix is silence: nothing to encode */
	int mixes = opt.talkers == 0 ? 0
	                             : (opt.per_room > opt.talkers ? 1 : 0) +
	                                       (opt.talkers >= 2 ? opt.talkers : 0);
	/* mu-law is 8 kHz on the wire: that is its floor, whatever the room mixes at. */
	int codec_rate = opt.pcmu ? 8000 : opt.rate;
	int samples = codec_rate / 50;
	OpusDecoder *dec[MAX_LEGS] = {0};
	OpusEncoder *enc[MAX_LEGS] = {0};
	for (int i = 0; !opt.pcmu && i < decoded_legs; i++) {
		int err;
		dec[i] = opus_decoder_create(opt.rate, 1, &err);
	}
	for (int i = 0; !opt.pcmu && i < mixes; i++) {
		int err;
		enc[i] = opus_encoder_create(opt.rate, 1, OPUS_APPLICATION_VOIP, &err);
		opus_encoder_ctl(enc[i], OPUS_SET_BITRATE(opt.bitrate));
		opus_encoder_ctl(enc[i], OPUS_SET_COMPLEXITY(opt.complexity));
		opus_encoder_ctl(enc[i], OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	}
	int16_t pcm[MAX_LEGS][AUDIO_FRAME_SAMPLES];
	unsigned char out[MAX_PACKET];
	long frames = (long)(opt.seconds * 50);
	long checksum = 0; /* keeps the work from being optimised away */
	double t0 = cpu_seconds();
	for (long f = 0; f < frames; f++) {
		for (int leg = 0; leg < decoded_legs; leg++) {
			/* the talkers come first, each at its own point of the speech */
			const struct sent_frame *in =
			        leg < opt.talkers
			                ? &speech[(f + (long)leg * speech_n / (opt.talkers + 1)) %
			                          speech_n]
			                : &silence;
			if (opt.pcmu) {
				for (int i = 0; i < samples; i++)
					pcm[leg][i] = audio_ulaw_to_linear(in->data[i]);
			} else {
				int got = opus_decode(dec[leg], in->data, in->len, pcm[leg],
				                      samples, 0);
				checksum += got;
			}
		}
		for (int m = 0; m < mixes; m++) {
			/* a mix's content: a talker's decoded speech (what listeners hear) */
			const int16_t *mix = pcm[m % (decoded_legs ? decoded_legs : 1)];
			if (opt.pcmu) {
				for (int i = 0; i < samples; i++)
					out[i] = audio_linear_to_ulaw(mix[i]);
				checksum += out[0];
			} else {
				checksum += opus_encode(enc[m], mix, samples, out, MAX_PACKET);
			}
		}
	}
	double cpu = cpu_seconds() - t0;
	double audio_seconds = (double)frames / 50.0;
	double pct = 100.0 * cpu / audio_seconds * opt.rooms;
	printf("{\"label\":\"%s\",\"floor_cpu_pct\":%.4f,\"rooms\":%d,\"per_room\":%d,\"talkers\":%"
	       "d,"
	       "\"codec\":\"%s\",\"levels\":%s,\"sampling_rate\":%d,\"decodes_per_frame\":%d,"
	       "\"encodes_per_frame\":%d,\"room_cpu_s\":%.4f,\"audio_s\":%.1f,\"checksum\":%ld}\n",
	       opt.label ? opt.label : "", pct, opt.rooms, opt.per_room, opt.talkers,
	       opt.pcmu ? "pcmu" : "opus", opt.no_levels ? "false" : "true", opt.rate, decoded_legs,
	       mixes, cpu, audio_seconds, checksum);
	for (int i = 0; i < MAX_LEGS; i++) {
		if (dec[i])
			opus_decoder_destroy(dec[i]);
		if (enc[i])
			opus_encoder_destroy(enc[i]);
	}
	free(speech);
	return 0;
}
