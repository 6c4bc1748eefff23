/* The SIP bridge's operations — dial, hangup, sip_refer, dtmf, sip_calls —
 * in the ops table (Janus API, Admin API) and their REST routes
 * (/phone/call, /phone/end/{callSid}).  Outbound calls go through SIP when
 * [phone] outbound is "sip" (the default); the Twilio module takes dial,
 * hangup and the /phone routes when it is "twilio". */
#include <string.h>

#include "api/api.h"
#include "core/core.h"
#include "sip/sip_private.h"

#define TARGET_MAX 256

static json_t *api_error(sb_error code, char *message)
{
	json_t *e = sb_ops_error(code, "%s", message);
	g_free(message);
	return e;
}

static const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* The fields that name a call (call_key): its call_id, or a participant id
 * in a room. */
#define CALL_FIELDS                                                                                \
	{"room", SB_F_STRING, false, SB_ROOM_NAME_MAX, 0},                                         \
	        {"call_id", SB_F_STRING, false, 128, 0},                                           \
	{                                                                                          \
		"id", SB_F_INTEGER, false, (json_int_t)1 << 53, 1                                  \
	}

/* The call named by call_id, or by the participant id in a room. */
static char *call_key(json_t *body)
{
	if (str(body, "call_id"))
		return g_strdup(str(body, "call_id"));
	json_t *id = json_object_get(body, "id");
	if (json_is_integer(id))
		return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(id));
	return NULL;
}

/* The fields checked and the call they name into *key (g_free); NULL, or
 * the error to answer. */
static json_t *checked_call_key(json_t *body, const sb_field *fields, char **key)
{
	json_t *err = sb_ops_check_fields(body, fields);
	if (err)
		return err;
	*key = call_key(body);
	return *key ? NULL
	            : sb_ops_error(SB_ERROR_MISSING_ELEMENT, "Missing element (call_id or id)");
}

static json_t *op_dial(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	static const sb_field fields[] = {{"room", SB_F_STRING, true, SB_ROOM_NAME_MAX, 0},
	                                  {"uri", SB_F_STRING, false, TARGET_MAX, 0},
	                                  {"number", SB_F_STRING, false, 20, 0},
	                                  {"from", SB_F_STRING, false, TARGET_MAX, 0},
	                                  {"display", SB_F_STRING, false, SB_DISPLAY_MAX, 0},
	                                  {"identity", SB_F_STRING, false, SB_DISPLAY_MAX, 0},
	                                  {NULL, 0, 0, 0, 0}};
	json_t *err = sb_ops_check_fields(body, fields);
	if (err)
		return err;
	const char *target = str(body, "uri") ? str(body, "uri") : str(body, "number");
	if (!target)
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT, "Missing element (uri or number)");
	sb_sip_dial_params params = {.room = str(body, "room"),
	                             .target = target,
	                             .from = str(body, "from"),
	                             .display = str(body, "display"),
	                             .identity = str(body, "identity")};
	char *error = NULL;
	char *id = sb_sip_dial(&params, &error);
	if (!id)
		return api_error(SB_ERROR_INVALID_ELEMENT, error);
	json_t *r = json_pack("{ssssssssss}", SB_EVENT_KEY, "dialing", "room", params.room,
	                      "call_id", id, "to", target, "status", "dialing");
	g_free(id);
	return r;
}

static json_t *op_hangup(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	static const sb_field fields[] = {CALL_FIELDS, {NULL, 0, 0, 0, 0}};
	char *key = NULL;
	json_t *err = checked_call_key(body, fields, &key);
	if (err)
		return err;
	bool ok = sb_sip_hangup(key);
	json_t *r = ok ? json_pack("{sssssb}", SB_EVENT_KEY, "hangingup", "call_id", key, "ok", 1)
	               : sb_ops_error(SB_ERROR_NO_SUCH_PARTICIPANT, "No such call (%s)", key);
	g_free(key);
	return r;
}

static json_t *op_refer(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	static const sb_field fields[] = {CALL_FIELDS,
	                                  {"uri", SB_F_STRING, false, TARGET_MAX, 0},
	                                  {"number", SB_F_STRING, false, 20, 0},
	                                  {NULL, 0, 0, 0, 0}};
	json_t *err = sb_ops_check_fields(body, fields);
	if (err)
		return err;
	const char *target = str(body, "uri") ? str(body, "uri") : str(body, "number");
	char *key = call_key(body);
	if (!key || !target) {
		g_free(key);
		return sb_ops_error(SB_ERROR_MISSING_ELEMENT,
		                    "Missing element (call_id or id, and uri or number)");
	}
	char *error = NULL;
	json_t *r = sb_sip_refer(key, target, &error)
	                    ? json_pack("{ssssss}", SB_EVENT_KEY, "transferring", "call_id", key,
	                                "to", target)
	                    : api_error(SB_ERROR_INVALID_ELEMENT, error);
	g_free(key);
	return r;
}

static json_t *op_dtmf(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	static const sb_field fields[] = {
	        CALL_FIELDS, {"digits", SB_F_STRING, true, 32, 0}, {NULL, 0, 0, 0, 0}};
	char *key = NULL;
	json_t *err = checked_call_key(body, fields, &key);
	if (err)
		return err;
	char *error = NULL;
	json_t *r = sb_sip_send_dtmf(key, str(body, "digits"), &error)
	                    ? json_pack("{sssssb}", SB_EVENT_KEY, "dtmf_sent", "digits",
	                                str(body, "digits"), "ok", 1)
	                    : api_error(SB_ERROR_INVALID_ELEMENT, error);
	g_free(key);
	return r;
}

static json_t *op_calls(json_t *body, sb_op_ctx *ctx)
{
	(void)body, (void)ctx;
	return json_pack("{ssso}", SB_EVENT_KEY, "success", "calls", sb_sip_calls_json());
}

static const sb_op phone_ops[] = {
        {"dial", op_dial, 0, SB_ACCESS_OPERATOR},
        {"hangup", op_hangup, 0, SB_ACCESS_OPERATOR},
};

/* REFER and DTMF work whatever places outbound calls.  Dialing is for
 * trusted callers: a browser must not make the system call numbers. */
static const sb_op sip_ops[] = {
        {"sip_refer", op_refer, 0, SB_ACCESS_OPERATOR},
        {"dtmf", op_dtmf, 0, SB_ACCESS_OPERATOR},
        {"sip_calls", op_calls, 0, SB_ACCESS_OPERATOR},
};

/* ---- REST -------------------------------------------------------------- */

static int route_phone_call(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	json_t *to = req->body ? json_object_get(req->body, "to") : NULL;
	if (!json_is_string(to))
		return sb_rest_error(out, 400, "invalid_request",
		                     "to must be an E.164 number or a sip: URI");
	json_t *room = json_object_get(req->body, "room");
	json_t *from = json_object_get(req->body, "from");
	if ((room && !json_is_string(room)) || (from && !json_is_string(from)))
		return sb_rest_error(out, 400, "invalid_request", "room and from must be strings");
	char *generated = room ? NULL : g_strdup_printf("call-%08x", g_random_int());
	json_t *op = json_pack(
	        "{ssssss}", "request", "dial", "room", room ? json_string_value(room) : generated,
	        json_string_value(to)[0] == '+' ? "number" : "uri", json_string_value(to));
	g_free(generated);
	if (from)
		json_object_set(op, "from", from);
	json_t *r = sb_ops_run_trusted(op);
	int status = sb_rest_op_failed(r, out);
	if (!status) {
		*out = json_pack("{sOsOsOss}", "callSid", json_object_get(r, "call_id"), "room",
		                 json_object_get(r, "room"), "to", json_object_get(r, "to"),
		                 "status", "dialing");
		status = 201;
	}
	json_decref(r);
	return status;
}

static int route_phone_end(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	if (strlen(req->param) > 128)
		return sb_rest_error(out, 400, "invalid_request", "callSid too long");
	json_t *r =
	        sb_ops_run_trusted(json_pack("{ssss}", "request", "hangup", "call_id", req->param));
	int status = sb_rest_op_failed(r, out);
	if (!status) {
		*out = json_pack("{ssss}", "callSid", req->param, "status", "ending");
		status = 200;
	}
	json_decref(r);
	return status;
}

static int route_sip_calls(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)req, (void)t, (void)tt;
	*out = json_pack("{so}", "calls", sb_sip_calls_json());
	return 200;
}

static const sb_rest_route phone_routes[] = {
        {"POST", "/phone/call", route_phone_call, SB_REST_BODY_ROOM, NULL},
        {"POST", "/phone/end/{}", route_phone_end, 0, NULL},
};

static const sb_rest_route sip_routes[] = {
        {"GET", "/sip/calls", route_sip_calls, 0, NULL},
};

static json_t *sip_stats(void)
{
	sb_sip_stats st;
	sb_sip_get_stats(&st);
	return json_pack(
	        "{sIsIsIsIsIsIsIsIsI}", "active", (json_int_t)sb_sip_calls_active(), "invites",
	        (json_int_t)st.invites, "answered", (json_int_t)st.answered, "outbound",
	        (json_int_t)st.outbound, "ended", (json_int_t)st.ended, "rejected",
	        (json_int_t)(st.rejected_acl + st.rejected_auth + st.rejected_limit +
	                     st.rejected_codec + st.rejected_room + st.rejected_other +
	                     st.rejected_source + st.rejected_account + st.rejected_signature +
	                     st.rejected_route),
	        "rtp_timeouts", (json_int_t)st.rtp_timeouts, "refers", (json_int_t)st.refers,
	        "dtmf", (json_int_t)(st.dtmf_in + st.info_dtmf));
}

/* ---- metrics ---- */

/* The SIP bridge: calls by fate, refusals by reason. */
static void sip_metrics(GString *out)
{
	sb_sip_stats ss;
	sb_sip_get_stats(&ss);
	sb_metrics_value(out, "switchboard_sip_calls", "gauge", "SIP calls in progress.", sb_sip_calls_active());
	static const struct {
		const char *name, *help;
		size_t offset;
	} counters[] = {
	        {"switchboard_sip_invites_total", "INVITEs received (new calls).", G_STRUCT_OFFSET(sb_sip_stats, invites)},
	        {"switchboard_sip_answered_total", "Calls answered, both directions.", G_STRUCT_OFFSET(sb_sip_stats, answered)},
	        {"switchboard_sip_outbound_total", "Outbound calls placed.", G_STRUCT_OFFSET(sb_sip_stats, outbound)},
	        {"switchboard_sip_ended_total", "Call legs ended.", G_STRUCT_OFFSET(sb_sip_stats, ended)},
	        {"switchboard_sip_rtp_timeouts_total", "Calls hung up because media stopped.", G_STRUCT_OFFSET(sb_sip_stats, rtp_timeouts)},
	        {"switchboard_sip_refers_total", "Blind transfers (REFER) sent.", G_STRUCT_OFFSET(sb_sip_stats, refers)},
	        {"switchboard_sip_refers_failed_total", "Blind transfers that failed.", G_STRUCT_OFFSET(sb_sip_stats, refers_failed)},
	        {"switchboard_sip_reinvites_total", "re-INVITEs (hold, unhold, refresh).", G_STRUCT_OFFSET(sb_sip_stats, reinvites)},
	        {"switchboard_sip_dtmf_total", "DTMF digits received (RFC 4733 and INFO).", G_STRUCT_OFFSET(sb_sip_stats, dtmf_in)},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(counters); i++)
		sb_metrics_value(out, counters[i].name, "counter", counters[i].help,
		       (long long)G_STRUCT_MEMBER(guint64, &ss, counters[i].offset));
	/* acl: source not in [sip] allow; source: that source's rate; limit:
	 * the overall rate, max_calls, a full room; account: not our Twilio
	 * account; signature: a room named without Switchboard's signature
	 * (or a call's own room that existed already); route: no trunk or
	 * dispatch rule of the inbound router takes it. */
	sb_metrics_header(out, "switchboard_sip_rejected_total", "counter", "INVITEs refused, by reason.");
	static const struct {
		const char *reason;
		size_t offset;
	} reasons[] = {
	        {"acl", G_STRUCT_OFFSET(sb_sip_stats, rejected_acl)},
	        {"source", G_STRUCT_OFFSET(sb_sip_stats, rejected_source)},
	        {"limit", G_STRUCT_OFFSET(sb_sip_stats, rejected_limit)},
	        {"auth", G_STRUCT_OFFSET(sb_sip_stats, rejected_auth)},
	        {"account", G_STRUCT_OFFSET(sb_sip_stats, rejected_account)},
	        {"signature", G_STRUCT_OFFSET(sb_sip_stats, rejected_signature)},
	        {"codec", G_STRUCT_OFFSET(sb_sip_stats, rejected_codec)},
	        {"room", G_STRUCT_OFFSET(sb_sip_stats, rejected_room)},
	        {"route", G_STRUCT_OFFSET(sb_sip_stats, rejected_route)},
	        {"other", G_STRUCT_OFFSET(sb_sip_stats, rejected_other)},
	};
	for (size_t i = 0; i < G_N_ELEMENTS(reasons); i++)
		g_string_append_printf(
		        out,
		        "switchboard_sip_rejected_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
		        reasons[i].reason, G_STRUCT_MEMBER(guint64, &ss, reasons[i].offset));
}

void sip_api_register(const sip_config *config)
{
	sb_metrics_register("sip", sip_metrics);
	sb_ops_register_stats("sip", sip_stats);
	json_t *phone = sb_settings_section(config->settings, "phone");
	if (!strcmp(sb_section_string(phone, "outbound", "sip"), "sip")) {
		sb_ops_register(phone_ops, G_N_ELEMENTS(phone_ops));
		sb_rest_register(phone_routes, G_N_ELEMENTS(phone_routes));
	}
	sb_ops_register(sip_ops, G_N_ELEMENTS(sip_ops));
	sb_rest_register(sip_routes, G_N_ELEMENTS(sip_routes));
}
