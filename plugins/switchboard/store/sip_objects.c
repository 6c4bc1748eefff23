/* LiveKit's SIP trunks and dispatch rules in the store: one row per object
 * with its LiveKit JSON as text, so the livekit module, which owns their
 * meaning, can add fields without a migration.  The module answers from
 * its own copy in memory; here it only loads them at start-up and queues
 * every change, so no request thread waits for a database.  The module's
 * store.h calls (api.c) are these on the module's store. */
#include "store/store_private.h"

json_t *sb_sip_objects_load(sb_store *s, char **error)
{
	json_t *rows = sb_store_query(s,
	                              "SELECT id, kind, body, created, updated FROM sip_objects"
	                              " ORDER BY created, id",
	                              NULL, error);
	if (!rows)
		return NULL;
	json_t *list = json_array(), *row;
	size_t i;
	json_array_foreach(rows, i, row)
	{
		const char *text = json_string_value(json_object_get(row, "body"));
		json_t *body = text ? json_loads(text, 0, NULL) : NULL;
		if (!json_is_object(body)) {
			json_decref(body);
			continue; /* not ours to repair: left out */
		}
		json_array_append_new(list,
		                      json_pack("{sOsOsosOsO}", "id", json_object_get(row, "id"),
		                                "kind", json_object_get(row, "kind"), "body", body,
		                                "created", json_object_get(row, "created"),
		                                "updated", json_object_get(row, "updated")));
	}
	json_decref(rows);
	return list;
}

void sb_sip_objects_save(sb_store *s, const char *id, const char *kind, json_t *body,
                         gint64 created_ms, gint64 updated_ms)
{
	char *text = json_dumps(body, JSON_COMPACT);
	sb_store_write(s,
	               "INSERT INTO sip_objects (id, kind, body, created, updated)"
	               " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
	               " kind = excluded.kind, body = excluded.body, updated = excluded.updated",
	               json_pack("[sssII]", id, kind, text, (json_int_t)created_ms,
	                         (json_int_t)updated_ms));
	free(text);
}

void sb_sip_objects_delete(sb_store *s, const char *id)
{
	sb_store_write(s, "DELETE FROM sip_objects WHERE id = ?", json_pack("[s]", id));
}
