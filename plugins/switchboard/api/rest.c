/* REST: the HTTP face of the ops table.  Route tables (the core's here,
 * the modules' registered), the match of a path, and the mapping of an
 * op's answer or error to an HTTP status and body; the core routes
 * themselves (/health, /metrics, rooms, tokens, sessions) run ops as a
 * trusted caller, so REST never does what the ops table does not. */
#include "api/api.h"

#include <stdlib.h>
#include <string.h>

#include "api/api_private.h"
#include "core/core.h"
#include "room/room.h"

/* Routes run operations as a trusted caller: the API key was checked. */
int sb_rest_op_failed(json_t *r, json_t **out)
{
	json_t *code = json_object_get(r, "error_code");
	if (!code)
		return 0;
	const char *named = json_string_value(json_object_get(r, "error_name"));
	if (named) {
		int status = (int)json_integer_value(json_object_get(r, "http_status"));
		*out = sb_http_error(named, "%s", json_string_value(json_object_get(r, "error")));
		return status >= 400 && status <= 599 ? status : 400;
	}
	int status = 500;
	const char *name = "internal_error";
	switch (json_integer_value(code)) {
	case SB_ERROR_MISSING_ELEMENT:
	case SB_ERROR_INVALID_ELEMENT:
	case SB_ERROR_INVALID_JSON:
	case SB_ERROR_INVALID_REQUEST:
		status = 400, name = "invalid_request";
		break;
	case SB_ERROR_NO_SUCH_ROOM:
		status = 404, name = "room_not_found";
		break;
	case SB_ERROR_ROOM_EXISTS:
		status = 409, name = "room_exists";
		break;
	case SB_ERROR_UNAUTHORIZED:
		status = 403, name = "forbidden";
		break;
	case SB_ERROR_NO_SUCH_PARTICIPANT:
		status = 404, name = "participant_not_found";
		break;
	case SB_ERROR_LIMIT:
		status = 503, name = "limit_reached";
		break;
	case SB_ERROR_ROOM_ELSEWHERE:
		status = 409, name = "room_elsewhere";
		break;
	default:
		break;
	}
	*out = sb_http_error(name, "%s", json_string_value(json_object_get(r, "error")));
	/* Where the room is, when another node holds it (cluster/). */
	if (json_is_object(json_object_get(r, "location")))
		json_object_set(*out, "location", json_object_get(r, "location"));
	return status;
}

int sb_rest_op_answer(json_t *r, int ok_status, json_t **out)
{
	int status = sb_rest_op_failed(r, out);
	if (status) {
		json_decref(r);
		return status;
	}
	json_object_del(r, SB_EVENT_KEY);
	*out = r;
	return ok_status;
}

json_t *sb_rest_op_request(const sb_rest_request *req, const char *op)
{
	json_t *r = json_is_object(req->body) ? json_deep_copy(req->body) : json_object();
	json_object_set_new(r, "request", json_string(op));
	return r;
}

/* An operation's later answer, sent as the route's asynchronous reply. */
typedef struct rest_later {
	sb_op_later base;
	sb_rest_reply *reply;
	int ok_status;
} rest_later;

static void rest_later_finish(sb_op_later *later, json_t *answer)
{
	rest_later *l = (rest_later *)later;
	json_t *out = NULL;
	int status = sb_rest_op_answer(answer, l->ok_status, &out);
	sb_rest_finish(l->reply, status, out, NULL, NULL);
	g_free(l);
}

int sb_rest_run_op(const sb_rest_request *req, const char *op, const char *param_name,
                   int ok_status, json_t **out)
{
	json_t *r = sb_rest_op_request(req, op);
	if (param_name && req->param)
		json_object_set_new(r, param_name, json_string(req->param));
	rest_later *later = NULL;
	if (req->reply) { /* an SB_REST_ASYNC route: the op may answer later */
		later = g_new0(rest_later, 1);
		later->base.finish = rest_later_finish;
		later->reply = req->reply;
		later->ok_status = ok_status;
	}
	json_t *answer = sb_ops_run_as(r, &req->who, later ? &later->base : NULL);
	if (!answer)
		return 0; /* pending: the op finishes the reply */
	g_free(later);
	return sb_rest_op_answer(answer, ok_status, out);
}

static const char *body_string(const sb_rest_request *req, const char *name)
{
	return req->body ? json_string_value(json_object_get(req->body, name)) : NULL;
}

/* A field that must be a string when present: 400 otherwise. */
static int check_string(const sb_rest_request *req, const char *name, bool required, size_t max,
                        json_t **out)
{
	json_t *v = req->body ? json_object_get(req->body, name) : NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		return sb_rest_error(out, 400, "invalid_request", "Missing field %s", name);
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return sb_rest_error(out, 400, "invalid_request",
		                     "%s must be a string of 1 to %zu characters", name, max);
	return 0;
}

static int check_room_name(const char *name, json_t **out)
{
	if (sb_room_name_valid(name))
		return 0;
	return sb_rest_error(out, 400, "invalid_room_name",
	                     "Room names are 1-%d characters of A-Z a-z 0-9 . _ -",
	                     SB_ROOM_NAME_MAX);
}

/* Where browsers join this node's rooms: in a cluster, the Janus URL
 * this node advertises and its name. */
static json_t *janus_info(void)
{
	json_t *here = sb_room_placement_here();
	const char *url = json_string_value(json_object_get(here, "janus_url"));
	json_t *info = json_pack("{s:s?, s:s}", "url", url ? url : sb_plugin_settings->janus_url,
	                         "plugin", SB_PLUGIN_PACKAGE);
	if (here)
		json_object_set(info, "node", json_object_get(here, "node"));
	json_decref(here);
	return info;
}

/* Signs a join token through the ops table. */
static json_t *issue_token(const char *room, const char *identity, const char *name,
                           const char *role)
{
	json_t *req = json_pack("{ssss}", "request", "token", "room", room);
	if (identity)
		json_object_set_new(req, "identity", json_string(identity));
	if (name)
		json_object_set_new(req, "name", json_string(name));
	if (role)
		json_object_set_new(req, "role", json_string(role));
	return sb_ops_run_trusted(req);
}

static int route_health(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	(void)req, (void)text, (void)tt;
	*out = json_pack("{sssssi}", "status", "ok", "version", SB_PLUGIN_VERSION_STRING, "rooms",
	                 (int)sb_rooms_count());
	return 200;
}

static int route_metrics(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	(void)req, (void)out;
	*text = sb_metrics_prometheus();
	*tt = "text/plain; version=0.0.4; charset=utf-8";
	return 200;
}

static int route_room_create(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	int status;
	if ((status = check_string(req, "roomName", true, 256, out)) ||
	    (status = check_room_name(body_string(req, "roomName"), out)) ||
	    (status = check_string(req, "hostIdentity", false, SB_DISPLAY_MAX, out)) ||
	    (status = check_string(req, "hostName", false, SB_DISPLAY_MAX, out)))
		return status;
	json_t *agent = json_object_get(req->body, "agent");
	if (agent && !json_is_boolean(agent) && !json_is_object(agent))
		return sb_rest_error(out, 400, "invalid_request",
		                     "agent must be a boolean or an object");
	json_t *require = json_object_get(req->body, "requireToken");
	if (require && !json_is_boolean(require))
		return sb_rest_error(out, 400, "invalid_request", "requireToken must be a boolean");
	/* LiveKit's metadata is a string; an object is taken as its JSON. */
	json_t *metadata = json_object_get(req->body, "metadata");
	if (metadata && !json_is_string(metadata) && !json_is_object(metadata))
		return sb_rest_error(out, 400, "invalid_request",
		                     "metadata must be a string or an object");
	const char *name = body_string(req, "roomName");
	json_t *op = json_pack("{ssss}", "request", "create", "room", name);
	if (json_is_string(metadata))
		json_object_set(op, "metadata", metadata);
	if (json_is_object(metadata)) {
		char *text = json_dumps(metadata, JSON_COMPACT);
		json_object_set_new(op, "metadata", json_string(text));
		free(text);
	}
	if (agent)
		json_object_set_new(op, "agent", json_boolean(!json_is_false(agent)));
	if (json_is_object(agent))
		json_object_set(op, "agent_config", agent);
	if (require)
		json_object_set(op, "require_token", require);
	json_t *created = sb_ops_run_trusted(op);
	/* A cluster: this node takes no new room (draining, or full), so the
	 * request goes to the least-loaded live node, which answers it. */
	json_t *there = json_object_get(created, "location");
	if (json_integer_value(json_object_get(created, "error_code")) == SB_ERROR_LIMIT && there &&
	    req->reply && sb_rest_forward_to(req, there, req->reply)) {
		json_decref(created);
		return 0;
	}
	if ((status = sb_rest_op_failed(created, out))) {
		json_decref(created);
		return status;
	}
	const char *host = body_string(req, "hostIdentity");
	json_t *token = issue_token(name, host, body_string(req, "hostName"), "agent");
	sb_room *room = sb_room_find(name);
	*out = json_pack("{s:o, s:O*, s:o}", "room", room ? sb_room_to_json(room) : json_null(),
	                 "token", json_object_get(token, "token"), "janus", janus_info());
	if (room)
		sb_room_unref(room);
	json_decref(token);
	json_decref(created);
	return 201;
}

static int route_room_join(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	int status;
	if ((status = check_string(req, "roomName", true, 256, out)) ||
	    (status = check_room_name(body_string(req, "roomName"), out)) ||
	    (status = check_string(req, "participantIdentity", true, SB_DISPLAY_MAX, out)) ||
	    (status = check_string(req, "participantName", false, SB_DISPLAY_MAX, out)) ||
	    (status = check_string(req, "role", false, 16, out)))
		return status;
	const char *name = body_string(req, "roomName");
	sb_room *room = sb_room_find(name);
	/* A cluster: a room of another node is joined there, with a token
	 * from here (the nodes share the token secret). */
	json_t *where = room ? NULL : sb_room_locate(name);
	if (!room && !where)
		return sb_rest_error(out, 404, "room_not_found", "No such room (%s)", name);
	if (room)
		sb_room_unref(room);
	const char *identity = body_string(req, "participantIdentity");
	const char *display = body_string(req, "participantName");
	json_t *token =
	        issue_token(name, identity, display ? display : identity, body_string(req, "role"));
	if ((status = sb_rest_op_failed(token, out))) {
		json_decref(token);
		json_decref(where);
		return status;
	}
	json_t *janus = janus_info();
	if (where) {
		json_object_set(janus, "url", json_object_get(where, "janus_url"));
		json_object_set(janus, "node", json_object_get(where, "node"));
	}
	*out = json_pack("{s:O, s:s, s:s, s:o}", "token", json_object_get(token, "token"), "room",
	                 name, "identity", identity, "janus", janus);
	if (where)
		json_object_set_new(*out, "location", where);
	json_decref(token);
	return 200;
}

static int route_room_agent(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	int status;
	if ((status = check_room_name(req->param, out)))
		return status;
	json_t *enable = req->body ? json_object_get(req->body, "enable") : NULL;
	if (!json_is_boolean(enable))
		return sb_rest_error(out, 400, "invalid_request", "enable must be a boolean");
	json_t *op =
	        json_pack("{sssssO}", "request", "agent", "room", req->param, "enable", enable);
	json_t *config = json_object_get(req->body, "config");
	if (config)
		json_object_set(op, "config", config);
	json_t *r = sb_ops_run_trusted(op);
	if ((status = sb_rest_op_failed(r, out))) {
		json_decref(r);
		return status;
	}
	*out = json_pack("{sss{sO}}", "room", req->param, "agent", "enabled",
	                 json_object_get(r, "enabled"));
	json_decref(r);
	return 200;
}

static int route_rooms(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)req, (void)t, (void)tt;
	json_t *r = sb_ops_run_trusted(json_pack("{ss}", "request", "list"));
	*out = json_pack("{sO}", "rooms", json_object_get(r, "list"));
	json_decref(r);
	/* A cluster: the other nodes' rooms, and where they are. */
	json_t *others = sb_rooms_elsewhere();
	if (others)
		json_object_set_new(*out, "elsewhere", others);
	return 200;
}

static int route_room_get(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	int status;
	if ((status = check_room_name(req->param, out)))
		return status;
	json_t *r = sb_ops_run_trusted(
	        json_pack("{ssss}", "request", "listparticipants", "room", req->param));
	if ((status = sb_rest_op_failed(r, out))) {
		json_decref(r);
		return status;
	}
	/* The operator's route: the call's context too (variables op). */
	json_t *v =
	        sb_ops_run_trusted(json_pack("{ssss}", "request", "variables", "room", req->param));
	sb_room *room = sb_room_find(req->param);
	if (!room) { /* closed meanwhile */
		json_decref(r);
		json_decref(v);
		return sb_rest_error(out, 404, "room_not_found", "No such room (%s)", req->param);
	}
	*out = sb_room_to_json(room);
	json_object_set(*out, "participants", json_object_get(r, "participants"));
	json_object_set(*out, "variables", json_object_get(v, "variables"));
	sb_room_unref(room);
	json_decref(r);
	json_decref(v);
	return 200;
}

static int route_room_delete(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	int status;
	if ((status = check_room_name(req->param, out)))
		return status;
	json_t *r =
	        sb_ops_run_trusted(json_pack("{ssss}", "request", "destroy", "room", req->param));
	if ((status = sb_rest_op_failed(r, out))) {
		json_decref(r);
		return status;
	}
	json_decref(r);
	*out = json_pack("{sssb}", "room", req->param, "closed", 1);
	return 200;
}

static int sessions(const char *type, json_t **out)
{
	json_t *op = json_pack("{ss}", "request", "sessions");
	if (type)
		json_object_set_new(op, "type", json_string(type));
	json_t *r = sb_ops_run_trusted(op);
	int status;
	if ((status = sb_rest_op_failed(r, out))) {
		json_decref(r);
		return status;
	}
	*out = json_pack("{sO}", "sessions", json_object_get(r, "sessions"));
	json_decref(r);
	return 200;
}

static int route_sessions(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)req, (void)t, (void)tt;
	return sessions(NULL, out);
}

static int route_sessions_type(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	if (strcmp(req->param, "phone") && strcmp(req->param, "whatsapp") &&
	    strcmp(req->param, "web"))
		return sb_rest_error(out, 400, "invalid_request",
		                     "Session type is phone, whatsapp or web");
	return sessions(req->param, out);
}

static const sb_rest_route routes[] = {
        {"GET", "/health", route_health, SB_REST_PUBLIC, NULL},
        {"GET", "/metrics", route_metrics, 0, NULL},
        {"POST", "/room/create", route_room_create, SB_REST_ASYNC, NULL},
        {"POST", "/room/join", route_room_join, 0, NULL},
        {"POST", "/room/{}/agent", route_room_agent, 0, NULL},
        {"GET", "/rooms", route_rooms, 0, NULL},
        {"GET", "/rooms/{}", route_room_get, 0, NULL},
        {"DELETE", "/rooms/{}", route_room_delete, 0, NULL},
        {"GET", "/sessions", route_sessions, SB_REST_CLUSTER_LIST, NULL},
        {"GET", "/sessions/type/{}", route_sessions_type, SB_REST_CLUSTER_LIST, NULL},
};

/* Compares a path with a pattern segment by segment. */
static bool path_matches(const char *pattern, const char *path, char **param)
{
	*param = NULL;
	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);
			if (n == 0)
				return false;
			g_free(*param);
			char *raw = g_strndup(path, n);
			*param = g_uri_unescape_string(raw, NULL);
			g_free(raw);
			if (!*param)
				return false;
			pattern += 2;
			path += n;
			continue;
		}
		if (*pattern != *path)
			break;
		pattern++;
		path++;
	}
	/* A trailing slash is the same route. */
	if (*pattern == '\0' && (*path == '\0' || (path[0] == '/' && path[1] == '\0')))
		return true;
	g_free(*param);
	*param = NULL;
	return false;
}

#define SB_REST_TABLES_MAX 16
static struct {
	const sb_rest_route *routes;
	size_t count;
} tables[SB_REST_TABLES_MAX] = {{routes, G_N_ELEMENTS(routes)}};
static size_t table_count = 1;

void sb_rest_register(const sb_rest_route *table, size_t count)
{
	for (size_t i = 0; i < table_count; i++)
		if (tables[i].routes == table)
			return;
	g_assert(table_count < SB_REST_TABLES_MAX);
	tables[table_count].routes = table;
	tables[table_count].count = count;
	table_count++;
}

void sb_rest_unregister_all(void)
{
	table_count = 1;
}

int sb_rest_match(const char *method, const char *path, const sb_rest_route **route, char **param)
{
	bool path_known = false;
	for (size_t t = 0; t < table_count; t++) {
		for (size_t i = 0; i < tables[t].count; i++) {
			const sb_rest_route *r = &tables[t].routes[i];
			char *p = NULL;
			if (!path_matches(r->pattern, path, &p))
				continue;
			bool head_for_get = !strcmp(method, "HEAD") && !strcmp(r->method, "GET");
			if (!strcmp(r->method, method) || head_for_get) {
				*route = r;
				*param = p;
				return SB_REST_MATCH;
			}
			g_free(p);
			path_known = true;
		}
	}
	return path_known ? SB_REST_WRONG_METHOD : SB_REST_NO_ROUTE;
}
