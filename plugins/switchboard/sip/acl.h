/* Who may call in: an allow-list of IPv4/IPv6 addresses and CIDR blocks,
 * and a call-rate limit (token bucket).  Pure data, no locking: the SIP
 * thread is the only user. */
#ifndef SB_SIP_ACL_H
#define SB_SIP_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

typedef struct sb_acl sb_acl;

/* "127.0.0.1, 54.172.60.0/30, ::1" (commas or spaces).  Returns NULL and
 * sets *bad to the first entry that is not an address or CIDR (g_free). */
sb_acl *sb_acl_parse(const char *list, char **bad);
void sb_acl_free(sb_acl *acl);
/* An empty list allows nobody; NULL (no list configured) allows everyone. */
bool sb_acl_allows(const sb_acl *acl, const char *ip);
guint sb_acl_count(const sb_acl *acl);

typedef struct sb_rate_limit {
	double tokens, per_second, burst;
	gint64 last_us;
} sb_rate_limit;

/* per_second <= 0: unlimited. */
void sb_rate_limit_init(sb_rate_limit *r, double per_second, double burst);
bool sb_rate_limit_take(sb_rate_limit *r, gint64 now_us);

#endif
