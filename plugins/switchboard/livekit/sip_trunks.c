/* LiveKit's SIP trunks and dispatch rules (livekit.md 3.4, Appendix A):
 * kept in memory for the SIP bridge's inbound router (sip_routing.c),
 * which must answer on the SIP thread without a database, and in the
 * store (sip_objects, migration 7) so that they survive a restart.  The
 * store is read once at start; every change is queued on its writer.
 *
 * Each object is one operator-only op of the ops table (sip_trunk_create,
 * …, docs/security.md): the Twirp methods (sip_admin.c) and the Admin API
 * reach the same code.  Objects are held as LiveKit writes them in its
 * answers: snake_case, every scalar present, enums by name; the request
 * may use either casing (sb_lk_field).  Bounded: SB_LK_SIP_OBJECTS_MAX
 * of each kind, strings, lists and maps bounded too.
 *
 * Several nodes sharing one PostgreSQL database each load the rows at
 * start; a change made on one node reaches the others at their restart. */
#include "livekit/livekit_private.h"

#include <string.h>

#include <debug.h>

#include "api/api.h"
#include "endpoints/endpoints.h"
#include "store/store.h"

#define TEXT_MAX 256
#define LIST_MAX 100
#define MAP_MAX 64
#define OBJECT_TEXT_MAX 16384

typedef enum { F_STRING, F_STRINGS, F_MAP, F_BOOL, F_ENUM, F_DURATION, F_OBJECT } field_type;

typedef struct field {
	const char *name; /* proto (snake_case) name; the JSON name is derived */
	field_type type;
	size_t max;                /* strings: bytes */
	const char *const *values; /* enums: names, index = number */
} field;

static const char *const header_options[] = {"SIP_NO_HEADERS", "SIP_X_HEADERS", "SIP_ALL_HEADERS",
                                             NULL};
static const char *const encryptions[] = {"SIP_MEDIA_ENCRYPT_DISABLE", "SIP_MEDIA_ENCRYPT_ALLOW",
                                          "SIP_MEDIA_ENCRYPT_REQUIRE", NULL};
static const char *const transports[] = {"SIP_TRANSPORT_AUTO", "SIP_TRANSPORT_UDP",
                                         "SIP_TRANSPORT_TCP", "SIP_TRANSPORT_TLS", NULL};

/* What every object has, and what both kinds of trunk have. */
/* clang-format off */
#define NAMED_FIELDS \
	{"name", F_STRING, TEXT_MAX, NULL}, \
	{"metadata", F_STRING, SB_METADATA_MAX, NULL}
#define TRUNK_FIELDS \
	{"numbers", F_STRINGS, 64, NULL}, \
	{"auth_username", F_STRING, TEXT_MAX, NULL}, \
	{"auth_password", F_STRING, TEXT_MAX, NULL}, \
	{"headers", F_MAP, TEXT_MAX, NULL}, \
	{"headers_to_attributes", F_MAP, TEXT_MAX, NULL}, \
	{"attributes_to_headers", F_MAP, TEXT_MAX, NULL}, \
	{"include_headers", F_ENUM, 0, header_options}, \
	{"media_encryption", F_ENUM, 0, encryptions}, \
	{"media", F_OBJECT, 0, NULL}
/* clang-format on */

static const field inbound_fields[] = {
        NAMED_FIELDS,
        TRUNK_FIELDS,
        {"allowed_addresses", F_STRINGS, 64, NULL},
        {"allowed_numbers", F_STRINGS, 64, NULL},
        {"auth_realm", F_STRING, TEXT_MAX, NULL},
        {"ringing_timeout", F_DURATION, 0, NULL},
        {"max_call_duration", F_DURATION, 0, NULL},
        {"krisp_enabled", F_BOOL, 0, NULL},
        {NULL, 0, 0, NULL},
};

static const field outbound_fields[] = {
        NAMED_FIELDS,
        TRUNK_FIELDS,
        {"address", F_STRING, TEXT_MAX, NULL},
        {"destination_country", F_STRING, 8, NULL},
        {"transport", F_ENUM, 0, transports},
        {"from_host", F_STRING, TEXT_MAX, NULL},
        {NULL, 0, 0, NULL},
};

static const field rule_fields[] = {
        {"rule", F_OBJECT, 0, NULL},
        {"trunk_ids", F_STRINGS, 64, NULL},
        {"hide_phone_number", F_BOOL, 0, NULL},
        {"inbound_numbers", F_STRINGS, 64, NULL},
        {"numbers", F_STRINGS, 64, NULL},
        NAMED_FIELDS,
        {"attributes", F_MAP, SB_ATTRIBUTE_VALUE_MAX, NULL},
        {"room_preset", F_STRING, TEXT_MAX, NULL},
        {"room_config", F_OBJECT, 0, NULL},
        {"media", F_OBJECT, 0, NULL},
        {"krisp_enabled", F_BOOL, 0, NULL},
        {"media_encryption", F_ENUM, 0, encryptions},
        {NULL, 0, 0, NULL},
};

typedef struct kind_info {
	const char *name; /* the store's kind */
	const char *id_field, *id_prefix;
	const field *fields;
	const char *missing; /* LiveKit's not_found text */
} kind_info;

static const kind_info kinds[] = {
        [SB_LK_INBOUND] = {"inbound", "sip_trunk_id", "ST_", inbound_fields,
                           "requested sip trunk does not exist"},
        [SB_LK_OUTBOUND] = {"outbound", "sip_trunk_id", "ST_", outbound_fields,
                            "requested sip trunk does not exist"},
        [SB_LK_RULE] = {"rule", "sip_dispatch_rule_id", "SDR_", rule_fields,
                        "requested sip dispatch rule does not exist"},
};

static struct {
	GMutex lock;
	GPtrArray *objects[SB_LK_KINDS]; /* sb_lk_sip_object, in creation order */
	bool loaded;                     /* the store's rows are in (or there is no store) */
} cache;

static void object_free(gpointer data)
{
	sb_lk_sip_object *o = data;
	g_free(o->id);
	json_decref(o->body);
	sb_acl_free(o->allowed);
	g_free(o);
}

/* ---- reading a request ---- */

static char *camel_of(const char *snake)
{
	GString *out = g_string_new(NULL);
	for (const char *c = snake; *c; c++) {
		if (*c == '_' && c[1])
			g_string_append_c(out, g_ascii_toupper(*++c));
		else
			g_string_append_c(out, *c);
	}
	return g_string_free(out, FALSE);
}

static json_t *invalid(const char *name, const char *what)
{
	return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "%s %s", name, what);
}

static json_t *read_strings(json_t *v, const field *f, json_t **out)
{
	if (!json_is_array(v) || json_array_size(v) > LIST_MAX)
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "%s must be a list of at most %d strings", f->name, LIST_MAX);
	json_t *item;
	size_t i;
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item) || !json_string_length(item) ||
		    json_string_length(item) > f->max)
			return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
			                    "%s must hold strings of 1 to %zu bytes", f->name,
			                    f->max);
	}
	*out = json_deep_copy(v);
	return NULL;
}

static json_t *read_map(json_t *v, const field *f, json_t **out)
{
	if (!json_is_object(v) || json_object_size(v) > MAP_MAX)
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
		                    "%s must be an object of at most %d strings", f->name, MAP_MAX);
	const char *key;
	json_t *value;
	json_object_foreach(v, key, value)
	{
		if (!json_is_string(value) || json_string_length(value) > f->max ||
		    strlen(key) > SB_ATTRIBUTE_KEY_MAX)
			return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
			                    "%s must map keys of at most %d bytes to strings of at "
			                    "most %zu",
			                    f->name, SB_ATTRIBUTE_KEY_MAX, f->max);
	}
	*out = json_deep_copy(v);
	return NULL;
}

static json_t *read_enum(json_t *v, const field *f, json_t **out)
{
	size_t n = 0;
	while (f->values[n])
		n++;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && (size_t)json_integer_value(v) < n) {
		*out = json_string(f->values[json_integer_value(v)]);
		return NULL;
	}
	for (size_t i = 0; json_is_string(v) && i < n; i++)
		if (!strcmp(json_string_value(v), f->values[i])) {
			*out = json_string(f->values[i]);
			return NULL;
		}
	return invalid(f->name, "is not one of its enum's names");
}

/* "30s", "1.5s" (proto3 JSON's Duration). */
static bool duration_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > 24 || s[n - 1] != 's')
		return false;
	bool dot = false;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == '.' && !dot && i)
			dot = true;
		else if (!g_ascii_isdigit(s[i]))
			return false;
	}
	return true;
}

/* One field of in (either casing) into out, by its proto name: NULL, or
 * the error to answer. */
static json_t *read_field(json_t *in, const field *f, json_t *out)
{
	char *camel = camel_of(f->name);
	json_t *v = sb_lk_field(in, camel, f->name);
	g_free(camel);
	json_t *value = NULL, *error = NULL;
	switch (f->type) {
	case F_STRING:
		if (v && (!json_is_string(v) || json_string_length(v) > f->max))
			return sb_ops_error(SB_ERROR_INVALID_ELEMENT,
			                    "%s must be a string of at most %zu bytes", f->name,
			                    f->max);
		value = json_string(v ? json_string_value(v) : "");
		break;
	case F_STRINGS:
		if (!v)
			value = json_array();
		else
			error = read_strings(v, f, &value);
		break;
	case F_MAP:
		if (!v)
			value = json_object();
		else
			error = read_map(v, f, &value);
		break;
	case F_BOOL:
		if (v && !json_is_boolean(v))
			return invalid(f->name, "must be true or false");
		value = json_boolean(json_is_true(v));
		break;
	case F_ENUM:
		if (!v)
			value = json_string(f->values[0]);
		else
			error = read_enum(v, f, &value);
		break;
	case F_DURATION:
		if (v && (!json_is_string(v) || !duration_ok(json_string_value(v))))
			return invalid(f->name, "must be a duration such as \"30s\"");
		value = v ? json_incref(v) : NULL;
		break;
	case F_OBJECT: {
		if (v && !json_is_object(v))
			return invalid(f->name, "must be an object");
		char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
		size_t len = text ? strlen(text) : 0;
		free(text);
		if (len > OBJECT_TEXT_MAX)
			return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "%s is longer than %d bytes",
			                    f->name, OBJECT_TEXT_MAX);
		value = v ? json_deep_copy(v) : NULL;
		break;
	}
	}
	if (error)
		return error;
	if (value)
		json_object_set_new(out, f->name, value);
	return NULL;
}

/* ---- what LiveKit checks (its Validate methods) ---- */

static const char *check_inbound(json_t *t, sb_acl **allowed)
{
	bool auth = json_string_length(json_object_get(t, "auth_username")) ||
	            json_string_length(json_object_get(t, "auth_password"));
	json_t *addresses = json_object_get(t, "allowed_addresses");
	if (!auth && !json_array_size(addresses) && !json_array_size(json_object_get(t, "numbers")))
		return "for security, one of the fields must be set: AuthUsername+AuthPassword, "
		       "AllowedAddresses or Numbers";
	GString *list = g_string_new(NULL);
	json_t *a;
	size_t i;
	json_array_foreach(addresses, i, a)
	        g_string_append_printf(list, "%s ", json_string_value(a));
	char *bad = NULL;
	*allowed = list->len ? sb_acl_parse(list->str, &bad) : NULL;
	g_string_free(list, TRUE);
	if (bad) {
		g_free(bad);
		return "allowed_addresses must hold IP addresses or CIDR ranges";
	}
	return NULL;
}

static const char *check_outbound(json_t *t)
{
	const char *address = json_string_value(json_object_get(t, "address"));
	if (!json_array_size(json_object_get(t, "numbers")))
		return "no trunk numbers specified";
	if (!*address)
		return "no outbound address specified";
	if (strstr(address, "transport="))
		return "trunk transport should be set as a field, not a URI parameter";
	if (strpbrk(address, "@;") || g_str_has_prefix(address, "sip:") ||
	    g_str_has_prefix(address, "sips:"))
		return "trunk address should be a hostname or IP, not SIP URI";
	for (const char *c = address; *c; c++)
		if (!g_ascii_isalnum(*c) && !strchr(".-:[]", *c))
			return "trunk address should be a hostname or IP, not SIP URI";
	return NULL;
}

/* A room prefix a room name can start with (names: A-Z a-z 0-9 . _ -). */
static bool prefix_ok(const char *prefix)
{
	if (strlen(prefix) > SB_ROOM_NAME_MAX / 2)
		return false;
	for (const char *c = prefix; *c; c++)
		if (!g_ascii_isalnum(*c) && !strchr("._-", *c))
			return false;
	return true;
}

/* The rule's one variant, normalised to snake_case in place. */
static const char *check_rule(json_t *info)
{
	json_t *rule = json_object_get(info, "rule");
	if (!rule)
		return "missing rule";
	json_t *direct = sb_lk_field(rule, "dispatchRuleDirect", "dispatch_rule_direct");
	json_t *individual =
	        sb_lk_field(rule, "dispatchRuleIndividual", "dispatch_rule_individual");
	json_t *callee = sb_lk_field(rule, "dispatchRuleCallee", "dispatch_rule_callee");
	int variants = !!direct + !!individual + !!callee;
	if (variants != 1)
		return "the rule must be one of dispatchRuleDirect, dispatchRuleIndividual or "
		       "dispatchRuleCallee";
	json_t *v = direct ? direct : individual ? individual : callee;
	if (!json_is_object(v))
		return "the rule must be an object";
	const char *room, *prefix, *pin;
	if (!sb_lk_string_field(v, "roomName", "room_name", &room) ||
	    !sb_lk_string_field(v, "roomPrefix", "room_prefix", &prefix) ||
	    !sb_lk_string_field(v, "pin", "pin", &pin))
		return "the rule's fields must be strings";
	if (pin && strlen(pin) > 32)
		return "the rule's pin is longer than 32 characters";
	json_t *flag = individual ? sb_lk_field(v, "noRandomness", "no_randomness")
	                          : sb_lk_field(v, "randomize", "randomize");
	if (flag && !json_is_boolean(flag))
		return "the rule's flags must be true or false";
	json_t *out;
	if (direct) {
		if (!room || !sb_room_name_valid(room))
			return "dispatchRuleDirect needs a roomName of 1 to 64 characters of A-Z "
			       "a-z "
			       "0-9 . _ -";
		out = json_pack("{s{ssss}}", "dispatch_rule_direct", "room_name", room, "pin",
		                pin ? pin : "");
	} else {
		if (prefix && !prefix_ok(prefix))
			return "roomPrefix must be at most 32 characters of A-Z a-z 0-9 . _ -";
		out = json_pack("{s{sssssb}}",
		                individual ? "dispatch_rule_individual" : "dispatch_rule_callee",
		                "room_prefix", prefix ? prefix : "", "pin", pin ? pin : "",
		                individual ? "no_randomness" : "randomize", json_is_true(flag));
	}
	json_object_set_new(info, "rule", out);
	/* The agents a call brings in: names and metadata only. */
	json_t *agents = sb_lk_field(json_object_get(info, "room_config"), "agents", "agents");
	if (agents && (!json_is_array(agents) || json_array_size(agents) > 8))
		return "roomConfig.agents must be a list of at most 8 agents";
	return NULL;
}

/* ---- the cache ---- */

static sb_lk_sip_object *find_locked(sb_lk_kind kind, const char *id)
{
	for (guint i = 0; id && i < cache.objects[kind]->len; i++) {
		sb_lk_sip_object *o = g_ptr_array_index(cache.objects[kind], i);
		if (!strcmp(o->id, id))
			return o;
	}
	return NULL;
}

static char *rfc3339(gint64 ms)
{
	GDateTime *t = g_date_time_new_from_unix_utc(ms / 1000);
	char *text = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
	g_date_time_unref(t);
	return text;
}

/* The object as an answer: its body with its id and times. */
static json_t *answer_of(const sb_lk_sip_object *o)
{
	json_t *info = json_deep_copy(o->body);
	json_object_set_new(info, kinds[o->kind].id_field, json_string(o->id));
	char *created = rfc3339(o->created_ms), *updated = rfc3339(o->updated_ms);
	json_object_set_new(info, "created_at", json_string(created));
	json_object_set_new(info, "updated_at", json_string(updated));
	g_free(created);
	g_free(updated);
	return info;
}

static void save(const sb_lk_sip_object *o)
{
	sb_store_sip_object_save(o->id, kinds[o->kind].name, o->body, o->created_ms, o->updated_ms);
}

/* Reads in (a trunk or rule in LiveKit's JSON) as a body of kind: the
 * body (and a trunk's address list), or NULL with *error. */
static json_t *read_object(sb_lk_kind kind, json_t *in, sb_acl **allowed, json_t **error)
{
	*allowed = NULL;
	if (!json_is_object(in)) {
		*error = sb_ops_error(SB_ERROR_MISSING_ELEMENT,
		                      kind == SB_LK_RULE ? "missing rule" : "missing trunk");
		return NULL;
	}
	json_t *body = json_object();
	for (const field *f = kinds[kind].fields; f->name; f++)
		if ((*error = read_field(in, f, body))) {
			json_decref(body);
			return NULL;
		}
	const char *why = kind == SB_LK_INBOUND    ? check_inbound(body, allowed)
	                  : kind == SB_LK_OUTBOUND ? check_outbound(body)
	                                           : check_rule(body);
	if (why) {
		*error = sb_ops_error(SB_ERROR_INVALID_ELEMENT, "%s", why);
		json_decref(body);
		sb_acl_free(*allowed);
		*allowed = NULL;
		return NULL;
	}
	return body;
}

static json_t *missing(sb_lk_kind kind)
{
	return sb_ops_error_named(SB_ERROR_INVALID_ELEMENT, "not_found", 404, "%s",
	                          kinds[kind].missing);
}

static json_t *unavailable(void)
{
	return sb_ops_error_named(SB_ERROR_UNKNOWN, "unavailable", 503,
	                          "the SIP trunks and dispatch rules could not be read from the "
	                          "store yet");
}

/* ---- the ops ---- */

static bool kind_of(json_t *body, sb_lk_kind *kind)
{
	const char *name = json_string_value(json_object_get(body, "kind"));
	if (!name)
		return false;
	for (int k = 0; k < SB_LK_KINDS; k++)
		if (!strcmp(name, kinds[k].name)) {
			*kind = k;
			return true;
		}
	return false;
}

/* body's kind and (when id is asked for) id: NULL, or the error. */
static json_t *kind_and_id(json_t *body, sb_lk_kind *kind, const char **id)
{
	if (!kind_of(body, kind))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "kind: inbound, outbound or rule");
	if (!id)
		return NULL;
	SB_OPS_CHECK_STRING(body, "id", true, 64);
	*id = json_string_value(json_object_get(body, "id"));
	return NULL;
}

static json_t *answer_with(json_t *info)
{
	json_t *answer = sb_ops_answer("sip_object");
	json_object_set_new(answer, "item", info);
	return answer;
}

/* o, just made or changed, to the store and as the answer; the lock is
 * released here. */
static json_t *saved(const sb_lk_sip_object *o)
{
	save(o);
	json_t *info = answer_of(o);
	g_mutex_unlock(&cache.lock);
	return answer_with(info);
}

/* The object body asks for (kind, item; and id when asked for): a new
 * one with its id (when given) unset, or NULL with *error. */
static sb_lk_sip_object *requested(json_t *body, const char **id, json_t **error)
{
	sb_lk_kind kind;
	if ((*error = kind_and_id(body, &kind, id)))
		return NULL;
	json_t *in = json_object_get(body, "item");
	if (!id && kind != SB_LK_RULE &&
	    json_string_length(sb_lk_field(in, "sipTrunkId", "sip_trunk_id"))) {
		*error = sb_ops_error(SB_ERROR_INVALID_ELEMENT, "trunk id must not be set");
		return NULL;
	}
	sb_acl *allowed;
	json_t *object_body = read_object(kind, in, &allowed, error);
	if (!object_body)
		return NULL;
	sb_lk_sip_object *o = g_new0(sb_lk_sip_object, 1);
	o->kind = kind;
	o->body = object_body;
	o->allowed = allowed;
	o->created_ms = o->updated_ms = g_get_real_time() / 1000;
	return o;
}

/* {kind, item}: a new trunk or rule. */
static json_t *op_create(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	json_t *error = NULL;
	sb_lk_sip_object *o = requested(body, NULL, &error);
	if (!o)
		return error;
	char *uuid = g_uuid_string_random();
	o->id = g_strdup_printf("%s%.12s", kinds[o->kind].id_prefix, uuid);
	g_free(uuid);
	g_mutex_lock(&cache.lock);
	if (!cache.loaded || cache.objects[o->kind]->len >= SB_LK_SIP_OBJECTS_MAX) {
		bool loaded = cache.loaded;
		g_mutex_unlock(&cache.lock);
		error = loaded ? sb_ops_limit_error("sip_objects",
		                                    "at most %d %s objects (SIP trunks or dispatch "
		                                    "rules) are kept",
		                                    SB_LK_SIP_OBJECTS_MAX, kinds[o->kind].name)
		               : unavailable();
		object_free(o);
		return error;
	}
	g_ptr_array_add(cache.objects[o->kind], o);
	return saved(o);
}

/* {kind, id, item}: the object replaced by item (its id and creation
 * kept), as LiveKit's `replace` update. */
static json_t *op_replace(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	const char *id;
	json_t *error = NULL;
	sb_lk_sip_object *given = requested(body, &id, &error);
	if (!given)
		return error;
	g_mutex_lock(&cache.lock);
	sb_lk_sip_object *o = find_locked(given->kind, id);
	if (!o) {
		g_mutex_unlock(&cache.lock);
		error = cache.loaded ? missing(given->kind) : unavailable();
		object_free(given);
		return error;
	}
	/* The new body and address list in, the old ones out with given. */
	json_t *old_body = o->body;
	struct sb_acl *old_allowed = o->allowed;
	o->body = given->body;
	o->allowed = given->allowed;
	given->body = old_body;
	given->allowed = old_allowed;
	o->updated_ms = MAX(given->updated_ms, o->created_ms);
	json_t *answer = saved(o);
	object_free(given);
	return answer;
}

/* {kind, id} */
static json_t *op_get(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	sb_lk_kind kind;
	const char *id;
	json_t *error = kind_and_id(body, &kind, &id);
	if (error)
		return error;
	g_mutex_lock(&cache.lock);
	sb_lk_sip_object *o = find_locked(kind, id);
	json_t *info = o ? answer_of(o) : NULL;
	g_mutex_unlock(&cache.lock);
	return info ? answer_with(info) : missing(kind);
}

static bool lists_share(json_t *a, json_t *b)
{
	json_t *x, *y;
	size_t i, j;
	json_array_foreach(a, i, x) json_array_foreach(b, j, y) if (json_equal(x, y)) return true;
	return false;
}

bool sb_lk_list_holds(json_t *list, const char *s)
{
	json_t *x;
	size_t i;
	json_array_foreach(list, i, x) if (!g_strcmp0(json_string_value(x), s)) return true;
	return false;
}

/* {kind, ids?, numbers?, trunk_ids?}: LiveKit's list filters (an empty
 * filter is no filter). */
static json_t *op_list(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	sb_lk_kind kind;
	json_t *error = kind_and_id(body, &kind, NULL);
	if (error)
		return error;
	static const field filters[] = {{"ids", F_STRINGS, 64, NULL},
	                                {"numbers", F_STRINGS, 64, NULL},
	                                {"trunk_ids", F_STRINGS, 64, NULL}};
	json_t *filter = json_object();
	for (size_t i = 0; i < G_N_ELEMENTS(filters); i++) {
		if ((error = read_field(body, &filters[i], filter))) {
			json_decref(filter);
			return error;
		}
	}
	json_t *ids = json_object_get(filter, "ids"), *numbers = json_object_get(filter, "numbers");
	json_t *trunk_ids = json_object_get(filter, "trunk_ids");
	json_t *items = json_array();
	g_mutex_lock(&cache.lock);
	for (guint i = 0; i < cache.objects[kind]->len; i++) {
		sb_lk_sip_object *o = g_ptr_array_index(cache.objects[kind], i);
		if (json_array_size(ids) && !sb_lk_list_holds(ids, o->id))
			continue;
		if (json_array_size(numbers) &&
		    !lists_share(numbers, json_object_get(o->body, "numbers")))
			continue;
		json_t *rule_trunks = json_object_get(o->body, "trunk_ids");
		/* A rule for every trunk (none named) applies to each of them. */
		if (kind == SB_LK_RULE && json_array_size(trunk_ids) &&
		    json_array_size(rule_trunks) && !lists_share(trunk_ids, rule_trunks))
			continue;
		json_array_append_new(items, answer_of(o));
	}
	g_mutex_unlock(&cache.lock);
	json_decref(filter);
	json_t *answer = sb_ops_answer("sip_objects");
	json_object_set_new(answer, "items", items);
	return answer;
}

/* {kind, id}: kind "trunk" deletes an inbound or an outbound trunk. */
static json_t *op_delete(json_t *body, sb_op_ctx *ctx)
{
	(void)ctx;
	const char *kind_name = json_string_value(json_object_get(body, "kind"));
	sb_lk_kind kind = SB_LK_RULE;
	bool trunk = !g_strcmp0(kind_name, "trunk");
	if (!trunk && !kind_of(body, &kind))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "kind: trunk or rule");
	SB_OPS_CHECK_STRING(body, "id", true, 64);
	const char *id = json_string_value(json_object_get(body, "id"));
	g_mutex_lock(&cache.lock);
	sb_lk_sip_object *o = NULL;
	if (trunk) {
		kind = SB_LK_INBOUND;
		o = find_locked(kind, id);
		if (!o)
			o = find_locked(kind = SB_LK_OUTBOUND, id);
	} else
		o = find_locked(kind, id);
	if (!o) {
		g_mutex_unlock(&cache.lock);
		return missing(kind);
	}
	json_t *info = answer_of(o);
	sb_store_sip_object_delete(o->id);
	g_ptr_array_remove(cache.objects[kind], o);
	g_mutex_unlock(&cache.lock);
	json_t *answer = answer_with(info);
	json_object_set_new(answer, "kind", json_string(kinds[kind].name));
	return answer;
}

static const sb_op ops[] = {
        {"sip_object_create", op_create, 0, SB_ACCESS_OPERATOR},
        {"sip_object_replace", op_replace, 0, SB_ACCESS_OPERATOR},
        {"sip_object_get", op_get, 0, SB_ACCESS_OPERATOR},
        {"sip_object_list", op_list, 0, SB_ACCESS_OPERATOR},
        {"sip_object_delete", op_delete, 0, SB_ACCESS_OPERATOR},
};

/* ---- what the router and the dialler read ---- */

void sb_lk_sip_objects_read(sb_lk_sip_reader reader, void *user)
{
	g_mutex_lock(&cache.lock);
	reader(cache.objects, user);
	g_mutex_unlock(&cache.lock);
}

/* ---- start and stop ---- */

static void load(void)
{
	char *error = NULL;
	json_t *rows = sb_store_sip_objects_available() ? sb_store_sip_objects_load(&error) : NULL;
	if (!rows && error) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] LiveKit SIP trunks and dispatch rules not loaded (%s): "
		          "they cannot be changed until a restart reads them\n",
		          error);
		g_free(error);
		return;
	}
	json_t *row;
	size_t i;
	json_array_foreach(rows, i, row)
	{
		sb_lk_kind kind;
		if (!kind_of(row, &kind))
			continue;
		sb_lk_sip_object *o = g_new0(sb_lk_sip_object, 1);
		o->id = g_strdup(json_string_value(json_object_get(row, "id")));
		o->kind = kind;
		o->body = json_incref(json_object_get(row, "body"));
		o->created_ms = json_integer_value(json_object_get(row, "created"));
		o->updated_ms = json_integer_value(json_object_get(row, "updated"));
		if (kind == SB_LK_INBOUND)
			check_inbound(o->body, &o->allowed);
		g_ptr_array_add(cache.objects[kind], o);
	}
	if (!rows)
		JANUS_LOG(LOG_WARN, "[switchboard] no store: LiveKit SIP trunks and dispatch rules "
		                    "are kept in memory only\n");
	json_decref(rows);
	cache.loaded = true;
}

void sb_lk_sip_objects_start(void)
{
	g_mutex_lock(&cache.lock);
	for (int k = 0; k < SB_LK_KINDS; k++)
		cache.objects[k] = g_ptr_array_new_with_free_func(object_free);
	load();
	g_mutex_unlock(&cache.lock);
	sb_ops_register(ops, G_N_ELEMENTS(ops));
}

void sb_lk_sip_objects_stop(void)
{
	g_mutex_lock(&cache.lock);
	for (int k = 0; k < SB_LK_KINDS; k++)
		g_clear_pointer(&cache.objects[k], g_ptr_array_unref);
	cache.loaded = false;
	g_mutex_unlock(&cache.lock);
}
