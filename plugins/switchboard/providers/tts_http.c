/* Streaming PCM text-to-speech over HTTP, shared by the OpenAI and
 * ElevenLabs providers (tts_http.h). */
#include "providers/providers_private.h"

#include <string.h>

#include <glib.h>
#include <speex/speex_resampler.h>


#define MAX_ERROR_BODY (64 * 1024)

struct sb_tts_job {
	gint ref;
	gint released;
	sb_tts_events ev;
	void *user;
	sb_fetch_request *req;
	SpeexResamplerState *rs; /* NULL when the source is 16 kHz already */
	int in_rate;
	sb_s16_stream s16;
	GString *errbody;
	int16_t *in;
	int16_t *out;
	size_t in_cap;
	size_t out_cap;
	uint64_t in_samples;
	uint64_t out_samples;
};

static void job_unref(sb_tts_job *j)
{
	if (!g_atomic_int_dec_and_test(&j->ref))
		return;
	if (j->rs)
		speex_resampler_destroy(j->rs);
	g_string_free(j->errbody, TRUE);
	g_free(j->in);
	g_free(j->out);
	g_free(j);
}

static bool alive(sb_tts_job *j)
{
	return !g_atomic_int_get(&j->released);
}

static void emit(sb_tts_job *j, const int16_t *pcm, size_t n)
{
	if (n == 0)
		return;
	j->out_samples += n;
	if (alive(j) && j->ev.audio)
		j->ev.audio(j->user, pcm, n);
}

static void reserve(int16_t **buf, size_t *cap, size_t n)
{
	if (*cap >= n)
		return;
	*cap = MAX(n, *cap * 2);
	*buf = g_renew(int16_t, *buf, *cap);
}

/* Resamples n input samples (NULL: silence, to flush the filter) and
 * emits at most `limit` output samples in all. */
static void resample(sb_tts_job *j, const int16_t *in, size_t n, uint64_t limit)
{
	size_t out_n = n * SB_AGENT_RATE / (size_t)j->in_rate + 64;
	reserve(&j->out, &j->out_cap, out_n);
	if (!in) {
		reserve(&j->in, &j->in_cap, n);
		memset(j->in, 0, n * sizeof(int16_t));
		in = j->in;
	}
	size_t done = 0;
	while (done < n) {
		spx_uint32_t il = (spx_uint32_t)(n - done);
		spx_uint32_t ol = (spx_uint32_t)j->out_cap;
		speex_resampler_process_int(j->rs, 0, in + done, &il, j->out, &ol);
		if (il == 0 && ol == 0)
			break;
		done += il;
		size_t give = ol;
		if (j->out_samples + give > limit)
			give = limit > j->out_samples ? (size_t)(limit - j->out_samples) : 0;
		emit(j, j->out, give);
	}
}

static bool on_body(void *user, long status, const char *data, size_t len)
{
	sb_tts_job *j = user;
	if (status < 200 || status >= 300) {
		if (j->errbody->len < MAX_ERROR_BODY)
			g_string_append_len(j->errbody, data, (gssize)MIN(len, MAX_ERROR_BODY));
		return true;
	}
	g_atomic_int_inc(&j->ref);
	reserve(&j->in, &j->in_cap, len / 2 + 1);
	size_t n = sb_s16_feed(&j->s16, (const uint8_t *)data, len, j->in);
	j->in_samples += n;
	if (j->rs)
		resample(j, j->in, n, UINT64_MAX);
	else
		emit(j, j->in, n);
	bool more = alive(j);
	job_unref(j);
	return more;
}

static void on_done(void *user, long status, const char *error)
{
	sb_tts_job *j = user;
	g_atomic_int_inc(&j->ref);
	char *err = NULL;
	if (status != 0 && (status < 200 || status >= 300)) {
		err = sb_fetch_error_text(status, j->errbody->str, j->errbody->len);
	} else if (error) {
		err = g_strdup_printf("request failed: %s", error);
	} else {
		if (j->rs && j->in_samples > 0) {
			/* Push the filter's delay out with silence, up to the exact
			 * length the input corresponds to. */
			uint64_t expect = j->in_samples * SB_AGENT_RATE / (uint64_t)j->in_rate;
			size_t pad = (size_t)speex_resampler_get_input_latency(j->rs) + 16;
			resample(j, NULL, pad, expect);
		}
		if (j->out_samples == 0)
			err = g_strdup("no audio");
	}
	if (alive(j) && j->ev.done)
		j->ev.done(j->user, err);
	g_free(err);
	job_unref(j);
}

sb_tts_job *sb_tts_http_start(const sb_provider_config *cfg, const char *url,
                              const char *const *headers, const char *body, int in_rate,
                              const sb_tts_events *events, void *user, char **error)
{
	sb_tts_job *j = g_new0(sb_tts_job, 1);
	j->ref = 1;
	j->ev = *events;
	j->user = user;
	j->in_rate = in_rate;
	j->errbody = g_string_new(NULL);
	if (in_rate != SB_AGENT_RATE) {
		int err = 0;
		j->rs = speex_resampler_init(1, (spx_uint32_t)in_rate, SB_AGENT_RATE,
		                             SPEEX_RESAMPLER_QUALITY_DEFAULT, &err);
		if (!j->rs) {
			if (error)
				*error = g_strdup_printf("resampler: %s",
				                         speex_resampler_strerror(err));
			job_unref(j);
			return NULL;
		}
		speex_resampler_skip_zeros(j->rs);
	}
	sb_fetch_options opt = sb_provider_stream_post(cfg, url, headers, body);
	sb_fetch_callbacks cb = {.body = on_body, .done = on_done};
	j->req = sb_fetch_submit(&opt, &cb, j, error);
	if (!j->req) {
		job_unref(j);
		return NULL;
	}
	return j;
}

void sb_tts_http_release(sb_tts_job *j)
{
	if (!j)
		return;
	g_atomic_int_set(&j->released, 1);
	sb_fetch_release(j->req);
	job_unref(j);
}
