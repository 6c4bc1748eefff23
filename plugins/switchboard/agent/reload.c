/* The provider configuration in force: put in force at start-up, and the
 * admin ops that change it without a restart (reload_kb, reload_providers).
 * Calls in progress keep what they started with. */
#include "agent/agent.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"
#include "embedded/embedded.h"
#include "menus/menus.h"
#include "providers/providers.h"
#include "tools/tools.h"

static char *config_folder; /* where the plugin read its config file */

/* The knowledge base the [agent] section names (or the embedded one),
 * parsed; NULL with *error when it cannot be read.  *path: which file. */
static json_t *load_knowledge(json_t *agent, char **path, char **error)
{
	const char *configured = json_string_value(json_object_get(agent, "knowledge_base"));
	*path = g_strdup(configured && *configured ? configured : sb_kb_default_path());
	return sb_kb_load(*path, error);
}

/* [agent] menu: a gather (menus/menus.h) written in the section, or the
 * path of a JSON file holding one; put in agent as the checked object.
 * False with *error (g_free) when it cannot be read or is not a gather:
 * then agent has no menu. */
static bool resolve_menu(json_t *agent, char **error)
{
	json_t *menu = json_object_get(agent, "menu");
	const char *path = json_string_value(menu);
	json_t *parsed = NULL;
	if (!menu || (path && !*path)) {
		json_object_del(agent, "menu");
		return true;
	}
	if (path) {
		json_error_t e;
		parsed = json_load_file(path, 0, &e);
		if (!parsed) {
			*error = g_strdup_printf("[agent] menu: %s: %s", path, e.text);
			json_object_del(agent, "menu");
			return false;
		}
	} else {
		parsed = json_incref(menu);
	}
	char *why = NULL;
	if (!sb_menu_check(parsed, true, &why)) {
		*error = g_strdup_printf("[agent] menu: %s", why);
		g_free(why);
		json_decref(parsed);
		json_object_del(agent, "menu");
		return false;
	}
	json_object_set_new(agent, "menu", parsed);
	return true;
}

/* A snapshot of these sections with their knowledge base (an unreadable
 * one is logged: the agent then has none, as before a reload).  A menu
 * that cannot be used is left out, and said in *menu_error (g_free). */
static sb_provider_snapshot *snapshot_of(json_t *providers, json_t *agent_section,
                                         char **menu_error)
{
	char *path = NULL, *error = NULL;
	json_t *agent = json_deep_copy(agent_section);
	resolve_menu(agent, menu_error);
	json_t *kb = load_knowledge(agent, &path, &error);
	if (!kb)
		JANUS_LOG(LOG_WARN, "[switchboard] knowledge base %s: %s\n", path,
		          error ? error : "?");
	sb_provider_snapshot *s = sb_provider_snapshot_new(providers, agent, kb);
	json_decref(agent);
	json_decref(kb);
	g_free(path);
	g_free(error);
	return s;
}

/* The business's tools the [agent] section names (tools = "/path"): each
 * bad entry is logged and skipped; an unreadable file gives none. */
static sb_toolset *load_tools(json_t *agent)
{
	const char *path = json_string_value(json_object_get(agent, "tools"));
	if (!path || !*path)
		return NULL;
	char *error = NULL;
	sb_toolset *set = sb_toolset_load(path, NULL, &error);
	if (!set)
		JANUS_LOG(LOG_ERR, "[switchboard] tools: %s: the agent has none\n", error);
	else
		JANUS_LOG(LOG_INFO, "[switchboard] tools: %zu loaded from %s\n",
		          sb_toolset_size(set), path);
	g_free(error);
	return set;
}

static void put_tools_in_force(json_t *agent)
{
	sb_toolset *set = load_tools(agent);
	/* A pre-call tool that is not declared is said at once, not at the
	 * first call (where it only counts as a failure).  An MCP server's
	 * (<server>__<tool>) is listed later, off this path: not said here. */
	const char *pre_call = json_string_value(json_object_get(agent, "pre_call_tool"));
	if (pre_call && *pre_call && !sb_toolset_find(set, pre_call) && !strstr(pre_call, "__"))
		JANUS_LOG(LOG_ERR,
		          "[switchboard] agent: pre_call_tool \"%.64s\" is not one of [agent] "
		          "tools: calls are greeted without it\n",
		          pre_call);
	sb_tools_set_current(set);
	sb_toolset_unref(set);
	/* Listed on net's HTTP thread: their tools join when they answer. */
	sb_mcp_configure(json_object_get(agent, "mcp_servers"));
}

/* reload_kb: reads and checks the agent's knowledge base again; agents and
 * dialogs that start from now on, and the local model's next answers, use
 * it.  A broken file changes nothing and says what is wrong. */
static json_t *op_reload_kb(json_t *body, sb_op_ctx *ctx)
{
	(void)body, (void)ctx;
	sb_provider_snapshot *now = sb_providers_current();
	if (!now)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Providers are not set up");
	char *path = NULL, *error = NULL;
	json_t *kb = load_knowledge(now->agent, &path, &error);
	json_t *r;
	if (!kb) {
		r = sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Knowledge base not reloaded: %s",
		                 error ? error : "?");
	} else {
		sb_provider_snapshot *fresh =
		        sb_provider_snapshot_new(now->providers, now->agent, kb);
		if (fresh)
			sb_providers_current_set(fresh);
		sb_provider_snapshot_unref(fresh);
		sb_llm_local_forget_kb();
		r = json_pack("{sssssisi}", "switchboard", "success", "knowledge_base", path,
		              "intents", (int)json_array_size(json_object_get(kb, "intents")),
		              "faqs", (int)json_array_size(json_object_get(kb, "faqs")));
		JANUS_LOG(LOG_INFO, "[switchboard] knowledge base %s reloaded\n", path);
	}
	sb_provider_snapshot_unref(now);
	json_decref(kb);
	g_free(path);
	g_free(error);
	return r;
}

/* Whether the agent's chain of one kind can be built from the snapshot:
 * some provider of its list is known and enabled. */
static bool chain_buildable(sb_provider_snapshot *s, const char *kind, char **error)
{
	json_t *list = sb_agent_chain_names(s->agent, kind);
	char *why = NULL;
	bool ok = false;
	if (!strcmp(kind, "stt")) {
		sb_stt_chain *c = sb_stt_chain_build(s->set, list, NULL, &why);
		ok = c != NULL;
		if (c)
			sb_stt_chain_free(c);
	} else if (!strcmp(kind, "llm")) {
		sb_llm_chain *c = sb_llm_chain_build(s->set, list, NULL, &why);
		ok = c != NULL;
		if (c)
			sb_llm_chain_free(c);
	} else {
		sb_tts_chain *c = sb_tts_chain_build(s->set, list, NULL, &why);
		ok = c != NULL;
		if (c)
			sb_tts_chain_free(c);
	}
	json_decref(list);
	if (!ok)
		*error = g_strdup_printf("no usable %s provider: %s", kind, why ? why : "?");
	g_free(why);
	return ok;
}

/* reload_providers: reads the config file again and puts its [providers]
 * and [agent] sections in force (keys, models, base URLs, the agent's
 * chains, persona, auto_join).  Calls in progress keep their providers.
 * A file whose agent could not start changes nothing. */
static json_t *op_reload_providers(json_t *body, sb_op_ctx *ctx)
{
	(void)body, (void)ctx;
	const char *folder = config_folder;
	sb_settings *fresh = sb_settings_load(folder);
	if (!fresh)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Out of memory");
	char *menu_error = NULL;
	sb_provider_snapshot *candidate = snapshot_of(fresh->providers, fresh->agent, &menu_error);
	sb_settings_free(fresh);
	if (menu_error) {
		json_t *r = sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Providers not reloaded: %s",
		                         menu_error);
		g_free(menu_error);
		sb_provider_snapshot_unref(candidate);
		return r;
	}
	if (!candidate)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Out of memory");
	static const char *const kinds[] = {"stt", "llm", "tts"};
	json_t *chains = json_object();
	char *error = NULL;
	for (size_t k = 0; k < G_N_ELEMENTS(kinds) && !error; k++)
		if (chain_buildable(candidate, kinds[k], &error))
			json_object_set_new(chains, kinds[k],
			                    sb_agent_chain_names(candidate->agent, kinds[k]));
	if (error) {
		json_t *r =
		        sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Providers not reloaded: %s", error);
		g_free(error);
		json_decref(chains);
		sb_provider_snapshot_unref(candidate);
		return r;
	}
	sb_providers_current_set(candidate);
	put_tools_in_force(candidate->agent);
	json_t *r = json_pack("{sssoso}", "switchboard", "success", "providers",
	                      sb_provider_set_describe(candidate->set), "chains", chains);
	sb_provider_snapshot_unref(candidate);
	JANUS_LOG(LOG_INFO, "[switchboard] provider config reloaded from %s\n",
	          folder ? folder : "(defaults)");
	return r;
}

static const sb_op ops[] = {
        {"reload_kb", op_reload_kb, 0, SB_ACCESS_OPERATOR},
        {"reload_providers", op_reload_providers, 0, SB_ACCESS_OPERATOR},
};

bool sb_reload_init(const sb_settings *settings)
{
	g_free(config_folder);
	config_folder = g_strdup(settings->config_folder);
	sb_ops_register(ops, G_N_ELEMENTS(ops));
	char *menu_error = NULL;
	sb_provider_snapshot *first =
	        snapshot_of(settings->providers, settings->agent, &menu_error);
	if (menu_error) {
		JANUS_LOG(LOG_ERR, "[switchboard] %s: calls start without a menu\n", menu_error);
		g_free(menu_error);
	}
	if (!first)
		return false;
	sb_providers_current_set(first);
	put_tools_in_force(first->agent);
	sb_provider_snapshot_unref(first);
	return true;
}
