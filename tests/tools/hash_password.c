/* Prints the yescrypt hash of the password on standard input (one line),
 * as [console] accounts takes it: what `mkpasswd -m yescrypt` does, for
 * the tests (tests/integration/console-accounts.test.mjs) and for
 * operators without the whois package. */
#include <crypt.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	char password[1100];
	if (!fgets(password, sizeof(password), stdin)) {
		fprintf(stderr, "hash_password: give the password on standard input\n");
		return 2;
	}
	password[strcspn(password, "\r\n")] = '\0';
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;
	memset(&data, 0, sizeof(data));
	const char *hash = crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting))
	                           ? crypt_r(password, setting, &data)
	                           : NULL;
	if (!hash || hash[0] == '*') {
		fprintf(stderr, "hash_password: libcrypt has no yescrypt\n");
		return 1;
	}
	puts(hash);
	return 0;
}
