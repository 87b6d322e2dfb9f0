/* consentminer gateway — consent tokens: what the consent frame gets after the visitor's
 * click, and the only consent a WebSocket login is accepted with (issue 14; the format is
 * docs/consent-token.md's contract between the gateway and the frame).
 *
 * Text form "<payload>.<sig>", both base64url without padding; the payload is a JSON
 * object (v, kid, kind, site, granted_at, expires_at, threads, throttle, id, and for a
 * session token the id of its grant), the signature HMAC-SHA256 with key[kid] over the
 * payload's base64url text. The key ring comes from --consent-keys (the first key signs,
 * every key verifies: rotation) or is one random key made at start.
 */
#ifndef CM_NATIVE_CONSENT_TOKEN_H
#define CM_NATIVE_CONSENT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define GW_TOKEN_KID_MAX 32
#define GW_TOKEN_SITE_MAX 100
#define GW_TOKEN_ID_HEX 32
/* Longer than any token this gateway makes (about 400 bytes) with room to spare. */
#define GW_TOKEN_TEXT_MAX 2048
/* HMAC-SHA256 keys shorter than this are refused (the hash's own output size). */
#define GW_TOKEN_KEY_MIN 32
#define GW_TOKEN_KEY_MAX 128

typedef struct gw_keyring gw_keyring;

/* Reads FILE: lines "KID HEXKEY", '#' comments and blank lines skipped. NULL on error,
 * with err naming the file, the line and what was expected. */
gw_keyring *gw_keyring_load(const char *path, char *err, size_t errlen);
/* One random key with kid "ephemeral". NULL when the random source fails. */
gw_keyring *gw_keyring_ephemeral(char *err, size_t errlen);
void gw_keyring_free(gw_keyring *k);
/* The signing key's kid, and how many keys verify. */
const char *gw_keyring_signer(const gw_keyring *k);
size_t gw_keyring_count(const gw_keyring *k);
/* n random bytes from the ring's CTR-DRBG (seeded from mbedTLS's entropy sources). */
int gw_keyring_random(gw_keyring *k, uint8_t *out, size_t n);

typedef enum gw_token_kind { GW_TOKEN_GRANT = 1, GW_TOKEN_SESSION = 2 } gw_token_kind;

typedef struct gw_token {
    gw_token_kind kind;
    char kid[GW_TOKEN_KID_MAX + 1];
    char site[GW_TOKEN_SITE_MAX + 1];
    int64_t granted_at, expires_at; /* ms since the Unix epoch */
    int threads, throttle;          /* ceilings */
    char id[GW_TOKEN_ID_HEX + 1];
    char grant[GW_TOKEN_ID_HEX + 1]; /* session tokens: the grant's id; else "" */
} gw_token;

/* Why a token was refused; gw_token_verify's why says it in words. */
typedef enum gw_token_err {
    GW_TOKEN_OK = 0,
    GW_TOKEN_MALFORMED = 1,   /* not "<base64url>.<base64url>", or not the payload's JSON */
    GW_TOKEN_UNKNOWN_KID = 2, /* signed under a key this gateway does not have */
    GW_TOKEN_BAD_SIG = 3,     /* the signature does not match: forged or tampered with */
    GW_TOKEN_INVALID = 4,     /* fields out of range (the consent rule) */
    GW_TOKEN_EXPIRED = 5,     /* valid, but expires_at has passed */
} gw_token_err;

/* Signs t with the ring's first key: t->kid and t->id (fresh random) are set here, the
 * other fields are the caller's and must already pass the consent rule. Returns the
 * token text (malloc'd) or NULL. */
char *gw_token_sign(gw_keyring *k, gw_token *t);

/* Checks text at now_ms: the form, the kid, the signature (in constant time), then the
 * fields by the consent rule (core's cm_consent_restore_numbers) and expiry. Fills *out
 * on GW_TOKEN_OK (and on GW_TOKEN_EXPIRED, so the caller can say when), and why (a
 * sentence naming the problem) otherwise. */
gw_token_err gw_token_verify(const gw_keyring *k, const char *text, int64_t now_ms, gw_token *out,
                             char *why, size_t whylen);

const char *gw_token_kind_name(gw_token_kind kind);

#endif
