/* API key comparison and join tokens (JWT HS256). */
#include <glib.h>
#include <string.h>

#include "api/api.h"

#define SECRET "unit-test-secret"

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
	char *token = sb_auth_token_issue(SECRET, "sales-demo", "u1", "Alice", "agent", 60);
	g_assert_nonnull(token);
	sb_join_claims c;
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "sales-demo", &c), ==, SB_TOKEN_OK);
	g_assert_cmpstr(c.room, ==, "sales-demo");
	g_assert_cmpstr(c.identity, ==, "u1");
	g_assert_cmpstr(c.name, ==, "Alice");
	g_assert_cmpstr(c.role, ==, "agent");
	g_assert_cmpint(c.expires, >, 0);
	sb_join_claims_clear(&c);
	/* Another room, another secret. */
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "other", &c), ==, SB_TOKEN_WRONG_ROOM);
	g_assert_cmpint(sb_auth_token_verify("wrong", token, "sales-demo", &c), ==,
	                SB_TOKEN_BAD_SIGNATURE);
	g_free(token);
}

static void test_token_expired(void)
{
	char *token = sb_auth_token_issue(SECRET, "r", NULL, NULL, NULL, -5);
	sb_join_claims c;
	g_assert_cmpint(sb_auth_token_verify(SECRET, token, "r", &c), ==, SB_TOKEN_EXPIRED);
	g_free(token);
}

static void test_token_forged(void)
{
	char *token = sb_auth_token_issue(SECRET, "r", "u", "n", "caller", 60);
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
	g_test_add_func("/auth/random-secret", test_random_secret);
	return g_test_run();
}
