/* The store module: opens the configured store at start-up, feeds it from
 * the bus (records.c), serves the read API and the admin routes, and
 * flushes once the rooms are gone.  Config: [store] store = "sqlite" (a
 * file, path = …) or "postgresql://…"; queue_max. */
#ifndef SB_STORE_STORE_H
#define SB_STORE_STORE_H

#include <stdbool.h>
#include <glib.h>
#include <jansson.h>

#include "core/core.h"

bool sb_store_module_start(const sb_settings *settings);
void sb_store_module_stop(void);
void sb_store_module_finish(void);

/* ---- accounts ----
 * Human agents' console accounts (the console module checks passwords and
 * signs agents in; this keeps them): agent id, name, role, the dial grant
 * and the password's hash, never the password.  Synchronous on the store's
 * reader connection (short timeouts): call them only from a thread that
 * may wait (the console's accounts thread), never the HTTP, SIP or a
 * media thread.  Between the module's start and finish. */
typedef enum {
	SB_ACCOUNT_OK = 0,
	SB_ACCOUNT_EXISTS,      /* add: that agent id has an account already */
	SB_ACCOUNT_NOT_FOUND,   /* delete: no such account */
	SB_ACCOUNT_UNAVAILABLE, /* the store is off or did not answer (*error) */
} sb_account_result;

/* Is there a store to keep accounts in? */
bool sb_store_accounts_available(void);
/* The account as {"agentId","name","role","dial","hash","created"}, or
 * json_null() when there is none; NULL (with *error) when the store is off
 * or failed. */
json_t *sb_store_account_get(const char *agent_id, char **error);
/* [{"agentId","name","role","dial","created"}] ordered by agent id (no
 * hashes), or NULL with *error. */
json_t *sb_store_accounts_list(char **error);
/* name may be NULL; hash is the crypt(3) string. */
sb_account_result sb_store_account_add(const char *agent_id, const char *name, const char *role,
                                       bool dial, const char *hash, gint64 created_ms,
                                       char **error);
sb_account_result sb_store_account_delete(const char *agent_id, char **error);

/* ---- SIP objects ----
 * LiveKit's SIP trunks and dispatch rules (the livekit module keeps them
 * in memory and here, so they survive a restart): rows of an id, a kind
 * and a JSON body.  Loading is synchronous on the reader connection: only
 * at start-up, from a thread that may wait.  Saving and deleting are
 * queued on the writer and never block (a database that is away gets them
 * when it is back, in order). */
bool sb_store_sip_objects_available(void);
/* [{"id","kind","body" (an object),"created","updated"}] in creation
 * order, or NULL with *error (the store is off, or did not answer). */
json_t *sb_store_sip_objects_load(char **error);
/* Inserts or replaces the row of id; body borrowed. */
void sb_store_sip_object_save(const char *id, const char *kind, json_t *body, gint64 created_ms,
                              gint64 updated_ms);
void sb_store_sip_object_delete(const char *id);

#endif
