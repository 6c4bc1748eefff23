/* The transfer summary and assist answers through an LLM chain of fake
 * providers (tests/unit/chain_fakes.c): the model's JSON parsed into the
 * summary the console shows, with the provider that wrote it; fallbacks
 * inside the chain; the extractive summary / knowledge-base answer when
 * every model fails, saying why; a provider that fails inside start(); no
 * model at all; stopping with a call still running. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "chain_fakes.h"
#include "core/core.h"
#include "transfer/transfer_private.h"

/* Janus's logger, which the module logs through: tests/unit/janus_log_stub.c. */

/* What init needs from elsewhere; the tests inject their chain instead. */
json_t *sb_settings_section(const sb_settings *cfg, const char *name)
{
	(void)cfg, (void)name;
	return NULL;
}
long sb_section_int(json_t *section, const char *name, long def, long min, long max)
{
	(void)section, (void)name, (void)min, (void)max;
	return def;
}
sb_llm_chain *sb_llm_chain_build(sb_provider_set *set, json_t *names, const sb_chain_options *opt,
                                 char **error)
{
	(void)set, (void)names, (void)opt;
	*error = g_strdup("not in this test");
	return NULL;
}

static const char MODEL_JSON[] =
        "Here it is:\n```json\n{\"caller\": {\"name\": \"John Smith\", \"order\": null}, "
        "\"issue\": \"Order 12345 is late.\", \"tried\": [\"status check\", 7], "
        "\"mood\": \"furious\", \"next_step\": \"Offer a refund.\", "
        "\"text\": \"John Smith: order 12345 is late.\"}\n```";

static json_t *local_summary(void)
{
	return json_pack("{s{ssss}sss[s]s[s]sssssss[]}", "caller", "name", "john", "order", "12345",
	                 "issue", "my order is late", "details", "my order is late", "topics",
	                 "order_status", "mood", "negative", "next_step", "Apologise.", "text",
	                 "local text", "turns");
}

/* One answer, waited for. */
static struct {
	GMutex m;
	GCond c;
	json_t *result;
	GThread *thread;
} got;

static void done_cb(void *user, json_t *result)
{
	(void)user;
	g_mutex_lock(&got.m);
	got.result = result;
	got.thread = g_thread_self();
	g_cond_signal(&got.c);
	g_mutex_unlock(&got.m);
}

static json_t *wait_result(void)
{
	gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
	g_mutex_lock(&got.m);
	while (!got.result && g_cond_wait_until(&got.c, &got.m, end))
		;
	json_t *r = got.result;
	got.result = NULL;
	g_mutex_unlock(&got.m);
	g_assert_nonnull(r);
	return r;
}

static json_t *transcript(void)
{
	return json_pack("[{ssss}{ssss}]", "speaker", "Caller", "text", "my order 12345 is late",
	                 "speaker", "AI Agent", "text", "It shipped on Monday.");
}

/* A chain of fakes: pairs of name, behaviour, ending with NULL. */
static sb_provider_config *cfgs[4];
static void use(const char *name, const char *behave, ...)
{
	sb_llm_chain *c = sb_llm_chain_new(
	        &(sb_chain_options){.first_output_timeout_ms = 2000, .breaker_threshold = 100});
	va_list ap;
	va_start(ap, behave);
	int n = 0;
	while (name && n < 4) {
		cfgs[n] = fake_cfg_new(name, behave);
		sb_llm_chain_add(c, &fake_llm, cfgs[n]);
		n++;
		name = va_arg(ap, const char *);
		behave = name ? va_arg(ap, const char *) : NULL;
	}
	va_end(ap);
	json_t *kb = json_pack("{ss}", "company", "Acme");
	sb_transfer_ai_use_chain(c, kb);
	json_decref(kb);
}

static void done_with_chain(void)
{
	sb_transfer_ai_deinit();
	for (int i = 0; i < 4; i++) {
		if (cfgs[i])
			fake_cfg_free(cfgs[i]);
		cfgs[i] = NULL;
	}
}

static json_t *summarise(void)
{
	json_t *t = transcript(), *local = local_summary();
	sb_transfer_ai_summary(t, local, done_cb, NULL);
	json_decref(t);
	json_decref(local);
	return wait_result();
}

static void test_parse(void)
{
	json_t *local = local_summary();
	json_t *s = sb_transfer_ai_parse_summary(MODEL_JSON, local);
	g_assert_nonnull(s);
	g_assert_cmpstr(json_string_value(json_object_get(s, "issue")), ==, "Order 12345 is late.");
	/* The model's name; the order it left out stays as the call had it. */
	json_t *caller = json_object_get(s, "caller");
	g_assert_cmpstr(json_string_value(json_object_get(caller, "name")), ==, "John Smith");
	g_assert_cmpstr(json_string_value(json_object_get(caller, "order")), ==, "12345");
	/* Strings only; an unknown mood keeps the local one. */
	g_assert_cmpint(json_array_size(json_object_get(s, "tried")), ==, 1);
	g_assert_cmpstr(json_string_value(json_object_get(s, "mood")), ==, "negative");
	g_assert_cmpstr(json_string_value(json_object_get(s, "next_step")), ==, "Offer a refund.");
	/* What the model does not give stays (topics for the console). */
	g_assert_nonnull(json_object_get(s, "topics"));
	json_decref(s);

	g_assert_null(sb_transfer_ai_parse_summary("Sorry, I cannot.", local));
	g_assert_null(sb_transfer_ai_parse_summary("{\"mood\": \"neutral\"}", local));
	g_assert_null(sb_transfer_ai_parse_summary("{\"issue\": \"\"}", local));
	g_assert_null(sb_transfer_ai_parse_summary("{\"issue\": \"x\"", local));
	g_assert_null(sb_transfer_ai_parse_summary(NULL, local));
	/* No text from the model: one is made of the rest. */
	s = sb_transfer_ai_parse_summary("{\"issue\": \"Late order.\"}", local);
	g_assert_nonnull(strstr(json_string_value(json_object_get(s, "text")), "Late order."));
	json_decref(s);
	json_decref(local);
}

static void test_model_summary(void)
{
	g_autofree char *say = g_strconcat("say:", MODEL_JSON, NULL);
	use("gpt", say, NULL);
	json_t *s = summarise();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "gpt");
	g_assert_cmpstr(json_string_value(json_object_get(s, "issue")), ==, "Order 12345 is late.");
	g_assert_null(json_object_get(s, "fallback_reason"));
	/* On a provider thread, not the caller's. */
	g_assert_true(got.thread != g_thread_self());
	json_decref(s);
	done_with_chain();
}

static void test_fallback_in_chain(void)
{
	g_autofree char *say = g_strconcat("say:", MODEL_JSON, NULL);
	use("first", "error", "second", say, NULL);
	json_t *s = summarise();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "second");
	json_decref(s);
	done_with_chain();
}

static void test_all_fail(void)
{
	use("broken", "error", NULL);
	json_t *s = summarise();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "local");
	g_assert_cmpstr(json_string_value(json_object_get(s, "issue")), ==, "my order is late");
	g_assert_nonnull(strstr(json_string_value(json_object_get(s, "fallback_reason")), "boom"));
	json_decref(s);
	done_with_chain();

	/* An answer that is not a summary. */
	use("chatty", "say:I would rather not.", NULL);
	s = summarise();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "local");
	g_assert_nonnull(
	        strstr(json_string_value(json_object_get(s, "fallback_reason")), "not a summary"));
	json_decref(s);
	done_with_chain();

	/* done(error) from inside start(): no deadlock, the fallback. */
	use("sync", "sync_error", NULL);
	s = summarise();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "local");
	json_decref(s);
	done_with_chain();
}

static void test_no_model(void)
{
	sb_transfer_ai_use_chain(NULL, NULL);
	g_assert_false(sb_transfer_ai_enabled());
	json_t *s = summarise();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "local");
	g_assert_null(json_object_get(s, "fallback_reason"));
	json_decref(s);
	sb_transfer_ai_assist("status?", NULL, "It shipped on Monday.", done_cb, NULL);
	json_t *a = wait_result();
	g_assert_cmpstr(json_string_value(json_object_get(a, "reply")), ==,
	                "It shipped on Monday.");
	g_assert_cmpstr(json_string_value(json_object_get(a, "provider")), ==, "local");
	json_decref(a);
	/* Nothing said yet: nothing for a model. */
	use("unasked", "error", NULL);
	json_t *empty = json_array(), *local = local_summary();
	sb_transfer_ai_summary(empty, local, done_cb, NULL);
	s = wait_result();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "local");
	g_assert_cmpint(fake_requests_of("unasked"), ==, 0);
	json_decref(s);
	json_decref(empty);
	json_decref(local);
	done_with_chain();
}

static void test_assist(void)
{
	use("gpt", "say:  Offer express delivery.  ", NULL);
	json_t *summary = local_summary();
	sb_transfer_ai_assist("what now?", summary, "KB answer", done_cb, NULL);
	json_t *a = wait_result();
	g_assert_cmpstr(json_string_value(json_object_get(a, "reply")), ==,
	                "Offer express delivery.");
	g_assert_cmpstr(json_string_value(json_object_get(a, "provider")), ==, "gpt");
	json_decref(a);
	done_with_chain();

	use("gpt", "error", NULL);
	sb_transfer_ai_assist("what now?", summary, NULL, done_cb, NULL);
	a = wait_result();
	g_assert_cmpstr(json_string_value(json_object_get(a, "provider")), ==, "local");
	g_assert_nonnull(strstr(json_string_value(json_object_get(a, "reply")), "nothing"));
	g_assert_nonnull(json_object_get(a, "fallback_reason"));
	json_decref(a);
	json_decref(summary);
	done_with_chain();
}

static void test_stop_while_running(void)
{
	use("slow", "hang", NULL);
	json_t *t = transcript(), *local = local_summary();
	sb_transfer_ai_summary(t, local, done_cb, NULL);
	json_decref(t);
	json_decref(local);
	/* Stopping answers it (the fallback) and lets go of the call. */
	done_with_chain();
	json_t *s = wait_result();
	g_assert_cmpstr(json_string_value(json_object_get(s, "provider")), ==, "local");
	g_assert_cmpstr(json_string_value(json_object_get(s, "fallback_reason")), ==,
	                "shutting down");
	json_decref(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_mutex_init(&got.m);
	g_cond_init(&got.c);
	g_test_add_func("/transfer_ai/parse", test_parse);
	g_test_add_func("/transfer_ai/model_summary", test_model_summary);
	g_test_add_func("/transfer_ai/fallback_in_chain", test_fallback_in_chain);
	g_test_add_func("/transfer_ai/all_fail", test_all_fail);
	g_test_add_func("/transfer_ai/no_model", test_no_model);
	g_test_add_func("/transfer_ai/assist", test_assist);
	g_test_add_func("/transfer_ai/stop_while_running", test_stop_while_running);
	int rc = g_test_run();
	sb_chain_shutdown();
	fake_cleanup();
	return rc;
}
