/* Twilio Media Streams (WS /twilio/stream, bidirectional <Connect><Stream>):
 * the call becomes a participant of kind twilio in its room.  μ-law 8 kHz
 * in both directions in 20 ms frames; a mark after each stretch of agent
 * audio; `clear` when the agent is interrupted (barge-in) so Twilio drops
 * what it has queued; dtmf events published; a clean end on `stop` or when
 * the socket closes.  Bad input (binary frames, bad JSON or base64, media
 * before `start`) gets the socket closed with a clear code and reason. */
#ifndef SB_TWILIO_MEDIA_STREAM_H
#define SB_TWILIO_MEDIA_STREAM_H

#include <stdint.h>

void sb_twilio_streams_start(void);
void sb_twilio_streams_stop(void);

typedef struct sb_twilio_stream_stats {
	uint64_t open; /* sockets now */
	uint64_t frames_in, frames_out, frames_dropped;
	uint64_t bad_messages; /* refused: binary, bad JSON, bad base64, out of order */
	uint64_t clears;       /* barge-ins sent to Twilio */
} sb_twilio_stream_stats;
void sb_twilio_streams_get_stats(sb_twilio_stream_stats *out);

#endif
