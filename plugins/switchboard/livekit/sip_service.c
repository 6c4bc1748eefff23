/* livekit.SIP's calls on the ops table (livekit.md 3.4):
 * CreateSIPParticipant is an outbound call into a room (op `dial`, the
 * leg named by participantIdentity), TransferSIPParticipant a REFER of a
 * room's phone leg (op `sip_refer`).  LiveKit's sip.call grant is what
 * dialling needs here, so the ops run as the operator.
 *
 * With waitUntilAnswered the answer waits for the call's outcome, and a
 * transfer always waits for its own: the HTTP thread never does — the
 * reply is kept (an async REST route) and finished from this module's
 * loop when the call's call_status event says answered, busy, no-answer,
 * failed, transferred or transfer_failed, or when the wait's bound runs
 * out.  A failure is LiveKit's: "sip status 486: Busy Here", the Twirp
 * code derived from the SIP code, and {sip_status_code, sip_status} meta.
 *
 * sipTrunkId naming a stored outbound trunk (sip_trunks.c) dials
 * sip:<number>@<its address> (sips: for TLS, ;transport=tcp for TCP) from
 * its first number unless sipNumber says otherwise; its authUsername and
 * authPassword are not used, and [sip]'s credentials are never sent to
 * an address other than [sip] trunk (docs/security.md): a trunk that
 * challenges refuses the call.  An unknown id is LiveKit's not_found "requested sip trunk
 * does not exist" — except while no outbound trunk is stored at all: then
 * every call goes through [sip] trunk, as before trunks were served.
 * ringingTimeout is not honoured ([sip] ring_timeout holds). */
#include "livekit/livekit_private.h"

#include <string.h>

#include "api/api.h"
#include "room/room.h"

/* Above [sip] ring_timeout's default (45 s) and the SDK's HTTP timeout
 * (ringing + 2 s): the call's own outcome comes first. */
#define ANSWER_WAIT_MS 90000
#define TRANSFER_WAIT_MS 60000
#define CALL_TO_MAX 64

typedef enum { WAIT_ANSWER, WAIT_TRANSFER } wait_kind;

typedef struct waiter {
	guint64 id;
	wait_kind kind;
	char *call_id;
	char *room, *identity;
	sb_rest_reply *reply;
	GSource *timeout;
} waiter;

static struct {
	GMutex lock;
	GHashTable *waiting; /* id -> waiter */
	guint64 next_id;
	sb_loop *loop;
	unsigned bus;
} sip;

static void waiter_free(waiter *w)
{
	g_free(w->call_id);
	g_free(w->room);
	g_free(w->identity);
	g_free(w);
}

/* The waiter, now the caller's to finish, or NULL when someone else took
 * it (its outcome and its timeout may race). */
static waiter *take(guint64 id)
{
	g_mutex_lock(&sip.lock);
	waiter *w = sip.waiting ? g_hash_table_lookup(sip.waiting, &id) : NULL;
	if (w)
		g_hash_table_steal(sip.waiting, &id);
	g_mutex_unlock(&sip.lock);
	return w;
}

static void finish(waiter *w, int status, json_t *out)
{
	if (w->timeout)
		g_source_destroy(w->timeout);
	sb_lk_twirp_finish(w->reply, status, out);
	waiter_free(w);
}

static const char *reason_phrase(int code)
{
	switch (code) {
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 480:
		return "Temporarily Unavailable";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 500:
		return "Server Internal Error";
	case 503:
		return "Service Unavailable";
	case 603:
		return "Decline";
	default:
		return "Failed";
	}
}

/* LiveKit's sipCodeToGRPCCode (livekit.md 1.5). */
static const char *twirp_code_of(int code)
{
	switch (code) {
	case 486:
	case 480:
	case 600:
		return "resource_exhausted";
	case 404:
	case 410:
	case 604:
		return "not_found";
	case 401:
	case 402:
	case 403:
	case 433:
	case 470:
	case 603:
		return "permission_denied";
	case 407:
		return "unauthenticated";
	case 408:
	case 504:
		return "deadline_exceeded";
	case 487:
		return "aborted";
	case 409:
	case 412:
	case 482:
	case 483:
	case 500:
	case 502:
	case 503:
		return "failed_precondition";
	default:
		return code >= 400 && code < 500 ? "invalid_argument" : "unavailable";
	}
}

static int sip_failure(int code, json_t **out)
{
	int status = sb_lk_twirp_error(out, twirp_code_of(code), "sip status %d: %s", code,
	                               reason_phrase(code));
	char text[8];
	g_snprintf(text, sizeof(text), "%d", code);
	json_object_set_new(
	        *out, "meta",
	        json_pack("{ssss}", "sip_status_code", text, "sip_status", reason_phrase(code)));
	return status;
}

/* SIPParticipantInfo; the leg's participant id once it is in the room. */
static json_t *participant_answer(const char *room_name, const char *identity, const char *call_id)
{
	char *participant_id = g_strdup("");
	sb_room *room = sb_room_find(room_name);
	GPtrArray *members = room ? sb_room_participants(room) : NULL;
	for (guint i = 0; members && i < members->len; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		if (!g_strcmp0(json_string_value(json_object_get(p->info, "call_id")), call_id)) {
			g_free(participant_id);
			participant_id = g_strdup_printf("PA_%" G_GUINT64_FORMAT, p->id);
		}
	}
	if (members)
		g_ptr_array_unref(members);
	if (room)
		sb_room_unref(room);
	json_t *r =
	        json_pack("{ssssssss}", "participant_id", participant_id, "participant_identity",
	                  identity, "room_name", room_name, "sip_call_id", call_id);
	g_free(participant_id);
	return r;
}

/* ---- waiting (the loop) ---- */

static gboolean timed_out(gpointer data)
{
	waiter *w = take(GPOINTER_TO_SIZE(data));
	if (!w)
		return G_SOURCE_REMOVE;
	w->timeout = NULL; /* it is this one, ending */
	json_t *out = NULL;
	int status = sb_lk_twirp_error(&out, "deadline_exceeded",
	                               w->kind == WAIT_ANSWER ? "the call was not answered in time"
	                                                      : "the transfer did not end in time");
	finish(w, status, out);
	return G_SOURCE_REMOVE;
}

/* Keeps reply until the call's outcome; 0, or the error's status. */
static int wait_for(wait_kind kind, const char *call_id, const char *room, const char *identity,
                    sb_rest_reply *reply, json_t **out)
{
	if (!reply || !sip.loop)
		return sb_lk_twirp_error(out, "unavailable", "cannot wait for the call's outcome");
	waiter *w = g_new0(waiter, 1);
	w->kind = kind;
	w->call_id = g_strdup(call_id);
	w->room = g_strdup(room);
	w->identity = g_strdup(identity);
	w->reply = reply;
	g_mutex_lock(&sip.lock);
	w->id = ++sip.next_id;
	g_hash_table_insert(sip.waiting, &w->id, w);
	/* Under the lock: the outcome cannot take it before its timer is set. */
	w->timeout =
	        sb_loop_timeout(sip.loop, kind == WAIT_ANSWER ? ANSWER_WAIT_MS : TRANSFER_WAIT_MS,
	                        timed_out, GSIZE_TO_POINTER(w->id), NULL);
	g_mutex_unlock(&sip.lock);
	return 0;
}

/* A call_status event, on the loop. */
static gboolean on_status(gpointer data)
{
	json_t *ev = data;
	const char *call_id = json_string_value(json_object_get(ev, "call_id"));
	const char *status = json_string_value(json_object_get(ev, "status"));
	int code = (int)json_integer_value(json_object_get(ev, "sip_code"));
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_mutex_lock(&sip.lock);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, sip.waiting);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		waiter *w = value;
		if (!g_strcmp0(w->call_id, call_id))
			g_array_append_val(ids, w->id);
	}
	g_mutex_unlock(&sip.lock);
	for (guint i = 0; i < ids->len; i++) {
		guint64 id = g_array_index(ids, guint64, i);
		json_t *out = NULL;
		int answer = -1;
		g_mutex_lock(&sip.lock);
		waiter *w = g_hash_table_lookup(sip.waiting, &id);
		wait_kind kind = w ? w->kind : WAIT_ANSWER;
		g_mutex_unlock(&sip.lock);
		if (kind == WAIT_ANSWER && !strcmp(status, "answered"))
			answer = 200;
		else if (kind == WAIT_ANSWER && !strcmp(status, "busy"))
			answer = sip_failure(code ? code : 486, &out);
		else if (kind == WAIT_ANSWER && !strcmp(status, "no-answer"))
			answer = sip_failure(408, &out);
		else if (kind == WAIT_ANSWER &&
		         (!strcmp(status, "failed") || !strcmp(status, "completed")))
			answer = sip_failure(code >= 400 ? code : 500, &out);
		else if (kind == WAIT_TRANSFER && !strcmp(status, "transferred"))
			answer = 200;
		else if (kind == WAIT_TRANSFER &&
		         (!strcmp(status, "transfer_failed") || !strcmp(status, "completed")))
			answer = sip_failure(code >= 400 ? code : 500, &out);
		if (answer < 0)
			continue;
		w = take(id);
		if (!w) {
			json_decref(out);
			continue;
		}
		if (answer == 200)
			out = w->kind == WAIT_ANSWER
			              ? participant_answer(w->room, w->identity, w->call_id)
			              : json_object();
		finish(w, answer, out);
	}
	g_array_free(ids, TRUE);
	return G_SOURCE_REMOVE;
}

/* Bus thread: only hands the event over. */
static void on_bus(json_t *notification, void *user)
{
	(void)user;
	const char *type = json_string_value(json_object_get(notification, "type"));
	if (!type || strcmp(type, "call_status") ||
	    !json_string_value(json_object_get(notification, "call_id")) ||
	    !json_string_value(json_object_get(notification, "status")))
		return;
	g_mutex_lock(&sip.lock);
	bool wanted = sip.waiting && g_hash_table_size(sip.waiting) > 0;
	g_mutex_unlock(&sip.lock);
	if (wanted)
		sb_loop_invoke(sip.loop, on_status, json_incref(notification),
		               (GDestroyNotify)json_decref);
}

/* ---- the methods ---- */

typedef struct trunk_lookup {
	const char *id;
	bool any;     /* some outbound trunk is stored */
	char *uri;    /* the callee through the trunk (needs number) */
	char *from;   /* its first number */
	const char *number;
} trunk_lookup;

/* Under the objects' lock: the outbound trunk of look->id. */
static void find_trunk(GPtrArray *const objects[SB_LK_KINDS], void *user)
{
	trunk_lookup *look = user;
	GPtrArray *trunks = objects[SB_LK_OUTBOUND];
	look->any = trunks && trunks->len > 0;
	for (guint i = 0; look->any && look->id && i < trunks->len; i++) {
		sb_lk_sip_object *t = g_ptr_array_index(trunks, i);
		if (strcmp(t->id, look->id))
			continue;
		const char *address = json_string_value(json_object_get(t->body, "address"));
		const char *transport = json_string_value(json_object_get(t->body, "transport"));
		bool tls = !g_strcmp0(transport, "SIP_TRANSPORT_TLS");
		look->uri = g_strdup_printf("%s:%s@%s%s", tls ? "sips" : "sip", look->number, address,
		                            !g_strcmp0(transport, "SIP_TRANSPORT_TCP")
		                                    ? ";transport=tcp"
		                                    : "");
		look->from = g_strdup(
		        json_string_value(json_array_get(json_object_get(t->body, "numbers"), 0)));
	}
}

static bool phone_number(const char *s)
{
	size_t n = strlen(s), i = s[0] == '+';
	if (n - i < 3 || n > 20)
		return false;
	for (; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return false;
	return true;
}

static int create_sip_participant(json_t *body, const sb_lk_claims *claims, sb_rest_reply *reply,
                                  json_t **out)
{
	(void)claims;
	const char *to, *identity, *name, *from;
	if (!sb_lk_string_field(body, "sipCallTo", "sip_call_to", &to) ||
	    !sb_lk_string_field(body, "participantIdentity", "participant_identity", &identity) ||
	    !sb_lk_string_field(body, "participantName", "participant_name", &name) ||
	    !sb_lk_string_field(body, "sipNumber", "sip_number", &from))
		return sb_lk_malformed(out);
	json_t *wait = sb_lk_field(body, "waitUntilAnswered", "wait_until_answered");
	if (wait && !json_is_boolean(wait))
		return sb_lk_malformed(out);
	if (!to || !*to)
		return sb_lk_twirp_error(out, "invalid_argument", "missing sip callee number");
	if (strstr(to, "sip:") || strstr(to, "sips:") || strchr(to, '@'))
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "SipCallTo should be a phone number or SIP user, not a "
		                         "full SIP URI");
	if (strlen(to) > CALL_TO_MAX || !phone_number(to))
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "sipCallTo: a phone number here (the trunk is the "
		                         "server's)");
	const char *room_name;
	int status = sb_lk_room_name(body, "roomName", &room_name, out);
	if (status)
		return status;
	if (!identity || !*identity)
		identity = "sip-participant"; /* LiveKit's default */
	if (strlen(identity) > SB_DISPLAY_MAX || (name && strlen(name) > SB_DISPLAY_MAX))
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "identities and names here are at most %d bytes",
		                         SB_DISPLAY_MAX);
	const char *trunk_id;
	if (!sb_lk_string_field(body, "sipTrunkId", "sip_trunk_id", &trunk_id))
		return sb_lk_malformed(out);
	trunk_lookup look = {.id = trunk_id, .number = to};
	sb_lk_sip_objects_read(find_trunk, &look);
	if (look.any && !look.uri)
		return sb_lk_twirp_error(out, "not_found", "requested sip trunk does not exist");
	json_t *request = json_pack("{ssssssss}", "request", "dial", "room", room_name,
	                            look.uri ? "uri" : "number", look.uri ? look.uri : to,
	                            "identity", identity);
	if (name && *name)
		json_object_set_new(request, "display", json_string(name));
	if ((from && *from) || (look.from && *look.from))
		json_object_set_new(request, "from", json_string(from && *from ? from : look.from));
	g_free(look.uri);
	g_free(look.from);
	json_t *answer;
	if ((status = sb_lk_run_ok(request, NULL, &answer, out)))
		return status;
	char *call_id = g_strdup(json_string_value(json_object_get(answer, "call_id")));
	json_decref(answer);
	if (!call_id) /* the Twilio path dials another way */
		return sb_lk_twirp_error(out, "unimplemented",
		                         "CreateSIPParticipant needs [phone] outbound = \"sip\"");
	if (json_is_true(wait))
		status = wait_for(WAIT_ANSWER, call_id, room_name, identity, reply, out);
	else {
		*out = participant_answer(room_name, identity, call_id);
		status = 200;
	}
	g_free(call_id);
	return status;
}

static int transfer_sip_participant(json_t *body, const sb_lk_claims *claims, sb_rest_reply *reply,
                                    json_t **out)
{
	(void)claims;
	const char *room_name, *identity, *to;
	if (!sb_lk_string_field(body, "roomName", "room_name", &room_name) ||
	    !sb_lk_string_field(body, "participantIdentity", "participant_identity", &identity) ||
	    !sb_lk_string_field(body, "transferTo", "transfer_to", &to))
		return sb_lk_malformed(out);
	if (!room_name || !*room_name)
		return sb_lk_twirp_error(out, "invalid_argument", "missing room name");
	if (!identity || !*identity)
		return sb_lk_twirp_error(out, "invalid_argument", "missing participant identity");
	if (!to || !*to)
		return sb_lk_twirp_error(out, "invalid_argument", "missing transfer to");
	/* sip:, sips: or tel:, maybe in <…> (LiveKit's check). */
	g_autofree char *target = g_strdup(to);
	size_t n = strlen(target);
	if (n >= 2 && target[0] == '<' && target[n - 1] == '>') {
		memmove(target, target + 1, n - 2);
		target[n - 2] = '\0';
	}
	bool tel = g_str_has_prefix(target, "tel:");
	if (!tel && !g_str_has_prefix(target, "sip:") && !g_str_has_prefix(target, "sips:"))
		return sb_lk_twirp_error(
		        out, "invalid_argument",
		        "transfer_to must be a valid SIP(s) or TEL URI (sip:, sips: "
		        "or tel:)");
	int status = sb_lk_room_name(body, "roomName", &room_name, out);
	if (status)
		return status;
	sb_room *room = sb_room_find(room_name);
	if (!room)
		return sb_lk_room_missing(out);
	/* The leg of that identity, and its call. */
	GPtrArray *members = sb_room_participants(room);
	guint64 leg = 0;
	bool found = false;
	char *call_id = NULL;
	for (guint i = 0; i < members->len && !found; i++) {
		sb_participant *p = g_ptr_array_index(members, i);
		json_t *info = sb_lk_participant_info(p);
		found = !g_strcmp0(json_string_value(json_object_get(info, "identity")), identity);
		if (found && p->kind == SB_KIND_SIP) {
			leg = p->id;
			call_id = g_strdup(json_string_value(json_object_get(p->info, "call_id")));
		}
		json_decref(info);
	}
	g_ptr_array_unref(members);
	sb_room_unref(room);
	if (!found)
		return sb_lk_twirp_error(out, "not_found", "participant does not exist");
	if (!leg || !call_id) {
		g_free(call_id);
		return sb_lk_twirp_error(out, "invalid_argument",
		                         "no SIP session associated with participant");
	}
	json_t *request = json_pack("{sssssI}", "request", "sip_refer", "room", room_name, "id",
	                            (json_int_t)leg);
	json_object_set_new(request, tel ? "number" : "uri",
	                    json_string(tel ? target + 4 : target));
	json_t *answer;
	if ((status = sb_lk_run_ok(request, NULL, &answer, out))) {
		g_free(call_id);
		return status;
	}
	json_decref(answer);
	status = wait_for(WAIT_TRANSFER, call_id, room_name, identity, reply, out);
	g_free(call_id);
	return status;
}

const sb_lk_method sb_lk_sip_service[] = {
        {"CreateSIPParticipant", NULL, create_sip_participant},
        {"TransferSIPParticipant", NULL, transfer_sip_participant},
};
const size_t sb_lk_sip_service_count = G_N_ELEMENTS(sb_lk_sip_service);

void sb_lk_sip_start(void)
{
	g_mutex_lock(&sip.lock);
	sip.waiting = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_mutex_unlock(&sip.lock);
	sip.loop = sb_loop_start("sb lk-sip", true);
	sip.bus = sb_events_subscribe(on_bus, NULL);
}

/* Replies still waiting are answered: the server is going away. */
void sb_lk_sip_stop(void)
{
	sb_events_unsubscribe(sip.bus);
	sb_loop_stop(sip.loop); /* no timer or outcome runs after this */
	sip.loop = NULL;
	g_mutex_lock(&sip.lock);
	GHashTable *waiting = sip.waiting;
	sip.waiting = NULL;
	g_mutex_unlock(&sip.lock);
	GHashTableIter it;
	gpointer value;
	g_hash_table_iter_init(&it, waiting);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		waiter *w = value;
		w->timeout = NULL; /* destroyed with the loop */
		json_t *out = NULL;
		int status = sb_lk_twirp_error(&out, "unavailable", "the server is shutting down");
		finish(w, status, out);
	}
	g_hash_table_unref(waiting);
}
