/* The [sip] section, read once at start into a sip_config: listening
 * address and TLS, trunk credentials, codecs, SRTP, who may call in (the
 * allow-list, the account, the call rates, the room signature's secret).
 * A bad value is logged and its default used; what guards the door fails
 * closed (no allow-list: nobody; an account check without an account:
 * nobody). */
#include "sip/sip_private.h"

#include <stdlib.h>
#include <string.h>

#include <debug.h>

#include "core/core.h"

static char *dup_or_null(const char *v)
{
	return v && *v ? g_strdup(v) : NULL;
}

/* "g722, pcmu" → our preference order; unknown names are logged and
 * skipped, an empty result falls back to the default. */
static void load_codecs(sip_config *c, const char *list)
{
	c->codec_count = 0;
	char **names = g_strsplit_set(list, ", ", -1);
	for (char **n = names; *n; n++) {
		sb_codec_id id;
		if (!**n)
			continue;
		if (!sb_codec_from_name(*n, &id)) {
			JANUS_LOG(LOG_WARN, "[switchboard] [sip] codecs: unknown codec %s\n", *n);
			continue;
		}
		bool dup = false;
		for (int i = 0; i < c->codec_count; i++)
			dup |= c->codecs[i] == id;
		if (!dup && c->codec_count < SB_CODEC_COUNT)
			c->codecs[c->codec_count++] = id;
	}
	g_strfreev(names);
	if (c->codec_count == 0) {
		/* Wideband first: the embedded recogniser needs it (DESIGN.md 3). */
		static const sb_codec_id defaults[] = {SB_CODEC_G722, SB_CODEC_OPUS, SB_CODEC_PCMU,
		                                       SB_CODEC_PCMA};
		memcpy(c->codecs, defaults, sizeof(defaults));
		c->codec_count = G_N_ELEMENTS(defaults);
	}
}

/* [sip] room_secret, else [auth] jwt_secret (borrowed). */
static const char *room_secret_of(const sb_settings *settings, json_t *sip)
{
	const char *secret = sb_section_string(sip, "room_secret", "");
	return *secret ? secret : settings->jwt_secret;
}

char *sb_sip_room_signature(const sb_settings *settings, const char *room)
{
	json_t *sip = sb_settings_section(settings, "sip");
	gint64 ttl = sb_section_int(sip, "room_signature_ttl", 300, 10, 86400);
	return sip_room_sign(room_secret_of(settings, sip), room,
	                     g_get_real_time() / G_USEC_PER_SEC + ttl);
}

void sip_config_load(sip_config *c, const sb_settings *settings)
{
	memset(c, 0, sizeof(*c));
	json_t *s = sb_settings_section(settings, "sip");
	c->settings = settings;
	c->enabled = sb_section_bool(s, "enabled", true);
	c->ip = g_strdup(sb_section_string(s, "ip", "127.0.0.1"));
	const char *env_port = g_getenv("SWITCHBOARD_SIP_PORT");
	c->port = (int)sb_section_int(s, "port", 5060, 1, 65535);
	if (env_port && atoi(env_port) > 0)
		c->port = atoi(env_port);
	c->tls_port = (int)sb_section_int(s, "tls_port", 5061, 1, 65535);
	c->cert_dir = dup_or_null(sb_section_string(s, "cert_dir", NULL));
	c->media_ip = g_strdup(sb_section_string(s, "media_ip", settings->rtp_ip));
	c->allow = g_strdup(sb_section_string(s, "allow", ""));
	c->room_secret = dup_or_null(room_secret_of(settings, s));
	c->rooms_require_token = sb_section_bool(s, "rooms_require_token", true);
	c->account_check = sb_section_bool(s, "sip_account_check", false);
	if (c->account_check) {
		const char *sid = sb_section_string(sb_settings_section(settings, "twilio"),
		                                    "account_sid", "");
		if (!*sid && g_getenv("TWILIO_ACCOUNT_SID"))
			sid = g_getenv("TWILIO_ACCOUNT_SID");
		c->account_sid = dup_or_null(sid);
		if (!c->account_sid)
			JANUS_LOG(LOG_ERR,
			          "[switchboard] [sip] sip_account_check is on but there is "
			          "no [twilio] account_sid: every INVITE is refused\n");
	}
	c->auth_user = dup_or_null(sb_section_string(s, "auth_user", NULL));
	c->auth_password = dup_or_null(sb_section_string(s, "auth_password", NULL));
	c->realm = g_strdup(sb_section_string(s, "realm", "switchboard"));
	c->trunk = dup_or_null(sb_section_string(s, "trunk", NULL));
	c->trunk_user = dup_or_null(sb_section_string(s, "trunk_user", NULL));
	c->trunk_password = dup_or_null(sb_section_string(s, "trunk_password", NULL));
	char *default_from = g_strdup_printf("sip:switchboard@%s", c->ip);
	c->from = g_strdup(sb_section_string(s, "from", default_from));
	g_free(default_from);
	load_codecs(c, sb_section_string(s, "codecs", ""));
	const char *srtp = sb_section_string(s, "srtp", "optional");
	c->srtp = !strcmp(srtp, "required") ? SIP_SRTP_REQUIRED
	          : !strcmp(srtp, "off")    ? SIP_SRTP_OFF
	                                    : SIP_SRTP_OPTIONAL;
	if (strcmp(srtp, "required") && strcmp(srtp, "off") && strcmp(srtp, "optional"))
		JANUS_LOG(LOG_WARN,
		          "[switchboard] [sip] srtp is off, optional or required, not %s\n", srtp);
	const char *unknown = sb_section_string(s, "unknown_rooms", "reject");
	c->create_unknown_rooms = !strcmp(unknown, "create");
	if (strcmp(unknown, "create") && strcmp(unknown, "reject"))
		JANUS_LOG(LOG_WARN,
		          "[switchboard] [sip] unknown_rooms is reject or create, not %s\n",
		          unknown);
	c->max_calls = (int)sb_section_int(s, "max_calls", 200, 1, 100000);
	c->calls_per_second = (double)sb_section_int(s, "calls_per_second", 20, 0, 10000);
	c->calls_burst = (double)sb_section_int(s, "calls_burst", 40, 1, 100000);
	c->calls_per_source = (double)sb_section_int(s, "calls_per_source", 10, 0, 10000);
	c->calls_per_source_burst =
	        (double)sb_section_int(s, "calls_per_source_burst", 20, 1, 100000);
	c->rtp_timeout = (int)sb_section_int(s, "rtp_timeout", 30, 0, 3600);
	c->session_timer = (int)sb_section_int(s, "session_timer", 1800, 90, 86400);
	c->ring_timeout = (int)sb_section_int(s, "ring_timeout", 45, 1, 600);
	c->user_agent = g_strdup(
	        sb_section_string(s, "user_agent", "Switchboard/" SB_PLUGIN_VERSION_STRING));
}

void sip_config_clear(sip_config *c)
{
	g_free(c->ip);
	g_free(c->cert_dir);
	g_free(c->media_ip);
	g_free(c->allow);
	g_free(c->room_secret);
	g_free(c->account_sid);
	g_free(c->auth_user);
	g_free(c->auth_password);
	g_free(c->realm);
	g_free(c->trunk);
	g_free(c->trunk_user);
	g_free(c->trunk_password);
	g_free(c->from);
	g_free(c->user_agent);
	memset(c, 0, sizeof(*c));
}
