/* Small helpers more than one module needs, written once: where state
 * files go (the store's database and the recordings default to it, so one
 * variable moves them all) and the write loop that survives signals and
 * short writes. */
#include "core/core.h"

#include <errno.h>

char *sb_state_path(const char *name)
{
	const char *dir = g_getenv("SWITCHBOARD_STATE_DIR");
	if (dir && *dir)
		return g_build_filename(dir, name, NULL);
	return g_build_filename(g_get_user_state_dir(), "switchboard", name, NULL);
}

char *sb_config_secret(const char *value)
{
	if (!value)
		return NULL;
	if (!g_str_has_prefix(value, "env:"))
		return g_strdup(value);
	const char *env = g_getenv(value + 4);
	return env && *env ? g_strdup(env) : NULL;
}

bool sb_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}
