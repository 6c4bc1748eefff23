/* Fallback chains and circuit breakers, with fake in-process providers
 * that answer, fail, hang or go quiet on their own threads. */
#include <glib.h>
#include <string.h>

#include "chain_fakes.h"

/* ---- what the user of a chain sees ---- */

typedef struct seen {
	GMutex m;
	GCond c;
	GString *text;
	GString *tools;
	long audio;
	int finals;
	GString *final_text;
	int paused;
	GString *so_far;
	bool done;
	char *error;
	int events_after_release;
	bool released;
	gpointer release_in_done; /* a call to release from inside done */
	void (*release_fn)(gpointer);
} seen;

static void seen_init(seen *s)
{
	memset(s, 0, sizeof(*s));
	g_mutex_init(&s->m);
	g_cond_init(&s->c);
	s->text = g_string_new(NULL);
	s->tools = g_string_new(NULL);
	s->final_text = g_string_new(NULL);
	s->so_far = g_string_new(NULL);
}

static void seen_clear(seen *s)
{
	g_mutex_clear(&s->m);
	g_cond_clear(&s->c);
	g_string_free(s->text, TRUE);
	g_string_free(s->tools, TRUE);
	g_string_free(s->final_text, TRUE);
	g_string_free(s->so_far, TRUE);
	g_free(s->error);
}

static void note(seen *s)
{
	if (s->released)
		s->events_after_release++;
}

static void on_text(void *u, const char *d)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	g_string_append(s->text, d);
	g_mutex_unlock(&s->m);
}

static void on_tool(void *u, const char *id, const char *name, json_t *args)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	g_string_append_printf(s->tools, "%s(%s)", name,
	                       json_string_value(json_object_get(args, "reason")));
	g_mutex_unlock(&s->m);
}

static void on_done(void *u, const char *error)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	s->done = true;
	s->error = g_strdup(error);
	gpointer rel = s->release_in_done;
	s->release_in_done = NULL;
	g_cond_broadcast(&s->c);
	g_mutex_unlock(&s->m);
	if (rel)
		s->release_fn(rel);
}

static void on_audio(void *u, const int16_t *pcm, size_t n)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	s->audio += (long)n;
	g_mutex_unlock(&s->m);
}

static void on_partial(void *u, const char *t)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	g_mutex_unlock(&s->m);
}

static void on_final(void *u, const char *t)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	s->finals++;
	g_string_assign(s->final_text, t);
	g_cond_broadcast(&s->c);
	gpointer rel = s->release_in_done;
	s->release_in_done = NULL;
	g_mutex_unlock(&s->m);
	if (rel)
		s->release_fn(rel);
}

static void on_failed(void *u, const char *e)
{
	on_done(u, e);
}

static const sb_llm_events llm_ev = {on_text, on_tool, on_done};
static const sb_tts_events tts_ev = {on_audio, on_done};
static void on_paused(void *u, const char *t)
{
	seen *s = u;
	g_mutex_lock(&s->m);
	note(s);
	s->paused++;
	g_string_assign(s->so_far, t);
	g_cond_broadcast(&s->c);
	g_mutex_unlock(&s->m);
}

static const sb_stt_events stt_ev = {
        .partial = on_partial, .final = on_final, .failed = on_failed, .paused = on_paused};

static bool wait_done(seen *s, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	g_mutex_lock(&s->m);
	while (!s->done)
		if (!g_cond_wait_until(&s->c, &s->m, end))
			break;
	bool done = s->done;
	g_mutex_unlock(&s->m);
	return done;
}

static bool wait_finals(seen *s, int n, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	g_mutex_lock(&s->m);
	while (s->finals < n && !s->done)
		if (!g_cond_wait_until(&s->c, &s->m, end))
			break;
	bool ok = s->finals >= n;
	g_mutex_unlock(&s->m);
	return ok;
}

static sb_llm_chain *llm_chain(int timeout_ms, int threshold, int cooldown, const char *a,
                               const char *abehave, const char *b, const char *bbehave)
{
	sb_chain_options opt = {timeout_ms, threshold, cooldown};
	sb_llm_chain *c = sb_llm_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new(a, abehave);
	sb_llm_chain_add(c, &fake_llm, ca);
	fake_cfg_free(ca);
	if (b) {
		sb_provider_config *cb = fake_cfg_new(b, bbehave);
		sb_llm_chain_add(c, &fake_llm, cb);
		fake_cfg_free(cb);
	}
	return c;
}

/* Runs one LLM turn to its end; returns the error (g_free) or NULL and
 * puts the text in *text (g_free). */
static char *llm_turn(sb_llm_chain *c, char **text, char **tools)
{
	json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "hi");
	sb_llm_request req = {.system_prompt = "be brief", .messages = msgs, .tools = true};
	seen s;
	seen_init(&s);
	char *err = NULL;
	sb_llm_call *call = sb_llm_chain_start(c, &req, &llm_ev, &s, &err);
	json_decref(msgs);
	if (!call) {
		g_assert_nonnull(err);
		if (text)
			*text = g_strdup("");
		seen_clear(&s);
		return err;
	}
	g_assert_true(wait_done(&s, 5000));
	sb_llm_chain_release(call);
	char *out = g_strdup(s.error);
	if (text)
		*text = g_strdup(s.text->str);
	if (tools)
		*tools = g_strdup(s.tools->str);
	seen_clear(&s);
	return out;
}

static json_t *stat_of(const char *kind, const char *name)
{
	json_t *all = sb_chain_stats();
	json_t *o = json_incref(json_object_get(json_object_get(all, kind), name));
	json_decref(all);
	g_assert_nonnull(o);
	return o;
}

static gint64 stat_int(const char *kind, const char *name, const char *key)
{
	json_t *o = stat_of(kind, name);
	gint64 v = json_integer_value(json_object_get(o, key));
	json_decref(o);
	return v;
}

static char *stat_breaker(const char *name)
{
	json_t *o = stat_of("llm", name);
	char *v = g_strdup(json_string_value(json_object_get(o, "breaker")));
	json_decref(o);
	return v;
}

/* ---- LLM ---- */

static void test_llm_first_ok(void)
{
	sb_llm_chain *c = llm_chain(1000, 3, 1000, "ok1", "ok", "ok1b", "ok");
	char *text = NULL;
	char *err = llm_turn(c, &text, NULL);
	g_assert_null(err);
	g_assert_cmpstr(text, ==, "hello from ok1");
	g_assert_cmpint(fake_requests_of("ok1b"), ==, 0);
	g_assert_cmpint(stat_int("llm", "ok1", "successes"), ==, 1);
	g_free(text);
	sb_llm_chain_free(c);
}

static void test_llm_tool(void)
{
	sb_llm_chain *c = llm_chain(1000, 3, 1000, "tool1", "tool", NULL, NULL);
	char *tools = NULL;
	char *err = llm_turn(c, NULL, &tools);
	g_assert_null(err);
	g_assert_cmpstr(tools, ==, "transfer_to_human(asked for a person)");
	g_free(tools);
	sb_llm_chain_free(c);
}

static void fall_through(const char *a, const char *how, bool timeout)
{
	sb_llm_chain *c = llm_chain(200, 5, 1000, a, how, "second", "ok");
	gint64 t0 = g_get_monotonic_time();
	int before = fake_requests_of("second");
	char *text = NULL;
	char *err = llm_turn(c, &text, NULL);
	g_assert_null(err);
	g_assert_cmpstr(text, ==, "hello from second");
	g_assert_cmpint(fake_requests_of(a), ==, 1);
	g_assert_cmpint(fake_requests_of("second"), ==, before + 1);
	g_assert_cmpint(stat_int("llm", a, "failures"), ==, 1);
	g_assert_cmpint(stat_int("llm", a, "fallbacks"), ==, 1);
	g_assert_cmpint(stat_int("llm", a, "timeouts"), ==, timeout ? 1 : 0);
	/* Bounded: the timeout (200 ms) plus the second provider's answer. */
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
	g_free(text);
	sb_llm_chain_free(c);
}

static void test_llm_error_falls_through(void)
{
	fall_through("err1", "error", false);
}

static void test_llm_timeout_falls_through(void)
{
	fall_through("hang1", "hang", true);
}

static void test_llm_empty_falls_through(void)
{
	fall_through("empty1", "empty", false);
}

static void test_llm_refused_falls_through(void)
{
	fall_through("refuse1", "fail_start", false);
}

static void test_llm_no_second_voice(void)
{
	sb_llm_chain *c = llm_chain(1000, 5, 1000, "half1", "error_after_output", "never1", "ok");
	char *text = NULL;
	char *err = llm_turn(c, &text, NULL);
	g_assert_nonnull(err);
	g_assert_true(strstr(err, "half1: broke") != NULL);
	g_assert_cmpstr(text, ==, "hello from half1");
	g_assert_cmpint(fake_requests_of("never1"), ==, 0);
	g_free(err);
	g_free(text);
	sb_llm_chain_free(c);
}

static void test_llm_all_fail(void)
{
	sb_llm_chain *c = llm_chain(1000, 5, 1000, "dead1", "error", "dead2", "empty");
	char *err = llm_turn(c, NULL, NULL);
	g_assert_cmpstr(err, ==, "all llm providers failed: dead1: boom; dead2: empty reply");
	g_free(err);
	sb_llm_chain_free(c);
	/* Nothing could start: NULL at once, with the reasons. */
	c = llm_chain(1000, 5, 1000, "nostart1", "fail_start", "nostart2", "fail_start");
	err = llm_turn(c, NULL, NULL);
	g_assert_cmpstr(err, ==, "all llm providers failed: nostart1: refused; nostart2: refused");
	g_free(err);
	sb_llm_chain_free(c);
}

static void test_llm_fails_inside_start(void)
{
	/* A failure reported before start() returned still falls through … */
	fall_through("sync1", "sync_error", false);
	/* … and when all fail that way, it is done(error), not a NULL. */
	sb_llm_chain *c = llm_chain(1000, 5, 1000, "sync2", "sync_error", "sync3", "sync_error");
	json_t *msgs = json_array();
	sb_llm_request req = {.messages = msgs};
	seen s;
	seen_init(&s);
	char *err = NULL;
	sb_llm_call *call = sb_llm_chain_start(c, &req, &llm_ev, &s, &err);
	g_assert_nonnull(call);
	g_assert_true(wait_done(&s, 3000));
	g_assert_cmpstr(s.error, ==, "all llm providers failed: sync2: instant; sync3: instant");
	sb_llm_chain_release(call);
	seen_clear(&s);
	json_decref(msgs);
	sb_llm_chain_free(c);
}

/* Long enough that a loaded machine (CI, sanitizers) never lets the
 * cool-down end between two turns the test expects inside it. */
#define BREAKER_COOLDOWN_MS 1500

static void test_llm_breaker(void)
{
	sb_llm_chain *c = llm_chain(1000, 2, BREAKER_COOLDOWN_MS, "flaky", "error", "backup", "ok");
	for (int i = 1; i <= 2; i++) {
		char *err = llm_turn(c, NULL, NULL);
		g_assert_null(err);
		g_assert_cmpint(fake_requests_of("flaky"), ==, i);
	}
	char *state = stat_breaker("flaky");
	g_assert_cmpstr(state, ==, "open");
	g_free(state);
	/* Open: skipped without a request. */
	char *text = NULL;
	g_assert_null(llm_turn(c, &text, NULL));
	g_assert_cmpstr(text, ==, "hello from backup");
	g_free(text);
	g_assert_cmpint(fake_requests_of("flaky"), ==, 2);
	g_assert_cmpint(stat_int("llm", "flaky", "skipped"), ==, 1);
	/* After the cool-down: one trial, which fails: open again. */
	g_usleep((BREAKER_COOLDOWN_MS + 100) * 1000);
	g_assert_null(llm_turn(c, NULL, NULL));
	g_assert_cmpint(fake_requests_of("flaky"), ==, 3);
	g_assert_null(llm_turn(c, NULL, NULL));
	g_assert_cmpint(fake_requests_of("flaky"), ==, 3);
	/* It recovers: the next trial succeeds and closes the breaker. */
	fake_set_behaviour("flaky", "ok");
	g_usleep((BREAKER_COOLDOWN_MS + 100) * 1000);
	g_assert_null(llm_turn(c, &text, NULL));
	g_assert_cmpstr(text, ==, "hello from flaky");
	g_free(text);
	state = stat_breaker("flaky");
	g_assert_cmpstr(state, ==, "closed");
	g_free(state);
	g_assert_null(llm_turn(c, NULL, NULL));
	g_assert_cmpint(fake_requests_of("flaky"), ==, 5);
	g_assert_cmpint(stat_int("llm", "flaky", "consecutive_failures"), ==, 0);
	sb_llm_chain_free(c);
}

static void test_llm_release_during_hang(void)
{
	sb_llm_chain *c = llm_chain(5000, 5, 1000, "stuck1", "hang", NULL, NULL);
	json_t *msgs = json_array();
	sb_llm_request req = {.messages = msgs};
	seen s;
	seen_init(&s);
	char *err = NULL;
	sb_llm_call *call = sb_llm_chain_start(c, &req, &llm_ev, &s, &err);
	g_assert_nonnull(call);
	g_usleep(50 * 1000);
	g_mutex_lock(&s.m);
	s.released = true;
	g_mutex_unlock(&s.m);
	sb_llm_chain_release(call);
	g_usleep(100 * 1000);
	g_assert_cmpint(s.events_after_release, ==, 0);
	g_assert_false(s.done);
	seen_clear(&s);
	json_decref(msgs);
	sb_llm_chain_free(c);
}

static void release_llm(gpointer call)
{
	sb_llm_chain_release(call);
}

static void test_llm_release_inside_done(void)
{
	/* The first fails (so done comes through a fall-through), the second
	 * answers; the user releases from inside done. */
	sb_llm_chain *c = llm_chain(1000, 5, 1000, "inner1", "error", "inner2", "ok");
	json_t *msgs = json_array();
	sb_llm_request req = {.messages = msgs};
	seen s;
	seen_init(&s);
	s.release_fn = release_llm;
	g_mutex_lock(&s.m);
	sb_llm_call *call = sb_llm_chain_start(c, &req, &llm_ev, &s, NULL);
	g_assert_nonnull(call);
	s.release_in_done = call;
	g_mutex_unlock(&s.m);
	g_assert_true(wait_done(&s, 5000));
	g_usleep(50 * 1000);
	g_assert_null(s.error);
	g_assert_cmpstr(s.text->str, ==, "hello from inner2");
	seen_clear(&s);
	json_decref(msgs);
	sb_llm_chain_free(c);
}

/* ---- TTS ---- */

static char *tts_turn(const char *a, const char *ab, const char *b, long *audio)
{
	sb_chain_options opt = {500, 5, 1000};
	sb_tts_chain *c = sb_tts_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new(a, ab);
	sb_provider_config *cb = fake_cfg_new(b, "ok");
	sb_tts_chain_add(c, &fake_tts, ca);
	sb_tts_chain_add(c, &fake_tts, cb);
	fake_cfg_free(ca);
	fake_cfg_free(cb);
	seen s;
	seen_init(&s);
	sb_tts_job *job = sb_tts_chain_speak(c, "Hello there.", NULL, &tts_ev, &s, NULL);
	g_assert_nonnull(job);
	g_assert_true(wait_done(&s, 5000));
	sb_tts_chain_release(job);
	char *err = g_strdup(s.error);
	*audio = s.audio;
	seen_clear(&s);
	sb_tts_chain_free(c);
	return err;
}

static void test_tts_fall_through(void)
{
	long audio = 0;
	g_assert_null(tts_turn("mute1", "no_audio", "voice1", &audio));
	g_assert_cmpint(audio, ==, 480);
	g_assert_cmpint(fake_requests_of("voice1"), ==, 1);
	g_assert_null(tts_turn("tts_err1", "error", "voice2", &audio));
	g_assert_cmpint(audio, ==, 480);
	g_assert_null(tts_turn("tts_hang1", "hang", "voice3", &audio));
	g_assert_cmpint(audio, ==, 480);
	g_assert_cmpint(stat_int("tts", "tts_hang1", "timeouts"), ==, 1);
	/* Audio then an error: the call ends, the second never speaks. */
	char *err = tts_turn("cut1", "error_after_output", "voice4", &audio);
	g_assert_cmpstr(err, ==, "cut1: cut off");
	g_assert_cmpint(audio, ==, 480);
	g_assert_cmpint(fake_requests_of("voice4"), ==, 0);
	g_free(err);
}

/* ---- STT ---- */

static bool wait_paused(seen *s, int n, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	g_mutex_lock(&s->m);
	while (s->paused < n)
		if (!g_cond_wait_until(&s->c, &s->m, end))
			break;
	bool ok = s->paused >= n;
	g_mutex_unlock(&s->m);
	return ok;
}

/* A pause goes to the provider in use, which answers with what it heard
 * so far; the utterance goes on to one final.  A provider that cannot
 * answer says so at once (whoever waits for the answer must not). */
static void test_stt_pause(void)
{
	sb_chain_options opt = {2000, 5, 1000};
	sb_stt_chain *c = sb_stt_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new("ear2", "ok");
	sb_stt_chain_add(c, &fake_stt, ca);
	fake_cfg_free(ca);
	seen s;
	seen_init(&s);
	sb_stt_stream *st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	g_assert_nonnull(st);
	int16_t frame[320] = {0};
	for (int i = 0; i < 4; i++)
		sb_stt_chain_audio(st, frame, 320);
	g_assert_true(sb_stt_chain_pause(st));
	g_assert_true(wait_paused(&s, 1, 3000));
	g_assert_cmpstr(s.so_far->str, ==, "ear2 heard 1280 samples so far");
	for (int i = 0; i < 2; i++)
		sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	g_assert_true(wait_finals(&s, 1, 3000));
	g_assert_cmpstr(s.final_text->str, ==, "ear2 heard 1920 samples");
	g_assert_cmpint(s.paused, ==, 1);
	sb_stt_chain_release(st);
	seen_clear(&s);
	sb_stt_chain_free(c);

	c = sb_stt_chain_new(&opt);
	ca = fake_cfg_new("ear3", "ok");
	sb_stt_chain_add(c, &fake_stt_no_pause, ca);
	fake_cfg_free(ca);
	seen_init(&s);
	st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	sb_stt_chain_audio(st, frame, 320);
	g_assert_false(sb_stt_chain_pause(st));
	g_assert_false(sb_stt_chain_pause(NULL));
	sb_stt_chain_end_of_speech(st);
	g_assert_true(wait_finals(&s, 1, 3000));
	g_assert_cmpint(s.paused, ==, 0);
	sb_stt_chain_release(st);
	seen_clear(&s);
	sb_stt_chain_free(c);
}

static void test_stt_replay(void)
{
	sb_chain_options opt = {200, 5, 1000};
	sb_stt_chain *c = sb_stt_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new("deaf1", "silent");
	sb_provider_config *cb = fake_cfg_new("ear1", "ok");
	sb_stt_chain_add(c, &fake_stt, ca);
	sb_stt_chain_add(c, &fake_stt, cb);
	fake_cfg_free(ca);
	fake_cfg_free(cb);
	seen s;
	seen_init(&s);
	sb_stt_stream *st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	g_assert_nonnull(st);
	int16_t frame[320] = {0};
	for (int i = 0; i < 10; i++)
		sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	/* deaf1 says nothing: after 200 ms ear1 gets the utterance again. */
	g_assert_true(wait_finals(&s, 1, 3000));
	g_assert_cmpstr(s.final_text->str, ==, "ear1 heard 3200 samples");
	g_assert_cmpint(fake_requests_of("deaf1"), ==, 1);
	g_assert_cmpint(stat_int("stt", "deaf1", "timeouts"), ==, 1);
	/* The next utterance goes to ear1 directly, with only its own audio. */
	for (int i = 0; i < 5; i++)
		sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	g_assert_true(wait_finals(&s, 2, 3000));
	g_assert_cmpstr(s.final_text->str, ==, "ear1 heard 1600 samples");
	g_assert_cmpint(fake_requests_of("ear1"), ==, 1);
	g_assert_false(s.done);
	sb_stt_chain_release(st);
	seen_clear(&s);
	sb_stt_chain_free(c);
}

static void test_stt_failed_falls_through(void)
{
	sb_chain_options opt = {2000, 5, 1000};
	sb_stt_chain *c = sb_stt_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new("broken1", "fail");
	sb_provider_config *cb = fake_cfg_new("ear2", "ok");
	sb_stt_chain_add(c, &fake_stt, ca);
	sb_stt_chain_add(c, &fake_stt, cb);
	fake_cfg_free(ca);
	fake_cfg_free(cb);
	seen s;
	seen_init(&s);
	sb_stt_stream *st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	int16_t frame[320] = {0};
	for (int i = 0; i < 3; i++)
		sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	g_assert_true(wait_finals(&s, 1, 3000));
	g_assert_cmpstr(s.final_text->str, ==, "ear2 heard 960 samples");
	g_assert_cmpint(stat_int("stt", "broken1", "fallbacks"), ==, 1);
	sb_stt_chain_release(st);
	seen_clear(&s);
	sb_stt_chain_free(c);

	/* When the last one fails too: failed(summary). */
	c = sb_stt_chain_new(&opt);
	ca = fake_cfg_new("broken2", "fail");
	sb_stt_chain_add(c, &fake_stt, ca);
	fake_cfg_free(ca);
	seen_init(&s);
	st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	g_assert_true(wait_done(&s, 3000));
	g_assert_cmpstr(s.error, ==, "all stt providers failed: broken2: stt boom");
	sb_stt_chain_release(st);
	seen_clear(&s);
	sb_stt_chain_free(c);
}

static void test_stt_last_resort_kept(void)
{
	sb_chain_options opt = {150, 5, 1000};
	sb_stt_chain *c = sb_stt_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new("slow1", "silent");
	sb_stt_chain_add(c, &fake_stt, ca);
	fake_cfg_free(ca);
	seen s;
	seen_init(&s);
	sb_stt_stream *st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	int16_t frame[320] = {0};
	sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	g_usleep(400 * 1000);
	/* Slow, but the only one: counted, not dropped. */
	g_assert_false(s.done);
	g_assert_cmpint(stat_int("stt", "slow1", "timeouts"), ==, 1);
	g_assert_cmpint(stat_int("stt", "slow1", "failures"), ==, 0);
	sb_stt_chain_release(st);
	seen_clear(&s);
	sb_stt_chain_free(c);
}

static void release_stt(gpointer s)
{
	sb_stt_chain_release(s);
}

static void test_stt_release_inside_final(void)
{
	sb_chain_options opt = {2000, 5, 1000};
	sb_stt_chain *c = sb_stt_chain_new(&opt);
	sb_provider_config *ca = fake_cfg_new("ear3", "ok");
	sb_stt_chain_add(c, &fake_stt, ca);
	fake_cfg_free(ca);
	seen s;
	seen_init(&s);
	s.release_fn = release_stt;
	g_mutex_lock(&s.m);
	sb_stt_stream *st = sb_stt_chain_open(c, &stt_ev, &s, NULL);
	s.release_in_done = st;
	g_mutex_unlock(&s.m);
	int16_t frame[320] = {0};
	sb_stt_chain_audio(st, frame, 320);
	sb_stt_chain_end_of_speech(st);
	g_assert_true(wait_finals(&s, 1, 3000));
	g_usleep(50 * 1000);
	g_assert_cmpstr(s.final_text->str, ==, "ear3 heard 320 samples");
	seen_clear(&s);
	sb_stt_chain_free(c);
}

static void test_stats_shape(void)
{
	sb_llm_chain *c = llm_chain(1000, 5, 1000, "shape1", "ok", NULL, NULL);
	g_assert_null(llm_turn(c, NULL, NULL));
	sb_llm_chain_free(c);
	json_t *all = sb_chain_stats();
	g_assert_true(json_is_object(json_object_get(all, "llm")));
	g_assert_true(json_is_object(json_object_get(all, "stt")));
	g_assert_true(json_is_object(json_object_get(all, "tts")));
	json_t *o = json_object_get(json_object_get(all, "llm"), "shape1");
	const char *keys[] = {
	        "requests", "successes",           "failures", "timeouts", "fallbacks",
	        "skipped",  "consecutive_failures"};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		g_assert_true(json_is_integer(json_object_get(o, keys[i])));
	g_assert_cmpstr(json_string_value(json_object_get(o, "breaker")), ==, "closed");
	json_decref(all);
}

static void test_options_from_json(void)
{
	sb_chain_options opt = {0};
	json_t *agent = json_pack("{s:s, s:s, s:i}", "first_output_timeout_ms", "4000",
	                          "tts_first_output_timeout_ms", "6000", "breaker_threshold", 4);
	sb_chain_options_from_json(&opt, agent, SB_KIND_TTS);
	g_assert_cmpint(opt.first_output_timeout_ms, ==, 6000);
	g_assert_cmpint(opt.breaker_threshold, ==, 4);
	g_assert_cmpint(opt.breaker_cooldown_ms, ==, 0);
	sb_chain_options_from_json(&opt, agent, SB_KIND_LLM);
	g_assert_cmpint(opt.first_output_timeout_ms, ==, 4000);
	json_decref(agent);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/chain/llm/first-ok", test_llm_first_ok);
	g_test_add_func("/chain/llm/tool", test_llm_tool);
	g_test_add_func("/chain/llm/error-falls-through", test_llm_error_falls_through);
	g_test_add_func("/chain/llm/timeout-falls-through", test_llm_timeout_falls_through);
	g_test_add_func("/chain/llm/empty-falls-through", test_llm_empty_falls_through);
	g_test_add_func("/chain/llm/refused-falls-through", test_llm_refused_falls_through);
	g_test_add_func("/chain/llm/no-second-voice", test_llm_no_second_voice);
	g_test_add_func("/chain/llm/all-fail", test_llm_all_fail);
	g_test_add_func("/chain/llm/fails-inside-start", test_llm_fails_inside_start);
	g_test_add_func("/chain/llm/breaker", test_llm_breaker);
	g_test_add_func("/chain/llm/release-during-hang", test_llm_release_during_hang);
	g_test_add_func("/chain/llm/release-inside-done", test_llm_release_inside_done);
	g_test_add_func("/chain/tts/fall-through", test_tts_fall_through);
	g_test_add_func("/chain/stt/replay-after-timeout", test_stt_replay);
	g_test_add_func("/chain/stt/failed-falls-through", test_stt_failed_falls_through);
	g_test_add_func("/chain/stt/release-inside-final", test_stt_release_inside_final);
	g_test_add_func("/chain/stt/last-resort-kept", test_stt_last_resort_kept);
	g_test_add_func("/chain/stt/pause", test_stt_pause);
	g_test_add_func("/chain/stats-shape", test_stats_shape);
	g_test_add_func("/chain/options-from-json", test_options_from_json);
	int rc = g_test_run();
	sb_chain_shutdown();
	fake_cleanup();
	return rc;
}
