/* Address lists: IPv4/IPv6 addresses and CIDR blocks, for who may send
 * SIP INVITEs ([sip] allow) and where rtp_join may send a room's audio
 * ([security] rtp_join_allow).  Pure data without locks: a list is built
 * once at start and only read afterwards; unit-tested alone. */
#include "endpoints/endpoints.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

typedef struct acl_entry {
	int family;
	uint8_t addr[16];
	int prefix;
} acl_entry;

struct sb_acl {
	GArray *entries; /* acl_entry */
};

static bool parse_entry(const char *text, acl_entry *e)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, text, n);
	host[n] = '\0';
	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, host, e->addr) == 1)
		e->family = AF_INET, e->prefix = 32;
	else if (inet_pton(AF_INET6, host, e->addr) == 1)
		e->family = AF_INET6, e->prefix = 128;
	else
		return false;
	if (slash) {
		char *end = NULL;
		long p = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || p < 0 || p > e->prefix)
			return false;
		e->prefix = (int)p;
	}
	return true;
}

sb_acl *sb_acl_parse(const char *list, char **bad)
{
	*bad = NULL;
	sb_acl *acl = g_new0(sb_acl, 1);
	acl->entries = g_array_new(FALSE, FALSE, sizeof(acl_entry));
	char **items = g_strsplit_set(list ? list : "", ", \t", -1);
	for (char **it = items; *it; it++) {
		if (!**it)
			continue;
		acl_entry e;
		if (!parse_entry(*it, &e)) {
			*bad = g_strdup(*it);
			g_strfreev(items);
			sb_acl_free(acl);
			return NULL;
		}
		g_array_append_val(acl->entries, e);
	}
	g_strfreev(items);
	return acl;
}

void sb_acl_free(sb_acl *acl)
{
	if (!acl)
		return;
	g_array_free(acl->entries, TRUE);
	g_free(acl);
}

guint sb_acl_count(const sb_acl *acl)
{
	return acl ? acl->entries->len : 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int bytes = bits / 8, rest = bits % 8;
	if (memcmp(a, b, (size_t)bytes) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

bool sb_acl_allows(const sb_acl *acl, const char *ip)
{
	if (!acl)
		return false;
	acl_entry probe;
	if (!ip || !parse_entry(ip, &probe) || strchr(ip, '/'))
		return false;
	/* An IPv4 peer may show up as ::ffff:a.b.c.d on a dual-stack socket. */
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (probe.family == AF_INET6 && !memcmp(probe.addr, mapped, 12)) {
		memmove(probe.addr, probe.addr + 12, 4);
		probe.family = AF_INET;
	}
	for (guint i = 0; i < acl->entries->len; i++) {
		const acl_entry *e = &g_array_index(acl->entries, acl_entry, i);
		if (e->family == probe.family && prefix_match(e->addr, probe.addr, e->prefix))
			return true;
	}
	return false;
}
