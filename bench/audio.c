/* See audio.h. */
#include "audio.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int16_t *audio_read_wav48(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	unsigned char hdr[12];
	int16_t *pcm = NULL;
	bool fmt_ok = false;
	if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "RIFF", 4) || memcmp(hdr + 8, "WAVE", 4)) {
		fprintf(stderr, "%s: not a RIFF/WAVE file\n", path);
		goto out;
	}
	for (;;) {
		unsigned char ch[8];
		if (fread(ch, 1, 8, f) != 8)
			break;
		uint32_t size = rd32(ch + 4);
		if (!memcmp(ch, "fmt ", 4)) {
			unsigned char fmt[40];
			if (size < 16 || size > sizeof fmt || fread(fmt, 1, size, f) != size)
				break;
			uint16_t format = rd16(fmt), channels = rd16(fmt + 2),
			         bits = rd16(fmt + 14);
			uint32_t rate = rd32(fmt + 4);
			if ((format != 1 && format != 0xFFFE) || channels != 1 || bits != 16 ||
			    rate != AUDIO_RATE) {
				fprintf(stderr,
				        "%s: need 48000 Hz mono 16-bit PCM (got fmt %u, %u ch, %u "
				        "bit, %u Hz); "
				        "convert with: sox in.wav -r 48000 -c 1 -b 16 out.wav\n",
				        path, format, channels, bits, rate);
				goto out;
			}
			fmt_ok = true;
			if (size & 1)
				fseek(f, 1, SEEK_CUR);
		} else if (!memcmp(ch, "data", 4)) {
			if (!fmt_ok)
				break;
			/* espeak-ng writing to a pipe leaves size 0x7fffffff: read to EOF */
			size_t cap = size && size < 0x7ffffff0u ? size / 2 : AUDIO_RATE * 60;
			pcm = malloc(cap * sizeof *pcm);
			size_t n = pcm ? fread(pcm, sizeof *pcm, cap, f) : 0;
			*count = n;
			if (n == 0) {
				free(pcm);
				pcm = NULL;
			}
			goto out;
		} else {
			if (fseek(f, (long)size + (size & 1), SEEK_CUR))
				break;
		}
	}
	fprintf(stderr, "%s: no usable fmt/data chunk\n", path);
out:
	fclose(f);
	return pcm;
}

uint8_t audio_frame_level(const int16_t *s, int n)
{
	double acc = 0;
	for (int i = 0; i < n; i++)
		acc += (double)s[i] * s[i];
	double rms = sqrt(acc / n) / 32768.0;
	if (rms <= 0)
		return 127;
	double dbov = -20.0 * log10(rms);
	if (dbov < 0)
		dbov = 0;
	if (dbov > 127)
		dbov = 127;
	return (uint8_t)lrint(dbov);
}

uint8_t audio_linear_to_ulaw(int16_t sample)
{
	const int bias = 0x84, clip = 32635;
	int s = sample;
	int sign = s < 0 ? 0x80 : 0;
	if (s < 0)
		s = -s;
	if (s > clip)
		s = clip;
	s += bias;
	int exponent = 7;
	for (int mask = 0x4000; exponent > 0 && !(s & mask); mask >>= 1)
		exponent--;
	int mantissa = (s >> (exponent + 3)) & 0x0f;
	return (uint8_t) ~(sign | exponent << 4 | mantissa);
}

int16_t audio_ulaw_to_linear(uint8_t byte)
{
	int u = ~byte & 0xff;
	int t = ((u & 0x0f) << 3) + 0x84;
	t <<= (u & 0x70) >> 4;
	return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

/* One 20 ms frame of 48 kHz PCM as mu-law at 8 kHz: each output sample
 * the mean of six input samples (a crude low-pass before the decimation;
 * enough for a load whose content only needs to be speech-like). */
int audio_encode_ulaw_frame(const int16_t *pcm48, unsigned char *out)
{
	for (int i = 0; i < AUDIO_ULAW_SAMPLES; i++) {
		int acc = 0;
		for (int k = 0; k < 6; k++)
			acc += pcm48[i * 6 + k];
		out[i] = audio_linear_to_ulaw((int16_t)(acc / 6));
	}
	return AUDIO_ULAW_SAMPLES;
}
