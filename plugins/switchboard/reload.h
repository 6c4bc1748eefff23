/* Operations that apply configuration changes without a restart:
 * reload_kb (the agent's knowledge base) and reload_providers (the
 * [providers] and [agent] sections of the config file).  Admin only;
 * through the Janus Admin API, the Janus API with the admin key, and
 * POST /api/admin. */
#ifndef SB_RELOAD_H
#define SB_RELOAD_H

/* folder: where the config file is (NULL: defaults only). */
void sb_reload_ops_register(const char *folder);

#endif
