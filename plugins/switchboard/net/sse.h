/* An incremental Server-Sent Events parser (text/event-stream as the WHATWG
 * HTML standard, §9.2.5-9.2.6, defines it): feed it the body in chunks of
 * any size, split anywhere; it calls back once per dispatched event.
 *
 * Lines end in CRLF, LF or CR; a leading UTF-8 BOM is skipped; lines that
 * start with ':' are comments; "field: value" loses one space after the
 * colon; a line without a colon is a field with an empty value; data lines
 * are joined with '\n'; a blank line dispatches (nothing when no data
 * line came); the event type resets after each dispatch, the last event
 * id does not (an id containing NUL is ignored); "retry" and unknown
 * fields are ignored; an event not ended by a blank line at the end of the
 * stream is dropped. */
#ifndef SB_SSE_H
#define SB_SSE_H

#include <stdbool.h>
#include <stddef.h>

/* event: the type ("message" when none was given); data: NUL-terminated
 * but data_len is authoritative (a hostile stream may hold NULs); id: the
 * last event id ("" when none).  Return false to stop parsing: feed()
 * then returns false and ignores further input. */
typedef bool (*sb_sse_event_cb)(void *user, const char *event, const char *data, size_t data_len,
                                const char *id);

typedef struct sb_sse_parser sb_sse_parser;

#define SB_SSE_MAX_LINE (1024 * 1024)
#define SB_SSE_MAX_DATA (4 * 1024 * 1024)

sb_sse_parser *sb_sse_new(sb_sse_event_cb cb, void *user);
void sb_sse_free(sb_sse_parser *p);
/* false when the callback stopped the parser or a line / an event's data
 * went over the limits above (sb_sse_error() says which). */
bool sb_sse_feed(sb_sse_parser *p, const char *data, size_t len);
/* NULL, or why the parser stopped on its own. */
const char *sb_sse_error(const sb_sse_parser *p);
/* Events dispatched so far. */
size_t sb_sse_events(const sb_sse_parser *p);

#endif
