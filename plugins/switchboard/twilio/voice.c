/* Twilio voice: the voice webhook (TwiML that brings the call into its
 * room in the configured mode), the status callback (call_status events;
 * a finished call closes the room it got), and outbound calls through
 * Calls.json when [phone] outbound is "twilio". */
#include "twilio/twilio_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "room/room.h"
#include "sip/sip.h"

static const char *const terminal_statuses[] = {"completed", "busy", "failed", "no-answer",
                                                "canceled"};
static const char *const statuses[] = {"queued",    "initiated", "ringing", "in-progress",
                                       "answered",  "completed", "busy",    "failed",
                                       "no-answer", "canceled"};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

bool sb_twilio_ensure_room(const char *room, bool agent, bool *created, char **error)
{
	*created = false;
	sb_room *r = sb_room_find(room);
	if (r) {
		sb_room_unref(r);
		return true;
	}
	/* A call's room needs a token: a browser gets in only when the console
	 * or the operator's back end lets it (docs/security.md). */
	json_t *res = sb_ops_run_trusted(json_pack("{sssssbsb}", "request", "create", "room", room,
	                                           "agent", agent ? 1 : 0, "require_token",
	                                           sb_twilio_cfg()->rooms_require_token ? 1 : 0));
	json_t *code = json_object_get(res, "error_code");
	bool ok = !code || json_integer_value(code) == SB_ERROR_ROOM_EXISTS;
	*created = !code;
	if (!ok)
		*error = g_strdup(json_string_value(json_object_get(res, "error")));
	json_decref(res);
	return ok;
}

static const char *interface_of(const char *from)
{
	return from && g_str_has_prefix(from, "whatsapp:") ? "whatsapp" : "phone";
}

/* holder: the room's node when another node of the cluster holds it
 * ({"rest_url", "sip_uri", …}, room.h sb_room_locate), else NULL: the
 * stream, relay or SIP leg goes there. */
static char *twiml_for(const char *room, json_t *call, json_t *holder)
{
	const sb_twilio_config *cfg = sb_twilio_cfg();
	const char *base = json_string_value(json_object_get(holder, "rest_url"));
	const char *holder_sip = json_string_value(json_object_get(holder, "sip_uri"));
	const char *sip_uri = holder_sip && *holder_sip ? holder_sip : cfg->sip_uri;
	json_t *params = json_object();
	/* The room rides signed for this call: the socket that says it is this
	 * call enters this room and no other (docs/security.md). */
	const char *sid = json_string_value(json_object_get(call, "call_sid"));
	sb_twilio_grant_room(params, room, sid ? sid : "");
	static const char *keys[] = {"call_sid", "from", "to"};
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (json_is_string(json_object_get(call, keys[i])))
			json_object_set(params, keys[i], json_object_get(call, keys[i]));
	char *twiml;
	if (!strcmp(cfg->voice_mode, "sip")) {
		char *room_q = g_uri_escape_string(room, NULL, FALSE);
		/* The SIP bridge lets the INVITE into the room only with our
		 * signature for it (docs/security.md). */
		char *sig = sb_sip_room_signature(sb_plugin_settings, room);
		char *uri =
		        g_strdup_printf("%s%sX-Room=%s&X-Room-Signature=%s", sip_uri,
		                        strchr(sip_uri, '?') ? "&" : "?", room_q, sig ? sig : "");
		twiml = sb_twiml_sip(uri);
		g_free(uri);
		g_free(sig);
		g_free(room_q);
	} else if (!strcmp(cfg->voice_mode, "relay")) {
		char *url = base ? sb_twilio_socket_url_on(base, "/twilio/relay")
		                 : sb_twilio_socket_url("/twilio/relay");
		char *action = base ? sb_twilio_link_on(base, "/twilio/handoff", room, false)
		                    : sb_twilio_public_link("/twilio/handoff", room, false);
		/* With a menu, Twilio says its prompt first (relay_menu.c). */
		char *menu_prompt = sb_relay_menu_prompt_of();
		twiml = sb_twiml_relay(url, action,
		                       menu_prompt            ? menu_prompt
		                       : *cfg->relay_greeting ? cfg->relay_greeting
		                                              : NULL,
		                       cfg->relay_language, params);
		g_free(menu_prompt);
		g_free(url);
		g_free(action);
	} else {
		/* Media Streams take no query string: the room rides as a Parameter. */
		char *url = base ? sb_twilio_socket_url_on(base, "/twilio/stream")
		                 : sb_twilio_socket_url("/twilio/stream");
		twiml = sb_twiml_stream(url, params);
		g_free(url);
	}
	json_decref(params);
	return twiml;
}

/* The call's context: the webhook's form fields (From, To, CallSid,
 * CallerName, FromCity …) as the room's variables; CallToken, which lets
 * its holder forward the call, is left out. */
static void set_call_variables(const sb_rest_request *req, const char *room_name)
{
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return;
	json_t *params = json_object();
	if (req->form) {
		GHashTableIter it;
		gpointer name, value;
		g_hash_table_iter_init(&it, req->form);
		while (g_hash_table_iter_next(&it, &name, &value))
			json_object_set_new(params, name, json_string(value));
	} else if (json_is_object(req->body)) {
		json_object_update(params, req->body);
	}
	json_object_del(params, "CallToken");
	sb_twilio_set_variables(room, params, "Twilio voice webhook");
	json_decref(params);
	sb_room_unref(room);
}

static int route_voice(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	int status;
	if ((status = sb_twilio_verify(req, false, out)))
		return status;
	const char *sid = sb_twilio_form(req, "CallSid");
	const char *from = sb_twilio_form(req, "From");
	const char *to = sb_twilio_form(req, "To");
	if (!sb_twilio_sid_valid(sid))
		return sb_rest_error(out, 400, "invalid_request", "CallSid missing or invalid");
	if (!from || !to || strlen(from) > 256 || strlen(to) > 256)
		return sb_rest_error(out, 400, "invalid_request", "From and To are required");
	const sb_twilio_config *cfg = sb_twilio_cfg();
	if (!strcmp(cfg->voice_mode, "sip") && !*cfg->sip_uri)
		return sb_rest_error(out, 500, "not_configured",
		                     "[twilio] voice_mode sip needs sip_uri");
	json_t *call = sb_twilio_call_get(sid);
	const char *qroom = req->query ? g_hash_table_lookup(req->query, "room") : NULL;
	char *room = g_strdup(qroom ? qroom
	                      : call && json_is_string(json_object_get(call, "room"))
	                              ? json_string_value(json_object_get(call, "room"))
	                              : NULL);
	if (!room)
		room = g_strdup_printf("twilio-%s", sid);
	if (!sb_room_name_valid(room)) {
		g_free(room);
		json_decref(call);
		return sb_rest_error(out, 400, "invalid_request", "Invalid room name");
	}
	bool relay = !strcmp(cfg->voice_mode, "relay");
	bool created = false;
	char *error = NULL;
	/* Webhooks may reach any node of a cluster: a room another node holds
	 * stays there, and Twilio is sent to that node. */
	json_t *holder = sb_room_locate(room);
	if (holder && !json_is_string(json_object_get(holder, "rest_url")))
		g_clear_pointer(&holder, json_decref); /* nowhere to send Twilio: as before */
	if (holder) {
		JANUS_LOG(LOG_INFO, "[switchboard] twilio: call %s for room %s: to node %s\n", sid,
		          room, json_string_value(json_object_get(holder, "node")));
	} else if (!sb_twilio_ensure_room(room, !relay, &created, &error)) {
		/* A cluster node that takes no new room (draining, full): Twilio
		 * asks the least-loaded live node instead, with the same query.
		 * Once: a redirected call is not sent on again (no ping-pong
		 * between nodes that both fail for another reason). */
		bool redirected = req->query && g_hash_table_contains(req->query, "redirected");
		json_t *next = redirected ? NULL : sb_room_least_loaded();
		const char *base = json_string_value(json_object_get(next, "rest_url"));
		if (base && *base) {
			char *url = sb_twilio_link_on(base, "/twilio/voice", NULL, false);
			char *full = g_strdup_printf("%s?%s%sredirected=1", url,
			                             req->raw_query ? req->raw_query : "",
			                             req->raw_query && *req->raw_query ? "&" : "");
			JANUS_LOG(LOG_INFO,
			          "[switchboard] twilio: call %s: no new room here (%s): to node "
			          "%s\n",
			          sid, error ? error : "?",
			          json_string_value(json_object_get(next, "node")));
			*text = sb_twiml_redirect(full);
			*tt = "text/xml";
			g_free(full);
			g_free(url);
			json_decref(next);
			g_free(error);
			g_free(room);
			json_decref(call);
			return 200;
		}
		json_decref(next);
		*out = sb_http_error("room_failed", "Cannot create room %s: %s", room,
		                     error ? error : "?");
		g_free(error);
		g_free(room);
		json_decref(call);
		return 503;
	}
	if (holder) {
		/* The holder records the call when Twilio reaches it: nothing of
		 * it is kept or published here (a second call record). */
		json_t *brief =
		        json_pack("{s:s, s:s, s:s}", "call_sid", sid, "from", from, "to", to);
		*text = twiml_for(room, brief, holder);
		*tt = "text/xml";
		json_decref(brief);
		json_decref(holder);
		json_decref(call);
		g_free(room);
		return 200;
	}
	set_call_variables(req, room);
	if (!call)
		call = json_object();
	bool owns = created || json_is_true(json_object_get(call, "created_room"));
	json_object_set_new(call, "call_sid", json_string(sid));
	json_object_set_new(call, "room", json_string(room));
	json_object_set_new(call, "from", json_string(from));
	json_object_set_new(call, "to", json_string(to));
	const char *direction = sb_twilio_form(req, "Direction");
	if (direction || !json_object_get(call, "direction"))
		json_object_set_new(call, "direction",
		                    json_string(direction ? direction : "inbound"));
	json_object_set_new(call, "interface", json_string(interface_of(from)));
	json_object_set_new(call, "created_room", json_boolean(owns));
	const char *cs = sb_twilio_form(req, "CallStatus");
	const char *st = in_list(cs, statuses, G_N_ELEMENTS(statuses)) ? cs : "ringing";
	json_object_set_new(call, "status", json_string(st));
	sb_twilio_call_remember(sid, call);
	sb_twilio_publish_status(call, st, -1);
	JANUS_LOG(LOG_INFO, "[switchboard] twilio: call %s from %s into room %s (%s)\n", sid, from,
	          room, cfg->voice_mode);
	*text = twiml_for(room, call, NULL);
	*tt = "text/xml";
	json_decref(call);
	g_free(room);
	return 200;
}

static int route_status(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	int status;
	if ((status = sb_twilio_verify(req, false, out)))
		return status;
	const char *sid = sb_twilio_form(req, "CallSid");
	const char *cs = sb_twilio_form(req, "CallStatus");
	if (!sb_twilio_sid_valid(sid))
		return sb_rest_error(out, 400, "invalid_request", "CallSid missing or invalid");
	if (!in_list(cs, statuses, G_N_ELEMENTS(statuses)))
		return sb_rest_error(out, 400, "invalid_request", "CallStatus missing or unknown");
	json_t *call = sb_twilio_call_get(sid);
	if (!call) {
		const char *from = sb_twilio_form(req, "From");
		const char *qroom = req->query ? g_hash_table_lookup(req->query, "room") : NULL;
		char *room = qroom && sb_room_name_valid(qroom) ? g_strdup(qroom)
		                                                : g_strdup_printf("twilio-%s", sid);
		json_t *holder = sb_room_locate(room);
		if (holder) {
			/* Another node's call: its record is that node's, and a
			 * status published here would open a second one. */
			JANUS_LOG(LOG_INFO,
			          "[switchboard] twilio: status %s of call %s is node %s's: "
			          "not recorded here\n",
			          cs, sid, json_string_value(json_object_get(holder, "node")));
			json_decref(holder);
			g_free(room);
			*text = sb_twiml_empty();
			*tt = "text/xml";
			return 200;
		}
		call = json_pack("{ssssss?ss?ss?ss}", "call_sid", sid, "room", room, "from", from,
		                 "to", sb_twilio_form(req, "To"), "direction",
		                 sb_twilio_form(req, "Direction"), "interface", interface_of(from));
		g_free(room);
	}
	const char *dur = sb_twilio_form(req, "CallDuration");
	json_int_t duration = dur && *dur ? g_ascii_strtoll(dur, NULL, 10) : -1;
	sb_twilio_publish_status(call, cs, duration);
	const char *room = json_string_value(json_object_get(call, "room"));
	if (in_list(cs, terminal_statuses, G_N_ELEMENTS(terminal_statuses))) {
		/* The call's own room (twilio-<CallSid>) closes with it.  A room
		 * made for the call under another name (POST /phone/call {room})
		 * closes only when nobody else is left in it; a room that was
		 * there before lives on without this caller. */
		char *own = g_strdup_printf("twilio-%s", sid);
		bool close = room && !strcmp(room, own);
		if (!close && room && json_is_true(json_object_get(call, "created_room"))) {
			sb_room *r = sb_room_find(room);
			close = r && sb_room_count_humans(r) == 0;
			if (r)
				sb_room_unref(r);
		}
		if (close)
			json_decref(sb_ops_run_trusted(
			        json_pack("{ssss}", "request", "destroy", "room", room)));
		g_free(own);
		sb_twilio_call_forget(sid);
	} else if (json_object_get(call, "room")) {
		json_object_set_new(call, "status", json_string(cs));
		sb_twilio_call_remember(sid, call);
	}
	json_decref(call);
	*text = sb_twiml_empty();
	*tt = "text/xml";
	return 200;
}

/* After a ConversationRelay session: handoffData says a human should take
 * the call, which then streams into its room (where the console joins). */
static int route_relay_action(const sb_rest_request *req, json_t **out, char **text,
                              const char **tt)
{
	int status;
	if ((status = sb_twilio_verify(req, false, out)))
		return status;
	const char *handoff = sb_twilio_form(req, "HandoffData");
	const char *room = req->query ? g_hash_table_lookup(req->query, "room") : NULL;
	const char *sid = sb_twilio_form(req, "CallSid");
	*tt = "text/xml";
	if (handoff && *handoff && room && sb_room_name_valid(room) && sb_twilio_sid_valid(sid)) {
		json_t *params = json_pack("{ss}", "handoff", handoff);
		sb_twilio_grant_room(params, room, sid);
		char *url = sb_twilio_socket_url("/twilio/stream");
		*text = sb_twiml_stream(url, params);
		g_free(url);
		json_decref(params);
	} else {
		*text = g_strdup(
		        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>");
	}
	return 200;
}

/* ---- outbound ---- */

typedef struct placing {
	sb_rest_reply *reply;
	char *room, *to, *from, *interface;
	bool created_room;
} placing;

static void placed(void *user, long status, json_t *body, const char *error)
{
	placing *p = user;
	const char *sid = json_string_value(json_object_get(body, "sid"));
	if (!error && sid && sb_twilio_sid_valid(sid)) {
		const char *st = json_string_value(json_object_get(body, "status"));
		json_t *call = json_pack("{ssssssssssssss}", "call_sid", sid, "room", p->room,
		                         "from", p->from, "to", p->to, "direction", "outbound-api",
		                         "interface", p->interface, "status", st ? st : "queued");
		json_object_set_new(call, "created_room", json_boolean(p->created_room));
		sb_twilio_call_remember(sid, call);
		sb_twilio_publish_status(call, st ? st : "queued", -1);
		json_decref(call);
		if (p->reply)
			sb_rest_finish(p->reply, 201,
			               json_pack("{ssssss?}", "callSid", sid, "room", p->room,
			                         "status", st ? st : "queued"),
			               NULL, NULL);
	} else {
		if (p->created_room)
			json_decref(sb_ops_run_trusted(
			        json_pack("{ssss}", "request", "destroy", "room", p->room)));
		if (p->reply) {
			json_t *e = sb_http_error("twilio_error", "%s",
			                          error ? error : "Twilio gave no call sid");
			json_object_set_new(json_object_get(e, "error"), "twilio_status",
			                    json_integer(status));
			json_t *code = json_object_get(body, "code");
			if (json_is_integer(code))
				json_object_set(json_object_get(e, "error"), "twilio_code", code);
			sb_rest_finish(p->reply, 502, e, NULL, NULL);
		}
	}
	g_free(p->room);
	g_free(p->to);
	g_free(p->from);
	g_free(p->interface);
	g_free(p);
}

static void add_pair(GPtrArray *pairs, const char *name, const char *value)
{
	g_ptr_array_add(pairs, g_strdup(name));
	g_ptr_array_add(pairs, g_strdup(value));
}

void sb_twilio_place_call(const char *to, const char *from, const char *room, const char *interface,
                          sb_rest_reply *reply)
{
	placing *p = g_new0(placing, 1);
	p->reply = reply;
	p->room = g_strdup(room);
	p->to = g_strdup(to);
	p->from = g_strdup(from);
	p->interface = g_strdup(interface);
	char *error = NULL;
	if (!sb_twilio_ensure_room(room, true, &p->created_room, &error)) {
		if (reply)
			sb_rest_finish(reply, 503,
			               sb_http_error("room_failed", "Cannot create room %s: %s",
			                             room, error ? error : "?"),
			               NULL, NULL);
		g_free(error);
		p->reply = NULL;
		p->created_room = false;
		placed(p, 0, NULL, "room");
		return;
	}
	GPtrArray *pairs = g_ptr_array_new_with_free_func(g_free);
	add_pair(pairs, "To", to);
	add_pair(pairs, "From", from);
	char *url = sb_twilio_public_link("/twilio/voice", room, false);
	char *cb = sb_twilio_public_link("/twilio/status", room, false);
	add_pair(pairs, "Url", url);
	add_pair(pairs, "StatusCallback", cb);
	static const char *events[] = {"initiated", "ringing", "answered", "completed"};
	for (size_t i = 0; i < G_N_ELEMENTS(events); i++)
		add_pair(pairs, "StatusCallbackEvent", events[i]);
	g_free(url);
	g_free(cb);
	if (!sb_twilio_rest_post("/Calls.json", pairs, placed, p, &error)) {
		placed(p, 0, NULL, error);
		g_free(error);
	}
	g_ptr_array_unref(pairs);
}

/* E.164 (+ and 8-15 digits), whatsapp:+E.164, or a sip: URI. */
static bool destination_valid(const char *to)
{
	if (!to || strlen(to) > 128)
		return false;
	const char *n = g_str_has_prefix(to, "whatsapp:") ? to + 9 : to;
	if (g_str_has_prefix(n, "sip:"))
		return strlen(n) > 4 && !strpbrk(n, " <>\"\r\n");
	if (n[0] != '+')
		return false;
	size_t digits = strlen(n + 1);
	if (digits < 8 || digits > 15)
		return false;
	for (const char *c = n + 1; *c; c++)
		if (!g_ascii_isdigit(*c))
			return false;
	return true;
}

static int route_phone_call(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	const char *to = req->body ? json_string_value(json_object_get(req->body, "to")) : NULL;
	const char *from = req->body ? json_string_value(json_object_get(req->body, "from")) : NULL;
	const char *room = req->body ? json_string_value(json_object_get(req->body, "room")) : NULL;
	if (!destination_valid(to))
		return sb_rest_error(out, 400, "invalid_request",
		                     "to must be an E.164 number (+14155550100) or a sip: URI");
	const sb_twilio_config *cfg = sb_twilio_cfg();
	const char *def_from = json_string_value(
	        json_object_get(sb_settings_section(cfg->settings, "twilio"), "phone_number"));
	if (!from)
		from = def_from;
	if (!destination_valid(from))
		return sb_rest_error(out, 400, "invalid_request",
		                     "from missing (or [twilio] phone_number) or not E.164");
	char *own = NULL;
	if (room && !sb_room_name_valid(room))
		return sb_rest_error(out, 400, "invalid_request", "Invalid room name");
	if (!room) {
		own = g_strdup_printf("call-%08x%08x", g_random_int(), g_random_int());
		room = own;
	}
	sb_twilio_place_call(to, from, room, "phone", req->reply);
	g_free(own);
	return 0;
}

typedef struct ending {
	sb_rest_reply *reply;
	char *sid;
} ending;

static void ended(void *user, long status, json_t *body, const char *error)
{
	ending *e = user;
	if (e->reply) {
		if (error) {
			json_t *err = sb_http_error("twilio_error", "%s", error);
			json_object_set_new(json_object_get(err, "error"), "twilio_status",
			                    json_integer(status));
			sb_rest_finish(e->reply, status == 404 ? 404 : 502, err, NULL, NULL);
		} else {
			const char *st = json_string_value(json_object_get(body, "status"));
			sb_rest_finish(e->reply, 200,
			               json_pack("{ssss}", "callSid", e->sid, "status",
			                         st ? st : "completed"),
			               NULL, NULL);
		}
	}
	g_free(e->sid);
	g_free(e);
}

static bool hang_up(const char *sid, sb_rest_reply *reply, char **error)
{
	ending *e = g_new0(ending, 1);
	e->reply = reply;
	e->sid = g_strdup(sid);
	GPtrArray *pairs = g_ptr_array_new_with_free_func(g_free);
	add_pair(pairs, "Status", "completed");
	char *path = g_strdup_printf("/Calls/%s.json", sid);
	bool ok = sb_twilio_rest_post(path, pairs, ended, e, error);
	g_free(path);
	g_ptr_array_unref(pairs);
	if (!ok) {
		g_free(e->sid);
		g_free(e);
	}
	return ok;
}

static int route_phone_end(const sb_rest_request *req, json_t **out, char **text, const char **tt)
{
	if (!sb_twilio_sid_valid(req->param))
		return sb_rest_error(out, 400, "invalid_request", "Invalid call sid");
	char *error = NULL;
	if (!hang_up(req->param, req->reply, &error)) {
		*out = sb_http_error("twilio_error", "%s", error);
		g_free(error);
		return 503;
	}
	return 0;
}

/* dial {room, number | uri}: answers at once; call_status events follow. */
static json_t *op_dial(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	const char *room = json_string_value(json_object_get(body, "room"));
	const char *to = json_string_value(json_object_get(body, "number"));
	if (!to)
		to = json_string_value(json_object_get(body, "uri"));
	if (!room || !sb_room_name_valid(room))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Invalid element (room)");
	if (!destination_valid(to))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "Invalid element (number: E.164, or uri)");
	const char *from = json_string_value(json_object_get(body, "from"));
	if (!from)
		from = json_string_value(json_object_get(
		        sb_settings_section(sb_twilio_cfg()->settings, "twilio"), "phone_number"));
	if (!destination_valid(from))
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT,
		                    "Missing element (from, or [twilio] phone_number)");
	sb_twilio_place_call(to, from, room, "phone", NULL);
	return json_pack("{ssssss}", SB_EVENT_KEY, "dialing", "room", room, "to", to);
}

/* hangup {room, id}: the Twilio participant's call is completed. */
static json_t *op_hangup(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	const char *name = json_string_value(json_object_get(body, "room"));
	json_t *id = json_object_get(body, "id");
	if (!name || !json_is_integer(id))
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT, "Missing element (room, id)");
	sb_room *room = sb_room_find(name);
	if (!room)
		return sb_ops_room_missing(name);
	sb_participant *p = sb_room_find_participant(room, (guint64)json_integer_value(id));
	sb_room_unref(room);
	if (!p)
		return sb_ops_error(SB_ERROR_NO_SUCH_PARTICIPANT, "No such participant");
	const char *sid = json_string_value(json_object_get(p->info, "call_sid"));
	char *copy = g_strdup(sid);
	sb_participant_unref(p);
	if (!sb_twilio_sid_valid(copy)) {
		g_free(copy);
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "Not a Twilio call");
	}
	char *error = NULL;
	bool ok = hang_up(copy, NULL, &error);
	json_t *r = ok ? json_pack("{sssssI}", SB_EVENT_KEY, "hangingup", "call_sid", copy, "id",
	                           json_integer_value(id))
	               : sb_ops_error(SB_ERROR_UNKNOWN, "%s", error);
	g_free(error);
	g_free(copy);
	return r;
}

static const sb_rest_route webhook_routes[] = {
        {"POST", "/twilio/voice", route_voice, SB_REST_PUBLIC | SB_REST_FORM, NULL},
        {"POST", "/twilio/status", route_status, SB_REST_PUBLIC | SB_REST_FORM, NULL},
        {"POST", "/twilio/handoff", route_relay_action, SB_REST_PUBLIC | SB_REST_FORM, NULL},
};
static const sb_rest_route outbound_routes[] = {
        {"POST", "/phone/call", route_phone_call, SB_REST_ASYNC | SB_REST_BODY_ROOM, NULL},
        {"POST", "/phone/end/{}", route_phone_end, SB_REST_ASYNC, NULL},
};
static const sb_op outbound_ops[] = {
        {"dial", op_dial, 0, SB_ACCESS_OPERATOR},
        {"hangup", op_hangup, 0, SB_ACCESS_OPERATOR},
};

void sb_twilio_voice_register(void)
{
	sb_rest_register(webhook_routes, G_N_ELEMENTS(webhook_routes));
	if (sb_twilio_cfg()->outbound) {
		sb_rest_register(outbound_routes, G_N_ELEMENTS(outbound_routes));
		sb_ops_register(outbound_ops, G_N_ELEMENTS(outbound_ops));
	}
}

void sb_twilio_voice_stop(void)
{
	sb_twilio_rest_shutdown();
}
