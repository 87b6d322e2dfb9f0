/* Hex decoding and encoding (hex.h): bytes, field-named errors, capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "consentminer/hex.h"

static void test_decode_mixed_case(void **state)
{
    (void)state;
    const uint8_t want[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x7f, 0x80, 0x9a};
    const char *hex = "0001ABcdEfFf7f809A";
    uint8_t out[16];
    size_t n = 0;
    cm_error err;
    assert_int_equal(cm_hex_decode("blob", hex, strlen(hex), out, sizeof out, &n, &err), CM_OK);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(err.code, CM_OK);
    assert_string_equal(err.message, "");
}

static void test_decode_not_terminated(void **state)
{
    (void)state;
    /* hex_len limits the input: the characters after it are not read. */
    const char hex[] = {'1', '2', '3', '4', 'z', 'z'};
    uint8_t out[4];
    size_t n = 0;
    assert_int_equal(cm_hex_decode("x", hex, 4, out, sizeof out, &n, NULL), CM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0x12);
    assert_int_equal(out[1], 0x34);
}

static void test_decode_empty(void **state)
{
    (void)state;
    uint8_t out[1];
    size_t n = 99;
    assert_int_equal(cm_hex_decode("x", "", 0, out, sizeof out, &n, NULL), CM_OK);
    assert_int_equal(n, 0);
}

static void test_decode_odd(void **state)
{
    (void)state;
    uint8_t out[8];
    cm_error err;
    assert_int_equal(cm_hex_decode("seed_hash", "abc", 3, out, sizeof out, NULL, &err),
                     CM_E_HEX_ODD);
    assert_int_equal(err.code, CM_E_HEX_ODD);
    assert_non_null(strstr(err.message, "seed_hash"));
    assert_non_null(strstr(err.message, "3"));
}

static void test_decode_bad_chars(void **state)
{
    (void)state;
    static const char *bad[] = {"0g", "g0", "0x12",     " 1",    "1 ",
                                "+1", "-1", "\xff\x30", "0\x01", "ab:d"};
    uint8_t out[8];
    cm_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cm_hex_decode("blob", bad[i], strlen(bad[i]), out, sizeof out, NULL, &err),
                         CM_E_HEX_CHAR);
        assert_int_equal(err.code, CM_E_HEX_CHAR);
        assert_non_null(strstr(err.message, "blob"));
    }
    /* The message says which character and where. */
    cm_hex_decode("target", "1234q6", 6, out, sizeof out, NULL, &err);
    assert_non_null(strstr(err.message, "target"));
    assert_non_null(strstr(err.message, "'q'"));
    assert_non_null(strstr(err.message, "4"));
}

static void test_decode_capacity(void **state)
{
    (void)state;
    uint8_t out[4];
    cm_error err;
    assert_int_equal(cm_hex_decode("blob", "0102030405", 10, out, sizeof out, NULL, &err),
                     CM_E_INVAL);
    assert_non_null(strstr(err.message, "blob"));
    size_t n = 0;
    assert_int_equal(cm_hex_decode("blob", "01020304", 8, out, sizeof out, &n, &err), CM_OK);
    assert_int_equal(n, 4);
}

static void test_encode(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x0f, 0xf0, 0xab, 0xff, 0x42};
    char out[2 * sizeof in + 1];
    memset(out, '#', sizeof out);
    cm_hex_encode(in, sizeof in, out);
    assert_string_equal(out, "000ff0abff42");
    char empty[1] = {'#'};
    cm_hex_encode(in, 0, empty);
    assert_string_equal(empty, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_mixed_case),
        cmocka_unit_test(test_decode_not_terminated),
        cmocka_unit_test(test_decode_empty),
        cmocka_unit_test(test_decode_odd),
        cmocka_unit_test(test_decode_bad_chars),
        cmocka_unit_test(test_decode_capacity),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
