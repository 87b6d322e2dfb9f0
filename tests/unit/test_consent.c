/* The consent record (consent.h): never granted, granted, expired at the exact boundary,
 * revoked (also from another thread), re-granted, restored, and every argument out of
 * range refused with a message that names it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "consentminer/consent.h"
#include "consentminer/error.h"

#define NOW 1790000000000LL /* a fixed wall time, ms */
#define DAY_MS 86400000LL
#define MAX_MS (30 * DAY_MS)

static int setup(void **state)
{
    cm_consent *c = cm_consent_new();
    if (c == NULL)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cm_consent_free(*state);
    return 0;
}

static void test_never_granted(void **state)
{
    cm_consent *c = *state;
    assert_int_equal(cm_consent_check(c, NOW), CM_E_NO_CONSENT);
    assert_int_equal(cm_consent_check(c, 0), CM_E_NO_CONSENT);
    assert_int_equal(cm_consent_check(NULL, NOW), CM_E_NO_CONSENT);
    /* Revoking a record that never held a yes still leaves "no consent". */
    cm_consent_revoke(c);
    assert_int_equal(cm_consent_check(c, NOW), CM_E_NO_CONSENT);
    assert_int_equal(cm_consent_threads(c), 0);
    assert_int_equal(cm_consent_throttle(c), 0);
    cm_consent_revoke(NULL);
}

static void test_grant_and_expiry_boundary(void **state)
{
    cm_consent *c = *state;
    cm_error err;
    assert_int_equal(cm_consent_grant(c, NOW, 60000, 2, 50, &err), CM_OK);
    assert_int_equal(err.code, CM_OK);
    assert_int_equal(cm_consent_check(c, NOW), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW + 59999), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW + 60000), CM_E_CONSENT_EXPIRED);
    assert_int_equal(cm_consent_check(c, NOW + 60001), CM_E_CONSENT_EXPIRED);
    assert_int_equal(cm_consent_check(c, INT64_MAX), CM_E_CONSENT_EXPIRED);
    assert_true(cm_consent_granted_at(c) == NOW);
    assert_true(cm_consent_expires_at(c) == NOW + 60000);
    assert_int_equal(cm_consent_threads(c), 2);
    assert_int_equal(cm_consent_throttle(c), 50);
}

static void test_shortest_and_longest(void **state)
{
    cm_consent *c = *state;
    assert_int_equal(cm_consent_grant(c, NOW, 1, 1, 1, NULL), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW + 1), CM_E_CONSENT_EXPIRED);
    assert_int_equal(cm_consent_grant(c, NOW, MAX_MS, 256, 100, NULL), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW + MAX_MS - 1), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW + MAX_MS), CM_E_CONSENT_EXPIRED);
    /* The default is 24 hours (docs/design.md, rule 7). */
    assert_int_equal(cm_consent_grant(c, NOW, CM_CONSENT_DEFAULT_MS, 1, 100, NULL), CM_OK);
    assert_true(cm_consent_expires_at(c) == NOW + 86400000LL);
    assert_true(CM_CONSENT_MAX_MS == 2592000000LL);
}

static void test_revoke_and_regrant(void **state)
{
    cm_consent *c = *state;
    assert_int_equal(cm_consent_grant(c, NOW, DAY_MS, 1, 30, NULL), CM_OK);
    cm_consent_revoke(c);
    assert_int_equal(cm_consent_check(c, NOW + 1), CM_E_CONSENT_REVOKED);
    /* Revoked wins over expired: the person said stop. */
    assert_int_equal(cm_consent_check(c, NOW + 2 * DAY_MS), CM_E_CONSENT_REVOKED);
    cm_consent_revoke(c); /* twice is harmless */
    assert_int_equal(cm_consent_check(c, NOW + 1), CM_E_CONSENT_REVOKED);
    assert_int_equal(cm_consent_grant(c, NOW + 10, DAY_MS, 1, 30, NULL), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW + 11), CM_OK);
    assert_true(cm_consent_granted_at(c) == NOW + 10);
}

static void expect_grant_invalid(cm_consent *c, int64_t now, int64_t duration, int threads,
                                 int throttle, const char *word)
{
    cm_error err;
    int rc = cm_consent_grant(c, now, duration, threads, throttle, &err);
    if (rc != CM_E_CONSENT_INVALID || err.code != rc || strstr(err.message, word) == NULL)
        fail_msg("grant(%lld, %lld, %d, %d) gave %s \"%s\", expected CM_E_CONSENT_INVALID naming "
                 "%s",
                 (long long)now, (long long)duration, threads, throttle, cm_err_name(rc),
                 err.message, word);
}

static void test_grant_out_of_range(void **state)
{
    cm_consent *c = *state;
    expect_grant_invalid(c, NOW, 0, 1, 50, "duration");
    expect_grant_invalid(c, NOW, -1, 1, 50, "duration");
    expect_grant_invalid(c, NOW, MAX_MS + 1, 1, 50, "duration");
    expect_grant_invalid(c, NOW, INT64_MAX, 1, 50, "duration");
    expect_grant_invalid(c, NOW, DAY_MS, 0, 50, "threads");
    expect_grant_invalid(c, NOW, DAY_MS, -3, 50, "threads");
    expect_grant_invalid(c, NOW, DAY_MS, 257, 50, "threads");
    expect_grant_invalid(c, NOW, DAY_MS, 1, 0, "throttle");
    expect_grant_invalid(c, NOW, DAY_MS, 1, 101, "throttle");
    expect_grant_invalid(c, NOW, DAY_MS, 1, -50, "throttle");
    expect_grant_invalid(c, -1, DAY_MS, 1, 50, "now");
    expect_grant_invalid(c, INT64_MAX - 5, DAY_MS, 1, 50, "now");
    /* Nothing was recorded by the refusals. */
    assert_int_equal(cm_consent_check(c, NOW), CM_E_NO_CONSENT);
    cm_error err;
    assert_int_equal(cm_consent_grant(NULL, NOW, DAY_MS, 1, 50, &err), CM_E_INVAL);
}

static void test_refused_grant_keeps_earlier_yes(void **state)
{
    cm_consent *c = *state;
    assert_int_equal(cm_consent_grant(c, NOW, DAY_MS, 4, 60, NULL), CM_OK);
    assert_int_equal(cm_consent_grant(c, NOW + 5, DAY_MS, 999, 60, NULL), CM_E_CONSENT_INVALID);
    assert_int_equal(cm_consent_check(c, NOW + 5), CM_OK);
    assert_int_equal(cm_consent_threads(c), 4);
    /* ... and a refused grant does not clear a revoke. */
    cm_consent_revoke(c);
    assert_int_equal(cm_consent_grant(c, NOW + 6, 0, 1, 60, NULL), CM_E_CONSENT_INVALID);
    assert_int_equal(cm_consent_check(c, NOW + 6), CM_E_CONSENT_REVOKED);
}

static void test_restore(void **state)
{
    cm_consent *c = *state;
    cm_error err;
    /* A record granted an hour ago for a day. */
    int64_t g = NOW - 3600000, e = g + DAY_MS;
    assert_int_equal(cm_consent_restore(c, g, e, 2, 40, NOW, &err), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW), CM_OK);
    assert_int_equal(cm_consent_check(c, e - 1), CM_OK);
    assert_int_equal(cm_consent_check(c, e), CM_E_CONSENT_EXPIRED);
    assert_true(cm_consent_granted_at(c) == g);
    assert_true(cm_consent_expires_at(c) == e);
    assert_int_equal(cm_consent_threads(c), 2);
    assert_int_equal(cm_consent_throttle(c), 40);
    /* Exactly 30 days is allowed; one millisecond more is not. */
    assert_int_equal(cm_consent_restore(c, g, g + MAX_MS, 1, 40, NOW, &err), CM_OK);
    assert_int_equal(cm_consent_restore(c, g, g + MAX_MS + 1, 1, 40, NOW, &err),
                     CM_E_CONSENT_INVALID);
    assert_non_null(strstr(err.message, "duration"));
    assert_int_equal(cm_consent_restore(c, g, g + 365 * DAY_MS, 1, 40, NOW, &err),
                     CM_E_CONSENT_INVALID);
    /* Expiring before, or at, the grant. */
    assert_int_equal(cm_consent_restore(c, g, g, 1, 40, NOW, &err), CM_E_CONSENT_INVALID);
    assert_non_null(strstr(err.message, "expires_at"));
    assert_int_equal(cm_consent_restore(c, g, INT64_MIN, 1, 40, NOW, &err), CM_E_CONSENT_INVALID);
    assert_int_equal(cm_consent_restore(c, INT64_MIN, g, 1, 40, NOW, &err), CM_E_CONSENT_INVALID);
    assert_non_null(strstr(err.message, "granted_at"));
    /* Granted in the future: a minute of clock skew passes, more does not. */
    assert_int_equal(cm_consent_restore(c, NOW + 60000, NOW + DAY_MS, 1, 40, NOW, &err), CM_OK);
    assert_int_equal(cm_consent_restore(c, NOW + 60001, NOW + DAY_MS, 1, 40, NOW, &err),
                     CM_E_CONSENT_INVALID);
    assert_non_null(strstr(err.message, "granted_at"));
    /* The same argument checks as grant. */
    assert_int_equal(cm_consent_restore(c, g, e, 0, 40, NOW, &err), CM_E_CONSENT_INVALID);
    assert_non_null(strstr(err.message, "threads"));
    assert_int_equal(cm_consent_restore(c, g, e, 1, 101, NOW, &err), CM_E_CONSENT_INVALID);
    assert_non_null(strstr(err.message, "throttle"));
}

static void test_restore_expired_and_after_revoke(void **state)
{
    cm_consent *c = *state;
    /* A stored record that ran out yesterday restores, but holds no yes now. */
    assert_int_equal(cm_consent_restore(c, NOW - 2 * DAY_MS, NOW - DAY_MS, 1, 50, NOW, NULL),
                     CM_OK);
    assert_int_equal(cm_consent_check(c, NOW), CM_E_CONSENT_EXPIRED);
    cm_consent_revoke(c);
    assert_int_equal(cm_consent_check(c, NOW), CM_E_CONSENT_REVOKED);
    assert_int_equal(cm_consent_restore(c, NOW, NOW + DAY_MS, 1, 50, NOW, NULL), CM_OK);
    assert_int_equal(cm_consent_check(c, NOW), CM_OK);
}

typedef struct hasher_sim {
    cm_consent *c;
    long checks;
    int result;
} hasher_sim;

static void *hash_until_refused(void *arg)
{
    hasher_sim *h = arg;
    int rc;
    while ((rc = cm_consent_check(h->c, NOW)) == CM_OK)
        h->checks++;
    h->result = rc;
    return NULL;
}

/* Revoke from one thread while another checks before every "hash": the checking thread
 * stops with CM_E_CONSENT_REVOKED. */
static void test_revoke_from_another_thread(void **state)
{
    cm_consent *c = *state;
    assert_int_equal(cm_consent_grant(c, NOW, DAY_MS, 1, 100, NULL), CM_OK);
    hasher_sim h = {c, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hash_until_refused, &h), 0);
    cm_consent_revoke(c);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(h.result, CM_E_CONSENT_REVOKED);
}

/* The ceilings, as the mining loop checks them before every hash: a thread beyond the
 * record's threads, or a throttle above its own, is refused; expiry comes first. */
static void test_check_use_ceilings(void **state)
{
    cm_consent *c = *state;
    assert_int_equal(cm_consent_check_use(c, NOW, 0, 50), CM_E_NO_CONSENT);
    assert_int_equal(cm_consent_grant(c, NOW, DAY_MS, 2, 60, NULL), CM_OK);
    assert_int_equal(cm_consent_check_use(c, NOW, 0, 60), CM_OK);
    assert_int_equal(cm_consent_check_use(c, NOW, 1, 1), CM_OK);
    assert_int_equal(cm_consent_check_use(c, NOW, 2, 60), CM_E_CONSENT_EXCEEDED);
    assert_int_equal(cm_consent_check_use(c, NOW, -1, 60), CM_E_CONSENT_EXCEEDED);
    assert_int_equal(cm_consent_check_use(c, NOW, 0, 61), CM_E_CONSENT_EXCEEDED);
    assert_int_equal(cm_consent_check_use(c, NOW, 0, 0), CM_E_CONSENT_EXCEEDED);
    assert_int_equal(cm_consent_check_use(c, NOW + DAY_MS, 0, 60), CM_E_CONSENT_EXPIRED);
    cm_consent_revoke(c);
    assert_int_equal(cm_consent_check_use(c, NOW, 0, 60), CM_E_CONSENT_REVOKED);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_never_granted),
        T(test_grant_and_expiry_boundary),
        T(test_shortest_and_longest),
        T(test_revoke_and_regrant),
        T(test_grant_out_of_range),
        T(test_refused_grant_keeps_earlier_yes),
        T(test_restore),
        T(test_restore_expired_and_after_revoke),
        T(test_revoke_from_another_thread),
        T(test_check_use_ceilings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
