/* Twilio's REST API (calls, hang-ups, messages) through the plugin's one
 * outbound HTTP worker (net).  429, 5xx and no answer are retried with
 * backoff on the HTTP thread's timers; 4xx never is.  Jobs in flight are
 * tracked so that the module's stop can drop them without their callbacks
 * reaching a module that is gone. */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "net/net.h"

#define MAX_ATTEMPTS 3
#define FIRST_BACKOFF_MS 200
#define MAX_RESPONSE (256 * 1024)

typedef struct rest_job {
	char *url;
	char *body;
	char *auth_header;
	int attempts;
	sb_twilio_rest_done done;
	void *user;
	sb_fetch_request *req; /* in flight, or NULL */
	GString *response;
	long status;
	char *error;
} rest_job;

static GMutex mutex;
static GHashTable *active; /* rest_job* in flight (curl worker owns a callback) */
static bool stopping;
static sb_twilio_rest_stats stats;

char *sb_twilio_form_encode(GPtrArray *pairs)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; pairs && i + 1 < pairs->len; i += 2) {
		if (s->len)
			g_string_append_c(s, '&');
		g_string_append_uri_escaped(s, pairs->pdata[i], NULL, FALSE);
		g_string_append_c(s, '=');
		g_string_append_uri_escaped(s, pairs->pdata[i + 1], NULL, FALSE);
	}
	return g_string_free(s, FALSE);
}

static void job_free(rest_job *j)
{
	g_free(j->url);
	g_free(j->body);
	g_free(j->auth_header);
	g_string_free(j->response, TRUE);
	g_free(j->error);
	g_free(j);
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	rest_job *j = user;
	(void)status;
	if (j->response->len + len > MAX_RESPONSE)
		return false;
	g_string_append_len(j->response, data, (gssize)len);
	return true;
}

static gboolean finished(gpointer data);
static bool submit(rest_job *j, char **error);

static gboolean retry(gpointer data)
{
	rest_job *j = data;
	char *error = NULL;
	if (!submit(j, &error)) {
		__atomic_add_fetch(&stats.failures, 1, __ATOMIC_RELAXED);
		j->done(j->user, 0, NULL, error ? error : "Twilio REST request failed");
		g_free(error);
		job_free(j);
	}
	return G_SOURCE_REMOVE;
}

/* HTTP thread: the answer, a retry, or the final error. */
static gboolean finished(gpointer data)
{
	rest_job *j = data;
	g_mutex_lock(&mutex);
	if (active)
		g_hash_table_remove(active, j);
	g_mutex_unlock(&mutex);
	sb_fetch_release(j->req);
	j->req = NULL;
	long status = j->status;
	bool retryable = status == 0 || status == 429 || status >= 500;
	int delay = FIRST_BACKOFF_MS << (j->attempts - 1);
	/* The timer cannot fire before this returns: j is still ours here. */
	if (retryable && j->attempts < MAX_ATTEMPTS && !stopping &&
	    sb_http_timeout((guint)delay, retry, j, NULL)) {
		JANUS_LOG(LOG_WARN, "[switchboard] twilio REST %s: %s%ld, retry %d in %d ms\n",
		          j->url, j->error ? j->error : "HTTP ", j->error ? 0L : status,
		          j->attempts, delay);
		__atomic_add_fetch(&stats.retries, 1, __ATOMIC_RELAXED);
		g_string_truncate(j->response, 0);
		g_clear_pointer(&j->error, g_free);
		return G_SOURCE_REMOVE;
	}
	json_t *body =
	        j->response->len ? json_loadb(j->response->str, j->response->len, 0, NULL) : NULL;
	char *message = NULL;
	if (status < 200 || status >= 300) {
		__atomic_add_fetch(&stats.failures, 1, __ATOMIC_RELAXED);
		const char *m = json_string_value(json_object_get(body, "message"));
		if (j->error)
			message = g_strdup_printf("Twilio unreachable: %s", j->error);
		else
			message = g_strdup_printf("Twilio answered %ld%s%s", status, m ? ": " : "",
			                          m ? m : "");
		JANUS_LOG(LOG_WARN, "[switchboard] twilio REST %s failed after %d attempt(s): %s\n",
		          j->url, j->attempts, message);
	}
	j->done(j->user, status, body, message);
	g_free(message);
	json_decref(body);
	job_free(j);
	return G_SOURCE_REMOVE;
}

/* Curl worker thread: hand the result to the HTTP thread. */
static void on_done(void *user, long status, const char *error)
{
	rest_job *j = user;
	j->status = error ? 0 : status;
	j->error = g_strdup(error);
	g_mutex_lock(&mutex);
	bool stop = stopping;
	g_mutex_unlock(&mutex);
	/* When stopped the job stays in `active`, freed by the shutdown. */
	if (!stop)
		sb_http_invoke(G_PRIORITY_DEFAULT, finished, j, NULL);
}

static const sb_fetch_callbacks callbacks = {.body = on_body, .done = on_done};

static bool submit(rest_job *j, char **error)
{
	const char *headers[] = {j->auth_header, "Content-Type: application/x-www-form-urlencoded",
	                         "Accept: application/json", NULL};
	sb_fetch_options opt = {
	        .method = "POST",
	        .url = j->url,
	        .headers = headers,
	        .body = j->body,
	        .body_len = strlen(j->body),
	        .connect_timeout_ms = 5000,
	        .total_timeout_ms = 15000,
	};
	j->attempts++;
	__atomic_add_fetch(&stats.requests, 1, __ATOMIC_RELAXED);
	g_mutex_lock(&mutex);
	if (stopping || !active) {
		g_mutex_unlock(&mutex);
		*error = g_strdup("Twilio module stopped");
		return false;
	}
	g_hash_table_add(active, j);
	j->req = sb_fetch_submit(&opt, &callbacks, j, error);
	if (!j->req)
		g_hash_table_remove(active, j);
	g_mutex_unlock(&mutex);
	return j->req != NULL;
}

bool sb_twilio_rest_post(const char *path, GPtrArray *pairs, sb_twilio_rest_done done, void *user,
                         char **error)
{
	const sb_twilio_config *cfg = sb_twilio_cfg();
	if (!*cfg->account_sid || !*cfg->auth_token) {
		*error = g_strdup("Twilio account_sid and auth_token are not configured");
		return false;
	}
	g_mutex_lock(&mutex);
	if (!active && !stopping)
		active = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_mutex_unlock(&mutex);
	rest_job *j = g_new0(rest_job, 1);
	char *account = g_uri_escape_string(cfg->account_sid, NULL, FALSE);
	j->url = g_strdup_printf("%s/2010-04-01/Accounts/%s%s", cfg->rest_base_url, account, path);
	g_free(account);
	j->body = sb_twilio_form_encode(pairs);
	char *cred = g_strdup_printf("%s:%s", cfg->account_sid, cfg->auth_token);
	char *b64 = g_base64_encode((const guchar *)cred, strlen(cred));
	j->auth_header = g_strdup_printf("Authorization: Basic %s", b64);
	g_free(b64);
	g_free(cred);
	j->done = done;
	j->user = user;
	j->response = g_string_new(NULL);
	if (!submit(j, error)) {
		job_free(j);
		return false;
	}
	return true;
}

void sb_twilio_rest_shutdown(void)
{
	g_mutex_lock(&mutex);
	stopping = true;
	GHashTable *jobs = active;
	active = NULL;
	g_mutex_unlock(&mutex);
	if (!jobs)
		return;
	/* In flight: stop them; their done() will not reach us any more. */
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, jobs);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		rest_job *j = k;
		sb_fetch_release(j->req);
		job_free(j);
	}
	g_hash_table_destroy(jobs);
}

void sb_twilio_rest_get_stats(sb_twilio_rest_stats *out)
{
	out->requests = __atomic_load_n(&stats.requests, __ATOMIC_RELAXED);
	out->retries = __atomic_load_n(&stats.retries, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&stats.failures, __ATOMIC_RELAXED);
}
