/* Provider configs from the [providers] section and the environment
 * (providers.h, "config").  A table of the known types says what each
 * needs and defaults to (kinds, base URL, key variable, models, voices),
 * so that a well-known name works with nothing configured and a cloud
 * provider without a key is disabled with a reason rather than failing
 * later, in a call. */
#include "providers/providers.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "providers/providers_private.h"

#define KIND_BIT(k) (1u << (k))
#define ALL_KINDS (KIND_BIT(SB_KIND_STT) | KIND_BIT(SB_KIND_LLM) | KIND_BIT(SB_KIND_TTS))

/* What each implementation type needs and defaults to. */
typedef struct type_info {
	const char *type;
	unsigned kinds;
	const char *base_url;
	const char *env; /* the usual key variable; NULL: no key */
	bool key_required;
	sb_provider_kind model_kind; /* the kind a plain "model" is for */
	const char *model[SB_KIND_COUNT];
	const char *voice[SB_KIND_COUNT];
} type_info;

static const type_info types[] = {
        {"openai",
         ALL_KINDS,
         "https://api.openai.com/v1",
         "OPENAI_API_KEY",
         true,
         SB_KIND_LLM,
         {"whisper-1", "gpt-4o-mini", "gpt-4o-mini-tts"},
         {NULL, NULL, "alloy"}},
        {"anthropic",
         KIND_BIT(SB_KIND_LLM),
         "https://api.anthropic.com/v1",
         "ANTHROPIC_API_KEY",
         true,
         SB_KIND_LLM,
         {NULL, "claude-haiku-4-5", NULL},
         {NULL, NULL, NULL}},
        {"deepgram",
         KIND_BIT(SB_KIND_STT),
         "wss://api.deepgram.com/v1",
         "DEEPGRAM_API_KEY",
         true,
         SB_KIND_STT,
         {"nova-3", NULL, NULL},
         {NULL, NULL, NULL}},
        {"elevenlabs",
         KIND_BIT(SB_KIND_TTS),
         "https://api.elevenlabs.io/v1",
         "ELEVENLABS_API_KEY",
         true,
         SB_KIND_TTS,
         {NULL, NULL, "eleven_multilingual_v2"},
         {NULL, NULL, "21m00Tcm4TlvDq8ikWAM"}},
        {"pocketsphinx", KIND_BIT(SB_KIND_STT), NULL, NULL, false, SB_KIND_STT, {NULL}, {NULL}},
        {"local", KIND_BIT(SB_KIND_LLM), NULL, NULL, false, SB_KIND_LLM, {NULL}, {NULL}},
        {"espeak-ng", KIND_BIT(SB_KIND_TTS), NULL, NULL, false, SB_KIND_TTS, {NULL}, {NULL}},
};

/* Well-known names that are another type with other defaults. */
typedef struct preset {
	const char *name;
	const char *type;
	unsigned kinds;
	const char *base_url;
	bool key_required;
	const char *model[SB_KIND_COUNT];
} preset;

static const preset presets[] = {
        {"groq",
         "openai",
         KIND_BIT(SB_KIND_STT) | KIND_BIT(SB_KIND_LLM),
         "https://api.groq.com/openai/v1",
         true,
         {"whisper-large-v3-turbo", "llama-3.1-8b-instant", NULL}},
        {"ollama",
         "openai",
         KIND_BIT(SB_KIND_LLM),
         "http://127.0.0.1:11434/v1",
         false,
         {NULL, "llama3.2", NULL}},
};

#define DEFAULT_TIMEOUT_MS 10000

typedef struct entry {
	char *name;
	char *type;
	json_t *obj;
	char *api_key;
	char *base_url[SB_KIND_COUNT];
	char *model[SB_KIND_COUNT];
	char *voice[SB_KIND_COUNT];
	char *language[SB_KIND_COUNT];
	sb_provider_config cfg[SB_KIND_COUNT];
	unsigned kinds;
	bool enabled;
	char *reason;
	bool logged;
} entry;

struct sb_provider_set {
	GMutex lock;
	GHashTable *entries; /* name -> entry */
};

const char *sb_provider_kind_name(sb_provider_kind kind)
{
	switch (kind) {
	case SB_KIND_STT:
		return "stt";
	case SB_KIND_LLM:
		return "llm";
	case SB_KIND_TTS:
		return "tts";
	}
	return "?";
}

static const type_info *find_type(const char *type)
{
	for (size_t i = 0; type && i < G_N_ELEMENTS(types); i++)
		if (strcmp(types[i].type, type) == 0)
			return &types[i];
	return NULL;
}

static const preset *find_preset(const char *name)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(presets); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

/* A value from the provider's object: a non-empty string (or a number,
 * as text).  g_free. */
static char *obj_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v) && *json_string_value(v))
		return g_strdup(json_string_value(v));
	if (json_is_integer(v))
		return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return NULL;
}

static char *kind_str(json_t *obj, sb_provider_kind kind, const char *key, bool plain)
{
	char *k = g_strdup_printf("%s_%s", sb_provider_kind_name(kind), key);
	char *v = obj_str(obj, k);
	g_free(k);
	if (!v && plain)
		v = obj_str(obj, key);
	return v;
}

static int parse_int(const char *s, int def)
{
	if (!s)
		return def;
	char *end = NULL;
	long n = strtol(s, &end, 10);
	return end != s && *end == '\0' && n > 0 && n < 3600000 ? (int)n : def;
}

static char *env_key(const char *var)
{
	const char *v = var ? g_getenv(var) : NULL;
	return v && *v ? g_strdup(v) : NULL;
}

static char *name_env_var(const char *name)
{
	GString *s = g_string_new(NULL);
	for (const char *p = name; *p; p++)
		g_string_append_c(s, g_ascii_isalnum(*p) ? g_ascii_toupper(*p) : '_');
	g_string_append(s, "_API_KEY");
	return g_string_free(s, FALSE);
}

static bool parse_bool(const char *s, bool def)
{
	if (!s)
		return def;
	if (!g_ascii_strcasecmp(s, "true") || !strcmp(s, "1") || !g_ascii_strcasecmp(s, "yes"))
		return true;
	if (!g_ascii_strcasecmp(s, "false") || !strcmp(s, "0") || !g_ascii_strcasecmp(s, "no"))
		return false;
	return def;
}

static void entry_free(gpointer data)
{
	entry *e = data;
	g_free(e->name);
	g_free(e->type);
	json_decref(e->obj);
	g_free(e->api_key);
	for (int k = 0; k < SB_KIND_COUNT; k++) {
		g_free(e->base_url[k]);
		g_free(e->model[k]);
		g_free(e->voice[k]);
		g_free(e->language[k]);
	}
	g_free(e->reason);
	g_free(e);
}

static entry *entry_new(const char *name, json_t *obj)
{
	entry *e = g_new0(entry, 1);
	e->name = g_strdup(name);
	e->obj = obj ? json_incref(obj) : json_object();
	const preset *pre = find_preset(name);
	char *type = obj_str(e->obj, "type");
	if (!type)
		type = g_strdup(pre ? pre->type : name);
	e->type = type;
	const type_info *ti = find_type(type);
	if (!ti) {
		e->reason = g_strdup_printf("unknown type \"%s\"", type);
		return e;
	}
	/* A preset applies when the name is the preset's and the type agrees. */
	if (pre && strcmp(pre->type, type) != 0)
		pre = NULL;
	e->kinds = pre ? pre->kinds : ti->kinds;
	const char *default_base = pre ? pre->base_url : ti->base_url;
	char *base = obj_str(e->obj, "base_url");
	bool custom_base = base && (!default_base || strcmp(base, default_base) != 0);

	/* The key: configured, a named variable, <NAME>_API_KEY, or the type's
	 * usual variable when talking to the vendor itself. */
	e->api_key = obj_str(e->obj, "api_key");
	if (!e->api_key) {
		char *var = obj_str(e->obj, "api_key_env");
		e->api_key = env_key(var);
		g_free(var);
	}
	char *name_var = name_env_var(name);
	if (!e->api_key)
		e->api_key = env_key(name_var);
	if (!e->api_key && ti->env && !pre && !custom_base)
		e->api_key = env_key(ti->env);
	bool required = (pre ? pre->key_required : ti->key_required) && !custom_base;
	char *req = obj_str(e->obj, "require_key");
	required = parse_bool(req, required);
	g_free(req);
	if (required && !e->api_key) {
		e->reason = g_strdup_printf("no API key (set api_key in [providers.%s] or %s)",
		                            name, name_var);
		g_free(name_var);
		g_free(base);
		return e;
	}
	g_free(name_var);

	char *timeout = obj_str(e->obj, "timeout_ms");
	int timeout_ms = parse_int(timeout, DEFAULT_TIMEOUT_MS);
	g_free(timeout);
	for (int k = 0; k < SB_KIND_COUNT; k++) {
		if (!(e->kinds & KIND_BIT(k)))
			continue;
		e->base_url[k] = kind_str(e->obj, (sb_provider_kind)k, "base_url", false);
		if (!e->base_url[k])
			e->base_url[k] = g_strdup(base ? base : default_base);
		e->model[k] =
		        kind_str(e->obj, (sb_provider_kind)k, "model", (int)ti->model_kind == k);
		if (!e->model[k])
			e->model[k] = g_strdup(pre && pre->model[k] ? pre->model[k] : ti->model[k]);
		e->voice[k] = kind_str(e->obj, (sb_provider_kind)k, "voice", true);
		if (!e->voice[k])
			e->voice[k] = g_strdup(ti->voice[k]);
		e->language[k] = kind_str(e->obj, (sb_provider_kind)k, "language", true);
		char *kt = kind_str(e->obj, (sb_provider_kind)k, "timeout_ms", false);
		sb_provider_config *c = &e->cfg[k];
		c->name = e->name;
		c->type = e->type;
		c->api_key = e->api_key;
		c->base_url = e->base_url[k];
		c->model = e->model[k];
		c->voice = e->voice[k];
		c->language = e->language[k];
		c->timeout_ms = parse_int(kt, timeout_ms);
		c->extra = e->obj;
		g_free(kt);
	}
	g_free(base);
	e->enabled = true;
	return e;
}

static bool well_known(const char *name)
{
	return find_type(name) || find_preset(name);
}

sb_provider_set *sb_provider_set_new(json_t *providers)
{
	sb_provider_set *set = g_new0(sb_provider_set, 1);
	g_mutex_init(&set->lock);
	set->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
	const char *name;
	json_t *obj;
	if (json_is_object(providers)) {
		json_object_foreach(providers, name, obj)
		{
			if (!json_is_object(obj)) {
				g_warning("providers: [%s] is not a section, ignored", name);
				continue;
			}
			entry *e = entry_new(name, obj);
			if (!e->enabled) {
				g_warning("providers: %s disabled: %s", name, e->reason);
				e->logged = true;
			}
			g_hash_table_replace(set->entries, e->name, e);
		}
	}
	return set;
}

void sb_provider_set_free(sb_provider_set *set)
{
	if (!set)
		return;
	g_hash_table_destroy(set->entries);
	g_mutex_clear(&set->lock);
	g_free(set);
}

static entry *lookup(sb_provider_set *set, const char *name)
{
	entry *e = g_hash_table_lookup(set->entries, name);
	if (!e && well_known(name)) {
		e = entry_new(name, NULL);
		g_hash_table_replace(set->entries, e->name, e);
	}
	return e;
}

const sb_provider_config *sb_provider_set_get(sb_provider_set *set, sb_provider_kind kind,
                                              const char *name, const char **why)
{
	const char *reason = NULL;
	const sb_provider_config *cfg = NULL;
	if (why)
		*why = NULL;
	if (!set || !name || (int)kind < 0 || kind >= SB_KIND_COUNT)
		return NULL;
	g_mutex_lock(&set->lock);
	entry *e = lookup(set, name);
	if (!e) {
		reason = "unknown provider";
	} else if (!e->enabled) {
		reason = e->reason;
		if (!e->logged) {
			g_warning("providers: %s disabled: %s", name, e->reason);
			e->logged = true;
		}
	} else if (!(e->kinds & KIND_BIT(kind))) {
		reason = "does not do this kind";
	} else {
		cfg = &e->cfg[kind];
	}
	g_mutex_unlock(&set->lock);
	if (why)
		*why = reason;
	return cfg;
}

json_t *sb_provider_set_describe(sb_provider_set *set)
{
	json_t *out = json_array();
	g_mutex_lock(&set->lock);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, set->entries);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		entry *e = value;
		json_t *kinds = json_array();
		for (int k = 0; k < SB_KIND_COUNT; k++)
			if (e->kinds & KIND_BIT(k))
				json_array_append_new(kinds, json_string(sb_provider_kind_name(k)));
		json_t *o = json_pack("{s:s, s:s, s:o, s:b}", "name", e->name, "type", e->type,
		                      "kinds", kinds, "enabled", e->enabled);
		for (int k = 0; k < SB_KIND_COUNT; k++)
			if (e->base_url[k]) {
				json_object_set_new(o, "base_url", json_string(e->base_url[k]));
				break;
			}
		if (e->reason)
			json_object_set_new(o, "reason", json_string(e->reason));
		json_array_append_new(out, o);
	}
	g_mutex_unlock(&set->lock);
	return out;
}

sb_provider_config *sb_provider_config_copy(const sb_provider_config *cfg)
{
	sb_provider_config *c = g_new0(sb_provider_config, 1);
	c->name = g_strdup(cfg->name);
	c->type = g_strdup(cfg->type);
	c->api_key = g_strdup(cfg->api_key);
	c->base_url = g_strdup(cfg->base_url);
	c->model = g_strdup(cfg->model);
	c->voice = g_strdup(cfg->voice);
	c->language = g_strdup(cfg->language);
	c->timeout_ms = cfg->timeout_ms;
	c->extra = cfg->extra ? json_incref(cfg->extra) : NULL;
	return c;
}

void sb_provider_config_free(sb_provider_config *c)
{
	if (!c)
		return;
	g_free((char *)c->name);
	g_free((char *)c->type);
	g_free((char *)c->api_key);
	g_free((char *)c->base_url);
	g_free((char *)c->model);
	g_free((char *)c->voice);
	g_free((char *)c->language);
	json_decref(c->extra);
	g_free(c);
}
