/* Incremental Server-Sent Events parser (net.h, "sse"): a state machine
 * fed the body in chunks as they come off the socket, split anywhere — in
 * a line, between CR and LF, in a UTF-8 BOM — so that the streamed LLMs
 * can act on each event at once instead of waiting for the whole reply.
 * Lines and events are bounded: a hostile stream stops the parser with an
 * error rather than growing without limit. */
#include "net/net.h"

#include <string.h>

#include <glib.h>

struct sb_sse_parser {
	sb_sse_event_cb cb;
	void *user;
	GString *line;
	GString *data;
	GString *event;
	GString *id;
	size_t events;
	bool first_line; /* a BOM may start it */
	bool after_cr;   /* the previous chunk ended in CR: skip one LF */
	bool stopped;
	const char *error;
};

sb_sse_parser *sb_sse_new(sb_sse_event_cb cb, void *user)
{
	sb_sse_parser *p = g_new0(sb_sse_parser, 1);
	p->cb = cb;
	p->user = user;
	p->line = g_string_new(NULL);
	p->data = g_string_new(NULL);
	p->event = g_string_new(NULL);
	p->id = g_string_new(NULL);
	p->first_line = true;
	return p;
}

void sb_sse_free(sb_sse_parser *p)
{
	if (!p)
		return;
	g_string_free(p->line, TRUE);
	g_string_free(p->data, TRUE);
	g_string_free(p->event, TRUE);
	g_string_free(p->id, TRUE);
	g_free(p);
}

const char *sb_sse_error(const sb_sse_parser *p)
{
	return p->error;
}

size_t sb_sse_events(const sb_sse_parser *p)
{
	return p->events;
}

static bool dispatch(sb_sse_parser *p)
{
	if (p->data->len == 0) {
		g_string_truncate(p->event, 0);
		return true;
	}
	/* The buffer ends in the LF appended after the last data line. */
	g_string_truncate(p->data, p->data->len - 1);
	const char *type = p->event->len ? p->event->str : "message";
	p->events++;
	bool more = p->cb ? p->cb(p->user, type, p->data->str, p->data->len, p->id->str) : true;
	g_string_truncate(p->data, 0);
	g_string_truncate(p->event, 0);
	return more;
}

static bool field(sb_sse_parser *p, const char *name, size_t name_len, const char *value,
                  size_t value_len)
{
	if (name_len == 4 && memcmp(name, "data", 4) == 0) {
		if (p->data->len + value_len + 1 > SB_SSE_MAX_DATA) {
			p->error = "event data too large";
			return false;
		}
		g_string_append_len(p->data, value, (gssize)value_len);
		g_string_append_c(p->data, '\n');
	} else if (name_len == 5 && memcmp(name, "event", 5) == 0) {
		g_string_truncate(p->event, 0);
		g_string_append_len(p->event, value, (gssize)value_len);
	} else if (name_len == 2 && memcmp(name, "id", 2) == 0) {
		if (!memchr(value, '\0', value_len)) {
			g_string_truncate(p->id, 0);
			g_string_append_len(p->id, value, (gssize)value_len);
		}
	}
	/* "retry" and anything else: ignored. */
	return true;
}

static bool process_line(sb_sse_parser *p)
{
	const char *s = p->line->str;
	size_t len = p->line->len;
	if (p->first_line) {
		p->first_line = false;
		if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			len -= 3;
		}
	}
	if (len == 0)
		return dispatch(p);
	if (s[0] == ':')
		return true; /* comment */
	const char *colon = memchr(s, ':', len);
	if (!colon)
		return field(p, s, len, "", 0);
	size_t name_len = (size_t)(colon - s);
	const char *value = colon + 1;
	size_t value_len = len - name_len - 1;
	if (value_len > 0 && value[0] == ' ') {
		value++;
		value_len--;
	}
	return field(p, s, name_len, value, value_len);
}

bool sb_sse_feed(sb_sse_parser *p, const char *data, size_t len)
{
	if (p->stopped)
		return false;
	size_t i = 0;
	while (i < len) {
		if (p->after_cr) {
			p->after_cr = false;
			if (data[i] == '\n') {
				i++;
				continue;
			}
		}
		size_t j = i;
		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		if (p->line->len + (j - i) > SB_SSE_MAX_LINE) {
			p->error = "line too long";
			p->stopped = true;
			return false;
		}
		g_string_append_len(p->line, data + i, (gssize)(j - i));
		if (j == len)
			break; /* the line goes on in the next chunk */
		if (data[j] == '\r')
			p->after_cr = true;
		bool more = process_line(p);
		g_string_truncate(p->line, 0);
		if (!more) {
			p->stopped = true;
			return false;
		}
		i = j + 1;
	}
	return true;
}
