/* Twirp v7 with JSON bodies on the embedded HTTP server (livekit.md 1):
 * POST /twirp/livekit.<Service>/<Method>.  The steps are LiveKit's, in
 * its order, so that a client sees the error the real server would give:
 *
 *   1. the token, when there is one (LiveKit's auth middleware): a bad
 *      one is 401 whatever the route;
 *   2. the route: POST only, a known service and method (bad_route 404);
 *   3. the body: application/json (protobuf is not here yet: a clear
 *      unimplemented), an object (malformed 400);
 *   4. the grant the method needs (unauthenticated 401 "permissions
 *      denied"), room matches exact;
 *   5. the method, a mapping onto the ops table.
 *
 * Errors are {"code","msg"[,"meta"]} with Content-Type exactly
 * application/json (the Node SDK compares it as a whole); the HTTP server
 * writes every JSON answer that way. */
#include "livekit/livekit_private.h"

#include <string.h>

#include "api/api.h"

#define PREFIX "/twirp/"

/* Borrowed from livekit.c; set before the server starts. */
static GHashTable *keys;

/* Answers by Twirp code ("ok" for success), for /metrics: refused tokens
 * and grants show there.  Atomics (the HTTP thread writes, /metrics reads). */
static const char *const counted_codes[] = {"ok",
                                            "unauthenticated",
                                            "bad_route",
                                            "malformed",
                                            "not_found",
                                            "invalid_argument",
                                            "unimplemented",
                                            "permission_denied",
                                            "resource_exhausted",
                                            "already_exists",
                                            "internal",
                                            "other"};
static guint64 answers[G_N_ELEMENTS(counted_codes)];

static void count_answer(int status, json_t *answer)
{
	const char *code =
	        status == 200 ? "ok" : json_string_value(json_object_get(answer, "code"));
	size_t i = 0;
	while (i + 1 < G_N_ELEMENTS(counted_codes) && g_strcmp0(counted_codes[i], code))
		i++;
	__atomic_add_fetch(&answers[i], 1, __ATOMIC_RELAXED);
}

static void metrics(GString *out)
{
	sb_metrics_header(out, "switchboard_livekit_requests_total", "counter",
	                  "LiveKit server API (Twirp) answers, by Twirp code (ok: success).");
	for (size_t i = 0; i < G_N_ELEMENTS(counted_codes); i++)
		g_string_append_printf(
		        out,
		        "switchboard_livekit_requests_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
		        counted_codes[i], __atomic_load_n(&answers[i], __ATOMIC_RELAXED));
}

typedef struct service {
	const char *name;
	const sb_lk_method *methods;
	const size_t *count;
} service;

static const service services[] = {
        {"livekit.RoomService", sb_lk_room_service, &sb_lk_room_service_count},
        {"livekit.AgentDispatchService", sb_lk_agent_dispatch_service,
         &sb_lk_agent_dispatch_service_count},
        {"livekit.Egress", sb_lk_egress_service, &sb_lk_egress_service_count},
        {"livekit.SIP", sb_lk_sip_service, &sb_lk_sip_service_count},
        {"livekit.SIP", sb_lk_sip_admin_service, &sb_lk_sip_admin_service_count},
};

static const sb_lk_method *find_method(const char *service_name, const char *method)
{
	for (size_t i = 0; i < G_N_ELEMENTS(services); i++) {
		if (strcmp(services[i].name, service_name))
			continue;
		for (size_t m = 0; m < *services[i].count; m++)
			if (!strcmp(services[i].methods[m].name, method))
				return &services[i].methods[m];
	}
	return NULL;
}

/* Takes msg (g_free-able). */
static int bad_route(const sb_rest_request *req, json_t **out, char *msg)
{
	int status = sb_lk_twirp_error(out, "bad_route", "%s", msg);
	g_free(msg);
	char *route = g_strdup_printf("%s %s", req->method, req->path);
	json_object_set_new(*out, "meta", json_pack("{ss}", "twirp_invalid_route", route));
	g_free(route);
	return status;
}

/* Step 1: the claims of the token the request carries (zeroed when it
 * carries none: it then holds no grant).  0, or the 401's status. */
static int authenticate(const sb_rest_request *req, sb_lk_claims *claims, json_t **out)
{
	memset(claims, 0, sizeof(*claims));
	const char *header = sb_rest_header(req, "Authorization");
	if (!header)
		return 0;
	if (strncmp(header, "Bearer ", 7))
		return sb_lk_twirp_error(out, "unauthenticated",
		                         "invalid authorization header. Must start with Bearer ");
	sb_lk_token_status status =
	        sb_lk_token_verify(keys, header + 7, g_get_real_time() / G_USEC_PER_SEC, claims);
	if (status == SB_LK_TOKEN_OK)
		return 0;
	return sb_lk_twirp_error(out, "unauthenticated", "%s", sb_lk_token_status_text(status));
}

/* Step 3: the request body as a JSON object.  0, or the error's status. */
static int decode_body(const sb_rest_request *req, json_t **body, json_t **out)
{
	const char *type = req->content_type ? req->content_type : "";
	if (!g_ascii_strcasecmp(type, "application/protobuf"))
		return sb_lk_twirp_error(out, "unimplemented",
		                         "application/protobuf is not supported yet: send JSON "
		                         "(Content-Type: application/json), as livekit-server-sdk "
		                         "for Node does");
	if (g_ascii_strcasecmp(type, "application/json"))
		return bad_route(req, out,
		                 g_strdup_printf("unexpected Content-Type: \"%s\"", type));
	*body = req->raw_body ? json_loadb(req->raw_body, req->raw_body_len, 0, NULL) : NULL;
	if (json_is_object(*body))
		return 0;
	g_clear_pointer(body, json_decref);
	return sb_lk_twirp_error(out, "malformed", "the json request could not be decoded");
}

/* Step 4: the room (and destination) the grant must name: "room" in
 * RoomService and agent dispatch, "roomName" in SIP. */
static bool granted(const sb_lk_claims *claims, sb_lk_need need, json_t *body)
{
	json_t *room = sb_lk_field(body, "room", "room");
	if (!room)
		room = sb_lk_field(body, "roomName", "room_name");
	json_t *destination = sb_lk_field(body, "destinationRoom", "destination_room");
	return sb_lk_claims_allow(claims, need, json_string_value(room),
	                          json_string_value(destination));
}

/* A cluster: a call about a room another node holds is carried there with
 * its own token (the nodes share the API keys), as REST is.  JSON bodies
 * only: the holder's answer comes back as JSON (a protobuf call gets the
 * room_elsewhere error naming the node). */
static bool forwarded_to_holder(const sb_rest_request *req, json_t *body)
{
	const char *room = json_string_value(json_object_get(body, "room"));
	return room && *room && req->content_type &&
	       !g_ascii_strncasecmp(req->content_type, "application/json", 16) &&
	       sb_rest_forward_room(req, room, req->reply);
}

static int route_twirp(const sb_rest_request *req, json_t **out, char **text,
                       const char **text_type)
{
	(void)text, (void)text_type;
	sb_lk_claims claims;
	int status = authenticate(req, &claims, out);
	if (status) {
		count_answer(status, *out);
		return status;
	}
	const char *rest = req->path + strlen(PREFIX);
	const char *slash = strchr(rest, '/');
	char *service_name = slash ? g_strndup(rest, (gsize)(slash - rest)) : g_strdup(rest);
	const char *method_name = slash ? slash + 1 : "";
	sb_lk_need need;
	const sb_lk_method *method = find_method(service_name, method_name);
	json_t *body = NULL;
	if (strcmp(req->method, "POST"))
		status = bad_route(
		        req, out,
		        g_strdup_printf("unsupported method \"%s\" (only POST is allowed)",
		                        req->method));
	else if (!sb_lk_rpc_need(service_name, method_name, &need))
		status = bad_route(req, out,
		                   g_strdup_printf("no handler for path \"%s\"", req->path));
	else if ((status = decode_body(req, &body, out)) == 0) {
		/* The grant first, as LiveKit's server: a method Switchboard does
		 * not serve tells nothing to a token that may not call it. */
		if (!granted(&claims, need, body))
			status = sb_lk_twirp_error(out, "unauthenticated", "permissions denied");
		else if (!method)
			status = sb_lk_twirp_error(out, "unimplemented",
			                           "%s/%s is not implemented by Switchboard yet",
			                           service_name, method_name);
		else if (forwarded_to_holder(req, body))
			status = 0; /* the room's node answers */
		else if (method->run_later)
			status = method->run_later(body, &claims, req->reply, out);
		else
			status = method->run(body, &claims, out);
	}
	json_decref(body);
	g_free(service_name);
	sb_lk_claims_clear(&claims);
	if (status) /* 0: answered later, and counted then */
		count_answer(status, *out);
	return status;
}

void sb_lk_twirp_finish(sb_rest_reply *reply, int status, json_t *out)
{
	count_answer(status, out);
	sb_rest_finish(reply, status, out, NULL, NULL);
}

/* Every method reaches the handler, so that a GET is Twirp's bad_route
 * (not the REST server's 405) and a bad token is 401 on any route. */
#define TWIRP_FLAGS (SB_REST_PUBLIC | SB_REST_OPAQUE | SB_REST_ASYNC)
static const sb_rest_route routes[] = {
        {"POST", PREFIX "{}/{}", route_twirp, TWIRP_FLAGS, NULL},
        {"GET", PREFIX "{}/{}", route_twirp, TWIRP_FLAGS, NULL},
        {"PUT", PREFIX "{}/{}", route_twirp, TWIRP_FLAGS, NULL},
        {"PATCH", PREFIX "{}/{}", route_twirp, TWIRP_FLAGS, NULL},
        {"DELETE", PREFIX "{}/{}", route_twirp, TWIRP_FLAGS, NULL},
};

void sb_lk_twirp_register(GHashTable *configured)
{
	keys = configured;
	sb_rest_register(routes, G_N_ELEMENTS(routes));
	sb_metrics_register("livekit", metrics);
}

void sb_lk_twirp_forget(void)
{
	keys = NULL;
}
