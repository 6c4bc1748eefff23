/* Who may call in, how often, and into which room.  The call rate is a
 * token bucket for everyone and one per source address, so a flood from
 * one source spends its own budget and not the carrier's; the per-source
 * table is bounded (a source that sent nothing for a while has a full
 * bucket, which is the same as no entry).  A room named by an INVITE must
 * carry Switchboard's signature for it: an HMAC over the room and an
 * expiry, made where Switchboard itself sends calls into rooms (the
 * Twilio <Dial><Sip>), so knowing a room's name is not enough to enter
 * it.  Pure data without locks (the SIP thread is the only user of the
 * buckets); unit-tested and fuzzed alone. */
#include "sip/sip_private.h"

#include <stdlib.h>
#include <string.h>

/* ---- rate ----------------------------------------------------------------- */

void sb_rate_limit_init(sb_rate_limit *r, double per_second, double burst)
{
	r->per_second = per_second;
	r->burst = burst < 1 ? 1 : burst;
	r->tokens = r->burst;
	r->last_us = 0;
}

static void refill(sb_rate_limit *r, gint64 now_us)
{
	if (r->last_us && now_us > r->last_us)
		r->tokens += (double)(now_us - r->last_us) / 1e6 * r->per_second;
	r->last_us = now_us;
	if (r->tokens > r->burst)
		r->tokens = r->burst;
}

bool sb_rate_limit_take(sb_rate_limit *r, gint64 now_us)
{
	if (r->per_second <= 0)
		return true;
	refill(r, now_us);
	if (r->tokens < 1)
		return false;
	r->tokens -= 1;
	return true;
}

int sb_rate_limit_retry_after(const sb_rate_limit *r)
{
	if (r->per_second <= 0 || r->tokens >= 1)
		return 1;
	double s = (1 - r->tokens) / r->per_second;
	return s < 1 ? 1 : s > 3600 ? 3600 : (int)(s + 0.999);
}

struct sb_source_limits {
	double per_second, burst;
	guint max_sources;
	GHashTable *buckets; /* source text -> sb_rate_limit */
};

sb_source_limits *sb_source_limits_new(double per_second, double burst, guint max_sources)
{
	sb_source_limits *l = g_new0(sb_source_limits, 1);
	l->per_second = per_second;
	l->burst = burst < 1 ? 1 : burst;
	l->max_sources = max_sources ? max_sources : 1;
	l->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return l;
}

void sb_source_limits_free(sb_source_limits *l)
{
	if (!l)
		return;
	g_hash_table_destroy(l->buckets);
	g_free(l);
}

guint sb_source_limits_count(const sb_source_limits *l)
{
	return l ? g_hash_table_size(l->buckets) : 0;
}

/* Room for one more source: forget every bucket that refilled, or else
 * the one used longest ago (its source starts afresh if it comes back). */
static void make_room(sb_source_limits *l, gint64 now_us)
{
	GHashTableIter it;
	gpointer key, value;
	const char *oldest = NULL;
	gint64 oldest_us = G_MAXINT64;
	g_hash_table_iter_init(&it, l->buckets);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const sb_rate_limit *r = value;
		double tokens = r->tokens + (double)(now_us - r->last_us) / 1e6 * r->per_second;
		if (tokens >= r->burst) {
			g_hash_table_iter_remove(&it);
			continue;
		}
		if (r->last_us < oldest_us)
			oldest_us = r->last_us, oldest = key;
	}
	if (g_hash_table_size(l->buckets) >= l->max_sources && oldest)
		g_hash_table_remove(l->buckets, oldest);
}

bool sb_source_limits_take(sb_source_limits *l, const char *source, gint64 now_us, int *retry_after)
{
	*retry_after = 1;
	if (!l || l->per_second <= 0)
		return true;
	if (!source)
		source = "";
	sb_rate_limit *r = g_hash_table_lookup(l->buckets, source);
	if (!r) {
		if (g_hash_table_size(l->buckets) >= l->max_sources)
			make_room(l, now_us);
		r = g_new(sb_rate_limit, 1);
		sb_rate_limit_init(r, l->per_second, l->burst);
		g_hash_table_insert(l->buckets, g_strdup(source), r);
	}
	if (sb_rate_limit_take(r, now_us))
		return true;
	*retry_after = sb_rate_limit_retry_after(r);
	return false;
}

/* ---- X-Room-Signature --------------------------------------------------- */

#define SIP_ROOM_PURPOSE "switchboard-sip-room"

char *sip_room_sign(const char *secret, const char *room, gint64 expires_s)
{
	return sb_grant_sign(secret, SIP_ROOM_PURPOSE, room, expires_s);
}

sip_room_sig_status sip_room_verify(const char *secret, const char *room, const char *signature,
                                    gint64 now_s)
{
	/* The two enums are the same list, kept apart so SIP's words for them
	 * stay in SIP. */
	return (sip_room_sig_status)sb_grant_verify(secret, SIP_ROOM_PURPOSE, room, signature,
	                                            now_s);
}

const char *sip_room_sig_text(sip_room_sig_status status)
{
	switch (status) {
	case SIP_ROOM_SIG_OK:
		return "valid";
	case SIP_ROOM_SIG_MISSING:
		return "X-Room needs X-Room-Signature";
	case SIP_ROOM_SIG_MALFORMED:
		return "X-Room-Signature is malformed";
	case SIP_ROOM_SIG_EXPIRED:
		return "X-Room-Signature has expired";
	case SIP_ROOM_SIG_WRONG:
		break;
	}
	return "X-Room-Signature does not match the room";
}
