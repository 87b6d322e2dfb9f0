/* cm_err names and descriptions, and cm_error messages (error.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "consentminer/error.h"

/* Every code error.h declares, with the name it is spelled with there. */
static const struct {
    int code;
    const char *name;
} codes[] = {
    {CM_OK, "CM_OK"},
    {CM_E_INVAL, "CM_E_INVAL"},
    {CM_E_NOMEM, "CM_E_NOMEM"},
    {CM_E_STATE, "CM_E_STATE"},
    {CM_E_NO_CONSENT, "CM_E_NO_CONSENT"},
    {CM_E_CONSENT_EXPIRED, "CM_E_CONSENT_EXPIRED"},
    {CM_E_CONSENT_REVOKED, "CM_E_CONSENT_REVOKED"},
    {CM_E_CONSENT_INVALID, "CM_E_CONSENT_INVALID"},
    {CM_E_CONSENT_EXCEEDED, "CM_E_CONSENT_EXCEEDED"},
    {CM_E_HEX_ODD, "CM_E_HEX_ODD"},
    {CM_E_HEX_CHAR, "CM_E_HEX_CHAR"},
    {CM_E_BLOB_SIZE, "CM_E_BLOB_SIZE"},
    {CM_E_BLOB_HEADER, "CM_E_BLOB_HEADER"},
    {CM_E_NONCE_OFFSET, "CM_E_NONCE_OFFSET"},
    {CM_E_JOB_ID, "CM_E_JOB_ID"},
    {CM_E_TARGET, "CM_E_TARGET"},
    {CM_E_SEED_HASH, "CM_E_SEED_HASH"},
    {CM_E_HEIGHT, "CM_E_HEIGHT"},
    {CM_E_ALGO, "CM_E_ALGO"},
    {CM_E_NONCE_EXHAUSTED, "CM_E_NONCE_EXHAUSTED"},
    {CM_E_STOPPED, "CM_E_STOPPED"},
    {CM_E_LARGE_PAGES, "CM_E_LARGE_PAGES"},
};
#define NCODES (sizeof codes / sizeof codes[0])

static void test_names_match_header(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODES; i++)
        assert_string_equal(cm_err_name(codes[i].code), codes[i].name);
}

static void test_descriptions_distinct(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCODES; i++) {
        const char *s = cm_strerror(codes[i].code);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, cm_strerror(codes[j].code));
    }
}

static void test_unknown_code(void **state)
{
    (void)state;
    assert_string_equal(cm_err_name(-999), "CM_E_UNKNOWN");
    assert_string_equal(cm_err_name(5), "CM_E_UNKNOWN");
    assert_non_null(cm_strerror(-999));
    assert_string_not_equal(cm_strerror(-999), cm_strerror(CM_OK));
}

static void test_error_set_formats(void **state)
{
    (void)state;
    cm_error err;
    assert_int_equal(cm_error_set(&err, CM_E_BLOB_SIZE,
                                  "job blob is %d bytes; a RandomX blob is %d..%d", 12, 43, 407),
                     CM_E_BLOB_SIZE);
    assert_int_equal(err.code, CM_E_BLOB_SIZE);
    assert_string_equal(err.message, "job blob is 12 bytes; a RandomX blob is 43..407");
    cm_error_clear(&err);
    assert_int_equal(err.code, CM_OK);
    assert_string_equal(err.message, "");
}

static void test_error_set_truncates(void **state)
{
    (void)state;
    cm_error err;
    char longer[400];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    cm_error_set(&err, CM_E_INVAL, "%s", longer);
    assert_int_equal(strlen(err.message), CM_ERROR_MESSAGE_MAX - 1);
}

static void test_null_error_allowed(void **state)
{
    (void)state;
    assert_int_equal(cm_error_set(NULL, CM_E_TARGET, "target %s", "x"), CM_E_TARGET);
    cm_error_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_match_header),  cmocka_unit_test(test_descriptions_distinct),
        cmocka_unit_test(test_unknown_code),        cmocka_unit_test(test_error_set_formats),
        cmocka_unit_test(test_error_set_truncates), cmocka_unit_test(test_null_error_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
