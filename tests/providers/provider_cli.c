/* Runs one cloud provider or a fallback chain of them from a JSON job and
 * prints every event as a JSON line, so wire tests (tests/integration/
 * providers-*.test.mjs) drive the real C code against stub servers.
 *
 *   provider_cli '{"kind":"llm", "providers":{…}, "chain":["a","b"], …}'
 *   echo '{…}' | provider_cli -
 *   provider_cli            (no argument: a self-test printing TAP)
 *
 * Job fields: kind (llm|stt|tts); providers (as the [providers] section:
 * objects of strings); chain (names, or one name) or direct (the first
 * name, without a chain); options (first_output_timeout_ms,
 * breaker_threshold, breaker_cooldown_ms); runs, gap_ms (between runs) or
 * gaps_ms [before run 0, before run 1, …]; quiet_audio; deadline_ms (per
 * run; the CLI gives up and says "watchdog" after it).  llm: system,
 * messages, tools, functions.  tts: text.  stt: utterances [{ms, hz}], pace (feed in
 * real time), wait_final_ms.
 *
 * Lines: {"event": "start"|"text"|"tool"|"audio"|"partial"|"language"|"endpoint"|"final"|
 * "done"|"start_error"|"watchdog"|"stats", "run", "t_ms", …}; language has
 * code; done has error,
 * first_output_ms and, for TTS, audio_samples, audio_bytes, audio_fnv1a. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "net/net.h"
#include "providers/providers.h"
#include "providers/providers_private.h"

/* The cloud implementations only (the plugin's registry.c also has the
 * embedded ones). */
extern const sb_stt_provider sb_stt_deepgram;
extern const sb_stt_provider sb_stt_openai;
extern const sb_llm_provider sb_llm_openai;
extern const sb_llm_provider sb_llm_anthropic;
extern const sb_tts_provider sb_tts_openai;
extern const sb_tts_provider sb_tts_elevenlabs;

const sb_stt_provider *sb_stt_provider_find(const char *type)
{
	if (type && !strcmp(type, "deepgram"))
		return &sb_stt_deepgram;
	if (type && !strcmp(type, "openai"))
		return &sb_stt_openai;
	return NULL;
}

const sb_llm_provider *sb_llm_provider_find(const char *type)
{
	if (type && !strcmp(type, "openai"))
		return &sb_llm_openai;
	if (type && !strcmp(type, "anthropic"))
		return &sb_llm_anthropic;
	return NULL;
}

const sb_tts_provider *sb_tts_provider_find(const char *type)
{
	if (type && !strcmp(type, "openai"))
		return &sb_tts_openai;
	if (type && !strcmp(type, "elevenlabs"))
		return &sb_tts_elevenlabs;
	return NULL;
}

/* ---- one run's state ---- */

static struct {
	GMutex m;
	GCond c;
	int run;
	gint64 t0;
	gint64 first_output;
	bool done;
	int finals;
	char *error;
	long audio_samples;
	uint64_t fnv;
	bool quiet_audio;
	bool silent; /* self-test: events are not TAP */
} R;

static gint64 ms_since_start(void)
{
	return (g_get_monotonic_time() - R.t0) / 1000;
}

/* Prints obj (stolen) with event/run/t_ms added. Call with R.m held. */
static void emit(const char *event, json_t *obj)
{
	if (R.silent) {
		json_decref(obj);
		return;
	}
	if (!obj)
		obj = json_object();
	json_t *line = json_pack("{s:s, s:i, s:I}", "event", event, "run", R.run, "t_ms",
	                         (json_int_t)ms_since_start());
	json_object_update(line, obj);
	json_decref(obj);
	char *s = json_dumps(line, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(line);
}

static void output_seen(void)
{
	if (R.first_output < 0)
		R.first_output = ms_since_start();
}

static void finish(const char *error)
{
	R.done = true;
	g_free(R.error);
	R.error = g_strdup(error);
	g_cond_broadcast(&R.c);
}

static void ev_text(void *u, const char *delta)
{
	g_mutex_lock(&R.m);
	output_seen();
	emit("text", json_pack("{s:s}", "delta", delta));
	g_mutex_unlock(&R.m);
}

static void ev_tool(void *u, const char *id, const char *name, json_t *args)
{
	g_mutex_lock(&R.m);
	output_seen();
	json_t *ev = json_pack("{s:s, s:O}", "name", name, "arguments", args);
	if (id && *id)
		json_object_set_new(ev, "id", json_string(id));
	emit("tool", ev);
	g_mutex_unlock(&R.m);
}

static void ev_done(void *u, const char *error)
{
	g_mutex_lock(&R.m);
	finish(error);
	g_mutex_unlock(&R.m);
}

static void ev_audio(void *u, const int16_t *pcm, size_t n)
{
	g_mutex_lock(&R.m);
	output_seen();
	R.audio_samples += (long)n;
	for (size_t i = 0; i < n; i++) {
		uint16_t v = (uint16_t)pcm[i];
		uint8_t le[2] = {(uint8_t)(v & 0xff), (uint8_t)(v >> 8)};
		R.fnv = sb_fnv1a(R.fnv, le, 2);
	}
	if (!R.quiet_audio)
		emit("audio", json_pack("{s:I}", "samples", (json_int_t)n));
	g_mutex_unlock(&R.m);
}

static void ev_partial(void *u, const char *text)
{
	g_mutex_lock(&R.m);
	output_seen();
	emit("partial", json_pack("{s:s}", "text", text));
	g_mutex_unlock(&R.m);
}

static void ev_final(void *u, const char *text)
{
	g_mutex_lock(&R.m);
	output_seen();
	R.finals++;
	emit("final", json_pack("{s:s}", "text", text));
	g_cond_broadcast(&R.c);
	g_mutex_unlock(&R.m);
}

static void ev_language(void *u, const char *code)
{
	g_mutex_lock(&R.m);
	emit("language", json_pack("{s:s}", "code", code));
	g_mutex_unlock(&R.m);
}

static void ev_endpoint(void *u, const char *text)
{
	g_mutex_lock(&R.m);
	emit("endpoint", json_pack("{s:s}", "text", text));
	g_mutex_unlock(&R.m);
}

static void ev_failed(void *u, const char *error)
{
	g_mutex_lock(&R.m);
	finish(error);
	g_mutex_unlock(&R.m);
}

static const sb_llm_events llm_ev = {ev_text, ev_tool, ev_done};
static const sb_tts_events tts_ev = {ev_audio, ev_done};
static const sb_stt_events stt_ev = {.partial = ev_partial,
                                     .final = ev_final,
                                     .failed = ev_failed,
                                     .language = ev_language,
                                     .endpoint = ev_endpoint};

/* Waits until done, or finals >= want_finals (when > 0); false on timeout. */
static bool wait_for(int want_finals, int ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
	g_mutex_lock(&R.m);
	while (!R.done && !(want_finals > 0 && R.finals >= want_finals))
		if (!g_cond_wait_until(&R.c, &R.m, end))
			break;
	bool ok = R.done || (want_finals > 0 && R.finals >= want_finals);
	g_mutex_unlock(&R.m);
	return ok;
}

static void reset_run(int run)
{
	g_mutex_lock(&R.m);
	R.run = run;
	R.t0 = g_get_monotonic_time();
	R.first_output = -1;
	R.done = false;
	R.finals = 0;
	g_free(R.error);
	R.error = NULL;
	R.audio_samples = 0;
	R.fnv = SB_FNV1A_INIT;
	g_mutex_unlock(&R.m);
}

static void emit_done(bool tts)
{
	g_mutex_lock(&R.m);
	json_t *o = json_pack("{s:s?, s:I}", "error", R.error, "first_output_ms",
	                      (json_int_t)R.first_output);
	if (tts) {
		char hex[17];
		g_snprintf(hex, sizeof(hex), "%016" G_GINT64_MODIFIER "x", (guint64)R.fnv);
		json_object_set_new(o, "audio_samples", json_integer(R.audio_samples));
		json_object_set_new(o, "audio_bytes", json_integer(R.audio_samples * 2));
		json_object_set_new(o, "audio_fnv1a", json_string(hex));
	}
	emit("done", o);
	g_mutex_unlock(&R.m);
}

static void emit_simple(const char *event, const char *error)
{
	g_mutex_lock(&R.m);
	emit(event, error ? json_pack("{s:s}", "error", error) : NULL);
	g_mutex_unlock(&R.m);
}

/* ---- the job ---- */

typedef struct job {
	json_t *root;
	sb_provider_kind kind;
	sb_provider_set *set;
	json_t *names;
	bool direct;
	sb_chain_options opt;
	int deadline_ms;
	sb_llm_chain *llm;
	sb_stt_chain *stt;
	sb_tts_chain *tts;
	const sb_provider_config *cfg; /* direct */
} job;

static int16_t *tone(int ms, double hz, size_t *n)
{
	*n = (size_t)ms * SB_AGENT_RATE / 1000;
	int16_t *pcm = g_new(int16_t, *n ? *n : 1);
	for (size_t i = 0; i < *n; i++)
		pcm[i] = (int16_t)lrint(
		        hz > 0 ? 8000.0 * sin(2.0 * M_PI * hz * (double)i / SB_AGENT_RATE) : 0);
	return pcm;
}

/* Runs one turn; false when the watchdog fired. */
static bool run_llm(job *j)
{
	json_t *msgs = json_object_get(j->root, "messages");
	sb_llm_request req = {
	        .system_prompt = json_string_value(json_object_get(j->root, "system")),
	        .messages = json_is_array(msgs) ? msgs : NULL,
	        .tools = json_is_true(json_object_get(j->root, "tools")),
	        .functions = json_object_get(j->root, "functions"),
	};
	json_t *empty = json_array();
	if (!req.messages)
		req.messages = empty;
	char *err = NULL;
	sb_llm_call *call;
	const sb_llm_provider *p = j->direct ? sb_llm_provider_find(j->cfg->type) : NULL;
	if (j->direct)
		call = p->start(j->cfg, &req, &llm_ev, NULL, &err);
	else
		call = sb_llm_chain_start(j->llm, &req, &llm_ev, NULL, &err);
	json_decref(empty);
	if (!call) {
		emit_simple("start_error", err);
		g_free(err);
		return true;
	}
	bool ok = wait_for(0, j->deadline_ms);
	if (j->direct)
		p->release(call);
	else
		sb_llm_chain_release(call);
	if (ok)
		emit_done(false);
	return ok;
}

static bool run_tts(job *j)
{
	const char *text = json_string_value(json_object_get(j->root, "text"));
	char *err = NULL;
	sb_tts_job *call;
	const sb_tts_provider *p = j->direct ? sb_tts_provider_find(j->cfg->type) : NULL;
	if (j->direct)
		call = p->speak(j->cfg, text ? text : "", &tts_ev, NULL, &err);
	else
		call = sb_tts_chain_speak(j->tts, text ? text : "", NULL, &tts_ev, NULL, &err);
	if (!call) {
		emit_simple("start_error", err);
		g_free(err);
		return true;
	}
	bool ok = wait_for(0, j->deadline_ms);
	if (j->direct)
		p->release(call);
	else
		sb_tts_chain_release(call);
	if (ok)
		emit_done(true);
	return ok;
}

static bool run_stt(job *j)
{
	char *err = NULL;
	sb_stt_stream *s;
	const sb_stt_provider *p = j->direct ? sb_stt_provider_find(j->cfg->type) : NULL;
	if (j->direct)
		s = p->open(j->cfg, &stt_ev, NULL, &err);
	else
		s = sb_stt_chain_open(j->stt, &stt_ev, NULL, &err);
	if (!s) {
		emit_simple("start_error", err);
		g_free(err);
		return true;
	}
	bool pace = json_is_true(json_object_get(j->root, "pace"));
	json_t *w = json_object_get(j->root, "wait_final_ms");
	int wait_ms = json_is_integer(w) ? (int)json_integer_value(w) : j->deadline_ms;
	json_t *utts = json_object_get(j->root, "utterances");
	size_t i;
	json_t *u;
	bool ok = true;
	json_array_foreach(utts, i, u)
	{
		json_t *ms = json_object_get(u, "ms");
		json_t *hz = json_object_get(u, "hz");
		size_t n;
		int16_t *pcm = tone(json_is_integer(ms) ? (int)json_integer_value(ms) : 1000,
		                    json_is_number(hz) ? json_number_value(hz) : 440.0, &n);
		for (size_t off = 0; off < n; off += 320) {
			size_t k = MIN((size_t)320, n - off);
			if (j->direct)
				p->audio(s, pcm + off, k);
			else
				sb_stt_chain_audio(s, pcm + off, k);
			if (pace)
				g_usleep(20 * 1000);
		}
		g_free(pcm);
		if (j->direct)
			p->end_of_speech(s);
		else
			sb_stt_chain_end_of_speech(s);
		if (!wait_for((int)i + 1, wait_ms)) {
			ok = false;
			break;
		}
		g_mutex_lock(&R.m);
		bool done = R.done;
		g_mutex_unlock(&R.m);
		if (done)
			break;
	}
	if (j->direct)
		p->release(s);
	else
		sb_stt_chain_release(s);
	if (ok)
		emit_done(false);
	return ok;
}

static int int_field(json_t *o, const char *key, int def)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

static int run_job(json_t *root)
{
	job j = {.root = root};
	const char *kind = json_string_value(json_object_get(root, "kind"));
	if (!kind || (strcmp(kind, "llm") && strcmp(kind, "stt") && strcmp(kind, "tts"))) {
		fprintf(stderr, "provider_cli: kind must be llm, stt or tts\n");
		return 2;
	}
	j.kind = !strcmp(kind, "llm")   ? SB_KIND_LLM
	         : !strcmp(kind, "stt") ? SB_KIND_STT
	                                : SB_KIND_TTS;
	j.set = sb_provider_set_new(json_object_get(root, "providers"));
	j.names = json_object_get(root, "chain");
	j.direct = json_is_true(json_object_get(root, "direct"));
	sb_chain_options_from_json(&j.opt, json_object_get(root, "options"), j.kind);
	j.deadline_ms = int_field(root, "deadline_ms", 20000);
	R.quiet_audio = json_is_true(json_object_get(root, "quiet_audio"));
	char *err = NULL;
	int rc = 0;
	if (j.direct) {
		json_t *first = json_is_array(j.names) ? json_array_get(j.names, 0) : j.names;
		const char *why = NULL;
		j.cfg = sb_provider_set_get(j.set, j.kind, json_string_value(first), &why);
		if (!j.cfg)
			err = g_strdup(why ? why : "no such provider");
	} else if (j.kind == SB_KIND_LLM) {
		j.llm = sb_llm_chain_build(j.set, j.names, &j.opt, &err);
	} else if (j.kind == SB_KIND_STT) {
		j.stt = sb_stt_chain_build(j.set, j.names, &j.opt, &err);
	} else {
		j.tts = sb_tts_chain_build(j.set, j.names, &j.opt, &err);
	}
	if (err) {
		reset_run(0);
		emit_simple("start_error", err);
		g_free(err);
		rc = 0;
	} else {
		int runs = int_field(root, "runs", 1);
		int gap = int_field(root, "gap_ms", 0);
		json_t *gaps = json_object_get(root, "gaps_ms");
		for (int r = 0; r < runs; r++) {
			json_t *g = json_array_get(gaps, (size_t)r);
			int pause =
			        json_is_integer(g) ? (int)json_integer_value(g) : (r > 0 ? gap : 0);
			if (pause > 0)
				g_usleep((gulong)pause * 1000);
			reset_run(r);
			emit_simple("start", NULL);
			bool ok = j.kind == SB_KIND_LLM   ? run_llm(&j)
			          : j.kind == SB_KIND_STT ? run_stt(&j)
			                                  : run_tts(&j);
			if (!ok) {
				emit_simple("watchdog", "no end within deadline_ms");
				rc = 3;
				break;
			}
		}
	}
	json_t *stats = sb_chain_stats();
	g_mutex_lock(&R.m);
	emit("stats", json_pack("{s:o}", "stats", stats));
	g_mutex_unlock(&R.m);
	sb_llm_chain_free(j.llm);
	sb_stt_chain_free(j.stt);
	sb_tts_chain_free(j.tts);
	sb_chain_shutdown();
	sb_ws_shutdown();
	sb_fetch_shutdown();
	sb_provider_set_free(j.set);
	return rc;
}

/* ---- self-test (no network but loopback refusals) ---- */

static int tap_n;
static int tap_failed;

static void tap(bool ok, const char *what)
{
	printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_n, what);
	if (!ok)
		tap_failed++;
}

static int self_test(void)
{
	printf("1..7\n");
	/* A dead endpoint: done(error) quickly, not a hang. */
	json_t *providers =
	        json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}", "dead1", "type",
	                  "openai", "api_key", "k", "base_url", "http://127.0.0.1:1/v1",
	                  "timeout_ms", "2000", "dead2", "type", "openai", "api_key", "k",
	                  "base_url", "http://127.0.0.1:1/v2", "timeout_ms", "2000");
	sb_provider_set *set = sb_provider_set_new(providers);
	const sb_provider_config *cfg = sb_provider_set_get(set, SB_KIND_LLM, "dead1", NULL);
	json_t *msgs = json_pack("[{s:s, s:s}]", "role", "user", "content", "hello");
	sb_llm_request req = {.system_prompt = "x", .messages = msgs};
	reset_run(0);
	R.silent = true;
	sb_llm_call *call = sb_llm_openai.start(cfg, &req, &llm_ev, NULL, NULL);
	bool ended = call && wait_for(0, 5000);
	sb_llm_openai.release(call);
	bool refused = R.error && g_str_has_prefix(R.error, "request failed:");
	tap(ended && refused, "llm openai: a refused connection ends with done(error)");

	sb_chain_options opt = {1000, 2, 1000};
	json_t *names = json_pack("[s, s]", "dead1", "dead2");
	sb_llm_chain *chain = sb_llm_chain_build(set, names, &opt, NULL);
	reset_run(1);
	call = chain ? sb_llm_chain_start(chain, &req, &llm_ev, NULL, NULL) : NULL;
	ended = call && wait_for(0, 8000);
	sb_llm_chain_release(call);
	tap(ended && R.error && g_str_has_prefix(R.error, "all llm providers failed: dead1: "),
	    "chain: both dead, done(error) with a summary");
	sb_llm_chain_free(chain);
	json_decref(names);
	json_decref(msgs);

	/* Config: keys from the environment, keyless local servers, missing
	 * keys disable. */
	g_setenv("SBSELF_API_KEY", "from-env", TRUE);
	g_unsetenv("GROQ_API_KEY");
	json_t *p2 = json_pack("{s:{s:s}, s:{s:s, s:s}}", "sbself", "type", "openai", "local-llm",
	                       "type", "openai", "base_url", "http://127.0.0.1:8000/v1");
	sb_provider_set *set2 = sb_provider_set_new(p2);
	const sb_provider_config *c1 = sb_provider_set_get(set2, SB_KIND_LLM, "sbself", NULL);
	tap(c1 && !strcmp(c1->api_key, "from-env") && !strcmp(c1->model, "gpt-4o-mini") &&
	            !strcmp(c1->base_url, "https://api.openai.com/v1"),
	    "config: <NAME>_API_KEY and the type's defaults");
	const sb_provider_config *c2 = sb_provider_set_get(set2, SB_KIND_LLM, "local-llm", NULL);
	const sb_provider_config *c3 = sb_provider_set_get(set2, SB_KIND_STT, "sbself", NULL);
	tap(c2 && !c2->api_key && c3 && !strcmp(c3->model, "whisper-1"),
	    "config: a custom base_url needs no key; per-kind default models");
	const char *why = NULL;
	const sb_provider_config *c4 = sb_provider_set_get(set2, SB_KIND_LLM, "groq", &why);
	tap(!c4 && why && strstr(why, "GROQ_API_KEY"), "config: a missing key disables, with why");
	sb_provider_set_free(set2);
	json_decref(p2);

	uint8_t wav[44];
	sb_wav_header(wav, 16000, 8000);
	tap(!memcmp(wav, "RIFF", 4) && wav[4] == 36 + 16000 % 256 &&
	            !memcmp(wav + 8, "WAVEfmt ", 8) && wav[24] == (16000 & 0xff) &&
	            wav[25] == (16000 >> 8) && !memcmp(wav + 36, "data", 4),
	    "wav header");
	sb_s16_stream st = {0};
	int16_t out[4];
	const uint8_t bytes[] = {0x01, 0x02, 0x03};
	size_t n1 = sb_s16_feed(&st, bytes, 3, out);
	const uint8_t more[] = {0x04, 0xff};
	size_t n2 = sb_s16_feed(&st, more, 2, out + n1);
	tap(n1 == 1 && n2 == 1 && out[0] == 0x0201 && out[1] == 0x0403 && st.has_carry,
	    "s16 stream keeps a split sample");

	sb_provider_set_free(set);
	json_decref(providers);
	sb_chain_shutdown();
	sb_fetch_shutdown();
	sb_ws_shutdown();
	g_free(R.error);
	return tap_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return self_test();
	json_error_t jerr;
	json_t *root = strcmp(argv[1], "-") == 0 ? json_loadf(stdin, 0, &jerr)
	                                         : json_loads(argv[1], 0, &jerr);
	if (!json_is_object(root)) {
		fprintf(stderr, "provider_cli: bad job JSON: %s\n", jerr.text);
		json_decref(root);
		return 2;
	}
	int rc = run_job(root);
	json_decref(root);
	g_free(R.error);
	return rc;
}
