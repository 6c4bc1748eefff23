/* Fake in-process providers for the chain tests (chain_fakes.h). */
#include <string.h>

#include "chain_fakes.h"

static GMutex fake_lock;
static GHashTable *fake_requests;  /* name -> count */
static GHashTable *fake_behaviour; /* name -> behaviour override */

static void fake_count(const char *name)
{
	g_mutex_lock(&fake_lock);
	if (!fake_requests)
		fake_requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	int n = GPOINTER_TO_INT(g_hash_table_lookup(fake_requests, name));
	g_hash_table_insert(fake_requests, g_strdup(name), GINT_TO_POINTER(n + 1));
	g_mutex_unlock(&fake_lock);
}

int fake_requests_of(const char *name)
{
	g_mutex_lock(&fake_lock);
	int n = fake_requests ? GPOINTER_TO_INT(g_hash_table_lookup(fake_requests, name)) : 0;
	g_mutex_unlock(&fake_lock);
	return n;
}

void fake_set_behaviour(const char *name, const char *b)
{
	g_mutex_lock(&fake_lock);
	if (!fake_behaviour)
		fake_behaviour = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(fake_behaviour, g_strdup(name), g_strdup(b));
	g_mutex_unlock(&fake_lock);
}

static char *behaviour(const sb_provider_config *cfg)
{
	g_mutex_lock(&fake_lock);
	const char *b = fake_behaviour ? g_hash_table_lookup(fake_behaviour, cfg->name) : NULL;
	if (!b)
		b = json_string_value(json_object_get(cfg->extra, "behaviour"));
	char *out = g_strdup(b ? b : "ok");
	g_mutex_unlock(&fake_lock);
	return out;
}

/* One fake call: a thread that plays its behaviour; release() cancels and
 * joins it (or, from inside its own event, lets it free itself). */
typedef struct fake {
	GMutex m;
	GCond c;
	bool cancel;
	bool self_release;
	GThread *thread;
	char *name;
	char *what;
	void *user;
	sb_llm_events llm;
	sb_tts_events tts;
	sb_stt_events stt;
	int kind;
	GAsyncQueue *cmds; /* STT: GINT_TO_POINTER(samples + 1) or -1 (eos) */
	long samples;
	int eos;
} fake;

static void fake_free(fake *f)
{
	g_mutex_clear(&f->m);
	g_cond_clear(&f->c);
	g_free(f->name);
	g_free(f->what);
	if (f->cmds)
		g_async_queue_unref(f->cmds);
	g_free(f);
}

/* Sleeps up to ms (forever: -1); false when cancelled. */
static bool fake_wait(fake *f, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	g_mutex_lock(&f->m);
	while (!f->cancel) {
		if (ms < 0)
			g_cond_wait(&f->c, &f->m);
		else if (!g_cond_wait_until(&f->c, &f->m, end))
			break;
	}
	bool ok = !f->cancel;
	g_mutex_unlock(&f->m);
	return ok;
}

static bool live(fake *f)
{
	g_mutex_lock(&f->m);
	bool ok = !f->cancel;
	g_mutex_unlock(&f->m);
	return ok;
}

static void fake_end(fake *f)
{
	g_mutex_lock(&f->m);
	bool mine = f->self_release;
	g_mutex_unlock(&f->m);
	if (mine)
		fake_free(f);
}

static gpointer llm_thread(gpointer p)
{
	fake *f = p;
	const char *w = f->what;
	if (!fake_wait(f, 20))
		goto out;
	if (!strcmp(w, "sync_error")) {
		/* already failed inside start() */
	} else if (!strcmp(w, "hang")) {
		fake_wait(f, -1);
	} else if (!strcmp(w, "error")) {
		f->llm.done(f->user, "boom");
	} else if (!strcmp(w, "empty")) {
		f->llm.done(f->user, NULL);
	} else if (!strcmp(w, "tool")) {
		json_t *args = json_pack("{s:s}", "reason", "asked for a person");
		f->llm.tool(f->user, NULL, "transfer_to_human", args);
		json_decref(args);
		if (live(f))
			f->llm.done(f->user, NULL);
	} else if (!strncmp(w, "say:", 4)) {
		/* The text after "say:", streamed in pieces of 7 bytes. */
		for (const char *t = w + 4; *t && live(f); t += MIN(strlen(t), 7)) {
			char *piece = g_strndup(t, 7);
			f->llm.text(f->user, piece);
			g_free(piece);
		}
		if (live(f))
			f->llm.done(f->user, NULL);
	} else {
		char *t = g_strdup_printf("hello from %s", f->name);
		f->llm.text(f->user, t);
		g_free(t);
		if (live(f) && !strcmp(w, "error_after_output"))
			f->llm.done(f->user, "broke");
		else if (live(f))
			f->llm.done(f->user, NULL);
	}
out:
	fake_end(f);
	return NULL;
}

static fake *fake_new(const sb_provider_config *cfg, void *user)
{
	fake *f = g_new0(fake, 1);
	g_mutex_init(&f->m);
	g_cond_init(&f->c);
	f->name = g_strdup(cfg->name);
	f->what = behaviour(cfg);
	f->user = user;
	fake_count(cfg->name);
	return f;
}

static void fake_release(fake *f)
{
	if (!f)
		return;
	if (f->cmds)
		g_async_queue_push(f->cmds, GINT_TO_POINTER(-2));
	g_mutex_lock(&f->m);
	f->cancel = true;
	g_cond_broadcast(&f->c);
	if (g_thread_self() == f->thread) {
		f->self_release = true;
		g_mutex_unlock(&f->m);
		g_thread_unref(f->thread);
		return;
	}
	g_mutex_unlock(&f->m);
	g_thread_join(f->thread);
	fake_free(f);
}

static sb_llm_call *fake_llm_start(const sb_provider_config *cfg, const sb_llm_request *req,
                                   const sb_llm_events *ev, void *user, char **error)
{
	char *b = behaviour(cfg);
	bool refuse = !strcmp(b, "fail_start");
	g_free(b);
	if (refuse) {
		fake_count(cfg->name);
		*error = g_strdup("refused");
		return NULL;
	}
	g_assert_nonnull(req->messages);
	fake *f = fake_new(cfg, user);
	f->llm = *ev;
	f->thread = g_thread_new("fake-llm", llm_thread, f);
	if (!strcmp(f->what, "sync_error")) /* fails before start() returns */
		ev->done(user, "instant");
	return (sb_llm_call *)(void *)f;
}

static void fake_llm_release(sb_llm_call *c)
{
	fake_release((fake *)(void *)c);
}

const sb_llm_provider fake_llm = {"fake", fake_llm_start, fake_llm_release};

static gpointer tts_thread(gpointer p)
{
	fake *f = p;
	const char *w = f->what;
	int16_t pcm[160] = {0};
	if (!fake_wait(f, 20))
		goto out;
	if (!strcmp(w, "hang")) {
		fake_wait(f, -1);
	} else if (!strcmp(w, "error")) {
		f->tts.done(f->user, "tts boom");
	} else if (!strcmp(w, "no_audio")) {
		f->tts.done(f->user, NULL);
	} else {
		for (int i = 0; i < 3 && live(f); i++)
			f->tts.audio(f->user, pcm, 160);
		if (live(f))
			f->tts.done(f->user, !strcmp(w, "error_after_output") ? "cut off" : NULL);
	}
out:
	fake_end(f);
	return NULL;
}

static sb_tts_job *fake_tts_speak(const sb_provider_config *cfg, const char *text,
                                  const sb_tts_events *ev, void *user, char **error)
{
	fake *f = fake_new(cfg, user);
	f->tts = *ev;
	f->thread = g_thread_new("fake-tts", tts_thread, f);
	return (sb_tts_job *)(void *)f;
}

static void fake_tts_release(sb_tts_job *j)
{
	fake_release((fake *)(void *)j);
}

const sb_tts_provider fake_tts = {"fake", fake_tts_speak, fake_tts_release};

/* STT: counts the audio; at each end of speech "ok" gives a final naming
 * what it heard, "silent" gives nothing, "fail" fails. */
static gpointer stt_thread(gpointer p)
{
	fake *f = p;
	for (;;) {
		int cmd = GPOINTER_TO_INT(g_async_queue_pop(f->cmds));
		if (cmd == -2 || !live(f))
			break;
		if (cmd > 0) {
			f->samples += cmd - 1;
			continue;
		}
		if (cmd == -3) { /* pause: what it heard so far */
			char *t =
			        g_strdup_printf("%s heard %ld samples so far", f->name, f->samples);
			f->stt.paused(f->user, t);
			g_free(t);
			continue;
		}
		f->eos++;
		if (!strcmp(f->what, "fail")) {
			f->stt.failed(f->user, "stt boom");
		} else if (!strcmp(f->what, "ok")) {
			char *t = g_strdup_printf("%s heard %ld samples", f->name, f->samples);
			f->stt.partial(f->user, "partial");
			if (live(f))
				f->stt.final(f->user, t);
			g_free(t);
			f->samples = 0;
		}
	}
	fake_end(f);
	return NULL;
}

static sb_stt_stream *fake_stt_open(const sb_provider_config *cfg, const sb_stt_events *ev,
                                    void *user, char **error)
{
	fake *f = fake_new(cfg, user);
	f->stt = *ev;
	f->cmds = g_async_queue_new();
	f->thread = g_thread_new("fake-stt", stt_thread, f);
	return (sb_stt_stream *)(void *)f;
}

static void fake_stt_audio(sb_stt_stream *s, const int16_t *pcm, size_t n)
{
	g_async_queue_push(((fake *)(void *)s)->cmds, GINT_TO_POINTER((int)n + 1));
}

static void fake_stt_eos(sb_stt_stream *s)
{
	g_async_queue_push(((fake *)(void *)s)->cmds, GINT_TO_POINTER(-1));
}

static void fake_stt_release(sb_stt_stream *s)
{
	fake_release((fake *)(void *)s);
}

static void fake_stt_pause(sb_stt_stream *s)
{
	g_async_queue_push(((fake *)(void *)s)->cmds, GINT_TO_POINTER(-3));
}

const sb_stt_provider fake_stt = {.type = "fake",
                                  .open = fake_stt_open,
                                  .audio = fake_stt_audio,
                                  .end_of_speech = fake_stt_eos,
                                  .pause = fake_stt_pause,
                                  .release = fake_stt_release};
const sb_stt_provider fake_stt_no_pause = {.type = "fake-no-pause",
                                           .open = fake_stt_open,
                                           .audio = fake_stt_audio,
                                           .end_of_speech = fake_stt_eos,
                                           .release = fake_stt_release};

sb_provider_config *fake_cfg_new(const char *name, const char *behave)
{
	sb_provider_config *c = g_new0(sb_provider_config, 1);
	c->name = name;
	c->type = "fake";
	c->timeout_ms = 1000;
	c->extra = json_pack("{s:s}", "behaviour", behave);
	return c;
}

void fake_cfg_free(sb_provider_config *c)
{
	json_decref(c->extra);
	g_free(c);
}

void fake_cleanup(void)
{
	if (fake_requests)
		g_hash_table_destroy(fake_requests);
	if (fake_behaviour)
		g_hash_table_destroy(fake_behaviour);
	fake_requests = NULL;
	fake_behaviour = NULL;
}
