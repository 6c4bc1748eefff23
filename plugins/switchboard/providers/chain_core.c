/* The machinery of the fallback chains (providers.h, "chain"): per-provider
 * counters and circuit breakers, the chains' timer thread, and the attempt
 * runner that starts providers in order, falls through on failure and ends
 * calls.  It knows no kind: a chain's ops (set by chain.c for its kind)
 * start and release a provider, so the dependency goes one way.
 *
 * Locking: a call's lock guards its state and is never held while calling
 * into a provider or the user.  Falling through to the next provider
 * happens on the timer thread (never inside the failing provider's own
 * callback), holding the call's feed lock so STT audio cannot be fed to a
 * provider being swapped.  The timer thread is a core loop thread (sb_loop),
 * started on first use. */
#include <stdlib.h>
#include <string.h>

#include "providers/providers_private.h"

enum { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };
typedef enum { DENY, ALLOW, ALLOW_TRIAL } allow_t;

struct pstat {
	gint ref;
	sb_provider_kind kind;
	char *name;
	guint64 requests, successes, failures, timeouts, fallbacks, skipped;
	int consecutive;
	int state;
	gint64 opened_at;
	bool trial;
};

static GMutex stats_lock;
static GHashTable *stats; /* "kind/name" -> pstat* (a reference) */

/* ---- counters and breakers ---- */

static void pstat_unref(gpointer data)
{
	pstat *st = data;
	if (!g_atomic_int_dec_and_test(&st->ref))
		return;
	g_free(st->name);
	g_free(st);
}

static pstat *pstat_get(sb_provider_kind kind, const char *name)
{
	char *key = g_strdup_printf("%s/%s", sb_provider_kind_name(kind), name);
	g_mutex_lock(&stats_lock);
	if (!stats)
		stats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, pstat_unref);
	pstat *st = g_hash_table_lookup(stats, key);
	if (!st) {
		st = g_new0(pstat, 1);
		st->ref = 1;
		st->kind = kind;
		st->name = g_strdup(name);
		g_hash_table_insert(stats, key, st);
		key = NULL;
	}
	g_atomic_int_inc(&st->ref);
	g_mutex_unlock(&stats_lock);
	g_free(key);
	return st;
}

static allow_t pstat_allow(pstat *st, const sb_chain_options *opt)
{
	allow_t a = ALLOW;
	g_mutex_lock(&stats_lock);
	if (st->state == BREAKER_OPEN &&
	    g_get_monotonic_time() - st->opened_at >= (gint64)opt->breaker_cooldown_ms * 1000) {
		st->state = BREAKER_HALF_OPEN;
		st->trial = false;
	}
	if (st->state == BREAKER_OPEN) {
		a = DENY;
	} else if (st->state == BREAKER_HALF_OPEN) {
		a = st->trial ? DENY : ALLOW_TRIAL;
		st->trial = true;
	}
	if (a == DENY)
		st->skipped++;
	else
		st->requests++;
	g_mutex_unlock(&stats_lock);
	return a;
}

void sb_pstat_success(pstat *st)
{
	g_mutex_lock(&stats_lock);
	st->successes++;
	st->consecutive = 0;
	if (st->state != BREAKER_CLOSED)
		g_message("providers: %s %s is back, breaker closed",
		          sb_provider_kind_name(st->kind), st->name);
	st->state = BREAKER_CLOSED;
	st->trial = false;
	g_mutex_unlock(&stats_lock);
}

static void pstat_failure(pstat *st, bool trial, bool timeout, const sb_chain_options *opt)
{
	g_mutex_lock(&stats_lock);
	st->failures++;
	if (timeout)
		st->timeouts++;
	st->consecutive++;
	bool open =
	        trial || (st->state == BREAKER_CLOSED && st->consecutive >= opt->breaker_threshold);
	if (open) {
		st->state = BREAKER_OPEN;
		st->opened_at = g_get_monotonic_time();
		st->trial = false;
		g_message("providers: %s %s breaker open after %d failure(s), retry in %d ms",
		          sb_provider_kind_name(st->kind), st->name, st->consecutive,
		          opt->breaker_cooldown_ms);
	}
	g_mutex_unlock(&stats_lock);
}

static void pstat_abandon(pstat *st, bool trial)
{
	if (!trial)
		return;
	g_mutex_lock(&stats_lock);
	if (st->state == BREAKER_HALF_OPEN)
		st->trial = false; /* the next call gets the trial */
	g_mutex_unlock(&stats_lock);
}

static void pstat_slow(pstat *st)
{
	g_mutex_lock(&stats_lock);
	st->timeouts++;
	g_mutex_unlock(&stats_lock);
}

static void pstat_fallback(pstat *st)
{
	g_mutex_lock(&stats_lock);
	st->fallbacks++;
	g_mutex_unlock(&stats_lock);
}

json_t *sb_chain_stats(void)
{
	json_t *out = json_pack("{s:{}, s:{}, s:{}}", "stt", "llm", "tts");
	static const char *const states[] = {"closed", "open", "half_open"};
	g_mutex_lock(&stats_lock);
	if (stats) {
		GHashTableIter it;
		gpointer value;
		g_hash_table_iter_init(&it, stats);
		while (g_hash_table_iter_next(&it, NULL, &value)) {
			pstat *st = value;
			int state = st->state;
			json_t *o = json_pack(
			        "{s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:s}", "requests",
			        (json_int_t)st->requests, "successes", (json_int_t)st->successes,
			        "failures", (json_int_t)st->failures, "timeouts",
			        (json_int_t)st->timeouts, "fallbacks", (json_int_t)st->fallbacks,
			        "skipped", (json_int_t)st->skipped, "consecutive_failures",
			        st->consecutive, "breaker", states[state]);
			json_object_set_new(json_object_get(out, sb_provider_kind_name(st->kind)),
			                    st->name, o);
		}
	}
	g_mutex_unlock(&stats_lock);
	return out;
}

/* ---- the timer thread ---- */

static struct {
	GMutex lock;
	sb_loop *loop; /* started on first use; NULL again once shut down */
	bool closed;   /* shut down: work is refused and done in place */
} T;

/* A reference to the timer thread's loop; NULL once shut down. */
static sb_loop *timer_loop(void)
{
	g_mutex_lock(&T.lock);
	if (!T.loop && !T.closed)
		T.loop = sb_loop_start("sb-chain", false);
	sb_loop *loop = sb_loop_ref(T.loop);
	g_mutex_unlock(&T.lock);
	return loop;
}

void sb_chain_shutdown(void)
{
	g_mutex_lock(&T.lock);
	T.closed = true;
	sb_loop *loop = T.loop;
	T.loop = NULL;
	g_mutex_unlock(&T.lock);
	/* Runs the fall-throughs queued (they clean up); pending first-output
	 * timers are destroyed with their notifies. */
	sb_loop_stop(loop);
	g_mutex_lock(&stats_lock);
	if (stats)
		g_hash_table_destroy(stats);
	stats = NULL;
	g_mutex_unlock(&stats_lock);
}

/* ---- chains ---- */

chain_state *sb_chain_new_kind(sb_provider_kind kind, const chain_kind_ops *ops,
                               const sb_chain_options *opt)
{
	chain_state *ch = g_new0(chain_state, 1);
	ch->ref = 1;
	ch->kind = kind;
	ch->ops = ops;
	if (opt)
		ch->opt = *opt;
	if (ch->opt.first_output_timeout_ms <= 0)
		ch->opt.first_output_timeout_ms = CHAIN_DEFAULT_TIMEOUT_MS;
	if (ch->opt.breaker_threshold <= 0)
		ch->opt.breaker_threshold = CHAIN_DEFAULT_THRESHOLD;
	if (ch->opt.breaker_cooldown_ms <= 0)
		ch->opt.breaker_cooldown_ms = CHAIN_DEFAULT_COOLDOWN_MS;
	ch->entries = g_ptr_array_new();
	return ch;
}

void sb_chain_add_entry(chain_state *ch, const void *impl, const sb_provider_config *cfg)
{
	chain_entry *e = g_new0(chain_entry, 1);
	e->impl = impl;
	e->cfg = sb_provider_config_copy(cfg);
	e->st = pstat_get(ch->kind, cfg->name ? cfg->name : "?");
	g_ptr_array_add(ch->entries, e);
}

size_t sb_chain_size(const chain_state *ch)
{
	return ch ? ch->entries->len : 0;
}

void sb_chain_unref(chain_state *ch)
{
	if (!ch || !g_atomic_int_dec_and_test(&ch->ref))
		return;
	for (guint i = 0; i < ch->entries->len; i++) {
		chain_entry *e = ch->entries->pdata[i];
		sb_provider_config_free(e->cfg);
		pstat_unref(e->st);
		g_free(e);
	}
	g_ptr_array_free(ch->entries, TRUE);
	g_free(ch);
}

/* ---- calls ---- */

ccall *sb_ccall_new(chain_state *ch, void *user)
{
	ccall *cc = g_new0(ccall, 1);
	cc->ref = 1;
	g_atomic_int_inc(&ch->ref);
	cc->ch = ch;
	g_mutex_init(&cc->lock);
	g_mutex_init(&cc->feed);
	g_cond_init(&cc->fed);
	sb_gate_init(&cc->gate);
	cc->summary = g_string_new(NULL);
	cc->user = user;
	cc->served = -1;
	return cc;
}

ccall *sb_ccall_ref(ccall *cc)
{
	g_atomic_int_inc(&cc->ref);
	return cc;
}

void sb_ccall_unref(ccall *cc)
{
	if (!g_atomic_int_dec_and_test(&cc->ref))
		return;
	g_mutex_clear(&cc->lock);
	g_mutex_clear(&cc->feed);
	g_cond_clear(&cc->fed);
	sb_gate_clear(&cc->gate);
	g_string_free(cc->summary, TRUE);
	g_free((char *)cc->req.system_prompt);
	g_free((char *)cc->req.language);
	json_decref(cc->req.messages);
	json_decref(cc->req.functions);
	json_decref(cc->req.memory);
	json_decref(cc->req.knowledge);
	g_free(cc->text);
	if (cc->configs)
		g_ptr_array_free(cc->configs, TRUE);
	if (cc->buf)
		g_array_free(cc->buf, TRUE);
	if (cc->marks)
		g_array_free(cc->marks, TRUE);
	sb_chain_unref(cc->ch);
	g_free(cc);
}

chain_entry *sb_ccall_entry(ccall *cc, attempt *att)
{
	return cc->ch->entries->pdata[att->index];
}

/* An attempt holds a reference to its call: a provider event in flight
 * keeps the call alive (the attempt itself is freed only after its
 * provider was released, which waits for such events). */
static void attempt_free(attempt *att)
{
	ccall *cc = att->cc;
	g_free(att->early_error);
	g_free(att);
	sb_ccall_unref(cc);
}

static void add_summary_locked(ccall *cc, const char *name, const char *what)
{
	if (cc->summary->len)
		g_string_append(cc->summary, "; ");
	g_string_append_printf(cc->summary, "%s: %s", name, what);
}

/* ---- the first-output timer ---- */

typedef struct timer_data {
	ccall *cc;
	GSource *src;
} timer_data;

static void timer_data_free(gpointer p)
{
	timer_data *t = p;
	sb_ccall_unref(t->cc);
	g_free(t);
}

static gboolean timer_cb(gpointer p)
{
	timer_data *t = p;
	ccall *cc = t->cc;
	g_mutex_lock(&cc->lock);
	bool stt = cc->ch->kind == SB_KIND_STT;
	if (cc->timer != t->src) { /* cancelled or replaced meanwhile */
		g_mutex_unlock(&cc->lock);
		return G_SOURCE_REMOVE;
	}
	cc->timer = NULL;
	g_source_unref(t->src); /* the call's reference; the context still has one */
	if (cc->released || cc->finished || !cc->cur || !cc->cur->started ||
	    (stt ? cc->marks->len == 0 : cc->output)) {
		g_mutex_unlock(&cc->lock);
		return G_SOURCE_REMOVE;
	}
	if (stt && cc->cur->index + 1 >= cc->ch->entries->len) {
		/* The last resort is slow: keep listening to it rather than end the
		 * caller's stream (its final may still come); only count it. */
		chain_entry *e = sb_ccall_entry(cc, cc->cur);
		g_mutex_unlock(&cc->lock);
		pstat_slow(e->st);
		return G_SOURCE_REMOVE;
	}
	char *why = g_strdup_printf(stt ? "no final within %d ms after end of speech"
	                                : "no output within %d ms",
	                            cc->ch->opt.first_output_timeout_ms);
	sb_ccall_failure_locked(cc->cur, why, true);
	g_free(why);
	return G_SOURCE_REMOVE;
}

void sb_ccall_cancel_timer_locked(ccall *cc)
{
	if (cc->timer) {
		g_source_destroy(cc->timer);
		g_source_unref(cc->timer);
		cc->timer = NULL;
	}
}

void sb_ccall_arm_timer_locked(ccall *cc)
{
	sb_ccall_cancel_timer_locked(cc);
	timer_data *t = g_new0(timer_data, 1);
	t->cc = sb_ccall_ref(cc);
	sb_loop *loop = timer_loop();
	/* NULL once shut down (timer_data_free has run): no timer then. */
	GSource *src = sb_loop_timeout(loop, (guint)cc->ch->opt.first_output_timeout_ms, timer_cb,
	                               t, timer_data_free);
	sb_loop_unref(loop);
	if (src) {
		/* Our reference, which timer_cb compares with: safe to take now,
		 * as timer_cb waits for cc->lock, held here, before anything. */
		t->src = src;
		cc->timer = g_source_ref(src);
	}
}

/* ---- delivering ---- */

void sb_ccall_deliver_done(ccall *cc, const char *error)
{
	sb_ccall_ref(cc); /* the user may release it from inside */
	if (!sb_gate_enter(&cc->gate)) {
		sb_ccall_unref(cc);
		return;
	}
	switch (cc->ch->kind) {
	case SB_KIND_LLM:
		if (cc->ev.llm.done)
			cc->ev.llm.done(cc->user, error);
		break;
	case SB_KIND_TTS:
		if (cc->ev.tts.done)
			cc->ev.tts.done(cc->user, error);
		break;
	case SB_KIND_STT:
		if (error && cc->ev.stt.failed)
			cc->ev.stt.failed(cc->user, error);
		break;
	}
	sb_gate_leave(&cc->gate);
	sb_ccall_unref(cc);
}

void sb_ccall_all_failed(ccall *cc)
{
	g_mutex_lock(&cc->lock);
	if (cc->released || cc->finished) {
		g_mutex_unlock(&cc->lock);
		return;
	}
	cc->finished = true;
	char *msg =
	        g_strdup_printf("all %s providers failed: %s", sb_provider_kind_name(cc->ch->kind),
	                        cc->summary->len ? cc->summary->str : "none configured");
	g_mutex_unlock(&cc->lock);
	sb_ccall_deliver_done(cc, msg);
	g_free(msg);
}

/* ---- falling through (on the timer thread) ---- */

typedef struct job {
	ccall *cc;
	attempt *att;   /* the failed attempt, to release */
	char *done_msg; /* or: deliver done(done_msg) */
} job;

static void release_attempt(ccall *cc, attempt *att)
{
	if (att->handle)
		cc->ch->ops->release(sb_ccall_entry(cc, att), att->handle);
}

/* Runs the job and frees it: a job queued is always run, as the loop's
 * stop runs what was queued before it. */
static gboolean job_cb(gpointer p)
{
	job *j = p;
	ccall *cc = j->cc;
	if (j->done_msg) {
		sb_ccall_deliver_done(cc, j->done_msg);
	} else {
		attempt *att = j->att;
		g_mutex_lock(&cc->feed);
		release_attempt(cc, att);
		guint next = att->index + 1;
		attempt_free(att);
		bool ok = sb_ccall_run_from(cc, next);
		g_mutex_unlock(&cc->feed);
		if (!ok)
			sb_ccall_all_failed(cc);
	}
	g_free(j->done_msg);
	sb_ccall_unref(cc);
	g_free(j);
	return G_SOURCE_REMOVE;
}

/* At high priority: a fall-through goes before the first-output timers
 * that are due (they run at the default one). */
static void schedule(ccall *cc, attempt *att, const char *done_msg)
{
	job *j = g_new0(job, 1);
	j->cc = sb_ccall_ref(cc);
	j->att = att;
	j->done_msg = g_strdup(done_msg);
	sb_loop *loop = timer_loop();
	bool queued = sb_loop_invoke_full(loop, G_PRIORITY_HIGH, job_cb, j, NULL);
	sb_loop_unref(loop);
	if (!queued) /* no timer thread any more: do it here */
		job_cb(j);
}

void sb_ccall_all_failed_async(ccall *cc)
{
	g_mutex_lock(&cc->lock);
	cc->finished = true;
	char *msg = g_strdup_printf("all %s providers failed: %s",
	                            sb_provider_kind_name(cc->ch->kind), cc->summary->str);
	g_mutex_unlock(&cc->lock);
	schedule(cc, NULL, msg);
	g_free(msg);
}

void sb_ccall_failure_locked(attempt *att, const char *error, bool timeout)
{
	ccall *cc = att->cc;
	chain_entry *e = sb_ccall_entry(cc, att);
	if (!att->started) { /* the runner handles it when start() returns */
		att->failed_early = true;
		if (!att->early_error)
			att->early_error = g_strdup(error);
		g_mutex_unlock(&cc->lock);
		return;
	}
	const sb_chain_options *opt = &cc->ch->opt;
	if (cc->output && cc->ch->kind != SB_KIND_STT) {
		cc->finished = true;
		sb_ccall_cancel_timer_locked(cc);
		g_mutex_unlock(&cc->lock);
		pstat_failure(e->st, att->trial, timeout, opt);
		char *named = g_strdup_printf("%s: %s", e->cfg->name, error);
		sb_ccall_deliver_done(cc, named);
		g_free(named);
		return;
	}
	cc->cur = NULL;
	cc->gen++;
	sb_ccall_cancel_timer_locked(cc);
	add_summary_locked(cc, e->cfg->name, error);
	bool has_next = att->index + 1 < cc->ch->entries->len;
	g_mutex_unlock(&cc->lock);
	g_debug("providers: %s %s failed: %s%s", sb_provider_kind_name(cc->ch->kind), e->cfg->name,
	        error, has_next ? ", trying the next one" : "");
	pstat_failure(e->st, att->trial, timeout, opt);
	if (has_next)
		pstat_fallback(e->st);
	schedule(cc, att, NULL);
}

void sb_ccall_success_locked(attempt *att)
{
	ccall *cc = att->cc;
	cc->finished = true;
	sb_ccall_cancel_timer_locked(cc);
	bool record = !att->success_recorded;
	att->success_recorded = true;
	cc->served = (int)att->index;
	chain_entry *e = sb_ccall_entry(cc, att);
	g_mutex_unlock(&cc->lock);
	if (record)
		sb_pstat_success(e->st);
	sb_ccall_deliver_done(cc, NULL);
}

void sb_ccall_output_locked(attempt *att, bool counts)
{
	ccall *cc = att->cc;
	bool record = false;
	if (counts && !cc->output) {
		cc->output = true;
		sb_ccall_cancel_timer_locked(cc);
	}
	if (counts && !att->success_recorded) {
		att->success_recorded = true;
		record = true;
	}
	if (counts)
		cc->served = (int)att->index;
	chain_entry *e = sb_ccall_entry(cc, att);
	g_mutex_unlock(&cc->lock);
	if (record)
		sb_pstat_success(e->st);
}

bool sb_ccall_event_begin(attempt *att)
{
	ccall *cc = att->cc;
	g_mutex_lock(&cc->lock);
	if (cc->cur != att || att->gen != cc->gen || cc->released || cc->finished) {
		g_mutex_unlock(&cc->lock);
		return false;
	}
	return true;
}

char *sb_chain_call_provider(const void *call, int *position)
{
	ccall *cc = (ccall *)call;
	char *name = NULL;
	int served = -1;
	if (cc) {
		g_mutex_lock(&cc->lock);
		served = cc->served;
		if (served >= 0) {
			chain_entry *e = cc->ch->entries->pdata[served];
			name = g_strdup(e->cfg->name ? e->cfg->name : "?");
		}
		g_mutex_unlock(&cc->lock);
	}
	if (position)
		*position = served;
	return name;
}

/* ---- the runner ---- */

bool sb_ccall_run_from(ccall *cc, guint index)
{
	chain_state *ch = cc->ch;
	for (guint i = index; i < ch->entries->len; i++) {
		chain_entry *e = ch->entries->pdata[i];
		bool has_next = i + 1 < ch->entries->len;
		g_mutex_lock(&cc->lock);
		bool stop = cc->released || cc->finished;
		g_mutex_unlock(&cc->lock);
		if (stop)
			return true;
		allow_t a = pstat_allow(e->st, &ch->opt);
		if (a == DENY) {
			g_mutex_lock(&cc->lock);
			add_summary_locked(cc, e->cfg->name, "circuit open");
			g_mutex_unlock(&cc->lock);
			continue;
		}
		attempt *att = g_new0(attempt, 1);
		att->cc = sb_ccall_ref(cc);
		att->index = i;
		att->trial = a == ALLOW_TRIAL;
		g_mutex_lock(&cc->lock);
		att->gen = ++cc->gen;
		cc->cur = att;
		g_mutex_unlock(&cc->lock);

		char *error = NULL;
		void *h = ch->ops->start(cc, att, e, &error);

		g_mutex_lock(&cc->lock);
		if (!h) {
			if (cc->cur == att) {
				cc->cur = NULL;
				cc->gen++;
			}
			add_summary_locked(cc, e->cfg->name, error ? error : "could not start");
			g_mutex_unlock(&cc->lock);
			pstat_failure(e->st, att->trial, false, &ch->opt);
			if (has_next)
				pstat_fallback(e->st);
			g_free(error);
			attempt_free(att);
			continue;
		}
		att->handle = h;
		att->started = true;
		cc->any_started = true;
		if (cc->released || cc->cur != att) { /* released meanwhile */
			if (cc->cur == att)
				cc->cur = NULL;
			g_mutex_unlock(&cc->lock);
			ch->ops->release(e, h);
			pstat_abandon(e->st, att->trial);
			attempt_free(att);
			return true;
		}
		if (att->failed_early) {
			if (cc->output && ch->kind != SB_KIND_STT) {
				/* It spoke, then failed: the call ends (rare: all this
				 * happened before its start() returned). */
				cc->finished = true;
				g_mutex_unlock(&cc->lock);
				pstat_failure(e->st, att->trial, false, &ch->opt);
				char *named =
				        g_strdup_printf("%s: %s", e->cfg->name, att->early_error);
				schedule(cc, NULL, named);
				g_free(named);
				return true;
			}
			cc->cur = NULL;
			cc->gen++;
			add_summary_locked(cc, e->cfg->name, att->early_error);
			g_mutex_unlock(&cc->lock);
			ch->ops->release(e, h);
			pstat_failure(e->st, att->trial, false, &ch->opt);
			if (has_next)
				pstat_fallback(e->st);
			attempt_free(att);
			continue;
		}
		if (ch->kind != SB_KIND_STT ? !cc->output : cc->marks->len > 0)
			sb_ccall_arm_timer_locked(cc);
		g_mutex_unlock(&cc->lock);
		return true;
	}
	return false;
}

/* ---- release ---- */

/* Not under the feed lock: a fall-through holding it may be waiting, in
 * a provider's release, for the very event this is called from. */
void sb_ccall_release(ccall *cc)
{
	g_mutex_lock(&cc->lock);
	cc->released = true;
	attempt *att = cc->cur;
	bool take = att && att->started;
	if (take)
		cc->cur = NULL;
	cc->gen++;
	sb_ccall_cancel_timer_locked(cc);
	while (cc->feeding > 0) /* an audio() call still uses the stream */
		g_cond_wait(&cc->fed, &cc->lock);
	g_mutex_unlock(&cc->lock);
	sb_gate_close(&cc->gate);
	if (take) {
		chain_entry *e = sb_ccall_entry(cc, att);
		release_attempt(cc, att);
		if (!att->success_recorded)
			pstat_abandon(e->st, att->trial);
		attempt_free(att);
	}
	sb_ccall_unref(cc);
}

/* ---- options ---- */

static bool json_int(json_t *obj, const char *key, int *out)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_integer(v)) {
		*out = (int)json_integer_value(v);
		return true;
	}
	if (json_is_string(v)) {
		char *end = NULL;
		long n = strtol(json_string_value(v), &end, 10);
		if (end != json_string_value(v) && *end == '\0') {
			*out = (int)n;
			return true;
		}
	}
	return false;
}

void sb_chain_options_from_json(sb_chain_options *opt, json_t *obj, sb_provider_kind kind)
{
	if (!json_is_object(obj))
		return;
	json_int(obj, "first_output_timeout_ms", &opt->first_output_timeout_ms);
	char *key = g_strdup_printf("%s_first_output_timeout_ms", sb_provider_kind_name(kind));
	json_int(obj, key, &opt->first_output_timeout_ms);
	g_free(key);
	json_int(obj, "breaker_threshold", &opt->breaker_threshold);
	json_int(obj, "breaker_cooldown_ms", &opt->breaker_cooldown_ms);
}
