/* SDES-SRTP (RFC 4568, RFC 3711) for plain RTP legs: the
 * AES_CM_128_HMAC_SHA1_80 suite Twilio's secure trunking uses.  One session
 * per direction, so the I/O thread (unprotect) and the mixer (protect)
 * never share libsrtp state. */
#ifndef SB_MEDIA_SRTP_H
#define SB_MEDIA_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_SRTP_SUITE "AES_CM_128_HMAC_SHA1_80"
#define SB_SRTP_KEY_B64_LEN 40 /* 30 bytes of key and salt, base64 */
#define SB_SRTP_TAG_LEN 10     /* what protect adds to a packet */

typedef struct sb_srtp sb_srtp;

/* A fresh random key, base64, NUL-terminated. */
void sb_srtp_new_key(char out[SB_SRTP_KEY_B64_LEN + 1]);
/* From an a=crypto value ("1 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31"):
 * the tag and the key.  False for another suite or a malformed key. */
bool sb_srtp_parse_crypto(const char *crypto, int *tag, char key[SB_SRTP_KEY_B64_LEN + 1]);
/* NULL when a key is not 30 bytes of base64. */
sb_srtp *sb_srtp_new(const char *our_key, const char *their_key);
void sb_srtp_free(sb_srtp *s);
/* In place; buf has room for SB_SRTP_TAG_LEN more bytes.  False: drop. */
bool sb_srtp_protect(sb_srtp *s, uint8_t *buf, size_t *len);
bool sb_srtp_unprotect(sb_srtp *s, uint8_t *buf, size_t *len);

#endif
