/* API key comparison and join tokens (JWT HS256). */
#include <glib.h>
#include <string.h>

#include <jwt.h>
#include <stdlib.h>
#include <time.h>

#include "api/api.h"

#define SECRET "unit-test-secret"

static char *issue(const char *room, const char *identity, const char *name, const char *role,
                   int ttl)
{
	sb_join_claims c = {.room = (char *)room,
	                    .identity = (char *)identity,
	                    .name = (char *)name,
	                    .role = (char *)role};
	return sb_auth_token_sign(SECRET, &c, ttl);
}

static void test_equal(void)
{
	g_assert_true(sb_auth_equal("abc", "abc"));
	g_assert_false(sb_auth_equal("abc", "abd"));
	g_assert_false(sb_auth_equal("abc", "abcd"));
	g_assert_false(sb_auth_equal("", "a"));
	g_assert_false(sb_auth_equal(NULL, "a"));
	g_assert_true(sb_auth_bearer_ok("Bearer k3y", "k3y"));
	g_assert_true(sb_auth_bearer_ok("bearer   k3y", "k3y"));
	g_assert_false(sb_auth_bearer_ok("Basic k3y", "k3y"));
	g_assert_false(sb_auth_bearer_ok("Bearer k3", "k3y"));
	g_assert_false(sb_auth_bearer_ok(NULL, "k3y"));
	g_assert_false(sb_auth_bearer_ok("Bearer ", ""));
}

static void test_token_roundtrip(void)
{
	char *token = issue("sales-demo", "u1", "Alice", "agent", 60);
	g_assert_nonnull(token);
	sb_join_claims c;
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "sales-demo", &c), ==, SB_TOKEN_OK);
	g_assert_cmpstr(c.room, ==, "sales-demo");
	g_assert_cmpstr(c.identity, ==, "u1");
	g_assert_cmpstr(c.name, ==, "Alice");
	g_assert_cmpstr(c.role, ==, "agent");
	g_assert_cmpint(c.expires, >, 0);
	g_assert_false(c.room_admin);
	g_assert_false(c.console);
	g_assert_false(c.dial);
	sb_join_claims_clear(&c);
	/* Another room, another secret. */
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "other", &c), ==, SB_TOKEN_WRONG_ROOM);
	g_assert_cmpint(sb_auth_token_verify("wrong", token, "sales-demo", &c), ==,
	                SB_TOKEN_BAD_SIGNATURE);
	g_free(token);
}

static void test_token_expired(void)
{
	char *token = issue("r", NULL, NULL, NULL, -5);
	sb_join_claims c;
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "r", &c), ==, SB_TOKEN_EXPIRED);
	g_free(token);
}

static void test_token_forged(void)
{
	char *token = issue("r", "u", "n", "caller", 60);
	sb_join_claims c;
	/* Flip one character of the payload: the signature no longer holds. */
	char *dot = strchr(token, '.');
	dot[3] = dot[3] == 'A' ? 'B' : 'A';
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "r", &c), !=, SB_TOKEN_OK);
	g_free(token);
	/* "alg":"none" is refused outright. */
	const char *none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
	                   "eyJyb29tIjoiciIsImV4cCI6OTk5OTk5OTk5OX0.";
	g_assert_cmpint(sb_auth_token_verify(SECRET, none, "r", &c), ==, SB_TOKEN_MALFORMED);
	g_assert_cmpint(sb_auth_token_verify(SECRET, "garbage", "r", &c), ==, SB_TOKEN_MALFORMED);
	g_assert_cmpint(sb_auth_token_verify(SECRET, "", "r", &c), ==, SB_TOKEN_MALFORMED);
	g_assert_cmpint(sb_auth_token_verify(SECRET, "a.b.c", "r", &c), !=, SB_TOKEN_OK);
}

/* Grants travel in the token, and only as JSON true. */
static void test_token_grants(void)
{
	sb_join_claims want = {.room = "desk-ann", .identity = "ann", .role = "agent",
	                       .room_admin = true, .console = true, .dial = true};
	char *token = sb_auth_token_sign(SECRET, &want, 60);
	sb_join_claims c;
	/* NULL: any room (a console token on REST). */
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, NULL, &c), ==, SB_TOKEN_OK);
	g_assert_cmpstr(c.room, ==, "desk-ann");
	g_assert_true(c.room_admin);
	g_assert_true(c.console);
	g_assert_true(c.dial);
	sb_join_claims_clear(&c);
	g_free(token);
	/* A token someone made with "admin": "true" (a string) grants nothing. */
	jwt_t *jwt = NULL;
	g_assert_cmpint(jwt_new(&jwt), ==, 0);
	jwt_add_grant(jwt, "room", "r");
	jwt_add_grant(jwt, "admin", "true");
	jwt_add_grant(jwt, "dial", "1");
	jwt_add_grant(jwt, "scope", "Console");
	jwt_add_grant_int(jwt, "exp", (long)time(NULL) + 60);
	jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)SECRET, (int)strlen(SECRET));
	char *encoded = jwt_encode_str(jwt);
	g_assert_cmpint(sb_auth_token_verify(SECRET, encoded, "r", &c), ==, SB_TOKEN_OK);
	g_assert_false(c.room_admin);
	g_assert_false(c.dial);
	g_assert_false(c.console);
	sb_join_claims_clear(&c);
	free(encoded);
	jwt_free(jwt);
}

static void test_random_secret(void)
{
	char *a = sb_auth_random_secret(), *b = sb_auth_random_secret();
	g_assert_cmpuint(strlen(a), >=, 42);
	g_assert_cmpstr(a, !=, b);
	g_assert_null(strpbrk(a, "+/="));
	g_free(a);
	g_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/auth/equal-and-bearer", test_equal);
	g_test_add_func("/auth/token-roundtrip", test_token_roundtrip);
	g_test_add_func("/auth/token-expired", test_token_expired);
	g_test_add_func("/auth/token-forged", test_token_forged);
	g_test_add_func("/auth/token-grants", test_token_grants);
	g_test_add_func("/auth/random-secret", test_random_secret);
	return g_test_run();
}
