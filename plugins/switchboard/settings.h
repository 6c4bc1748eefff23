/* Plugin configuration (janus.plugin.switchboard.jcfg). */
#ifndef SB_SETTINGS_H
#define SB_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

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
	GPtrArray *rooms; /* sb_room_config*, the permanent rooms */
} sb_settings;

/* Defaults, then whatever <folder>/janus.plugin.switchboard.jcfg sets.
 * A missing file is fine; an invalid value is logged and replaced by the
 * default.  Returns NULL only when out of memory. */
sb_settings *sb_settings_load(const char *folder);
void sb_settings_free(sb_settings *cfg);

#endif
