#include "media/media.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char digits_table[] = "0123456789*#ABCD";

/* A digit plays for 100 ms (5 frames of 20 ms), its End is sent three
 * times (RFC 4733 section 2.5.1.4), then 40 ms of audio before the next. */
#define TONE_FRAMES 5
#define END_REPEATS 3
#define GAP_FRAMES 2
#define PAUSE_FRAMES 25 /* 'w' */
#define VOLUME 10       /* -10 dBm0 */

int sb_dtmf_event_from_digit(char digit)
{
	const char *at = digit ? strchr(digits_table, toupper((unsigned char)digit)) : NULL;
	return at ? (int)(at - digits_table) : -1;
}

char sb_dtmf_digit_from_event(int event)
{
	return event >= 0 && event < 16 ? digits_table[event] : '\0';
}

bool sb_dtmf_digits_valid(const char *digits, size_t max, bool allow_pause)
{
	size_t n = digits ? strlen(digits) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sb_dtmf_event_from_digit(digits[i]) < 0 && !(allow_pause && digits[i] == 'w'))
			return false;
	return true;
}

char sb_dtmf_detect(sb_dtmf_detector *d, uint32_t rtp_timestamp, const uint8_t *payload, size_t len)
{
	if (len < 4)
		return '\0';
	char digit = sb_dtmf_digit_from_event(payload[0]);
	if (!digit)
		return '\0';
	/* All packets of one event share its timestamp; a new timestamp is a
	 * new key press, even if the previous End was lost. */
	if (d->active && d->timestamp == rtp_timestamp)
		return '\0';
	d->active = true;
	d->timestamp = rtp_timestamp;
	return digit;
}

void sb_dtmf_sender_init(sb_dtmf_sender *s)
{
	memset(s, 0, sizeof(*s));
	s->event = -1;
}

bool sb_dtmf_sender_push(sb_dtmf_sender *s, const char *digits)
{
	size_t n = digits ? strlen(digits) : 0;
	if (!sb_dtmf_digits_valid(digits, SB_DTMF_QUEUE_MAX, true) ||
	    s->queued + n > SB_DTMF_QUEUE_MAX)
		return false;
	memcpy(s->queue + s->queued, digits, n);
	s->queued += n;
	s->queue[s->queued] = '\0';
	return true;
}

bool sb_dtmf_sender_next(sb_dtmf_sender *s, uint32_t frame_ts, uint32_t frame_ticks,
                         uint8_t payload[4], uint32_t *timestamp, bool *marker)
{
	if (s->gap_frames > 0) {
		s->gap_frames--;
		return false;
	}
	if (s->event < 0) {
		if (s->queued == 0)
			return false;
		char next = s->queue[0];
		memmove(s->queue, s->queue + 1, s->queued); /* with the NUL */
		s->queued--;
		if (next == 'w') {
			s->gap_frames = PAUSE_FRAMES - 1;
			return false;
		}
		s->event = sb_dtmf_event_from_digit(next);
		s->packets_sent = 0;
		s->start_ts = frame_ts;
	}
	int n = s->packets_sent++;
	bool end = n >= TONE_FRAMES - 1;
	uint32_t duration = frame_ticks * (uint32_t)((end ? TONE_FRAMES - 1 : n) + 1);
	if (duration > 0xffff)
		duration = 0xffff;
	payload[0] = (uint8_t)s->event;
	payload[1] = (uint8_t)((end ? 0x80 : 0) | VOLUME);
	payload[2] = (uint8_t)(duration >> 8);
	payload[3] = (uint8_t)(duration & 0xff);
	*timestamp = s->start_ts;
	*marker = n == 0;
	if (n >= TONE_FRAMES - 1 + END_REPEATS - 1) {
		s->event = -1;
		s->gap_frames = GAP_FRAMES;
	}
	return true;
}

char sb_dtmf_from_info(const char *content_type, const char *body, size_t len)
{
	if (!content_type || !body || len == 0 || len > 256)
		return '\0';
	char text[257];
	memcpy(text, body, len);
	text[len] = '\0';
	if (!strcasecmp(content_type, "application/dtmf")) {
		char *p = text;
		while (isspace((unsigned char)*p))
			p++;
		char d = *p;
		if (d && (!p[1] || isspace((unsigned char)p[1])) &&
		    sb_dtmf_event_from_digit(d) >= 0)
			return (char)toupper((unsigned char)d);
		/* Some phones send the event number. */
		char *end = NULL;
		long ev = strtol(p, &end, 10);
		return end != p && ev >= 0 && ev < 16 ? sb_dtmf_digit_from_event((int)ev) : '\0';
	}
	if (strcasecmp(content_type, "application/dtmf-relay") != 0)
		return '\0';
	for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		while (isspace((unsigned char)*line))
			line++;
		if (strncasecmp(line, "Signal", 6) != 0)
			continue;
		char *eq = strchr(line, '=');
		if (!eq)
			return '\0';
		eq++;
		while (isspace((unsigned char)*eq))
			eq++;
		if (!*eq)
			return '\0';
		char d = (char)toupper((unsigned char)*eq);
		if (sb_dtmf_event_from_digit(d) >= 0 && (!eq[1] || isspace((unsigned char)eq[1])))
			return d;
		char *end = NULL;
		long ev = strtol(eq, &end, 10);
		return end != eq && ev >= 0 && ev < 16 ? sb_dtmf_digit_from_event((int)ev) : '\0';
	}
	return '\0';
}
