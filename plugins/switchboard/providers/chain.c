/* Fallback chains (chain.h): the events of each kind as they come from the
 * providers, and the public functions.  The machinery is chain_core.c. */
#include <string.h>

#include "providers/providers_private.h"

#define STT_KEEP_SAMPLES (30 * SB_AGENT_RATE) /* audio kept for a replay */

struct sb_llm_chain {
	chain_state *ch;
};
struct sb_stt_chain {
	chain_state *ch;
};
struct sb_tts_chain {
	chain_state *ch;
};

static bool is_timeout(const char *error)
{
	return error && strstr(error, "timed out");
}

/* Hands an event to the user through the call's gate. */
#define DELIVER(cc, call)                                                                          \
	do {                                                                                       \
		sb_ccall_ref(cc); /* the user may release it from inside */                        \
		if (sb_gate_enter(&(cc)->gate)) {                                                  \
			call;                                                                      \
			sb_gate_leave(&(cc)->gate);                                                \
		}                                                                                  \
		sb_ccall_unref(cc);                                                                \
	} while (0)

/* ---- LLM events from a provider (user = attempt) ---- */

static void llm_text(void *user, const char *delta)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	sb_ccall_output_locked(att, true);
	DELIVER(cc, if (cc->ev.llm.text) cc->ev.llm.text(cc->user, delta));
}

static void llm_tool(void *user, const char *name, json_t *arguments)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	sb_ccall_output_locked(att, true);
	DELIVER(cc, if (cc->ev.llm.tool) cc->ev.llm.tool(cc->user, name, arguments));
}

static void llm_done(void *user, const char *error)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	if (error)
		sb_ccall_failure_locked(att, error, is_timeout(error));
	else if (!cc->output)
		sb_ccall_failure_locked(att, "empty reply", false);
	else
		sb_ccall_success_locked(att);
}

static const sb_llm_events llm_events = {.text = llm_text, .tool = llm_tool, .done = llm_done};

/* ---- TTS events ---- */

static void tts_audio(void *user, const int16_t *pcm, size_t samples)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (samples == 0 || !sb_ccall_event_begin(att))
		return;
	sb_ccall_output_locked(att, true);
	DELIVER(cc, if (cc->ev.tts.audio) cc->ev.tts.audio(cc->user, pcm, samples));
}

static void tts_done(void *user, const char *error)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	if (error)
		sb_ccall_failure_locked(att, error, is_timeout(error));
	else if (!cc->output)
		sb_ccall_failure_locked(att, "no audio", false);
	else
		sb_ccall_success_locked(att);
}

static const sb_tts_events tts_events = {.audio = tts_audio, .done = tts_done};

/* ---- STT events ---- */

static void stt_partial(void *user, const char *text)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	g_mutex_unlock(&cc->lock);
	DELIVER(cc, if (cc->ev.stt.partial) cc->ev.stt.partial(cc->user, text));
}

/* The first pending utterance is transcribed: forget its audio. */
static void stt_trim_locked(ccall *cc)
{
	guint upto = cc->buf->len;
	if (cc->marks->len > 0) {
		upto = g_array_index(cc->marks, guint, 0);
		g_array_remove_index(cc->marks, 0);
		for (guint i = 0; i < cc->marks->len; i++)
			g_array_index(cc->marks, guint, i) -= upto;
	}
	g_array_remove_range(cc->buf, 0, upto);
}

static void stt_final(void *user, const char *text)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	stt_trim_locked(cc);
	if (cc->marks->len > 0)
		sb_ccall_arm_timer_locked(cc); /* the next utterance's final is due */
	else
		sb_ccall_cancel_timer_locked(cc);
	att->success_recorded = true;
	cc->served = (int)att->index;
	chain_entry *e = sb_ccall_entry(cc, att);
	g_mutex_unlock(&cc->lock);
	sb_pstat_success(e->st);
	DELIVER(cc, if (cc->ev.stt.final) cc->ev.stt.final(cc->user, text ? text : ""));
}

static void stt_failed(void *user, const char *error)
{
	attempt *att = user;
	if (!sb_ccall_event_begin(att))
		return;
	sb_ccall_failure_locked(att, error ? error : "failed", is_timeout(error));
}

static const sb_stt_events stt_events = {
        .partial = stt_partial, .final = stt_final, .failed = stt_failed};

/* ---- starting and releasing a provider ---- */

/* A new STT provider hears what the previous one did not transcribe. */
static void stt_replay(ccall *cc, const sb_stt_provider *p, sb_stt_stream *h)
{
	g_mutex_lock(&cc->lock);
	GArray *buf = g_array_copy(cc->buf);
	GArray *marks = g_array_copy(cc->marks);
	g_mutex_unlock(&cc->lock);
	guint pos = 0;
	for (guint i = 0; i <= marks->len; i++) {
		guint end = i < marks->len ? g_array_index(marks, guint, i) : buf->len;
		if (end > pos)
			p->audio(h, &g_array_index(buf, int16_t, pos), end - pos);
		pos = MAX(pos, end);
		if (i < marks->len)
			p->end_of_speech(h);
	}
	g_array_free(buf, TRUE);
	g_array_free(marks, TRUE);
}

void *sb_chain_kind_start(ccall *cc, attempt *att, chain_entry *e, char **error)
{
	switch (cc->ch->kind) {
	case SB_KIND_LLM: {
		const sb_llm_provider *p = e->impl;
		return p->start(e->cfg, &cc->req, &llm_events, att, error);
	}
	case SB_KIND_TTS: {
		const sb_tts_provider *p = e->impl;
		return p->speak(e->cfg, cc->text, &tts_events, att, error);
	}
	case SB_KIND_STT: {
		const sb_stt_provider *p = e->impl;
		sb_stt_stream *h = p->open(e->cfg, &stt_events, att, error);
		if (h)
			stt_replay(cc, p, h);
		return h;
	}
	}
	return NULL;
}

void sb_chain_kind_release(chain_state *ch, chain_entry *e, void *handle)
{
	if (!handle)
		return;
	switch (ch->kind) {
	case SB_KIND_LLM:
		((const sb_llm_provider *)e->impl)->release(handle);
		break;
	case SB_KIND_TTS:
		((const sb_tts_provider *)e->impl)->release(handle);
		break;
	case SB_KIND_STT:
		((const sb_stt_provider *)e->impl)->release(handle);
		break;
	}
}

/* Runs the chain from its first provider; NULL with *error when none
 * started. */
static ccall *begin(ccall *cc, char **error)
{
	g_mutex_lock(&cc->feed);
	bool ok = sb_ccall_run_from(cc, 0);
	g_mutex_unlock(&cc->feed);
	if (ok)
		return cc;
	if (cc->any_started) {
		/* They failed quickly, but they did start: the failure is an event
		 * like any other, never a NULL. */
		sb_ccall_all_failed_async(cc);
		return cc;
	}
	if (error)
		*error = g_strdup_printf("all %s providers failed: %s",
		                         sb_provider_kind_name(cc->ch->kind),
		                         cc->summary->len ? cc->summary->str : "none configured");
	cc->released = true;
	sb_ccall_unref(cc);
	return NULL;
}

/* ---- LLM ---- */

sb_llm_chain *sb_llm_chain_new(const sb_chain_options *opt)
{
	sb_llm_chain *c = g_new0(sb_llm_chain, 1);
	c->ch = sb_chain_new_kind(SB_KIND_LLM, opt);
	return c;
}

void sb_llm_chain_add(sb_llm_chain *c, const sb_llm_provider *impl, const sb_provider_config *cfg)
{
	sb_chain_add_entry(c->ch, impl, cfg);
}

size_t sb_llm_chain_size(const sb_llm_chain *c)
{
	return c ? c->ch->entries->len : 0;
}

void sb_llm_chain_free(sb_llm_chain *c)
{
	if (!c)
		return;
	sb_chain_unref(c->ch);
	g_free(c);
}

sb_llm_call *sb_llm_chain_start(sb_llm_chain *c, const sb_llm_request *req,
                                const sb_llm_events *events, void *user, char **error)
{
	if (!c || !req || !events) {
		if (error)
			*error = g_strdup("bad arguments");
		return NULL;
	}
	ccall *cc = sb_ccall_new(c->ch, user);
	cc->ev.llm = *events;
	cc->req.system_prompt = g_strdup(req->system_prompt);
	cc->req.messages = req->messages ? json_deep_copy(req->messages) : json_array();
	cc->req.tools = req->tools;
	cc->req.memory = req->memory ? json_incref(req->memory) : NULL;
	cc->req.knowledge = req->knowledge ? json_incref(req->knowledge) : NULL;
	cc->req.language = g_strdup(req->language);
	return (sb_llm_call *)(void *)begin(cc, error);
}

void sb_llm_chain_release(sb_llm_call *call)
{
	if (call)
		sb_ccall_release((ccall *)(void *)call);
}

/* ---- TTS ---- */

sb_tts_chain *sb_tts_chain_new(const sb_chain_options *opt)
{
	sb_tts_chain *c = g_new0(sb_tts_chain, 1);
	c->ch = sb_chain_new_kind(SB_KIND_TTS, opt);
	return c;
}

void sb_tts_chain_add(sb_tts_chain *c, const sb_tts_provider *impl, const sb_provider_config *cfg)
{
	sb_chain_add_entry(c->ch, impl, cfg);
}

size_t sb_tts_chain_size(const sb_tts_chain *c)
{
	return c ? c->ch->entries->len : 0;
}

void sb_tts_chain_free(sb_tts_chain *c)
{
	if (!c)
		return;
	sb_chain_unref(c->ch);
	g_free(c);
}

sb_tts_job *sb_tts_chain_speak(sb_tts_chain *c, const char *text, const sb_tts_events *events,
                               void *user, char **error)
{
	if (!c || !text || !events) {
		if (error)
			*error = g_strdup("bad arguments");
		return NULL;
	}
	ccall *cc = sb_ccall_new(c->ch, user);
	cc->ev.tts = *events;
	cc->text = g_strdup(text);
	return (sb_tts_job *)(void *)begin(cc, error);
}

void sb_tts_chain_release(sb_tts_job *job)
{
	if (job)
		sb_ccall_release((ccall *)(void *)job);
}

/* ---- STT ---- */

sb_stt_chain *sb_stt_chain_new(const sb_chain_options *opt)
{
	sb_stt_chain *c = g_new0(sb_stt_chain, 1);
	c->ch = sb_chain_new_kind(SB_KIND_STT, opt);
	return c;
}

void sb_stt_chain_add(sb_stt_chain *c, const sb_stt_provider *impl, const sb_provider_config *cfg)
{
	sb_chain_add_entry(c->ch, impl, cfg);
}

size_t sb_stt_chain_size(const sb_stt_chain *c)
{
	return c ? c->ch->entries->len : 0;
}

void sb_stt_chain_free(sb_stt_chain *c)
{
	if (!c)
		return;
	sb_chain_unref(c->ch);
	g_free(c);
}

sb_stt_stream *sb_stt_chain_open(sb_stt_chain *c, const sb_stt_events *events, void *user,
                                 char **error)
{
	if (!c || !events) {
		if (error)
			*error = g_strdup("bad arguments");
		return NULL;
	}
	ccall *cc = sb_ccall_new(c->ch, user);
	cc->ev.stt = *events;
	cc->buf = g_array_new(FALSE, FALSE, sizeof(int16_t));
	cc->marks = g_array_new(FALSE, FALSE, sizeof(guint));
	return (sb_stt_stream *)(void *)begin(cc, error);
}

/* The live provider stream, or NULL.  The caller holds cc->feed (so no
 * fall-through swaps it) and, when it is not NULL, must call
 * stt_fed() after using it (release() waits for that). */
static sb_stt_stream *stt_current_locked(ccall *cc, const sb_stt_provider **p)
{
	attempt *att = cc->cur;
	if (!att || !att->started || cc->released || cc->finished)
		return NULL;
	*p = sb_ccall_entry(cc, att)->impl;
	cc->feeding++;
	return att->handle;
}

static void stt_fed(ccall *cc)
{
	g_mutex_lock(&cc->lock);
	if (--cc->feeding == 0)
		g_cond_broadcast(&cc->fed);
	g_mutex_unlock(&cc->lock);
}

void sb_stt_chain_audio(sb_stt_stream *s, const int16_t *pcm, size_t samples)
{
	ccall *cc = (ccall *)(void *)s;
	if (!cc || samples == 0)
		return;
	g_mutex_lock(&cc->feed);
	g_mutex_lock(&cc->lock);
	const sb_stt_provider *p = NULL;
	sb_stt_stream *h = NULL;
	if (!cc->released && !cc->finished) {
		/* Keep the newest 30 s: a replacement provider hears them. */
		if (samples >= STT_KEEP_SAMPLES) {
			pcm += samples - STT_KEEP_SAMPLES;
			samples = STT_KEEP_SAMPLES;
		}
		if (cc->buf->len + samples > STT_KEEP_SAMPLES) {
			guint drop = (guint)(cc->buf->len + samples - STT_KEEP_SAMPLES);
			g_array_remove_range(cc->buf, 0, drop);
			for (guint i = 0; i < cc->marks->len; i++) {
				guint *m = &g_array_index(cc->marks, guint, i);
				*m = *m > drop ? *m - drop : 0;
			}
		}
		g_array_append_vals(cc->buf, pcm, (guint)samples);
		h = stt_current_locked(cc, &p);
	}
	g_mutex_unlock(&cc->lock);
	if (h) {
		p->audio(h, pcm, samples);
		stt_fed(cc);
	}
	g_mutex_unlock(&cc->feed);
}

void sb_stt_chain_end_of_speech(sb_stt_stream *s)
{
	ccall *cc = (ccall *)(void *)s;
	if (!cc)
		return;
	g_mutex_lock(&cc->feed);
	g_mutex_lock(&cc->lock);
	const sb_stt_provider *p = NULL;
	sb_stt_stream *h = NULL;
	if (!cc->released && !cc->finished) {
		guint mark = cc->buf->len;
		g_array_append_val(cc->marks, mark);
		if (!cc->timer && cc->cur && cc->cur->started)
			sb_ccall_arm_timer_locked(cc);
		h = stt_current_locked(cc, &p);
	}
	g_mutex_unlock(&cc->lock);
	if (h) {
		p->end_of_speech(h);
		stt_fed(cc);
	}
	g_mutex_unlock(&cc->feed);
}

void sb_stt_chain_release(sb_stt_stream *s)
{
	if (s)
		sb_ccall_release((ccall *)(void *)s);
}
