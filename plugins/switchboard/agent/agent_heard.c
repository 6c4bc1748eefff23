/* What the caller heard of the agent's speech, chunk by chunk, when a
 * listener can confirm it (Twilio marks): on a barge-in the agent keeps only
 * the chunks that were heard.  A leaf mutex; the mixer only notes. */
#include "agent/agent_private.h"

#include <glib.h>

#define KEEP 64 /* chunks remembered: a long answer has a dozen */

typedef struct chunk {
	unsigned id;
	uint64_t start;
	char *text;
} chunk;

struct sb_heard {
	GMutex mutex;
	GArray *chunks;        /* chunk, oldest first; the current answer's and older */
	unsigned next_id;      /* ids start at 1 */
	unsigned answer_first; /* first id of the current answer */
	unsigned played;       /* last id played out (mixer) */
	unsigned announced;    /* last id handed to sb_heard_take_played */
	unsigned confirmed;    /* last id a listener heard */
	unsigned stale_upto;   /* confirmations up to here come too late */
	bool active;
};

static void chunk_clear(gpointer data)
{
	g_free(((chunk *)data)->text);
}

sb_heard *sb_heard_new(void)
{
	sb_heard *h = g_new0(sb_heard, 1);
	g_mutex_init(&h->mutex);
	h->chunks = g_array_new(FALSE, TRUE, sizeof(chunk));
	g_array_set_clear_func(h->chunks, chunk_clear);
	h->next_id = 1;
	h->answer_first = 1;
	return h;
}

void sb_heard_free(sb_heard *h)
{
	if (!h)
		return;
	g_array_unref(h->chunks);
	g_mutex_clear(&h->mutex);
	g_free(h);
}

void sb_heard_new_answer(sb_heard *h)
{
	g_mutex_lock(&h->mutex);
	h->answer_first = h->next_id;
	g_mutex_unlock(&h->mutex);
}

unsigned sb_heard_chunk(sb_heard *h, uint64_t start, const char *text)
{
	g_mutex_lock(&h->mutex);
	if (h->chunks->len >= KEEP)
		g_array_remove_index(h->chunks, 0);
	chunk c = {.id = h->next_id++, .start = start, .text = g_strdup(text ? text : "")};
	g_array_append_val(h->chunks, c);
	g_mutex_unlock(&h->mutex);
	return c.id;
}

void sb_heard_played(sb_heard *h, uint64_t played, uint64_t written)
{
	g_mutex_lock(&h->mutex);
	for (guint i = 0; i < h->chunks->len; i++) {
		chunk *c = &g_array_index(h->chunks, chunk, i);
		if (c->id <= h->played)
			continue;
		/* Played out: the next chunk has begun, or all audio is out. */
		bool next_started = i + 1 < h->chunks->len &&
		                    played >= g_array_index(h->chunks, chunk, i + 1).start;
		if (!next_started && !(i + 1 == h->chunks->len && played >= written))
			break;
		h->played = c->id;
	}
	g_mutex_unlock(&h->mutex);
}

unsigned sb_heard_take_played(sb_heard *h)
{
	g_mutex_lock(&h->mutex);
	unsigned id = h->played > h->announced ? h->played : 0;
	if (id)
		h->announced = id;
	g_mutex_unlock(&h->mutex);
	return id;
}

void sb_heard_cleared(sb_heard *h)
{
	g_mutex_lock(&h->mutex);
	/* Nothing queued will play; what was played out stays announced. */
	h->played = h->announced = h->stale_upto = h->next_id - 1;
	g_mutex_unlock(&h->mutex);
}

void sb_heard_confirm(sb_heard *h, unsigned id)
{
	g_mutex_lock(&h->mutex);
	h->active = true;
	if (id > h->stale_upto && id < h->next_id && id > h->confirmed)
		h->confirmed = id;
	g_mutex_unlock(&h->mutex);
}

bool sb_heard_active(sb_heard *h)
{
	g_mutex_lock(&h->mutex);
	bool active = h->active;
	g_mutex_unlock(&h->mutex);
	return active;
}

bool sb_heard_all(sb_heard *h)
{
	g_mutex_lock(&h->mutex);
	bool all = h->confirmed + 1 >= h->next_id;
	g_mutex_unlock(&h->mutex);
	return all;
}

char *sb_heard_answer(sb_heard *h)
{
	GString *s = g_string_new(NULL);
	g_mutex_lock(&h->mutex);
	for (guint i = 0; i < h->chunks->len; i++) {
		chunk *c = &g_array_index(h->chunks, chunk, i);
		if (c->id < h->answer_first || c->id > h->confirmed)
			continue;
		if (s->len)
			g_string_append_c(s, ' ');
		g_string_append(s, c->text);
	}
	g_mutex_unlock(&h->mutex);
	return g_string_free(s, FALSE);
}
