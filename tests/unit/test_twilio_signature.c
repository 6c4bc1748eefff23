/* X-Twilio-Signature against vectors computed independently with Node's
 * crypto (HMAC-SHA1, base64; see tests/lib/twilio.mjs for the same
 * algorithm in JavaScript). */
#include <string.h>

#include <glib.h>

#include "twilio/twilio_private.h"

static GPtrArray *pairs_of(const char *const *kv)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	for (; *kv; kv++)
		g_ptr_array_add(a, g_strdup(*kv));
	return a;
}

static void test_documented_vector(void)
{
	/* Twilio's own documented example, params shuffled. */
	const char *kv[] = {"To",     "+18005551212", "Digits",  "1234",
	                    "From",   "+12349013030", "CallSid", "CA1234567890ABCDE",
	                    "Caller", "+12349013030", NULL};
	GPtrArray *p = pairs_of(kv);
	const char *url = "https://mycompany.com/myapp.php?foo=1&bar=2";
	char *sig = sb_twilio_sign("12345", url, p);
	g_assert_cmpstr(sig, ==, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	g_assert_true(sb_twilio_signature_ok("12345", url, p, sig));
	g_assert_false(sb_twilio_signature_ok("12346", url, p, sig));
	g_assert_false(sb_twilio_signature_ok(
	        "12345", "https://mycompany.com/myapp.php?foo=1&bar=3", p, sig));
	g_assert_false(sb_twilio_signature_ok("12345", url, p, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
	g_assert_false(sb_twilio_signature_ok("12345", url, p, ""));
	g_assert_false(sb_twilio_signature_ok("12345", url, NULL, sig));
	g_free(sig);
	g_ptr_array_unref(p);
}

static void test_repeated_and_encoded(void)
{
	/* Body "b=2&a=x+y&a=%26%C3%A9": repeated names are sorted by value. */
	const char *body = "b=2&a=x+y&a=%26%C3%A9";
	GPtrArray *p = sb_twilio_form_pairs(body, strlen(body));
	g_assert_nonnull(p);
	g_assert_cmpuint(p->len, ==, 6);
	g_assert_cmpstr(p->pdata[3], ==, "x y");
	g_assert_cmpstr(p->pdata[5], ==, "&\xc3\xa9");
	const char *url = "https://example.com:8443/twilio/voice";
	char *sig = sb_twilio_sign("tok", url, p);
	g_assert_cmpstr(sig, ==, "txDdYuhgUCqSRHPG8j5taDnrsDI=");
	/* A non-default port is signed as is: no other form accepted. */
	g_assert_false(sb_twilio_signature_ok("tok", "https://example.com/twilio/voice", p, sig));
	char *why = NULL;
	g_assert_true(sb_twilio_request_ok("tok", url, body, strlen(body), true, sig, &why));
	g_assert_null(why);
	g_free(sig);
	g_ptr_array_unref(p);
	g_assert_null(sb_twilio_form_pairs("a=%zz", 5));
	g_assert_null(sb_twilio_form_pairs("a=%2", 4));
	g_assert_null(sb_twilio_form_pairs("a=%00", 5));
}

static void test_default_port(void)
{
	const char *kv[] = {"a", "1", NULL};
	GPtrArray *p = pairs_of(kv);
	/* Signed without the port / with :443: both forms of the URL pass. */
	g_assert_true(sb_twilio_signature_ok("tok", "https://example.com/twilio/voice", p,
	                                     "os1u56IL2CruaqhrLNDQU2sN+ds="));
	g_assert_true(sb_twilio_signature_ok("tok", "https://example.com:443/twilio/voice", p,
	                                     "os1u56IL2CruaqhrLNDQU2sN+ds="));
	g_assert_true(sb_twilio_signature_ok("tok", "https://example.com/twilio/voice", p,
	                                     "MIgdyA2jpZ3sx/il5RqURGVwvlI="));
	g_assert_false(sb_twilio_signature_ok("tok", "https://example.com:444/twilio/voice", p,
	                                      "os1u56IL2CruaqhrLNDQU2sN+ds="));
	g_ptr_array_unref(p);
}

static void test_body_sha256(void)
{
	const char *body = "{\"property\": \"value\", \"boolean\": true}";
	const char *url = "https://mycompany.com/myapp.php?bodySHA256="
	                  "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
	char *why = NULL;
	g_assert_true(sb_twilio_request_ok("12345", url, body, strlen(body), false,
	                                   "y77kIzt2vzLz71DgmJGsen2scGs=", &why));
	/* Body changed: the hash no longer matches. */
	const char *other = "{\"property\": \"value\", \"boolean\": false}";
	g_assert_false(sb_twilio_request_ok("12345", url, other, strlen(other), false,
	                                    "y77kIzt2vzLz71DgmJGsen2scGs=", &why));
	g_assert_cmpstr(why, ==, "body does not match bodySHA256");
	g_clear_pointer(&why, g_free);
	g_assert_false(sb_twilio_request_ok("12345", url, body, strlen(body), false, NULL, &why));
	g_assert_cmpstr(why, ==, "missing X-Twilio-Signature");
	g_clear_pointer(&why, g_free);
	/* A JSON body whose URL has no bodySHA256: the signature (over the URL
	 * alone) is right, but nothing covers the body, so it is refused. */
	const char *bare = "https://mycompany.com/myapp.php";
	char *url_only = sb_twilio_sign("12345", bare, NULL);
	g_assert_true(sb_twilio_request_ok("12345", bare, NULL, 0, false, url_only, &why));
	g_assert_false(sb_twilio_request_ok("12345", bare, body, strlen(body), false, url_only,
	                                    &why));
	g_assert_cmpstr(why, ==, "a body that is not a form needs bodySHA256 in the URL");
	g_free(why);
	g_free(url_only);
}

static void test_equal(void)
{
	g_assert_true(sb_twilio_equal("abc", "abc"));
	g_assert_false(sb_twilio_equal("abc", "abd"));
	g_assert_false(sb_twilio_equal("abc", "ab"));
	g_assert_false(sb_twilio_equal("ab", "abc"));
	g_assert_false(sb_twilio_equal(NULL, "abc"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/twilio/signature/documented", test_documented_vector);
	g_test_add_func("/twilio/signature/repeated", test_repeated_and_encoded);
	g_test_add_func("/twilio/signature/port", test_default_port);
	g_test_add_func("/twilio/signature/body_sha256", test_body_sha256);
	g_test_add_func("/twilio/signature/equal", test_equal);
	return g_test_run();
}
