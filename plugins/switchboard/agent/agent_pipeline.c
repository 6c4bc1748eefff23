/* The agent's speech pipeline: streaming STT, the language model and TTS,
 * glued so the first sentence is spoken while the rest is still written.
 * Providers report on their threads and only post; all state is handled on
 * the agent thread (sb_pipeline_handle). */
#include "agent/agent_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include <debug.h>

#include "embedded/embedded.h"
#include "menus/menus.h"
#include "providers/providers.h"
#include "room/room.h"
#include "tools/tools.h"

#define DEFAULT_APOLOGY                                                                            \
	"I'm sorry, I'm having trouble answering right now. Please try again in a moment."
/* A sentence longer than this is cut at the next comma, so speech starts. */
#define SOFT_SENTENCE_LIMIT 90

void sb_pipeline_event_clear(sb_pipeline_event *ev)
{
	g_free(ev->text);
	g_free(ev->error);
	g_free(ev->pcm);
	json_decref(ev->json);
	memset(ev, 0, sizeof(*ev));
}

void sb_pipe_post(callback_ctx *ctx, sb_pipeline_event_type type, const char *text,
                  const char *error, const int16_t *pcm, size_t samples, json_t *json)
{
	/* Stamped here, on the provider's thread: the moment it happened. */
	sb_pipeline_event ev = {.type = type,
	                        .generation = __atomic_load_n(&ctx->generation, __ATOMIC_ACQUIRE),
	                        .at_us = g_get_monotonic_time()};
	ev.text = g_strdup(text);
	ev.error = g_strdup(error);
	if (pcm && samples)
		ev.pcm = g_memdup2(pcm, samples * sizeof(int16_t));
	ev.samples = samples;
	ev.json = json ? json_incref(json) : NULL;
	ctx->p->post(ctx->p->user, &ev);
	sb_pipeline_event_clear(&ev);
}

static void stt_partial(void *u, const char *text)
{
	sb_pipe_post(u, SB_PIPE_RAW_STT_PARTIAL, text, NULL, NULL, 0, NULL);
}
static void stt_final(void *u, const char *text)
{
	sb_pipe_post(u, SB_PIPE_RAW_STT_FINAL, text, NULL, NULL, 0, NULL);
}
static void stt_failed(void *u, const char *e)
{
	sb_pipe_post(u, SB_PIPE_RAW_STT_FAILED, NULL, e, NULL, 0, NULL);
}
static void stt_paused(void *u, const char *text)
{
	sb_pipe_post(u, SB_PIPE_RAW_STT_PAUSED, text, NULL, NULL, 0, NULL);
}
static void stt_language(void *u, const char *code)
{
	sb_pipe_post(u, SB_PIPE_RAW_STT_LANGUAGE, code, NULL, NULL, 0, NULL);
}
static const sb_stt_events stt_events = {.partial = stt_partial,
                                         .final = stt_final,
                                         .failed = stt_failed,
                                         .paused = stt_paused,
                                         .language = stt_language};

static void llm_text(void *u, const char *d)
{
	sb_pipe_post(u, SB_PIPE_RAW_LLM_TEXT, d, NULL, NULL, 0, NULL);
}
static void llm_tool(void *u, const char *id, const char *name, json_t *args)
{
	json_t *call = json_pack("{s:s, s:O}", "id", id ? id : "", "arguments", args);
	sb_pipe_post(u, SB_PIPE_RAW_LLM_TOOL, name, NULL, NULL, 0, call);
	json_decref(call);
}
static void llm_done(void *u, const char *e)
{
	sb_pipe_post(u, SB_PIPE_RAW_LLM_DONE, NULL, e, NULL, 0, NULL);
}
static const sb_llm_events llm_events = {llm_text, llm_tool, llm_done};

static void tts_audio(void *u, const int16_t *pcm, size_t n)
{
	sb_pipe_post(u, SB_PIPE_RAW_TTS_AUDIO, NULL, NULL, pcm, n, NULL);
}
static void tts_done(void *u, const char *e)
{
	sb_pipe_post(u, SB_PIPE_RAW_TTS_DONE, NULL, e, NULL, 0, NULL);
}
static const sb_tts_events tts_events = {tts_audio, tts_done};

static callback_ctx *new_ctx(sb_pipeline *p, unsigned generation)
{
	callback_ctx *c = g_new0(callback_ctx, 1);
	c->p = p;
	c->generation = generation;
	return c;
}

/* ---- providers ---- */

static const char *config_string(json_t *config, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(config, key));
	return v && *v ? v : def;
}

sb_pipeline *sb_pipeline_new(json_t *config, const char *room, sb_pipeline_post post_fn,
                             sb_pipeline_emit emit_fn, void *user, char **error)
{
	sb_pipeline *p = g_new0(sb_pipeline, 1);
	p->post = post_fn;
	p->emit = emit_fn;
	p->user = user;
	p->generation = 1;
	p->room = g_strdup(room);
	sb_language_follower_init(&p->language, config);
	p->memory = json_object();
	p->history = json_array();
	p->reply = g_string_new(NULL);
	p->sentence = g_string_new(NULL);
	g_queue_init(&p->sentences);
	/* The business's tools: every configured one, or those the room's
	 * agent config names ("tools": ["lookup_order"]). */
	p->toolset = sb_tools_current();
	p->functions = sb_toolset_offer(p->toolset, json_object_get(config, "tools"));
	/* The keypad as a tool ([agent] gather_tool): the agent runs it
	 * (agent_gather.c), not an HTTP endpoint. */
	json_t *gather_tool = json_object_get(config, "gather_tool");
	if (json_is_true(gather_tool) || !g_strcmp0(json_string_value(gather_tool), "true"))
		json_array_append_new(
		        p->functions,
		        json_pack(
		                "{s:s, s:s, s:o}", "name", SB_GATHER_TOOL, "description",
		                "Ask the caller to press keys on their phone's keypad (or say the "
		                "answer): a menu of options, or a number such as an account or "
		                "order number. The prompt is spoken, then the answer is returned "
		                "({status, digits or key, input}).",
		                "parameters", sb_menu_tool_parameters()));
	p->call_info = json_pack("{s:s}", "room", room);
	p->wanted = json_array();
	p->runs = g_ptr_array_new();
	sb_provider_snapshot *now = sb_providers_current();
	if (!now) {
		*error = g_strdup("providers are not set up");
		sb_pipeline_free(p);
		return NULL;
	}
	/* The knowledge base in force, parsed once; a room that names another
	 * file gets that one read. */
	const char *kb_path = config_string(config, "knowledge_base", NULL);
	char *kb_error = NULL;
	if (now->knowledge &&
	    !g_strcmp0(kb_path, config_string(now->agent, "knowledge_base", NULL)))
		p->kb = json_incref(now->knowledge);
	else
		p->kb = sb_kb_load(kb_path ? kb_path : sb_kb_default_path(), &kb_error);
	if (!p->kb) {
		JANUS_LOG(LOG_WARN, "[switchboard] agent: no knowledge base (%s)\n",
		          kb_error ? kb_error : "?");
		g_free(kb_error);
	}
	const char *greeting = config_string(config, "greeting", NULL);
	if (greeting)
		p->greeting_template = g_strdup(greeting);
	else if (p->kb)
		p->greeting_template =
		        sb_kb_fill(p->kb,
		                   sb_kb_text(json_object_get(p->kb, "greeting"),
		                              config_string(config, "language", "en")),
		                   NULL);
	p->apology = g_strdup(config_string(config, "apology", DEFAULT_APOLOGY));
	p->persona_template = g_strdup(config_string(
	        config, "persona", "You are a friendly, efficient customer service voice agent."));
	if (p->kb) {
		char *facts = json_dumps(p->kb, JSON_COMPACT);
		p->facts = g_strdup(facts);
		free(facts);
	}
	json_t *no_variables = json_object();
	sb_pipeline_set_variables(p, no_variables);
	json_decref(no_variables);

	/* Fallback chains with circuit breakers, e.g. llm = ["openai", "local"]. */
	sb_chain_options opt[SB_KIND_COUNT];
	for (int k = 0; k < SB_KIND_COUNT; k++) {
		memset(&opt[k], 0, sizeof(opt[k]));
		sb_chain_options_from_json(&opt[k], config, (sb_provider_kind)k);
	}
	json_t *names = sb_agent_chain_names(config, "stt");
	p->stt = sb_stt_chain_build(now->set, names, &opt[SB_KIND_STT], error);
	json_decref(names);
	if (p->stt) {
		names = sb_agent_chain_names(config, "llm");
		p->llm = sb_llm_chain_build(now->set, names, &opt[SB_KIND_LLM], error);
		json_decref(names);
	}
	if (p->llm) {
		names = sb_agent_chain_names(config, "tts");
		p->tts = sb_tts_chain_build(now->set, names, &opt[SB_KIND_TTS], error);
		json_decref(names);
	}
	sb_provider_snapshot_unref(now);
	if (!p->stt || !p->llm || !p->tts) {
		sb_pipeline_free(p);
		return NULL;
	}
	p->stt_ctx = new_ctx(p, 0); /* what callers say is never stale */
	p->stt_stream = sb_stt_chain_open(p->stt, &stt_events, p->stt_ctx, error);
	if (!p->stt_stream) {
		sb_pipeline_free(p);
		return NULL;
	}
	return p;
}

/* Remembers which provider served a step of the caller's turn (the first
 * one to give output wins: later TTS jobs of the same answer do not
 * overwrite it), for the turn's record. */
static void note_provider(sb_pipeline *p, const char *key, const void *call)
{
	if (!call || !p->is_reply || json_is_string(json_object_get(p->turn, key)))
		return;
	int position = -1;
	char *name = sb_chain_call_provider(call, &position);
	if (name)
		json_object_set_new(p->turn, key, json_string(name));
	if (position > 0)
		json_object_set_new(p->turn, "fallback", json_true());
	g_free(name);
}

json_t *sb_pipeline_turn_providers(sb_pipeline *p)
{
	note_provider(p, "llm", p->llm_call);
	note_provider(p, "tts", p->tts_job);
	return json_deep_copy(p->turn);
}

void sb_pipeline_turn_times(sb_pipeline *p, sb_turn_times *t)
{
	t->stt_final = p->times.stt_final;
	t->llm_first = p->times.llm_first;
	t->tts_first = p->times.tts_first;
}

/* The first output of a kind for the caller's answer: when it came. */
static void note_first(sb_pipeline *p, int64_t *moment, const sb_pipeline_event *raw)
{
	if (p->is_reply && !*moment)
		*moment = raw->at_us;
}

static void release_llm(sb_pipeline *p)
{
	note_provider(p, "llm", p->llm_call);
	if (p->llm_call)
		sb_llm_chain_release(p->llm_call);
	p->llm_call = NULL;
	g_free(p->llm_ctx);
	p->llm_ctx = NULL;
}

static void release_tts(sb_pipeline *p)
{
	note_provider(p, "tts", p->tts_job);
	if (p->tts_job)
		sb_tts_chain_release(p->tts_job);
	p->tts_job = NULL;
	g_free(p->tts_ctx);
	p->tts_ctx = NULL;
}

void sb_pipeline_free(sb_pipeline *p)
{
	if (!p)
		return;
	release_llm(p);
	release_tts(p);
	if (p->runs) {
		for (guint i = 0; i < p->runs->len; i++)
			sb_pipe_tool_run_free(p->runs->pdata[i]);
		g_ptr_array_free(p->runs, TRUE);
	}
	sb_toolset_unref(p->toolset);
	json_decref(p->functions);
	json_decref(p->call_info);
	json_decref(p->wanted);
	if (p->stt_stream)
		sb_stt_chain_release(p->stt_stream);
	g_free(p->stt_ctx);
	if (p->stt)
		sb_stt_chain_free(p->stt);
	if (p->llm)
		sb_llm_chain_free(p->llm);
	if (p->tts)
		sb_tts_chain_free(p->tts);
	g_queue_clear_full(&p->sentences, g_free);
	g_string_free(p->reply, TRUE);
	g_string_free(p->sentence, TRUE);
	json_decref(p->kb);
	json_decref(p->memory);
	json_decref(p->history);
	json_decref(p->tool_args);
	json_decref(p->turn);
	g_free(p->tool);
	g_free(p->llm_error);
	g_free(p->room);
	sb_language_follower_clear(&p->language);
	g_free(p->heard_language);
	g_free(p->greeting);
	g_free(p->greeting_template);
	g_free(p->persona_template);
	g_free(p->facts);
	json_decref(p->variables);
	g_free(p->system_prompt);
	g_free(p->apology);
	g_free(p);
}

const char *sb_pipeline_greeting(sb_pipeline *p)
{
	return p->greeting;
}

/* ---- speaking ---- */

void sb_pipe_emit(sb_pipeline *p, sb_pipeline_event_type type, const char *text, const char *error,
                  int16_t *pcm, size_t samples, json_t *json)
{
	sb_pipeline_event ev = {.type = type,
	                        .text = (char *)text,
	                        .error = (char *)error,
	                        .pcm = pcm,
	                        .samples = samples,
	                        .json = json};
	p->emit(p->user, &ev);
}

static void speak_next(sb_pipeline *p)
{
	while (!p->tts_job && !g_queue_is_empty(&p->sentences)) {
		char *text = g_queue_pop_head(&p->sentences);
		char *error = NULL;
		p->tts_ctx = new_ctx(p, p->generation);
		p->tts_job = sb_tts_chain_speak(p->tts, text, p->language.current, &tts_events,
		                                p->tts_ctx, &error);
		if (p->tts_job)
			sb_pipe_emit(p, SB_PIPE_SPEECH_CHUNK, text, NULL, NULL, 0, NULL);
		if (!p->tts_job) {
			JANUS_LOG(LOG_WARN, "[switchboard] agent TTS failed: %s\n",
			          error ? error : "?");
			g_free(p->tts_ctx);
			p->tts_ctx = NULL;
		}
		g_free(error);
		g_free(text);
	}
}

void sb_pipe_queue_sentence(sb_pipeline *p, const char *text)
{
	char *t = g_strstrip(g_strdup(text));
	if (*t)
		g_queue_push_tail(&p->sentences, t);
	else
		g_free(t);
	speak_next(p);
}

/* Sends whole sentences of the buffer to TTS as soon as they are complete. */
static void split_sentences(sb_pipeline *p, bool flush)
{
	for (;;) {
		const char *s = p->sentence->str;
		gssize cut = -1;
		for (gsize i = 0; s[i]; i++) {
			bool end = (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == '\n') &&
			           (s[i + 1] == ' ' || s[i + 1] == '\n' || s[i + 1] == '\0');
			bool soft = i >= SOFT_SENTENCE_LIMIT && (s[i] == ',' || s[i] == ';') &&
			            s[i + 1] == ' ';
			if ((end && (s[i + 1] != '\0' || flush)) || soft) {
				cut = (gssize)i + 1;
				break;
			}
		}
		if (cut < 0)
			break;
		char *sentence = g_strndup(s, (gsize)cut);
		g_string_erase(p->sentence, 0, cut);
		sb_pipe_queue_sentence(p, sentence);
		g_free(sentence);
	}
	if (flush && p->sentence->len) {
		sb_pipe_queue_sentence(p, p->sentence->str);
		g_string_truncate(p->sentence, 0);
	}
}

void sb_pipeline_say(sb_pipeline *p, const char *text)
{
	if (!text || !*text)
		return;
	p->answering = true;
	p->is_reply = false;
	g_string_assign(p->reply, text);
	g_string_assign(p->sentence, text);
	split_sentences(p, true);
}

/* The answer has been written and spoken: tell the agent, keep history. */
static void finish_answer(sb_pipeline *p)
{
	if (!p->answering || p->llm_call || p->tts_job || !g_queue_is_empty(&p->sentences) ||
	    p->runs->len)
		return;
	p->answering = false;
	if (p->reply->len)
		sb_pipe_emit(p, SB_PIPE_SAID, p->reply->str, NULL, NULL, 0, NULL);
	if (p->is_reply) {
		if (p->reply->len)
			json_array_append_new(p->history, json_pack("{ssss}", "role", "assistant",
			                                            "content", p->reply->str));
		sb_pipe_emit(p, SB_PIPE_REPLY_DONE, NULL, p->llm_error, NULL, 0, NULL);
		if (p->tool)
			sb_pipe_emit(p, SB_PIPE_ACTION, p->tool, NULL, NULL, 0, p->tool_args);
	}
	g_free(p->tool);
	json_decref(p->tool_args);
	p->tool = NULL;
	p->tool_args = NULL;
	g_free(p->llm_error);
	p->llm_error = NULL;
	g_string_truncate(p->reply, 0);
}

/* heard_by: the STT stream that heard the turn, heard_at when its final
 * came; NULL and 0 for a key press. */
static void start_answer(sb_pipeline *p, const char *heard, const void *heard_by, int64_t heard_at)
{
	if (p->answering)
		g_free(sb_pipeline_interrupt(p)); /* a new turn replaces the old answer */
	json_array_append_new(p->history, json_pack("{ssss}", "role", "user", "content", heard));
	p->answering = true;
	p->is_reply = true;
	json_decref(p->turn);
	p->turn = json_pack("{snsnsnsbss}", "stt", "llm", "tts", "fallback", 0, "language",
	                    p->language.current);
	note_provider(p, "stt", heard_by);
	memset(&p->times, 0, sizeof(p->times));
	p->times.stt_final = heard_at;
	g_string_truncate(p->reply, 0);
	g_string_truncate(p->sentence, 0);
	p->tool_rounds = 0;
	sb_pipe_start_llm(p);
}

void sb_pipe_start_llm(sb_pipeline *p)
{
	/* After a tool round, what comes next is a new sentence. */
	if (p->reply->len && !g_ascii_isspace(p->reply->str[p->reply->len - 1]))
		g_string_append_c(p->reply, ' ');
	p->round_start = p->reply->len;
	/* In the caller's language when that is not the configured one. */
	g_autofree char *instruction = sb_language_instruction(&p->language);
	g_autofree char *system_prompt =
	        instruction ? g_strdup_printf("%s\n%s", p->system_prompt, instruction) : NULL;
	sb_llm_request req = {
	        .system_prompt = system_prompt ? system_prompt : p->system_prompt,
	        .messages = p->history,
	        .tools = true,
	        .functions = p->functions,
	        .memory = p->memory,
	        .knowledge = p->kb,
	        .language = p->language.current,
	};
	char *error = NULL;
	p->llm_ctx = new_ctx(p, p->generation);
	p->llm_call = sb_llm_chain_start(p->llm, &req, &llm_events, p->llm_ctx, &error);
	if (!p->llm_call) {
		g_free(p->llm_ctx);
		p->llm_ctx = NULL;
		p->llm_error = error ? error : g_strdup("the language model did not start");
		g_string_assign(p->reply, p->apology);
		sb_pipe_queue_sentence(p, p->apology);
		finish_answer(p);
		return;
	}
	g_free(error);
}

void sb_pipeline_text(sb_pipeline *p, const char *text)
{
	sb_pipe_emit(p, SB_PIPE_HEARD_FINAL, text, NULL, NULL, 0, NULL);
	start_answer(p, text, NULL, 0);
}

void sb_pipeline_handle(sb_pipeline *p, sb_pipeline_event *raw)
{
	bool stale = raw->generation != 0 && raw->generation != p->generation;
	switch (raw->type) {
	case SB_PIPE_RAW_STT_PARTIAL:
		if (raw->text && *raw->text) {
			sb_pipeline_event partial = {.type = SB_PIPE_HEARD_PARTIAL,
			                             .text = raw->text,
			                             .at_us = raw->at_us};
			p->emit(p->user, &partial);
		}
		break;
	case SB_PIPE_RAW_STT_PAUSED: {
		sb_pipeline_event so_far = {.type = SB_PIPE_HEARD_SO_FAR,
		                            .text = raw->text ? raw->text : "",
		                            .at_us = raw->at_us};
		p->emit(p->user, &so_far);
		break;
	}
	case SB_PIPE_RAW_STT_LANGUAGE:
		g_free(p->heard_language);
		p->heard_language = g_strdup(raw->text);
		break;
	case SB_PIPE_RAW_STT_FINAL: {
		char *text = g_strstrip(g_strdup(raw->text ? raw->text : ""));
		if (*text && sb_language_follow(&p->language, p->heard_language, text)) {
			sb_pipeline_event moved = {.type = SB_PIPE_LANGUAGE,
			                           .text = p->language.current,
			                           .at_us = raw->at_us};
			p->emit(p->user, &moved);
		}
		g_clear_pointer(&p->heard_language, g_free);
		sb_pipeline_event heard = {
		        .type = SB_PIPE_HEARD_FINAL, .text = text, .at_us = raw->at_us};
		if (*text)
			p->emit(p->user, &heard);
		/* A backchannel said over the agent asks for no answer. */
		if (*text && !heard.declined)
			start_answer(p, text, p->stt_stream, raw->at_us);
		g_free(text);
		break;
	}
	case SB_PIPE_RAW_STT_FAILED:
		JANUS_LOG(LOG_WARN, "[switchboard] agent STT in %s: %s\n", p->room,
		          raw->error ? raw->error : "failed");
		break;
	case SB_PIPE_RAW_LLM_TEXT:
		if (stale || !raw->text)
			break;
		note_first(p, &p->times.llm_first, raw);
		g_string_append(p->reply, raw->text);
		g_string_append(p->sentence, raw->text);
		split_sentences(p, false);
		break;
	case SB_PIPE_RAW_LLM_TOOL:
		if (stale || !raw->text)
			break;
		note_first(p, &p->times.llm_first, raw);
		if (strcmp(raw->text, "transfer_to_human") != 0 &&
		    strcmp(raw->text, "end_call") != 0) {
			/* The business's (or one the model made up: it hears so). */
			json_t *want = json_pack("{s:s, s:O, s:O}", "name", raw->text, "id",
			                         json_object_get(raw->json, "id"), "arguments",
			                         json_object_get(raw->json, "arguments"));
			json_array_append_new(p->wanted, want);
			break;
		}
		g_free(p->tool);
		json_decref(p->tool_args);
		p->tool = g_strdup(raw->text);
		p->tool_args = json_incref(json_object_get(raw->json, "arguments"));
		break;
	case SB_PIPE_RAW_TOOL_DONE:
		if (!stale)
			sb_pipe_tools_answered(p, raw);
		break;
	case SB_PIPE_RAW_LLM_DONE:
		if (stale)
			break;
		release_llm(p);
		split_sentences(p, true);
		if (json_array_size(p->wanted) && !raw->error && sb_pipe_tools_run(p))
			break; /* the model is asked again once they answer */
		json_array_clear(p->wanted);
		if (raw->error && p->reply->len == 0) {
			/* Every provider failed before saying anything: never go
			 * silent on the caller. */
			p->llm_error = g_strdup(raw->error);
			g_string_assign(p->reply, p->apology);
			sb_pipe_queue_sentence(p, p->apology);
		}
		finish_answer(p);
		break;
	case SB_PIPE_RAW_TTS_AUDIO:
		if (stale || !raw->pcm || !raw->samples)
			break;
		note_first(p, &p->times.tts_first, raw);
		sb_pipe_emit(p, SB_PIPE_SPEECH_AUDIO, NULL, NULL, raw->pcm, raw->samples, NULL);
		break;
	case SB_PIPE_RAW_TTS_DONE:
		if (stale)
			break;
		if (raw->error)
			JANUS_LOG(LOG_WARN, "[switchboard] agent TTS in %s: %s\n", p->room,
			          raw->error);
		release_tts(p);
		speak_next(p);
		finish_answer(p);
		break;
	default:
		break;
	}
}

void sb_pipeline_audio(sb_pipeline *p, const int16_t *pcm, size_t samples)
{
	if (p->stt_stream)
		sb_stt_chain_audio(p->stt_stream, pcm, samples);
}

bool sb_pipeline_pause(sb_pipeline *p)
{
	return p->stt_stream && sb_stt_chain_pause(p->stt_stream);
}

void sb_pipeline_end_of_speech(sb_pipeline *p)
{
	if (p->stt_stream)
		sb_stt_chain_end_of_speech(p->stt_stream);
}

char *sb_pipeline_interrupt(sb_pipeline *p)
{
	p->generation++;
	release_llm(p);
	release_tts(p);
	sb_pipe_tools_cancel(p);
	g_queue_clear_full(&p->sentences, g_free);
	g_string_truncate(p->sentence, 0);
	char *said = g_strdup(p->reply->str);
	if (p->is_reply && p->answering && p->reply->len) {
		char *marked = g_strdup_printf("%s [interrupted by the caller]", p->reply->str);
		json_array_append_new(p->history,
		                      json_pack("{ssss}", "role", "assistant", "content", marked));
		g_free(marked);
	}
	p->answering = false;
	g_string_truncate(p->reply, 0);
	g_free(p->tool);
	json_decref(p->tool_args);
	p->tool = NULL;
	p->tool_args = NULL;
	g_free(p->llm_error);
	p->llm_error = NULL;
	return said;
}

void sb_pipeline_heard(sb_pipeline *p, const char *heard)
{
	size_t n = json_array_size(p->history);
	json_t *last = n ? json_array_get(p->history, n - 1) : NULL;
	if (g_strcmp0(json_string_value(json_object_get(last, "role")), "assistant") != 0)
		return;
	char *marked = g_strdup_printf("%s [interrupted by the caller]", heard ? heard : "");
	json_object_set_new(last, "content", json_string(g_strstrip(marked)));
	g_free(marked);
}

void sb_pipeline_speak(sb_pipeline *p, const char *text)
{
	if (!p->answering) {
		sb_pipeline_say(p, text);
		return;
	}
	g_string_append_printf(p->reply, "%s%s", p->reply->len ? " " : "", text);
	sb_pipe_queue_sentence(p, text);
}

void sb_pipeline_hush(sb_pipeline *p)
{
	if (!sb_pipeline_speaking(p))
		return;
	/* The released job's late audio must not play: a new generation, which
	 * the model and the calls still out keep (they are not cut short). */
	p->generation++;
	if (p->llm_ctx)
		__atomic_store_n(&p->llm_ctx->generation, p->generation, __ATOMIC_RELEASE);
	for (guint i = 0; i < p->runs->len; i++)
		__atomic_store_n(&((tool_run *)p->runs->pdata[i])->ctx.generation, p->generation,
		                 __ATOMIC_RELEASE);
	release_tts(p);
	g_queue_clear_full(&p->sentences, g_free);
	finish_answer(p);
}

bool sb_pipeline_speaking(sb_pipeline *p)
{
	return p->tts_job || !g_queue_is_empty(&p->sentences);
}

bool sb_pipeline_idle(sb_pipeline *p)
{
	return !p->answering && !p->llm_call && !p->tts_job && g_queue_is_empty(&p->sentences) &&
	       !p->runs->len;
}

void sb_pipeline_set_call(sb_pipeline *p, json_t *call)
{
	json_decref(p->call_info);
	p->call_info = json_deep_copy(call);
	json_object_set_new(p->call_info, "room", json_string(p->room));
	json_object_set(p->call_info, "variables", p->variables);
}

json_t *sb_pipeline_call(sb_pipeline *p)
{
	return p->call_info;
}

void sb_pipeline_set_variables(sb_pipeline *p, json_t *variables)
{
	json_decref(p->variables);
	p->variables = json_deep_copy(variables);
	json_object_set(p->call_info, "variables", p->variables);
	g_free(p->greeting);
	p->greeting = sb_variables_render(p->greeting_template, p->variables);
	if (p->greeting) /* a missing variable at either end leaves no space */
		g_strstrip(p->greeting);
	char *persona = sb_variables_render(p->persona_template, p->variables);
	g_free(p->system_prompt);
	p->system_prompt = g_strdup_printf(
	        "%s\nYou are on a live voice call: answer in one to three short spoken sentences, "
	        "no lists or markup. Use the transfer_to_human tool when the caller asks for a "
	        "person, "
	        "and end_call after saying goodbye.%s%s%s",
	        persona,
	        json_array_size(p->functions)
	                ? " Use the other tools to act on the caller's behalf; when a tool's "
	                  "result has a \"say\", say it as is."
	                : "",
	        p->facts ? "\nKnowledge base (JSON): " : "", p->facts ? p->facts : "");
	g_free(persona);
}
