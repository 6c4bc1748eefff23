/* The agent module's life and faces: the providers in force, the engines,
 * the agents that join rooms; the `agent` and `say` operations; the
 * agents' and providers' counters. */
#include <string.h>

#include <debug.h>

#include "agent/agent.h"
#include "agent/agent_private.h"
#include "api/api.h"
#include "core/core.h"
#include "embedded/embedded.h"
#include "menus/menus.h"
#include "providers/providers.h"
#include "tools/tools.h"

/* ---- what a room's agent config may say ---- */

/* A provider's or knowledge base's name: never a path, URL or config. */
static bool plain_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 64)
		return false;
	for (const char *c = s; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
			return false;
	return strcmp(s, ".") && strcmp(s, "..");
}

/* stt / llm / tts: a name, "a, b", or a list of names. */
static bool provider_names_ok(json_t *v, const char **bad)
{
	if (json_is_string(v)) {
		char **parts = g_strsplit_set(json_string_value(v), ",; ", -1);
		bool ok = true, any = false;
		for (char **p = parts; *p && ok; p++) {
			if (!**p)
				continue;
			any = true;
			ok = plain_name(*p);
		}
		g_strfreev(parts);
		if (!ok || !any)
			*bad = json_string_value(v);
		return ok && any;
	}
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 8)
		return false;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) if (!json_is_string(e) || !plain_name(json_string_value(e)))
	{
		*bad = json_is_string(e) ? json_string_value(e) : NULL;
		return false;
	}
	return true;
}

/* Milliseconds and counts: a whole number, as a number or a string. */
static bool whole_number(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= 3600000;
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) > 7)
		return false;
	for (const char *c = s; *c; c++)
		if (!g_ascii_isdigit(*c))
			return false;
	return true;
}

/* "tools": names of the business's tools ([agent] tools), never a URL:
 * the room's agent offers only those.  NULL, or the error to answer. */
static json_t *tool_names_error(json_t *v)
{
	sb_toolset *set = sb_tools_current();
	const char *bad = NULL;
	size_t i;
	json_t *name;
	bool ok = json_is_array(v) && json_array_size(v) <= 64;
	json_array_foreach(v, i, name) if (ok && !sb_toolset_find(set, json_string_value(name)))
	{
		ok = false;
		bad = json_string_value(name);
	}
	json_t *err = ok ? NULL
	                 : sb_ops_error(SB_ERROR_INVALID_ELEMENT,
	                                "Invalid agent config (tools: a list of the names [agent] "
	                                "tools declares%s%.64s)",
	                                bad ? "; not one of them: " : "", bad ? bad : "");
	sb_toolset_unref(set);
	return err;
}

/* A room's agent config (create's agent_config, agent's config) names
 * only what the configuration offers (docs/security.md): knowledge bases
 * by their [agent] knowledge_bases names, providers by name, never a file,
 * a URL or a provider's settings.  NULL, or the error to answer. */
static json_t *agent_config_error(json_t *config)
{
	static const struct {
		const char *key;
		size_t max; /* strings: longest; 0: a whole number */
	} texts[] = {{"name", SB_DISPLAY_MAX},
	             {"language", 16},
	             {"greeting", 2000},
	             {"persona", 4000},
	             {"apology", 1000},
	             {"vad_onset_ms", 0},
	             {"vad_voiced_ms", 0},
	             {"vad_hangover_ms", 0},
	             {"barge_in_onset_ms", 0},
	             {"barge_in_confirm_ms", 0},
	             {"barge_in_duck_db", 0},
	             {"turn_min_wait_ms", 0},
	             {"turn_max_wait_ms", 0},
	             {"first_output_timeout_ms", 0},
	             {"stt_first_output_timeout_ms", 0},
	             {"llm_first_output_timeout_ms", 0},
	             {"tts_first_output_timeout_ms", 0},
	             {"breaker_threshold", 0},
	             {"breaker_cooldown_ms", 0}};
	if (!json_is_object(config))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "The agent config must be an object");
	const char *key;
	json_t *v;
	json_object_foreach(config, key, v)
	{
		if (!strcmp(key, "stt") || !strcmp(key, "llm") || !strcmp(key, "tts")) {
			const char *bad = NULL;
			if (!provider_names_ok(v, &bad))
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid agent config (%s: provider names as [providers] "
				        "has them, never a URL, a path or settings%s%s)",
				        key, bad ? "; not a name: " : "", bad ? bad : "");
			continue;
		}
		if (!strcmp(key, "knowledge_base")) {
			sb_provider_snapshot *now = sb_providers_current();
			json_t *known = now ? json_object_get(now->agent, "knowledge_bases") : NULL;
			const char *name = json_string_value(v);
			bool ok = name && plain_name(name) &&
			          json_is_string(json_object_get(known, name));
			sb_provider_snapshot_unref(now);
			if (!ok)
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid agent config (knowledge_base: one of the names of "
				        "[agent] knowledge_bases, never a file)");
			continue;
		}
		if (!strcmp(key, "tools")) {
			json_t *err = tool_names_error(v);
			if (err)
				return err;
			continue;
		}
		if (!strcmp(key, "pre_call_tool")) {
			/* One of the configured tools, by name, like "tools". */
			sb_toolset *set = sb_tools_current();
			bool known =
			        json_is_string(v) && sb_toolset_find(set, json_string_value(v));
			sb_toolset_unref(set);
			if (!known)
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid agent config (pre_call_tool: the name of a "
				        "tool [agent] tools declares)");
			continue;
		}
		if (!strcmp(key, "menu")) {
			char *why = NULL;
			if (!sb_menu_check(v, true, &why)) {
				json_t *err = sb_ops_error(SB_ERROR_INVALID_ELEMENT,
				                           "Invalid agent config (menu: %s)", why);
				g_free(why);
				return err;
			}
			continue;
		}
		if (!strcmp(key, "gather_tool")) {
			if (!json_is_boolean(v))
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid agent config (gather_tool: true or false)");
			continue;
		}
		if (!strcmp(key, "follow_language")) {
			if (!json_is_boolean(v))
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid agent config (follow_language: true or false)");
			continue;
		}
		if (!strcmp(key, "languages")) {
			/* The languages a call may move to: ISO 639-1 codes or tags. */
			bool ok = json_is_array(v) && json_array_size(v) <= 32;
			size_t n;
			json_t *code;
			json_array_foreach(ok ? v : NULL, n, code)
			{
				const char *c = json_string_value(code);
				ok = ok && c && strlen(c) <= 16 && sb_language_code(c);
			}
			if (!ok)
				return sb_ops_error(
				        SB_ERROR_INVALID_ELEMENT,
				        "Invalid agent config (languages: up to 32 language "
				        "codes such as \"en\" or \"ar-SA\")");
			continue;
		}
		if (!strcmp(key, "end_call")) {
			const char *s = json_string_value(v);
			if (!s || (strcmp(s, "leave") && strcmp(s, "close_room")))
				return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
				                    "Invalid agent config (end_call: \"leave\" or "
				                    "\"close_room\")");
			continue;
		}
		if (!strcmp(key, "vad_voiced_ms") &&
		    ((json_is_integer(v) && json_integer_value(v) == -1) ||
		     !g_strcmp0(json_string_value(v), "-1")))
			continue; /* energy alone, as before the pitch gate */
		size_t i = 0;
		while (i < G_N_ELEMENTS(texts) && strcmp(texts[i].key, key))
			i++;
		if (i == G_N_ELEMENTS(texts))
			return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
			                    "Invalid agent config (unknown key %.64s)", key);
		bool ok = texts[i].max ? json_is_string(v) &&
		                                 strlen(json_string_value(v)) <= texts[i].max
		                       : whole_number(v);
		if (!ok && texts[i].max)
			return sb_ops_error(
			        SB_ERROR_INVALID_ELEMENT,
			        "Invalid agent config (%s: a string of at most %d characters)", key,
			        (int)texts[i].max);
		if (!ok)
			return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
			                    "Invalid agent config (%s: a whole number)", key);
	}
	return NULL;
}

/* ---- operations ---- */

/* The agent speaks the given text now. */
static json_t *op_say(json_t *body, sb_op_ctx *ctx)
{
	static const sb_field fields[] = {SB_OPS_ROOM_FIELD,
	                                  {"text", SB_F_STRING, true, 4000, 0},
	                                  SB_OPS_SECRET_FIELD,
	                                  {NULL, 0, 0, 0, 0}};
	json_t *err = sb_ops_check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = sb_ops_room(body, ctx, &room)))
		return err;
	const char *text = json_string_value(json_object_get(body, "text"));
	sb_error rc = *text ? sb_agent_say(room, text) : SB_ERROR_INVALID_ELEMENT;
	sb_room_unref(room);
	if (rc == SB_ERROR_INVALID_ELEMENT)
		return sb_ops_error(rc, "Invalid element (text is empty)");
	if (rc != SB_OK)
		return sb_ops_error(
		        rc, "The room has no agent right now (turn it on, and have someone join)");
	return sb_ops_answer("success");
}

/* Turns the room's AI agent on or off (the agent module acts on it). */
static json_t *op_agent(json_t *body, sb_op_ctx *ctx)
{
	static const sb_field fields[] = {SB_OPS_ROOM_FIELD,
	                                  {"enable", SB_F_BOOLEAN, true, 0, 0},
	                                  SB_OPS_SECRET_FIELD,
	                                  {NULL, 0, 0, 0, 0}};
	json_t *err = sb_ops_check_fields(body, fields);
	sb_room *room = NULL;
	if (err || (err = sb_ops_room(body, ctx, &room)))
		return err;
	json_t *config = json_object_get(body, "config");
	if (config && !json_is_object(config)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (config should be an object)");
	}
	json_t *variables = json_object_get(body, "variables");
	if (variables && !json_is_object(variables)) {
		sb_room_unref(room);
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element type (variables should be an object)");
	}
	/* A config names providers, a persona, a greeting: the operator's, or
	 * a stranger could make the agent ask callers for their card number.
	 * Variables reach the business's tools: the operator's too. */
	if ((config || variables) && !sb_op_by_operator(ctx)) {
		sb_room_unref(room);
		return sb_ops_error(
		        SB_ERROR_UNAUTHORIZED,
		        config ? "Unauthorized (an agent config is the operator's)"
		               : "Unauthorized (a call's variables are the operator's)");
	}
	if (config && (err = agent_config_error(config))) {
		sb_room_unref(room);
		return err;
	}
	bool enable = json_is_true(json_object_get(body, "enable"));
	/* A room without its agent gets none beyond [agent] max_agents. */
	if (enable && !sb_room_agent_enabled(room) && sb_agents_at_limit()) {
		sb_room_unref(room);
		return sb_ops_limit_error("agents", "Too many AI agents (max_agents = %d)",
		                          sb_agents_max());
	}
	/* Before the agent starts: its greeting may use them at once. */
	if (variables)
		sb_room_merge_variables(room, variables, "agent op");
	if (config)
		sb_room_set_agent_config(room, config);
	sb_agent_enable(room, enable);
	json_t *r = json_object();
	json_object_set_new(r, SB_EVENT_KEY, json_string("agent"));
	json_object_set_new(r, "room", json_string(room->name));
	json_object_set_new(r, "enabled", json_boolean(enable));
	json_t *ev = sb_room_event(room, "agent");
	json_object_set_new(ev, "enabled", json_boolean(enable));
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
	sb_events_publish("agent_toggled",
	                  json_pack("{sssb}", "room", room->name, "enabled", enable));
	sb_room_unref(room);
	return r;
}

static const sb_op agent_ops[] = {
        {"agent", op_agent, 0, SB_ACCESS_ROOM_ADMIN},
        {"say", op_say, 0, SB_ACCESS_ROOM_ADMIN},
};

/* ---- counters ---- */

static json_t *agent_stats(void)
{
	sb_agent_stats as;
	sb_agents_get_stats(&as);
	return json_pack("{sIsIsIsIsIsIsIsIsI}", "running", (json_int_t)as.agents, "turns",
	                 (json_int_t)as.turns, "barge_ins", (json_int_t)as.barge_ins, "ducks",
	                 (json_int_t)as.ducks, "ducks_resumed", (json_int_t)as.resumed,
	                 "backchannels", (json_int_t)as.backchannels, "failed_turns",
	                 (json_int_t)as.provider_errors, "frames_dropped",
	                 (json_int_t)as.frames_dropped, "language_switches",
	                 (json_int_t)as.language_switches);
}

static void agent_metrics(GString *out)
{
	sb_agent_stats as;
	sb_agents_get_stats(&as);
	sb_metrics_value(out, "switchboard_agents", "gauge", "AI agents in rooms now.",
	                 (long long)as.agents);
	sb_metrics_value(out, "switchboard_agent_turns_total", "counter",
	                 "Caller turns the agent answered.", (long long)as.turns);
	sb_metrics_value(out, "switchboard_agent_barge_ins_total", "counter",
	                 "Answers cut off by a caller.", (long long)as.barge_ins);
	/* Interruptions that mean it (agent.c): ducked, went on, backchannels. */
	const struct {
		const char *name, *help;
		uint64_t value;
	} interruptions[] = {
	        {"switchboard_agent_ducks_total",
	         "A caller's onset over the agent ducked its voice (a possible interruption).",
	         as.ducks},
	        {"switchboard_agent_ducks_resumed_total",
	         "Ducked, then went on: a backchannel, noise, or nothing recognised.", as.resumed},
	        {"switchboard_agent_language_switches_total",
	         "Conversations that moved to the caller's language.", as.language_switches},
	        {"switchboard_agent_backchannels_total",
	         "Backchannels (\"mm-hmm\", \"okay\") said over the agent: not answered, no "
	         "barge-in.",
	         as.backchannels},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(interruptions); i++)
		sb_metrics_value(out, interruptions[i].name, "counter", interruptions[i].help,
		                 (long long)interruptions[i].value);
	sb_metrics_value(out, "switchboard_agent_failed_turns_total", "counter",
	                 "Turns where every language model failed (the agent apologised).",
	                 (long long)as.provider_errors);
	sb_metrics_value(out, "switchboard_agent_pre_call_failures_total", "counter",
	                 "Pre-call tools that failed or timed out: the greeting went out with "
	                 "the defaults.",
	                 (long long)sb_pre_call_failures());
	sb_metrics_value(out, "switchboard_agent_frames_dropped_total", "counter",
	                 "Audio frames an agent could not keep up with.",
	                 (long long)as.frames_dropped);
	sb_metrics_value(out, "switchboard_embedded_stt_lm_passes_total", "counter",
	                 "Language-model passes of the embedded recogniser: speech its grammar "
	                 "could not explain, and numbers it checked.",
	                 (long long)sb_pocketsphinx_lm_passes());
	sb_metrics_value(out, "switchboard_agents_max", "gauge",
	                 "[agent] max_agents: AI agents allowed at once.",
	                 (long long)sb_agents_max());
	sb_metrics_value(out, "switchboard_transcript_lines_dropped_total", "counter",
	                 "Oldest transcript lines dropped to keep rooms within "
	                 "[agent] transcript_max_lines.",
	                 (long long)sb_rooms_transcript_dropped());
	sb_metrics_header(out, "switchboard_agent_tool_calls_total", "counter",
	                  "The agent's calls of the business's tools, by outcome.");
	for (int s = 0; s < SB_TOOL_STATUS_COUNT; s++)
		g_string_append_printf(out,
		                       "switchboard_agent_tool_calls_total{status=\"%s\"} %llu\n",
		                       sb_tool_status_name((sb_tool_status)s),
		                       sb_tool_outcomes((sb_tool_status)s));
	sb_turn_times_metrics(out);
}

/* Per provider: requests, failures, fallbacks, breaker state. */
static void provider_metrics(GString *out)
{
	json_t *chains = sb_chain_stats();
	static const char *counters[] = {"requests",  "successes", "failures", "timeouts",
	                                 "fallbacks", "skipped",   NULL};
	const char *kind, *provider;
	json_t *providers, *st;
	for (const char **c = counters; *c; c++) {
		char name[96];
		g_snprintf(name, sizeof(name), "switchboard_provider_%s_total", *c);
		sb_metrics_header(out, name, "counter",
		                  "Provider calls by kind and provider name.");
		json_object_foreach(chains, kind, providers)
		        json_object_foreach(providers, provider, st) g_string_append_printf(
		                out, "%s{kind=\"%s\",provider=\"%s\"} %lld\n", name, kind, provider,
		                (long long)json_integer_value(json_object_get(st, *c)));
	}
	sb_metrics_header(out, "switchboard_provider_breaker_open", "gauge",
	                  "1 while a provider's circuit breaker is open.");
	json_object_foreach(chains, kind, providers)
	{
		json_object_foreach(providers, provider, st)
		{
			const char *state = json_string_value(json_object_get(st, "breaker"));
			g_string_append_printf(out,
			                       "switchboard_provider_breaker_open{kind=\"%s\","
			                       "provider=\"%s\"} %d\n",
			                       kind, provider,
			                       state && strcmp(state, "closed") != 0);
		}
	}
	json_decref(chains);
}

/* ---- module ---- */

bool sb_agent_module_start(const sb_settings *settings)
{
	if (!sb_reload_init(settings))
		JANUS_LOG(LOG_ERR,
		          "[switchboard] agent providers could not be set up: no AI agent\n");
	sb_agents_init();
	sb_agents_set_max((int)sb_section_int(settings->agent, "max_agents", 50, 0, 100000));
	sb_ops_register(agent_ops, G_N_ELEMENTS(agent_ops));
	sb_ops_register_agent_config_check(agent_config_error);
	sb_ops_register_stats("agents", agent_stats);
	sb_metrics_register("agents", agent_metrics);
	sb_metrics_register("providers", provider_metrics);
	return true;
}

void sb_agent_module_finish(void)
{
	sb_agents_deinit();
	sb_tools_set_current(NULL); /* every agent is gone: nobody holds it */
}
