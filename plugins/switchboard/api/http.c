/* The embedded HTTP and WebSocket server (libsoup 3) on a core loop of its
 * own: REST routes (rest.c), static pages, the modules' WebSockets and the
 * notifications socket (notify.c).  Everything the server touches runs on
 * that one thread; other threads reach it only through sb_http_invoke and
 * sb_http_timeout, which hold a reference to the loop so that a post
 * racing with the stop finds it stopped rather than freed. */
#include "api/api.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <debug.h>
#include <libsoup/soup.h>

#include "api/api_private.h"
#include "room/room.h"

/* A cluster's (api.h, "forwarding"): set at start-up, before the server runs. */
static sb_rest_forwarder forwarder;
static sb_rest_gatherer gatherer;

static const sb_settings *settings;
static GMutex loop_mutex; /* guards loop for the threads that post to it */
static sb_loop *loop;     /* the server's thread, while it runs */
static SoupServer *server;
static char *html_root; /* realpath of the pages folder */
static sb_http_stats stats;

/* A reference: the loop may stop meanwhile, the memory stays. */
static sb_loop *loop_ref(void)
{
	g_mutex_lock(&loop_mutex);
	sb_loop *l = sb_loop_ref(loop);
	g_mutex_unlock(&loop_mutex);
	return l;
}

bool sb_http_invoke(gint priority, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	sb_loop *l = loop_ref();
	bool ok = sb_loop_invoke_full(l, priority, fn, data, destroy);
	sb_loop_unref(l);
	return ok;
}

GSource *sb_http_timeout(guint ms, GSourceFunc fn, gpointer data, GDestroyNotify destroy)
{
	sb_loop *l = loop_ref();
	GSource *timer = sb_loop_timeout(l, ms, fn, data, destroy);
	sb_loop_unref(l);
	return timer;
}

static json_t *error_body(const char *code, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

static json_t *error_body(const char *code, const char *fmt, va_list ap)
{
	char text[512];
	g_vsnprintf(text, sizeof(text), fmt, ap);
	return json_pack("{s{ssss}}", "error", "code", code, "message", text);
}

json_t *sb_http_error(const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *e = error_body(code, fmt, ap);
	va_end(ap);
	return e;
}

int sb_rest_error(json_t **out, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	*out = error_body(code, fmt, ap);
	va_end(ap);
	return status;
}

static void count_status(int status)
{
	__atomic_add_fetch(&stats.requests, 1, __ATOMIC_RELAXED);
	if (status >= 500)
		__atomic_add_fetch(&stats.responses_5xx, 1, __ATOMIC_RELAXED);
	else if (status >= 400)
		__atomic_add_fetch(&stats.responses_4xx, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&stats.responses_2xx, 1, __ATOMIC_RELAXED);
}

static void reply_json(SoupServerMessage *msg, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	soup_server_message_set_status(msg, (guint)status, NULL);
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
	                             "no-store");
	soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text,
	                                 strlen(text));
	count_status(status);
}

static void reply_error(SoupServerMessage *msg, int status, const char *code, const char *text)
{
	json_t *e = sb_http_error(code, "%s", text);
	reply_json(msg, status, e);
	json_decref(e);
}

static const char *content_type_for(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".js", "text/javascript; charset=utf-8"},
	        {".mjs", "text/javascript; charset=utf-8"},
	        {".css", "text/css; charset=utf-8"},
	        {".json", "application/json"},
	        {".svg", "image/svg+xml"},
	        {".png", "image/png"},
	        {".ico", "image/x-icon"},
	        {".wav", "audio/wav"},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
		if (g_str_has_suffix(path, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* Static pages: only regular files under html_root, no traversal. */
static void serve_static(SoupServerMessage *msg, const char *path)
{
	char *file = NULL;
	if (!strcmp(path, "/janus.js")) {
		file = g_strdup(settings->janus_js);
	} else if (html_root && !strstr(path, "..") && !strchr(path, '\\')) {
		const char *rel = !strcmp(path, "/") ? "/index.html" : path;
		char *joined = g_build_filename(html_root, rel, NULL);
		file = realpath(joined, NULL);
		g_free(joined);
		size_t root_len = strlen(html_root);
		if (file && (strncmp(file, html_root, root_len) != 0 || file[root_len] != '/')) {
			free(file);
			file = NULL;
		} else if (file) {
			char *copy = g_strdup(file);
			free(file);
			file = copy;
		}
	}
	struct stat st;
	char *data = NULL;
	gsize len = 0;
	if (!file || stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !g_file_get_contents(file, &data, &len, NULL)) {
		g_free(file);
		reply_error(msg, 404, "not_found", "No such page or route");
		return;
	}
	soup_server_message_set_status(msg, 200, NULL);
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
	                             "no-cache");
	soup_server_message_set_response(msg, content_type_for(file), SOUP_MEMORY_TAKE, data, len);
	count_status(200);
	g_free(file);
}

/* SB_REST_FILE answers: the file mapped, not read, and one byte range when
 * asked (an <audio> element seeks with them). */
static void serve_file(SoupServerMessage *msg, const char *path, const char *type)
{
	GError *err = NULL;
	GMappedFile *mf = g_mapped_file_new(path, FALSE, &err);
	if (!mf) {
		JANUS_LOG(LOG_WARN, "[switchboard] cannot send %s: %s\n", path,
		          err ? err->message : "?");
		g_clear_error(&err);
		reply_error(msg, 404, "not_found", "The file is gone");
		return;
	}
	GBytes *all = g_mapped_file_get_bytes(mf);
	g_mapped_file_unref(mf);
	gsize total = g_bytes_get_size(all);
	SoupMessageHeaders *in = soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *out = soup_server_message_get_response_headers(msg);
	SoupRange *ranges = NULL;
	int n = 0;
	GBytes *body = all;
	guint status = 200;
	if (total > 0 && soup_message_headers_get_ranges(in, (goffset)total, &ranges, &n) &&
	    n == 1) {
		goffset start = ranges[0].start, end = ranges[0].end;
		body = g_bytes_new_from_bytes(all, (gsize)start, (gsize)(end - start + 1));
		g_bytes_unref(all);
		soup_message_headers_set_content_range(out, start, end, (goffset)total);
		status = 206;
	}
	if (ranges)
		soup_message_headers_free_ranges(in, ranges);
	soup_server_message_set_status(msg, status, NULL);
	soup_message_headers_replace(out, "Accept-Ranges", "bytes");
	soup_message_headers_replace(out, "Cache-Control", "no-store");
	soup_message_headers_set_content_type(out, type, NULL);
	soup_message_headers_set_content_length(out, (goffset)g_bytes_get_size(body));
	soup_message_body_append_bytes(soup_server_message_get_response_body(msg), body);
	g_bytes_unref(body);
	count_status((int)status);
}

/* What a request proves (docs/security.md): the master key makes the
 * operator; on routes that take one, a human agent's console token makes
 * them.  The key rides in ?api_key= only on a WebSocket upgrade, where a
 * browser cannot set a header; everywhere else it would end up in logs. */
static bool principal_of(SoupServerMessage *msg, GHashTable *query, bool websocket, bool console_ok,
                         sb_principal *who)
{
	memset(who, 0, sizeof(*who));
	SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
	const char *header = soup_message_headers_get_one(h, "Authorization");
	if (sb_auth_bearer_ok(header, settings->api_key)) {
		*who = sb_principal_operator;
		return true;
	}
	const char *q = websocket && query ? g_hash_table_lookup(query, "api_key") : NULL;
	if (q && settings->api_key && sb_auth_equal(q, settings->api_key)) {
		*who = sb_principal_operator;
		return true;
	}
	const char *token =
	        header && !g_ascii_strncasecmp(header, "Bearer ", 7) ? header + 7 : NULL;
	if (!token && websocket && query)
		token = g_hash_table_lookup(query, "token");
	sb_join_claims claims;
	if (console_ok && token &&
	    sb_auth_token_verify(settings->jwt_secret, token, NULL, &claims) == SB_TOKEN_OK) {
		bool console = claims.console;
		if (console)
			sb_principal_from_claims(who, &claims);
		sb_join_claims_clear(&claims);
		if (console)
			return true;
	}
	return false;
}

struct sb_rest_reply {
	SoupServerMessage *msg;
	int status;
	json_t *json;
	char *text;
	const char *text_type;
};

/* A late answer's handle (sb_rest_finish answers and frees it). */
static sb_rest_reply *reply_new(SoupServerMessage *msg)
{
	sb_rest_reply *r = g_new0(sb_rest_reply, 1);
	r->msg = g_object_ref(msg);
	return r;
}

static void reply_free(sb_rest_reply *r)
{
	g_object_unref(r->msg);
	g_free(r);
}

/* The answer comes later: libsoup waits for it; the request's parts go. */
static void answer_later(SoupServerMessage *msg, json_t *body, GHashTable *form, char *param)
{
	soup_server_message_pause(msg);
	json_decref(body);
	if (form)
		g_hash_table_unref(form);
	g_free(param);
}

static void handle_request(SoupServer *srv, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user_data)
{
	(void)srv;
	(void)user_data;
	const char *method = soup_server_message_get_method(msg);
	const sb_rest_route *route = NULL;
	char *param = NULL;
	int match = sb_rest_match(method, path, &route, &param);
	if (match == SB_REST_NO_ROUTE) {
		if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
			serve_static(msg, path);
		else
			reply_error(msg, 404, "not_found", "No such route");
		return;
	}
	if (match == SB_REST_WRONG_METHOD) {
		reply_error(msg, 405, "method_not_allowed", "Method not allowed on this route");
		return;
	}
	sb_principal who;
	bool proven = principal_of(msg, query, false, route->flags & SB_REST_CONSOLE, &who);
	if (!(route->flags & SB_REST_PUBLIC) && !proven) {
		__atomic_add_fetch(&stats.unauthorized, 1, __ATOMIC_RELAXED);
		g_free(param);
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
		                             "WWW-Authenticate", "Bearer");
		reply_error(msg, 401, "unauthorized",
		            "Missing or wrong API key (Authorization: Bearer <key>)");
		return;
	}
	json_t *body = NULL;
	GHashTable *form = NULL;
	SoupMessageBody *rb = soup_server_message_get_request_body(msg);
	const char *ct = soup_message_headers_get_content_type(
	        soup_server_message_get_request_headers(msg), NULL);
	if (rb && rb->length > 0 && !(route->flags & SB_REST_OPAQUE)) {
		bool is_json = ct && !g_ascii_strcasecmp(ct, "application/json");
		bool is_form = ct && !g_ascii_strcasecmp(ct, "application/x-www-form-urlencoded");
		if (is_form && (route->flags & (SB_REST_FORM | SB_REST_RAW))) {
			char *text = g_strndup(rb->data, (gsize)rb->length);
			form = soup_form_decode(text);
			g_free(text);
		} else if (!is_json && !(route->flags & SB_REST_RAW)) {
			g_free(param);
			reply_error(
			        msg, 415, "unsupported_media_type",
			        (route->flags & SB_REST_FORM)
			                ? "Send a form (application/x-www-form-urlencoded) or JSON"
			                : "Send JSON (Content-Type: application/json)");
			return;
		}
		if (is_json) {
			json_error_t err;
			body = json_loadb(rb->data, (size_t)rb->length, JSON_REJECT_DUPLICATES,
			                  &err);
			if (!body || !json_is_object(body)) {
				json_decref(body);
				g_free(param);
				char text[300];
				g_snprintf(text, sizeof(text), "Malformed JSON body: %s",
				           body ? "not an object" : err.text);
				reply_error(msg, 400, "invalid_json", text);
				return;
			}
		}
	}
	GUri *uri = soup_server_message_get_uri(msg);
	sb_rest_request req = {
	        .method = method,
	        .path = path,
	        .param = param,
	        .query = query,
	        .body = body,
	        .raw_query = uri ? g_uri_get_query(uri) : NULL,
	        .raw_body = rb && rb->length > 0 ? rb->data : NULL,
	        .raw_body_len = rb ? (size_t)rb->length : 0,
	        .content_type = ct,
	        .form = form,
	        .remote_ip = soup_server_message_get_remote_host(msg),
	        .headers = soup_server_message_get_request_headers(msg),
	        .who = who,
	};
	bool about_a_room = g_str_has_prefix(route->pattern, "/rooms/{}") ||
	                    g_str_has_prefix(route->pattern, "/room/{}");
	const char *room = about_a_room && !(route->flags & SB_REST_FILE) ? param : NULL;
	if (!room && (route->flags & SB_REST_BODY_ROOM))
		room = json_string_value(json_object_get(body, "room"));
	if (room) {
		sb_rest_reply *later = reply_new(msg);
		if (sb_rest_forward_room(&req, room, later)) {
			answer_later(msg, body, form, param);
			return;
		}
		reply_free(later);
	}
	json_t *out = NULL;
	char *text = NULL;
	const char *text_type = NULL;
	if (route->flags & SB_REST_ASYNC)
		req.reply = reply_new(msg);
	int status = route->handler ? route->handler(&req, &out, &text, &text_type)
	                            : sb_rest_run_op(&req, route->op, NULL, 200, &out);
	if (req.reply && status == 0) { /* pending: the handler owns req.reply now */
		answer_later(msg, body, form, param);
		return;
	}
	if (req.reply)
		reply_free(req.reply);
	if (gatherer && status == 200 && out && !text && (route->flags & SB_REST_CLUSTER_LIST) &&
	    !sb_rest_header(&req, SB_FORWARDED_HEADER)) {
		sb_rest_reply *later = reply_new(msg);
		if (gatherer(&req, json_incref(out), later)) {
			json_decref(out);
			answer_later(msg, body, form, param);
			return;
		}
		reply_free(later);
	}
	if (text && status == 200 && (route->flags & SB_REST_FILE)) {
		serve_file(msg, text, text_type);
		g_free(text);
	} else if (text) {
		soup_server_message_set_status(msg, (guint)status, NULL);
		soup_server_message_set_response(msg, text_type, SOUP_MEMORY_TAKE, text,
		                                 strlen(text));
		count_status(status);
	} else {
		if (!out)
			out = json_object();
		reply_json(msg, status, out);
	}
	json_decref(out);
	json_decref(body);
	if (form)
		g_hash_table_unref(form);
	g_free(param);
}

void sb_rest_set_forwarder(sb_rest_forwarder f)
{
	forwarder = f;
}

bool sb_rest_forward_room(const sb_rest_request *req, const char *room, sb_rest_reply *reply)
{
	if (!forwarder || !sb_room_name_valid(room) || !reply ||
	    sb_rest_header(req, SB_FORWARDED_HEADER))
		return false;
	sb_room *here = sb_room_find(room);
	if (here) {
		sb_room_unref(here);
		return false;
	}
	return forwarder(req, room, NULL, reply);
}

bool sb_rest_forward_to(const sb_rest_request *req, json_t *location, sb_rest_reply *reply)
{
	if (!forwarder || !json_is_object(location) || !reply ||
	    sb_rest_header(req, SB_FORWARDED_HEADER))
		return false;
	return forwarder(req, NULL, location, reply);
}

void sb_rest_set_gatherer(sb_rest_gatherer g)
{
	gatherer = g;
}

/* HTTP thread: sets the late answer and lets libsoup send it. */
static gboolean finish_on_http_thread(gpointer data)
{
	sb_rest_reply *r = data;
	if (r->text) {
		soup_server_message_set_status(r->msg, (guint)r->status, NULL);
		soup_server_message_set_response(r->msg, r->text_type, SOUP_MEMORY_TAKE, r->text,
		                                 strlen(r->text));
		r->text = NULL;
		count_status(r->status);
	} else {
		if (!r->json)
			r->json = json_object();
		reply_json(r->msg, r->status, r->json);
	}
	soup_server_message_unpause(r->msg);
	return G_SOURCE_REMOVE;
}

static void free_reply(gpointer data)
{
	sb_rest_reply *r = data;
	json_decref(r->json);
	g_free(r->text);
	g_object_unref(r->msg);
	g_free(r);
}

void sb_rest_finish(sb_rest_reply *reply, int status, json_t *json, char *text,
                    const char *text_type)
{
	reply->status = status;
	reply->json = json;
	reply->text = text;
	reply->text_type = text_type;
	/* Never answered on the caller's thread; with the server gone there
	 * is nothing to answer (the reply is freed). */
	sb_http_invoke(G_PRIORITY_DEFAULT_IDLE, finish_on_http_thread, reply, free_reply);
}

const char *sb_rest_header(const sb_rest_request *req, const char *name)
{
	return req->headers ? soup_message_headers_get_one(req->headers, name) : NULL;
}

/* WebSocket routes added by modules (Twilio Media Streams, ConversationRelay). */
#define SB_WS_ROUTES_MAX 8
static sb_http_websocket ws_routes[SB_WS_ROUTES_MAX];
static size_t ws_route_count;

void sb_http_register_websocket(const sb_http_websocket *route)
{
	for (size_t i = 0; i < ws_route_count; i++)
		if (!strcmp(ws_routes[i].path, route->path))
			return;
	g_assert(ws_route_count < SB_WS_ROUTES_MAX);
	ws_routes[ws_route_count++] = *route;
}

/* A route's path, or its path and one more segment: sockets whose URLs
 * are made single-use (Twilio's <path>/<expires>.<nonce>) come in there. */
static const sb_http_websocket *ws_route_for(const char *path)
{
	for (size_t i = 0; i < ws_route_count; i++) {
		size_t n = strlen(ws_routes[i].path);
		if (strncmp(ws_routes[i].path, path, n))
			continue;
		if (!path[n] || (path[n] == '/' && path[n + 1] && !strchr(path + n + 1, '/')))
			return &ws_routes[i];
	}
	return NULL;
}

static void ws_connected(SoupServer *srv, SoupServerMessage *msg, const char *path,
                         SoupWebsocketConnection *conn, gpointer data)
{
	(void)srv;
	const sb_http_websocket *route = data;
	route->connected(conn, path, soup_server_message_get_uri(msg));
}

/* Runs once the headers are in: refuses big or unsized bodies before they
 * are read, and unauthenticated WebSocket upgrades before the handshake. */
static void early_handler(SoupServer *srv, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user_data)
{
	(void)srv;
	(void)user_data;
	SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
	const sb_http_websocket *ws = ws_route_for(path);
	if (ws) {
		GUri *uri = soup_server_message_get_uri(msg);
		sb_rest_request req = {.method = soup_server_message_get_method(msg),
		                       .path = path,
		                       .query = query,
		                       .raw_query = uri ? g_uri_get_query(uri) : NULL,
		                       .remote_ip = soup_server_message_get_remote_host(msg),
		                       .headers = h};
		char *why = NULL;
		int status = ws->authorize ? ws->authorize(&req, &why) : 0;
		if (status) {
			reply_error(msg, status, status == 401 ? "unauthorized" : "forbidden",
			            why ? why : "WebSocket refused");
			g_free(why);
		}
		return;
	}
	if (g_str_has_prefix(path, "/ws/")) {
		sb_principal who;
		if (!principal_of(msg, query, true, false, &who)) {
			__atomic_add_fetch(&stats.unauthorized, 1, __ATOMIC_RELAXED);
			reply_error(msg, 401, "unauthorized", "Missing or wrong API key");
		}
		return;
	}
	SoupEncoding enc = soup_message_headers_get_encoding(h);
	if (enc == SOUP_ENCODING_CHUNKED) {
		reply_error(msg, 411, "length_required", "Send a Content-Length");
		return;
	}
	goffset len = soup_message_headers_get_content_length(h);
	if (enc == SOUP_ENCODING_CONTENT_LENGTH && len > settings->http_max_body) {
		char text[128];
		g_snprintf(text, sizeof(text), "Body larger than %d bytes",
		           settings->http_max_body);
		reply_error(msg, 413, "payload_too_large", text);
	}
}

/* On the server's thread, before its loop runs: the server, its handlers
 * and the listening socket.  The loop is published first, so that a
 * request answered as soon as the loop runs can post its reply. */
static bool server_up(sb_loop *l, void *user)
{
	(void)user;
	g_mutex_lock(&loop_mutex);
	loop = l;
	g_mutex_unlock(&loop_mutex);
	GError *error = NULL;
	GTlsCertificate *cert = NULL;
	if (settings->http_cert && settings->http_key) {
		cert = g_tls_certificate_new_from_files(settings->http_cert, settings->http_key,
		                                        &error);
		if (!cert)
			goto failed;
	}
	server = soup_server_new("server-header", "switchboard", "tls-certificate", cert, NULL);
	g_clear_object(&cert);
	/* An early handler only runs for paths whose own entry has one, so the
	 * WebSocket path gets it explicitly. */
	soup_server_add_early_handler(server, NULL, early_handler, NULL, NULL);
	soup_server_add_early_handler(server, SB_NOTIFY_PATH, early_handler, NULL, NULL);
	soup_server_add_handler(server, NULL, handle_request, NULL, NULL);
	sb_notify_attach(server);
	for (size_t i = 0; i < ws_route_count; i++) {
		soup_server_add_early_handler(server, ws_routes[i].path, early_handler, NULL, NULL);
		soup_server_add_websocket_handler(server, ws_routes[i].path, NULL, NULL,
		                                  ws_connected, &ws_routes[i], NULL);
	}
	GInetAddress *ip = g_inet_address_new_from_string(settings->http_ip);
	if (!ip) {
		g_set_error(&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad http ip %s",
		            settings->http_ip);
		goto failed;
	}
	GSocketAddress *addr = g_inet_socket_address_new(ip, (guint16)settings->http_port);
	g_object_unref(ip);
	gboolean ok = soup_server_listen(
	        server, addr, settings->http_cert ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
	g_object_unref(addr);
	if (!ok)
		goto failed;
	JANUS_LOG(LOG_INFO, "[switchboard] HTTP on %s://%s:%d/\n",
	          settings->http_cert ? "https" : "http", settings->http_ip, settings->http_port);
	return true;

failed:
	JANUS_LOG(LOG_ERR, "[switchboard] HTTP server failed on %s:%d: %s\n", settings->http_ip,
	          settings->http_port, error ? error->message : "?");
	g_clear_error(&error);
	if (server)
		sb_notify_detach();
	g_clear_object(&server);
	g_mutex_lock(&loop_mutex);
	loop = NULL;
	g_mutex_unlock(&loop_mutex);
	return false;
}

/* On the server's thread, once its loop has stopped. */
static void server_down(sb_loop *l, void *user)
{
	(void)l, (void)user;
	sb_notify_detach();
	soup_server_disconnect(server);
	g_clear_object(&server);
}

bool sb_http_start(const sb_settings *s)
{
	settings = s;
	if (!s->http_enabled)
		return true;
	html_root = s->html_folder ? realpath(s->html_folder, NULL) : NULL;
	if (!html_root)
		JANUS_LOG(LOG_WARN, "[switchboard] html_folder %s not found: no pages\n",
		          s->html_folder ? s->html_folder : "(unset)");
	if (!sb_loop_start_with("sb http", false, server_up, server_down, NULL)) {
		sb_http_stop();
		return false;
	}
	return true;
}

void sb_http_stop(void)
{
	/* From here posts find no loop; what was queued runs before the
	 * server goes. */
	g_mutex_lock(&loop_mutex);
	sb_loop *l = loop;
	loop = NULL;
	g_mutex_unlock(&loop_mutex);
	sb_loop_stop(l);
	free(html_root);
	html_root = NULL;
}

void sb_http_get_stats(sb_http_stats *out)
{
	out->requests = __atomic_load_n(&stats.requests, __ATOMIC_RELAXED);
	out->responses_2xx = __atomic_load_n(&stats.responses_2xx, __ATOMIC_RELAXED);
	out->responses_4xx = __atomic_load_n(&stats.responses_4xx, __ATOMIC_RELAXED);
	out->responses_5xx = __atomic_load_n(&stats.responses_5xx, __ATOMIC_RELAXED);
	out->unauthorized = __atomic_load_n(&stats.unauthorized, __ATOMIC_RELAXED);
}
