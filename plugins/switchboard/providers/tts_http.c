/* Streaming PCM text to speech over HTTP, shared by the OpenAI and
 * ElevenLabs providers (providers_private.h, "tts_http"): the reply's body
 * is raw s16le mono PCM, turned into 16 kHz audio events as it arrives —
 * resampled with speexdsp when the service speaks at another rate, the
 * filter's tail pushed out at the end so the length is exact.  The
 * request's life is http_stream.c's. */
#include "providers/providers_private.h"

#include <string.h>

#include <glib.h>
#include <speex/speex_resampler.h>

struct sb_tts_job {
	sb_http_stream http; /* first: the request */
	sb_tts_events ev;
	SpeexResamplerState *rs; /* NULL when the source is 16 kHz already */
	int in_rate;
	sb_s16_stream s16;
	int16_t *in;
	int16_t *out;
	size_t in_cap;
	size_t out_cap;
	uint64_t in_samples;
	uint64_t out_samples;
};

static void job_clear(sb_http_stream *st)
{
	sb_tts_job *j = (sb_tts_job *)st;
	if (j->rs)
		speex_resampler_destroy(j->rs);
	g_free(j->in);
	g_free(j->out);
}

static void emit(sb_tts_job *j, const int16_t *pcm, size_t n)
{
	if (n == 0)
		return;
	j->out_samples += n;
	if (j->ev.audio && sb_gate_enter(&j->http.gate)) {
		j->ev.audio(j->http.user, pcm, n);
		sb_gate_leave(&j->http.gate);
	}
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

static void on_body(sb_http_stream *st, const char *data, size_t len)
{
	sb_tts_job *j = (sb_tts_job *)st;
	reserve(&j->in, &j->in_cap, len / 2 + 1);
	size_t n = sb_s16_feed(&j->s16, (const uint8_t *)data, len, j->in);
	j->in_samples += n;
	if (j->rs)
		resample(j, j->in, n, UINT64_MAX);
	else
		emit(j, j->in, n);
}

static char *on_finish(sb_http_stream *st)
{
	sb_tts_job *j = (sb_tts_job *)st;
	if (j->rs && j->in_samples > 0) {
		/* Push the filter's delay out with silence, up to the exact
		 * length the input corresponds to. */
		uint64_t expect = j->in_samples * SB_AGENT_RATE / (uint64_t)j->in_rate;
		size_t pad = (size_t)speex_resampler_get_input_latency(j->rs) + 16;
		resample(j, NULL, pad, expect);
	}
	return j->out_samples == 0 ? g_strdup("no audio") : NULL;
}

static const sb_http_stream_ops stream_ops = {
        .body = on_body, .finish = on_finish, .clear = job_clear};

sb_tts_job *sb_tts_http_start(const sb_provider_config *cfg, const char *path, json_t *body,
                              const char *const *headers, int in_rate, const sb_tts_events *events,
                              void *user, char **error)
{
	SpeexResamplerState *rs = NULL;
	if (in_rate != SB_AGENT_RATE) {
		int err = 0;
		rs = speex_resampler_init(1, (spx_uint32_t)in_rate, SB_AGENT_RATE,
		                          SPEEX_RESAMPLER_QUALITY_DEFAULT, &err);
		if (!rs) {
			if (error)
				*error = g_strdup_printf("resampler: %s",
				                         speex_resampler_strerror(err));
			json_decref(body);
			return NULL;
		}
		speex_resampler_skip_zeros(rs);
	}
	sb_tts_job *j = g_new0(sb_tts_job, 1);
	j->ev = *events;
	j->rs = rs;
	j->in_rate = in_rate;
	if (!sb_http_stream_start(&j->http, &stream_ops, cfg, path, body, headers, events->done,
	                          user, error))
		return NULL;
	return j;
}

void sb_tts_http_release(sb_tts_job *j)
{
	sb_http_stream_release(j ? &j->http : NULL);
}
