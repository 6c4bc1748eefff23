/* DTMF: RFC 4733 telephone-event packets in and out, and the SIP INFO
 * bodies (application/dtmf-relay, application/dtmf) phones also send.
 * Pure functions and small state machines; the RTP endpoint drives them. */
#ifndef SB_MEDIA_DTMF_H
#define SB_MEDIA_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
