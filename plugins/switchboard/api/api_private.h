/* Inside the API module (private interface): what the operation files
 * share, the notifications socket, the metrics page. */
#ifndef SB_API_API_PRIVATE_H
#define SB_API_API_PRIVATE_H

#include <libsoup/soup.h>

#include "api/api.h"

/* ---- ops_internal ----
 * Shared by the files of the core operations (ops.c: the registry,
 * sessions, tokens and stats; ops_rooms.c: rooms and participants).  Not
 * for other modules: they use api.h. */
typedef sb_field field;
#define F_STRING SB_F_STRING
#define F_INTEGER SB_F_INTEGER
#define F_BOOLEAN SB_F_BOOLEAN
#define check_fields sb_ops_check_fields
#define ROOM_FIELD SB_OPS_ROOM_FIELD
#define SECRET_FIELD SB_OPS_SECRET_FIELD
#define ID_FIELD SB_OPS_ID_FIELD

static inline const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* {"switchboard": "success"} */
#define success() sb_ops_answer("success")
bool sb_ops_role_valid(const char *role);
/* NULL when valid, else the error to answer (invalid element). */
json_t *sb_ops_room_name_error(const char *name);
json_t *sb_ops_role_error(const char *role);

/* The room and participant operations (ops_rooms.c). */
extern const sb_op sb_room_ops[];
extern const size_t sb_room_ops_count;
/* Forgets the modules' join-answer hooks, agent config check and join
 * token verifier. */
void sb_room_ops_forget_hooks(void);
/* A join token for room (NULL: any) of any kind: ours (signed with the
 * jwt_secret), else the registered verifier's.  As sb_auth_token_verify. */
sb_token_status sb_ops_join_token_verify(const char *token, const char *room,
                                         sb_join_claims *claims);

/* ---- notify ----
 * WS /ws/notifications: every client gets every event of the bus
 * (events.c) as a JSON text frame.  Runs on the HTTP thread. */

#define SB_NOTIFY_PATH "/ws/notifications"

/* HTTP thread: adds the WebSocket route and subscribes to the bus. */
void sb_notify_attach(SoupServer *server);
/* HTTP thread: closes every client and unsubscribes. */
void sb_notify_detach(void);
unsigned sb_notify_clients(void);
/* Clients closed for falling too far behind. */
guint64 sb_notify_dropped(void);

/* ---- metrics ----
 * GET /metrics: the plugin's counters in Prometheus text format. */

/* g_free the result. */
char *sb_metrics_prometheus(void);
void sb_metrics_unregister_all(void);
void sb_ops_unregister_all(void);

/* ---- principal.c ---- */

/* NULL when ctx may run op on body, else the error to answer. */
json_t *sb_ops_access_error(const sb_op *op, json_t *body, sb_op_ctx *ctx);
/* What a handle proved: its join token's principal. */
void sb_ops_session_set_principal(struct sb_session *session, const sb_principal *who);
/* Counts a guest room made through this handle; false beyond max. */
bool sb_ops_session_count_room(struct sb_session *session, unsigned max);
/* May a non-operator make a room now (create; join with auto_create:
 * body NULL)?  NULL, or the error. */
json_t *sb_ops_guest_room_error(json_t *body, sb_op_ctx *ctx);
void sb_ops_guest_room_made(const char *name);
/* A token that makes its holder admin of room (g_free). */
char *sb_ops_room_admin_token(const char *room);
/* At shutdown: every handle's and guest room's record. */
void sb_ops_guests_forget_all(void);
void sb_ops_limits_metrics(GString *out);

#endif
