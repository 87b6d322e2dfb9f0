/* Hash rate over 10 s / 60 s / 15 min and share counters (stats.h), with simulated
 * workers whose true rates the test knows. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "consentminer/stats.h"

#define T0 1000000 /* an arbitrary monotonic origin, ms */

/* Feeds a steady `rate` (hashes per second) reported every `every_ms` from `from` to
 * `to` (ms after T0), carrying fractions over so the count is exact on average. */
static void feed(cm_stats *s, double rate, int64_t every_ms, int64_t from, int64_t to)
{
    double owed = 0;
    for (int64_t t = from + every_ms; t <= to; t += every_ms) {
        owed += rate * (double)every_ms / 1000.0;
        uint64_t n = (uint64_t)owed;
        owed -= (double)n;
        cm_stats_add_hashes(s, T0 + t, n);
    }
}

static void expect_rate(const cm_stats *s, int64_t at, int64_t window, double want, double tol)
{
    double got = cm_stats_hashrate(s, T0 + at, window);
    if (fabs(got - want) > tol * want + 1e-9)
        fail_msg("at %lld ms over %lld ms: %.3f H/s, expected %.3f (within %.0f%%)", (long long)at,
                 (long long)window, got, want, tol * 100);
}

static void test_steady_reports_every_second(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    assert_non_null(s);
    feed(s, 100, 1000, 0, 300000);
    expect_rate(s, 300000, CM_STATS_WINDOW_SHORT_MS, 100, 0.02);
    expect_rate(s, 300000, CM_STATS_WINDOW_MEDIUM_MS, 100, 0.02);
    /* Five minutes in, the 15-minute rate is over the five minutes that passed. */
    expect_rate(s, 300000, CM_STATS_WINDOW_LONG_MS, 100, 0.02);
    /* Between reports, and off the bucket grid, too. */
    expect_rate(s, 300001, CM_STATS_WINDOW_SHORT_MS, 100, 0.02);
    expect_rate(s, 300137, CM_STATS_WINDOW_SHORT_MS, 100, 0.03);
    assert_true(cm_stats_total_hashes(s) == 30000);
    cm_stats_free(s);
}

static void test_steady_many_reports(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 37.5, 40, 0, 1000000);
    expect_rate(s, 1000000, CM_STATS_WINDOW_SHORT_MS, 37.5, 0.02);
    expect_rate(s, 1000000, CM_STATS_WINDOW_MEDIUM_MS, 37.5, 0.02);
    expect_rate(s, 1000000, CM_STATS_WINDOW_LONG_MS, 37.5, 0.02);
    cm_stats_free(s);
}

/* A one-second window asked about off the 250 ms bucket grid: the oldest bucket counts
 * only in part. */
static void test_short_window_off_grid(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 100, 10, 0, 100130);
    expect_rate(s, 100130, 1000, 100, 0.02);
    expect_rate(s, 100130, 2000, 100, 0.02);
    feed(s, 100, 10, 100130, 100370);
    expect_rate(s, 100370, 1000, 100, 0.02);
    cm_stats_free(s);
}

/* A browser worker: one hash every 400 ms, 2.5 H/s, asked at arbitrary moments. */
static void test_slow_worker(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    for (int64_t t = 400; t <= 120000; t += 400) {
        cm_stats_add_hashes(s, T0 + t, 1);
        if (t > 20000 && t % 1200 == 0) {
            expect_rate(s, t, CM_STATS_WINDOW_SHORT_MS, 2.5, 0.05);
            expect_rate(s, t + 399, CM_STATS_WINDOW_SHORT_MS, 2.5, 0.05);
        }
    }
    expect_rate(s, 120000, CM_STATS_WINDOW_MEDIUM_MS, 2.5, 0.02);
    cm_stats_free(s);
}

/* Large batches: 3 s of hashing reported at once must not make the 10 s rate jump. */
static void test_batched_reports(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 500, 3000, 0, 120000);
    for (int64_t at = 90000; at <= 120000; at += 3000)
        expect_rate(s, at, CM_STATS_WINDOW_SHORT_MS, 500, 0.03);
    cm_stats_free(s);
}

static void test_start_up(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    assert_true(cm_stats_hashrate(s, T0, CM_STATS_WINDOW_SHORT_MS) == 0.0);
    feed(s, 200, 100, 0, 4000);
    /* Four seconds in: every window reports over the four seconds. */
    expect_rate(s, 4000, CM_STATS_WINDOW_SHORT_MS, 200, 0.02);
    expect_rate(s, 4000, CM_STATS_WINDOW_MEDIUM_MS, 200, 0.02);
    expect_rate(s, 4000, CM_STATS_WINDOW_LONG_MS, 200, 0.02);
    cm_stats_free(s);
}

static void test_stop_and_change(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 100, 500, 0, 100000);
    /* Nothing for 20 s: the 10 s rate is 0, the 60 s one holds 40 s of hashing. */
    assert_true(cm_stats_hashrate(s, T0 + 120000, CM_STATS_WINDOW_SHORT_MS) < 0.5);
    expect_rate(s, 120000, CM_STATS_WINDOW_MEDIUM_MS, 100.0 * 40 / 60, 0.02);
    /* Then 300 H/s for 60 s. */
    feed(s, 300, 500, 120000, 180000);
    expect_rate(s, 180000, CM_STATS_WINDOW_SHORT_MS, 300, 0.02);
    expect_rate(s, 180000, CM_STATS_WINDOW_MEDIUM_MS, 300, 0.02);
    /* 180 s elapsed: 100 s at 100 and 60 s at 300 (the 5 s gap spread aside). */
    double want = (100.0 * 100 + 300.0 * 60) / 180;
    expect_rate(s, 180000, CM_STATS_WINDOW_LONG_MS, want, 0.02);
    cm_stats_free(s);
}

/* Hashes older than 15 minutes no longer count. */
static void test_long_window_forgets(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 1000, 1000, 0, 300000);
    feed(s, 10, 1000, 300000, 1200000);
    expect_rate(s, 1200000, CM_STATS_WINDOW_LONG_MS, 10, 0.02);
    expect_rate(s, 1200000, CM_STATS_WINDOW_MEDIUM_MS, 10, 0.02);
    /* Two minutes less: 60 s of the fast period is still in the window. */
    cm_stats *s2 = cm_stats_new(T0);
    feed(s2, 1000, 1000, 0, 300000);
    feed(s2, 10, 1000, 300000, 960000);
    expect_rate(s2, 960000, CM_STATS_WINDOW_LONG_MS, (1000.0 * 240 + 10.0 * 660) / 900, 0.02);
    cm_stats_free(s);
    cm_stats_free(s2);
}

/* A long silence (hours) and a restart read correctly. */
static void test_long_gap(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 50, 1000, 0, 60000);
    int64_t later = 4 * 3600 * 1000LL;
    assert_true(cm_stats_hashrate(s, T0 + later, CM_STATS_WINDOW_LONG_MS) == 0.0);
    feed(s, 80, 1000, later, later + 120000);
    expect_rate(s, later + 120000, CM_STATS_WINDOW_MEDIUM_MS, 80, 0.02);
    expect_rate(s, later + 120000, CM_STATS_WINDOW_LONG_MS, 80.0 * 120 / 900, 0.03);
    assert_true(cm_stats_total_hashes(s) == 50 * 60 + 80 * 120);
    cm_stats_free(s);
}

/* A report after a long silence stands for recent work, not for work spread over the
 * silence: 500 hashes after a minute without reports all land in the last 10 s. */
static void test_report_after_silence(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    feed(s, 100, 1000, 0, 60000);
    cm_stats_add_hashes(s, T0 + 120000, 500);
    expect_rate(s, 120000, CM_STATS_WINDOW_SHORT_MS, 50, 0.001);
    expect_rate(s, 120000, CM_STATS_WINDOW_MEDIUM_MS, 500.0 / 60, 0.001);
    cm_stats_free(s);
}

static void test_time_backwards(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(T0);
    cm_stats_add_hashes(s, T0 + 10000, 100);
    cm_stats_add_hashes(s, T0 + 9000, 50); /* counted at 10000 */
    assert_true(cm_stats_total_hashes(s) == 150);
    /* Spread over [5000, 10000): 150 hashes in the last 10 s. */
    expect_rate(s, 10000, CM_STATS_WINDOW_SHORT_MS, 150.0 / 10, 0.001);
    /* Asked about a moment before the latest report: the rate as of that report. */
    expect_rate(s, 9000, CM_STATS_WINDOW_SHORT_MS, 150.0 / 10, 0.001);
    /* Hashes reported before the start count from the start. */
    cm_stats *s2 = cm_stats_new(T0);
    cm_stats_add_hashes(s2, T0 - 5000, 7);
    assert_true(cm_stats_total_hashes(s2) == 7);
    expect_rate(s2, 1000, CM_STATS_WINDOW_SHORT_MS, 7.0, 0.001);
    cm_stats_free(s);
    cm_stats_free(s2);
}

static void test_shares(void **state)
{
    (void)state;
    cm_stats *s = cm_stats_new(0);
    for (int i = 0; i < 5; i++)
        cm_stats_add_share(s, CM_SHARE_ACCEPTED);
    cm_stats_add_share(s, CM_SHARE_REJECTED);
    cm_stats_add_share(s, CM_SHARE_STALE);
    cm_stats_add_share(s, CM_SHARE_STALE);
    cm_stats_add_share(s, (cm_share_outcome)7); /* ignored */
    assert_true(cm_stats_shares(s, CM_SHARE_ACCEPTED) == 5);
    assert_true(cm_stats_shares(s, CM_SHARE_REJECTED) == 1);
    assert_true(cm_stats_shares(s, CM_SHARE_STALE) == 2);
    assert_true(cm_stats_shares(s, (cm_share_outcome)7) == 0);
    cm_stats_free(s);
    assert_true(cm_stats_shares(NULL, CM_SHARE_ACCEPTED) == 0);
    assert_true(cm_stats_hashrate(NULL, 0, CM_STATS_WINDOW_SHORT_MS) == 0.0);
    assert_true(cm_stats_total_hashes(NULL) == 0);
    cm_stats_add_hashes(NULL, 0, 5);
    cm_stats_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_reports_every_second),
        cmocka_unit_test(test_steady_many_reports),
        cmocka_unit_test(test_short_window_off_grid),
        cmocka_unit_test(test_slow_worker),
        cmocka_unit_test(test_batched_reports),
        cmocka_unit_test(test_start_up),
        cmocka_unit_test(test_stop_and_change),
        cmocka_unit_test(test_long_window_forgets),
        cmocka_unit_test(test_long_gap),
        cmocka_unit_test(test_report_after_silence),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
