/* A phone caller's "okay" over the agent's answer, through what the mixer
 * does to a leg (room/participant.c: the jitter buffer, G.711 silence
 * skipped undecoded, the decoder to the room's 48 kHz, the echo canceller)
 * and then what the agent does with what it hears (down to 16 kHz, its
 * VAD): the agent's VAD hears the onset in the "o"'s own frames with the
 * canceller as without it, wherever the caller's packets fall on the "o".
 *
 * It used to hear it at the "ay", ~200 ms later (frames 14-16 here; in
 * tests/integration/agent-interruptions the agent's voice was 4.0-5.9 dB
 * down 250-450 ms after the caller began, against 15.4 dB without the
 * canceller): the canceller's output for the silent packet after the "o"
 * (its last 20 ms, a frame late) was dropped; and, with or without the
 * canceller, the frame the "o" begins in shows no pitch, so an "o" that
 * began a few ms into a frame held 80 ms of pitch, not 100 (media/vad.c). */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <speex/speex_resampler.h>

#include "media/media.h"
#include "room/room.h"
#include "room/room_private.h"

#define RATE 48000
#define FRAME 960
#define AGENT_RATE 16000
#define AGENT_FRAME 320
#define SILENCE_LEVEL 70     /* [general] silence_level's default */
#define TAIL_MS 400          /* [general] echo_tail_ms's default */
#define BARGE_IN_ONSET_MS 80 /* the agent's onset over its own voice */

/* The test's own words, as tests/integration/agent-interruptions says them. */
#define GREETING "Hello! Thank you for calling. How can I help you today?"
#define ANSWER                                                                                     \
	"Let me tell you about our company, our history, our products and our services. We "       \
	"started as a small shop and grew year after year."

typedef struct audio {
	int16_t *pcm;
	int samples;
} audio;

static void resample(const int16_t *in, int n, int from, int to, audio *out)
{
	int err = 0;
	SpeexResamplerState *r =
	        speex_resampler_init(1, (spx_uint32_t)from, (spx_uint32_t)to, 5, &err);
	g_assert_nonnull(r);
	spx_uint32_t in_len = (spx_uint32_t)n, out_len = (spx_uint32_t)((int64_t)n * to / from);
	out->pcm = g_new0(int16_t, out_len + 1);
	speex_resampler_process_int(r, 0, in, &in_len, out->pcm, &out_len);
	speex_resampler_destroy(r);
	out->samples = (int)out_len;
}

/* espeak-ng (en-us, 150 words a minute) saying text, at `rate`; false when
 * there is no espeak-ng to run. */
static bool speak(const char *text, int rate, audio *out)
{
	g_autofree char *dir = g_dir_make_tmp("sb-echo-onset-XXXXXX", NULL);
	g_assert_nonnull(dir);
	g_autofree char *wav = g_build_filename(dir, "speech.wav", NULL);
	char *argv[] = {"espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, (char *)text, NULL};
	gint status = 1;
	bool ran = g_spawn_sync(NULL, argv, NULL,
	                        G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
	                                G_SPAWN_STDERR_TO_DEV_NULL,
	                        NULL, NULL, NULL, NULL, &status, NULL) &&
	           status == 0;
	g_autofree char *bytes = NULL;
	gsize size = 0;
	ran = ran && g_file_get_contents(wav, &bytes, &size, NULL) && size > 44;
	g_unlink(wav);
	g_rmdir(dir);
	if (!ran)
		return false;
	/* After a 44-byte RIFF header: 16-bit mono at 22050 Hz. */
	int n = (int)((size - 44) / 2);
	int16_t *pcm = g_new(int16_t, n);
	memcpy(pcm, bytes + 44, (size_t)n * 2);
	resample(pcm, n, 22050, rate, out);
	g_free(pcm);
	return true;
}

typedef struct call {
	audio far;     /* what the mixer sent the caller, at RATE */
	audio caller;  /* what the caller sends, at 8 kHz */
	int answer_at; /* where the answer begins in far */
	int answer_end;
	int okay_frame; /* the caller's first packet of "okay" */
} call;

/* A speakerphone's echo path (delay_ms 0: none). */
typedef struct echo_path {
	int delay_ms;
	double gain_db;
} echo_path;

/* The agent's greeting, a second of listening, then its answer, at RATE
 * (its voice is 16 kHz, upsampled as agent_voice.c does); the caller
 * silent but for the "okay", 600 ms into the answer and `shift_ms` later
 * in its packet, and for the echo of all it hears.  Made of greeting and
 * answer (at 16 kHz), okay (8 kHz). */
static void call_new(call *c, const audio *greeting, const audio *answer, const audio *okay,
                     int shift_ms, echo_path echo)
{
	audio g48, a48;
	resample(greeting->pcm, greeting->samples, AGENT_RATE, RATE, &g48);
	resample(answer->pcm, answer->samples, AGENT_RATE, RATE, &a48);
	c->answer_at = (g48.samples + RATE) / FRAME * FRAME;
	c->answer_end = c->answer_at + a48.samples;
	c->far.samples = c->answer_end + RATE;
	c->far.pcm = g_new0(int16_t, c->far.samples);
	memcpy(c->far.pcm, g48.pcm, (size_t)g48.samples * 2);
	memcpy(c->far.pcm + c->answer_at, a48.pcm, (size_t)a48.samples * 2);
	c->okay_frame = (c->answer_at + RATE * 6 / 10) / FRAME;
	c->caller.samples = c->far.samples / (RATE / 8000);
	c->caller.pcm = g_new0(int16_t, c->caller.samples);
	int at = c->okay_frame * 160 + shift_ms * 8;
	for (int i = 0; i < okay->samples && at + i < c->caller.samples; i++)
		c->caller.pcm[at + i] = okay->pcm[i];
	g_free(g48.pcm);
	g_free(a48.pcm);
	if (!echo.delay_ms)
		return;
	audio heard; /* what the phone's loudspeaker plays */
	resample(c->far.pcm, c->far.samples, RATE, 8000, &heard);
	int delay = echo.delay_ms * 8;
	double gain = pow(10, echo.gain_db / 20);
	for (int i = delay; i < c->caller.samples && i - delay < heard.samples; i++)
		c->caller.pcm[i] = (int16_t)CLAMP(c->caller.pcm[i] + gain * heard.pcm[i - delay],
		                                  -32767, 32767);
	g_free(heard.pcm);
}

static void call_free(call *c)
{
	g_free(c->far.pcm);
	g_free(c->caller.pcm);
}

/* The frame (from the caller's first packet of "okay") at which the
 * agent's VAD starts the turn; -1: never.  *early: turns it started before
 * (its own echo taken for the caller). */
static int onset_frame(const call *c, bool cancel, uint64_t *echo_frames, int *early)
{
	sb_participant_params params = {
	        .kind = SB_KIND_RTP,
	        .codec = SB_CODEC_PCMU,
	        .payload_type = 0,
	        .sampling_rate = RATE,
	        .jitter_min_frames = 1,
	        .jitter_max_frames = 10,
	};
	sb_participant *pub = sb_participant_new(&params);
	participant_priv *p = participant_priv_of(pub);
	sb_encoder *enc = sb_encoder_new(SB_CODEC_PCMU, 8000, NULL);
	int err = 0;
	SpeexResamplerState *down = speex_resampler_init(1, RATE, AGENT_RATE, 3, &err);
	sb_vad vad;
	sb_vad_init(&vad, &(sb_vad_config){.frame_ms = 20,
	                                   .onset_ms = 100,
	                                   .hangover_ms = 300,
	                                   .margin_db = 12.0f,
	                                   .min_level_db = -50.0f,
	                                   .rate = AGENT_RATE});
	int onset = -1, frames = c->far.samples / FRAME;
	for (int f = 0; f < frames; f++) {
		uint8_t packet[SB_RTP_HEADER_SIZE + SB_MAX_PAYLOAD];
		size_t header = sb_rtp_write_header(packet, 0, false, (uint16_t)f,
		                                    (uint32_t)f * 160, 0x5151);
		int bytes = sb_encoder_encode(enc, c->caller.pcm + f * 160, packet + header,
		                              SB_MAX_PAYLOAD);
		sb_participant_incoming_rtp(pub, packet, header + (size_t)bytes, -1);
		uint64_t decodes = 0;
		int level = sb_participant_pull(p, FRAME, SILENCE_LEVEL, &decodes);
		if (cancel) {
			/* What the mixer sent the leg the frame before. */
			p->mix.sent_audible = f > 0;
			if (f > 0)
				memcpy(p->mix.sent, c->far.pcm + (f - 1) * FRAME,
				       sizeof(p->mix.sent));
			level = sb_participant_cancel_echo(p, level, RATE, TAIL_MS, SILENCE_LEVEL,
			                                   echo_frames, &decodes);
		}
		/* The agent hears the leg where it contributes to the mix. */
		static const int16_t quiet[FRAME];
		bool heard = level >= 0 && level < SILENCE_LEVEL;
		int16_t pcm[AGENT_FRAME];
		spx_uint32_t in_len = FRAME, out_len = AGENT_FRAME;
		speex_resampler_process_int(down, 0, heard ? sb_participant_frame(p, &decodes) : quiet,
		                            &in_len, pcm, &out_len);
		bool speaking = f * FRAME >= c->answer_at && f * FRAME < c->answer_end;
		vad.cfg.onset_ms = speaking ? BARGE_IN_ONSET_MS : 100;
		if (sb_vad_process(&vad, pcm, AGENT_FRAME, -INFINITY) != SB_VAD_SPEECH_START)
			continue;
		if (f < c->okay_frame)
			(*early)++;
		else if (onset < 0)
			onset = f - c->okay_frame;
	}
	speex_resampler_destroy(down);
	sb_encoder_free(enc);
	sb_participant_unref(pub);
	return onset;
}

static void test_okay_onset(void)
{
	audio greeting, answer, okay;
	if (!speak(GREETING, AGENT_RATE, &greeting)) {
		g_test_skip("no espeak-ng");
		return;
	}
	g_assert_true(speak(ANSWER, AGENT_RATE, &answer));
	g_assert_true(speak("okay", 8000, &okay));
	enum { SHIFTS = 10 };
	int plain[SHIFTS], cancelled[SHIFTS];
	uint64_t echo_frames = 0;
	for (int k = 0; k < SHIFTS; k++) {
		call c;
		call_new(&c, &greeting, &answer, &okay, 2 * k, (echo_path){0});
		int early = 0;
		plain[k] = onset_frame(&c, false, &echo_frames, &early);
		cancelled[k] = onset_frame(&c, true, &echo_frames, &early);
		g_assert_cmpint(early, ==, 0);
		if (g_test_verbose())
			g_printerr(
			        "\"okay\" %2d ms into its packet: onset at frame %d, %d with the "
			        "canceller\n",
			        2 * k, plain[k], cancelled[k]);
		call_free(&c);
	}
	g_assert_cmpuint(echo_frames, >, 0);
	for (int k = 0; k < SHIFTS; k++) {
		/* The "o" is about 100 ms: its onset is in its own frames.  The
		 * canceller costs the suppressor's frame; and in 2 of these 10
		 * (6 and 8 ms into the packet) the frame the "o" begins in,
		 * which its resampling (48 -> 16 -> 48 kHz, 3 ms) leaves under
		 * the VAD's -50 dBFS (a frame later without the suppressor). */
		g_assert_cmpint(plain[k], >=, 0);
		g_assert_cmpint(plain[k], <=, 7);
		g_assert_cmpint(cancelled[k], >=, plain[k]);
		g_assert_cmpint(cancelled[k], <=, plain[k] + 2);
	}
	/* A speakerphone: over its echo, cancelled, the agent starts no turn
	 * of its own and hears the "okay" as soon.  (Not yet over a -6 dB
	 * echo: 60 ms, frames 15-16; 250 ms, frames 18-24 or never.  The
	 * gate takes the "o", no louder than that echo, for echo.) */
	static const echo_path paths[] = {{60, -20}, {150, -12}, {250, -20}};
	for (unsigned e = 0; e < G_N_ELEMENTS(paths); e++)
		for (int k = 0; k < SHIFTS; k += 2) {
			call c;
			call_new(&c, &greeting, &answer, &okay, 2 * k, paths[e]);
			int early = 0;
			int onset = onset_frame(&c, true, &echo_frames, &early);
			if (g_test_verbose())
				g_printerr("echo %d ms %.0f dB, \"okay\" %2d ms into its packet: "
				           "onset at frame %d, %d turns before\n",
				           paths[e].delay_ms, paths[e].gain_db, 2 * k, onset,
				           early);
			g_assert_cmpint(early, ==, 0);
			g_assert_cmpint(onset, >=, plain[k]);
			g_assert_cmpint(onset, <=, plain[k] + 2);
			call_free(&c);
		}
	g_free(greeting.pcm);
	g_free(answer.pcm);
	g_free(okay.pcm);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/echo_onset/okay", test_okay_onset);
	return g_test_run();
}
