/* The gateway's share accounting (gateway_acct.c) and per-address state for fairness
 * and the cost of invalid shares (gateway_fair.c), without sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gateway_acct.h"
#include "gateway_fair.h"

static void job_at(cm_job *j, uint64_t height, uint8_t prev, uint8_t variant, const char *id)
{
    memset(j, 0, sizeof *j);
    j->blob_len = 76;
    j->blob[0] = 16;
    j->blob[1] = 16;
    j->blob[2] = 1;    /* timestamp varint */
    j->blob[3] = prev; /* previous block id: 3..34 */
    j->nonce_offset = 35;
    j->blob[40] = variant;
    j->height = height;
    memset(j->seed_hash, 7, 32);
    snprintf(j->job_id, sizeof j->job_id, "%s", id);
}

static const uint8_t zero_hash[32];

/* The same work under another upstream job id (a resent job) is the same work: its
 * nonces stay duplicates whatever job or session they come with. */
static void test_duplicates_keyed_on_work(void **state)
{
    (void)state;
    gw_acct *a = gw_acct_new(2, 0);
    cm_job j1, j2, j3;
    job_at(&j1, 100, 1, 0, "a");
    job_at(&j2, 100, 1, 0, "b"); /* same blob, another id */
    job_at(&j3, 100, 1, 1, "c"); /* same height, new transactions */
    uint64_t w1 = gw_acct_work_new(a, 0, &j1);
    assert_true(w1 != 0);
    assert_int_equal(gw_acct_submit(a, w1, UINT64_MAX, 5, 0x05000001, zero_hash), GW_ACCT_VERIFY);
    assert_int_equal(gw_acct_work_new(a, 0, &j2), w1);
    assert_int_equal(gw_acct_submit(a, w1, UINT64_MAX, 5, 0x05000001, zero_hash),
                     GW_ACCT_DUPLICATE);
    assert_int_equal(gw_acct_submit(a, w1, UINT64_MAX, 5, 0x06000001, zero_hash),
                     GW_ACCT_BAD_NONCE);
    uint8_t high[32];
    memset(high, 0xff, sizeof high);
    assert_int_equal(gw_acct_submit(a, w1, 1000, 5, 0x05000002, high), GW_ACCT_LOW_DIFF);
    assert_int_equal(gw_acct_submit(a, w1, 1000, 5, 0x05000002, zero_hash), GW_ACCT_DUPLICATE);
    uint64_t w3 = gw_acct_work_new(a, 0, &j3);
    assert_true(w3 != w1);
    assert_true(gw_acct_work_live(a, w1)); /* same height: still good work */
    assert_int_equal(gw_acct_submit(a, w3, UINT64_MAX, 5, 0x05000001, zero_hash), GW_ACCT_VERIFY);
    assert_int_equal(gw_acct_nonces(a), 3);
    gw_acct_free(a);
}

/* A new block retires the slot's works (stale), and a job of the old block sent again
 * stays stale: its nonce set is gone. */
static void test_new_block_retires(void **state)
{
    (void)state;
    gw_acct *a = gw_acct_new(2, 0);
    cm_job j1, j2, other;
    job_at(&j1, 100, 1, 0, "a");
    job_at(&j2, 101, 2, 0, "b");
    job_at(&other, 100, 1, 9, "o");
    uint64_t w1 = gw_acct_work_new(a, 0, &j1);
    uint64_t wo = gw_acct_work_new(a, 1, &other);
    assert_int_equal(gw_acct_submit(a, w1, UINT64_MAX, 5, 0x05000001, zero_hash), GW_ACCT_VERIFY);
    uint64_t w2 = gw_acct_work_new(a, 0, &j2);
    assert_false(gw_acct_work_live(a, w1));
    assert_true(gw_acct_work_live(a, wo)); /* another connection's block is its own */
    assert_int_equal(gw_acct_submit(a, w1, UINT64_MAX, 5, 0x05000002, zero_hash), GW_ACCT_STALE);
    assert_int_equal(gw_acct_submit(a, w2, UINT64_MAX, 5, 0x05000001, zero_hash), GW_ACCT_VERIFY);
    assert_int_equal(gw_acct_nonces(a), 1);
    /* The old block's job sent again: still stale, and upstream's latest word is that
     * block, so the newer work goes too. */
    assert_int_equal(gw_acct_work_new(a, 0, &j1), 0);
    assert_false(gw_acct_work_live(a, w2));
    assert_int_equal(gw_acct_nonces(a), 0);
    /* Height unknown (0) from a pool: the previous block id still tells. */
    cm_job p1, p2;
    job_at(&p1, 0, 3, 0, "p1");
    job_at(&p2, 0, 4, 0, "p2");
    uint64_t wp1 = gw_acct_work_new(a, 1, &p1);
    gw_acct_work_new(a, 1, &p2);
    assert_false(gw_acct_work_live(a, wp1));
    gw_acct_free(a);
}

/* A byte left with shares on a live work is not clean until that work retires; the
 * nonce set and the live works stay within their bounds. */
static void test_bytes_and_bounds(void **state)
{
    (void)state;
    gw_acct *a = gw_acct_new(1, 4);
    cm_job j[GW_ACCT_WORKS_PER_SLOT + 2];
    uint64_t w[GW_ACCT_WORKS_PER_SLOT + 2];
    for (int i = 0; i < GW_ACCT_WORKS_PER_SLOT + 2; i++) {
        job_at(&j[i], 100, 1, (uint8_t)i, "j");
        w[i] = gw_acct_work_new(a, 0, &j[i]);
        if (i == 0) {
            assert_true(gw_acct_byte_clean(a, 0, 9));
            gw_acct_byte_left(a, 0, 9);
            assert_false(gw_acct_byte_clean(a, 0, 9));
            assert_true(gw_acct_byte_clean(a, 0, 10));
        }
    }
    assert_int_equal(gw_acct_works(a), GW_ACCT_WORKS_PER_SLOT);
    assert_false(gw_acct_work_live(a, w[0]));
    assert_true(gw_acct_byte_clean(a, 0, 9)); /* the works it covered are gone */
    uint64_t last = w[GW_ACCT_WORKS_PER_SLOT + 1];
    for (uint32_t n = 0; n < 4; n++)
        assert_int_equal(gw_acct_submit(a, last, UINT64_MAX, 0, n, zero_hash), GW_ACCT_VERIFY);
    assert_int_equal(gw_acct_submit(a, last, UINT64_MAX, 0, 4, zero_hash), GW_ACCT_FULL);
    assert_int_equal(gw_acct_submit(a, last, UINT64_MAX, 0, 0, zero_hash), GW_ACCT_DUPLICATE);
    assert_true(gw_acct_next_job_id(a) < gw_acct_next_job_id(a));
    gw_acct_free(a);
}

/* max_invalid invalid shares from one address within the window start its cool-down;
 * the state stays while cooling and goes after. */
static void test_fair_cooldown(void **state)
{
    (void)state;
    gw_fair *f = gw_fair_new();
    gw_ipstate *st = gw_fair_get(f, "127.0.0.2");
    assert_ptr_equal(gw_fair_get(f, "127.0.0.2"), st);
    gw_fair_put(f, st, 0);
    for (int i = 0; i < 9; i++)
        assert_int_equal(gw_fair_invalid(st, 1000 + i, 10, 60000), 0);
    assert_int_equal(gw_fair_cooling(st, 2000), 0);
    assert_int_equal(gw_fair_invalid(st, 2000, 10, 60000), 1);
    assert_int_equal(gw_fair_cooling(st, 2000), 60000);
    gw_fair_put(f, st, 3000); /* cooling: kept */
    size_t known = 0, cooling = 0;
    gw_fair_counts(f, 3000, &known, &cooling);
    assert_int_equal(known, 1);
    assert_int_equal(cooling, 1);
    gw_fair_sweep(f, 62001);
    gw_fair_counts(f, 62001, &known, &cooling);
    assert_int_equal(known, 0);
    /* Invalid shares far apart never add up. */
    gw_ipstate *st2 = gw_fair_get(f, "::1");
    for (int i = 0; i < 30; i++)
        assert_int_equal(gw_fair_invalid(st2, (int64_t)i * 61000, 10, 60000), 0);
    gw_fair_put(f, st2, 0);
    gw_fair_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_keyed_on_work),
        cmocka_unit_test(test_new_block_retires),
        cmocka_unit_test(test_bytes_and_bounds),
        cmocka_unit_test(test_fair_cooldown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
