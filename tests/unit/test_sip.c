/* The SIP bridge's pure parts: SDP offer/answer, the allow-list, the rate
 * limits (overall and per source), X-Room signatures, inbound digest, and
 * DTMF (RFC 4733 and SIP INFO). */
#include <string.h>

#include <glib.h>

#include "media/media.h"
#include "sip/sip_private.h"

static const char twilio_offer[] = "v=0\r\n"
                                   "o=root 1 1 IN IP4 54.172.60.1\r\n"
                                   "s=Twilio Media Gateway\r\n"
                                   "c=IN IP4 54.172.60.10\r\n"
                                   "t=0 0\r\n"
                                   "m=audio 10000 RTP/AVP 0 101\r\n"
                                   "a=rtpmap:0 PCMU/8000\r\n"
                                   "a=rtpmap:101 telephone-event/8000\r\n"
                                   "a=fmtp:101 0-16\r\n"
                                   "a=ptime:20\r\n"
                                   "a=sendrecv\r\n";

static void test_sdp_twilio_offer(void)
{
	sb_sdp sdp;
	char *why = NULL;
	g_assert_true(sb_sdp_parse(twilio_offer, strlen(twilio_offer), &sdp, &why));
	g_assert_cmpstr(sdp.ip, ==, "54.172.60.10");
	g_assert_cmpint(sdp.port, ==, 10000);
	g_assert_cmpint(sdp.format_count, ==, 2);
	g_assert_cmpint(sdp.direction, ==, SB_SDP_SENDRECV);
	g_assert_false(sdp.secure);
	/* We prefer wideband, Twilio only has PCMU: PCMU with its DTMF. */
	sb_codec_id prefs[] = {SB_CODEC_G722, SB_CODEC_OPUS, SB_CODEC_PCMU};
	sb_sdp_choice c;
	g_assert_true(sb_sdp_choose(&sdp, prefs, 3, &c));
	g_assert_cmpint(c.codec, ==, SB_CODEC_PCMU);
	g_assert_cmpint(c.pt, ==, 0);
	g_assert_cmpint(c.dtmf_pt, ==, 101);
	/* Only Opus wanted: nothing usable (the call gets 488). */
	sb_codec_id opus_only[] = {SB_CODEC_OPUS};
	g_assert_false(sb_sdp_choose(&sdp, opus_only, 1, &c));
}

static void test_sdp_prefers_ours_and_dynamic(void)
{
	const char *offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\n"
	                    "m=audio 4000 RTP/AVP 96 9 0 97\r\nc=IN IP4 10.0.0.2\r\n"
	                    "a=rtpmap:96 opus/48000/2\r\na=rtpmap:97 telephone-event/48000\r\n"
	                    "a=rtpmap:9 G722/8000\r\na=sendonly\r\na=rtcp-mux\r\n";
	sb_sdp sdp;
	char *why = NULL;
	g_assert_true(sb_sdp_parse(offer, strlen(offer), &sdp, &why));
	g_assert_cmpstr(sdp.ip, ==, "10.0.0.2"); /* media-level c= wins */
	g_assert_cmpint(sdp.direction, ==, SB_SDP_SENDONLY);
	g_assert_true(sdp.rtcp_mux);
	sb_codec_id prefs[] = {SB_CODEC_G722, SB_CODEC_OPUS};
	sb_sdp_choice c;
	g_assert_true(sb_sdp_choose(&sdp, prefs, 2, &c));
	g_assert_cmpint(c.codec, ==, SB_CODEC_G722);
	g_assert_cmpint(c.dtmf_pt, ==, 0); /* telephone-event only at 48 kHz */
	sb_codec_id opus_first[] = {SB_CODEC_OPUS, SB_CODEC_G722};
	g_assert_true(sb_sdp_choose(&sdp, opus_first, 2, &c));
	g_assert_cmpint(c.codec, ==, SB_CODEC_OPUS);
	g_assert_cmpint(c.pt, ==, 96);
	g_assert_cmpint(c.dtmf_pt, ==, 97);
	g_assert_cmpint(sb_sdp_answer_direction(sdp.direction), ==, SB_SDP_RECVONLY);
}

static void test_sdp_answer_round_trip(void)
{
	sb_sdp_choice choice = {.codec = SB_CODEC_PCMU, .pt = 0, .dtmf_pt = 101};
	sb_sdp_local local = {.ip = "127.0.0.1",
	                      .port = 40000,
	                      .session_id = 7,
	                      .version = 2,
	                      .answer = &choice,
	                      .direction = SB_SDP_SENDRECV};
	char *text = sb_sdp_build(&local);
	sb_sdp back;
	char *why = NULL;
	g_assert_true(sb_sdp_parse(text, strlen(text), &back, &why));
	g_assert_cmpint(back.port, ==, 40000);
	g_assert_cmpint(back.format_count, ==, 2);
	sb_sdp_choice again;
	g_assert_true(sb_sdp_choose_answer(&back, &again));
	g_assert_cmpint(again.codec, ==, SB_CODEC_PCMU);
	g_assert_cmpint(again.dtmf_pt, ==, 101);
	g_free(text);
	/* An offer lists every codec we take, with DTMF at both clocks. */
	sb_codec_id prefs[] = {SB_CODEC_OPUS, SB_CODEC_G722, SB_CODEC_PCMU};
	sb_sdp_local offer = {.ip = "127.0.0.1",
	                      .port = 40002,
	                      .session_id = 1,
	                      .version = 1,
	                      .prefs = prefs,
	                      .pref_count = 3};
	text = sb_sdp_build(&offer);
	g_assert_nonnull(strstr(text, "m=audio 40002 RTP/AVP 111 9 0 101 126"));
	g_assert_true(sb_sdp_parse(text, strlen(text), &back, &why));
	g_assert_cmpint(back.format_count, ==, 5);
	g_free(text);
}

static void test_sdp_bad_input(void)
{
	static const char *const bad[] = {
	        "",
	        "v=0\r\n",                                                /* no audio */
	        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5000 RTP/AVP 96\r\n", /* video only */
	        "v=0\r\nm=audio 5000 RTP/AVP 0\r\n",                      /* no address */
	        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n", /* port */
	        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5000 UDP/TLS/RTP/SAVPF 111\r\n",
	        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP 0 300\r\n", /* pt */
	        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP\r\n",
	        "garbage\r\n",
	        "c=IN IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP 0\r\n", /* no v=0 */
	};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		sb_sdp sdp;
		char *why = NULL;
		g_assert_false(sb_sdp_parse(bad[i], strlen(bad[i]), &sdp, &why));
		g_assert_nonnull(why);
		g_free(why);
	}
	/* A NUL inside the body is refused, not truncated. */
	const char with_nul[] = "v=0\r\nc=IN IP4 1.2.3.4\r\n\0m=audio 5000 RTP/AVP 0\r\n";
	sb_sdp sdp;
	char *why = NULL;
	g_assert_false(sb_sdp_parse(with_nul, sizeof(with_nul) - 1, &sdp, &why));
	g_clear_pointer(&why, g_free);
	/* SRTP offers parse (the caller decides) and keep the crypto line. */
	const char *srtp = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 5000 RTP/SAVP 0\r\n"
	                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	                   "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
	g_assert_true(sb_sdp_parse(srtp, strlen(srtp), &sdp, &why));
	g_assert_true(sdp.secure);
	g_assert_nonnull(strstr(sdp.crypto, "inline:"));
}

static void test_acl(void)
{
	char *bad = NULL;
	sb_acl *acl = sb_acl_parse("127.0.0.1, 54.172.60.0/30 ::1  10.0.0.0/8", &bad);
	g_assert_nonnull(acl);
	g_assert_cmpuint(sb_acl_count(acl), ==, 4);
	g_assert_true(sb_acl_allows(acl, "127.0.0.1"));
	g_assert_false(sb_acl_allows(acl, "127.0.0.2"));
	g_assert_true(sb_acl_allows(acl, "54.172.60.3"));
	g_assert_false(sb_acl_allows(acl, "54.172.60.4"));
	g_assert_true(sb_acl_allows(acl, "10.200.1.1"));
	g_assert_true(sb_acl_allows(acl, "::1"));
	g_assert_true(sb_acl_allows(acl, "::ffff:127.0.0.1"));
	g_assert_false(sb_acl_allows(acl, "not-an-ip"));
	g_assert_false(sb_acl_allows(acl, "10.0.0.0/8"));
	g_assert_false(sb_acl_allows(acl, NULL));
	sb_acl_free(acl);
	g_assert_null(sb_acl_parse("127.0.0.1, 300.1.1.1", &bad));
	g_assert_cmpstr(bad, ==, "300.1.1.1");
	g_free(bad);
	g_assert_null(sb_acl_parse("10.0.0.0/33", &bad));
	g_free(bad);
	/* An empty list lets nobody in, and so does no list at all. */
	acl = sb_acl_parse("", &bad);
	g_assert_nonnull(acl);
	g_assert_false(sb_acl_allows(acl, "127.0.0.1"));
	sb_acl_free(acl);
	acl = sb_acl_parse(NULL, &bad);
	g_assert_false(sb_acl_allows(acl, "127.0.0.1"));
	sb_acl_free(acl);
	g_assert_false(sb_acl_allows(NULL, "127.0.0.1"));
}

static void test_rate_limit(void)
{
	sb_rate_limit r;
	sb_rate_limit_init(&r, 2, 3);
	gint64 t = 1000000;
	int taken = 0;
	for (int i = 0; i < 10; i++)
		taken += sb_rate_limit_take(&r, t);
	g_assert_cmpint(taken, ==, 3);                     /* the burst */
	g_assert_true(sb_rate_limit_take(&r, t + 500000)); /* 2/s refill */
	g_assert_false(sb_rate_limit_take(&r, t + 500000));
	/* Empty at 2/s: the next token is half a second away, said as 1 s. */
	g_assert_cmpint(sb_rate_limit_retry_after(&r), ==, 1);
	sb_rate_limit_init(&r, 0.25, 1);
	g_assert_true(sb_rate_limit_take(&r, t));
	g_assert_false(sb_rate_limit_take(&r, t));
	g_assert_cmpint(sb_rate_limit_retry_after(&r), ==, 4);
	sb_rate_limit_init(&r, 0, 1);
	for (int i = 0; i < 100; i++)
		g_assert_true(sb_rate_limit_take(&r, t));
}

static void test_source_limits(void)
{
	sb_source_limits *l = sb_source_limits_new(1, 2, 3);
	gint64 t = 5000000;
	int retry = 0;
	/* One source's flood spends its own bucket only. */
	g_assert_true(sb_source_limits_take(l, "10.0.0.1", t, &retry));
	g_assert_true(sb_source_limits_take(l, "10.0.0.1", t, &retry));
	g_assert_false(sb_source_limits_take(l, "10.0.0.1", t, &retry));
	g_assert_cmpint(retry, ==, 1);
	g_assert_true(sb_source_limits_take(l, "10.0.0.2", t, &retry));
	g_assert_true(sb_source_limits_take(l, "10.0.0.1", t + 1000000, &retry)); /* refilled */
	/* The table is bounded: a fourth source pushes out one whose bucket
	 * refilled (10.0.0.2: nothing to remember). */
	g_assert_true(sb_source_limits_take(l, "10.0.0.3", t + 1000000, &retry));
	g_assert_cmpuint(sb_source_limits_count(l), ==, 3);
	g_assert_true(sb_source_limits_take(l, "10.0.0.4", t + 1100000, &retry));
	g_assert_cmpuint(sb_source_limits_count(l), ==, 3);
	/* 10.0.0.1 is still remembered (and still empty). */
	g_assert_false(sb_source_limits_take(l, "10.0.0.1", t + 1100000, &retry));
	/* Idle sources (refilled buckets) are forgotten first. */
	for (int i = 0; i < 100; i++) {
		char ip[32];
		g_snprintf(ip, sizeof(ip), "10.1.0.%d", i);
		g_assert_true(sb_source_limits_take(l, ip, t + 100000000 + i * 10000000, &retry));
		g_assert_cmpuint(sb_source_limits_count(l), <=, 3);
	}
	sb_source_limits_free(l);
	/* None refilled: the one used longest ago goes, and starts afresh. */
	l = sb_source_limits_new(1, 1, 2);
	g_assert_true(sb_source_limits_take(l, "A", t, &retry));
	g_assert_true(sb_source_limits_take(l, "B", t + 100000, &retry));
	g_assert_true(sb_source_limits_take(l, "C", t + 200000, &retry));  /* A goes */
	g_assert_true(sb_source_limits_take(l, "A", t + 300000, &retry));  /* B goes */
	g_assert_false(sb_source_limits_take(l, "C", t + 350000, &retry)); /* remembered */
	g_assert_cmpuint(sb_source_limits_count(l), ==, 2);
	sb_source_limits_free(l);
	/* 0 per second: no limit. */
	l = sb_source_limits_new(0, 1, 1);
	for (int i = 0; i < 50; i++)
		g_assert_true(sb_source_limits_take(l, "10.0.0.1", t, &retry));
	sb_source_limits_free(l);
}

static void test_room_signature(void)
{
	const char *secret = "a-secret-of-at-least-32-bytes-0123456789";
	gint64 now = 1700000000;
	char *sig = sip_room_sign(secret, "sales", now + 300);
	g_assert_nonnull(sig);
	g_assert_true(g_str_has_prefix(sig, "1700000300."));
	g_assert_cmpuint(strlen(sig), ==, strlen("1700000300.") + 64);
	g_assert_cmpint(sip_room_verify(secret, "sales", sig, now), ==, SIP_ROOM_SIG_OK);
	/* Upper-case hex is the same signature. */
	char *upper = g_ascii_strup(sig, -1);
	g_assert_cmpint(sip_room_verify(secret, "sales", upper, now), ==, SIP_ROOM_SIG_OK);
	g_free(upper);
	/* Another room, another secret, a later expiry, a changed digit. */
	g_assert_cmpint(sip_room_verify(secret, "sales2", sig, now), ==, SIP_ROOM_SIG_WRONG);
	g_assert_cmpint(sip_room_verify("another-secret", "sales", sig, now), ==,
	                SIP_ROOM_SIG_WRONG);
	char *later = g_strdup(sig);
	later[9] = '9';
	g_assert_cmpint(sip_room_verify(secret, "sales", later, now), ==, SIP_ROOM_SIG_WRONG);
	g_free(later);
	char *flipped = g_strdup(sig);
	size_t last = strlen(flipped) - 1;
	flipped[last] = flipped[last] == '0' ? '1' : '0';
	g_assert_cmpint(sip_room_verify(secret, "sales", flipped, now), ==, SIP_ROOM_SIG_WRONG);
	g_free(flipped);
	/* Expired: only once it is ours. */
	g_assert_cmpint(sip_room_verify(secret, "sales", sig, now + 301), ==, SIP_ROOM_SIG_EXPIRED);
	g_assert_cmpint(sip_room_verify(secret, "sales", sig, now + 300), ==, SIP_ROOM_SIG_OK);
	g_free(sig);
	/* Malformed or missing: no dot, no digits, a short or non-hex MAC,
	 * an expiry of more than 19 digits. */
	char *nonhex = g_strdup_printf("1700000300.zz%062d", 0);
	char *long_expiry = g_strdup_printf("12345678901234567890.%064d", 0);
	const char *bad[] = {"",       "1700000300", "1700000300.", ".abc",
	                     "x.0123", nonhex,       long_expiry};
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_cmpint(sip_room_verify(secret, "sales", bad[i], now), ==,
		                i == 0 ? SIP_ROOM_SIG_MISSING : SIP_ROOM_SIG_MALFORMED);
	g_free(nonhex);
	g_free(long_expiry);
	g_assert_cmpint(sip_room_verify(secret, "sales", NULL, now), ==, SIP_ROOM_SIG_MISSING);
	/* No secret: nothing is signed, nothing verifies. */
	g_assert_null(sip_room_sign(NULL, "sales", now));
	g_assert_null(sip_room_sign("", "sales", now));
	sig = sip_room_sign(secret, "sales", now + 300);
	g_assert_cmpint(sip_room_verify(NULL, "sales", sig, now), ==, SIP_ROOM_SIG_WRONG);
	g_assert_cmpint(sip_room_verify("", "sales", sig, now), ==, SIP_ROOM_SIG_WRONG);
	g_free(sig);
}

/* The response a phone computes (RFC 2617 section 3.2.2). */
static char *client_response(const char *user, const char *realm, const char *pass,
                             const char *method, const char *uri, const char *nonce, const char *nc,
                             const char *cnonce)
{
	char *a1 = g_strdup_printf("%s:%s:%s", user, realm, pass);
	char *a2 = g_strdup_printf("%s:%s", method, uri);
	char *h1 = g_compute_checksum_for_string(G_CHECKSUM_MD5, a1, -1);
	char *h2 = g_compute_checksum_for_string(G_CHECKSUM_MD5, a2, -1);
	char *kd = g_strdup_printf("%s:%s:%s:%s:auth:%s", h1, nonce, nc, cnonce, h2);
	char *r = g_compute_checksum_for_string(G_CHECKSUM_MD5, kd, -1);
	g_free(a1), g_free(a2), g_free(h1), g_free(h2), g_free(kd);
	return r;
}

static void test_digest(void)
{
	const char *secret = "s3cret";
	gint64 now = 1700000000;
	char *challenge = sb_digest_challenge("switchboard", secret, now);
	const char *n = strstr(challenge, "nonce=\"") + 7;
	char *nonce = g_strndup(n, (gsize)(strchr(n, '"') - n));
	char *resp = client_response("pbx", "switchboard", "pw", "INVITE", "sip:room@127.0.0.1",
	                             nonce, "00000001", "abc");
	char *header =
	        g_strdup_printf("Digest username=\"pbx\", realm=\"switchboard\", nonce=\"%s\", "
	                        "uri=\"sip:room@127.0.0.1\", response=\"%s\", qop=auth, "
	                        "nc=00000001, cnonce=\"abc\", algorithm=MD5",
	                        nonce, resp);
	sb_digest_credentials creds;
	char *storage = NULL;
	g_assert_true(sb_digest_parse(header, &creds, &storage));
	g_assert_true(sb_digest_verify(&creds, "INVITE", "pbx", "pw", "switchboard", secret,
	                               now + 10, 300));
	/* Wrong password, stale nonce, another process's nonce, another user. */
	g_assert_false(
	        sb_digest_verify(&creds, "INVITE", "pbx", "pw2", "switchboard", secret, now, 300));
	g_assert_false(sb_digest_verify(&creds, "INVITE", "pbx", "pw", "switchboard", secret,
	                                now + 301, 300));
	g_assert_false(
	        sb_digest_verify(&creds, "INVITE", "pbx", "pw", "switchboard", "other", now, 300));
	g_assert_false(
	        sb_digest_verify(&creds, "INVITE", "admin", "pw", "switchboard", secret, now, 300));
	g_free(storage);
	g_assert_false(sb_digest_parse("Digest username=\"unterminated", &creds, &storage));
	g_free(storage);
	g_assert_false(sb_digest_parse("Digest realm=x", &creds, &storage));
	g_free(storage);
	g_free(header), g_free(resp), g_free(nonce), g_free(challenge);
}

static void test_dtmf_detect(void)
{
	sb_dtmf_detector d = {0};
	uint8_t five[4] = {5, 10, 0, 160};
	g_assert_cmpint(sb_dtmf_detect(&d, 1000, five, 4), ==, '5');
	five[2] = 1; /* the same event growing: not a new digit */
	g_assert_cmpint(sb_dtmf_detect(&d, 1000, five, 4), ==, 0);
	five[1] |= 0x80; /* End, three times */
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(sb_dtmf_detect(&d, 1000, five, 4), ==, 0);
	uint8_t hash[4] = {11, 10, 0, 160};
	g_assert_cmpint(sb_dtmf_detect(&d, 2000, hash, 4), ==, '#');
	uint8_t bad[4] = {42, 0, 0, 0};
	g_assert_cmpint(sb_dtmf_detect(&d, 3000, bad, 4), ==, 0);
	g_assert_cmpint(sb_dtmf_detect(&d, 4000, hash, 3), ==, 0);
}

static void test_dtmf_sender(void)
{
	sb_dtmf_sender s;
	sb_dtmf_sender_init(&s);
	g_assert_false(sb_dtmf_sender_push(&s, "12x"));
	g_assert_false(sb_dtmf_sender_push(&s, ""));
	g_assert_true(sb_dtmf_sender_push(&s, "1#"));
	uint8_t payload[4];
	uint32_t ts;
	bool marker;
	GString *events = g_string_new(NULL);
	int ends = 0, packets = 0;
	uint32_t first_ts = 0;
	for (uint32_t frame = 0; frame < 40; frame++) {
		if (!sb_dtmf_sender_next(&s, 1000 + frame * 160, 160, payload, &ts, &marker))
			continue;
		packets++;
		if (marker) {
			g_string_append_c(events, sb_dtmf_digit_from_event(payload[0]));
			first_ts = ts;
		}
		g_assert_cmpuint(ts, ==, first_ts); /* one timestamp per event */
		ends += (payload[1] & 0x80) != 0;
	}
	g_assert_cmpstr(events->str, ==, "1#");
	g_assert_cmpint(ends, ==, 6);     /* End sent three times per digit */
	g_assert_cmpint(packets, ==, 14); /* 100 ms + 2 repeats each */
	g_string_free(events, TRUE);
	/* The queue is bounded. */
	char many[SB_DTMF_QUEUE_MAX + 2];
	memset(many, '9', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	g_assert_false(sb_dtmf_sender_push(&s, many));
}

static void test_dtmf_info(void)
{
	const char relay[] = "Signal=5\r\nDuration=160\r\n";
	g_assert_cmpint(sb_dtmf_from_info("application/dtmf-relay", relay, strlen(relay)), ==, '5');
	const char star[] = "Signal= *\r\nDuration=100";
	g_assert_cmpint(sb_dtmf_from_info("application/dtmf-relay", star, strlen(star)), ==, '*');
	const char ten[] = "Signal=10\r\n";
	g_assert_cmpint(sb_dtmf_from_info("application/dtmf-relay", ten, strlen(ten)), ==, '*');
	g_assert_cmpint(sb_dtmf_from_info("application/dtmf", "#", 1), ==, '#');
	g_assert_cmpint(sb_dtmf_from_info("application/dtmf", "x", 1), ==, 0);
	g_assert_cmpint(sb_dtmf_from_info("text/plain", "Signal=5", 8), ==, 0);
	const char junk[] = "Signal=\r\n";
	g_assert_cmpint(sb_dtmf_from_info("application/dtmf-relay", junk, strlen(junk)), ==, 0);
}

static void test_srtp(void)
{
	char a[SB_SRTP_KEY_B64_LEN + 1], b[SB_SRTP_KEY_B64_LEN + 1];
	sb_srtp_new_key(a);
	sb_srtp_new_key(b);
	g_assert_cmpstr(a, !=, b);
	sb_srtp *alice = sb_srtp_new(a, b), *bob = sb_srtp_new(b, a), *eve = sb_srtp_new(b, b);
	g_assert_nonnull(alice);
	g_assert_nonnull(bob);
	uint8_t pkt[12 + 160 + SB_SRTP_TAG_LEN] = {0x80, 0,   0,    1,    0,    0,
	                                           0,    160, 0x12, 0x34, 0x56, 0x78};
	for (int i = 12; i < 172; i++)
		pkt[i] = (uint8_t)i;
	uint8_t copy[sizeof(pkt)];
	size_t len = 172;
	g_assert_true(sb_srtp_protect(alice, pkt, &len));
	g_assert_cmpuint(len, ==, 172 + SB_SRTP_TAG_LEN);
	g_assert_cmpint(pkt[20], !=, 20); /* the payload is encrypted */
	memcpy(copy, pkt, len);
	size_t copy_len = len;
	g_assert_true(sb_srtp_unprotect(bob, pkt, &len));
	g_assert_cmpuint(len, ==, 172);
	g_assert_cmpint(pkt[20], ==, 20);
	/* The wrong key, a replay and a flipped bit are refused. */
	g_assert_false(sb_srtp_unprotect(eve, copy, &copy_len));
	memcpy(pkt, copy, sizeof(copy));
	len = 172 + SB_SRTP_TAG_LEN;
	g_assert_false(sb_srtp_unprotect(bob, pkt, &len));
	sb_srtp_free(alice), sb_srtp_free(bob), sb_srtp_free(eve);
	int tag = 0;
	char key[SB_SRTP_KEY_B64_LEN + 1];
	g_assert_true(
	        sb_srtp_parse_crypto("2 AES_CM_128_HMAC_SHA1_80 "
	                             "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32",
	                             &tag, key));
	g_assert_cmpint(tag, ==, 2);
	g_assert_false(sb_srtp_parse_crypto(
	        "1 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz", &tag,
	        key));
	g_assert_false(sb_srtp_parse_crypto("1 AES_CM_128_HMAC_SHA1_80 inline:short", &tag, key));
	g_assert_null(sb_srtp_new("not base64 at all!!", a));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sip/sdp/twilio-offer", test_sdp_twilio_offer);
	g_test_add_func("/sip/sdp/preferences", test_sdp_prefers_ours_and_dynamic);
	g_test_add_func("/sip/sdp/round-trip", test_sdp_answer_round_trip);
	g_test_add_func("/sip/sdp/bad-input", test_sdp_bad_input);
	g_test_add_func("/sip/acl", test_acl);
	g_test_add_func("/sip/rate-limit", test_rate_limit);
	g_test_add_func("/sip/source-limits", test_source_limits);
	g_test_add_func("/sip/room-signature", test_room_signature);
	g_test_add_func("/sip/digest", test_digest);
	g_test_add_func("/dtmf/detect", test_dtmf_detect);
	g_test_add_func("/dtmf/sender", test_dtmf_sender);
	g_test_add_func("/dtmf/info", test_dtmf_info);
	g_test_add_func("/sip/srtp", test_srtp);
	return g_test_run();
}
