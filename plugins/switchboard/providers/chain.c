/* Fallback chains (providers.h, "chain"): what is particular to each kind —
 * the events as they come from its providers, how a provider of the kind is
 * started and released (the chain's ops), the STT audio kept for a
 * replacement — and the public functions.  The machinery they share is
 * chain_core.c, which knows a kind only through its ops.
 *
 * The public chain and call types are chain_core's chain_state and ccall
 * under the kind's name: one object, so the kinds' public functions stay
 * one line each and cannot drift apart. */
#include <string.h>

#include "providers/providers_private.h"

#define STT_KEEP_SAMPLES (30 * SB_AGENT_RATE) /* audio kept for a replay */

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

static void llm_tool(void *user, const char *id, const char *name, json_t *arguments)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	sb_ccall_output_locked(att, true);
	DELIVER(cc, if (cc->ev.llm.tool) cc->ev.llm.tool(cc->user, id, name, arguments));
}

/* The end of an LLM or TTS attempt: a success only when it said something
 * (else `none` is its failure). */
static void output_done(attempt *att, const char *error, const char *none)
{
	if (!sb_ccall_event_begin(att))
		return;
	if (error)
		sb_ccall_failure_locked(att, error, is_timeout(error));
	else if (!att->cc->output)
		sb_ccall_failure_locked(att, none, false);
	else
		sb_ccall_success_locked(att);
}

static void llm_done(void *user, const char *error)
{
	output_done(user, error, "empty reply");
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
	output_done(user, error, "no audio");
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

static void stt_paused(void *user, const char *text)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!sb_ccall_event_begin(att))
		return;
	g_mutex_unlock(&cc->lock);
	DELIVER(cc, if (cc->ev.stt.paused) cc->ev.stt.paused(cc->user, text ? text : ""));
}

static void stt_language(void *user, const char *code)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!code || !*code || !sb_ccall_event_begin(att))
		return;
	g_mutex_unlock(&cc->lock);
	DELIVER(cc, if (cc->ev.stt.language) cc->ev.stt.language(cc->user, code));
}

static void stt_endpoint(void *user, const char *text)
{
	attempt *att = user;
	ccall *cc = att->cc;
	if (!text || !*text || !sb_ccall_event_begin(att))
		return;
	g_mutex_unlock(&cc->lock);
	DELIVER(cc, if (cc->ev.stt.endpoint) cc->ev.stt.endpoint(cc->user, text));
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

static const sb_stt_events stt_events = {.partial = stt_partial,
                                         .final = stt_final,
                                         .failed = stt_failed,
                                         .paused = stt_paused,
                                         .language = stt_language,
                                         .endpoint = stt_endpoint};

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

static void *llm_start(ccall *cc, attempt *att, chain_entry *e, char **error)
{
	const sb_llm_provider *p = e->impl;
	return p->start(e->cfg, &cc->req, &llm_events, att, error);
}

static void llm_release(chain_entry *e, void *handle)
{
	((const sb_llm_provider *)e->impl)->release(handle);
}

/* The provider's config in `language`: its voice for that language from
 * its `voices` ({"ar": "…"}) when it has one there; else its own voice,
 * which the provider keeps or not (a multilingual cloud voice speaks any
 * language; espeak-ng's voices are languages). */
static const sb_provider_config *config_in(ccall *cc, const sb_provider_config *cfg,
                                           const char *language)
{
	if (!language || !g_strcmp0(sb_language_code(cfg->language), sb_language_code(language)))
		return cfg;
	sb_provider_config *c = sb_provider_config_copy(cfg);
	g_free((char *)c->language);
	c->language = g_strdup(language);
	json_t *voices = json_object_get(cfg->extra, "voices");
	const char *voice = json_string_value(json_object_get(voices, language));
	if (!voice)
		voice = json_string_value(json_object_get(voices, sb_language_code(language)));
	if (voice) {
		g_free((char *)c->voice);
		c->voice = g_strdup(voice);
	}
	if (!cc->configs)
		cc->configs =
		        g_ptr_array_new_with_free_func((GDestroyNotify)sb_provider_config_free);
	g_ptr_array_add(cc->configs, c);
	return c;
}

static void *tts_start(ccall *cc, attempt *att, chain_entry *e, char **error)
{
	const sb_tts_provider *p = e->impl;
	return p->speak(config_in(cc, e->cfg, cc->req.language), cc->text, &tts_events, att, error);
}

static void tts_release(chain_entry *e, void *handle)
{
	((const sb_tts_provider *)e->impl)->release(handle);
}

static void *stt_start(ccall *cc, attempt *att, chain_entry *e, char **error)
{
	const sb_stt_provider *p = e->impl;
	sb_stt_stream *h = p->open(e->cfg, &stt_events, att, error);
	if (h)
		stt_replay(cc, p, h);
	return h;
}

static void stt_release(chain_entry *e, void *handle)
{
	((const sb_stt_provider *)e->impl)->release(handle);
}

static const chain_kind_ops llm_ops = {.start = llm_start, .release = llm_release};
static const chain_kind_ops tts_ops = {.start = tts_start, .release = tts_release};
static const chain_kind_ops stt_ops = {.start = stt_start, .release = stt_release};

/* A call of chain c; NULL with *error when the arguments are not ok. */
static ccall *call_new(void *c, bool ok, void *user, char **error)
{
	if (!c || !ok) {
		if (error)
			*error = g_strdup("bad arguments");
		return NULL;
	}
	return sb_ccall_new(c, user);
}

/* Runs the chain from its first provider; NULL with *error when none
 * started. */
static void *begin(ccall *cc, char **error)
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

/* ---- the public functions ---- */

sb_llm_chain *sb_llm_chain_new(const sb_chain_options *opt)
{
	return (sb_llm_chain *)sb_chain_new_kind(SB_KIND_LLM, &llm_ops, opt);
}

sb_stt_chain *sb_stt_chain_new(const sb_chain_options *opt)
{
	return (sb_stt_chain *)sb_chain_new_kind(SB_KIND_STT, &stt_ops, opt);
}

sb_tts_chain *sb_tts_chain_new(const sb_chain_options *opt)
{
	return (sb_tts_chain *)sb_chain_new_kind(SB_KIND_TTS, &tts_ops, opt);
}

void sb_llm_chain_add(sb_llm_chain *c, const sb_llm_provider *impl, const sb_provider_config *cfg)
{
	sb_chain_add_entry((chain_state *)c, impl, cfg);
}

void sb_stt_chain_add(sb_stt_chain *c, const sb_stt_provider *impl, const sb_provider_config *cfg)
{
	sb_chain_add_entry((chain_state *)c, impl, cfg);
}

void sb_tts_chain_add(sb_tts_chain *c, const sb_tts_provider *impl, const sb_provider_config *cfg)
{
	sb_chain_add_entry((chain_state *)c, impl, cfg);
}

size_t sb_llm_chain_size(const sb_llm_chain *c)
{
	return sb_chain_size((const chain_state *)c);
}

size_t sb_stt_chain_size(const sb_stt_chain *c)
{
	return sb_chain_size((const chain_state *)c);
}

size_t sb_tts_chain_size(const sb_tts_chain *c)
{
	return sb_chain_size((const chain_state *)c);
}

void sb_llm_chain_free(sb_llm_chain *c)
{
	sb_chain_unref((chain_state *)c);
}

void sb_stt_chain_free(sb_stt_chain *c)
{
	sb_chain_unref((chain_state *)c);
}

void sb_tts_chain_free(sb_tts_chain *c)
{
	sb_chain_unref((chain_state *)c);
}

sb_llm_call *sb_llm_chain_start(sb_llm_chain *c, const sb_llm_request *req,
                                const sb_llm_events *events, void *user, char **error)
{
	ccall *cc = call_new(c, req && events, user, error);
	if (!cc)
		return NULL;
	cc->ev.llm = *events;
	cc->req.system_prompt = g_strdup(req->system_prompt);
	cc->req.messages = req->messages ? json_deep_copy(req->messages) : json_array();
	cc->req.tools = req->tools;
	cc->req.functions = req->functions ? json_deep_copy(req->functions) : NULL;
	cc->req.memory = req->memory ? json_incref(req->memory) : NULL;
	cc->req.knowledge = req->knowledge ? json_incref(req->knowledge) : NULL;
	cc->req.language = g_strdup(req->language);
	return begin(cc, error);
}

sb_tts_job *sb_tts_chain_speak(sb_tts_chain *c, const char *text, const char *language,
                               const sb_tts_events *events, void *user, char **error)
{
	ccall *cc = call_new(c, text && events, user, error);
	if (!cc)
		return NULL;
	cc->ev.tts = *events;
	cc->text = g_strdup(text);
	cc->req.language = g_strdup(language);
	return begin(cc, error);
}

sb_stt_stream *sb_stt_chain_open(sb_stt_chain *c, const sb_stt_events *events, void *user,
                                 char **error)
{
	ccall *cc = call_new(c, events != NULL, user, error);
	if (!cc)
		return NULL;
	cc->ev.stt = *events;
	cc->buf = g_array_new(FALSE, FALSE, sizeof(int16_t));
	cc->marks = g_array_new(FALSE, FALSE, sizeof(guint));
	return begin(cc, error);
}

/* Releasing is the same for every kind. */
static void call_release(void *call)
{
	if (call)
		sb_ccall_release(call);
}

void sb_llm_chain_release(sb_llm_call *call)
{
	call_release(call);
}

void sb_tts_chain_release(sb_tts_job *job)
{
	call_release(job);
}

void sb_stt_chain_release(sb_stt_stream *s)
{
	call_release(s);
}

/* ---- STT audio ---- */

/* Keeps the newest 30 s of audio: a replacement provider hears them.
 * Returns where the part kept of pcm starts (its length in *samples). */
static const int16_t *stt_keep_locked(ccall *cc, const int16_t *pcm, size_t *samples)
{
	if (*samples >= STT_KEEP_SAMPLES) {
		pcm += *samples - STT_KEEP_SAMPLES;
		*samples = STT_KEEP_SAMPLES;
	}
	if (cc->buf->len + *samples > STT_KEEP_SAMPLES) {
		guint drop = (guint)(cc->buf->len + *samples - STT_KEEP_SAMPLES);
		g_array_remove_range(cc->buf, 0, drop);
		for (guint i = 0; i < cc->marks->len; i++) {
			guint *m = &g_array_index(cc->marks, guint, i);
			*m = *m > drop ? *m - drop : 0;
		}
	}
	g_array_append_vals(cc->buf, pcm, (guint)*samples);
	return pcm;
}

/* An end of speech is marked in the audio kept; its final is due within
 * the first-output timeout. */
static void stt_mark_locked(ccall *cc)
{
	guint mark = cc->buf->len;
	g_array_append_val(cc->marks, mark);
	if (!cc->timer && cc->cur && cc->cur->started)
		sb_ccall_arm_timer_locked(cc);
}

typedef enum { FEED_AUDIO, FEED_END, FEED_PAUSE } stt_feed_kind;

/* Audio, an end of speech or a pause: audio and ends are kept for a
 * replay (a pause asks only the provider in use), then handed to the live
 * provider.  Under cc->feed, so that no fall-through swaps the provider
 * meanwhile; `feeding` makes release() wait for the provider's call to
 * return.  False when no provider took it. */
static bool stt_feed(ccall *cc, stt_feed_kind kind, const int16_t *pcm, size_t samples)
{
	g_mutex_lock(&cc->feed);
	g_mutex_lock(&cc->lock);
	attempt *att = cc->cur;
	bool live = !cc->released && !cc->finished;
	if (live && kind == FEED_AUDIO)
		pcm = stt_keep_locked(cc, pcm, &samples);
	else if (live && kind == FEED_END)
		stt_mark_locked(cc);
	/* The mark may have armed the timer, never changed cur. */
	live = live && att && att->started;
	const sb_stt_provider *p = live ? sb_ccall_entry(cc, att)->impl : NULL;
	if (kind == FEED_PAUSE && p && !p->pause)
		live = false;
	if (live)
		cc->feeding++;
	g_mutex_unlock(&cc->lock);
	if (live) {
		if (kind == FEED_AUDIO)
			p->audio(att->handle, pcm, samples);
		else if (kind == FEED_END)
			p->end_of_speech(att->handle);
		else
			p->pause(att->handle);
		g_mutex_lock(&cc->lock);
		if (--cc->feeding == 0)
			g_cond_broadcast(&cc->fed);
		g_mutex_unlock(&cc->lock);
	}
	g_mutex_unlock(&cc->feed);
	return live;
}

void sb_stt_chain_audio(sb_stt_stream *s, const int16_t *pcm, size_t samples)
{
	if (s && pcm && samples > 0)
		stt_feed((ccall *)(void *)s, FEED_AUDIO, pcm, samples);
}

bool sb_stt_chain_pause(sb_stt_stream *s)
{
	return s && stt_feed((ccall *)(void *)s, FEED_PAUSE, NULL, 0);
}

void sb_stt_chain_end_of_speech(sb_stt_stream *s)
{
	if (s)
		stt_feed((ccall *)(void *)s, FEED_END, NULL, 0);
}
