/* The one consent rule: every case of tests/vectors/consent_records.txt through core's
 * cm_consent_restore_numbers and cm_consent_check, the same cases wasm/js/consent.mjs
 * runs in node, so the two implementations cannot drift apart unnoticed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consentminer/consent.h"
#include "consentminer/error.h"
#include "vector_lines.h"

/* A field as JSON or JavaScript would carry it: "-" (absent) becomes NaN, which no rule
 * accepts, the way JavaScript's undefined fails Number.isInteger. */
static double number(const vec_file *v, int i)
{
    const char *t = v->field[i];
    if (!strcmp(t, "-"))
        return NAN;
    char *end;
    double d = strtod(t, &end);
    if (*end)
        fail_msg("%s:%d: field %d \"%s\" is not a number", v->name, v->line_no, i + 1, t);
    return d;
}

static const char *result_name(int rc)
{
    switch (rc) {
    case CM_OK:
        return "ok";
    case CM_E_CONSENT_INVALID:
        return "consent-invalid";
    case CM_E_CONSENT_EXPIRED:
        return "consent-expired";
    case CM_E_NO_CONSENT:
        return "no-consent";
    case CM_E_CONSENT_REVOKED:
        return "consent-revoked";
    default:
        return cm_strerror(rc);
    }
}

static void test_consent_records(void **state)
{
    (void)state;
    vec_file v;
    vec_open(&v, "consent_records.txt");
    int cases = 0, expired = 0, invalid = 0;
    while (vec_next(&v)) {
        vec_need(&v, 8);
        if (strcmp(v.field[5], "->"))
            fail_msg("%s:%d: field 6 is \"%s\", expected \"->\"", v.name, v.line_no, v.field[5]);
        int64_t now = (int64_t)number(&v, 4);
        cm_consent *c = cm_consent_new();
        assert_non_null(c);
        cm_error err;
        cm_error_clear(&err);
        int rc = cm_consent_restore_numbers(c, number(&v, 0), number(&v, 1), number(&v, 2),
                                            number(&v, 3), now, &err);
        if (rc == CM_OK)
            rc = cm_consent_check(c, now);
        cm_consent_free(c);
        const char *got = result_name(rc), *want = v.field[6], *word = v.field[7];
        if (strcmp(got, want))
            fail_msg("%s:%d: got %s (%s), expected %s", v.name, v.line_no, got, err.message, want);
        if (strcmp(word, "-") && !strstr(err.message, word))
            fail_msg("%s:%d: message \"%s\" does not name \"%s\"", v.name, v.line_no, err.message,
                     word);
        cases++;
        expired += rc == CM_E_CONSENT_EXPIRED;
        invalid += rc == CM_E_CONSENT_INVALID;
    }
    /* The file must keep covering each outcome. */
    assert_true(cases >= 30);
    assert_true(expired >= 3);
    assert_true(invalid >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consent_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
