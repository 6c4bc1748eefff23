/* SDP offer/answer for SIP legs (RFC 3264), audio only: what the peer
 * offers or answers (address, port, codecs, telephone-event, direction,
 * SDES crypto), the choice of one codec by our preferences, and our own
 * offers and answers.  Every byte comes from the network: the parser checks
 * lengths and refuses what it does not understand rather than guess. */
#ifndef SB_SIP_SDP_H
#define SB_SIP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/codec.h"

#define SB_SDP_MAX_FORMATS 32
#define SB_SDP_MAX_TEXT 16384

typedef enum {
	SB_SDP_SENDRECV = 0,
	SB_SDP_SENDONLY,
	SB_SDP_RECVONLY,
	SB_SDP_INACTIVE,
} sb_sdp_direction;

typedef struct sb_sdp_format {
	int pt;
	char name[24]; /* "PCMU", "opus", "telephone-event" (as sent) */
	int rate;
	int channels;
} sb_sdp_format;

typedef struct sb_sdp {
	char ip[64];      /* media-level c= or else session-level */
	uint16_t port;    /* 0: audio refused/removed */
	bool secure;      /* RTP/SAVP */
	char crypto[128]; /* first a=crypto with AES_CM_128_HMAC_SHA1_80: "tag suite inline:key" */
	sb_sdp_format formats[SB_SDP_MAX_FORMATS];
	int format_count;
	sb_sdp_direction direction;
	bool rtcp_mux;
} sb_sdp;

/* Returns false with a short reason in *error (static) for anything
 * without exactly one usable audio stream description. */
bool sb_sdp_parse(const char *text, size_t len, sb_sdp *out, const char **error);

typedef struct sb_sdp_choice {
	sb_codec_id codec;
	int pt;      /* the peer's payload type for it */
	int dtmf_pt; /* telephone-event at the codec's clock; 0: none */
} sb_sdp_choice;

/* The first codec of prefs (in our order) the offer also has.  False: no
 * usable codec (the call gets 488). */
bool sb_sdp_choose(const sb_sdp *offer, const sb_codec_id *prefs, int pref_count,
                   sb_sdp_choice *out);
/* In an answer to our offer: the first codec the peer kept (its order). */
bool sb_sdp_choose_answer(const sb_sdp *answer, sb_sdp_choice *out);

typedef struct sb_sdp_local {
	const char *ip;
	uint16_t port;
	uint64_t session_id, version;
	/* An answer lists one codec; an offer lists all of prefs. */
	const sb_sdp_choice *answer; /* NULL for an offer */
	const sb_codec_id *prefs;
	int pref_count;
	sb_sdp_direction direction;
	const char *crypto; /* our a=crypto line value, or NULL */
} sb_sdp_local;

/* g_free-able SDP text. */
char *sb_sdp_build(const sb_sdp_local *local);

const char *sb_sdp_direction_name(sb_sdp_direction d);
/* What we answer to a direction the peer offers. */
sb_sdp_direction sb_sdp_answer_direction(sb_sdp_direction offered);

#endif
