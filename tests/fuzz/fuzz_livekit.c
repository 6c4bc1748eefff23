/* libFuzzer target for LiveKit access tokens (livekit/token.c), which
 * strangers send on /twirp/… and the Janus API's join.  Two inputs from
 * one: the bytes as a whole token, and the bytes as the claims of a token
 * correctly signed with a configured key (so the claim reader is reached).
 * Properties: nothing crashes or leaks; a token made without the secret
 * never verifies; a verified token names the key it was signed with and
 * had an exp. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "../unit/livekit_jwt.h"
#include "livekit/livekit_private.h"

#define KEY "APIfuzz"
#define SECRET "fuzz-secret-0123456789abcdefghijklmnop"
#define NOW 1796457039

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static GHashTable *keys;
	if (!keys) {
		int skipped;
		keys = sb_lk_keys_new(NULL, KEY, SECRET, &skipped);
	}
	sb_lk_claims c;
	char *raw = g_strndup((const char *)data, size);
	sb_lk_token_status status = sb_lk_token_verify(keys, raw, NOW, &c);
	/* Only a signature by the secret verifies; the fuzzer does not know it
	 * (a token it found that verifies would be a forgery). */
	if (status == SB_LK_TOKEN_OK)
		__builtin_trap();
	if (c.api_key || c.room)
		__builtin_trap(); /* a refusal leaves nothing behind */
	g_free(raw);

	char *token = lk_test_token("{\"alg\":\"HS256\"}", data, size, SECRET);
	status = sb_lk_token_verify(keys, token, NOW, &c);
	if (status == SB_LK_TOKEN_OK) {
		json_t *claims = json_loadb((const char *)data, size, 0, NULL);
		if (!c.api_key || strcmp(c.api_key, KEY) ||
		    !json_is_number(json_object_get(claims, "exp")))
			__builtin_trap();
		json_decref(claims);
	}
	sb_lk_claims_clear(&c);
	g_free(token);
	return 0;
}
