/* The duty-cycle controller (throttle.h), driven by a simulated worker loop: hash for a
 * while, ask for a pause, "sleep" (sometimes longer or shorter than asked). The duty the
 * test measures from its own sums must converge to the setting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "consentminer/throttle.h"

typedef struct rng {
    uint64_t s;
} rng;

/* xorshift64*: deterministic, so a failure reproduces. */
static double uniform(rng *r, double lo, double hi)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t x = r->s * UINT64_C(2685821657736338717);
    return lo + (hi - lo) * (double)(x >> 11) / 9007199254740992.0;
}

typedef struct worker_model {
    double busy_lo, busy_hi; /* one busy interval, ms */
    double over_lo, over_hi; /* sleep overshoot added to every pause, ms */
    double sleep_scale;      /* the sleep actually lasts scale * asked */
    int spike_every;         /* every n-th sleep also overshoots by spike_ms (0: never) */
    double spike_ms;
} worker_model;

typedef struct sim {
    cm_throttle t;
    rng r;
    double slept; /* the previous pause as actually slept */
    long iter;
    double max_pause; /* the longest pause asked for in the last run() */
} sim;

/* Runs the loop for `ms` of simulated time; returns the duty over that time. */
static double run(sim *s, const worker_model *m, double ms)
{
    double busy_sum = 0, total = 0;
    s->max_pause = 0;
    while (total < ms) {
        double busy = uniform(&s->r, m->busy_lo, m->busy_hi);
        double pause = cm_throttle_account(&s->t, busy, s->slept);
        if (!(pause >= 0) || isinf(pause))
            fail_msg("pause %f", pause);
        if (pause > s->max_pause)
            s->max_pause = pause;
        double slept =
            pause > 0 ? pause * m->sleep_scale + uniform(&s->r, m->over_lo, m->over_hi) : 0;
        s->iter++;
        if (m->spike_every > 0 && s->iter % m->spike_every == 0)
            slept += m->spike_ms;
        s->slept = slept;
        busy_sum += busy;
        total += busy + slept;
    }
    return busy_sum / total;
}

static void sim_init(sim *s, int pct)
{
    memset(s, 0, sizeof *s);
    s->r.s = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)pct;
    assert_int_equal(cm_throttle_set(&s->t, pct), 0);
}

static void expect_converges(const worker_model *m, int pct, double warm_ms, double measure_ms)
{
    sim s;
    sim_init(&s, pct);
    run(&s, m, warm_ms);
    double duty = run(&s, m, measure_ms);
    if (fabs(duty - pct / 100.0) > 0.02)
        fail_msg("at %d%% the measured duty is %.2f%%", pct, duty * 100);
}

/* Native: a batch of a few hashes per interval, sleeps that overshoot a little and now
 * and then by a lot (a descheduled thread). */
static const worker_model native = {2, 20, 0, 0.5, 1.0, 50, 30};
/* Browser worker: one ~400 ms light-mode hash per interval, setTimeout late by a few ms. */
static const worker_model wasm = {350, 450, 0, 4, 1.0, 0, 0};
/* Timers that wake early: every pause lasts 90% of what was asked. */
static const worker_model early = {5, 15, 0, 0, 0.9, 0, 0};

static void test_native_30(void **state)
{
    (void)state;
    expect_converges(&native, 30, 30000, 120000);
}

static void test_native_50(void **state)
{
    (void)state;
    expect_converges(&native, 50, 30000, 120000);
}

static void test_native_80(void **state)
{
    (void)state;
    expect_converges(&native, 80, 30000, 120000);
}

static void test_wasm(void **state)
{
    (void)state;
    expect_converges(&wasm, 30, 60000, 600000);
    expect_converges(&wasm, 50, 60000, 600000);
    expect_converges(&wasm, 80, 60000, 600000);
}

static void test_early_wakeups(void **state)
{
    (void)state;
    expect_converges(&early, 30, 30000, 120000);
    expect_converges(&early, 50, 30000, 120000);
    expect_converges(&early, 80, 30000, 120000);
}

/* Native batches without the overshoot spikes, so a worker running flat out reads 100%. */
static const worker_model calm = {2, 20, 0, 0.5, 1.0, 0, 0};

static void test_setting_changes(void **state)
{
    (void)state;
    sim s;
    sim_init(&s, 80);
    run(&s, &calm, 30000);
    assert_int_equal(cm_throttle_set(&s.t, 30), 0);
    /* Lowering: while the window forgets the 80% history the worker runs below 30%, in
     * short pauses (the steady one is at most 47 ms here), not one stop of seconds. */
    double transient = run(&s, &calm, 5000);
    assert_true(transient < 0.30);
    if (s.max_pause > 500)
        fail_msg("a pause of %.0f ms after lowering the setting", s.max_pause);
    run(&s, &calm, 25000);
    double duty = run(&s, &calm, 60000);
    assert_true(fabs(duty - 0.30) <= 0.02);
    /* Raising: the worker does not run flat out to catch up. */
    assert_int_equal(cm_throttle_set(&s.t, 80), 0);
    double first = run(&s, &calm, 2000);
    if (first > 0.95)
        fail_msg("%.1f%% busy just after raising the setting to 80%%", first * 100);
    run(&s, &calm, 28000);
    duty = run(&s, &calm, 60000);
    assert_true(fabs(duty - 0.80) <= 0.02);
}

static void test_measured(void **state)
{
    (void)state;
    sim s;
    sim_init(&s, 50);
    assert_true(cm_throttle_measured(&s.t) == 0.0);
    run(&s, &native, 60000);
    double m = cm_throttle_measured(&s.t);
    if (fabs(m - 0.50) > 0.03)
        fail_msg("measured %.3f at 50%%", m);
    /* A long idle stretch (a hidden tab) shows in the measurement. */
    cm_throttle_account(&s.t, 10, 20000);
    assert_true(cm_throttle_measured(&s.t) < 0.05);
}

static void test_full_speed(void **state)
{
    (void)state;
    cm_throttle t = {0};
    assert_int_equal(cm_throttle_set(&t, 100), 0);
    for (int i = 0; i < 1000; i++)
        assert_true(cm_throttle_account(&t, 10 + i % 7, 0) == 0.0);
    assert_true(cm_throttle_measured(&t) > 0.999);
}

static void test_first_pause(void **state)
{
    (void)state;
    /* With no history, the first pause after 10 ms busy at 25% is the steady one, 30 ms,
     * give or take the window's decay. */
    cm_throttle t = {0};
    assert_int_equal(cm_throttle_set(&t, 25), 0);
    double p = cm_throttle_account(&t, 10, 0);
    assert_true(p > 29.0 && p < 31.0);
}

static void test_set_range(void **state)
{
    (void)state;
    cm_throttle t = {0};
    assert_int_equal(cm_throttle_set(&t, 40), 0);
    assert_int_not_equal(cm_throttle_set(&t, 0), 0);
    assert_int_not_equal(cm_throttle_set(&t, 101), 0);
    assert_int_not_equal(cm_throttle_set(&t, -5), 0);
    assert_int_not_equal(cm_throttle_set(NULL, 50), 0);
    assert_int_equal(t.pct, 40);
    assert_int_equal(cm_throttle_set(&t, 1), 0);
    assert_int_equal(cm_throttle_set(&t, 100), 0);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    cm_throttle t = {0};
    assert_int_equal(cm_throttle_set(&t, 50), 0);
    double p = cm_throttle_account(&t, NAN, NAN);
    assert_false(isnan(p));
    p = cm_throttle_account(&t, -5, -5);
    assert_false(isnan(p));
    assert_true(p >= 0);
    p = cm_throttle_account(&t, 10, INFINITY);
    assert_false(isnan(p) || isinf(p));
    assert_false(isnan(cm_throttle_measured(&t)));
    /* Never set: throttled, not flat out. */
    cm_throttle unset = {0};
    assert_true(cm_throttle_account(&unset, 10, 0) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_30),     cmocka_unit_test(test_native_50),
        cmocka_unit_test(test_native_80),     cmocka_unit_test(test_wasm),
        cmocka_unit_test(test_early_wakeups), cmocka_unit_test(test_setting_changes),
        cmocka_unit_test(test_measured),      cmocka_unit_test(test_full_speed),
        cmocka_unit_test(test_first_pause),   cmocka_unit_test(test_set_range),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
