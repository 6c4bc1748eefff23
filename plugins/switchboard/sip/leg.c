/* What a SIP leg does to rooms and media: the room an INVITE lands in,
 * offer and answer, the RTP participant, DTMF, hold, and its end.  Runs on
 * the SIP thread (sip.c) except where sip_private.h says otherwise.
 *
 * An INVITE enters only a room that accepts it: one made for the call
 * (twilio-<CallSid>, sip-<Call-ID>: never one that exists already), or a
 * room it names with Switchboard's signature for that room — never a
 * hidden one (desks, consult rooms).  Rooms made here need a join token,
 * so nobody walks into a phone call by its name. */
#include "sip/sip_private.h"

#include <string.h>

#include <debug.h>

#include "agent/agent.h"
#include "core/core.h"
#include "media/media.h"
#include "room/room.h"
#include "endpoints/endpoints.h"

static const sip_config *config;
static guint64 dtmf_received, legs_ended;

void sip_leg_init(const sip_config *c)
{
	config = c;
}
void sip_leg_deinit(void)
{
	config = NULL;
}
guint64 sip_leg_dtmf_received(void)
{
	return __atomic_load_n(&dtmf_received, __ATOMIC_RELAXED);
}
guint64 sip_leg_ended(void)
{
	return __atomic_load_n(&legs_ended, __ATOMIC_RELAXED);
}

/* ---- names ------------------------------------------------------------- */

static bool looks_like_number(const char *s)
{
	if (!s || !*s)
		return false;
	if (*s == '+')
		s++;
	for (; *s; s++)
		if (!g_ascii_isdigit(*s))
			return false;
	return true;
}

/* A Call-ID may hold any token character; a room name may not. */
static char *room_from_call_id(const char *call_id)
{
	GString *name = g_string_new("sip-");
	for (const char *p = call_id; p && *p && name->len < SB_ROOM_NAME_MAX; p++)
		g_string_append_c(name, g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-'
		                                ? *p
		                                : '-');
	if (name->len == 4)
		g_string_append_printf(name, "%08x", g_random_int());
	return g_string_free(name, FALSE);
}

static char *new_call_id(void)
{
	return g_strdup_printf("SIP%08x%08x", g_random_int(), g_random_int());
}

char *sip_leg_target_uri(const sip_config *c, const char *target)
{
	if (!target || strlen(target) > 256)
		return NULL;
	for (const char *p = target; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == 0x7f)
			return NULL;
	if (target[0] == '+' && looks_like_number(target) && strlen(target) >= 8 &&
	    strlen(target) <= 16)
		return c->trunk ? g_strdup_printf("sip:%s@%s", target, c->trunk) : NULL;
	if (g_str_has_prefix(target, "sip:") || g_str_has_prefix(target, "sips:")) {
		const char *rest = strchr(target, ':') + 1;
		return *rest ? g_strdup(target) : NULL;
	}
	return NULL;
}

/* ---- rooms ------------------------------------------------------------- */

/* The room an INVITE names: X-Room, else a request-URI user that is not a
 * number (a number is a call: it gets a room of its own).  NULL: none. */
const char *sip_leg_named_room(const sip_leg_inbound *in)
{
	if (in->x_room && *in->x_room)
		return in->x_room;
	if (in->uri_user && *in->uri_user && !looks_like_number(in->uri_user))
		return in->uri_user;
	return NULL;
}

static void refuse(sip_leg_answer *answer, int status, const char *warning)
{
	answer->status = status;
	answer->phrase = status == 403   ? "Forbidden"
	                 : status == 404 ? "Not Found"
	                 : status == 486 ? "Busy Here"
	                 : status == 488 ? "Not Acceptable Here"
	                 : status == 500 ? "Server Internal Error"
	                                 : "Service Unavailable";
	answer->warning = warning;
}

/* Whether the INVITE may enter the room it names: its signature (403), a
 * name that can be a room (404). */
static bool named_room_allowed(const sip_config *c, const sip_leg_inbound *in, const char *named,
                               sip_leg_answer *answer)
{
	if (!sb_room_name_valid(named)) {
		refuse(answer, 404, "no such room");
		return false;
	}
	sip_room_sig_status st = sip_room_verify(c->room_secret, named, in->room_signature,
	                                         g_get_real_time() / G_USEC_PER_SEC);
	if (st != SIP_ROOM_SIG_OK) {
		refuse(answer, 403, sip_room_sig_text(st));
		return false;
	}
	return true;
}

/* A room named and signed (or routed): an existing one that is not
 * hidden, or, with create, a new one.  Referenced, or NULL (answer set). */
static sb_room *find_named_room(const sip_config *c, const char *named, bool create,
                                bool *created, sip_leg_answer *answer)
{
	sb_room *room = sb_room_find(named);
	if (!room && create) {
		sb_room_params params = {
		        .name = named, .ephemeral = true, .require_token = c->rooms_require_token};
		sb_error rc = sb_room_create(&params, &room);
		*created = rc == SB_OK;
		if (rc == SB_ERROR_ROOM_EXISTS)
			room = sb_room_find(named);
		else if (rc != SB_OK) {
			refuse(answer, rc == SB_ERROR_LIMIT ? 503 : 500, "cannot create the room");
			return NULL;
		}
	}
	/* A hidden room answers as if it did not exist. */
	if (room && room->hidden) {
		sb_room_unref(room);
		room = NULL;
	}
	if (!room)
		refuse(answer, 404, "no such room");
	return room;
}

/* The room the inbound router named: an existing one that is not hidden,
 * or a new one (the router's rules say calls may make it).  Referenced,
 * or NULL (answer set). */
static sb_room *routed_room(const sip_config *c, const char *name, bool *created,
                            sip_leg_answer *answer)
{
	if (!sb_room_name_valid(name)) {
		refuse(answer, 404, "the route names no valid room");
		return NULL;
	}
	return find_named_room(c, name, true, created, answer);
}

/* A room of the call's own, made now: twilio-<CallSid> or sip-<Call-ID>.
 * One that exists already was not made for this call (another call's, or
 * someone else's by that name): refused.  Referenced, or NULL. */
static sb_room *new_call_room(const sip_config *c, const sip_leg_inbound *in,
                              sip_leg_answer *answer)
{
	char *name = in->call_sid && *in->call_sid ? g_strdup_printf("twilio-%s", in->call_sid)
	                                           : room_from_call_id(in->call_id);
	if (!sb_room_name_valid(name)) {
		g_free(name);
		name = room_from_call_id(in->call_id);
	}
	sb_room_params params = {
	        .name = name, .ephemeral = true, .require_token = c->rooms_require_token};
	sb_room *room = NULL;
	sb_error rc = sb_room_create(&params, &room);
	g_free(name);
	if (rc == SB_ERROR_ROOM_EXISTS)
		refuse(answer, 403, "the call's room exists already");
	else if (rc != SB_OK)
		refuse(answer, rc == SB_ERROR_LIMIT ? 503 : 500, "cannot create the room");
	return rc == SB_OK ? room : NULL;
}

/* Closes a room we made for a call that never got into it. */
static void drop_room_if_empty(const char *name)
{
	sb_room *room = name ? sb_room_find(name) : NULL;
	if (!room)
		return;
	if (sb_room_count_participants(room) == 0 && !room->permanent)
		sb_room_destroy(room);
	sb_room_unref(room);
}

/* p (NULL: its media could not be set up) into room; when that fails p
 * goes, and so does a room made for this call that nobody else joined. */
static sb_error add_or_drop(sb_room *room, bool created, sb_participant *p)
{
	sb_error rc = p ? sb_room_add(room, p) : SB_ERROR_LIMIT;
	if (rc != SB_OK) {
		if (p)
			sb_participant_unref(p);
		if (created)
			drop_room_if_empty(room->name);
	}
	return rc;
}

/* ---- media ------------------------------------------------------------- */

static void announce_dtmf(sb_participant *p, char digit, const char *how)
{
	__atomic_add_fetch(&dtmf_received, 1, __ATOMIC_RELAXED);
	sb_room *room = sb_participant_room(p);
	if (!room)
		return;
	char text[2] = {digit, '\0'};
	json_t *ev = sb_room_event(room, "event");
	json_object_set_new(
	        ev, "dtmf",
	        json_pack("{sIssss}", "id", (json_int_t)p->id, "digit", text, "method", how));
	sb_room_broadcast(room, ev, NULL);
	json_decref(ev);
	sb_events_publish("dtmf", json_pack("{sssIssss}", "room", room->name, "participant",
	                                    (json_int_t)p->id, "digit", text, "method", how));
	sb_agent_dtmf(room, digit);
	sb_room_unref(room);
}

/* The thread reading the leg (its mixer's or the RTP I/O thread): the room
 * broadcast, the events and the agent only queue. */
static void on_rtp_dtmf(void *user, sb_participant *p, char digit)
{
	(void)user;
	announce_dtmf(p, digit, "rfc4733");
}

/* The participant was kicked or its room closed: hang the leg up. */
static void on_removed(void *user, sb_participant *p)
{
	(void)user;
	char key[32];
	g_snprintf(key, sizeof(key), "%" G_GUINT64_FORMAT, p->id);
	sip_call *call = sip_calls_find(key);
	if (!call)
		return;
	if (g_atomic_int_get(&call->state) == SIP_CALL_ACTIVE)
		sip_request_hangup(call, "removed");
	sip_call_unref(call);
}

static json_t *participant_info(sip_call *call, json_t *extra)
{
	json_t *info = extra ? json_deep_copy(extra) : json_object();
	json_object_set_new(info, "call_id", json_string(call->id));
	if (call->call_sid)
		json_object_set_new(info, "call_sid", json_string(call->call_sid));
	if (call->from)
		json_object_set_new(info, "from", json_string(call->from));
	if (call->to)
		json_object_set_new(info, "to", json_string(call->to));
	json_object_set_new(info, "direction",
	                    json_string(call->outbound ? "outbound" : "inbound"));
	return info;
}

/* The call's context (room.h): the INVITE's X- headers as x_… variables
 * (X-Customer-Id -> x_customer_id), the caller's and callee's numbers and
 * the caller's name.  Set before the caller joins, so an agent that joins
 * with it greets with them. */
static void set_call_variables(sb_room *room, sip_call *call, json_t *invite_info)
{
	json_t *variables = json_object();
	const char *name;
	json_t *value;
	json_object_foreach(json_object_get(invite_info, "headers"), name, value)
	{
		json_object_set(variables, name, value);
	}
	if (call->from)
		json_object_set_new(variables, "from", json_string(call->from));
	if (call->to)
		json_object_set_new(variables, "to", json_string(call->to));
	json_t *caller_name = json_object_get(invite_info, "caller_name");
	if (json_is_string(caller_name))
		json_object_set(variables, "caller_name", caller_name);
	sb_room_merge_variables(room, variables, "SIP");
	json_decref(variables);
}

static sb_participant *make_participant(sip_call *call, sb_room *room, const sb_sdp *peer,
                                        json_t *info, int reserved_fd, int reserved_rtcp_fd,
                                        uint16_t reserved_port)
{
	const char *from = call->outbound ? call->to : call->from;
	bool whatsapp = from && g_str_has_prefix(from, "whatsapp");
	sb_rtp_endpoint_params params = {
	        .kind = SB_KIND_SIP,
	        .interface = whatsapp ? "whatsapp" : "phone",
	        .info = info,
	        .symmetric = true,
	        .rtcp = !peer->rtcp_mux,
	        .dtmf_payload_type = call->choice.dtmf_pt,
	        .on_dtmf = on_rtp_dtmf,
	        .on_removed = on_removed,
	        .srtp_our_key = call->crypto
	                                ? call->crypto + strlen(call->crypto) - SB_SRTP_KEY_B64_LEN
	                                : NULL,
	        .srtp_their_key = call->their_key,
	        .reserved_fd = reserved_fd,
	        .reserved_rtcp_fd = reserved_rtcp_fd,
	        .reserved_port = reserved_port,
	        .remote_ip = peer->ip,
	        .remote_port = peer->port ? peer->port : 9,
	        .display = call->display ? call->display : (from ? from : "phone"),
	        .identity = call->identity,
	        .codec = call->choice.codec,
	        .payload_type = call->choice.pt,
	        .sampling_rate = room->sampling_rate,
	};
	sb_error err = SB_OK;
	sb_participant *p = sb_rtp_endpoint_create(&params, &err);
	if (!p)
		JANUS_LOG(LOG_WARN, "[switchboard] SIP call %s: no media endpoint (%s)\n", call->id,
		          err == SB_ERROR_LIMIT ? "no free RTP port"
		          : call->crypto        ? "unusable SRTP key"
		                                : "bad address");
	return p;
}

static void set_peer_hold(sip_call *call, sb_participant *p, bool hold)
{
	if (call->peer_hold == hold)
		return;
	call->peer_hold = hold;
	/* A held leg contributes nothing (its silence or music must not
	 * reach the room) and hears hold audio instead of the room. */
	sb_room *room = sb_participant_room(p);
	if (!room)
		return;
	sb_room_set_hold(room, p, hold);
	sb_events_publish("call_hold", json_pack("{sssssb}", "call_id", call->id, "room",
	                                         room->name, "hold", hold));
	sb_room_unref(room);
}

/* SDES: the peer's key from its a=crypto, ours answered with its tag (or
 * offered with tag 1).  False: the crypto line is unusable. */
static bool setup_srtp(sip_call *call, const sb_sdp *peer, bool offering)
{
	char our[SB_SRTP_KEY_B64_LEN + 1];
	sb_srtp_new_key(our);
	if (offering) {
		call->crypto = g_strdup_printf("1 " SB_SRTP_SUITE " inline:%s", our);
		return true;
	}
	int tag = 0;
	char theirs[SB_SRTP_KEY_B64_LEN + 1];
	if (!sb_srtp_parse_crypto(peer->crypto, &tag, theirs))
		return false;
	g_free(call->their_key);
	call->their_key = g_strdup(theirs);
	if (!call->crypto)
		call->crypto = g_strdup_printf("%d " SB_SRTP_SUITE " inline:%s", tag, our);
	return true;
}

/* ---- inbound ----------------------------------------------------------- */

sip_call *sip_leg_accept(const sip_config *c, const sip_leg_inbound *in, sip_leg_answer *answer)
{
	memset(answer, 0, sizeof(*answer));
	/* Where the call may go is settled before anything else is read. */
	const char *named = sip_leg_named_room(in);
	const sb_sip_route *route = !named && in->route && in->route->status == 200 ? in->route : NULL;
	if (named && !named_room_allowed(c, in, named, answer))
		return NULL;
	sb_sdp offer;
	char *why = NULL;
	if (!sb_sdp_parse(in->sdp, in->sdp_len, &offer, &why)) {
		JANUS_LOG(LOG_WARN, "[switchboard] SIP INVITE refused: %s\n", why);
		g_free(why);
		refuse(answer, 488, NULL);
		return NULL;
	}
	sb_sdp_choice choice;
	bool srtp_refused = offer.secure ? c->srtp == SIP_SRTP_OFF : c->srtp == SIP_SRTP_REQUIRED;
	if (srtp_refused || offer.port == 0 ||
	    !sb_sdp_choose(&offer, c->codecs, c->codec_count, &choice)) {
		refuse(answer, 488, NULL);
		return NULL;
	}
	bool created = false;
	sb_room *room = named ? find_named_room(c, named, c->create_unknown_rooms, &created, answer)
	                : route ? routed_room(c, route->room, &created, answer)
	                        : new_call_room(c, in, answer);
	if (!room)
		return NULL;
	created = created || (!named && !route);
	char *id = in->call_sid && *in->call_sid && strlen(in->call_sid) < 64
	                   ? g_strdup(in->call_sid)
	                   : new_call_id();
	sip_call *call = sip_call_new(id, false);
	g_free(id);
	call->call_sid = in->call_sid ? g_strndup(in->call_sid, 64) : NULL;
	call->sip_call_id = g_strdup(in->call_id);
	call->room = g_strdup(room->name);
	call->from = g_strdup(in->from_user);
	call->to = g_strdup(in->to_user);
	call->choice = choice;
	const char *caller_name = json_string_value(json_object_get(in->info, "caller_name"));
	call->display = g_strdup(route && route->display ? route->display
	                         : caller_name           ? caller_name
	                                                 : in->from_user);
	call->identity = route ? g_strdup(route->identity) : NULL;
	call->info = participant_info(call, in->info);
	if (offer.secure && !setup_srtp(call, &offer, false)) {
		if (created)
			drop_room_if_empty(room->name);
		sb_room_unref(room);
		sip_call_unref(call);
		refuse(answer, 488, "unusable a=crypto");
		return NULL;
	}
	if (offer.secure)
		json_object_set_new(call->info, "srtp", json_true());
	set_call_variables(room, call, in->info);
	sb_participant *p = make_participant(call, room, &offer, call->info, 0, -1, 0);
	bool media = p != NULL;
	if (p && route) {
		/* Before it joins: whoever lists the room sees it as routed. */
		sb_participant_set_metadata(p, route->metadata);
		if (route->attributes)
			sb_participant_update_attributes(p, route->attributes);
	}
	sb_error rc = add_or_drop(room, created, p);
	if (rc != SB_OK) {
		sb_room_unref(room);
		sip_call_unref(call);
		refuse(answer,
		       !media                 ? 503
		       : rc == SB_ERROR_LIMIT ? 486
		                              : 404,
		       !media                 ? "no media port"
		       : rc == SB_ERROR_LIMIT ? "the room is full"
		                              : NULL);
		return NULL;
	}
	call->answered_us = g_get_monotonic_time();
	g_atomic_int_set(&call->state, SIP_CALL_ACTIVE);
	sip_call_set_participant(call, p);
	sip_calls_add(call);
	const char *ip;
	uint16_t port;
	sb_rtp_endpoint_local(p, &ip, &port);
	sb_sdp_direction dir = sb_sdp_answer_direction(offer.direction);
	sb_sdp_local local = {.ip = c->media_ip,
	                      .port = port,
	                      .session_id = call->sdp_session,
	                      .version = call->sdp_version,
	                      .answer = &choice,
	                      .direction = dir,
	                      .crypto = call->crypto};
	answer->sdp = sb_sdp_build(&local);
	answer->status = 200;
	if (offer.direction == SB_SDP_SENDONLY || offer.direction == SB_SDP_INACTIVE)
		set_peer_hold(call, p, true);
	JANUS_LOG(LOG_INFO, "[switchboard] SIP call %s from %s in room %s (%s)\n", call->id,
	          call->from ? call->from : "?", room->name, sb_codec_name(choice.codec));
	if (route)
		sip_route_joined(route, room->name, p);
	sb_participant_unref(p);
	sb_room_unref(room);
	return call;
}

void sip_leg_answered(sip_call *call)
{
	sip_call_publish_status(call, "answered", 200, NULL);
}

int sip_leg_reinvite(sip_call *call, const char *sdp, size_t len, char **answer_sdp)
{
	sb_participant *p = sip_call_participant(call);
	if (!p)
		return 481;
	sb_sdp offer;
	g_autofree char *why = NULL;
	int status = 200;
	if (!sdp || len == 0) {
		/* An offerless re-INVITE (session refresh): our current SDP. */
		memset(&offer, 0, sizeof(offer));
		offer.direction = call->peer_hold ? SB_SDP_SENDONLY : SB_SDP_SENDRECV;
	} else if (!sb_sdp_parse(sdp, len, &offer, &why) ||
	           offer.secure != (call->crypto != NULL)) {
		status = 488; /* switching between RTP and SRTP mid-call is not supported */
	} else {
		sb_sdp_choice again;
		sb_codec_id same[1] = {call->choice.codec};
		if (!sb_sdp_choose(&offer, same, 1, &again))
			status = 488; /* changing codec mid-call is not supported */
		else if (offer.port)
			sb_rtp_endpoint_set_remote(p, offer.ip, offer.port);
	}
	if (status == 200) {
		set_peer_hold(call, p,
		              offer.direction == SB_SDP_SENDONLY ||
		                      offer.direction == SB_SDP_INACTIVE ||
		                      (sdp && offer.port == 0) || !strcmp(offer.ip, "0.0.0.0"));
		const char *ip;
		uint16_t port;
		sb_rtp_endpoint_local(p, &ip, &port);
		sb_sdp_local local = {.ip = config->media_ip,
		                      .port = port,
		                      .session_id = call->sdp_session,
		                      .version = ++call->sdp_version,
		                      .answer = &call->choice,
		                      .direction = sb_sdp_answer_direction(offer.direction),
		                      .crypto = call->crypto};
		*answer_sdp = sb_sdp_build(&local);
	}
	sb_participant_unref(p);
	return status;
}

bool sip_leg_info_dtmf(sip_call *call, const char *content_type, const char *body, size_t len)
{
	char digit = sb_dtmf_from_info(content_type, body, len);
	sb_participant *p = digit ? sip_call_participant(call) : NULL;
	if (!p)
		return false;
	announce_dtmf(p, digit, "info");
	sb_participant_unref(p);
	return true;
}

/* ---- outbound ---------------------------------------------------------- */

sip_call *sip_leg_prepare_dial(const sip_config *c, const sb_sip_dial_params *params, char **error)
{
	char *uri = sip_leg_target_uri(c, params->target);
	if (!uri) {
		*error = g_strdup(params->target && params->target[0] == '+' && !c->trunk
		                          ? "No [sip] trunk configured for E.164 numbers"
		                          : "The target must be an E.164 number (+14155550100) or "
		                            "a sip: URI");
		return NULL;
	}
	g_free(uri);
	if (params->from && !sip_leg_target_uri(c, params->from) &&
	    !(params->from[0] == '+' && looks_like_number(params->from))) {
		*error = g_strdup("from must be an E.164 number or a sip: URI");
		return NULL;
	}
	if (!params->room || !sb_room_name_valid(params->room)) {
		*error = g_strdup("A valid room name is needed (1-64 of A-Z a-z 0-9 . _ -)");
		return NULL;
	}
	if ((int)sip_calls_count() >= c->max_calls) {
		*error = g_strdup("Too many calls in progress");
		return NULL;
	}
	char *id = new_call_id();
	sip_call *call = sip_call_new(id, true);
	g_free(id);
	call->room = g_strdup(params->room);
	call->to = g_strdup(params->target);
	call->from = g_strdup(params->from ? params->from : c->from);
	call->display = g_strdup(params->display ? params->display : params->target);
	call->identity = g_strdup(params->identity);
	g_atomic_int_set(&call->state, SIP_CALL_DIALING);
	sip_calls_add(call);
	sip_call_publish_status(call, "dialing", 0, NULL);
	return call;
}

char *sip_leg_offer(const sip_config *c, sip_call *call)
{
	call->reserved_fd = sb_rtp_socket_reserve(&call->reserved_port, &call->reserved_rtcp_fd);
	if (call->reserved_fd < 0)
		return NULL;
	if (c->srtp == SIP_SRTP_REQUIRED)
		setup_srtp(call, NULL, true);
	sb_sdp_local local = {.crypto = call->crypto,
	                      .ip = c->media_ip,
	                      .port = call->reserved_port,
	                      .session_id = call->sdp_session,
	                      .version = call->sdp_version,
	                      .prefs = c->codecs,
	                      .pref_count = c->codec_count,
	                      .direction = SB_SDP_SENDRECV};
	return sb_sdp_build(&local);
}

bool sip_leg_connect(sip_call *call, const char *sdp, size_t len)
{
	sb_sdp answer;
	g_autofree char *why = NULL;
	bool ours = false;
	if (sb_sdp_parse(sdp, len, &answer, &why) && answer.secure == (call->crypto != NULL) &&
	    (!answer.secure || setup_srtp(call, &answer, false)) &&
	    sb_sdp_choose_answer(&answer, &call->choice))
		for (int i = 0; i < config->codec_count; i++)
			ours |= config->codecs[i] == call->choice.codec;
	if (!ours) {
		sip_call_publish_status(call, "failed", 488,
		                        why ? why : "no usable codec in the answer");
		return false;
	}
	bool created = false;
	sb_room *room = sb_room_find(call->room);
	if (!room) {
		sb_room_params params = {.name = call->room,
		                         .ephemeral = true,
		                         .require_token = config->rooms_require_token};
		sb_error rc = sb_room_create(&params, &room);
		created = rc == SB_OK;
		if (rc == SB_ERROR_ROOM_EXISTS)
			room = sb_room_find(call->room);
	}
	if (!room) {
		sip_call_publish_status(call, "failed", 0, "the room could not be created");
		return false;
	}
	json_t *info = participant_info(call, NULL);
	int fd = call->reserved_fd, rtcp_fd = call->reserved_rtcp_fd;
	call->reserved_fd = call->reserved_rtcp_fd = -1; /* the endpoint owns them now */
	sb_participant *p =
	        make_participant(call, room, &answer, info, fd, rtcp_fd, call->reserved_port);
	json_decref(info);
	sb_error rc = add_or_drop(room, created, p);
	if (rc != SB_OK) {
		sb_room_unref(room);
		sip_call_publish_status(call, "failed", 0, "the room is full or gone");
		return false;
	}
	call->answered_us = g_get_monotonic_time();
	sip_call_set_participant(call, p);
	g_atomic_int_set(&call->state, SIP_CALL_ACTIVE);
	sip_call_publish_status(call, "answered", 200, NULL);
	JANUS_LOG(LOG_INFO, "[switchboard] SIP call %s to %s answered, in room %s (%s)\n", call->id,
	          call->to, room->name, sb_codec_name(call->choice.codec));
	sb_participant_unref(p);
	sb_room_unref(room);
	return true;
}

/* ---- the end ----------------------------------------------------------- */

void sip_leg_finish(sip_call *call, const char *outcome)
{
	gint before = g_atomic_int_get(&call->state);
	if (before == SIP_CALL_ENDED)
		return;
	g_atomic_int_set(&call->state, SIP_CALL_ENDED);
	sb_participant *p = sip_call_participant(call);
	if (p) {
		sb_room *room = sb_participant_room(p);
		if (room) {
			sb_room_remove(room, p, "hangup");
			sb_room_unref(room);
		}
		sb_participant_unref(p);
		sip_call_set_participant(call, NULL);
	} else if (call->outbound) {
		drop_room_if_empty(call->room);
	}
	/* Unanswered calls already told their outcome (busy, no-answer …). */
	if (call->answered_us)
		sip_call_publish_status(call, "completed", 0, outcome);
	else if (!strcmp(outcome, "canceled") || !strcmp(outcome, "failed") ||
	         !strcmp(outcome, "shutdown"))
		sip_call_publish_status(call, outcome, 0, NULL);
	__atomic_add_fetch(&legs_ended, 1, __ATOMIC_RELAXED);
	sip_calls_remove(call);
}

gint64 sip_leg_media_idle_us(sip_call *call, gint64 now_us)
{
	sb_participant *p = sip_call_participant(call);
	if (!p)
		return 0;
	gint64 last = sb_rtp_endpoint_last_rx(p);
	sb_participant_unref(p);
	if (call->peer_hold)
		return 0; /* a held peer may send nothing */
	return now_us - (last > call->answered_us ? last : call->answered_us);
}

bool sip_leg_send_dtmf(sip_call *call, const char *digits, char **error)
{
	if (!sb_dtmf_digits_valid(digits, SB_DTMF_QUEUE_MAX, true)) {
		*error = g_strdup("digits: 1-32 of 0-9 * # A-D (w = pause)");
		return false;
	}
	sb_participant *p = sip_call_participant(call);
	if (!p) {
		*error = g_strdup("The call is not answered");
		return false;
	}
	bool ok = sb_rtp_endpoint_send_dtmf(p, digits);
	sb_participant_unref(p);
	if (!ok)
		*error = g_strdup("The peer did not negotiate telephone-event, or too many digits "
		                  "are queued");
	return ok;
}
