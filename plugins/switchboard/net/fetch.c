/* One libcurl multi worker thread for all outbound HTTP (net.h, "fetch"):
 * one thread and one connection cache for every call's providers and
 * Twilio's REST calls, so TLS handshakes are paid once per host and no
 * caller's thread ever waits on the network.
 *
 * The worker loop: take new requests from the submit queue, drop the
 * released ones, curl_multi_perform, deliver completions, enforce
 * first-byte deadlines, then curl_multi_poll until a socket is ready, a
 * deadline passes or curl_multi_wakeup() (submit, release, shutdown). */
#include "net/net.h"

#include <string.h>

#include <curl/curl.h>
#include <glib.h>

#include "core/core.h"

struct sb_fetch_request {
	gint ref; /* the user's and, while it runs, the worker's */
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	sb_fetch_callbacks cb;
	void *user;
	int first_byte_ms;
	gint64 first_byte_deadline; /* monotonic µs, 0: none */
	bool got_body;              /* worker only */
	bool in_multi;              /* worker only */
	/* Every callback goes through it; release() closes it, which also
	 * tells the worker to drop the request. */
	sb_gate gate;
	bool worker_done; /* under g.lock: the worker let go */
	char errbuf[CURL_ERROR_SIZE];
};

static struct {
	GMutex lock;
	GThread *thread;
	CURLM *multi;
	GQueue submitted;  /* under lock */
	GPtrArray *active; /* worker only */
	bool stopping;
	bool closed;    /* shut down: no new requests */
	unsigned count; /* requests owned by the worker; under lock */
} g;

static void req_unref(sb_fetch_request *r)
{
	if (!g_atomic_int_dec_and_test(&r->ref))
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	g_free(r->body);
	sb_gate_clear(&r->gate);
	g_free(r);
}

static bool cancelled(sb_fetch_request *r)
{
	return sb_gate_closed(&r->gate);
}

static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
	sb_fetch_request *r = ud;
	size_t len = size * n;
	r->got_body = true;
	if (!r->cb.body)
		return len;
	long status = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!sb_gate_enter(&r->gate))
		return 0; /* released: abort the transfer */
	bool more = r->cb.body(r->user, status, data, len);
	sb_gate_leave(&r->gate);
	return more ? len : 0;
}

/* One header line ("Name: value\r\n"): split and handed on; others (the
 * status line, the blank line) are skipped. */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	sb_fetch_request *r = ud;
	size_t len = size * n;
	const char *colon = memchr(data, ':', len);
	if (!r->cb.header || !colon || colon == data)
		return len;
	char *name = g_strndup(data, (gsize)(colon - data));
	char *value = g_strndup(colon + 1, (gsize)(data + len - colon - 1));
	g_strstrip(value);
	if (sb_gate_enter(&r->gate)) {
		r->cb.header(r->user, name, value);
		sb_gate_leave(&r->gate);
	}
	g_free(name);
	g_free(value);
	return len;
}

/* The worker lets go of a request: out of the multi, done delivered unless
 * released, the worker's reference dropped. */
static void finish(sb_fetch_request *r, long status, const char *error)
{
	if (r->in_multi) {
		curl_multi_remove_handle(g.multi, r->easy);
		r->in_multi = false;
	}
	if (r->cb.done && sb_gate_enter(&r->gate)) {
		r->cb.done(r->user, status, error);
		sb_gate_leave(&r->gate);
	}
	g_mutex_lock(&g.lock);
	r->worker_done = true;
	g.count--;
	g_mutex_unlock(&g.lock);
	req_unref(r);
}

static void complete(CURLMsg *msg)
{
	sb_fetch_request *r = NULL;
	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
	if (!r)
		return;
	g_ptr_array_remove_fast(g.active, r);
	long status = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	CURLcode rc = msg->data.result;
	char *error = NULL;
	if (rc == CURLE_WRITE_ERROR && r->cb.body)
		error = g_strdup("aborted");
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		error = g_strdup_printf("timed out (%s)", r->errbuf[0] ? r->errbuf : "no detail");
	else if (rc != CURLE_OK)
		error = g_strdup(r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	finish(r, status, error);
	g_free(error);
}

static void take_submitted(void)
{
	for (;;) {
		g_mutex_lock(&g.lock);
		sb_fetch_request *r = g_queue_pop_head(&g.submitted);
		g_mutex_unlock(&g.lock);
		if (!r)
			return;
		if (cancelled(r)) {
			finish(r, 0, "cancelled");
			continue;
		}
		if (r->first_byte_ms > 0)
			r->first_byte_deadline =
			        g_get_monotonic_time() + (gint64)r->first_byte_ms * 1000;
		if (curl_multi_add_handle(g.multi, r->easy) != CURLM_OK) {
			finish(r, 0, "curl_multi_add_handle failed");
			continue;
		}
		r->in_multi = true;
		g_ptr_array_add(g.active, r);
	}
}

static void drop_cancelled(void)
{
	for (guint i = 0; i < g.active->len;) {
		sb_fetch_request *r = g.active->pdata[i];
		if (cancelled(r)) {
			g_ptr_array_remove_index_fast(g.active, i);
			finish(r, 0, "cancelled");
		} else {
			i++;
		}
	}
}

/* Milliseconds until the nearest first-byte deadline (at most cap); ends
 * the requests whose deadline has passed. */
static int check_deadlines(int cap)
{
	gint64 now = g_get_monotonic_time();
	gint64 next = now + (gint64)cap * 1000;
	for (guint i = 0; i < g.active->len;) {
		sb_fetch_request *r = g.active->pdata[i];
		if (r->got_body || r->first_byte_deadline == 0) {
			i++;
			continue;
		}
		if (r->first_byte_deadline <= now) {
			g_ptr_array_remove_index_fast(g.active, i);
			long status = 0;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
			char *error = g_strdup_printf("timed out: no response body within %d ms",
			                              r->first_byte_ms);
			finish(r, status, error);
			g_free(error);
			continue;
		}
		next = MIN(next, r->first_byte_deadline);
		i++;
	}
	return (int)MAX(0, (next - now + 999) / 1000);
}

static gpointer worker(gpointer data)
{
	(void)data;
	for (;;) {
		g_mutex_lock(&g.lock);
		bool stopping = g.stopping;
		g_mutex_unlock(&g.lock);
		if (stopping)
			break;
		take_submitted();
		drop_cancelled();
		int running = 0;
		curl_multi_perform(g.multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(g.multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				complete(msg);
		int wait_ms = check_deadlines(1000);
		long curl_ms = -1;
		curl_multi_timeout(g.multi, &curl_ms);
		if (curl_ms >= 0 && curl_ms < wait_ms)
			wait_ms = (int)curl_ms;
		if (wait_ms > 0)
			curl_multi_poll(g.multi, NULL, 0, wait_ms, NULL);
	}
	/* Shutting down: everything still here ends with an error. */
	g_mutex_lock(&g.lock);
	while (g.submitted.length) {
		sb_fetch_request *r = g_queue_pop_head(&g.submitted);
		g_ptr_array_add(g.active, r);
	}
	g_mutex_unlock(&g.lock);
	while (g.active->len) {
		sb_fetch_request *r = g_ptr_array_steal_index_fast(g.active, g.active->len - 1);
		finish(r, 0, "HTTP client shut down");
	}
	return NULL;
}

static bool start_locked(void)
{
	if (g.closed)
		return false;
	if (g.thread)
		return true;
	static gsize curl_ready = 0;
	if (g_once_init_enter(&curl_ready)) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		g_once_init_leave(&curl_ready, 1);
	}
	g.multi = curl_multi_init();
	if (!g.multi)
		return false;
	/* Enough connections to each provider for 20+ calls at once. */
	curl_multi_setopt(g.multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	g.active = g_ptr_array_new();
	g.stopping = false;
	g.thread = g_thread_new("sb-http", worker, NULL);
	return true;
}

bool sb_fetch_init(void)
{
	g_mutex_lock(&g.lock);
	g.closed = false;
	bool ok = start_locked();
	g_mutex_unlock(&g.lock);
	return ok;
}

void sb_fetch_shutdown(void)
{
	g_mutex_lock(&g.lock);
	g.closed = true;
	GThread *t = g.thread;
	if (t) {
		g.stopping = true;
		curl_multi_wakeup(g.multi);
	}
	g_mutex_unlock(&g.lock);
	if (!t)
		return;
	g_thread_join(t);
	g_mutex_lock(&g.lock);
	g.thread = NULL;
	curl_multi_cleanup(g.multi);
	g.multi = NULL;
	g_ptr_array_free(g.active, TRUE);
	g.active = NULL;
	g_mutex_unlock(&g.lock);
}

unsigned sb_fetch_active(void)
{
	g_mutex_lock(&g.lock);
	unsigned n = g.count;
	g_mutex_unlock(&g.lock);
	return n;
}

static bool valid_url(const char *url)
{
	if (!url || !*url)
		return false;
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;
	char *scheme = NULL;
	if (ok && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK)
		ok = g_ascii_strcasecmp(scheme, "http") == 0 ||
		     g_ascii_strcasecmp(scheme, "https") == 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return ok;
}

sb_fetch_request *sb_fetch_submit(const sb_fetch_options *opt, const sb_fetch_callbacks *cb,
                                  void *user, char **error)
{
	if (!opt || !valid_url(opt->url)) {
		if (error)
			*error = g_strdup_printf("invalid URL \"%s\"",
			                         opt && opt->url ? opt->url : "");
		return NULL;
	}
	sb_fetch_request *r = g_new0(sb_fetch_request, 1);
	r->ref = 2; /* the caller's and the worker's */
	sb_gate_init(&r->gate);
	r->cb = *cb;
	r->user = user;
	r->first_byte_ms = opt->first_byte_timeout_ms;
	r->easy = curl_easy_init();
	if (!r->easy) {
		sb_gate_clear(&r->gate);
		g_free(r);
		if (error)
			*error = g_strdup("curl_easy_init failed");
		return NULL;
	}
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, opt->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "switchboard/0.1");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)(opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : 10000));
	if (opt->total_timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)opt->total_timeout_ms);
	for (const char *const *h = opt->headers; h && *h; h++)
		r->headers = curl_slist_append(r->headers, *h);
	/* No "100-continue" round trip before sending audio. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	const char *method = opt->method ? opt->method : (opt->body ? "POST" : "GET");
	if (opt->body || strcmp(method, "POST") == 0) {
		r->body_len = opt->body_len;
		r->body = g_malloc(r->body_len + 1);
		if (r->body_len)
			memcpy(r->body, opt->body, r->body_len);
		r->body[r->body_len] = '\0';
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	}
	if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);

	g_mutex_lock(&g.lock);
	if (!start_locked()) {
		g_mutex_unlock(&g.lock);
		r->ref = 1;
		req_unref(r);
		if (error)
			*error = g_strdup("HTTP client shut down");
		return NULL;
	}
	g.count++;
	g_queue_push_tail(&g.submitted, r);
	curl_multi_wakeup(g.multi);
	g_mutex_unlock(&g.lock);
	return r;
}

void sb_fetch_release(sb_fetch_request *r)
{
	if (!r)
		return;
	/* Waits for a callback in progress on the worker, unless this is
	 * called from inside it. */
	sb_gate_close(&r->gate);
	g_mutex_lock(&g.lock);
	if (!r->worker_done && g.multi)
		curl_multi_wakeup(g.multi);
	g_mutex_unlock(&g.lock);
	req_unref(r);
}
