/* Console accounts in the store: one row per human agent, the password as
 * its crypt(3) hash only (the console module hashes and checks; nothing
 * here sees a password).  Reads and writes are synchronous on the store's
 * reader connection, so that an account is there, or refused, when the
 * operator's request is answered — the queued writer would answer before
 * the database did.  Single statements (INSERT … ON CONFLICT DO NOTHING
 * RETURNING, DELETE … RETURNING) keep two nodes sharing a PostgreSQL
 * database from both believing they made the same account. */
#include "store/store.h"

#include "store/store_private.h"

bool sb_store_accounts_available(void)
{
	return sb_store_module_store() != NULL;
}

static sb_store *store_or_error(char **error)
{
	sb_store *s = sb_store_module_store();
	if (!s)
		*error = g_strdup_printf("the store is off: %s", sb_store_module_unavailable());
	return s;
}

/* A row as the account it is (the hash only when asked). */
static json_t *account_json(json_t *row, bool with_hash)
{
	json_t *a = json_pack("{s:O, s:O, s:O, s:b, s:O}", "agentId",
	                      json_object_get(row, "agent_id"), "name",
	                      json_object_get(row, "name"), "role", json_object_get(row, "role"),
	                      "dial", json_integer_value(json_object_get(row, "dial")) != 0,
	                      "created", json_object_get(row, "created"));
	if (with_hash)
		json_object_set(a, "hash", json_object_get(row, "password_hash"));
	return a;
}

json_t *sb_store_account_get(const char *agent_id, char **error)
{
	sb_store *s = store_or_error(error);
	if (!s)
		return NULL;
	json_t *params = json_pack("[s]", agent_id);
	json_t *rows = sb_store_query(s,
	                              "SELECT agent_id, name, role, dial, password_hash, created"
	                              " FROM console_accounts WHERE agent_id = ?",
	                              params, error);
	json_decref(params);
	if (!rows)
		return NULL;
	json_t *row = json_array_get(rows, 0);
	json_t *a = row ? account_json(row, true) : json_null();
	json_decref(rows);
	return a;
}

json_t *sb_store_accounts_list(char **error)
{
	sb_store *s = store_or_error(error);
	if (!s)
		return NULL;
	json_t *rows = sb_store_query(s,
	                              "SELECT agent_id, name, role, dial, created"
	                              " FROM console_accounts ORDER BY agent_id",
	                              NULL, error);
	if (!rows)
		return NULL;
	json_t *list = json_array(), *row;
	size_t i;
	json_array_foreach(rows, i, row) json_array_append_new(list, account_json(row, false));
	json_decref(rows);
	return list;
}

sb_account_result sb_store_account_add(const char *agent_id, const char *name, const char *role,
                                       bool dial, const char *hash, gint64 created_ms, char **error)
{
	sb_store *s = store_or_error(error);
	if (!s)
		return SB_ACCOUNT_UNAVAILABLE;
	json_t *params = json_pack("[s, s?, s, i, s, I]", agent_id, name, role, dial ? 1 : 0, hash,
	                           (json_int_t)created_ms);
	json_t *rows = sb_store_query(
	        s,
	        "INSERT INTO console_accounts (agent_id, name, role, dial, password_hash, created)"
	        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id",
	        params, error);
	json_decref(params);
	if (!rows)
		return SB_ACCOUNT_UNAVAILABLE;
	sb_account_result r = json_array_size(rows) ? SB_ACCOUNT_OK : SB_ACCOUNT_EXISTS;
	json_decref(rows);
	return r;
}

sb_account_result sb_store_account_delete(const char *agent_id, char **error)
{
	sb_store *s = store_or_error(error);
	if (!s)
		return SB_ACCOUNT_UNAVAILABLE;
	json_t *params = json_pack("[s]", agent_id);
	json_t *rows = sb_store_query(
	        s, "DELETE FROM console_accounts WHERE agent_id = ? RETURNING agent_id", params,
	        error);
	json_decref(params);
	if (!rows)
		return SB_ACCOUNT_UNAVAILABLE;
	sb_account_result r = json_array_size(rows) ? SB_ACCOUNT_OK : SB_ACCOUNT_NOT_FOUND;
	json_decref(rows);
	return r;
}
