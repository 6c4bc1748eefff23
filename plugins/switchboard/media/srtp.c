/* SDES-SRTP for SIP legs: a pair of libsrtp sessions per leg (ours out,
 * theirs in) keyed from the a=crypto lines.  Keys come from the kernel's
 * generator: an SRTP key that could be predicted would protect nothing.
 * A packet that fails authentication changes no state (libsrtp checks
 * before it updates its replay window or adopts a new SSRC), so the
 * caller may drop it and go on. */
#include "media/media.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <glib.h>
#include <srtp2/srtp.h>

#define KEY_BYTES 30

struct sb_srtp {
	srtp_t out, in;
};

static gsize init_once;

static bool library_ready(void)
{
	/* Inside Janus, libsrtp is already initialised and a second srtp_init
	 * reports a failure (its debug modules are registered twice) although
	 * the library is usable: srtp_create is the real test. */
	if (g_once_init_enter(&init_once)) {
		(void)srtp_init();
		g_once_init_leave(&init_once, 1);
	}
	return true;
}

void sb_srtp_new_key(char out[SB_SRTP_KEY_B64_LEN + 1])
{
	guint8 key[KEY_BYTES];
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		for (size_t i = 0; i < sizeof(key); i++) /* not reached on Linux >= 3.17 */
			key[i] = (guint8)g_random_int_range(0, 256);
	char *b64 = g_base64_encode(key, sizeof(key));
	g_strlcpy(out, b64, SB_SRTP_KEY_B64_LEN + 1);
	memset(b64, 0, strlen(b64));
	memset(key, 0, sizeof(key));
	g_free(b64);
}

bool sb_srtp_parse_crypto(const char *crypto, int *tag, char key[SB_SRTP_KEY_B64_LEN + 1])
{
	char suite[40], params[128];
	if (!crypto || sscanf(crypto, "%d %39s %127s", tag, suite, params) != 3)
		return false;
	if (strcmp(suite, SB_SRTP_SUITE) != 0 || strncmp(params, "inline:", 7) != 0)
		return false;
	const char *k = params + 7;
	size_t n = strcspn(k, "|");
	if (n != SB_SRTP_KEY_B64_LEN)
		return false;
	memcpy(key, k, n);
	key[n] = '\0';
	gsize len = 0;
	guchar *raw = g_base64_decode(key, &len);
	g_free(raw);
	return len == KEY_BYTES;
}

static bool make_session(srtp_t *session, const char *key_b64, srtp_ssrc_type_t type)
{
	gsize len = 0;
	guchar *key = g_base64_decode(key_b64, &len);
	if (len != KEY_BYTES) {
		g_free(key);
		return false;
	}
	srtp_policy_t policy;
	memset(&policy, 0, sizeof(policy));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
	policy.ssrc.type = type;
	policy.key = key;
	policy.window_size = 128;
	policy.allow_repeat_tx = 0;
	bool ok = srtp_create(session, &policy) == srtp_err_status_ok;
	memset(key, 0, len);
	g_free(key);
	return ok;
}

sb_srtp *sb_srtp_new(const char *our_key, const char *their_key)
{
	if (!library_ready() || !our_key || !their_key)
		return NULL;
	sb_srtp *s = g_new0(sb_srtp, 1);
	if (!make_session(&s->out, our_key, ssrc_any_outbound) ||
	    !make_session(&s->in, their_key, ssrc_any_inbound)) {
		sb_srtp_free(s);
		return NULL;
	}
	return s;
}

void sb_srtp_free(sb_srtp *s)
{
	if (!s)
		return;
	if (s->out)
		srtp_dealloc(s->out);
	if (s->in)
		srtp_dealloc(s->in);
	g_free(s);
}

bool sb_srtp_protect(sb_srtp *s, uint8_t *buf, size_t *len)
{
	int n = (int)*len;
	if (srtp_protect(s->out, buf, &n) != srtp_err_status_ok)
		return false;
	*len = (size_t)n;
	return true;
}

bool sb_srtp_unprotect(sb_srtp *s, uint8_t *buf, size_t *len)
{
	int n = (int)*len;
	if (srtp_unprotect(s->in, buf, &n) != srtp_err_status_ok)
		return false;
	*len = (size_t)n;
	return true;
}
