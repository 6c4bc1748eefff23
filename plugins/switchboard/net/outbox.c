/* The outbox: events POSTed to a list of URLs that may be down (net.h).
 *
 * Delivery: per URL one queue, sent one at a time and in order, each event
 * until the receiver answers 2xx, with a backoff of 1 s doubling to 30 s
 * between attempts.  The queue is bounded (OUTBOX_QUEUE_MAX): past it the
 * oldest event waiting is dropped and counted, so a receiver that never
 * answers costs bounded memory.  What waits is also spooled to a file per
 * URL (rewritten at most once a second and at stop) and read back at
 * start: at least once across a restart.
 *
 * Threads: push() runs on any thread and only queues; sending, the timers
 * and the spool run on the outbox's loop thread; the HTTP exchange on the
 * fetch thread. */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jansson.h>

#include <debug.h>

#include "core/core.h"
#include "net/net.h"

#define OUTBOX_QUEUE_MAX 10000
#define OUTBOX_TIMEOUT_MS 10000
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define SPOOL_EVERY_MS 1000

typedef struct target {
	sb_outbox *box;
	char *url;
	GQueue waiting; /* char* bodies, oldest first; the head may be in flight */
	bool in_flight;
	int attempts; /* failed attempts of the head event */
	GSource *retry;
	sb_fetch_request *request;
	char *spool; /* the file its waiting events are kept in */
	bool dirty;  /* waiting changed since the spool was written */
} target;

struct sb_outbox {
	char *name;
	sb_outbox_headers_fn headers;
	void *user;
	sb_loop *loop;
	GSource *spooler;
	GMutex lock; /* everything below, and the targets' fields */
	bool running;
	GPtrArray *targets;
	guint64 sent, failed_attempts, dropped;
};

static void send_head(target *t);

/* ---- sending (loop thread) ---- */

typedef struct outcome {
	target *t;
	long status;
	char *error;
} outcome;

static void outcome_free(gpointer data)
{
	outcome *o = data;
	g_free(o->error);
	g_free(o);
}

static gboolean retry_cb(gpointer data)
{
	target *t = data;
	g_mutex_lock(&t->box->lock);
	t->retry = NULL;
	g_mutex_unlock(&t->box->lock);
	send_head(t);
	return G_SOURCE_REMOVE;
}

static gboolean on_outcome(gpointer data)
{
	outcome *o = data;
	target *t = o->t;
	sb_outbox *box = t->box;
	g_mutex_lock(&box->lock);
	sb_fetch_request *done = t->request;
	t->request = NULL;
	t->in_flight = false;
	bool delivered = !o->error && o->status >= 200 && o->status < 300;
	if (delivered) {
		g_free(g_queue_pop_head(&t->waiting));
		t->dirty = true;
		t->attempts = 0;
		box->sent++;
	} else {
		t->attempts++;
		box->failed_attempts++;
	}
	int backoff = BACKOFF_FIRST_MS;
	for (int i = 1; i < t->attempts && backoff < BACKOFF_MAX_MS; i++)
		backoff *= 2;
	backoff = MIN(backoff, BACKOFF_MAX_MS);
	bool running = box->running;
	g_mutex_unlock(&box->lock);
	if (done)
		sb_fetch_release(done);
	if (!running)
		return G_SOURCE_REMOVE;
	if (delivered) {
		send_head(t);
	} else {
		if (t->attempts == 1) {
			char status[32];
			g_snprintf(status, sizeof(status), "answered %ld", o->status);
			JANUS_LOG(LOG_WARN, "[switchboard] %s %s: %s; retrying with backoff\n",
			          box->name, t->url, o->error ? o->error : status);
		}
		GSource *retry = sb_loop_timeout(box->loop, (guint)backoff, retry_cb, t, NULL);
		g_mutex_lock(&box->lock);
		t->retry = retry;
		g_mutex_unlock(&box->lock);
	}
	return G_SOURCE_REMOVE;
}

/* Fetch thread: hand the outcome to the loop. */
static void on_done(void *user, long status, const char *error)
{
	outcome *o = g_new0(outcome, 1);
	o->t = user;
	o->status = status;
	o->error = g_strdup(error);
	sb_loop_invoke(o->t->box->loop, on_outcome, o, outcome_free);
}

static const sb_fetch_callbacks fetch_callbacks = {.done = on_done};

/* Loop thread: the head event of t, unless one is on its way or waits for
 * its retry.  Its headers are made at each attempt (a signature may not
 * outlive the backoff). */
static void send_head(target *t)
{
	sb_outbox *box = t->box;
	g_mutex_lock(&box->lock);
	char *body = t->in_flight || t->retry || !box->running
	                     ? NULL
	                     : g_strdup(g_queue_peek_head(&t->waiting));
	if (body)
		t->in_flight = true;
	g_mutex_unlock(&box->lock);
	if (!body)
		return;
	size_t len = strlen(body);
	char **headers = box->headers(box->user, body, len);
	sb_fetch_options opt = {.method = "POST",
	                        .url = t->url,
	                        .headers = (const char *const *)headers,
	                        .body = body,
	                        .body_len = len,
	                        .total_timeout_ms = OUTBOX_TIMEOUT_MS};
	char *error = NULL;
	sb_fetch_request *req = sb_fetch_submit(&opt, &fetch_callbacks, t, &error);
	g_mutex_lock(&box->lock);
	if (req && t->in_flight && !t->request)
		t->request = req;
	g_mutex_unlock(&box->lock);
	if (!req)
		on_done(t, 0, error ? error : "cannot send");
	g_free(error);
	g_strfreev(headers);
	g_free(body);
}

static gboolean kick_cb(gpointer data)
{
	send_head(data);
	return G_SOURCE_REMOVE;
}

/* ---- the spool ---- */

/* Writes what t has waiting to its spool (a new file renamed over the
 * old: a crash leaves one or the other).  Not on a request thread. */
static void spool_write(target *t)
{
	sb_outbox *box = t->box;
	g_mutex_lock(&box->lock);
	bool dirty = t->dirty;
	t->dirty = false;
	GString *text = g_string_new(NULL);
	for (GList *l = dirty ? t->waiting.head : NULL; l; l = l->next) {
		g_string_append(text, l->data);
		g_string_append_c(text, '\n');
	}
	g_mutex_unlock(&box->lock);
	GError *error = NULL;
	if (dirty && !g_file_set_contents_full(t->spool, text->str, (gssize)text->len,
	                                       G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
		JANUS_LOG(LOG_WARN, "[switchboard] %s spool %s: %s\n", box->name, t->spool,
		          error->message);
		g_clear_error(&error);
	}
	g_string_free(text, TRUE);
}

static gboolean spool_cb(gpointer data)
{
	sb_outbox *box = data;
	for (guint i = 0; i < box->targets->len; i++)
		spool_write(box->targets->pdata[i]);
	return G_SOURCE_CONTINUE;
}

/* What a previous run left waiting for t, oldest first, within the bound;
 * a line that is not a JSON object is not an event of ours: skipped. */
static void spool_read(target *t)
{
	char *text = NULL;
	gsize len = 0;
	if (!g_file_get_contents(t->spool, &text, &len, NULL))
		return;
	gchar **lines = g_strsplit(text, "\n", -1);
	guint n = 0;
	for (gchar **l = lines; *l; l++) {
		if (!**l)
			continue;
		json_t *ev = json_loads(*l, 0, NULL);
		if (json_is_object(ev)) {
			g_queue_push_tail(&t->waiting, g_strdup(*l));
			n++;
		}
		json_decref(ev);
	}
	while (g_queue_get_length(&t->waiting) > OUTBOX_QUEUE_MAX) {
		g_free(g_queue_pop_head(&t->waiting));
		t->box->dropped++;
	}
	if (n)
		JANUS_LOG(LOG_INFO, "[switchboard] %s: %u event(s) for %s from before\n",
		          t->box->name, n, t->url);
	g_strfreev(lines);
	g_free(text);
}

static char *spool_path(const char *folder, const char *url)
{
	char *dir = sb_state_path(folder);
	if (g_mkdir_with_parents(dir, 0700) != 0)
		JANUS_LOG(LOG_WARN, "[switchboard] %s: %s (events not kept across a restart)\n",
		          dir, g_strerror(errno));
	char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
	char *name = g_strdup_printf("%.16s.jsonl", hash);
	char *path = g_build_filename(dir, name, NULL);
	g_free(name);
	g_free(hash);
	g_free(dir);
	return path;
}

/* ---- the outbox ---- */

void sb_outbox_push(sb_outbox *box, const char *body)
{
	if (!box)
		return;
	g_mutex_lock(&box->lock);
	for (guint i = 0; box->running && i < box->targets->len; i++) {
		target *t = box->targets->pdata[i];
		g_queue_push_tail(&t->waiting, g_strdup(body));
		t->dirty = true;
		/* Full: the oldest event that is not on its way makes room. */
		if (g_queue_get_length(&t->waiting) > OUTBOX_QUEUE_MAX) {
			guint drop = t->in_flight ? 1 : 0;
			g_free(g_queue_pop_nth(&t->waiting, drop));
			box->dropped++;
		}
		if (!t->in_flight && !t->retry)
			sb_loop_invoke(box->loop, kick_cb, t, NULL);
	}
	g_mutex_unlock(&box->lock);
}

void sb_outbox_get_stats(sb_outbox *box, sb_outbox_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!box)
		return;
	g_mutex_lock(&box->lock);
	out->sent = box->sent;
	out->failed_attempts = box->failed_attempts;
	out->dropped = box->dropped;
	for (guint i = 0; i < box->targets->len; i++)
		out->waiting += g_queue_get_length(&((target *)box->targets->pdata[i])->waiting);
	g_mutex_unlock(&box->lock);
}

static void target_free(gpointer data)
{
	target *t = data;
	g_queue_clear_full(&t->waiting, g_free);
	g_free(t->spool);
	g_free(t->url);
	g_free(t);
}

sb_outbox *sb_outbox_start(const sb_outbox_config *config)
{
	sb_outbox *box = g_new0(sb_outbox, 1);
	g_mutex_init(&box->lock);
	box->name = g_strdup(config->name);
	box->headers = config->headers;
	box->user = config->user;
	box->loop = sb_loop_start("sb outbox", true);
	if (!box->loop) {
		g_free(box->name);
		g_mutex_clear(&box->lock);
		g_free(box);
		return NULL;
	}
	box->targets = g_ptr_array_new_with_free_func(target_free);
	for (const char *const *url = config->urls; url && *url; url++) {
		target *t = g_new0(target, 1);
		t->box = box;
		t->url = g_strdup(*url);
		g_queue_init(&t->waiting);
		t->spool = spool_path(config->spool_folder, t->url);
		spool_read(t);
		g_ptr_array_add(box->targets, t);
	}
	g_mutex_lock(&box->lock);
	box->running = true;
	for (guint i = 0; i < box->targets->len; i++)
		if (g_queue_get_length(&((target *)box->targets->pdata[i])->waiting))
			sb_loop_invoke(box->loop, kick_cb, box->targets->pdata[i], NULL);
	g_mutex_unlock(&box->lock);
	box->spooler = sb_loop_timeout(box->loop, SPOOL_EVERY_MS, spool_cb, box, NULL);
	return box;
}

void sb_outbox_stop(sb_outbox *box)
{
	if (!box)
		return;
	g_mutex_lock(&box->lock);
	box->running = false;
	guint kept = 0;
	GPtrArray *requests = g_ptr_array_new();
	for (guint i = 0; i < box->targets->len; i++) {
		target *t = box->targets->pdata[i];
		kept += g_queue_get_length(&t->waiting);
		if (t->request)
			g_ptr_array_add(requests, t->request);
		t->request = NULL;
	}
	g_mutex_unlock(&box->lock);
	/* After release no callback runs: nothing more reaches the loop. */
	for (guint i = 0; i < requests->len; i++)
		sb_fetch_release(requests->pdata[i]);
	g_ptr_array_unref(requests);
	sb_loop_stop(box->loop); /* its timers with it */
	/* What is still waiting goes out after the next start. */
	for (guint i = 0; i < box->targets->len; i++) {
		target *t = box->targets->pdata[i];
		t->dirty = true;
		spool_write(t);
	}
	if (kept)
		JANUS_LOG(LOG_INFO, "[switchboard] %s: %u event(s) kept for the next start\n",
		          box->name, kept);
	g_ptr_array_unref(box->targets);
	g_mutex_clear(&box->lock);
	g_free(box->name);
	g_free(box);
}

char **sb_outbox_urls(json_t *value, const char *where)
{
	GPtrArray *urls = g_ptr_array_new();
	json_t *list = json_is_string(value) ? json_pack("[O]", value) : json_incref(value);
	if (value && !json_is_array(list))
		JANUS_LOG(LOG_WARN, "[switchboard] %s is not a list of URLs: none taken\n", where);
	size_t i;
	json_t *u;
	json_array_foreach(list, i, u)
	{
		const char *url = json_string_value(u);
		if (url &&
		    (g_str_has_prefix(url, "http://") || g_str_has_prefix(url, "https://")) &&
		    strlen(url) < 2048)
			g_ptr_array_add(urls, g_strdup(url));
		else
			JANUS_LOG(LOG_WARN,
			          "[switchboard] %s[%zu] is not an http(s) URL: left out\n", where,
			          i);
	}
	json_decref(list);
	g_ptr_array_add(urls, NULL);
	return (char **)g_ptr_array_free(urls, FALSE);
}
