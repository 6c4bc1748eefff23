/* The [sip] section of the plugin configuration, read once at start. */
#ifndef SB_SIP_CONFIG_H
#define SB_SIP_CONFIG_H

#include <stdbool.h>

#include "media/codec.h"
#include "core/settings.h"

#define SIP_MAX_X_HEADERS 20

typedef struct sip_config {
	bool enabled;
	char *ip; /* where the UA listens */
	int port, tls_port;
	char *cert_dir; /* agent.pem (+ cafile.pem): enables TLS */
	char *media_ip; /* the address in our SDP; default the RTP ip */
	char *allow;    /* allow-list of sources for INVITEs; NULL: anyone */
	char *auth_user, *auth_password, *realm; /* inbound digest, optional */
	char *trunk;                       /* host for E.164 numbers: {trunk}.pstn.twilio.com */
	char *trunk_user, *trunk_password; /* outbound digest */
	char *from;                        /* our identity on outbound calls */
	sb_codec_id codecs[SB_CODEC_COUNT];
	int codec_count;
	enum { SIP_SRTP_OFF, SIP_SRTP_OPTIONAL, SIP_SRTP_REQUIRED } srtp;
	bool create_unknown_rooms; /* a request-URI naming a missing room */
	int max_calls;
	double calls_per_second, calls_burst;
	int rtp_timeout, session_timer, ring_timeout; /* seconds */
	int max_participants_hint;
	char *user_agent;
	const sb_settings *settings;
} sip_config;

void sip_config_load(sip_config *c, const sb_settings *settings);
void sip_config_clear(sip_config *c);

#endif
