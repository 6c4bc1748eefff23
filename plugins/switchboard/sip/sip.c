/* The sofia-sip user agent: one thread runs a su_root with one nua stack.
 * Everything that touches nua happens on that thread; other threads hand it
 * commands through a queue and an eventfd.  Calls themselves (the registry,
 * their rooms and media) are in call.c, leg.c. */
#define NUA_HMAGIC_T struct sip_call
#include "sip/sip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include <debug.h>

#include "sip/sip_private.h"

typedef enum { CMD_DIAL, CMD_HANGUP, CMD_REFER, CMD_STOP } command_type;

typedef struct command {
	command_type type;
	sip_call *call; /* referenced */
	char *arg;
} command;

static sip_config config;
static GThread *thread;
static su_root_t *root;
static nua_t *nua;
static GAsyncQueue *commands;
static int wake_fd = -1;
static su_timer_t *tick_timer;
static sb_acl *allow_list;
static sb_rate_limit rate;
static sb_source_limits *source_rates;
static char *nonce_secret;
static sb_sip_stats stats;
static GMutex start_mutex;
static GCond start_cond;
static int start_state; /* 0 starting, 1 up, -1 failed */
static bool shutting_down;
/* The inbound router (sb_sip_set_inbound_router): set and cleared while no
 * call comes in, read on the SIP thread. */
static sb_sip_router router;
static sb_sip_routed routed;
static GMutex router_mutex;

#define COUNT(field) __atomic_add_fetch(&stats.field, 1, __ATOMIC_RELAXED)
/* Sources with a bucket of their own at most (docs/security.md, Limits). */
#define SOURCES_MAX 4096

/* ---- helpers ----------------------------------------------------------- */

static void peer_address(char *out, size_t len)
{
	out[0] = '\0';
	msg_t *msg = nua_current_request(nua);
	su_sockaddr_t *su = msg ? msg_addr(msg) : NULL;
	if (!su)
		return;
	if (su->su_family == AF_INET)
		inet_ntop(AF_INET, &su->su_sin.sin_addr, out, (socklen_t)len);
	else if (su->su_family == AF_INET6)
		inet_ntop(AF_INET6, &su->su_sin6.sin6_addr, out, (socklen_t)len);
}

static char *url_text(const url_t *url)
{
	if (!url)
		return NULL;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	char *s = url_as_string(home, url);
	char *copy = g_strdup(s);
	su_home_deinit(home);
	return copy;
}

/* "Alice" <sip:+1415…@host> → +1415… (or the whole URI without a user). */
static char *address_text(const sip_addr_t *a)
{
	if (!a)
		return NULL;
	if (a->a_url->url_user)
		return g_strdup(a->a_url->url_user);
	return url_text(a->a_url);
}

static void respond(nua_handle_t *nh, int status, const char *phrase, const char *header)
{
	nua_respond(nh, status, phrase, TAG_IF(header, SIPTAG_HEADER_STR(header)), TAG_END());
}

/* ---- inbound ----------------------------------------------------------- */

void sb_sip_set_inbound_router(sb_sip_router fn, sb_sip_routed joined)
{
	g_mutex_lock(&router_mutex);
	router = fn;
	routed = joined;
	g_mutex_unlock(&router_mutex);
}

void sb_sip_route_clear(sb_sip_route *route)
{
	g_free(route->warning);
	g_free(route->room);
	g_free(route->identity);
	g_free(route->display);
	g_free(route->auth_user);
	g_free(route->auth_password);
	g_free(route->auth_realm);
	json_decref(route->attributes);
	g_free(route->metadata);
	if (route->free_user)
		route->free_user(route->user);
	memset(route, 0, sizeof(*route));
}

void sip_route_joined(const sb_sip_route *route, const char *room, sb_participant *p)
{
	g_mutex_lock(&router_mutex);
	sb_sip_routed fn = routed;
	g_mutex_unlock(&router_mutex);
	if (fn)
		fn(route, room, p);
}

/* The router's answer for an INVITE that names no room of its own. */
static void route_invite(const sip_t *sip, const char *source, const char *called,
                         sb_sip_route *route)
{
	memset(route, 0, sizeof(*route));
	g_mutex_lock(&router_mutex);
	sb_sip_router fn = router;
	g_mutex_unlock(&router_mutex);
	if (!fn)
		return;
	sb_sip_inbound call = {
	        .source = source,
	        .called = called,
	        .caller = sip->sip_from ? sip->sip_from->a_url->url_user : NULL,
	};
	fn(&call, route);
}

/* The INVITE proves user/password by digest: true, or answered (401 with
 * a challenge, 403 for wrong credentials). */
static bool digest_proves(nua_handle_t *nh, const sip_t *sip, const char *user,
                          const char *password, const char *realm)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	if (sip->sip_authorization && sip->sip_authorization->au_params) {
		char *joined = g_strjoinv(", ", (char **)sip->sip_authorization->au_params);
		sb_digest_credentials creds;
		char *storage = NULL;
		bool ok = sb_digest_parse(joined, &creds, &storage) &&
		          sb_digest_verify(&creds, "INVITE", user, password, realm, nonce_secret,
		                           now, 300);
		g_free(storage);
		g_free(joined);
		if (ok)
			return true;
		COUNT(rejected_auth);
		respond(nh, 403, "Forbidden", NULL);
		return false;
	}
	char *challenge = sb_digest_challenge(realm, nonce_secret, now);
	nua_respond(nh, 401, "Unauthorized", SIPTAG_WWW_AUTHENTICATE_STR(challenge), TAG_END());
	g_free(challenge);
	return false;
}

static bool authorized(nua_handle_t *nh, const sip_t *sip)
{
	if (!config.auth_user || !config.auth_password)
		return true;
	return digest_proves(nh, sip, config.auth_user, config.auth_password, config.realm);
}

static json_t *call_info(const sip_t *sip, const char *source_ip)
{
	json_t *info = json_object();
	json_t *headers = json_object();
	int kept = 0;
	for (sip_unknown_t *u = sip->sip_unknown; u && kept < SIP_MAX_X_HEADERS; u = u->un_next) {
		if (!u->un_name || !u->un_value || g_ascii_strncasecmp(u->un_name, "X-", 2) != 0)
			continue;
		/* A room signature admits whoever holds it until it expires: it
		 * is not shown to those who read calls (/sessions, the bus). */
		if (!g_ascii_strcasecmp(u->un_name, "X-Room-Signature"))
			continue;
		if (strlen(u->un_value) > 256 || strlen(u->un_name) > 64)
			continue;
		json_object_set_new(headers, u->un_name, json_string(u->un_value));
		kept++;
	}
	json_object_set_new(info, "headers", headers);
	if (sip->sip_from && sip->sip_from->a_display)
		json_object_set_new(info, "caller_name", json_string(sip->sip_from->a_display));
	if (source_ip[0])
		json_object_set_new(info, "source", json_string(source_ip));
	/* How the INVITE came: udp, tcp or tls (from its top Via). */
	const char *via = sip->sip_via && sip->sip_via->v_protocol ? sip->sip_via->v_protocol : "";
	const char *slash = strrchr(via, '/');
	char *transport = g_ascii_strdown(slash ? slash + 1 : "udp", -1);
	json_object_set_new(info, "transport", json_string(transport));
	g_free(transport);
	return info;
}

static const char *header_value(const sip_t *sip, const char *name)
{
	for (sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && !g_ascii_strcasecmp(u->un_name, name))
			return u->un_value;
	return NULL;
}

/* A header the request-URI carries (sip:room@host?X-Room-Signature=…):
 * some phones (baresip 1.0) leave a dialled URI's headers there instead of
 * making them headers.  Unescaped, g_free; NULL when absent. */
static char *uri_header(const sip_t *sip, const char *name)
{
	const char *query = sip->sip_request ? sip->sip_request->rq_url->url_headers : NULL;
	if (!query)
		return NULL;
	char *found = NULL;
	char **pairs = g_strsplit(query, "&", 32);
	for (char **p = pairs; *p && !found; p++) {
		char *eq = strchr(*p, '=');
		if (eq && (size_t)(eq - *p) == strlen(name) &&
		    !g_ascii_strncasecmp(*p, name, eq - *p))
			found = g_uri_unescape_string(eq + 1, NULL);
	}
	g_strfreev(pairs);
	return found;
}

/* Refuses an INVITE, saying why in a Warning (and when to come back). */
static void refuse(nua_handle_t *nh, int status, const char *phrase, const char *warning,
                   const char *retry_after)
{
	char *warn = warning ? g_strdup_printf("399 switchboard \"%s\"", warning) : NULL;
	nua_respond(nh, status, phrase, TAG_IF(warn, SIPTAG_WARNING_STR(warn)),
	            TAG_IF(retry_after, SIPTAG_RETRY_AFTER_STR(retry_after)), TAG_END());
	g_free(warn);
}

/* [sip] sip_account_check: the INVITE names our Twilio account. */
static bool account_ok(const sip_t *sip)
{
	if (!config.account_check)
		return true;
	const char *sid = header_value(sip, "X-Twilio-AccountSid");
	return config.account_sid && sid && !strcmp(sid, config.account_sid);
}

static void incoming_invite(nua_handle_t *nh, const sip_t *sip)
{
	COUNT(invites);
	char source[64];
	peer_address(source, sizeof(source));
	if (!sb_acl_allows(allow_list, source)) {
		COUNT(rejected_acl);
		JANUS_LOG(LOG_WARN,
		          "[switchboard] SIP INVITE from %s refused: not in [sip] allow\n",
		          source[0] ? source : "?");
		refuse(nh, 403, "Forbidden", "source not allowed", NULL);
		return;
	}
	/* The source's own budget first: what it is refused does not spend
	 * the budget every other source shares. */
	gint64 now = g_get_monotonic_time();
	int retry = 1;
	if (!sb_source_limits_take(source_rates, source, now, &retry)) {
		COUNT(rejected_source);
		char header[32];
		g_snprintf(header, sizeof(header), "%d", retry);
		refuse(nh, 503, "Service Unavailable", "too many calls from this source", header);
		return;
	}
	if (!sb_rate_limit_take(&rate, now)) {
		COUNT(rejected_limit);
		char header[32];
		g_snprintf(header, sizeof(header), "%d", sb_rate_limit_retry_after(&rate));
		refuse(nh, 503, "Service Unavailable", "too many calls", header);
		return;
	}
	if ((int)sip_calls_count() >= config.max_calls) {
		COUNT(rejected_limit);
		refuse(nh, 503, "Service Unavailable", "too many calls in progress", "10");
		return;
	}
	if (!authorized(nh, sip))
		return;
	if (!account_ok(sip)) {
		COUNT(rejected_account);
		JANUS_LOG(LOG_WARN,
		          "[switchboard] SIP INVITE from %s refused: X-Twilio-AccountSid is not "
		          "[twilio] account_sid\n",
		          source);
		refuse(nh, 403, "Forbidden", "wrong account", NULL);
		return;
	}
	const char *call_sid = header_value(sip, "X-Twilio-CallSid");
	char *uri_room = uri_header(sip, "X-Room");
	char *uri_signature = uri_header(sip, "X-Room-Signature");
	const char *x_room = header_value(sip, "X-Room");
	const char *signature = header_value(sip, "X-Room-Signature");
	sip_leg_inbound in = {
	        .call_id = sip->sip_call_id ? sip->sip_call_id->i_id : NULL,
	        .call_sid = call_sid,
	        .x_room = x_room ? x_room : uri_room,
	        .room_signature = signature ? signature : uri_signature,
	        .uri_user = sip->sip_request ? sip->sip_request->rq_url->url_user : NULL,
	        .from_user = NULL,
	        .sdp = sip->sip_payload ? sip->sip_payload->pl_data : NULL,
	        .sdp_len = sip->sip_payload ? sip->sip_payload->pl_len : 0,
	};
	char *from = address_text(sip->sip_from);
	char *to = address_text(sip->sip_to);
	json_t *info = call_info(sip, source);
	in.from_user = from;
	in.to_user = to;
	in.info = info;
	/* A call that names no room of its own may be routed (trunks). */
	sb_sip_route route;
	memset(&route, 0, sizeof(route));
	if (!sip_leg_named_room(&in))
		route_invite(sip, source, in.uri_user && *in.uri_user ? in.uri_user : to, &route);
	bool refused = false;
	if (route.status && route.status != 200) {
		COUNT(rejected_route);
		JANUS_LOG(LOG_WARN, "[switchboard] SIP INVITE from %s refused: %s\n", source,
		          route.warning ? route.warning : "no route");
		refuse(nh, route.status, route.status == 404 ? "Not Found" : "Forbidden",
		       route.warning, NULL);
		refused = true;
	} else if (route.status == 200 && route.auth_user && route.auth_password) {
		refused = !digest_proves(nh, sip, route.auth_user, route.auth_password,
		                         route.auth_realm ? route.auth_realm : config.realm);
	}
	in.route = route.status == 200 ? &route : NULL;
	sip_leg_answer answer;
	sip_call *call = refused ? NULL : sip_leg_accept(&config, &in, &answer);
	sb_sip_route_clear(&route);
	g_free(from);
	g_free(to);
	g_free(uri_room);
	g_free(uri_signature);
	json_decref(info);
	if (refused)
		return;
	if (!call) {
		switch (answer.status) {
		case 488:
			COUNT(rejected_codec);
			break;
		case 403:
			COUNT(rejected_signature);
			JANUS_LOG(LOG_WARN, "[switchboard] SIP INVITE from %s refused: %s\n",
			          source, answer.warning ? answer.warning : "room not allowed");
			break;
		case 404:
			COUNT(rejected_room);
			break;
		case 486:
		case 503:
			COUNT(rejected_limit);
			break;
		default:
			COUNT(rejected_other);
			break;
		}
		refuse(nh, answer.status, answer.phrase,
		       answer.status == 488 && !answer.warning ? "No usable codec" : answer.warning,
		       NULL);
		return;
	}
	call->nh = nh;
	nua_handle_bind(nh, call);
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
	            SIPTAG_PAYLOAD_STR(answer.sdp), TAG_END());
	g_free(answer.sdp);
	COUNT(answered);
	sip_leg_answered(call);
	/* Our reference is now the handle's magic, dropped when it ends. */
}

static void incoming_reinvite(sip_call *call, nua_handle_t *nh, const sip_t *sip)
{
	COUNT(reinvites);
	char *sdp = NULL;
	int status = sip_leg_reinvite(call, sip->sip_payload ? sip->sip_payload->pl_data : NULL,
	                              sip->sip_payload ? sip->sip_payload->pl_len : 0, &sdp);
	if (status != 200) {
		respond(nh, status, status == 488 ? "Not Acceptable Here" : "Bad Request", NULL);
		return;
	}
	nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
	            SIPTAG_PAYLOAD_STR(sdp), TAG_END());
	g_free(sdp);
}

static void incoming_info(sip_call *call, const sip_t *sip)
{
	if (!call || !sip->sip_payload || !sip->sip_content_type)
		return;
	if (sip_leg_info_dtmf(call, sip->sip_content_type->c_type, sip->sip_payload->pl_data,
	                      sip->sip_payload->pl_len))
		COUNT(info_dtmf);
}

/* NOTIFY for our REFER: a message/sipfrag with the transferee's progress. */
static void incoming_notify(sip_call *call, const sip_t *sip)
{
	if (!call || !call->refer_pending || !sip->sip_payload)
		return;
	int code = 0;
	if (sscanf(sip->sip_payload->pl_data, "SIP/2.0 %d", &code) != 1)
		return;
	if (code < 200)
		return;
	call->refer_pending = false;
	if (code < 300) {
		sip_call_publish_status(call, "transferred", code, NULL);
		g_free(call->end_reason);
		call->end_reason = g_strdup("transferred");
		g_atomic_int_set(&call->state, SIP_CALL_ENDING);
		nua_bye(call->nh, TAG_END());
	} else {
		COUNT(refers_failed);
		sip_call_publish_status(call, "transfer_failed", code,
		                        "the transfer target did not answer");
	}
}

/* ---- outbound ---------------------------------------------------------- */

/* Whether uri's host (and port) is [sip] trunk's: only the trunk gets the
 * trunk's credentials, not whoever a dialled sip: URI points at. */
static bool is_trunk_uri(const char *uri)
{
	if (!config.trunk || !uri)
		return false;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	url_t *url = url_make(home, uri);
	bool same = false;
	if (url && url->url_host) {
		char *hostport = url->url_port
		                         ? g_strdup_printf("%s:%s", url->url_host, url->url_port)
		                         : g_strdup(url->url_host);
		same = !g_ascii_strcasecmp(hostport, config.trunk);
		g_free(hostport);
	}
	su_home_deinit(home);
	return same;
}

static void start_dial(sip_call *call)
{
	char *offer = sip_leg_offer(&config, call);
	if (!offer) {
		sip_call_publish_status(call, "failed", 0, "no RTP port");
		sip_leg_finish(call, "failed");
		return;
	}
	char *to_uri = sip_leg_target_uri(&config, call->to);
	char *from_uri = sip_leg_target_uri(&config, call->from);
	call->to_trunk = is_trunk_uri(to_uri);
	call->nh =
	        nua_handle(nua, call, SIPTAG_TO_STR(to_uri), SIPTAG_FROM_STR(from_uri), TAG_END());
	sip_call_ref(call); /* the handle's magic */
	nua_invite(call->nh, NUTAG_URL(to_uri), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
	           SIPTAG_PAYLOAD_STR(offer), TAG_END());
	g_free(offer);
	g_free(to_uri);
	g_free(from_uri);
}

static const char *auth_realm(const sip_t *sip, const char **scheme)
{
	const msg_auth_t *au =
	        sip->sip_www_authenticate ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
	if (!au)
		return NULL;
	*scheme = au->au_scheme;
	return msg_params_find(au->au_params, "realm=");
}

/* Ends an outbound call whose INVITE got a challenge we do not answer: nua
 * keeps such a session waiting for credentials (it never reports it
 * terminated), so its leg, RTP port and handle would stay, and
 * nua_shutdown would wait for them. */
static void drop_challenged(sip_call *call, nua_handle_t *nh)
{
	nua_handle_bind(nh, NULL);
	call->nh = NULL;
	sip_leg_finish(call, call->end_reason ? call->end_reason : "failed");
	sip_call_unref(call); /* the handle's magic */
	nua_handle_destroy(nh);
}

static void invite_response(sip_call *call, nua_handle_t *nh, int status, const sip_t *sip)
{
	if (!call || !call->outbound)
		return;
	if (status == 180 || status == 183) {
		sip_call_publish_status(call, "ringing", status, NULL);
		return;
	}
	if ((status == 401 || status == 407) && !call->auth_tried && call->to_trunk &&
	    config.trunk_user && config.trunk_password) {
		const char *scheme = "Digest";
		const char *realm = auth_realm(sip, &scheme);
		if (realm) {
			call->auth_tried = true;
			char *auth = g_strdup_printf("%s:%s:%s:%s", scheme, realm,
			                             config.trunk_user, config.trunk_password);
			nua_authenticate(nh, NUTAG_AUTH(auth), TAG_END());
			g_free(auth);
			return;
		}
	}
	if (status >= 200 && status < 300) {
		if (g_atomic_int_get(&call->state) != SIP_CALL_DIALING)
			return; /* a re-INVITE we sent */
		if (!sip_leg_connect(call, sip->sip_payload ? sip->sip_payload->pl_data : NULL,
		                     sip->sip_payload ? sip->sip_payload->pl_len : 0)) {
			g_free(call->end_reason);
			call->end_reason = g_strdup("failed");
			g_atomic_int_set(&call->state, SIP_CALL_ENDING);
			nua_bye(nh, TAG_END());
			return;
		}
		COUNT(answered);
		return;
	}
	if (status >= 300 && g_atomic_int_get(&call->state) == SIP_CALL_DIALING) {
		char *outcome = g_strdup("failed");
		if (status == 486 || status == 600) {
			g_free(outcome);
			outcome = g_strdup("busy");
		} else if (status == 408 || status == 480 || status == 487) {
			g_free(outcome);
			outcome = g_strdup(call->end_reason ? call->end_reason : "no-answer");
		}
		g_free(call->end_reason);
		call->end_reason = outcome;
		g_atomic_int_set(&call->state, SIP_CALL_ENDING);
		sip_call_publish_status(call, outcome, status, NULL);
		/* A challenge we do not answer: not the trunk's, or a second one. */
		if (status == 401 || status == 407)
			drop_challenged(call, nh);
	}
}

/* ---- commands from other threads --------------------------------------- */

static void run_command(command *cmd)
{
	sip_call *call = cmd->call;
	switch (cmd->type) {
	case CMD_DIAL:
		start_dial(call);
		break;
	case CMD_HANGUP:
		if (!call->nh) {
			sip_leg_finish(call, "canceled");
			break;
		}
		if (g_atomic_int_get(&call->state) == SIP_CALL_DIALING) {
			if (!call->end_reason)
				call->end_reason = g_strdup(cmd->arg ? cmd->arg : "canceled");
			nua_cancel(call->nh, TAG_END());
		} else if (g_atomic_int_get(&call->state) == SIP_CALL_ACTIVE) {
			g_free(call->end_reason);
			call->end_reason = g_strdup(cmd->arg ? cmd->arg : "hangup");
			g_atomic_int_set(&call->state, SIP_CALL_ENDING);
			nua_bye(call->nh, TAG_END());
		}
		break;
	case CMD_REFER:
		if (call->nh && g_atomic_int_get(&call->state) == SIP_CALL_ACTIVE) {
			COUNT(refers);
			call->refer_pending = true;
			char *refer_to = g_strdup_printf("<%s>", cmd->arg);
			nua_refer(call->nh, SIPTAG_REFER_TO_STR(refer_to), TAG_END());
			g_free(refer_to);
		}
		break;
	case CMD_STOP:
		break;
	}
}

static void command_free(command *cmd)
{
	if (cmd->call)
		sip_call_unref(cmd->call);
	g_free(cmd->arg);
	g_free(cmd);
}

static int on_wake(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	(void)magic, (void)w, (void)arg;
	uint64_t v;
	ssize_t r = read(wake_fd, &v, sizeof(v));
	(void)r;
	command *cmd;
	while ((cmd = g_async_queue_try_pop(commands))) {
		if (cmd->type == CMD_STOP) {
			command_free(cmd);
			shutting_down = true;
			nua_shutdown(nua);
			continue;
		}
		if (!shutting_down)
			run_command(cmd);
		command_free(cmd);
	}
	return 0;
}

static void post(command_type type, sip_call *call, const char *arg)
{
	command *cmd = g_new0(command, 1);
	cmd->type = type;
	cmd->call = call;
	if (call)
		sip_call_ref(call);
	cmd->arg = g_strdup(arg);
	g_async_queue_push(commands, cmd);
	uint64_t one = 1;
	ssize_t r = write(wake_fd, &one, sizeof(one));
	(void)r;
}

/* Once a second: calls ringing too long, legs whose media stopped. */
static void on_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	(void)magic, (void)t, (void)arg;
	GPtrArray *all = sip_calls_snapshot();
	gint64 now = g_get_monotonic_time();
	for (guint i = 0; i < all->len; i++) {
		sip_call *c = g_ptr_array_index(all, i);
		gint state = g_atomic_int_get(&c->state);
		if (state == SIP_CALL_DIALING && c->nh &&
		    now - c->created_us > (gint64)config.ring_timeout * G_USEC_PER_SEC) {
			if (!c->end_reason)
				c->end_reason = g_strdup("no-answer");
			nua_cancel(c->nh, TAG_END());
		} else if (state == SIP_CALL_ACTIVE && config.rtp_timeout > 0 &&
		           sip_leg_media_idle_us(c, now) >
		                   (gint64)config.rtp_timeout * G_USEC_PER_SEC) {
			COUNT(rtp_timeouts);
			JANUS_LOG(LOG_INFO,
			          "[switchboard] SIP call %s: no media for %d s, hanging up\n",
			          c->id, config.rtp_timeout);
			g_free(c->end_reason);
			c->end_reason = g_strdup("rtp_timeout");
			g_atomic_int_set(&c->state, SIP_CALL_ENDING);
			nua_bye(c->nh, TAG_END());
		}
	}
	g_ptr_array_unref(all);
}

/* ---- the nua callback -------------------------------------------------- */

static void on_event(nua_event_t event, int status, char const *phrase, nua_t *n,
                     nua_magic_t *magic, nua_handle_t *nh, sip_call *call, sip_t const *sip,
                     tagi_t tags[])
{
	(void)phrase, (void)n, (void)magic;
	switch (event) {
	case nua_i_invite:
		if (shutting_down)
			respond(nh, 503, "Service Unavailable", NULL);
		else if (call)
			incoming_reinvite(call, nh, sip);
		else if (sip)
			incoming_invite(nh, sip);
		break;
	case nua_r_invite:
		invite_response(call, nh, status, sip);
		break;
	case nua_i_cancel:
		if (call && !call->end_reason)
			call->end_reason = g_strdup("canceled");
		break;
	case nua_i_bye:
		if (call) {
			g_free(call->end_reason);
			call->end_reason =
			        g_strdup(call->refer_pending ? "transferred" : "completed");
			g_atomic_int_set(&call->state, SIP_CALL_ENDING);
		}
		break;
	case nua_i_info:
		incoming_info(call, sip);
		break;
	case nua_r_refer:
		if (call && status >= 300) {
			call->refer_pending = false;
			COUNT(refers_failed);
			sip_call_publish_status(call, "transfer_failed", status, "REFER refused");
		} else if (call && status >= 200) {
			sip_call_publish_status(call, "transfer_accepted", status, NULL);
		}
		break;
	case nua_i_notify:
		incoming_notify(call, sip);
		break;
	case nua_i_state: {
		int state = nua_callstate_init;
		tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
		if (state != nua_callstate_terminated)
			break;
		if (call) {
			nua_handle_bind(nh, NULL);
			call->nh = NULL;
			sip_leg_finish(call, call->end_reason ? call->end_reason : "completed");
			sip_call_unref(call); /* the handle's magic */
		}
		nua_handle_destroy(nh);
		break;
	}
	case nua_r_shutdown:
		if (status >= 200)
			su_root_break(root);
		break;
	default:
		/* Requests outside a dialog (OPTIONS, MESSAGE …) were answered by
		 * nua; their handles are ours to free. */
		if (!call && nh && nua_event_is_incoming_request(event) && nh != nua_default(nua))
			nua_handle_destroy(nh);
		break;
	}
}

/* ---- thread and lifecycle ---------------------------------------------- */

static void signal_start(int state)
{
	g_mutex_lock(&start_mutex);
	start_state = state;
	g_cond_signal(&start_cond);
	g_mutex_unlock(&start_mutex);
}

static gpointer sip_main(gpointer data)
{
	(void)data;
	su_init();
	root = su_root_create(NULL);
	char *url = g_strdup_printf("sip:%s:%d", config.ip, config.port);
	char *sips =
	        config.cert_dir ? g_strdup_printf("sips:%s:%d", config.ip, config.tls_port) : NULL;
	nua = root ? nua_create(root, on_event, NULL, NUTAG_URL(url),
	                        TAG_IF(sips, NUTAG_SIPS_URL(sips)),
	                        TAG_IF(config.cert_dir, NUTAG_CERTIFICATE_DIR(config.cert_dir)),
	                        SIPTAG_USER_AGENT_STR(config.user_agent),
	                        SIPTAG_ALLOW_STR(
	                                "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY"),
	                        NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
	                        NUTAG_ENABLEMESSAGE(0), NUTAG_SESSION_TIMER(config.session_timer),
	                        NUTAG_MIN_SE(90), TAG_END())
	           : NULL;
	g_free(url);
	g_free(sips);
	su_wait_t wait[1];
	if (!nua || su_wait_create(wait, wake_fd, SU_WAIT_IN) != 0 ||
	    su_root_register(root, wait, on_wake, NULL, 0) < 0) {
		JANUS_LOG(LOG_ERR, "[switchboard] SIP: cannot listen on %s:%d (in use?)\n",
		          config.ip, config.port);
		if (nua)
			nua_destroy(nua);
		nua = NULL;
		if (root)
			su_root_destroy(root);
		root = NULL;
		su_deinit();
		signal_start(-1);
		return NULL;
	}
	tick_timer = su_timer_create(su_root_task(root), 1000);
	su_timer_set_for_ever(tick_timer, on_tick, NULL);
	if (config.cert_dir)
		JANUS_LOG(LOG_INFO, "[switchboard] SIP on %s:%d (UDP, TCP) and %d (TLS)\n",
		          config.ip, config.port, config.tls_port);
	else
		JANUS_LOG(LOG_INFO, "[switchboard] SIP on %s:%d (UDP, TCP)\n", config.ip,
		          config.port);
	signal_start(1);
	su_root_run(root);
	/* nua_shutdown ended every dialog; the legs are finished. */
	su_timer_destroy(tick_timer);
	tick_timer = NULL;
	nua_destroy(nua);
	nua = NULL;
	su_root_destroy(root);
	root = NULL;
	su_deinit();
	return NULL;
}

bool sb_sip_start(const sb_settings *settings)
{
	sip_config_load(&config, settings);
	if (!config.enabled) {
		JANUS_LOG(LOG_INFO, "[switchboard] SIP bridge disabled ([sip] enabled = false)\n");
		sip_config_clear(&config);
		return false;
	}
	char *bad = NULL;
	allow_list = sb_acl_parse(config.allow, &bad);
	if (!allow_list) {
		JANUS_LOG(LOG_ERR, "[switchboard] [sip] allow: '%s' is not an address or CIDR\n",
		          bad);
		g_free(bad);
		sip_config_clear(&config);
		return false;
	}
	if (sb_acl_count(allow_list) == 0)
		JANUS_LOG(LOG_WARN, "[switchboard] [sip] allow is empty: every INVITE is refused "
		                    "(list your carrier's signalling addresses)\n");
	if (!config.room_secret)
		JANUS_LOG(LOG_WARN, "[switchboard] SIP: no [sip] room_secret or [auth] jwt_secret: "
		                    "INVITEs that name a room are refused\n");
	sb_rate_limit_init(&rate, config.calls_per_second, config.calls_burst);
	source_rates = sb_source_limits_new(config.calls_per_source, config.calls_per_source_burst,
	                                    SOURCES_MAX);
	guint8 raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		for (size_t i = 0; i < sizeof(raw); i++) /* not reached on Linux >= 3.17 */
			raw[i] = (guint8)g_random_int_range(0, 256);
	/* The digest nonces' signing key: unpredictable, or nonces could be
	 * made without asking. */
	nonce_secret = g_base64_encode(raw, sizeof(raw));
	commands = g_async_queue_new();
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sip_calls_init();
	sip_leg_init(&config);
	start_state = 0;
	shutting_down = false;
	thread = g_thread_new("sb sip", sip_main, NULL);
	g_mutex_lock(&start_mutex);
	while (start_state == 0)
		g_cond_wait(&start_cond, &start_mutex);
	int state = start_state;
	g_mutex_unlock(&start_mutex);
	if (state < 0) {
		g_thread_join(thread);
		thread = NULL;
		sb_sip_stop();
		return false;
	}
	sip_api_register(&config);
	return true;
}

void sb_sip_stop(void)
{
	if (thread) {
		post(CMD_STOP, NULL, NULL);
		g_thread_join(thread);
		thread = NULL;
	}
	/* Legs nua never got to finish (shutdown races). */
	GPtrArray *left = sip_calls_snapshot();
	for (guint i = 0; i < left->len; i++)
		sip_leg_finish(g_ptr_array_index(left, i), "shutdown");
	g_ptr_array_unref(left);
	sip_leg_deinit();
	sip_calls_deinit();
	if (commands) {
		command *cmd;
		while ((cmd = g_async_queue_try_pop(commands)))
			command_free(cmd);
		g_async_queue_unref(commands);
		commands = NULL;
	}
	if (wake_fd >= 0)
		close(wake_fd);
	wake_fd = -1;
	sb_acl_free(allow_list);
	allow_list = NULL;
	sb_source_limits_free(source_rates);
	source_rates = NULL;
	g_free(nonce_secret);
	nonce_secret = NULL;
	sip_config_clear(&config);
}

/* ---- the API (any thread) ---------------------------------------------- */

char *sb_sip_dial(const sb_sip_dial_params *params, char **error)
{
	if (!thread) {
		*error = g_strdup("The SIP bridge is not running");
		return NULL;
	}
	sip_call *call = sip_leg_prepare_dial(&config, params, error);
	if (!call)
		return NULL;
	COUNT(outbound);
	char *id = g_strdup(call->id);
	post(CMD_DIAL, call, NULL);
	sip_call_unref(call);
	return id;
}

bool sb_sip_hangup(const char *key)
{
	sip_call *call = thread ? sip_calls_find(key) : NULL;
	if (!call)
		return false;
	post(CMD_HANGUP, call, "hangup");
	sip_call_unref(call);
	return true;
}

void sip_request_hangup(sip_call *call, const char *reason)
{
	post(CMD_HANGUP, call, reason);
}

bool sb_sip_refer(const char *key, const char *target, char **error)
{
	sip_call *call = thread ? sip_calls_find(key) : NULL;
	if (!call) {
		*error = g_strdup("No such call");
		return false;
	}
	bool ok = false;
	char *uri = NULL;
	if (g_atomic_int_get(&call->state) != SIP_CALL_ACTIVE)
		*error = g_strdup("The call is not answered");
	else if (!(uri = sip_leg_target_uri(&config, target)))
		*error =
		        g_strdup("The target must be an E.164 number (+14155550100) or a sip: URI");
	else {
		post(CMD_REFER, call, uri);
		ok = true;
	}
	g_free(uri);
	sip_call_unref(call);
	return ok;
}

bool sb_sip_send_dtmf(const char *key, const char *digits, char **error)
{
	sip_call *call = thread ? sip_calls_find(key) : NULL;
	if (!call) {
		*error = g_strdup("No such call");
		return false;
	}
	bool ok = sip_leg_send_dtmf(call, digits, error);
	sip_call_unref(call);
	return ok;
}

json_t *sb_sip_calls_json(void)
{
	json_t *list = json_array();
	GPtrArray *all = sip_calls_snapshot();
	for (guint i = 0; i < all->len; i++)
		json_array_append_new(list, sip_call_to_json(g_ptr_array_index(all, i)));
	g_ptr_array_unref(all);
	return list;
}

guint sb_sip_calls_active(void)
{
	return thread ? sip_calls_count() : 0;
}

void sb_sip_get_stats(sb_sip_stats *out)
{
	guint64 *dst = (guint64 *)out;
	const guint64 *src = (const guint64 *)&stats;
	for (size_t i = 0; i < sizeof(stats) / sizeof(guint64); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	out->dtmf_in = sip_leg_dtmf_received();
	out->ended = sip_leg_ended();
}
