/* The media module: what happens to audio between the network and the mix.
 * Codecs (Opus, G.711, G.722, with resampling inside), the jitter buffer,
 * RTP and its audio-level extension, RFC 4733 DTMF, SDES-SRTP and voice
 * activity detection.  Nothing here depends on Janus or on any other module
 * of the plugin, so each part is unit-tested (and fuzzed) on its own. */
#ifndef SB_MEDIA_MEDIA_H
#define SB_MEDIA_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- codec ----
 * Audio codecs used in rooms: Opus, G.711 mu-law/A-law, G.722.
 *
 * Every decoder produces mono int16 PCM at the room's mixing rate and every
 * encoder consumes it, so the mixer never sees a codec's native rate:
 * resampling (speexdsp) lives inside this module.  All frames are 20 ms.
 * Nothing here depends on Janus, so it is unit-tested on its own. */
#define SB_FRAME_MS 20
/* Largest frame we ever handle: 20 ms at 48 kHz. */
#define SB_MAX_FRAME_SAMPLES 960
/* Largest encoded payload we produce or accept for one frame. */
#define SB_MAX_PAYLOAD 1500

typedef enum {
	SB_CODEC_OPUS = 0,
	SB_CODEC_PCMU,
	SB_CODEC_PCMA,
	SB_CODEC_G722,
	SB_CODEC_COUNT
} sb_codec_id;

/* "opus", "pcmu", "pcma", "g722" (lower case). */
const char *sb_codec_name(sb_codec_id codec);
/* Case-insensitive; false for an unknown name. */
bool sb_codec_from_name(const char *name, sb_codec_id *out);
/* Static payload type (0, 8, 9) or our default dynamic one for Opus (111). */
int sb_codec_default_payload_type(sb_codec_id codec);
/* RTP clock rate: 48000 for Opus, 8000 for G.711 and (per RFC 3551) G.722. */
int sb_codec_rtp_clock(sb_codec_id codec);
/* Samples per 20 ms frame at the given rate. */
static inline int sb_frame_samples(int rate) { return rate / (1000 / SB_FRAME_MS); }

typedef struct sb_decoder sb_decoder;

/* out_rate: 8000, 16000 or 48000.  NULL on failure. */
sb_decoder *sb_decoder_new(sb_codec_id codec, int out_rate);
void sb_decoder_free(sb_decoder *dec);
/* Decodes one packet's payload into one 20 ms frame at out_rate.
 * Returns the number of samples written (sb_frame_samples(out_rate)),
 * or -1 for a payload the codec rejects (the caller counts and conceals). */
int sb_decoder_decode(sb_decoder *dec, const uint8_t *payload, size_t len, int16_t *pcm);
/* Whether sb_decoder_decode would take this payload as one 20 ms frame,
 * judged from its size or header alone (no decoding). */
bool sb_decoder_accepts(const sb_decoder *dec, const uint8_t *payload, size_t len);
/* Back to the state of a new decoder: for packets that follow a gap the
 * decoder did not see, where its old state would only be wrong. */
void sb_decoder_restart(sb_decoder *dec);
/* Fills one 20 ms frame for a lost packet.  When the next packet's payload is
 * known (next != NULL) and the codec carries in-band FEC (Opus), the frame is
 * recovered from it; otherwise packet-loss concealment.  Returns samples. */
int sb_decoder_conceal(sb_decoder *dec, const uint8_t *next, size_t next_len, int16_t *pcm);
/* The packet of this slot was silence and was not decoded (the mixer skips
 * silent frames).  Concealing a loss after it then gives silence: the last
 * decoded frame is a word said before the pause, and repeating it would put
 * that word back on the line (the agent took it for the caller speaking).
 * Until the next decode; Opus FEC from the next packet is still used. */
void sb_decoder_skipped(sb_decoder *dec);

/* What an Opus payload says of speech without being decoded: the SILK
 * layer's voice-activity flag (RFC 6716 4.2.3), the first bit its range
 * coder yields — the top bit of the byte after the TOC in a one-frame
 * packet of SILK or hybrid mode.  UNKNOWN when the packet does not carry
 * it (CELT mode, several frames, too short to hold a frame).  The flag is
 * the encoder's opinion of speech, not of loudness (a steady tone started
 * over a noise floor has it off, measured with libopus 1.3), so it never
 * decides alone that a frame is silent. */
typedef enum {
	SB_VOICE_UNKNOWN = -1,
	SB_VOICE_INACTIVE = 0,
	SB_VOICE_ACTIVE = 1,
} sb_voice_flag;
sb_voice_flag sb_opus_voice_flag(const uint8_t *payload, size_t len);

/* The mean square of a G.711 payload's samples (16-bit scale) read straight
 * from the companded bytes, without decoding to the mixing rate; -1 for
 * another codec or an empty payload.  G.711 has no state, so a frame found
 * silent this way need not be decoded at all. */
double sb_g711_mean_square(sb_codec_id codec, const uint8_t *payload, size_t len);

typedef struct sb_encoder_options {
	int bitrate;    /* bits/s, 0 = codec default (Opus: 32000) */
	int complexity; /* Opus 0..10, -1 = default (10 like Janus AudioBridge) */
	bool fec;       /* Opus in-band FEC */
	int expected_loss_pct; /* Opus, with fec */
} sb_encoder_options;

typedef struct sb_encoder sb_encoder;

/* in_rate: 8000, 16000 or 48000.  opts may be NULL for defaults. */
sb_encoder *sb_encoder_new(sb_codec_id codec, int in_rate, const sb_encoder_options *opts);
void sb_encoder_free(sb_encoder *enc);
/* Encodes one 20 ms frame (sb_frame_samples(in_rate) samples).
 * Returns payload bytes, or -1 on error. */
int sb_encoder_encode(sb_encoder *enc, const int16_t *pcm, uint8_t *out, size_t max);
/* RTP timestamp increment per 20 ms frame for this codec (960, 160, 160). */
uint32_t sb_codec_rtp_ts_step(sb_codec_id codec);

/* ---- jitter ----
 * Per-participant jitter buffer for 20 ms audio packets.
 *
 * Written here rather than taken from speexdsp because Opus in-band FEC
 * needs to look at the packet *after* a gap before that packet's own turn,
 * which speexdsp's JitterBuffer cannot do.
 *
 * Producer: the network thread (ICE loop / RTP socket thread) calls
 * sb_jitter_put.  Consumer: the mixer calls sb_jitter_get once per 20 ms
 * tick.  Both are O(1) and take a short internal mutex; neither blocks. */

typedef struct sb_jitter sb_jitter;

typedef struct sb_jitter_stats {
	uint64_t received;   /* packets accepted */
	uint64_t late;       /* arrived after their playout slot: dropped */
	uint64_t duplicate;  /* same sequence number twice: dropped */
	uint64_t overflow;   /* buffer full (sender too fast / clock skew): dropped */
	uint64_t lost;       /* slots played with no packet (concealed) */
	uint64_t recovered;  /* of those, recovered with FEC from the next packet */
	uint64_t reset;      /* resynchronisations after a sequence/timestamp jump */
	uint64_t invalid;    /* empty or larger than SB_MAX_PAYLOAD, or a stray far
	                        out of sequence that no next packet confirmed: dropped */
	int depth;           /* current target delay, in frames */
} sb_jitter_stats;

/* min_frames/max_frames: bounds of the adaptive playout delay (in 20 ms
 * frames), e.g. 1 and 10.  ts_step: RTP timestamp increment per frame. */
sb_jitter *sb_jitter_new(int min_frames, int max_frames, uint32_t ts_step);
void sb_jitter_free(sb_jitter *jb);

/* Queues a copy of one packet's payload.  Returns false (and counts why) when
 * the packet is dropped: late, duplicate, oversized or buffer full. */
bool sb_jitter_put(sb_jitter *jb, uint16_t seq, uint32_t rtp_ts, const uint8_t *payload, size_t len);

/* The same, carrying the packet's RFC 6464 audio level (-1: unknown), which
 * comes back from sb_jitter_get_level with the packet: the mixer can skip
 * decoding silence. */
bool sb_jitter_put_level(sb_jitter *jb, uint16_t seq, uint32_t rtp_ts, const uint8_t *payload,
                         size_t len, int level);

typedef enum {
	SB_JITTER_EMPTY = 0, /* nothing to play: not started yet, or stream idle */
	SB_JITTER_PACKET,    /* payload holds the packet due now */
	SB_JITTER_LOST,      /* the packet due now is missing; if next_len > 0,
	                        payload holds the following packet (for FEC) */
} sb_jitter_result;

/* Takes the frame due at this tick.  payload must hold SB_MAX_PAYLOAD bytes;
 * *len receives its length.  Prebuffering: returns EMPTY until the target
 * delay is reached.  After a long gap with no packets (the sender stopped,
 * e.g. DTX or a muted browser) it returns EMPTY rather than LOST forever. */
sb_jitter_result sb_jitter_get(sb_jitter *jb, uint8_t *payload, size_t *len);

/* The same; *level is the packet's level for SB_JITTER_PACKET, else -1. */
sb_jitter_result sb_jitter_get_level(sb_jitter *jb, uint8_t *payload, size_t *len, int *level);

void sb_jitter_get_stats(sb_jitter *jb, sb_jitter_stats *out);

/* ---- rtp ----
 * RTP (RFC 3550) header parsing and writing, and the RFC 6464 audio-level
 * header extension.  Every byte comes from the network, so the parser
 * checks every length before it reads. */

#define SB_RTP_HEADER_SIZE 12

typedef struct sb_rtp_packet {
	uint8_t payload_type;
	bool marker;
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;
	const uint8_t *payload;
	size_t payload_len;
	int audio_level; /* RFC 6464 level 0..127 (-dBov), or -1 when absent */
	bool voice;      /* RFC 6464 V bit */
} sb_rtp_packet;

/* audio_level_ext_id: the one-byte extension id (1..14) carrying the audio
 * level, or 0 to ignore extensions.  Returns false for anything that is not
 * a well-formed RTP packet (wrong version, truncated, bad padding). */
bool sb_rtp_parse(const uint8_t *buf, size_t len, int audio_level_ext_id, sb_rtp_packet *out);

/* Looks like RTCP (RFC 5761 demultiplexing: payload types 64-95). */
bool sb_rtp_is_rtcp(const uint8_t *buf, size_t len);

/* Writes a 12-byte header; returns SB_RTP_HEADER_SIZE. */
size_t sb_rtp_write_header(uint8_t *buf, uint8_t payload_type, bool marker, uint16_t seq,
                           uint32_t timestamp, uint32_t ssrc);

/* ---- dtmf ----
 * DTMF: RFC 4733 telephone-event packets in and out, and the SIP INFO
 * bodies (application/dtmf-relay, application/dtmf) phones also send.
 * Pure functions and small state machines; the RTP endpoint drives them. */

/* "0123456789*#ABCD" <-> events 0..15; -1 / '\0' when not a digit. */
int sb_dtmf_event_from_digit(char digit);
char sb_dtmf_digit_from_event(int event);
/* True when every character of digits is a DTMF digit (or 'w', a 500 ms
 * pause, when allow_pause) and there are 1..max of them. */
bool sb_dtmf_digits_valid(const char *digits, size_t max, bool allow_pause);

/* Receiving: one detector per stream turns the packets of an event
 * (repeated, with growing duration, the last three marked End) into
 * exactly one digit, reported when the event starts. */
typedef struct sb_dtmf_detector {
	bool active;
	uint32_t timestamp; /* of the event being received */
} sb_dtmf_detector;

/* payload: the RTP payload of a telephone-event packet.  Returns the new
 * digit, or '\0' for repeats, end packets and malformed payloads. */
char sb_dtmf_detect(sb_dtmf_detector *d, uint32_t rtp_timestamp, const uint8_t *payload,
                    size_t len);

/* Sending: a queue of digits played as RFC 4733 events in the place of
 * outgoing audio packets (same SSRC and sequence numbers). */
#define SB_DTMF_QUEUE_MAX 32
typedef struct sb_dtmf_sender {
	char queue[SB_DTMF_QUEUE_MAX + 1];
	size_t queued;
	int event;         /* playing now, -1 when idle */
	int packets_sent;  /* of the current event */
	int gap_frames;    /* audio frames still to send before the next digit */
	uint32_t start_ts; /* RTP timestamp of the current event */
} sb_dtmf_sender;

void sb_dtmf_sender_init(sb_dtmf_sender *s);
/* Appends digits; false (nothing queued) when they do not fit or are invalid. */
bool sb_dtmf_sender_push(sb_dtmf_sender *s, const char *digits);
/* Called for every outgoing audio frame with its RTP timestamp and the
 * clock ticks of one frame.  Returns true and fills payload[4] with the
 * telephone-event payload to send instead of the audio (*timestamp and
 * *marker set for the header), or false: send the audio. */
bool sb_dtmf_sender_next(sb_dtmf_sender *s, uint32_t frame_ts, uint32_t frame_ticks,
                         uint8_t payload[4], uint32_t *timestamp, bool *marker);

/* A SIP INFO body: "Signal=5\r\nDuration=160" (application/dtmf-relay) or
 * "5" (application/dtmf).  Returns the digit or '\0'. */
char sb_dtmf_from_info(const char *content_type, const char *body, size_t len);

/* ---- srtp ----
 * SDES-SRTP (RFC 4568, RFC 3711) for plain RTP legs: the
 * AES_CM_128_HMAC_SHA1_80 suite Twilio's secure trunking uses.  One session
 * per direction, so the I/O thread (unprotect) and the mixer (protect)
 * never share libsrtp state. */

#define SB_SRTP_SUITE "AES_CM_128_HMAC_SHA1_80"
#define SB_SRTP_KEY_B64_LEN 40 /* 30 bytes of key and salt, base64 */
#define SB_SRTP_TAG_LEN 10     /* what protect adds to a packet */

typedef struct sb_srtp sb_srtp;

/* A fresh random key, base64, NUL-terminated. */
void sb_srtp_new_key(char out[SB_SRTP_KEY_B64_LEN + 1]);
/* From an a=crypto value ("1 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31"):
 * the tag and the key.  False for another suite or a malformed key. */
bool sb_srtp_parse_crypto(const char *crypto, int *tag, char key[SB_SRTP_KEY_B64_LEN + 1]);
/* NULL when a key is not 30 bytes of base64. */
sb_srtp *sb_srtp_new(const char *our_key, const char *their_key);
void sb_srtp_free(sb_srtp *s);
/* In place; buf has room for SB_SRTP_TAG_LEN more bytes.  False: drop. */
bool sb_srtp_protect(sb_srtp *s, uint8_t *buf, size_t *len);
bool sb_srtp_unprotect(sb_srtp *s, uint8_t *buf, size_t *len);

/* ---- vad ----
 * Voice activity detection for the agent's ears: frame energy against an
 * adaptive noise floor, with an onset time (so clicks and coughs do not
 * count) and a hangover (so pauses between words do not end a turn).  A
 * turn starts only when the onset also holds one voice's pitch unbroken
 * for a vowel's time: frames whose (8 kHz) autocorrelation has a clear peak
 * at a lag of 2.5-16 ms that moves little from frame to frame.  Fans and
 * street noise have no such peak, and in the babble of many voices it
 * comes and goes and jumps between talkers, and is no louder than the
 * babble around it (a caller's voice is: the onset must stand 5 dB over
 * the unpitched background).  A turn that has started is kept by energy
 * alone (consonants, soft endings).
 * Pure and synchronous; one instance per stream. */

typedef struct sb_vad_config {
	int frame_ms;        /* 20 */
	int onset_ms;        /* speech must last this long to start a turn */
	int hangover_ms;     /* silence this long ends the turn */
	float margin_db;     /* above the noise floor to count as voice */
	float min_level_db;  /* and at least this loud (dBFS) */
	int rate;            /* samples per second: 16000 when 0 */
	/* Unbroken pitched time the onset must hold: 100 ms when 0, none
	 * when negative (energy alone).  The turn may then start later than
	 * onset_ms after the first voiced frame: voiced_ms says when. */
	int onset_voiced_ms;
} sb_vad_config;

typedef enum {
	SB_VAD_SILENCE = 0,
	SB_VAD_SPEECH_START, /* this frame confirmed the onset */
	SB_VAD_SPEECH,       /* inside a turn */
	SB_VAD_SPEECH_END,   /* the hangover ran out: the turn is over */
} sb_vad_event;

#define SB_VAD_HISTORY 150 /* frames: 3 s of floor history at 20 ms */
#define SB_VAD_PITCH_WINDOW 320 /* 8 kHz samples analysed: this frame and the last */

typedef struct sb_vad {
	sb_vad_config cfg;
	/* Noise floor by minimum statistics: the quietest frame of the last
	 * few seconds.  Steady noise becomes the floor; speech has pauses. */
	float history[SB_VAD_HISTORY];
	int history_len, history_pos;
	float noise_db;
	int voiced_ms;    /* consecutive voiced time (onset) */
	int pitched_ms;   /* unbroken time with a voice's pitch */
	double pitched_power; /* summed over it (mean square, full scale 1) */
	/* The last frame's power if a voice may have begun in it (voiced out
	 * of quiet), else 0. */
	double rise_power;
	/* The mean power of frames without a pitch outside turns (about the
	 * last second): the background a voice must stand out of. */
	double background;
	unsigned background_frames;
	int quiet_ms;     /* consecutive unvoiced time inside a turn */
	bool in_speech;
	float last_db;
	float last_pitch; /* the last frame's periodicity, 0..1 */
	int last_lag;     /* and its period, in 8 kHz samples (0: none) */
	/* The previous frame at 8 kHz, pre-emphasised: a pitch period of up to
	 * 16 ms needs more than one 20 ms frame to be seen twice. */
	float history_8k[SB_VAD_PITCH_WINDOW / 2];
} sb_vad;

/* Conversation defaults: 100 ms onset, 300 ms hangover, 12 dB margin. */
void sb_vad_init(sb_vad *vad, const sb_vad_config *cfg);
/* Feeds one frame; floor_db > -INFINITY raises the bar for this frame (the
 * agent's own output level while it talks, against its echo). */
sb_vad_event sb_vad_process(sb_vad *vad, const int16_t *pcm, int samples, float floor_db);
/* Energy of a frame in dBFS (-100 for digital silence). */
float sb_frame_dbfs(const int16_t *pcm, int samples);
/* How periodic a voice would make it, 0..1: the highest prominent
 * normalised autocorrelation peak at a pitch lag (60-400 Hz) of the 8 kHz,
 * pre-emphasised signal (history: the previous call's frame, updated);
 * *lag (may be NULL): where, in 8 kHz samples (0: no peak). */
float sb_frame_pitch(float history_8k[SB_VAD_PITCH_WINDOW / 2], const int16_t *pcm, int samples,
                     int rate, int *lag);

/* ---- echo ----
 * Echo cancellation of one leg from what the mixer sent it: the mixer
 * knows sample-exactly what every listener was sent (the far end), so the
 * echo of it in what the leg sends back is estimated by an adaptive filter
 * (speexdsp's MDF) and removed, and what is left of it suppressed
 * (speexdsp's preprocessor, with its noise suppression).  Works at 16 kHz
 * (the room's rate when lower): a leg of a wider room is band-limited to
 * 8 kHz for as long as it has a canceller, which no voice on a call misses
 * (and its delay never changes, so nothing clicks).  One per leg, touched
 * by one thread. */

typedef struct sb_echo sb_echo;

typedef struct sb_echo_stats {
	uint64_t frames;    /* frames the filter ran on (the far end was live) */
	/* Energy of the capture before and after, over frames the far end was
	 * live: their ratio is the echo return loss enhancement while the
	 * near end is silent. */
	double energy_in, energy_out;
} sb_echo_stats;

/* rate: the room's; tail_ms: the longest echo path it cancels (delay and
 * reverberation; 100..1000).  NULL on a bad rate or when out of memory. */
sb_echo *sb_echo_new(int rate, int tail_ms);
void sb_echo_free(sb_echo *e);
/* One 20 ms frame: capture (what the leg sent, at the room's rate) is
 * cleaned in place of the echo of `sent` (what the leg was sent the frame
 * before; NULL: silence).  Where the far end has been silent for longer
 * than the tail there is no echo to remove and the filter rests.  Returns
 * true when capture was changed (always, in a room wider than 16 kHz). */
bool sb_echo_process(sb_echo *e, int16_t *capture, const int16_t *sent, int samples);
void sb_echo_get_stats(const sb_echo *e, sb_echo_stats *out);

/* ---- denoise ----
 * Noise suppression and automatic gain for what one inbound leg sends
 * (speexdsp's preprocessor), after its echo is cancelled and before the
 * VAD, the STT and the mix hear it: a phone in a car or a café is heard
 * with less of the car and the café, a quiet one louder.  One per leg, at
 * its room's rate, fed every 20 ms frame in order. */

typedef struct sb_denoise sb_denoise;

typedef struct sb_denoise_config {
	bool suppress;       /* noise suppression */
	int suppress_db;     /* how far noise is pushed down (1..60; 15 when 0) */
	bool agc;            /* automatic gain */
	int agc_level_dbfs;  /* the level speech is brought to (-40..-6; -20 when 0) */
	int agc_max_gain_db; /* the most it raises a quiet leg (0..40; 20 when 0) */
} sb_denoise_config;

/* samples: one 20 ms frame at rate.  NULL on a bad rate or when nothing
 * is asked for. */
sb_denoise *sb_denoise_new(int rate, int samples, const sb_denoise_config *cfg);
void sb_denoise_free(sb_denoise *d);
/* In place; samples as given to sb_denoise_new. */
void sb_denoise_process(sb_denoise *d, int16_t *pcm);

#endif
