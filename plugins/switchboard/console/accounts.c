/* Human agents' own credentials (docs/security.md, "human agent"): the
 * accounts the operator makes, the console's sign-in with an agent id and
 * a password, and single sign-on with a token the operator's own back end
 * signs.  Either ends as the operator's agent_signin would: a desk and a
 * console token whose role and dial grant come from the account (or the
 * sign-on token), never from the request.
 *
 * Accounts live in the store (REST and the ops below manage them; several
 * nodes sharing a PostgreSQL database share them) and, read-only, in
 * [console] accounts (hashes only), which works with the store off.
 * Passwords are hashed with yescrypt (libxcrypt).  A hash costs ~20 ms of
 * CPU, so hashing runs on a thread of its own ("sb accounts"), never on
 * the HTTP thread, with a bound on what waits for it.  An unknown agent
 * and a wrong password get the same answer after the same work (a dummy
 * hash is checked), and failed sign-ins are limited per agent id and per
 * source address, before any hashing. */
#include "console/console_private.h"

#include <crypt.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <debug.h>

#include "api/api.h"
#include "core/core.h"
#include "store/store.h"

#define PASSWORD_MAX 1024
#define PENDING_MAX 64     /* sign-ins and account changes waiting to hash */
#define FAILURES_MAX 10000 /* agent ids and addresses with recent failures */
#define SSO_SECRET_MIN 32  /* bytes, as for every HS256 secret */

typedef struct config_account {
	char *id, *name, *role, *hash;
	bool dial;
} config_account;

typedef struct failure {
	unsigned count;
	gint64 since_us; /* start of its window (monotonic) */
} failure;

static struct {
	GHashTable *config; /* agent id -> config_account*; read-only after start */
	char *dummy_hash;   /* checked when there is no account: same work */
	long password_min;
	long per_agent, per_address, window_s;
	char *sso_secret;
	long sso_max_ttl;
} cfg;

static GMutex mutex;         /* leaf: failures, pending and the counters */
static GHashTable *failures; /* "agent:<id>" | "addr:<ip>" -> failure* */
static unsigned pending;
static guint64 hashes, signins_ok, signins_failed, signins_limited;

static GMutex loop_mutex; /* guards loop for the threads that post to it */
static sb_loop *loop;     /* "sb accounts": hashing and the store's reads */

static const char *str(json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

/* ---- hashing ---- */

/* crypt_r(3) into a fresh string (NULL: the setting is not usable). */
static char *hash_with(const char *password, const char *setting)
{
	struct crypt_data *cd = g_new0(struct crypt_data, 1);
	const char *h = crypt_r(password, setting, cd);
	char *out = h && h[0] != '*' ? g_strdup(h) : NULL;
	memset(cd, 0, sizeof(*cd)); /* the password went through it */
	g_free(cd);
	g_mutex_lock(&mutex);
	hashes++;
	g_mutex_unlock(&mutex);
	return out;
}

/* A new yescrypt hash of password (default cost, salt from the OS). */
static char *hash_new(const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)))
		return NULL;
	return hash_with(password, setting);
}

/* Is hash a crypt(3) string of a method libxcrypt still recommends (no
 * DES, no MD5)?  Config hashes are checked at start. */
static bool hash_usable(const char *hash)
{
	return hash && g_str_has_prefix(hash, "$") && crypt_checksalt(hash) == CRYPT_SALT_OK;
}

static bool password_matches(const char *password, const char *hash)
{
	char *h = hash_with(password, hash);
	bool ok = h && sb_auth_equal(h, hash);
	if (h) {
		memset(h, 0, strlen(h));
		g_free(h);
	}
	return ok;
}

/* ---- limits on failed sign-ins ---- */

static failure *failure_get_locked(const char *key, gint64 now, bool create)
{
	failure *f = g_hash_table_lookup(failures, key);
	if (f && now - f->since_us >= cfg.window_s * G_USEC_PER_SEC) {
		f->count = 0;
		f->since_us = now;
	}
	if (f || !create)
		return f;
	if (g_hash_table_size(failures) >= FAILURES_MAX) {
		/* Forget the expired ones; still full, forget any one (an
		 * attacker with that many addresses gains a few tries). */
		GHashTableIter it;
		gpointer v;
		g_hash_table_iter_init(&it, failures);
		while (g_hash_table_iter_next(&it, NULL, &v))
			if (now - ((failure *)v)->since_us >= cfg.window_s * G_USEC_PER_SEC)
				g_hash_table_iter_remove(&it);
		if (g_hash_table_size(failures) >= FAILURES_MAX) {
			g_hash_table_iter_init(&it, failures);
			if (g_hash_table_iter_next(&it, NULL, NULL))
				g_hash_table_iter_remove(&it);
		}
	}
	f = g_new0(failure, 1);
	f->since_us = now;
	g_hash_table_insert(failures, g_strdup(key), f);
	return f;
}

/* NULL, or the limit refusal to answer (counted). */
static json_t *limited(const char *agent_id, const char *address)
{
	char akey[SB_AGENT_ID_MAX + 8], ikey[80];
	g_snprintf(akey, sizeof(akey), "agent:%s", agent_id ? agent_id : "");
	g_snprintf(ikey, sizeof(ikey), "addr:%s", address ? address : "?");
	gint64 now = g_get_monotonic_time();
	g_mutex_lock(&mutex);
	failure *a = agent_id ? failure_get_locked(akey, now, false) : NULL;
	failure *i = failure_get_locked(ikey, now, false);
	bool by_agent = a && a->count >= (unsigned)cfg.per_agent;
	bool by_address = !by_agent && i && i->count >= (unsigned)cfg.per_address;
	if (by_agent || by_address)
		signins_limited++;
	g_mutex_unlock(&mutex);
	if (by_agent)
		return sb_ops_limit_error("signin_failures_per_agent",
		                          "Too many failed sign-ins for this agent: try again in a "
		                          "few minutes ([console] signin_failures_per_agent = %ld)",
		                          cfg.per_agent);
	if (by_address)
		return sb_ops_limit_error(
		        "signin_failures_per_address",
		        "Too many failed sign-ins from this address: try again in "
		        "a few minutes ([console] signin_failures_per_address = %ld)",
		        cfg.per_address);
	return NULL;
}

static void failed(const char *agent_id, const char *address)
{
	char key[96];
	gint64 now = g_get_monotonic_time();
	g_mutex_lock(&mutex);
	signins_failed++;
	if (agent_id) {
		g_snprintf(key, sizeof(key), "agent:%s", agent_id);
		failure_get_locked(key, now, true)->count++;
	}
	g_snprintf(key, sizeof(key), "addr:%s", address ? address : "?");
	failure_get_locked(key, now, true)->count++;
	g_mutex_unlock(&mutex);
}

/* A good password clears the agent's count (not the address's: one valid
 * account must not buy an address more guesses at the others). */
static void succeeded(const char *agent_id)
{
	char key[96];
	g_snprintf(key, sizeof(key), "agent:%s", agent_id);
	g_mutex_lock(&mutex);
	signins_ok++;
	g_hash_table_remove(failures, key);
	g_mutex_unlock(&mutex);
}

/* ---- the work queue ---- */

typedef enum { JOB_SIGNIN, JOB_CREATE, JOB_LIST, JOB_DELETE } job_kind;

typedef struct job {
	job_kind kind;
	char *agent_id, *password, *address, *name, *role;
	bool dial;
	sb_rest_reply *reply; /* JOB_SIGNIN: the REST answer */
	sb_op_later *later;   /* the others: the op's answer */
} job;

static void answer_op(job *j, json_t *answer)
{
	sb_op_later *later = j->later;
	j->later = NULL;
	if (later)
		later->finish(later, answer);
	else
		json_decref(answer);
}

static void answer_rest(job *j, int status, json_t *body)
{
	sb_rest_reply *reply = j->reply;
	j->reply = NULL;
	if (reply)
		sb_rest_finish(reply, status, body, NULL, NULL);
	else
		json_decref(body);
}

/* Whatever was not answered (the thread stopped first) is answered now. */
static void job_free(gpointer data)
{
	job *j = data;
	if (j->reply)
		answer_rest(j, 503,
		            sb_http_error("unavailable", "Shutting down: sign in again shortly"));
	if (j->later)
		answer_op(j, sb_ops_error_named(SB_ERROR_UNKNOWN, "unavailable", 503,
		                                "Shutting down: try again shortly"));
	if (j->password) {
		memset(j->password, 0, strlen(j->password));
		g_free(j->password);
	}
	g_free(j->agent_id);
	g_free(j->address);
	g_free(j->name);
	g_free(j->role);
	g_free(j);
	g_mutex_lock(&mutex);
	pending--;
	g_mutex_unlock(&mutex);
}

static job *job_new(job_kind kind)
{
	job *j = g_new0(job, 1);
	j->kind = kind;
	g_mutex_lock(&mutex);
	pending++;
	g_mutex_unlock(&mutex);
	return j;
}

static bool too_busy(void)
{
	g_mutex_lock(&mutex);
	bool busy = pending >= PENDING_MAX;
	g_mutex_unlock(&mutex);
	return busy;
}

static gboolean job_run(gpointer data);

/* Hands j to the accounts thread (which frees it); false when it is gone
 * (j answered "shutting down" and freed). */
static bool job_queue(job *j)
{
	g_mutex_lock(&loop_mutex);
	sb_loop *l = sb_loop_ref(loop);
	g_mutex_unlock(&loop_mutex);
	bool ok = sb_loop_invoke(l, job_run, j, job_free);
	sb_loop_unref(l);
	return ok;
}

/* ---- looking accounts up (accounts thread) ---- */

static config_account *config_find(const char *agent_id)
{
	return cfg.config && agent_id ? g_hash_table_lookup(cfg.config, agent_id) : NULL;
}

/* The account (with its hash), json_null() when there is none, NULL with
 * *error when the store failed.  Config accounts come first. */
static json_t *account_find(const char *agent_id, char **error)
{
	config_account *c = config_find(agent_id);
	if (c)
		return json_pack("{s:s, s:s?, s:s, s:b, s:s}", "agentId", c->id, "name", c->name,
		                 "role", c->role, "dial", c->dial, "hash", c->hash);
	if (!sb_store_accounts_available())
		return json_null();
	return sb_store_account_get(agent_id, error);
}

/* The operator's sign-in for the account: desk and console token. */
static json_t *sign_in(const char *agent_id, const char *name, const char *role, bool dial)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "request", "agent_signin", "agentId",
	                        agent_id, "role", role, "dial", dial);
	if (name)
		json_object_set_new(req, "name", json_string(name));
	return sb_ops_run_trusted(req);
}

/* The answer every failed sign-in gets, whatever failed. */
static json_t *signin_refused(void)
{
	return sb_http_error("signin_failed", "Wrong agent id or password");
}

static void run_signin(job *j)
{
	char *error = NULL;
	json_t *account = account_find(j->agent_id, &error);
	if (!account) {
		JANUS_LOG(LOG_WARN, "[switchboard] console sign-in: accounts unavailable: %s\n",
		          error ? error : "?");
		g_free(error);
		answer_rest(j, 503,
		            sb_http_error("store_unavailable",
		                          "Accounts cannot be read now: try again shortly"));
		return;
	}
	const char *hash = json_is_object(account) ? str(account, "hash") : NULL;
	/* No account: the same work against a dummy hash, the same answer. */
	bool ok = password_matches(j->password, hash_usable(hash) ? hash : cfg.dummy_hash) &&
	          hash_usable(hash);
	if (!ok) {
		failed(j->agent_id, j->address);
		json_decref(account);
		answer_rest(j, 401, signin_refused());
		return;
	}
	succeeded(j->agent_id);
	json_t *r = sign_in(j->agent_id, str(account, "name"), str(account, "role"),
	                    json_is_true(json_object_get(account, "dial")));
	json_decref(account);
	json_t *out = NULL;
	int status = sb_rest_op_answer(r, 200, &out);
	answer_rest(j, status, out);
}

static json_t *store_error(const char *what, char *error)
{
	json_t *e = sb_ops_error_named(SB_ERROR_UNKNOWN, "store_unavailable", 503, "%s: %s", what,
	                               error ? error : "?");
	g_free(error);
	return e;
}

static json_t *run_create(job *j)
{
	char *hash = hash_new(j->password);
	if (!hash)
		return sb_ops_error(SB_ERROR_UNKNOWN, "Could not hash the password");
	char *error = NULL;
	gint64 now = g_get_real_time() / 1000;
	sb_account_result rc =
	        sb_store_account_add(j->agent_id, j->name, j->role, j->dial, hash, now, &error);
	memset(hash, 0, strlen(hash));
	g_free(hash);
	if (rc == SB_ACCOUNT_EXISTS)
		return sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "account_exists", 409,
		                          "%s has an account already", j->agent_id);
	if (rc != SB_ACCOUNT_OK)
		return store_error("The account could not be stored", error);
	JANUS_LOG(LOG_INFO, "[switchboard] console account %s made (%s%s)\n", j->agent_id, j->role,
	          j->dial ? ", dial" : "");
	json_t *r = sb_ops_answer("account");
	json_object_set_new(r, "account",
	                    json_pack("{s:s, s:s?, s:s, s:b, s:I, s:s}", "agentId", j->agent_id,
	                              "name", j->name, "role", j->role, "dial", j->dial, "created",
	                              (json_int_t)now, "source", "store"));
	return r;
}

static json_t *run_list(void)
{
	json_t *list = json_array();
	GList *ids = cfg.config
	                     ? g_list_sort(g_hash_table_get_keys(cfg.config), (GCompareFunc)strcmp)
	                     : NULL;
	for (GList *l = ids; l; l = l->next) {
		config_account *c = g_hash_table_lookup(cfg.config, l->data);
		json_array_append_new(list, json_pack("{s:s, s:s?, s:s, s:b, s:s}", "agentId",
		                                      c->id, "name", c->name, "role", c->role,
		                                      "dial", c->dial, "source", "config"));
	}
	g_list_free(ids);
	if (sb_store_accounts_available()) {
		char *error = NULL;
		json_t *stored = sb_store_accounts_list(&error);
		if (!stored) {
			json_decref(list);
			return store_error("Accounts cannot be read now", error);
		}
		json_t *a;
		size_t i;
		json_array_foreach(stored, i, a)
		{
			if (config_find(str(a, "agentId")))
				continue; /* the config's wins at sign-in */
			json_object_set_new(a, "source", json_string("store"));
			json_array_append(list, a);
		}
		json_decref(stored);
	}
	json_t *r = sb_ops_answer("accounts");
	json_object_set_new(r, "accounts", list);
	return r;
}

static json_t *run_delete(job *j)
{
	char *error = NULL;
	sb_account_result rc = sb_store_account_delete(j->agent_id, &error);
	if (rc == SB_ACCOUNT_NOT_FOUND)
		return sb_ops_error_named(SB_ERROR_NO_SUCH_PARTICIPANT, "account_not_found", 404,
		                          "%s has no account", j->agent_id);
	if (rc != SB_ACCOUNT_OK)
		return store_error("The account could not be deleted", error);
	JANUS_LOG(LOG_INFO, "[switchboard] console account %s deleted\n", j->agent_id);
	json_t *r = sb_ops_answer("account_deleted");
	json_object_set_new(r, "agentId", json_string(j->agent_id));
	return r;
}

static json_t *run(job *j)
{
	switch (j->kind) {
	case JOB_CREATE:
		return run_create(j);
	case JOB_LIST:
		return run_list();
	case JOB_DELETE:
		return run_delete(j);
	case JOB_SIGNIN:
		break;
	}
	return NULL;
}

/* On the accounts thread. */
static gboolean job_run(gpointer data)
{
	job *j = data;
	if (j->kind == JOB_SIGNIN)
		run_signin(j);
	else
		answer_op(j, run(j));
	return G_SOURCE_REMOVE;
}

/* An op's job: answered later where the caller can wait, else here and
 * now (the Admin API: a short wait on its request thread). */
static json_t *op_job(job *j, sb_op_ctx *ctx)
{
	j->later = sb_op_take_later(ctx);
	if (!j->later) {
		json_t *r = run(j);
		job_free(j);
		return r;
	}
	job_queue(j);
	return NULL;
}

/* ---- ops (the operator's) ---- */

static json_t *config_owned(const char *agent_id)
{
	return sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "account_in_config", 409,
	                          "%s is defined in [console] accounts: change it there", agent_id);
}

static json_t *check_agent_id(json_t *body)
{
	const char *id = str(body, "agentId");
	if (sb_presence_agent_id_valid(id))
		return NULL;
	return sb_ops_error(json_object_get(body, "agentId") ? SB_ERROR_INVALID_ELEMENT
	                                                     : SB_ERROR_MISSING_ELEMENT,
	                    "agentId must be 1-%d of A-Z a-z 0-9 . _ -", SB_AGENT_ID_MAX);
}

static json_t *store_off(void)
{
	return sb_ops_error_named(SB_ERROR_INVALID_REQUEST, "store_unavailable", 503,
	                          "Accounts are kept in the store, which is off: turn [store] on, "
	                          "or list accounts in [console] accounts");
}

static json_t *op_account_create(json_t *body, sb_op_ctx *ctx)
{
	json_t *err = check_agent_id(body);
	if (err)
		return err;
	SB_OPS_CHECK_STRING(body, "name", false, SB_DISPLAY_MAX);
	const char *role = str(body, "role") ? str(body, "role") : "agent";
	if (json_object_get(body, "role") && !str(body, "role"))
		role = "";
	if (strcmp(role, "agent") && strcmp(role, "supervisor"))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "role must be agent or supervisor");
	json_t *dial = json_object_get(body, "dial");
	if (dial && !json_is_boolean(dial))
		return sb_ops_error(SB_ERROR_INVALID_ELEMENT, "dial must be a boolean");
	json_t *password = json_object_get(body, "password");
	if (!json_is_string(password))
		return sb_ops_error(password ? SB_ERROR_INVALID_ELEMENT : SB_ERROR_MISSING_ELEMENT,
		                    "password must be a string");
	size_t len = g_utf8_strlen(json_string_value(password), -1);
	if (len < (size_t)cfg.password_min || json_string_length(password) > PASSWORD_MAX ||
	    strlen(json_string_value(password)) != json_string_length(password))
		return sb_ops_error_named(SB_ERROR_INVALID_ELEMENT, "weak_password", 400,
		                          "password must be %ld to %d characters ([console] "
		                          "password_min_length)",
		                          cfg.password_min, PASSWORD_MAX);
	const char *id = str(body, "agentId");
	if (config_find(id))
		return config_owned(id);
	if (!sb_store_accounts_available())
		return store_off();
	if (too_busy())
		return sb_ops_limit_error("signin_pending", "Too many sign-ins at once: try again");
	job *j = job_new(JOB_CREATE);
	j->agent_id = g_strdup(id);
	j->name = g_strdup(str(body, "name"));
	j->role = g_strdup(role);
	j->dial = json_is_true(dial);
	j->password = g_strdup(json_string_value(password));
	return op_job(j, ctx);
}

static json_t *op_accounts(json_t *body, sb_op_ctx *ctx)
{
	(void)body;
	return op_job(job_new(JOB_LIST), ctx);
}

static json_t *op_account_delete(json_t *body, sb_op_ctx *ctx)
{
	json_t *err = check_agent_id(body);
	if (err)
		return err;
	const char *id = str(body, "agentId");
	if (config_find(id))
		return config_owned(id);
	if (!sb_store_accounts_available())
		return store_off();
	job *j = job_new(JOB_DELETE);
	j->agent_id = g_strdup(id);
	return op_job(j, ctx);
}

static const sb_op account_ops[] = {
        {"account_create", op_account_create, 0, SB_ACCESS_OPERATOR},
        {"accounts", op_accounts, 0, SB_ACCESS_OPERATOR},
        {"account_delete", op_account_delete, 0, SB_ACCESS_OPERATOR},
};

/* ---- single sign-on ---- */

typedef struct sso_claims {
	char *agent_id, *name, *role;
	bool dial;
} sso_claims;

static void sso_claims_clear(sso_claims *c)
{
	g_free(c->agent_id);
	g_free(c->name);
	g_free(c->role);
	memset(c, 0, sizeof(*c));
}

/* NULL when token is a valid sign-on token (claims filled), else why not. */
static const char *sso_verify(const char *token, sso_claims *out)
{
	memset(out, 0, sizeof(*out));
	if (!token || !*token || strlen(token) > 4096)
		return "malformed token";
	sb_token_status status;
	jwt_t *jwt = sb_auth_jwt_decode_hs256(cfg.sso_secret, token, &status);
	if (!jwt)
		return status == SB_TOKEN_BAD_SIGNATURE
		               ? "bad signature"
		               : "malformed token (a JWT signed with HS256)";
	const char *why = NULL;
	long exp = jwt_get_grant_int(jwt, "exp");
	long now = (long)time(NULL);
	const char *sub = jwt_get_grant(jwt, "sub");
	const char *role = jwt_get_grant(jwt, "role");
	const char *name = jwt_get_grant(jwt, "name");
	if (exp <= 0)
		why = "exp is required";
	else if (exp <= now)
		why = "token expired";
	else if (exp > now + cfg.sso_max_ttl)
		why = "exp too far ahead ([console] sso_max_ttl)";
	else if (!sb_presence_agent_id_valid(sub))
		why = "sub must be an agent id (1-48 of A-Z a-z 0-9 . _ -)";
	else if (role && strcmp(role, "agent") && strcmp(role, "supervisor"))
		why = "role must be agent or supervisor";
	else if (name && (!*name || strlen(name) > SB_DISPLAY_MAX))
		why = "name is too long";
	if (!why) {
		out->agent_id = g_strdup(sub);
		out->role = g_strdup(role ? role : "agent");
		out->name = g_strdup(name);
		/* Only a JSON true grants. */
		out->dial = jwt_get_grant_bool(jwt, "dial") == 1;
	}
	jwt_free(jwt);
	return why;
}

/* ---- REST ---- */

static int refuse(json_t *error, json_t **out)
{
	int status = sb_rest_op_failed(error, out);
	json_decref(error);
	return status;
}

static int sso_signin(const sb_rest_request *req, json_t **out)
{
	if (!cfg.sso_secret)
		return sb_rest_error(out, 401, "signin_failed",
		                     "Single sign-on is not configured ([console] sso_secret)");
	json_t *limit = limited(NULL, req->remote_ip);
	if (limit)
		return refuse(limit, out);
	sso_claims c;
	const char *why = sso_verify(str(req->body, "token"), &c);
	if (why) {
		failed(NULL, req->remote_ip);
		return sb_rest_error(out, 401, "signin_failed", "Sign-on token refused: %s", why);
	}
	g_mutex_lock(&mutex);
	signins_ok++;
	g_mutex_unlock(&mutex);
	json_t *r = sign_in(c.agent_id, c.name, c.role, c.dial);
	sso_claims_clear(&c);
	return sb_rest_op_answer(r, 200, out);
}

static int password_signin(const sb_rest_request *req, json_t **out)
{
	const char *id = str(req->body, "agentId");
	json_t *password = json_object_get(req->body, "password");
	if (!sb_presence_agent_id_valid(id))
		return sb_rest_error(out, 400, "invalid_request",
		                     "agentId must be 1-%d of A-Z a-z 0-9 . _ -", SB_AGENT_ID_MAX);
	if (!json_is_string(password) || json_string_length(password) == 0 ||
	    json_string_length(password) > PASSWORD_MAX ||
	    strlen(json_string_value(password)) != json_string_length(password))
		return sb_rest_error(out, 400, "invalid_request",
		                     "password must be a string of 1 to %d characters",
		                     PASSWORD_MAX);
	json_t *limit = limited(id, req->remote_ip);
	if (limit)
		return refuse(limit, out);
	if (too_busy())
		return refuse(sb_ops_limit_error("signin_pending",
		                                 "Too many sign-ins at once: try again"),
		              out);
	job *j = job_new(JOB_SIGNIN);
	j->agent_id = g_strdup(id);
	j->password = g_strdup(json_string_value(password));
	j->address = g_strdup(req->remote_ip);
	j->reply = req->reply;
	job_queue(j); /* answered there, or at once when it is gone */
	return 0;
}

/* POST /api/agents/signin: public.  {agentId, password} or {token} (single
 * sign-on); the operator's own back end, with the master key, may still
 * sign anyone in as it says ({agentId, role, dial?}: the agent_signin op). */
static int route_signin(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	json_t *body = req->body;
	bool password = body && json_object_get(body, "password");
	bool token = body && json_object_get(body, "token");
	if (password && token)
		return sb_rest_error(out, 400, "invalid_request",
		                     "Send a password or a sign-on token, not both");
	if (token)
		return sso_signin(req, out);
	if (password)
		return password_signin(req, out);
	if (req->who.kind == SB_WHO_OPERATOR)
		return sb_rest_run_op(req, "agent_signin", NULL, 200, out);
	return sb_rest_error(out, 401, "signin_failed",
	                     "Sign in with {agentId, password} or a sign-on {token}");
}

static int route_account_create(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	return sb_rest_run_op(req, "account_create", NULL, 201, out);
}

static int route_account_delete(const sb_rest_request *req, json_t **out, char **t, const char **tt)
{
	(void)t, (void)tt;
	return sb_rest_run_op(req, "account_delete", "agentId", 200, out);
}

/* Before the console's own POST /api/agents/{}, which would match too. */
static const sb_rest_route account_routes[] = {
        {"POST", "/api/agents/signin", route_signin, SB_REST_PUBLIC | SB_REST_ASYNC, NULL},
        {"GET", "/api/agents/accounts", NULL, SB_REST_ASYNC, "accounts"},
        {"POST", "/api/agents/accounts", route_account_create, SB_REST_ASYNC, NULL},
        {"DELETE", "/api/agents/accounts/{}", route_account_delete, SB_REST_ASYNC, NULL},
};

static void accounts_metrics(GString *out)
{
	g_mutex_lock(&mutex);
	guint64 ok = signins_ok, bad = signins_failed, lim = signins_limited, h = hashes;
	g_mutex_unlock(&mutex);
	sb_metrics_header(out, "switchboard_console_signins_total", "counter",
	                  "Console sign-ins (password or single sign-on), by result.");
	g_string_append_printf(out,
	                       "switchboard_console_signins_total{result=\"ok\"} %" G_GUINT64_FORMAT
	                       "\nswitchboard_console_signins_total{result=\"failed\"} "
	                       "%" G_GUINT64_FORMAT
	                       "\nswitchboard_console_signins_total{result=\"limited\"} "
	                       "%" G_GUINT64_FORMAT "\n",
	                       ok, bad, lim);
	sb_metrics_value(out, "switchboard_console_password_hashes_total", "counter",
	                 "Passwords hashed (accounts made, sign-ins checked).", (long long)h);
}

/* ---- life ---- */

static void config_account_free(gpointer data)
{
	config_account *c = data;
	g_free(c->id);
	g_free(c->name);
	g_free(c->role);
	g_free(c->hash);
	g_free(c);
}

/* [console] accounts = ({ agent = "…", name = "…", role = "agent",
 * dial = "true", hash = "$y$…" }, …): a bad entry is logged and left out. */
static void load_config_accounts(json_t *section)
{
	json_t *list = json_object_get(section, "accounts"), *a;
	size_t i;
	if (list && !json_is_array(list)) {
		JANUS_LOG(LOG_ERR, "[switchboard] [console] accounts must be a list ( {…}, … )\n");
		return;
	}
	json_array_foreach(list, i, a)
	{
		const char *id = str(a, "agent"), *role = str(a, "role"), *hash = str(a, "hash");
		const char *dial = str(a, "dial");
		if (!role)
			role = "agent";
		const char *bad = !sb_presence_agent_id_valid(id) ? "agent must be an agent id"
		                  : strcmp(role, "agent") && strcmp(role, "supervisor")
		                          ? "role must be agent or supervisor"
		                  : !hash_usable(hash)
		                          ? "hash must be a yescrypt hash (mkpasswd -m "
		                            "yescrypt)"
		                  : dial && strcmp(dial, "true") && strcmp(dial, "false")
		                          ? "dial must be true or false"
		                          : NULL;
		if (bad) {
			JANUS_LOG(LOG_ERR,
			          "[switchboard] [console] accounts entry %zu left out: %s\n",
			          i + 1, bad);
			continue;
		}
		config_account *c = g_new0(config_account, 1);
		c->id = g_strdup(id);
		c->name = g_strdup(str(a, "name"));
		c->role = g_strdup(role);
		c->hash = g_strdup(hash);
		c->dial = dial && !strcmp(dial, "true");
		g_hash_table_replace(cfg.config, c->id, c);
	}
}

bool sb_accounts_start(const sb_settings *settings)
{
	json_t *section = sb_settings_section(settings, "console");
	cfg.password_min = sb_section_int(section, "password_min_length", 12, 8, 256);
	cfg.per_agent = sb_section_int(section, "signin_failures_per_agent", 5, 1, 1000);
	cfg.per_address = sb_section_int(section, "signin_failures_per_address", 20, 1, 100000);
	cfg.window_s = sb_section_int(section, "signin_failure_window", 300, 1, 86400);
	cfg.sso_max_ttl = sb_section_int(section, "sso_max_ttl", 300, 10, 86400);
	const char *sso = sb_section_string(section, "sso_secret", NULL);
	const char *env = g_getenv("SWITCHBOARD_SSO_SECRET");
	if (env && *env)
		sso = env;
	if (sso && strlen(sso) < SSO_SECRET_MIN)
		JANUS_LOG(LOG_ERR,
		          "[switchboard] [console] sso_secret shorter than %d bytes: single "
		          "sign-on is OFF\n",
		          SSO_SECRET_MIN);
	else if (sso && settings->jwt_secret && !strcmp(sso, settings->jwt_secret))
		JANUS_LOG(LOG_ERR, "[switchboard] [console] sso_secret must not be [auth] "
		                   "jwt_secret: single sign-on is OFF\n");
	else if (sso)
		cfg.sso_secret = g_strdup(sso);
	cfg.config = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, config_account_free);
	load_config_accounts(section);
	failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	/* A hash of nothing anyone knows, at the default cost: an unknown
	 * agent's password is checked against it. */
	char *random = sb_auth_random_secret();
	cfg.dummy_hash = hash_new(random);
	g_free(random);
	if (!cfg.dummy_hash) {
		JANUS_LOG(LOG_ERR,
		          "[switchboard] libcrypt has no yescrypt: console sign-in is OFF\n");
		return false;
	}
	sb_loop *l = sb_loop_start("sb accounts", false);
	g_mutex_lock(&loop_mutex);
	loop = l;
	g_mutex_unlock(&loop_mutex);
	sb_ops_register(account_ops, G_N_ELEMENTS(account_ops));
	sb_rest_register(account_routes, G_N_ELEMENTS(account_routes));
	sb_metrics_register("console accounts", accounts_metrics);
	JANUS_LOG(LOG_INFO, "[switchboard] console accounts: %u in config, %s; single sign-on %s\n",
	          g_hash_table_size(cfg.config),
	          sb_store_accounts_available() ? "the rest in the store" : "no store",
	          cfg.sso_secret ? "on" : "off");
	return true;
}

void sb_accounts_stop(void)
{
	g_mutex_lock(&loop_mutex);
	sb_loop *l = loop;
	loop = NULL;
	g_mutex_unlock(&loop_mutex);
	sb_loop_stop(l); /* what waits is answered "shutting down" */
	g_clear_pointer(&cfg.config, g_hash_table_destroy);
	g_clear_pointer(&failures, g_hash_table_destroy);
	g_clear_pointer(&cfg.dummy_hash, g_free);
	g_clear_pointer(&cfg.sso_secret, g_free);
	hashes = signins_ok = signins_failed = signins_limited = 0;
}
