/* Unit tests for the local dialog engine (providers/llm_local.c) over the
 * demo knowledge base: FAQs and their paraphrases, the transfer and end-call
 * tools, order and name memory across turns, numbers said as words, the
 * fallback, empty input, the asynchronous provider and the call summary. */
#include <string.h>

#include <glib.h>

#include "embedded/embedded.h"

#ifndef SB_SOURCE_DIR
#define SB_SOURCE_DIR "."
#endif

static json_t *kb;

/* One turn; returns the reply (g_free) and the tool in *tool. */
static char *turn(json_t *memory, const char *utterance, char **tool)
{
	char *t = NULL;
	char *reply = sb_local_reply(kb, memory, utterance, "en", &t);
	g_test_message("caller: \"%s\" -> agent: \"%s\" %s", utterance, reply, t ? t : "");
	if (tool)
		*tool = t;
	else
		g_free(t);
	return reply;
}

static void assert_reply(const char *utterance, const char *expected_part, const char *tool)
{
	g_autoptr(json_t) memory = json_object();
	g_autofree char *t = NULL;
	g_autofree char *reply = turn(memory, utterance, &t);
	if (!strstr(reply, expected_part))
		g_error("\"%s\": reply \"%s\" lacks \"%s\"", utterance, reply, expected_part);
	g_assert_cmpstr(t, ==, tool);
}

static void test_normalise(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"What's the status of my order?", "what is the status of my order"},
	        {"one two three four five", "12345"},
	        {"It's one two three four five.", "it is 12345"},
	        {"twelve thirty four five", "12345"},
	        {"four two six eight zero", "42680"},
	        {"double one one one", "1111"},
	        {"forty two", "42"},
	        {"Order 12 345, please", "order 12345 please"},
	        {"five oh one", "501"},
	        {"Oh, hello", "oh hello"},
	        {"I can’t hear you", "i can not hear you"},
	        {"  ...  ", ""},
	        {"", ""},
	        {"مع السلامة", "مع السلامة"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *n = sb_kb_normalise(cases[i].in);
		g_assert_cmpstr(n, ==, cases[i].out);
	}
	/* Invalid UTF-8 from outside is survived, not trusted. */
	g_autofree char *bad = sb_kb_normalise("bye\xff\xfe bye");
	g_assert_cmpstr(bad, ==, "bye bye");
}

static void test_hours(void)
{
	const char *asks[] = {"What are your opening hours?", "when are you open",
	                      "What time do you close?", "Are you open on Saturday?",
	                      "hours please", "what are your hours today"};
	for (size_t i = 0; i < G_N_ELEMENTS(asks); i++)
		assert_reply(asks[i], "Monday to Friday from 9 am to 6 pm", NULL);
	assert_reply("where are you located", "42 Harbor Street", NULL);
	assert_reply("I want a refund", "30 days", NULL);
	assert_reply("can I pay with a credit card", "credit cards", NULL);
	/* Arabic where the knowledge base has it, English otherwise. */
	g_autoptr(json_t) memory = json_object();
	g_autofree char *ar = sb_local_reply(kb, memory, "when are you open", "ar", NULL);
	g_assert_nonnull(strstr(ar, "الاثنين"));
	g_autofree char *ar2 = sb_local_reply(kb, memory, "where are you located", "ar-EG", NULL);
	g_assert_nonnull(strstr(ar2, "Harbor"));
}

static void test_human(void)
{
	const char *asks[] = {"I want to talk to a human", "Can I speak to an agent please?",
	                      "representative", "let me talk to a real person",
	                      "operator!", "transfer me to a person"};
	for (size_t i = 0; i < G_N_ELEMENTS(asks); i++)
		assert_reply(asks[i], "connecting you", "transfer_to_human");
}

static void test_goodbye(void)
{
	const char *byes[] = {"goodbye", "bye", "that's all", "thank you bye", "ok bye then",
	                      "No, that's it."};
	for (size_t i = 0; i < G_N_ELEMENTS(byes); i++)
		assert_reply(byes[i], "Goodbye!", "end_call");
	/* Thanks alone is not goodbye. */
	assert_reply("thank you", "You're welcome", NULL);
	assert_reply("hello", "How can I help", NULL);
}

static void test_order_flow(void)
{
	g_autoptr(json_t) memory = json_object();
	g_autofree char *r1 = turn(memory, "What's the status of my order?", NULL);
	g_assert_nonnull(strstr(r1, "What is your order number?"));
	g_assert_cmpstr(json_string_value(json_object_get(memory, "awaiting")), ==, "order_number");
	g_autofree char *r2 = turn(memory, "it's one two three four five", NULL);
	g_assert_cmpstr(r2, ==,
	                "Thanks. Order 12345 was shipped on Monday and should arrive by Thursday.");
	g_assert_cmpstr(json_string_value(json_object_get(memory, "order")), ==, "12345");
	g_assert_null(json_object_get(memory, "awaiting"));
	/* Something else in between, then the order again without the number. */
	g_autofree char *r3 = turn(memory, "what are your opening hours", NULL);
	g_assert_nonnull(strstr(r3, "Monday to Friday"));
	g_autofree char *r4 = turn(memory, "when will it arrive", NULL);
	g_assert_nonnull(strstr(r4, "Order 12345"));
	g_autofree char *r5 = turn(memory, "where is my order", NULL);
	g_assert_nonnull(strstr(r5, "arrive by Thursday"));
	g_assert_cmpstr(json_string_value(json_object_get(memory, "topic")), ==, "order_status");

	/* The number in the same breath; an unknown order. */
	g_autoptr(json_t) m2 = json_object();
	g_autofree char *r6 = turn(m2, "I need help with my order, the number is 2 4 6 8 0", NULL);
	g_assert_nonnull(strstr(r6, "being packed"));
	g_autofree char *r7 = turn(m2, "my order number is nine nine nine nine", NULL);
	g_assert_nonnull(strstr(r7, "couldn't find order 9999"));
	/* Asked for a number, said something else: a hint, not the fallback. */
	g_autoptr(json_t) m3 = json_object();
	g_free(turn(m3, "track my order", NULL));
	g_autofree char *r8 = turn(m3, "hmm let me see", NULL);
	g_assert_nonnull(strstr(r8, "digits one by one"));
	/* Said the way a pattern says it, without being asked; and the small
	 * words around a number are not "no, that's it" (goodbye). */
	g_autoptr(json_t) m4 = json_object();
	g_autofree char *r9 = turn(m4, "it's one two three four five", NULL);
	g_assert_nonnull(strstr(r9, "Order 12345 was shipped"));
	assert_reply("tell me about it", "Sorry, I didn't catch that", NULL);
}

static void test_name(void)
{
	g_autoptr(json_t) memory = json_object();
	g_autofree char *r0 = turn(memory, "what is my name", NULL);
	g_assert_nonnull(strstr(r0, "don't know your name"));
	g_autofree char *r1 = turn(memory, "My name is John.", NULL);
	g_assert_cmpstr(r1, ==, "Nice to meet you, John. How can I help you today?");
	g_assert_cmpstr(json_string_value(json_object_get(memory, "name")), ==, "John");
	g_autofree char *r2 = turn(memory, "what is my name", NULL);
	g_assert_cmpstr(r2, ==, "Your name is John.");
	g_autofree char *t = NULL;
	g_autofree char *r3 = turn(memory, "bye", &t);
	g_assert_cmpstr(r3, ==, "Thank you for calling Bluebird Supplies. Goodbye John!");
	g_assert_cmpstr(t, ==, "end_call");

	/* Name and question in one breath: both answered, one greeting. */
	g_autoptr(json_t) m2 = json_object();
	g_autofree char *r4 = turn(m2, "hi, this is Mary and I need help with my order", NULL);
	g_assert_cmpstr(r4, ==, "Nice to meet you, Mary. Sure, I can check that. What is your order number?");
	/* "I am calling about …" is not a name. */
	g_autoptr(json_t) m3 = json_object();
	g_free(turn(m3, "i am calling about my order", NULL));
	g_assert_null(json_object_get(m3, "name"));
	/* Answering "what is your name?" with just the name. */
	g_autoptr(json_t) m4 = json_object();
	g_free(turn(m4, "do you know my name", NULL));
	g_autofree char *r5 = turn(m4, "Zoltan", NULL);
	g_assert_nonnull(strstr(r5, "Zoltan"));
}

static void test_fallback_and_empty(void)
{
	g_autoptr(json_t) memory = json_object();
	g_autofree char *t = NULL;
	g_autofree char *r1 = turn(memory, "the weather is lovely in paris today", &t);
	g_assert_true(g_str_has_prefix(r1, "Sorry, I didn't catch that. I can help with opening hours"));
	g_assert_null(t);
	g_assert_cmpstr(json_string_value(json_object_get(memory, "last")), ==, "fallback");
	g_autofree char *r2 = turn(memory, "", NULL);
	g_assert_cmpstr(r2, ==, "Are you still there? How can I help you?");
	g_autofree char *r3 = turn(memory, " ?! ", NULL);
	g_assert_cmpstr(r3, ==, r2);
	g_assert_cmpstr(json_string_value(json_object_get(memory, "last")), ==, "empty");
	/* NULL memory and NULL tool_out are fine. */
	g_autofree char *r4 = sb_local_reply(kb, NULL, "bye", NULL, NULL);
	g_assert_nonnull(strstr(r4, "Goodbye"));
}

/* ---- the asynchronous provider ---- */

typedef struct collector {
	GMutex lock;
	GCond cond;
	GString *text;
	int chunks;
	GPtrArray *tools; /* "name {json}" */
	bool done;
	char *error;
	int events_after_done;
	GThread *thread;
	const sb_llm_provider *llm;
	sb_llm_call *call; /* released from inside done when set */
} collector;

static void on_text(void *user, const char *delta)
{
	collector *c = user;
	g_mutex_lock(&c->lock);
	c->events_after_done += c->done;
	g_string_append(c->text, delta);
	c->chunks++;
	c->thread = g_thread_self();
	g_mutex_unlock(&c->lock);
}

static void on_tool(void *user, const char *id, const char *name, json_t *args)
{
	collector *c = user;
	g_autofree char *a = json_dumps(args, JSON_SORT_KEYS | JSON_COMPACT);
	g_mutex_lock(&c->lock);
	c->events_after_done += c->done;
	g_ptr_array_add(c->tools, g_strdup_printf("%s %s", name, a));
	g_mutex_unlock(&c->lock);
}

static void on_done(void *user, const char *error)
{
	collector *c = user;
	if (c->call) /* releasing from inside a callback must not deadlock */
		c->llm->release(c->call);
	g_mutex_lock(&c->lock);
	c->events_after_done += c->done;
	c->done = true;
	c->error = g_strdup(error);
	g_cond_broadcast(&c->cond);
	g_mutex_unlock(&c->lock);
}

static const sb_llm_events events = {on_text, on_tool, on_done};

static void collector_init(collector *c)
{
	memset(c, 0, sizeof(*c));
	g_mutex_init(&c->lock);
	g_cond_init(&c->cond);
	c->text = g_string_new(NULL);
	c->tools = g_ptr_array_new_with_free_func(g_free);
}

static void collector_clear(collector *c)
{
	g_string_free(c->text, TRUE);
	g_ptr_array_unref(c->tools);
	g_free(c->error);
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->cond);
}

static bool wait_done(collector *c)
{
	gint64 until = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;
	g_mutex_lock(&c->lock);
	while (!c->done && g_cond_wait_until(&c->cond, &c->lock, until))
		;
	bool done = c->done;
	g_mutex_unlock(&c->lock);
	return done;
}

static void ask(collector *c, json_t *memory, const char *utterance, const char *language,
                bool release_in_done)
{
	const sb_llm_provider *llm = &sb_llm_local;
	g_assert_nonnull(llm);
	g_autoptr(json_t) messages =
	        json_pack("[{s:s,s:s},{s:s,s:s}]", "role", "assistant", "content", "Hello!", "role",
	                  "user", "content", utterance);
	sb_llm_request req = {"You are helpful.", messages, true, memory, kb, language, NULL};
	sb_provider_config cfg = {.name = "local", .type = "local"};
	char *error = NULL;
	collector_init(c);
	c->llm = llm;
	g_mutex_lock(&c->lock); /* on_done may run before start() returns */
	sb_llm_call *call = llm->start(&cfg, &req, &events, c, &error);
	g_assert_null(error);
	g_assert_nonnull(call);
	if (release_in_done)
		c->call = call;
	g_mutex_unlock(&c->lock);
	g_assert_true(wait_done(c));
	g_assert_true(c->thread == NULL || c->thread != g_thread_self());
	if (!release_in_done)
		llm->release(call);
	g_assert_cmpint(c->events_after_done, ==, 0);
}

static void test_provider(void)
{
	g_autoptr(json_t) memory = json_object();
	collector c;
	ask(&c, memory, "my name is John and I want to know my order status", "en", false);
	g_assert_null(c.error);
	g_assert_cmpstr(c.text->str, ==,
	                "Nice to meet you, John. Sure, I can check that. What is your order number?");
	g_assert_cmpint(c.chunks, ==, 3); /* sentence by sentence */
	g_assert_cmpuint(c.tools->len, ==, 0);
	collector_clear(&c);

	ask(&c, memory, "one two three four five", "en", true);
	g_assert_nonnull(strstr(c.text->str, "Order 12345 was shipped"));
	collector_clear(&c);

	ask(&c, memory, "this is ridiculous, I want to speak to a real person", "en", false);
	g_assert_cmpuint(c.tools->len, ==, 1);
	g_assert_true(g_str_has_prefix(c.tools->pdata[0], "transfer_to_human {"));
	g_assert_nonnull(strstr(c.tools->pdata[0], "\"name\":\"John\""));
	g_assert_nonnull(strstr(c.tools->pdata[0], "\"order\":\"12345\""));
	g_assert_nonnull(strstr(c.tools->pdata[0], "\"reason\":\"The caller asked"));
	collector_clear(&c);

	ask(&c, memory, "مع السلامة", "ar", false);
	g_assert_cmpstr(c.text->str, ==, "شكرا لاتصالك يا John. مع السلامة!");
	g_assert_cmpuint(c.tools->len, ==, 1);
	g_assert_cmpstr(c.tools->pdata[0], ==, "end_call {}");
	collector_clear(&c);

	ask(&c, memory, "", "en", false);
	g_assert_cmpstr(c.text->str, ==, "Are you still there? How can I help you?");
	collector_clear(&c);
}

/* Release at once, many times, while the pool is busy: no callback after
 * release() returns (the collector is freed right after). */
static void test_provider_cancel(void)
{
	const sb_llm_provider *llm = &sb_llm_local;
	for (int i = 0; i < 200; i++) {
		collector *c = g_new0(collector, 1);
		collector_init(c);
		g_autoptr(json_t) messages = json_pack("[{s:s,s:s}]", "role", "user", "content",
		                                       "what are your opening hours");
		sb_llm_request req = {NULL, messages, true, NULL, kb, "en", NULL};
		char *error = NULL;
		sb_llm_call *call = llm->start(NULL, &req, &events, c, &error);
		g_assert_nonnull(call);
		if (i % 3 == 1)
			g_usleep(50);
		llm->release(call);
		collector_clear(c);
		memset(c, 0xaa, sizeof(*c)); /* a late callback would crash or trip ASan */
		g_free(c);
	}
	/* Without a knowledge base in the request, the file is loaded. */
	collector c;
	collector_init(&c);
	g_autoptr(json_t) messages = json_pack("[{s:s,s:s}]", "role", "user", "content", "bye");
	sb_llm_request req = {NULL, messages, false, NULL, NULL, NULL, NULL};
	g_autoptr(json_t) extra = json_pack("{s:s}", "kb", "/nonexistent/kb.json");
	sb_provider_config cfg = {.type = "local", .extra = extra};
	char *error = NULL;
	sb_llm_call *call = llm->start(&cfg, &req, &events, &c, &error);
	g_assert_true(wait_done(&c));
	g_assert_nonnull(c.error);
	g_assert_nonnull(strstr(c.error, "/nonexistent/kb.json"));
	llm->release(call);
	collector_clear(&c);
}

static void test_summary(void)
{
	g_autoptr(json_t) transcript = json_pack(
	        "[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]",
	        "role", "assistant", "content",
	        "Hello, thank you for calling Bluebird Supplies. I am the virtual assistant. How can I "
	        "help you today?",
	        "role", "user", "content", "Hi, my name is John", "role", "assistant", "content",
	        "Nice to meet you, John. How can I help you today?", "role", "user", "content",
	        "My order is late again and I am really annoyed", "role", "assistant", "content",
	        "Sure, I can check that. What is your order number?", "role", "user", "content",
	        "one two three four five", "role", "assistant", "content",
	        "Thanks. Order 12345 was shipped on Monday and should arrive by Thursday.", "role",
	        "user", "content", "That's not good enough, let me talk to a human");
	g_autoptr(json_t) s = sb_local_summary(kb, NULL, transcript);
	g_autofree char *dump = json_dumps(s, JSON_INDENT(2));
	g_test_message("summary: %s", dump);
	json_t *caller = json_object_get(s, "caller");
	g_assert_cmpstr(json_string_value(json_object_get(caller, "name")), ==, "John");
	g_assert_cmpstr(json_string_value(json_object_get(caller, "order")), ==, "12345");
	g_assert_cmpstr(json_string_value(json_object_get(s, "issue")), ==,
	                "My order is late again and I am really annoyed");
	g_assert_cmpstr(json_string_value(json_object_get(s, "mood")), ==, "negative");
	g_assert_cmpint(json_integer_value(json_object_get(s, "turns")), ==, 4);
	json_t *topics = json_object_get(s, "topics");
	g_assert_cmpstr(json_string_value(json_array_get(topics, 0)), ==, "give_name");
	g_assert_cmpstr(json_string_value(json_array_get(topics, 1)), ==, "order_status");
	g_assert_cmpstr(json_string_value(json_array_get(topics, 2)), ==, "talk_to_human");
	g_assert_cmpuint(json_array_size(json_object_get(s, "tried")), ==, 3);
	const char *next = json_string_value(json_object_get(s, "next_step"));
	g_assert_nonnull(strstr(next, "Apologise"));
	g_assert_nonnull(strstr(next, "order 12345"));
	g_assert_nonnull(strstr(json_string_value(json_object_get(s, "text")), "Caller: John, order 12345"));

	/* speaker/text form, memory wins, nothing substantive said. */
	g_autoptr(json_t) t2 = json_pack("[{s:s,s:s},{s:s,s:s}]", "speaker", "caller", "text",
	                                 "hello", "speaker", "agent", "text", "Hello!");
	g_autoptr(json_t) memory = json_pack("{s:s}", "name", "Aisha");
	g_autoptr(json_t) s2 = sb_local_summary(kb, memory, t2);
	g_assert_cmpstr(json_string_value(json_object_get(json_object_get(s2, "caller"), "name")), ==,
	                "Aisha");
	g_assert_true(json_is_null(json_object_get(json_object_get(s2, "caller"), "order")));
	g_assert_cmpstr(json_string_value(json_object_get(s2, "issue")), ==, "");
	g_assert_cmpstr(json_string_value(json_object_get(s2, "mood")), ==, "neutral");
	g_autoptr(json_t) s3 = sb_local_summary(kb, NULL, NULL);
	g_assert_cmpint(json_integer_value(json_object_get(s3, "turns")), ==, 0);
}

/* The business's tools: order_status calls lookup_order when it is
 * offered and speaks its answer's say; without a say (a failure) the
 * knowledge base answers; a KB intent with "tool" and "arguments" calls
 * its tool with the call's memory filled in. */
static void test_tools(void)
{
	g_autoptr(json_t) offered = json_pack("[s]", "lookup_order");
	g_autoptr(json_t) memory = json_object();
	json_t *call = NULL;
	g_autofree char *reply = sb_local_turn(kb, memory, "where is my order one two three four five",
	                                       "en", offered, NULL, &call);
	g_assert_cmpstr(reply, ==, "");
	g_assert_nonnull(call);
	g_assert_cmpstr(json_string_value(json_object_get(call, "name")), ==, "lookup_order");
	g_assert_cmpstr(json_string_value(json_object_get(json_object_get(call, "arguments"), "order")),
	                ==, "12345");
	json_decref(call);

	/* The back end said something: that is the answer. */
	g_autoptr(json_t) said = json_pack("[{ssss}{ssss}]", "role", "user", "content", "where is my order",
	                                   "role", "tool", "content",
	                                   "{\"say\":\"Order 12345 left this morning.\"}");
	g_autofree char *spoken = sb_local_tool_reply(kb, memory, said, "en");
	g_assert_cmpstr(spoken, ==, "Order 12345 left this morning.");

	/* It failed: the knowledge base's own answer. */
	json_object_set_new(memory, "tool_intent", json_string("order_status"));
	g_autoptr(json_t) failed = json_pack("[{ssss}]", "role", "tool", "content",
	                                     "{\"status\":\"timeout\",\"error\":\"timeout: timed out\"}");
	g_autofree char *fallback = sb_local_tool_reply(kb, memory, failed, "en");
	g_assert_nonnull(strstr(fallback, "Order 12345 was shipped on Monday"));

	/* Not offered: the knowledge base answers, no call. */
	g_autoptr(json_t) fresh = json_object();
	g_autofree char *kb_answer =
	        sb_local_turn(kb, fresh, "order one two three four five", "en", NULL, NULL, &call);
	g_assert_null(call);
	g_assert_nonnull(strstr(kb_answer, "was shipped on Monday"));

	/* A KB intent mapped to a tool, its arguments from memory. */
	g_autoptr(json_t) custom = json_deep_copy(kb);
	json_array_append_new(json_object_get(custom, "intents"),
	                      json_pack("{sss[s]sssss{ss}}", "name", "book", "phrases",
	                                "book an appointment", "answer", "I cannot book right now.",
	                                "tool", "book_appointment", "arguments", "who", "{name}"));
	char *error = NULL;
	g_assert_true(sb_kb_validate(custom, &error));
	g_autoptr(json_t) books = json_pack("[s]", "book_appointment");
	g_autoptr(json_t) named = json_pack("{ss}", "name", "John");
	g_autofree char *none =
	        sb_local_turn(custom, named, "book an appointment", "en", books, NULL, &call);
	g_assert_cmpstr(none, ==, "");
	g_assert_nonnull(call);
	g_assert_cmpstr(json_string_value(json_object_get(json_object_get(call, "arguments"), "who")),
	                ==, "John");
	json_decref(call);
	g_autofree char *plain =
	        sb_local_turn(custom, named, "book an appointment", "en", NULL, NULL, &call);
	g_assert_null(call);
	g_assert_cmpstr(plain, ==, "I cannot book right now.");
	/* Bad arguments in a knowledge base are refused with the place. */
	json_object_set_new(json_array_get(json_object_get(custom, "intents"),
	                                   json_array_size(json_object_get(custom, "intents")) - 1),
	                    "arguments", json_pack("{si}", "who", 1));
	g_assert_false(sb_kb_validate(custom, &error));
	g_assert_nonnull(strstr(error, "arguments.who must be a string"));
	g_free(error);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	char *error = NULL;
	kb = sb_kb_load(SB_SOURCE_DIR "/conf/knowledge-base.json", &error);
	if (!kb)
		g_error("%s", error);
	g_test_add_func("/dialog/normalise", test_normalise);
	g_test_add_func("/dialog/hours", test_hours);
	g_test_add_func("/dialog/human", test_human);
	g_test_add_func("/dialog/goodbye", test_goodbye);
	g_test_add_func("/dialog/order-flow", test_order_flow);
	g_test_add_func("/dialog/name", test_name);
	g_test_add_func("/dialog/fallback-and-empty", test_fallback_and_empty);
	g_test_add_func("/dialog/provider", test_provider);
	g_test_add_func("/dialog/provider-cancel", test_provider_cancel);
	g_test_add_func("/dialog/summary", test_summary);
	g_test_add_func("/dialog/tools", test_tools);
	int rc = g_test_run();
	sb_llm_local_shutdown();
	json_decref(kb);
	return rc;
}
