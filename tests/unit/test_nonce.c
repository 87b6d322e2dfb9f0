/* Nonce slices (nonce.h): disjoint, covering, NiceHash top byte kept, exhaustion, and
 * the counts that are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consentminer/error.h"
#include "consentminer/nonce.h"

#define SPACE24 (UINT64_C(1) << 24)
#define SPACE32 (UINT64_C(1) << 32)

/* Hands out every nonce of every worker's slice and checks, with a bitmap of the 2^24 low
 * bits, that each one comes exactly once, always with the fixed top byte. */
static void check_nicehash_cover(uint32_t count, uint8_t fixed)
{
    uint8_t *seen = calloc(SPACE24 / 8, 1);
    assert_non_null(seen);
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        cm_nonce_range r;
        assert_int_equal(cm_nonce_range_init(&r, i, count, 1, fixed, NULL), CM_OK);
        uint64_t left = cm_nonce_range_left(&r);
        assert_true(left >= SPACE24 / count && left <= SPACE24 / count + 1);
        uint32_t prev = 0;
        /* Plain checks in the hot loop: 2^24 cmocka asserts would dominate the run time. */
        for (uint64_t k = 0; k < left; k++) {
            uint32_t n;
            if (cm_nonce_range_next(&r, &n) != CM_OK)
                fail_msg("worker %u: nonce %llu of %llu refused", i, (unsigned long long)k,
                         (unsigned long long)left);
            if (n >> 24 != fixed)
                fail_msg("worker %u: nonce %08x lost the top byte %02x", i, n, fixed);
            uint32_t low = n & 0xFFFFFFu;
            if (k > 0 && low != prev + 1)
                fail_msg("worker %u: nonce %08x follows %06x", i, n, prev);
            prev = low;
            if (seen[low / 8] & (1u << (low % 8)))
                fail_msg("worker %u: nonce %08x handed out twice", i, n);
            seen[low / 8] |= (uint8_t)(1u << (low % 8));
        }
        assert_true(cm_nonce_range_left(&r) == 0);
        uint32_t n = 0xdeadbeef;
        assert_int_equal(cm_nonce_range_next(&r, &n), CM_E_NONCE_EXHAUSTED);
        total += left;
    }
    assert_true(total == SPACE24);
    for (size_t i = 0; i < SPACE24 / 8; i++)
        assert_int_equal(seen[i], 0xff);
    free(seen);
}

static void test_nicehash_cover_one(void **state)
{
    (void)state;
    check_nicehash_cover(1, 0xab);
}

static void test_nicehash_cover_three(void **state)
{
    (void)state;
    check_nicehash_cover(3, 0x00);
}

static void test_nicehash_cover_seven(void **state)
{
    (void)state;
    check_nicehash_cover(7, 0xff);
}

/* Boundaries of slices worked out by hand: floor(S * i / n). */
static void test_slice_boundaries(void **state)
{
    (void)state;
    cm_nonce_range r;
    static const struct {
        int nicehash;
        uint32_t index, count;
        uint64_t first, end;
    } cases[] = {
        {0, 0, 1, 0, SPACE32},
        {0, 0, 3, 0, 1431655765},
        {0, 1, 3, 1431655765, 2863311530},
        {0, 2, 3, 2863311530, SPACE32},
        {0, 1, 2, 2147483648, SPACE32},
        {1, 0, 2, 0, 8388608},
        {1, 1, 2, 8388608, SPACE24},
        {1, 1, 3, 5592405, 11184810},
        {1, 255, 256, 16711680, SPACE24},
        /* The last worker of 2^32 - 1 gets the top two nonces and no wrap-around. */
        {0, 4294967294u, 4294967295u, 4294967294u, SPACE32},
        {0, 0, 4294967295u, 0, 1},
        {1, 16777215, 16777216, 16777215, SPACE24},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(
            cm_nonce_range_init(&r, cases[i].index, cases[i].count, cases[i].nicehash, 0x5a, NULL),
            CM_OK);
        assert_true(r.first == cases[i].first);
        assert_true(r.end == cases[i].end);
        assert_true(r.next == cases[i].first);
        assert_true(cm_nonce_range_left(&r) == cases[i].end - cases[i].first);
    }
}

static void test_top_of_space(void **state)
{
    (void)state;
    cm_nonce_range r;
    uint32_t n;
    assert_int_equal(cm_nonce_range_init(&r, 4294967294u, 4294967295u, 0, 0, NULL), CM_OK);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_OK);
    assert_true(n == 0xfffffffeu);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_OK);
    assert_true(n == 0xffffffffu);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_E_NONCE_EXHAUSTED);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_E_NONCE_EXHAUSTED);
}

static void test_nicehash_single_nonce_slices(void **state)
{
    (void)state;
    cm_nonce_range r;
    uint32_t n;
    assert_int_equal(cm_nonce_range_init(&r, 5, 16777216, 1, 0x8f, NULL), CM_OK);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_OK);
    assert_true(n == 0x8f000005u);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_E_NONCE_EXHAUSTED);
    assert_true(cm_nonce_range_left(&r) == 0);
}

static void test_without_nicehash_byte_ignored(void **state)
{
    (void)state;
    cm_nonce_range r;
    uint32_t n;
    /* Worker 0 of 2 without NiceHash starts at 0: the byte given is not applied. */
    assert_int_equal(cm_nonce_range_init(&r, 0, 2, 0, 0xab, NULL), CM_OK);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_OK);
    assert_true(n == 0);
    assert_int_equal(cm_nonce_range_init(&r, 1, 2, 0, 0xab, NULL), CM_OK);
    assert_int_equal(cm_nonce_range_next(&r, &n), CM_OK);
    assert_true(n == 0x80000000u);
}

static void test_invalid_counts(void **state)
{
    (void)state;
    cm_nonce_range r;
    cm_error err;
    assert_int_equal(cm_nonce_range_init(&r, 0, 0, 0, 0, &err), CM_E_INVAL);
    assert_non_null(strstr(err.message, "count"));
    assert_int_equal(cm_nonce_range_init(&r, 2, 2, 0, 0, &err), CM_E_INVAL);
    assert_non_null(strstr(err.message, "index"));
    assert_int_equal(cm_nonce_range_init(&r, 7, 3, 1, 0, &err), CM_E_INVAL);
    assert_int_equal(cm_nonce_range_init(&r, 0, 16777217, 1, 0, &err), CM_E_INVAL);
    assert_non_null(strstr(err.message, "count"));
    assert_int_equal(cm_nonce_range_init(&r, 0, 16777216, 1, 0, &err), CM_OK);
    assert_int_equal(cm_nonce_range_init(&r, 0, 16777217, 0, 0, &err), CM_OK);
    assert_int_equal(cm_nonce_range_init(NULL, 0, 1, 0, 0, &err), CM_E_INVAL);
    uint32_t n;
    assert_int_equal(cm_nonce_range_next(NULL, &n), CM_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nicehash_cover_one),
        cmocka_unit_test(test_nicehash_cover_three),
        cmocka_unit_test(test_nicehash_cover_seven),
        cmocka_unit_test(test_slice_boundaries),
        cmocka_unit_test(test_top_of_space),
        cmocka_unit_test(test_nicehash_single_nonce_slices),
        cmocka_unit_test(test_without_nicehash_byte_ignored),
        cmocka_unit_test(test_invalid_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
