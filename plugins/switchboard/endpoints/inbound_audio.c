/* What an interface does to its callers' audio before the room hears it:
 * noise suppression and AGC, read from the interface's section of the
 * config file ([webrtc], [rtp], [sip], [twilio]).  Off unless set there:
 * at 48 kHz it costs ~70 us per leg per 20 ms frame on the mixer thread
 * (tests/unit/test_preprocess.c), and a clean line gains nothing from it. */
#include "endpoints/endpoints.h"

#include "media/media.h"

sb_preprocess_options sb_inbound_audio_options(const char *interface_section)
{
	sb_preprocess_options o = SB_PREPROCESS_DEFAULTS;
	json_t *section = sb_settings_section(sb_plugin_settings, interface_section);
	/* The getters log a bad value and keep the default. */
	o.noise_suppression = sb_section_bool(section, "noise_suppression", o.noise_suppression);
	o.noise_suppression_db =
	        (int)sb_section_int(section, "noise_suppression_db", o.noise_suppression_db,
	                            SB_PREPROCESS_NS_DB_MIN, SB_PREPROCESS_NS_DB_MAX);
	o.agc = sb_section_bool(section, "agc", o.agc);
	o.agc_level_dbfs =
	        (int)sb_section_int(section, "agc_level_dbfs", o.agc_level_dbfs,
	                            SB_PREPROCESS_AGC_DBFS_MIN, SB_PREPROCESS_AGC_DBFS_MAX);
	return o;
}
