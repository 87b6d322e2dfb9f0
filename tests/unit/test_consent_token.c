/* Consent tokens (native/src/consent_token.c): a token made by an independent signer
 * (Python's hmac, the contract's format) verifies with its fields; sign then verify
 * round-trips; tampered payload or signature, another key, an unknown kid, expiry and
 * out-of-range fields are each refused with their own code; a rotated-out key still
 * verifies; key files with each kind of mistake are refused naming the line. Revocation
 * and replay beyond the thread ceiling need the running gateway: tests/gateway/consent.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "consent_token.h"

#define KEY1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define NOW 1790000000000LL

/* Made with Python's hmac/hashlib/base64 from KEY1 under kid k1: a session token for
 * shop.example, granted at NOW for 10 minutes, 2 threads at 50%. */
static const char KNOWN[] =
    "eyJ2IjoxLCJraWQiOiJrMSIsImtpbmQiOiJzZXNzaW9uIiwic2l0ZSI6InNob3AuZXhhbXBsZSIsImdyYW50ZWRfYXQi"
    "OjE3OTAwMDAwMDAwMDAsImV4cGlyZXNfYXQiOjE3OTAwMDA2MDAwMDAsInRocmVhZHMiOjIsInRocm90dGxlIjo1MCwi"
    "aWQiOiIwMDExMjIzMzQ0NTU2Njc3ODg5OWFhYmJjY2RkZWVmZiIsImdyYW50IjoiZmZlZWRkY2NiYmFhOTk4ODc3NjY1"
    "NTQ0MzMyMjExMDAifQ.Hy2pQq8s3e8kikGL80NQVxQVuiVQU_VhFEBn5kfN-Js";

/* A key ring from the given file text. */
static gw_keyring *ring_from(const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/cm-test-keys-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    gw_keyring *k = gw_keyring_load(path, err, errlen);
    unlink(path);
    return k;
}

static gw_keyring *ring_ok(const char *text)
{
    char err[300] = "";
    gw_keyring *k = ring_from(text, err, sizeof err);
    if (!k)
        fail_msg("key file refused: %s", err);
    return k;
}

static gw_token_err verify(gw_keyring *k, const char *text, int64_t now, gw_token *t)
{
    char why[200] = "";
    gw_token_err e = gw_token_verify(k, text, now, t, why, sizeof why);
    if (e != GW_TOKEN_OK && !why[0])
        fail_msg("refusal %d without a reason", e);
    return e;
}

static void test_known_token(void **state)
{
    (void)state;
    gw_keyring *k = ring_ok("# test\nk1 " KEY1 "\n");
    gw_token t;
    assert_int_equal(verify(k, KNOWN, NOW + 1000, &t), GW_TOKEN_OK);
    assert_int_equal(t.kind, GW_TOKEN_SESSION);
    assert_string_equal(t.kid, "k1");
    assert_string_equal(t.site, "shop.example");
    assert_true(t.granted_at == NOW);
    assert_true(t.expires_at == NOW + 600000);
    assert_int_equal(t.threads, 2);
    assert_int_equal(t.throttle, 50);
    assert_string_equal(t.id, "00112233445566778899aabbccddeeff");
    assert_string_equal(t.grant, "ffeeddccbbaa99887766554433221100");
    gw_keyring_free(k);
}

static void test_sign_round_trip(void **state)
{
    (void)state;
    gw_keyring *k = ring_ok("k1 " KEY1 "\n");
    gw_token g = {.kind = GW_TOKEN_GRANT,
                  .site = "example.org",
                  .granted_at = NOW,
                  .expires_at = NOW + 86400000,
                  .threads = 4,
                  .throttle = 30};
    char *text = gw_token_sign(k, &g);
    assert_non_null(text);
    assert_null(strchr(text, '='));
    assert_null(strchr(text, '+'));
    assert_null(strchr(text, '/'));
    assert_int_equal(strlen(g.id), 32);
    gw_token t;
    assert_int_equal(verify(k, text, NOW, &t), GW_TOKEN_OK);
    /* A grant verifies as what it is: the login refuses it by its kind. */
    assert_int_equal(t.kind, GW_TOKEN_GRANT);
    assert_string_equal(t.id, g.id);
    assert_string_equal(t.kid, "k1");
    assert_int_equal(t.threads, 4);
    /* Two tokens never share an id. */
    gw_token g2 = g;
    char *text2 = gw_token_sign(k, &g2);
    assert_string_not_equal(g.id, g2.id);
    free(text);
    free(text2);
    gw_keyring_free(k);
}

static void test_tampered(void **state)
{
    (void)state;
    gw_keyring *k = ring_ok("k1 " KEY1 "\n");
    gw_token t;
    char buf[sizeof KNOWN];
    /* Every single character of the payload changed in turn: refused each time, as a
     * signature mismatch or (when the change breaks the JSON or the kid) as malformed. */
    const size_t payload_len = (size_t)(strchr(KNOWN, '.') - KNOWN);
    for (size_t i = 0; i < payload_len; i++) {
        memcpy(buf, KNOWN, sizeof buf);
        buf[i] = buf[i] == 'A' ? 'B' : 'A';
        gw_token_err e = verify(k, buf, NOW, &t);
        if (e != GW_TOKEN_BAD_SIG && e != GW_TOKEN_MALFORMED && e != GW_TOKEN_UNKNOWN_KID)
            fail_msg("payload character %zu changed: verify gave %d", i, e);
    }
    /* The payload rewritten to 8 threads, the old signature kept. */
    memcpy(buf, KNOWN, sizeof buf);
    char *threads = strstr(buf, "InRocmVhZHMiOjIs");
    assert_non_null(threads);
    memcpy(threads, "InRocmVhZHMiOjgs", 16);
    assert_int_equal(verify(k, buf, NOW, &t), GW_TOKEN_BAD_SIG);
    /* One character of the signature changed. */
    memcpy(buf, KNOWN, sizeof buf);
    buf[sizeof buf - 3] = buf[sizeof buf - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(k, buf, NOW, &t), GW_TOKEN_BAD_SIG);
    /* A signature one byte short. */
    memcpy(buf, KNOWN, sizeof buf);
    buf[sizeof buf - 4] = 0;
    assert_int_equal(verify(k, buf, NOW, &t), GW_TOKEN_BAD_SIG);
    gw_keyring_free(k);
}

static void test_malformed(void **state)
{
    (void)state;
    gw_keyring *k = ring_ok("k1 " KEY1 "\n");
    gw_token t;
    static const char *bad[] = {
        "",
        "no-dot",
        ".",
        "abc.",
        "a.b.c",
        "eyJ2IjoxfQ==.AAAA",       /* padding is not base64url without padding */
        "eyJ2Ijox+Q.AAAA",         /* '+' is standard base64, not base64url */
        "WzEsMiwzXQ.AAAA",         /* the payload is [1,2,3], not an object */
        "eyJ2IjoxfQ.AAAA",         /* {"v":1}: no kid */
        "eyJraWQiOiJhIGIifQ.AAAA", /* kid "a b" */
        "bm90IGpzb24.AAAA",        /* "not json" */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (verify(k, bad[i], NOW, &t) != GW_TOKEN_MALFORMED)
            fail_msg("\"%s\" was not refused as malformed", bad[i]);
    assert_int_equal(verify(k, NULL, NOW, &t), GW_TOKEN_MALFORMED);
    char *huge = malloc(GW_TOKEN_TEXT_MAX + 10);
    memset(huge, 'A', GW_TOKEN_TEXT_MAX + 9);
    huge[100] = '.';
    huge[GW_TOKEN_TEXT_MAX + 9] = 0;
    assert_int_equal(verify(k, huge, NOW, &t), GW_TOKEN_MALFORMED);
    free(huge);
    gw_keyring_free(k);
}

static void test_expired(void **state)
{
    (void)state;
    gw_keyring *k = ring_ok("k1 " KEY1 "\n");
    gw_token t;
    assert_int_equal(verify(k, KNOWN, NOW + 599999, &t), GW_TOKEN_OK);
    assert_int_equal(verify(k, KNOWN, NOW + 600000, &t), GW_TOKEN_EXPIRED);
    assert_true(t.expires_at == NOW + 600000); /* so the refusal can say when */
    /* Granted beyond the clock skew ahead of now: not a token to honour yet. */
    assert_int_equal(verify(k, KNOWN, NOW - 60001, &t), GW_TOKEN_INVALID);
    gw_keyring_free(k);
}

static void test_wrong_key_and_unknown_kid(void **state)
{
    (void)state;
    gw_token t;
    /* Same kid, another key: a forgery. */
    gw_keyring *other = ring_ok("k1 " KEY2 "\n");
    assert_int_equal(verify(other, KNOWN, NOW, &t), GW_TOKEN_BAD_SIG);
    gw_keyring_free(other);
    /* A ring without k1. */
    gw_keyring *k2 = ring_ok("k2 " KEY1 "\n");
    assert_int_equal(verify(k2, KNOWN, NOW, &t), GW_TOKEN_UNKNOWN_KID);
    gw_keyring_free(k2);
    /* An ephemeral ring knows none of them. */
    char err[200];
    gw_keyring *eph = gw_keyring_ephemeral(err, sizeof err);
    assert_non_null(eph);
    assert_string_equal(gw_keyring_signer(eph), "ephemeral");
    assert_int_equal(verify(eph, KNOWN, NOW, &t), GW_TOKEN_UNKNOWN_KID);
    gw_keyring_free(eph);
}

static void test_rotation(void **state)
{
    (void)state;
    /* The new key first: it signs; the old one still verifies what it signed. */
    gw_keyring *k =
        ring_ok("k2 " KEY2 "\n# the old key, until the longest grant expires\nk1 " KEY1 "\n");
    assert_string_equal(gw_keyring_signer(k), "k2");
    assert_int_equal(gw_keyring_count(k), 2);
    gw_token t;
    assert_int_equal(verify(k, KNOWN, NOW, &t), GW_TOKEN_OK);
    gw_token s = {.kind = GW_TOKEN_SESSION,
                  .site = "s",
                  .granted_at = NOW,
                  .expires_at = NOW + 1000,
                  .threads = 1,
                  .throttle = 1,
                  .grant = "0123456789abcdef0123456789abcdef"};
    char *text = gw_token_sign(k, &s);
    assert_int_equal(verify(k, text, NOW, &t), GW_TOKEN_OK);
    assert_string_equal(t.kid, "k2");
    /* A gateway that still has only the old key does not know the new one. */
    gw_keyring *old = ring_ok("k1 " KEY1 "\n");
    assert_int_equal(verify(old, text, NOW, &t), GW_TOKEN_UNKNOWN_KID);
    free(text);
    gw_keyring_free(old);
    gw_keyring_free(k);
}

static void test_out_of_range_fields(void **state)
{
    (void)state;
    gw_keyring *k = ring_ok("k1 " KEY1 "\n");
    gw_token t;
    /* Signed correctly, but 257 threads: the consent rule refuses it. */
    gw_token s = {.kind = GW_TOKEN_SESSION,
                  .site = "s",
                  .granted_at = NOW,
                  .expires_at = NOW + 1000,
                  .threads = 257,
                  .throttle = 50,
                  .grant = "0123456789abcdef0123456789abcdef"};
    char *text = gw_token_sign(k, &s);
    char why[200];
    assert_int_equal(gw_token_verify(k, text, NOW, &t, why, sizeof why), GW_TOKEN_INVALID);
    assert_non_null(strstr(why, "threads"));
    free(text);
    /* Over 30 days. */
    s.threads = 1;
    s.expires_at = NOW + 30LL * 86400000 + 1;
    text = gw_token_sign(k, &s);
    assert_int_equal(verify(k, text, NOW, &t), GW_TOKEN_INVALID);
    free(text);
    gw_keyring_free(k);
}

static void test_key_files(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"", "no key"},
        {"# only a comment\n\n", "no key"},
        {"k1\n", ":1: expected two fields"},
        {"k1 " KEY1 " extra\n", ":1: expected two fields"},
        {"\nk1 0011\n", ":2: key of 4 hex characters"},
        {"k1 " KEY1 "zz\n", ":1: key is not hex"},
        {"bad/kid " KEY1 "\n", ":1: key id \"bad/kid\""},
        {"k1 " KEY1 "\nk1 " KEY2 "\n", ":2: key id \"k1\" given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[300] = "";
        gw_keyring *k = ring_from(bad[i].text, err, sizeof err);
        if (k || !strstr(err, bad[i].want) || !strstr(err, "/tmp/cm-test-keys-"))
            fail_msg("key file %zu: got \"%s\", expected the file name and \"%s\"", i, err,
                     bad[i].want);
    }
    char err[300];
    assert_null(gw_keyring_load("/nonexistent/keys", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/keys"));
    /* Comments, blank lines, CRLF and surrounding blanks are fine. */
    gw_keyring *k = ring_ok("# keys\r\n\r\n  k_1-A  " KEY1 "  \r\n");
    assert_string_equal(gw_keyring_signer(k), "k_1-A");
    gw_keyring_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_token), cmocka_unit_test(test_sign_round_trip),
        cmocka_unit_test(test_tampered),    cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_expired),     cmocka_unit_test(test_wrong_key_and_unknown_kid),
        cmocka_unit_test(test_rotation),    cmocka_unit_test(test_out_of_range_fields),
        cmocka_unit_test(test_key_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
