/* SDP offer/answer for SIP legs (RFC 3264), audio only.  Every byte comes
 * from the network: lengths are checked and what is not understood is
 * refused rather than guessed (unit-tested and fuzzed). */
#include "sip/sip_private.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

/* Our fixed payload types when we offer (the static ones, then dynamic). */
#define OPUS_PT 111
#define DTMF_PT_8K 101
#define DTMF_PT_48K 126

static const char *codec_sdp_name(sb_codec_id c)
{
	switch (c) {
	case SB_CODEC_OPUS:
		return "opus";
	case SB_CODEC_PCMU:
		return "PCMU";
	case SB_CODEC_PCMA:
		return "PCMA";
	case SB_CODEC_G722:
		return "G722";
	default:
		return "?";
	}
}

/* RTP clock as SDP states it (G.722 says 8000, RFC 3551). */
static int codec_sdp_rate(sb_codec_id c)
{
	return c == SB_CODEC_OPUS ? 48000 : 8000;
}

static int codec_static_pt(sb_codec_id c)
{
	switch (c) {
	case SB_CODEC_PCMU:
		return 0;
	case SB_CODEC_PCMA:
		return 8;
	case SB_CODEC_G722:
		return 9;
	default:
		return -1;
	}
}

static sb_sdp_format *format_for_pt(sb_sdp *s, int pt)
{
	for (int i = 0; i < s->format_count; i++)
		if (s->formats[i].pt == pt)
			return &s->formats[i];
	return NULL;
}

/* Static payload types need no rtpmap (RFC 3551). */
static void static_defaults(sb_sdp_format *f)
{
	switch (f->pt) {
	case 0:
		g_strlcpy(f->name, "PCMU", sizeof(f->name)), f->rate = 8000;
		break;
	case 8:
		g_strlcpy(f->name, "PCMA", sizeof(f->name)), f->rate = 8000;
		break;
	case 9:
		g_strlcpy(f->name, "G722", sizeof(f->name)), f->rate = 8000;
		break;
	default:
		break;
	}
	f->channels = 1;
}

static bool parse_media_line(const char *v, sb_sdp *out, const char **error)
{
	/* "audio <port> <proto> <fmt> ..." */
	char proto[32];
	unsigned port;
	int used = 0;
	if (sscanf(v, "audio %u %31s %n", &port, proto, &used) != 2 || port > 65535) {
		*error = "bad m=audio line";
		return false;
	}
	if (!strcmp(proto, "RTP/SAVP"))
		out->secure = true;
	else if (strcmp(proto, "RTP/AVP") != 0) {
		*error = "unsupported media transport (RTP/AVP or RTP/SAVP)";
		return false;
	}
	out->port = (uint16_t)port;
	const char *p = v + used;
	while (*p) {
		char *end = NULL;
		long pt = strtol(p, &end, 10);
		if (end == p || pt < 0 || pt > 127) {
			*error = "bad payload type in m= line";
			return false;
		}
		if (out->format_count < SB_SDP_MAX_FORMATS) {
			sb_sdp_format *f = &out->formats[out->format_count++];
			memset(f, 0, sizeof(*f));
			f->pt = (int)pt;
			static_defaults(f);
		}
		p = end;
		while (*p == ' ')
			p++;
	}
	if (out->format_count == 0) {
		*error = "no payload types in m= line";
		return false;
	}
	return true;
}

static void parse_connection(const char *v, char *ip, size_t ip_len)
{
	char addr[64];
	if (sscanf(v, "IN IP4 %63s", addr) == 1) {
		char *slash = strchr(addr, '/'); /* multicast TTL */
		if (slash)
			*slash = '\0';
		g_strlcpy(ip, addr, ip_len);
	}
}

static void parse_attribute(const char *v, sb_sdp *out)
{
	if (!strcmp(v, "sendrecv"))
		out->direction = SB_SDP_SENDRECV;
	else if (!strcmp(v, "sendonly"))
		out->direction = SB_SDP_SENDONLY;
	else if (!strcmp(v, "recvonly"))
		out->direction = SB_SDP_RECVONLY;
	else if (!strcmp(v, "inactive"))
		out->direction = SB_SDP_INACTIVE;
	else if (!strcmp(v, "rtcp-mux"))
		out->rtcp_mux = true;
	else if (!strncmp(v, "rtpmap:", 7)) {
		int pt, rate, channels = 1;
		char name[24];
		int n = sscanf(v + 7, "%d %23[^/]/%d/%d", &pt, name, &rate, &channels);
		sb_sdp_format *f = n >= 3 ? format_for_pt(out, pt) : NULL;
		if (f && rate > 0 && rate <= 192000 && channels > 0 && channels <= 8) {
			g_strlcpy(f->name, name, sizeof(f->name));
			f->rate = rate;
			f->channels = channels;
		}
	} else if (!strncmp(v, "crypto:", 7) && !out->crypto[0] &&
	           strstr(v, "AES_CM_128_HMAC_SHA1_80") && strlen(v + 7) < sizeof(out->crypto)) {
		g_strlcpy(out->crypto, v + 7, sizeof(out->crypto));
	}
}

static bool parse(const char *text, size_t len, sb_sdp *out, const char **error)
{
	memset(out, 0, sizeof(*out));
	*error = NULL;
	if (!text || len == 0) {
		*error = "no SDP";
		return false;
	}
	if (len > SB_SDP_MAX_TEXT) {
		*error = "SDP too large";
		return false;
	}
	char *copy = g_strndup(text, len);
	if (strlen(copy) != len) {
		g_free(copy);
		*error = "NUL byte in SDP";
		return false;
	}
	char session_ip[64] = "", media_ip[64] = "";
	bool in_audio = false, seen_audio = false, seen_version = false;
	bool ok = true;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\r\n", &save); line && ok;
	     line = strtok_r(NULL, "\r\n", &save)) {
		if (strlen(line) < 2 || line[1] != '=') {
			*error = "malformed SDP line";
			ok = false;
			break;
		}
		const char *v = line + 2;
		switch (line[0]) {
		case 'v':
			seen_version = !strcmp(v, "0");
			break;
		case 'm':
			if (!strncmp(v, "audio ", 6)) {
				if (seen_audio) { /* a second audio stream: we use the first */
					in_audio = false;
					break;
				}
				seen_audio = in_audio = true;
				ok = parse_media_line(v, out, error);
			} else {
				in_audio = false;
			}
			break;
		case 'c':
			if (in_audio)
				parse_connection(v, media_ip, sizeof(media_ip));
			else if (!seen_audio)
				parse_connection(v, session_ip, sizeof(session_ip));
			break;
		case 'a':
			/* Session-level direction applies unless the media overrides. */
			if (in_audio || !seen_audio)
				parse_attribute(v, out);
			break;
		default:
			break;
		}
	}
	g_free(copy);
	if (!ok)
		return false;
	if (!seen_version) {
		*error = "missing v=0";
		return false;
	}
	if (!seen_audio) {
		*error = "no audio stream";
		return false;
	}
	g_strlcpy(out->ip, media_ip[0] ? media_ip : session_ip, sizeof(out->ip));
	if (!out->ip[0]) {
		*error = "no IPv4 connection address";
		return false;
	}
	return true;
}

bool sb_sdp_parse(const char *text, size_t len, sb_sdp *out, char **error)
{
	const char *why = NULL;
	if (parse(text, len, out, &why))
		return true;
	*error = g_strdup(why);
	return false;
}

static bool format_is(const sb_sdp_format *f, sb_codec_id c)
{
	if (g_ascii_strcasecmp(f->name, codec_sdp_name(c)) != 0)
		return false;
	return f->rate == codec_sdp_rate(c);
}

static int dtmf_pt_for(const sb_sdp *s, int rate)
{
	for (int i = 0; i < s->format_count; i++)
		if (!g_ascii_strcasecmp(s->formats[i].name, "telephone-event") &&
		    s->formats[i].rate == rate)
			return s->formats[i].pt;
	return 0;
}

bool sb_sdp_choose(const sb_sdp *offer, const sb_codec_id *prefs, int pref_count,
                   sb_sdp_choice *out)
{
	for (int k = 0; k < pref_count; k++)
		for (int i = 0; i < offer->format_count; i++)
			if (format_is(&offer->formats[i], prefs[k])) {
				out->codec = prefs[k];
				out->pt = offer->formats[i].pt;
				out->dtmf_pt = dtmf_pt_for(offer, codec_sdp_rate(prefs[k]));
				return true;
			}
	return false;
}

bool sb_sdp_choose_answer(const sb_sdp *answer, sb_sdp_choice *out)
{
	for (int i = 0; i < answer->format_count; i++)
		for (int c = 0; c < SB_CODEC_COUNT; c++)
			if (format_is(&answer->formats[i], (sb_codec_id)c)) {
				out->codec = (sb_codec_id)c;
				out->pt = answer->formats[i].pt;
				out->dtmf_pt = dtmf_pt_for(answer, codec_sdp_rate((sb_codec_id)c));
				return true;
			}
	return false;
}

static void append_format(GString *m, GString *attrs, int pt, sb_codec_id c)
{
	g_string_append_printf(m, " %d", pt);
	if (c == SB_CODEC_OPUS) {
		g_string_append_printf(attrs, "a=rtpmap:%d opus/48000/2\r\n", pt);
		g_string_append_printf(attrs, "a=fmtp:%d useinbandfec=1;minptime=20\r\n", pt);
	} else {
		g_string_append_printf(attrs, "a=rtpmap:%d %s/%d\r\n", pt, codec_sdp_name(c),
		                       codec_sdp_rate(c));
	}
}

static void append_dtmf(GString *m, GString *attrs, int pt, int rate)
{
	g_string_append_printf(m, " %d", pt);
	g_string_append_printf(attrs, "a=rtpmap:%d telephone-event/%d\r\n", pt, rate);
	g_string_append_printf(attrs, "a=fmtp:%d 0-16\r\n", pt);
}

char *sb_sdp_build(const sb_sdp_local *l)
{
	GString *m = g_string_new(NULL), *attrs = g_string_new(NULL);
	g_string_printf(m, "m=audio %u RTP/%s", l->port, l->crypto ? "SAVP" : "AVP");
	if (l->answer) {
		append_format(m, attrs, l->answer->pt, l->answer->codec);
		if (l->answer->dtmf_pt)
			append_dtmf(m, attrs, l->answer->dtmf_pt, codec_sdp_rate(l->answer->codec));
	} else {
		bool dtmf8 = false, dtmf48 = false;
		for (int i = 0; i < l->pref_count; i++) {
			int pt = codec_static_pt(l->prefs[i]);
			append_format(m, attrs, pt >= 0 ? pt : OPUS_PT, l->prefs[i]);
			dtmf48 |= l->prefs[i] == SB_CODEC_OPUS;
			dtmf8 |= l->prefs[i] != SB_CODEC_OPUS;
		}
		if (dtmf8)
			append_dtmf(m, attrs, DTMF_PT_8K, 8000);
		if (dtmf48)
			append_dtmf(m, attrs, DTMF_PT_48K, 48000);
	}
	GString *sdp = g_string_new(NULL);
	g_string_append_printf(sdp,
	                       "v=0\r\n"
	                       "o=switchboard %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
	                       " IN IP4 %s\r\n"
	                       "s=switchboard\r\n"
	                       "c=IN IP4 %s\r\n"
	                       "t=0 0\r\n"
	                       "%s\r\n%s"
	                       "a=ptime:20\r\n"
	                       "a=%s\r\n",
	                       l->session_id, l->version, l->ip, l->ip, m->str, attrs->str,
	                       sb_sdp_direction_name(l->direction));
	if (l->crypto)
		g_string_append_printf(sdp, "a=crypto:%s\r\n", l->crypto);
	g_string_free(m, TRUE);
	g_string_free(attrs, TRUE);
	return g_string_free(sdp, FALSE);
}

const char *sb_sdp_direction_name(sb_sdp_direction d)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	return d <= SB_SDP_INACTIVE ? names[d] : "sendrecv";
}

sb_sdp_direction sb_sdp_answer_direction(sb_sdp_direction offered)
{
	switch (offered) {
	case SB_SDP_SENDONLY:
		return SB_SDP_RECVONLY;
	case SB_SDP_RECVONLY:
		return SB_SDP_SENDONLY;
	case SB_SDP_INACTIVE:
		return SB_SDP_INACTIVE;
	default:
		return SB_SDP_SENDRECV;
	}
}
