/* livekit.SIP's trunk and dispatch-rule RPCs (livekit.md 3.4), each a
 * thin mapping onto an operator op of sip_trunks.c: the sip.admin grant
 * was checked by twirp.c, so the ops run as the operator.  Answers are
 * the objects as LiveKit writes them (snake_case); errors LiveKit's:
 * invalid_argument for what its Validate refuses, not_found with
 * "requested sip trunk does not exist" / "requested sip dispatch rule does
 * not exist".
 *
 * Updates take the `replace` form the SDKs send for updateSip*Trunk and
 * updateSipDispatchRule; the field-by-field `update` form answers
 * unimplemented. */
#include "livekit/livekit_private.h"

#include <string.h>

#include "api/api.h"

static const char *const kind_names[] = {"inbound", "outbound", "rule"};

/* Runs op {request, kind, …extra} as the operator: 0 with *answer, or the
 * Twirp error's status.  extra taken. */
static int run(const char *op, const char *kind, json_t *extra, json_t **answer, json_t **out)
{
	json_t *request = extra ? extra : json_object();
	json_object_set_new(request, "request", json_string(op));
	json_object_set_new(request, "kind", json_string(kind));
	*answer = sb_lk_run(request, NULL);
	const char *name = json_string_value(json_object_get(*answer, "error_name"));
	const char *text = json_string_value(json_object_get(*answer, "error"));
	int status = 0;
	if (name && !strcmp(name, "not_found"))
		status = sb_lk_twirp_error(out, "not_found", "%s", text);
	else if (name && !strcmp(name, "unavailable"))
		status = sb_lk_twirp_error(out, "unavailable", "%s", text);
	else
		status = sb_lk_op_failed(*answer, out);
	if (status)
		g_clear_pointer(answer, json_decref);
	return status;
}

/* The op's one item as the answer. */
static int item_answer(json_t *answer, json_t **out)
{
	*out = json_incref(json_object_get(answer, "item"));
	json_decref(answer);
	return 200;
}

static int create_object(sb_lk_kind kind, json_t *item, json_t **out)
{
	json_t *answer;
	int status = run("sip_object_create", kind_names[kind],
	                 json_pack("{sO}", "item", item ? item : json_null()), &answer, out);
	return status ? status : item_answer(answer, out);
}

static int create_inbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return create_object(SB_LK_INBOUND, sb_lk_field(body, "trunk", "trunk"), out);
}

static int create_outbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return create_object(SB_LK_OUTBOUND, sb_lk_field(body, "trunk", "trunk"), out);
}

/* The id field of body: 0 with *id, or the Twirp error's status. */
static int id_of(json_t *body, const char *json_name, const char *proto_name, const char *what,
                 const char **id, json_t **out)
{
	if (!sb_lk_string_field(body, json_name, proto_name, id))
		return sb_lk_malformed(out);
	if (!*id || !**id)
		return sb_lk_twirp_error(out, "invalid_argument", "missing %s", what);
	return 0;
}

static int get_object(sb_lk_kind kind, json_t *body, json_t **out)
{
	const char *id;
	int status = id_of(body, "sipTrunkId", "sip_trunk_id", "sip trunk id", &id, out);
	if (status)
		return status;
	json_t *answer;
	status = run("sip_object_get", kind_names[kind], json_pack("{ss}", "id", id), &answer, out);
	if (status)
		return status;
	*out = json_pack("{sO}", "trunk", json_object_get(answer, "item"));
	json_decref(answer);
	return 200;
}

static int get_inbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return get_object(SB_LK_INBOUND, body, out);
}

static int get_outbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return get_object(SB_LK_OUTBOUND, body, out);
}

/* UpdateSIP…Request {id, replace | update}. */
static int replace_object(sb_lk_kind kind, json_t *body, json_t **out)
{
	const char *id;
	int status = kind == SB_LK_RULE
	                     ? id_of(body, "sipDispatchRuleId", "sip_dispatch_rule_id",
	                             "sip dispatch rule id", &id, out)
	                     : id_of(body, "sipTrunkId", "sip_trunk_id", "sip trunk id", &id, out);
	if (status)
		return status;
	json_t *replace = sb_lk_field(body, "replace", "replace");
	if (!replace && sb_lk_field(body, "update", "update"))
		return sb_lk_twirp_error(
		        out, "unimplemented",
		        "the field-by-field update is not supported by Switchboard: "
		        "send the whole object (replace)");
	if (!replace)
		return sb_lk_twirp_error(out, "invalid_argument",
		                         kind == SB_LK_RULE ? "missing rule" : "missing trunk");
	json_t *answer;
	status = run("sip_object_replace", kind_names[kind],
	             json_pack("{sssO}", "id", id, "item", replace), &answer, out);
	return status ? status : item_answer(answer, out);
}

static int update_inbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return replace_object(SB_LK_INBOUND, body, out);
}

static int update_outbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return replace_object(SB_LK_OUTBOUND, body, out);
}

static int update_rule(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return replace_object(SB_LK_RULE, body, out);
}

/* The List…Request filters, as the op names them: a trunk list's
 * trunkIds are the trunks listed; a rule list's, the trunks its rules
 * name (dispatchRuleIds are the rules listed). */
static int list_objects(sb_lk_kind kind, json_t *body, json_t **out)
{
	bool rules = kind == SB_LK_RULE;
	json_t *filters = json_object();
	json_t *ids = rules ? sb_lk_field(body, "dispatchRuleIds", "dispatch_rule_ids")
	                    : sb_lk_field(body, "trunkIds", "trunk_ids");
	json_t *trunk_ids = rules ? sb_lk_field(body, "trunkIds", "trunk_ids") : NULL;
	json_t *numbers = rules ? NULL : sb_lk_field(body, "numbers", "numbers");
	if (ids)
		json_object_set(filters, "ids", ids);
	if (trunk_ids)
		json_object_set(filters, "trunk_ids", trunk_ids);
	if (numbers)
		json_object_set(filters, "numbers", numbers);
	json_t *answer;
	int status = run("sip_object_list", kind_names[kind], filters, &answer, out);
	if (status)
		return status;
	*out = json_pack("{sO}", "items", json_object_get(answer, "items"));
	json_decref(answer);
	return 200;
}

static int list_inbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return list_objects(SB_LK_INBOUND, body, out);
}

static int list_outbound(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return list_objects(SB_LK_OUTBOUND, body, out);
}

static int list_rules(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	return list_objects(SB_LK_RULE, body, out);
}

/* SIPTrunkInfo (deprecated) of a trunk as the new kinds write it. */
static json_t *legacy_trunk(json_t *item, bool inbound)
{
	json_t *numbers = json_object_get(item, "numbers");
	const char *first = json_string_value(json_array_get(numbers, 0));
	json_t *t = json_pack("{sOsssOsO}", "sip_trunk_id", json_object_get(item, "sip_trunk_id"),
	                      "kind", inbound ? "TRUNK_INBOUND" : "TRUNK_OUTBOUND", "name",
	                      json_object_get(item, "name"), "metadata",
	                      json_object_get(item, "metadata"));
	if (inbound) {
		json_object_set(t, "inbound_addresses", json_object_get(item, "allowed_addresses"));
		json_object_set(t, "inbound_numbers", json_object_get(item, "allowed_numbers"));
		json_object_set_new(t, "outbound_number", json_string(first ? first : ""));
		json_object_set(t, "inbound_username", json_object_get(item, "auth_username"));
		json_object_set(t, "inbound_password", json_object_get(item, "auth_password"));
	} else {
		json_object_set(t, "outbound_address", json_object_get(item, "address"));
		json_object_set_new(t, "outbound_number", json_string(first ? first : ""));
		json_object_set(t, "transport", json_object_get(item, "transport"));
		json_object_set(t, "outbound_username", json_object_get(item, "auth_username"));
		json_object_set(t, "outbound_password", json_object_get(item, "auth_password"));
	}
	return t;
}

static int list_legacy(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)body, (void)claims;
	json_t *items = json_array();
	for (sb_lk_kind kind = SB_LK_INBOUND; kind <= SB_LK_OUTBOUND; kind++) {
		json_t *answer;
		int status = run("sip_object_list", kind_names[kind], NULL, &answer, out);
		if (status) {
			json_decref(items);
			return status;
		}
		json_t *item;
		size_t i;
		json_array_foreach(json_object_get(answer, "items"), i, item)
		        json_array_append_new(items, legacy_trunk(item, kind == SB_LK_INBOUND));
		json_decref(answer);
	}
	*out = json_pack("{so}", "items", items);
	return 200;
}

static int delete_trunk(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *id;
	int status = id_of(body, "sipTrunkId", "sip_trunk_id", "sip trunk id", &id, out);
	if (status)
		return status;
	json_t *answer;
	if ((status = run("sip_object_delete", "trunk", json_pack("{ss}", "id", id), &answer, out)))
		return status;
	bool inbound = !g_strcmp0(json_string_value(json_object_get(answer, "kind")), "inbound");
	*out = legacy_trunk(json_object_get(answer, "item"), inbound);
	json_decref(answer);
	return 200;
}

/* CreateSIPDispatchRuleRequest: dispatchRule (field 10), or the
 * deprecated top-level fields the Node SDK sends. */
static int create_rule(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	json_t *info = sb_lk_field(body, "dispatchRule", "dispatch_rule");
	if (info)
		return create_object(SB_LK_RULE, info, out);
	json_t *legacy = json_deep_copy(body);
	int status = create_object(SB_LK_RULE, legacy, out);
	json_decref(legacy);
	return status;
}

static int delete_rule(json_t *body, const sb_lk_claims *claims, json_t **out)
{
	(void)claims;
	const char *id;
	int status = id_of(body, "sipDispatchRuleId", "sip_dispatch_rule_id",
	                   "sip dispatch rule id", &id, out);
	if (status)
		return status;
	json_t *answer;
	status = run("sip_object_delete", "rule", json_pack("{ss}", "id", id), &answer, out);
	return status ? status : item_answer(answer, out);
}

const sb_lk_method sb_lk_sip_admin_service[] = {
        {"ListSIPTrunk", list_legacy, NULL},
        {"CreateSIPInboundTrunk", create_inbound, NULL},
        {"CreateSIPOutboundTrunk", create_outbound, NULL},
        {"UpdateSIPInboundTrunk", update_inbound, NULL},
        {"UpdateSIPOutboundTrunk", update_outbound, NULL},
        {"GetSIPInboundTrunk", get_inbound, NULL},
        {"GetSIPOutboundTrunk", get_outbound, NULL},
        {"ListSIPInboundTrunk", list_inbound, NULL},
        {"ListSIPOutboundTrunk", list_outbound, NULL},
        {"DeleteSIPTrunk", delete_trunk, NULL},
        {"CreateSIPDispatchRule", create_rule, NULL},
        {"UpdateSIPDispatchRule", update_rule, NULL},
        {"ListSIPDispatchRule", list_rules, NULL},
        {"DeleteSIPDispatchRule", delete_rule, NULL},
};
const size_t sb_lk_sip_admin_service_count = G_N_ELEMENTS(sb_lk_sip_admin_service);
