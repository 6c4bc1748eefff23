/* REST routes: the HTTP face of the ops table, with the HTTP semantics of
 * the systems Switchboard replaces (see DESIGN.md section 4). */
#ifndef SB_REST_H
#define SB_REST_H

#include <glib.h>
#include <jansson.h>

typedef struct sb_rest_request {
	const char *method;
	const char *path;
	const char *param; /* the {name} segment of the route, decoded */
	GHashTable *query;
	json_t *body;      /* parsed JSON object, or NULL */
} sb_rest_request;

/* Returns the HTTP status; sets *json, or *text with *text_type (g_free-able). */
typedef int (*sb_rest_handler)(const sb_rest_request *req, json_t **json, char **text,
                               const char **text_type);

#define SB_REST_PUBLIC 0x1 /* no API key needed */

typedef struct sb_rest_route {
	const char *method;
	const char *pattern; /* "{}" matches one path segment */
	sb_rest_handler handler;
	unsigned flags;
} sb_rest_route;

enum { SB_REST_MATCH = 0, SB_REST_NO_ROUTE, SB_REST_WRONG_METHOD };
int sb_rest_match(const char *method, const char *path, const sb_rest_route **route,
                  char **param);

#endif
