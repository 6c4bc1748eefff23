/* Plugin configuration (janus.plugin.switchboard.jcfg). */
#ifndef SB_SETTINGS_H
#define SB_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

typedef struct sb_room_config {
	char *name;
	char *description;
	char *secret;
	char *pin;
	int sampling_rate;
} sb_room_config;

typedef struct sb_settings {
	int sampling_rate;
	int mixer_threads;
	bool ephemeral_rooms;
	bool auto_create;
	char *admin_key;
	int talking_level_threshold;
	int talking_window;
	int silence_level;
	int jitter_min_frames;
	int jitter_max_frames;
	int opus_complexity;
	int opus_bitrate;
	bool opus_fec;
	char *rtp_ip;
	uint16_t rtp_port_min;
	uint16_t rtp_port_max;
	int max_participants;
	int max_rooms;
	/* Embedded HTTP server: REST, pages, notifications. */
	bool http_enabled;
	char *http_ip;
	int http_port;
	char *http_cert; /* PEM; with http_key, serves HTTPS */
	char *http_key;
	char *html_folder;
	char *janus_js;  /* Debian's janus.js, served as /janus.js */
	int http_max_body;
	char *api_key;   /* REST bearer key (or SWITCHBOARD_API_KEY) */
	char *jwt_secret;/* join tokens (or SWITCHBOARD_JWT_SECRET) */
	int token_ttl;   /* seconds */
	bool require_token; /* every room needs a join token on `join` */
	char *janus_url; /* what /room/join tells clients; empty: same host, 8088 */
	GPtrArray *rooms; /* sb_room_config*, the permanent rooms */
	/* The [agent] and [providers] sections as JSON objects (values of
	 * items are strings, as the config file has them; lists are arrays). */
	json_t *agent;
	json_t *providers;
	/* Module sections ([sip], [twilio], [whatsapp], [store], [recording],
	 * [transfer], [phone]) as JSON objects of strings; read them with
	 * sb_settings_section and the sb_section_* getters. */
	json_t *sections;
	/* Where the file was read from (NULL: defaults only), for reloads. */
	char *config_folder;
} sb_settings;

/* The section as a JSON object (empty when absent; NULL only without cfg). */
json_t *sb_settings_section(const sb_settings *cfg, const char *name);
/* Typed reads of a section's items; a bad value is logged and def used. */
const char *sb_section_string(json_t *section, const char *name, const char *def);
long sb_section_int(json_t *section, const char *name, long def, long min, long max);
bool sb_section_bool(json_t *section, const char *name, bool def);

/* Defaults, then whatever <folder>/janus.plugin.switchboard.jcfg sets.
 * A missing file is fine; an invalid value is logged and replaced by the
 * default.  Returns NULL only when out of memory. */
sb_settings *sb_settings_load(const char *folder);
void sb_settings_free(sb_settings *cfg);

#endif
