/* WS /ws/console?token=<console token>: what one human agent's console
 * needs of the bus, and nothing else — the queue and presence (everyone's,
 * as GET /api/queue and /api/agents show them), and the events about their
 * own chats and calls (whatsapp_message, chat_assigned, chat_released,
 * chat_ended, call_assigned naming their agent id).  The whole bus
 * (/ws/notifications) stays the operator's.  The token rides in the query
 * because a browser cannot set headers on a WebSocket upgrade.
 *
 * Clients live on the HTTP thread; the bus listener only posts a copy
 * there.  A client that stops reading is closed once what we handed it
 * without progress passes a bound, as on /ws/notifications. */
#include "console/console_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"

#define CONSOLE_WS_PATH "/ws/console"
#define PER_AGENT_MAX 4 /* a few tabs */
#define MAX_BACKLOG (256 * 1024)

typedef struct client {
	SoupWebsocketConnection *conn; /* strong */
	char agent[SB_AGENT_ID_MAX + 1];
	sb_ws_backpressure pressure;
} client;

static GPtrArray *clients; /* client*, HTTP thread only */
static volatile gint client_count;
static unsigned subscription;

static void client_free(gpointer data)
{
	client *c = data;
	g_signal_handlers_disconnect_by_data(c->conn, c);
	g_object_unref(c->conn);
	g_free(c);
}

/* The agent id a console token proves, or false. */
static bool token_agent(const char *token, char agent[SB_AGENT_ID_MAX + 1])
{
	sb_join_claims claims;
	if (!token || sb_auth_token_verify(sb_plugin_settings->jwt_secret, token, NULL, &claims) !=
	                      SB_TOKEN_OK)
		return false;
	bool ok = claims.console && sb_presence_agent_id_valid(claims.identity);
	if (ok)
		g_strlcpy(agent, claims.identity, SB_AGENT_ID_MAX + 1);
	sb_join_claims_clear(&claims);
	return ok;
}

static unsigned clients_of(const char *agent)
{
	unsigned n = 0;
	for (guint i = 0; clients && i < clients->len; i++)
		n += !strcmp(((client *)g_ptr_array_index(clients, i))->agent, agent);
	return n;
}

/* HTTP thread, before the handshake. */
static int authorize(const sb_rest_request *req, char **message)
{
	const char *token = req->query ? g_hash_table_lookup(req->query, "token") : NULL;
	const char *header = sb_rest_header(req, "Authorization");
	if (!token && header && !g_ascii_strncasecmp(header, "Bearer ", 7))
		token = header + 7;
	char agent[SB_AGENT_ID_MAX + 1];
	if (!token_agent(token, agent)) {
		*message = g_strdup("A console token is needed (?token=…, from POST "
		                    "/api/agents/signin)");
		return 401;
	}
	if (clients_of(agent) >= PER_AGENT_MAX) {
		json_t *e =
		        sb_ops_limit_error("console_sockets_per_agent",
		                           "At most %d console sockets per agent", PER_AGENT_MAX);
		*message = g_strdup(json_string_value(json_object_get(e, "error")));
		json_decref(e);
		return 429;
	}
	return 0;
}

static void on_closed(SoupWebsocketConnection *conn, gpointer data)
{
	client *c = data;
	(void)conn;
	if (clients && g_ptr_array_remove(clients, c))
		g_atomic_int_add(&client_count, -1);
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
	(void)message, (void)data;
	if (type == SOUP_WEBSOCKET_DATA_TEXT)
		soup_websocket_connection_send_text(conn, "{\"type\":\"pong\"}");
}

/* HTTP thread, after the handshake. */
static void connected(SoupWebsocketConnection *conn, const char *path, GUri *uri)
{
	(void)path;
	const char *query = uri ? g_uri_get_query(uri) : NULL;
	GHashTable *params =
	        query ? g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL) : NULL;
	char agent[SB_AGENT_ID_MAX + 1];
	bool ok = token_agent(params ? g_hash_table_lookup(params, "token") : NULL, agent);
	if (params)
		g_hash_table_unref(params);
	if (!ok || !clients) {
		/* A header-borne token was checked before the handshake; only
		 * ?token= can name the agent here. */
		soup_websocket_connection_close(conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
		                                "console token in ?token= needed");
		return;
	}
	client *c = g_new0(client, 1);
	c->conn = g_object_ref(conn);
	g_strlcpy(c->agent, agent, sizeof(c->agent));
	sb_ws_backpressure_init(&c->pressure, conn, 0);
	g_ptr_array_add(clients, c);
	g_atomic_int_add(&client_count, 1);
	g_signal_connect(conn, "closed", G_CALLBACK(on_closed), c);
	g_signal_connect(conn, "message", G_CALLBACK(on_message), c);
	char *hello = g_strdup_printf("{\"type\":\"connected\",\"agentId\":\"%s\",\"timestamp\":"
	                              "%" G_GINT64_FORMAT "}",
	                              agent, g_get_real_time() / 1000);
	soup_websocket_connection_send_text(conn, hello);
	g_free(hello);
}

/* Everyone's: what the queue and presence lists show every agent. */
static bool for_everyone(const char *type)
{
	return !strcmp(type, "queue_updated") || !strcmp(type, "agent_presence");
}

/* Only the agent the event names. */
static bool for_the_agent(const char *type)
{
	static const char *const types[] = {"whatsapp_message", "chat_assigned", "chat_released",
	                                    "chat_ended", "call_assigned"};
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
		if (!strcmp(type, types[i]))
			return true;
	return false;
}

/* HTTP thread. */
static gboolean deliver(gpointer data)
{
	json_t *n = data;
	const char *type = json_string_value(json_object_get(n, "type"));
	const char *agent = json_string_value(json_object_get(n, "agentId"));
	bool everyone = for_everyone(type);
	char *text = json_dumps(n, JSON_COMPACT);
	size_t len = strlen(text);
	GPtrArray *slow = NULL;
	for (guint i = 0; clients && i < clients->len; i++) {
		client *c = g_ptr_array_index(clients, i);
		if (!everyone && g_strcmp0(agent, c->agent))
			continue;
		if (soup_websocket_connection_get_state(c->conn) != SOUP_WEBSOCKET_STATE_OPEN)
			continue;
		if (!sb_ws_backpressure_keeping_up(&c->pressure, len, MAX_BACKLOG)) {
			if (!slow)
				slow = g_ptr_array_new();
			g_ptr_array_add(slow, c);
			continue;
		}
		soup_websocket_connection_send_text(c->conn, text);
	}
	for (guint i = 0; slow && i < slow->len; i++) {
		client *c = g_ptr_array_index(slow, i);
		JANUS_LOG(LOG_WARN, "[switchboard] console socket of %s fell behind: closed\n",
		          c->agent);
		g_signal_handlers_disconnect_by_data(c->conn, c);
		soup_websocket_connection_close(c->conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
		                                "too far behind");
		g_ptr_array_remove(clients, c); /* frees c */
		g_atomic_int_add(&client_count, -1);
	}
	if (slow)
		g_ptr_array_unref(slow);
	g_free(text);
	return G_SOURCE_REMOVE;
}

/* Publisher's thread, under the bus lock: a copy to the HTTP thread. */
static void on_bus(json_t *n, void *user)
{
	(void)user;
	if (g_atomic_int_get(&client_count) == 0)
		return;
	const char *type = json_string_value(json_object_get(n, "type"));
	if (!type || !(for_everyone(type) || for_the_agent(type)))
		return;
	if (!for_everyone(type) && !json_string_value(json_object_get(n, "agentId")))
		return;
	sb_http_invoke(G_PRIORITY_DEFAULT, deliver, json_deep_copy(n), (GDestroyNotify)json_decref);
}

void sb_console_ws_start(void)
{
	clients = g_ptr_array_new_with_free_func(client_free);
	static const sb_http_websocket route = {
	        .path = CONSOLE_WS_PATH, .authorize = authorize, .connected = connected};
	sb_http_register_websocket(&route);
	subscription = sb_events_subscribe(on_bus, NULL);
}

/* Once the HTTP server stopped: nobody else touches the clients. */
void sb_console_ws_stop(void)
{
	sb_events_unsubscribe(subscription);
	subscription = 0;
	GPtrArray *all = clients;
	clients = NULL;
	if (all)
		g_ptr_array_unref(all);
	g_atomic_int_set(&client_count, 0);
}
