/* The life of one streamed HTTP request of a cloud provider
 * (providers_private.h, "http_stream"), written once for the LLMs
 * (llm_openai.c, llm_anthropic.c) and the HTTP text to speech (tts_http.c),
 * which differ only in the request they make and how they read a reply;
 * and what the two LLMs deliver from a reply, which is the same too.
 *
 * Threads: the body and done callbacks come on the fetch client's worker.
 * The stream is referenced by its user and, while a callback runs, by the
 * callback itself: a user may release from inside one of its events, and
 * the callback goes on with the stream it holds.  Every event to the user
 * goes through the stream's gate, which release() closes: so nothing is
 * delivered once it returns, and a body callback that finds the gate
 * closed stops the transfer. */
#include "providers/providers_private.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ERROR_BODY (64 * 1024)

static void stream_ref(sb_http_stream *st)
{
	g_atomic_int_inc(&st->ref);
}

static void stream_unref(sb_http_stream *st)
{
	if (!g_atomic_int_dec_and_test(&st->ref))
		return;
	if (st->ops->clear)
		st->ops->clear(st);
	sb_sse_free(st->sse);
	g_string_free(st->errbody, TRUE);
	g_free(st->error);
	sb_gate_clear(&st->gate);
	g_free(st);
}

static bool is_success(long status)
{
	return status >= 200 && status < 300;
}

void sb_http_stream_fail(sb_http_stream *st, char *error)
{
	if (!st->error)
		st->error = error;
	else
		g_free(error);
}

static bool on_event(void *user, const char *event, const char *data, size_t len, const char *id)
{
	(void)id;
	sb_http_stream *st = user;
	return st->ops->event(st, event, data, len) && !sb_gate_closed(&st->gate);
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	sb_http_stream *st = user;
	if (!is_success(status)) {
		/* Kept for done()'s message. */
		if (st->errbody->len < MAX_ERROR_BODY)
			g_string_append_len(st->errbody, data, (gssize)MIN(len, MAX_ERROR_BODY));
		return true;
	}
	if (st->error || st->ended)
		return true; /* the rest is ignored */
	stream_ref(st);
	if (st->ops->body)
		st->ops->body(st, data, len);
	if (st->sse && !sb_sse_feed(st->sse, data, len) && !st->error && !st->ended &&
	    sb_sse_error(st->sse))
		sb_http_stream_fail(st,
		                    g_strdup_printf("bad event stream: %s", sb_sse_error(st->sse)));
	bool more = !sb_gate_closed(&st->gate);
	stream_unref(st);
	return more;
}

static void on_done(void *user, long status, const char *error)
{
	sb_http_stream *st = user;
	stream_ref(st);
	char *err;
	if (status != 0 && !is_success(status))
		err = sb_fetch_error_text(status, st->errbody->str, st->errbody->len);
	else if (st->error)
		err = g_strdup(st->error);
	else if (error && !st->ended) /* a transport error after the end is none */
		err = g_strdup_printf("request failed: %s", error);
	else
		err = st->ops->finish(st);
	if (sb_gate_enter(&st->gate)) {
		if (st->done)
			st->done(st->user, err);
		sb_gate_leave(&st->gate);
	}
	g_free(err);
	stream_unref(st);
}

bool sb_http_stream_start(sb_http_stream *st, const sb_http_stream_ops *ops,
                          const sb_provider_config *cfg, const char *path, json_t *body,
                          const char *const *headers, void (*done)(void *user, const char *error),
                          void *user, char **error)
{
	st->ops = ops;
	st->ref = 1;
	sb_gate_init(&st->gate);
	st->done = done;
	st->user = user;
	st->errbody = g_string_new(NULL);
	if (ops->event)
		st->sse = sb_sse_new(on_event, st);
	char *url = sb_url_join(cfg->base_url, path);
	char *payload = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	sb_fetch_options opt = sb_provider_stream_post(cfg, url, headers, payload);
	sb_fetch_callbacks cb = {.body = on_body, .done = on_done};
	st->req = sb_fetch_submit(&opt, &cb, st, error);
	free(payload);
	g_free(url);
	if (!st->req) {
		stream_unref(st);
		return false;
	}
	return true;
}

void sb_http_stream_release(sb_http_stream *st)
{
	if (!st)
		return;
	sb_gate_close(&st->gate);
	sb_fetch_release(st->req); /* waits for a callback in progress elsewhere */
	stream_unref(st);
}

/* ---- LLM replies ---- */

bool sb_llm_reply_start(sb_llm_reply *r, const sb_http_stream_ops *ops,
                        const sb_provider_config *cfg, const char *path, json_t *body,
                        const char *const *headers, const sb_llm_events *events, void *user,
                        char **error)
{
	r->ev = *events;
	return sb_http_stream_start(&r->http, ops, cfg, path, body, headers, events->done, user,
	                            error);
}

void sb_llm_reply_text(sb_llm_reply *r, json_t *value)
{
	const char *s = json_is_string(value) ? json_string_value(value) : NULL;
	if (!s || !*s)
		return;
	r->got_text = true;
	if (r->ev.text && sb_gate_enter(&r->http.gate)) {
		r->ev.text(r->http.user, s);
		sb_gate_leave(&r->http.gate);
	}
}

void sb_llm_reply_tool(sb_llm_reply *r, const char *id, const char *name, json_t *args)
{
	if (!json_is_object(args)) {
		json_decref(args);
		args = json_object();
	}
	r->got_tool = true;
	if (r->ev.tool && sb_gate_enter(&r->http.gate)) {
		r->ev.tool(r->http.user, id, name, args);
		sb_gate_leave(&r->http.gate);
	}
	json_decref(args);
}

char *sb_llm_reply_empty(const sb_llm_reply *r)
{
	return r->got_text || r->got_tool ? NULL : g_strdup("empty reply");
}
