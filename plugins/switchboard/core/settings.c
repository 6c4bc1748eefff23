/* The plugin's configuration: defaults, then the file, then the
 * environment, each value checked as it is read (a bad one is logged and
 * the default kept).  All writing happens here, before the settings are
 * shared; afterwards they are read-only, so no reader takes a lock. */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

#include <config.h> /* Janus config parser */
#include <debug.h>
#include <utils.h>

/* The build sets it to $(pkgdatadir): an installed plugin knows no path
 * into the tree it was built from. */
#ifndef SB_DATA_DIR
#define SB_DATA_DIR "/usr/local/share/switchboard"
#endif

static void load_general(sb_settings *cfg, janus_config *jc);
static void load_environment(sb_settings *cfg);

const sb_settings *sb_plugin_settings;

bool sb_room_name_valid(const char *name)
{
	if (!name || !*name || strlen(name) > SB_ROOM_NAME_MAX)
		return false;
	for (const char *c = name; *c; c++) {
		if (!g_ascii_isalnum(*c) && *c != '.' && *c != '_' && *c != '-')
			return false;
	}
	return true;
}

static void room_config_free(gpointer data)
{
	sb_room_config *rc = data;
	g_free(rc->name);
	g_free(rc->description);
	g_free(rc->secret);
	g_free(rc->pin);
	g_free(rc);
}

static const char *item(janus_config *jc, janus_config_category *cat, const char *name)
{
	janus_config_item *it = janus_config_get(jc, cat, janus_config_type_item, name);
	return it && it->value ? it->value : NULL;
}

static int int_item(janus_config *jc, janus_config_category *cat, const char *name, int def,
                    int min, int max)
{
	const char *v = item(jc, cat, name);
	if (!v)
		return def;
	char *end = NULL;
	long n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < min || n > max) {
		JANUS_LOG(LOG_WARN, "[switchboard] %s = \"%s\" is not in %d..%d, using %d\n", name,
		          v, min, max, def);
		return def;
	}
	return (int)n;
}

static bool bool_item(janus_config *jc, janus_config_category *cat, const char *name, bool def)
{
	const char *v = item(jc, cat, name);
	return v ? janus_is_true(v) : def;
}

static sb_echo_rooms echo_rooms_item(janus_config *jc, janus_config_category *cat,
                                     sb_echo_rooms def)
{
	const char *v = item(jc, cat, "echo_cancellation");
	if (!v)
		return def;
	if (!strcmp(v, "agent"))
		return SB_ECHO_ROOMS_AGENT;
	if (!strcmp(v, "all"))
		return SB_ECHO_ROOMS_ALL;
	if (!strcmp(v, "off") || !strcmp(v, "false"))
		return SB_ECHO_ROOMS_NONE;
	JANUS_LOG(LOG_WARN,
	          "[switchboard] echo_cancellation = \"%s\" is not agent, all or off: %s\n", v,
	          def == SB_ECHO_ROOMS_ALL     ? "all"
	          : def == SB_ECHO_ROOMS_AGENT ? "agent"
	                                       : "off");
	return def;
}

/* "phone, web", "all", or "off" / "" for none. */
static void interfaces_item(janus_config *jc, janus_config_category *cat, const char *name,
                            char ***list)
{
	const char *v = item(jc, cat, name);
	if (!v)
		return;
	g_strfreev(*list);
	*list = NULL;
	char **parts = g_strsplit_set(v, ", ", -1);
	GPtrArray *kept = g_ptr_array_new();
	for (char **p = parts; *p; p++)
		if (**p && strcmp(*p, "off") && strcmp(*p, "false") && strcmp(*p, "none"))
			g_ptr_array_add(kept, g_strdup(*p));
	g_strfreev(parts);
	if (kept->len == 0) {
		g_ptr_array_free(kept, TRUE);
		return;
	}
	g_ptr_array_add(kept, NULL);
	*list = (char **)g_ptr_array_free(kept, FALSE);
}

bool sb_settings_names(char *const *list, const char *interface)
{
	for (; list && *list; list++)
		if (!strcmp(*list, "all") || !g_strcmp0(*list, interface))
			return true;
	return false;
}

static int rate_item(janus_config *jc, janus_config_category *cat, int def)
{
	int rate = int_item(jc, cat, "sampling_rate", def, 8000, 48000);
	if (rate != 16000 && rate != 48000) {
		JANUS_LOG(LOG_WARN, "[switchboard] sampling_rate %d unsupported, using %d\n", rate,
		          def);
		return def;
	}
	return rate;
}

static void parse_port_range(sb_settings *cfg, const char *range)
{
	unsigned lo = 0, hi = 0;
	if (range && sscanf(range, "%u-%u", &lo, &hi) == 2 && lo > 0 && lo <= hi && hi <= 65535) {
		cfg->rtp_port_min = (uint16_t)lo;
		cfg->rtp_port_max = (uint16_t)hi;
	} else if (range) {
		JANUS_LOG(LOG_WARN, "[switchboard] rtp_port_range \"%s\" invalid, using %u-%u\n",
		          range, cfg->rtp_port_min, cfg->rtp_port_max);
	}
}

/* Sections that are not rooms: ours, and the feature modules'. */
static const char *const non_room_sections[] = {
        "general",  "http",    "auth",      "agent",    "providers", "sip",      "twilio",
        "whatsapp", "store",   "recording", "transfer", "phone",     "security", "console",
        "video",    "livekit", "webhooks",  "analysis", "cluster"};

static bool is_room_section(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(non_room_sections); i++)
		if (!strcmp(name, non_room_sections[i]))
			return false;
	return true;
}

static void load_rooms(sb_settings *cfg, janus_config *jc)
{
	GList *cats = janus_config_get_categories(jc, NULL);
	for (GList *l = cats; l; l = l->next) {
		janus_config_category *cat = l->data;
		if (!cat->name || !is_room_section(cat->name))
			continue;
		const char *name = item(jc, cat, "room");
		if (!name && g_str_has_prefix(cat->name, "room-"))
			name = cat->name + 5;
		if (!name || !sb_room_name_valid(name)) {
			JANUS_LOG(LOG_ERR,
			          "[switchboard] config: room \"%s\" has no valid name, skipped\n",
			          cat->name);
			continue;
		}
		sb_room_config *rc = g_new0(sb_room_config, 1);
		rc->name = g_strdup(name);
		rc->description = g_strdup(item(jc, cat, "description"));
		rc->secret = g_strdup(item(jc, cat, "secret"));
		rc->pin = g_strdup(item(jc, cat, "pin"));
		rc->sampling_rate = rate_item(jc, cat, cfg->sampling_rate);
		g_ptr_array_add(cfg->rooms, rc);
	}
	g_list_free(cats);
}

sb_settings *sb_settings_load(const char *folder)
{
	sb_settings *cfg = g_new0(sb_settings, 1);
	cfg->config_folder = g_strdup(folder);
	cfg->sampling_rate = 48000;
	cfg->mixer_threads = 0;
	cfg->ephemeral_rooms = true;
	cfg->auto_create = false;
	cfg->talking_level_threshold = 45;
	cfg->talking_window = 10;
	cfg->silence_level = 70;
	cfg->jitter_min_frames = 1;
	cfg->jitter_max_frames = 10;
	cfg->opus_complexity = 10;
	cfg->opus_bitrate = 32000;
	cfg->opus_fec = true;
	cfg->echo_cancellation = SB_ECHO_ROOMS_NONE;
	cfg->echo_tail_ms = 400;
	cfg->noise_suppress_db = 15;
	cfg->rtp_ip = g_strdup("127.0.0.1");
	cfg->rtp_port_min = 40000;
	cfg->rtp_port_max = 40999;
	cfg->max_participants = 64;
	cfg->max_rooms = 10000;
	cfg->rooms = g_ptr_array_new_with_free_func(room_config_free);
	cfg->http_enabled = true;
	cfg->http_ip = g_strdup("127.0.0.1");
	cfg->http_port = 8080;
	/* A default, not an override: a checkout's Janus (janus-private.sh)
	 * points at its html/ this way, and a config's html_folder still wins. */
	const char *html = g_getenv("SWITCHBOARD_HTML_FOLDER");
	cfg->html_folder = g_strdup(html && *html ? html : SB_DATA_DIR "/html");
	cfg->janus_js = g_strdup("/usr/share/javascript/janus-gateway/janus.js");
	cfg->http_max_body = 65536;
	cfg->token_ttl = 3600;
	cfg->agent = json_object();
	cfg->providers = json_object();
	cfg->sections = json_pack("{s{}}", "__empty__");

	if (folder) {
		char *path = g_strdup_printf("%s/%s.jcfg", folder, SB_PLUGIN_PACKAGE);
		janus_config *jc = janus_config_parse(path);
		if (jc) {
			load_general(cfg, jc);
			load_rooms(cfg, jc);
			janus_config_destroy(jc);
		} else {
			JANUS_LOG(LOG_WARN, "[switchboard] no config at %s, using defaults\n",
			          path);
		}
		g_free(path);
	}
	load_environment(cfg);
	return cfg;
}

/* A config container as JSON: categories become objects, arrays arrays,
 * items strings. */
static json_t *container_to_json(janus_config_container *c)
{
	if (c->type == janus_config_type_item)
		return json_string(c->value ? c->value : "");
	json_t *out = c->type == janus_config_type_array ? json_array() : json_object();
	for (GList *l = c->list; l; l = l->next) {
		janus_config_container *child = l->data;
		json_t *v = container_to_json(child);
		if (json_is_array(out))
			json_array_append_new(out, v);
		else if (child->name)
			json_object_set_new(out, child->name, v);
		else
			json_decref(v);
	}
	return out;
}

static json_t *section_json(janus_config *jc, const char *name)
{
	janus_config_category *cat = janus_config_get(jc, NULL, janus_config_type_category, name);
	return cat ? container_to_json(cat) : json_object();
}

static void replace_string(char **field, const char *value)
{
	if (!value)
		return;
	g_free(*field);
	*field = g_strdup(value);
}

static void load_environment(sb_settings *cfg)
{
	/* Secrets are better kept out of config files. */
	const char *key = g_getenv("SWITCHBOARD_API_KEY");
	if (key && *key)
		replace_string(&cfg->api_key, key);
	const char *secret = g_getenv("SWITCHBOARD_JWT_SECRET");
	if (secret && *secret)
		replace_string(&cfg->jwt_secret, secret);
	const char *port = g_getenv("SWITCHBOARD_HTTP_PORT");
	if (port && *port) {
		int p = atoi(port);
		if (p > 0 && p < 65536)
			cfg->http_port = p;
	}
}

static void load_general(sb_settings *cfg, janus_config *jc)
{
	janus_config_category *gen =
	        janus_config_get(jc, NULL, janus_config_type_category, "general");
	cfg->sampling_rate = rate_item(jc, gen, cfg->sampling_rate);
	cfg->mixer_threads = int_item(jc, gen, "mixer_threads", 0, 0, 64);
	cfg->ephemeral_rooms = bool_item(jc, gen, "ephemeral_rooms", cfg->ephemeral_rooms);
	cfg->auto_create = bool_item(jc, gen, "auto_create", cfg->auto_create);
	cfg->admin_key = g_strdup(item(jc, gen, "admin_key"));
	cfg->talking_level_threshold = int_item(jc, gen, "talking_level_threshold", 45, 1, 127);
	cfg->talking_window = int_item(jc, gen, "talking_window", 10, 1, 500);
	cfg->silence_level = int_item(jc, gen, "silence_level", 70, 1, 127);
	cfg->jitter_min_frames = int_item(jc, gen, "jitter_min_frames", 1, 0, 50);
	cfg->jitter_max_frames = int_item(jc, gen, "jitter_max_frames", 10, 1, 100);
	if (cfg->jitter_max_frames < cfg->jitter_min_frames)
		cfg->jitter_max_frames = cfg->jitter_min_frames;
	cfg->opus_complexity = int_item(jc, gen, "opus_complexity", 10, 0, 10);
	cfg->opus_bitrate = int_item(jc, gen, "opus_bitrate", 32000, 6000, 510000);
	cfg->opus_fec = bool_item(jc, gen, "opus_fec", cfg->opus_fec);
	cfg->echo_cancellation = echo_rooms_item(jc, gen, cfg->echo_cancellation);
	cfg->echo_tail_ms = int_item(jc, gen, "echo_tail_ms", cfg->echo_tail_ms, 100, 1000);
	interfaces_item(jc, gen, "noise_suppression", &cfg->noise_suppression);
	cfg->noise_suppress_db =
	        int_item(jc, gen, "noise_suppress_db", cfg->noise_suppress_db, 1, 60);
	interfaces_item(jc, gen, "agc", &cfg->agc);
	const char *ip = item(jc, gen, "rtp_ip");
	if (ip) {
		g_free(cfg->rtp_ip);
		cfg->rtp_ip = g_strdup(ip);
	}
	parse_port_range(cfg, item(jc, gen, "rtp_port_range"));
	cfg->max_participants = int_item(jc, gen, "max_participants", 64, 2, 1024);
	cfg->max_rooms = int_item(jc, gen, "max_rooms", 10000, 1, 1000000);
	janus_config_category *http =
	        janus_config_get(jc, NULL, janus_config_type_category, "http");
	cfg->http_enabled = bool_item(jc, http, "enabled", cfg->http_enabled);
	replace_string(&cfg->http_ip, item(jc, http, "ip"));
	cfg->http_port = int_item(jc, http, "port", cfg->http_port, 1, 65535);
	replace_string(&cfg->http_cert, item(jc, http, "cert_pem"));
	replace_string(&cfg->http_key, item(jc, http, "cert_key"));
	replace_string(&cfg->html_folder, item(jc, http, "html_folder"));
	replace_string(&cfg->janus_js, item(jc, http, "janus_js"));
	cfg->http_max_body = int_item(jc, http, "max_body", cfg->http_max_body, 1024, 16 << 20);
	replace_string(&cfg->api_key, item(jc, http, "api_key"));
	replace_string(&cfg->janus_url, item(jc, http, "janus_url"));
	janus_config_category *auth =
	        janus_config_get(jc, NULL, janus_config_type_category, "auth");
	replace_string(&cfg->jwt_secret, item(jc, auth, "jwt_secret"));
	cfg->token_ttl = int_item(jc, auth, "token_ttl", cfg->token_ttl, 10, 86400 * 30);
	cfg->require_token = bool_item(jc, auth, "require_token", cfg->require_token);
	json_decref(cfg->agent);
	cfg->agent = section_json(jc, "agent");
	json_decref(cfg->providers);
	cfg->providers = section_json(jc, "providers");
	/* Every other section, for the modules that read their own. */
	for (size_t i = 5; i < G_N_ELEMENTS(non_room_sections); i++)
		json_object_set_new(cfg->sections, non_room_sections[i],
		                    section_json(jc, non_room_sections[i]));
}

json_t *sb_settings_section(const sb_settings *cfg, const char *name)
{
	if (!cfg)
		return NULL;
	json_t *s = json_object_get(cfg->sections, name);
	return s ? s : json_object_get(cfg->sections, "__empty__");
}

const char *sb_section_string(json_t *section, const char *name, const char *def)
{
	const char *v = json_string_value(json_object_get(section, name));
	return v && *v ? v : def;
}

long sb_section_int(json_t *section, const char *name, long def, long min, long max)
{
	const char *v = json_string_value(json_object_get(section, name));
	if (!v || !*v)
		return def;
	char *end = NULL;
	long n = strtol(v, &end, 10);
	if (*end || n < min || n > max) {
		JANUS_LOG(LOG_WARN,
		          "[switchboard] %s = %s is not a number in %ld..%ld, using %ld\n", name, v,
		          min, max, def);
		return def;
	}
	return n;
}

bool sb_section_bool(json_t *section, const char *name, bool def)
{
	const char *v = json_string_value(json_object_get(section, name));
	if (!v || !*v)
		return def;
	if (!g_ascii_strcasecmp(v, "true") || !g_ascii_strcasecmp(v, "yes") || !strcmp(v, "1"))
		return true;
	if (!g_ascii_strcasecmp(v, "false") || !g_ascii_strcasecmp(v, "no") || !strcmp(v, "0"))
		return false;
	JANUS_LOG(LOG_WARN, "[switchboard] %s = %s is not a boolean, using %s\n", name, v,
	          def ? "true" : "false");
	return def;
}

void sb_settings_generate_secrets(sb_settings *cfg, char *(*generate)(void))
{
	if (!cfg->jwt_secret) {
		/* Tokens then only outlive this process if a secret is configured. */
		cfg->jwt_secret = generate();
	}
	/* No master key is made up: one printed to a log would be read by
	 * whoever reads the logs.  Without one, routes that need it refuse
	 * every request (docs/security.md, "Secrets"). */
	if (!cfg->api_key)
		JANUS_LOG(LOG_WARN, "[switchboard] no api_key configured ([http] api_key or "
		                    "SWITCHBOARD_API_KEY): REST routes that need it refuse every "
		                    "request\n");
}

void sb_settings_free(sb_settings *cfg)
{
	if (!cfg)
		return;
	g_free(cfg->config_folder);
	g_free(cfg->admin_key);
	g_free(cfg->rtp_ip);
	g_strfreev(cfg->noise_suppression);
	g_strfreev(cfg->agc);
	g_free(cfg->http_ip);
	g_free(cfg->http_cert);
	g_free(cfg->http_key);
	g_free(cfg->html_folder);
	g_free(cfg->janus_js);
	g_free(cfg->api_key);
	g_free(cfg->jwt_secret);
	g_free(cfg->janus_url);
	g_ptr_array_free(cfg->rooms, TRUE);
	json_decref(cfg->agent);
	json_decref(cfg->providers);
	json_decref(cfg->sections);
	g_free(cfg);
}
