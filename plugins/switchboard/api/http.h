/* The embedded HTTP + WebSocket server (libsoup 3) on its own thread and
 * GMainContext: REST routes (rest.c), static pages, /ws/notifications
 * (notify.c).  Requests only run operations from the ops table, which never
 * block on media threads. */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

#include "core/settings.h"

#include <libsoup/soup.h>

struct sb_rest_request;

/* A WebSocket route of a module.  authorize runs before the handshake
 * (HTTP thread) and returns 0 to accept, else an HTTP status and a message
 * (g_free-able) — the route's own check replaces the API key.  connected
 * runs on the HTTP thread with the open connection (borrowed: ref it). */
typedef struct sb_http_websocket {
	const char *path;
	int (*authorize)(const struct sb_rest_request *req, char **message);
	void (*connected)(SoupWebsocketConnection *conn, const char *path, GUri *uri);
} sb_http_websocket;

/* Before sb_http_start; the route is copied. */
void sb_http_register_websocket(const sb_http_websocket *route);

bool sb_http_start(const sb_settings *settings);
void sb_http_stop(void);
/* The server's main context (for handing work to the HTTP thread). */
GMainContext *sb_http_context(void);

typedef struct sb_http_stats {
	uint64_t requests;
	uint64_t responses_2xx, responses_4xx, responses_5xx;
	uint64_t unauthorized;
} sb_http_stats;
void sb_http_get_stats(sb_http_stats *out);

/* {"error":{"code":code,"message":message}} */
json_t *sb_http_error(const char *code, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif
