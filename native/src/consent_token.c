/* consentminer gateway — consent tokens: key ring, signing and verification (map and
 * format in consent_token.h).
 *
 * HMAC-SHA256 rather than ECDSA: every gateway that verifies also signs (any of them may
 * answer the frame's POST /consent/grant), so a public-key scheme would buy nothing and
 * cost a signature per grant that is a thousand times slower.
 */
#include "consent_token.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "consentminer/consent.h"
#include "consentminer/error.h"
#include "consentminer/hex.h"

#define GW_TOKEN_SIG_LEN 32 /* SHA-256 */

typedef struct gw_key {
    char kid[GW_TOKEN_KID_MAX + 1];
    uint8_t key[GW_TOKEN_KEY_MAX];
    size_t len;
} gw_key;

struct gw_keyring {
    gw_key *keys; /* keys[0] signs */
    size_t n;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static gw_keyring *ring_new(char *err, size_t errlen)
{
    gw_keyring *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mbedtls_entropy_init(&k->entropy);
    mbedtls_ctr_drbg_init(&k->drbg);
    static const unsigned char pers[] = "consentminer consent tokens";
    if (mbedtls_ctr_drbg_seed(&k->drbg, mbedtls_entropy_func, &k->entropy, pers, sizeof pers - 1)) {
        snprintf(err, errlen, "cannot seed the random generator from the system's entropy");
        gw_keyring_free(k);
        return NULL;
    }
    return k;
}

void gw_keyring_free(gw_keyring *k)
{
    if (!k)
        return;
    if (k->keys) {
        mbedtls_platform_zeroize(k->keys, k->n * sizeof *k->keys);
        free(k->keys);
    }
    mbedtls_ctr_drbg_free(&k->drbg);
    mbedtls_entropy_free(&k->entropy);
    free(k);
}

int gw_keyring_random(gw_keyring *k, uint8_t *out, size_t n)
{
    return mbedtls_ctr_drbg_random(&k->drbg, out, n) ? -1 : 0;
}

const char *gw_keyring_signer(const gw_keyring *k)
{
    return k->n ? k->keys[0].kid : "";
}

size_t gw_keyring_count(const gw_keyring *k)
{
    return k->n;
}

static int kid_ok(const char *s, size_t len)
{
    if (len < 1 || len > GW_TOKEN_KID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

static const gw_key *find_key(const gw_keyring *k, const char *kid)
{
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->keys[i].kid, kid))
            return &k->keys[i];
    return NULL;
}

static int add_key(gw_keyring *k, const gw_key *key)
{
    gw_key *keys = realloc(k->keys, (k->n + 1) * sizeof *keys);
    if (!keys)
        return -1;
    k->keys = keys;
    k->keys[k->n++] = *key;
    return 0;
}

gw_keyring *gw_keyring_ephemeral(char *err, size_t errlen)
{
    gw_keyring *k = ring_new(err, errlen);
    if (!k)
        return NULL;
    gw_key key = {.kid = "ephemeral", .len = 32};
    if (gw_keyring_random(k, key.key, key.len) || add_key(k, &key)) {
        snprintf(err, errlen, "cannot make a random key");
        gw_keyring_free(k);
        return NULL;
    }
    mbedtls_platform_zeroize(&key, sizeof key);
    return k;
}

/* One line "KID HEXKEY" of the key file (comments and blanks already skipped). */
static int parse_key_line(char *line, gw_key *key, char *why, size_t whylen)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    char *kid = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    size_t kid_len = (size_t)(p - kid);
    while (*p == ' ' || *p == '\t')
        p++;
    char *hex = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    size_t hex_len = (size_t)(p - hex);
    while (*p == ' ' || *p == '\t')
        p++;
    if (!kid_ok(kid, kid_len)) {
        snprintf(why, whylen, "key id \"%.*s\" is not 1..%d characters of A-Z a-z 0-9 _ -",
                 (int)(kid_len > 40 ? 40 : kid_len), kid, GW_TOKEN_KID_MAX);
        return -1;
    }
    if (*p || !hex_len) {
        snprintf(why, whylen, "expected two fields, \"KID HEXKEY\"");
        return -1;
    }
    if (hex_len % 2 || hex_len / 2 < GW_TOKEN_KEY_MIN || hex_len / 2 > GW_TOKEN_KEY_MAX) {
        snprintf(why, whylen,
                 "key of %zu hex characters; expected an even count, %d..%d bytes "
                 "(%d..%d hex characters)",
                 hex_len, GW_TOKEN_KEY_MIN, GW_TOKEN_KEY_MAX, 2 * GW_TOKEN_KEY_MIN,
                 2 * GW_TOKEN_KEY_MAX);
        return -1;
    }
    for (size_t i = 0; i < hex_len / 2; i++) {
        int h = cm_hex_digit(hex[2 * i]), l = cm_hex_digit(hex[2 * i + 1]);
        if (h < 0 || l < 0) {
            snprintf(why, whylen, "key is not hex (character %zu)", 2 * i + (h < 0 ? 1 : 2));
            return -1;
        }
        key->key[i] = (uint8_t)(h * 16 + l);
    }
    memcpy(key->kid, kid, kid_len);
    key->kid[kid_len] = 0;
    key->len = hex_len / 2;
    return 0;
}

gw_keyring *gw_keyring_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    gw_keyring *k = ring_new(err, errlen);
    if (!k) {
        fclose(f);
        return NULL;
    }
    char line[1024];
    int no = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%d: line longer than %zu bytes", path, no, sizeof line - 2);
            goto fail;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                       line[len - 1] == '\t'))
            line[--len] = 0;
        const char *s = line + strspn(line, " \t");
        if (!*s || *s == '#')
            continue;
        gw_key key;
        memset(&key, 0, sizeof key);
        char why[160];
        if (parse_key_line(line, &key, why, sizeof why)) {
            snprintf(err, errlen, "%s:%d: %s", path, no, why);
            goto fail;
        }
        if (find_key(k, key.kid)) {
            snprintf(err, errlen, "%s:%d: key id \"%s\" given twice", path, no, key.kid);
            goto fail;
        }
        int rc = add_key(k, &key);
        mbedtls_platform_zeroize(&key, sizeof key);
        if (rc) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    mbedtls_platform_zeroize(line, sizeof line);
    fclose(f);
    if (!k->n) {
        snprintf(err, errlen, "%s: no key; expected lines \"KID HEXKEY\" (key >= %d bytes)", path,
                 GW_TOKEN_KEY_MIN);
        gw_keyring_free(k);
        return NULL;
    }
    return k;
fail:
    mbedtls_platform_zeroize(line, sizeof line);
    fclose(f);
    gw_keyring_free(k);
    return NULL;
}

/* ---- base64url without padding (RFC 4648 section 5), over mbedTLS's base64 ---- */

static char *b64url_encode(const uint8_t *data, size_t len)
{
    size_t olen = 0;
    mbedtls_base64_encode(NULL, 0, &olen, data, len);
    char *out = malloc(olen + 1);
    if (!out || mbedtls_base64_encode((unsigned char *)out, olen + 1, &olen, data, len)) {
        free(out);
        return NULL;
    }
    while (olen && out[olen - 1] == '=')
        olen--;
    out[olen] = 0;
    for (size_t i = 0; i < olen; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

/* Decodes len characters of base64url (no padding, nothing else allowed). Returns the
 * malloc'd bytes (NUL-terminated for convenience) or NULL. */
static uint8_t *b64url_decode(const char *text, size_t len, size_t *out_len)
{
    if (len % 4 == 1)
        return NULL; /* no base64 text has this length */
    char *std = malloc(len + 4);
    if (!std)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!isalnum((unsigned char)c)) {
            free(std);
            return NULL;
        }
        std[i] = c;
    }
    size_t n = len;
    while (n % 4)
        std[n++] = '=';
    size_t olen = 0;
    uint8_t *out = malloc(n / 4 * 3 + 1);
    if (!out || mbedtls_base64_decode(out, n / 4 * 3 + 1, &olen, (unsigned char *)std, n)) {
        free(std);
        free(out);
        return NULL;
    }
    free(std);
    out[olen] = 0;
    *out_len = olen;
    return out;
}

static int hmac(const gw_key *key, const char *text, size_t len, uint8_t out[GW_TOKEN_SIG_LEN])
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return md && !mbedtls_md_hmac(md, key->key, key->len, (const unsigned char *)text, len, out)
               ? 0
               : -1;
}

const char *gw_token_kind_name(gw_token_kind kind)
{
    return kind == GW_TOKEN_GRANT ? "grant" : kind == GW_TOKEN_SESSION ? "session" : "unknown";
}

char *gw_token_sign(gw_keyring *k, gw_token *t)
{
    if (!k->n)
        return NULL;
    uint8_t rnd[GW_TOKEN_ID_HEX / 2];
    if (gw_keyring_random(k, rnd, sizeof rnd))
        return NULL;
    cm_hex_encode(rnd, sizeof rnd, t->id);
    snprintf(t->kid, sizeof t->kid, "%s", k->keys[0].kid);
    json_t *o = json_pack("{s:i,s:s,s:s,s:s,s:I,s:I,s:i,s:i,s:s}", "v", 1, "kid", t->kid, "kind",
                          gw_token_kind_name(t->kind), "site", t->site, "granted_at",
                          (json_int_t)t->granted_at, "expires_at", (json_int_t)t->expires_at,
                          "threads", t->threads, "throttle", t->throttle, "id", t->id);
    if (!o)
        return NULL;
    if (t->kind == GW_TOKEN_SESSION && json_object_set_new(o, "grant", json_string(t->grant))) {
        json_decref(o);
        return NULL;
    }
    char *json = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!json)
        return NULL;
    char *payload = b64url_encode((const uint8_t *)json, strlen(json));
    free(json);
    if (!payload)
        return NULL;
    uint8_t sig[GW_TOKEN_SIG_LEN];
    char *sig64 = NULL, *out = NULL;
    if (!hmac(&k->keys[0], payload, strlen(payload), sig))
        sig64 = b64url_encode(sig, sizeof sig);
    if (sig64 && (out = malloc(strlen(payload) + 1 + strlen(sig64) + 1)))
        sprintf(out, "%s.%s", payload, sig64);
    free(payload);
    free(sig64);
    return out;
}

static gw_token_err refuse(gw_token_err e, char *why, size_t whylen, const char *fmt,
                           const char *arg)
{
    snprintf(why, whylen, fmt, arg ? arg : "");
    return e;
}

/* A string field of 1..max characters, copied into out. */
static int get_str(json_t *o, const char *name, size_t max, char *out)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return -1;
    size_t len = json_string_length(v);
    if (len < 1 || len > max || strlen(json_string_value(v)) != len)
        return -1;
    memcpy(out, json_string_value(v), len + 1);
    return 0;
}

static int id_ok(const char *s)
{
    if (strlen(s) != GW_TOKEN_ID_HEX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* The payload's fields after the signature matched. */
static gw_token_err check_fields(json_t *o, int64_t now_ms, gw_token *t, char *why, size_t whylen)
{
    json_t *v = json_object_get(o, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return refuse(GW_TOKEN_MALFORMED, why, whylen, "token version is not 1%s", NULL);
    char kind[16];
    if (get_str(o, "kind", sizeof kind - 1, kind))
        return refuse(GW_TOKEN_MALFORMED, why, whylen, "token kind is missing%s", NULL);
    if (!strcmp(kind, "grant"))
        t->kind = GW_TOKEN_GRANT;
    else if (!strcmp(kind, "session"))
        t->kind = GW_TOKEN_SESSION;
    else
        return refuse(GW_TOKEN_MALFORMED, why, whylen,
                      "token kind \"%s\" is neither grant nor session", kind);
    if (get_str(o, "site", GW_TOKEN_SITE_MAX, t->site))
        return refuse(GW_TOKEN_MALFORMED, why, whylen, "token site is not 1..100 characters%s",
                      NULL);
    if (get_str(o, "id", GW_TOKEN_ID_HEX, t->id) || !id_ok(t->id))
        return refuse(GW_TOKEN_MALFORMED, why, whylen, "token id is not 32 lowercase hex%s", NULL);
    t->grant[0] = 0;
    if (t->kind == GW_TOKEN_SESSION &&
        (get_str(o, "grant", GW_TOKEN_ID_HEX, t->grant) || !id_ok(t->grant)))
        return refuse(GW_TOKEN_MALFORMED, why, whylen,
                      "session token's grant is not 32 lowercase hex%s", NULL);
    /* The one consent rule, on the numbers as JSON holds them: a missing or non-number
     * field is NaN, which the rule refuses by name. */
    static const char *names[] = {"granted_at", "expires_at", "threads", "throttle"};
    double num[4];
    for (int i = 0; i < 4; i++) {
        json_t *f = json_object_get(o, names[i]);
        num[i] = json_is_number(f) ? json_number_value(f) : (double)NAN;
    }
    cm_consent *c = cm_consent_new();
    if (!c)
        return refuse(GW_TOKEN_INVALID, why, whylen, "out of memory%s", NULL);
    cm_error ce;
    cm_error_clear(&ce);
    int rc = cm_consent_restore_numbers(c, num[0], num[1], num[2], num[3], now_ms, &ce);
    if (!rc)
        rc = cm_consent_check(c, now_ms);
    cm_consent_free(c);
    /* Only numbers the rule accepted are converted: a NaN, an infinity or a fraction
     * (refused above) has no integer value to take. */
    if (rc == 0 || rc == CM_E_CONSENT_EXPIRED) {
        t->granted_at = (int64_t)num[0];
        t->expires_at = (int64_t)num[1];
        t->threads = (int)num[2];
        t->throttle = (int)num[3];
    }
    if (rc == CM_E_CONSENT_EXPIRED)
        return refuse(GW_TOKEN_EXPIRED, why, whylen, "token expired%s", NULL);
    if (rc)
        return refuse(GW_TOKEN_INVALID, why, whylen, "token %s",
                      ce.message[0] ? ce.message : cm_strerror(rc));
    return GW_TOKEN_OK;
}

gw_token_err gw_token_verify(const gw_keyring *k, const char *text, int64_t now_ms, gw_token *out,
                             char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    size_t len = text ? strlen(text) : 0;
    const char *dot = text ? strchr(text, '.') : NULL;
    if (!len || len > GW_TOKEN_TEXT_MAX || !dot || strchr(dot + 1, '.') || dot == text)
        return refuse(GW_TOKEN_MALFORMED, why, whylen,
                      "not a consent token (expected \"<payload>.<signature>\" in base64url, at "
                      "most 2048 characters)%s",
                      NULL);
    size_t plen = (size_t)(dot - text), slen = len - plen - 1;
    size_t json_len = 0, sig_len = 0;
    uint8_t *json = b64url_decode(text, plen, &json_len);
    uint8_t *sig = b64url_decode(dot + 1, slen, &sig_len);
    gw_token_err e = GW_TOKEN_OK;
    json_t *o = NULL;
    if (!json || !sig) {
        e = refuse(GW_TOKEN_MALFORMED, why, whylen, "token is not base64url%s", NULL);
        goto done;
    }
    /* The kid picks the key, so the payload is read before the signature is checked;
     * nothing else in it is used until the signature matched. */
    json_error_t je;
    o = json_loadb((const char *)json, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        e = refuse(GW_TOKEN_MALFORMED, why, whylen, "token payload is not a JSON object%s", NULL);
        goto done;
    }
    if (get_str(o, "kid", GW_TOKEN_KID_MAX, out->kid) || !kid_ok(out->kid, strlen(out->kid))) {
        e = refuse(GW_TOKEN_MALFORMED, why, whylen, "token kid is not 1..32 of A-Z a-z 0-9 _ -%s",
                   NULL);
        goto done;
    }
    const gw_key *key = find_key(k, out->kid);
    if (!key) {
        e = refuse(GW_TOKEN_UNKNOWN_KID, why, whylen,
                   "token signed under key \"%s\", which this gateway does not have", out->kid);
        goto done;
    }
    uint8_t mac[GW_TOKEN_SIG_LEN];
    if (sig_len != sizeof mac || hmac(key, text, plen, mac) ||
        mbedtls_ct_memcmp(mac, sig, sizeof mac)) {
        e = refuse(GW_TOKEN_BAD_SIG, why, whylen,
                   "token signature does not match (forged or altered)%s", NULL);
        goto done;
    }
    e = check_fields(o, now_ms, out, why, whylen);
done:
    json_decref(o);
    free(json);
    free(sig);
    if (e == GW_TOKEN_OK && whylen)
        why[0] = 0;
    return e;
}
