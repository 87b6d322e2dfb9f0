/* Targets, difficulty, share and block checks (target.h), driven by
 * tests/vectors/targets.txt. */
#include "vector_lines.h"

#include "consentminer/error.h"
#include "consentminer/target.h"

static void test_vectors(void **state)
{
    (void)state;
    vec_file v;
    vec_open(&v, "targets.txt");
    int diffs = 0, parses = 0, errors = 0, shares = 0, blocks = 0;
    while (vec_next(&v)) {
        const char *kind = v.field[0];
        cm_error err;
        if (strcmp(kind, "diff") == 0) {
            vec_need(&v, 4);
            uint64_t d = vec_u64(&v, v.field[1]);
            uint64_t want64 = vec_u64(&v, v.field[3]);
            char hex[17];
            memset(hex, '#', sizeof hex);
            cm_target_to_hex(d, hex);
            if (strcmp(hex, v.field[2]) != 0)
                fail_msg("targets.txt:%d: difficulty %s gave %s, expected %s", v.line_no,
                         v.field[1], hex, v.field[2]);
            if (cm_target_from_difficulty(d) != want64)
                fail_msg("targets.txt:%d: target of difficulty %s is %llu, expected %s", v.line_no,
                         v.field[1], (unsigned long long)cm_target_from_difficulty(d), v.field[3]);
            uint64_t t = 0;
            assert_int_equal(cm_target_parse(v.field[2], &t, &err), CM_OK);
            if (t != want64)
                fail_msg("targets.txt:%d: %s parsed as %llu, expected %s", v.line_no, v.field[2],
                         (unsigned long long)t, v.field[3]);
            diffs++;
        } else if (strcmp(kind, "parse") == 0) {
            vec_need(&v, 3);
            uint64_t t = 0;
            int rc = cm_target_parse(v.field[1], &t, &err);
            if (rc != CM_OK)
                fail_msg("targets.txt:%d: %s: %s", v.line_no, cm_err_name(rc), err.message);
            if (t != vec_u64(&v, v.field[2]))
                fail_msg("targets.txt:%d: %s parsed as %llu, expected %s", v.line_no, v.field[1],
                         (unsigned long long)t, v.field[2]);
            parses++;
        } else if (strcmp(kind, "parse_err") == 0) {
            vec_need(&v, 3);
            char *hex = vec_expand(v.field[1]);
            uint64_t t = 12345;
            int rc = cm_target_parse(hex, &t, &err);
            if (strcmp(cm_err_name(rc), v.field[2]) != 0)
                fail_msg("targets.txt:%d: gave %s (%s), expected %s", v.line_no, cm_err_name(rc),
                         err.message, v.field[2]);
            assert_int_equal(err.code, rc);
            if (strstr(err.message, "target") == NULL)
                fail_msg("targets.txt:%d: message \"%s\" does not name the target", v.line_no,
                         err.message);
            assert_true(t == 12345); /* untouched on error */
            free(hex);
            errors++;
        } else if (strcmp(kind, "share") == 0 || strcmp(kind, "block") == 0) {
            vec_need(&v, 4);
            uint8_t hash[32];
            assert_int_equal(vec_unhex(v.field[1], hash, sizeof hash), 32);
            uint64_t x = vec_u64(&v, v.field[2]);
            int want = (int)vec_u64(&v, v.field[3]);
            int got =
                kind[0] == 's' ? cm_hash_meets_target(hash, x) : cm_hash_meets_difficulty(hash, x);
            if (got != want)
                fail_msg("targets.txt:%d: %s check gave %d, expected %d", v.line_no, kind, got,
                         want);
            if (kind[0] == 's')
                shares++;
            else
                blocks++;
        } else {
            fail_msg("targets.txt:%d: unknown case kind \"%s\"", v.line_no, kind);
        }
    }
    /* A file that silently lost its cases must not pass. */
    assert_true(diffs >= 20);
    assert_true(parses >= 10);
    assert_true(errors >= 10);
    assert_true(shares >= 15);
    assert_true(blocks >= 25);
}

static void test_difficulty_round_trip(void **state)
{
    (void)state;
    /* Monero's example values: 1000 -> 0xFFFFFFFFFFFFFFFF / 1000 and back. */
    assert_true(cm_target_from_difficulty(1000) == UINT64_C(18446744073709551));
    assert_true(cm_target_to_difficulty(UINT64_C(18446744073709551)) == 1000);
    assert_true(cm_target_to_difficulty(UINT64_MAX) == 1);
    assert_true(cm_target_to_difficulty(1) == UINT64_MAX);
    assert_true(cm_target_to_difficulty(0) == 0);
    assert_true(cm_target_from_difficulty(1) == UINT64_MAX);
}

static void test_hex_is_terminated(void **state)
{
    (void)state;
    char out[17];
    memset(out, '#', sizeof out);
    cm_target_to_hex(1000, out);
    assert_int_equal(strlen(out), 8);
    memset(out, '#', sizeof out);
    cm_target_to_hex(UINT64_C(300000000000), out);
    assert_int_equal(strlen(out), 16);
}

static void test_error_messages(void **state)
{
    (void)state;
    cm_error err;
    uint64_t t;
    cm_target_parse("ffffff", &t, &err);
    assert_string_equal(err.message, "target is 3 bytes of hex; expected 4 or 8");
    assert_int_equal(cm_target_parse("00000000", &t, NULL), CM_E_TARGET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_difficulty_round_trip),
        cmocka_unit_test(test_hex_is_terminated),
        cmocka_unit_test(test_error_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
