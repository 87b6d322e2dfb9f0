/* consentminer — the consent record: grant, restore, revoke, check at a given time.
 *
 * Grant and restore run on the thread that owns the record (the one that talks to the
 * person). Revoke may come from any thread while hashing threads call check, so the
 * revoked flag is atomic: a check that starts after revoke returned sees it. The
 * validity window is [granted_at, expires_at): at expires_at the yes has expired.
 */
#include "consentminer/consent.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* A restored record may carry a grant time slightly ahead of this clock (it was made on
 * another machine or before a clock correction); more than a minute is not skew. */
#define CM_CONSENT_SKEW_MS (60LL * 1000)

struct cm_consent {
    bool granted;
    int64_t granted_at_ms;
    int64_t expires_at_ms;
    int threads;
    int throttle_pct;
    atomic_bool revoked;
};

cm_consent *cm_consent_new(void)
{
    cm_consent *c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    c->granted = false;
    c->granted_at_ms = 0;
    c->expires_at_ms = 0;
    c->threads = 0;
    c->throttle_pct = 0;
    atomic_init(&c->revoked, false);
    return c;
}

void cm_consent_free(cm_consent *c)
{
    free(c);
}

static int check_args(const char *time_name, int64_t granted_at_ms, int64_t duration_ms,
                      int threads, int throttle_pct, const char *duration_name, cm_error *err)
{
    if (granted_at_ms < 0)
        return cm_error_set(err, CM_E_CONSENT_INVALID,
                            "consent %s is %lld ms; expected a time since the Unix epoch",
                            time_name, (long long)granted_at_ms);
    if (duration_ms < 1 || duration_ms > CM_CONSENT_MAX_MS)
        return cm_error_set(err, CM_E_CONSENT_INVALID,
                            "consent %s is %lld ms; expected 1..%lld (at most 30 days)",
                            duration_name, (long long)duration_ms, (long long)CM_CONSENT_MAX_MS);
    if (threads < 1 || threads > CM_CONSENT_MAX_THREADS)
        return cm_error_set(err, CM_E_CONSENT_INVALID, "consent threads is %d; expected 1..%d",
                            threads, CM_CONSENT_MAX_THREADS);
    if (throttle_pct < 1 || throttle_pct > 100)
        return cm_error_set(err, CM_E_CONSENT_INVALID,
                            "consent throttle is %d percent; expected 1..100", throttle_pct);
    return CM_OK;
}

static void record(cm_consent *c, int64_t granted_at_ms, int64_t duration_ms, int threads,
                   int throttle_pct)
{
    c->granted_at_ms = granted_at_ms;
    c->expires_at_ms = granted_at_ms + duration_ms;
    c->threads = threads;
    c->throttle_pct = throttle_pct;
    c->granted = true;
    atomic_store(&c->revoked, false);
}

int cm_consent_grant(cm_consent *c, int64_t now_ms, int64_t duration_ms, int threads,
                     int throttle_pct, cm_error *err)
{
    if (c == NULL)
        return cm_error_set(err, CM_E_INVAL, "consent record is NULL");
    int rc = check_args("now_ms", now_ms, duration_ms, threads, throttle_pct, "duration", err);
    if (rc != CM_OK)
        return rc;
    /* now_ms >= 0 and duration_ms <= 30 days, so only a clock near INT64_MAX overflows. */
    if (now_ms > INT64_MAX - duration_ms)
        return cm_error_set(err, CM_E_CONSENT_INVALID, "consent now_ms %lld is out of range",
                            (long long)now_ms);
    record(c, now_ms, duration_ms, threads, throttle_pct);
    cm_error_clear(err);
    return CM_OK;
}

int cm_consent_restore(cm_consent *c, int64_t granted_at_ms, int64_t expires_at_ms, int threads,
                       int throttle_pct, int64_t now_ms, cm_error *err)
{
    if (c == NULL)
        return cm_error_set(err, CM_E_INVAL, "consent record is NULL");
    if (now_ms < 0)
        return cm_error_set(err, CM_E_CONSENT_INVALID,
                            "consent now_ms is %lld; expected a time since the Unix epoch",
                            (long long)now_ms);
    if (granted_at_ms < 0)
        return check_args("granted_at", granted_at_ms, 1, threads, throttle_pct, "", err);
    /* granted_at_ms >= 0 here, so the subtraction below cannot overflow. */
    if (expires_at_ms <= granted_at_ms)
        return cm_error_set(err, CM_E_CONSENT_INVALID,
                            "consent expires_at (%lld) is not after granted_at (%lld)",
                            (long long)expires_at_ms, (long long)granted_at_ms);
    int rc = check_args("granted_at", granted_at_ms, expires_at_ms - granted_at_ms, threads,
                        throttle_pct, "duration expires_at - granted_at", err);
    if (rc != CM_OK)
        return rc;
    if (granted_at_ms > now_ms && granted_at_ms - now_ms > CM_CONSENT_SKEW_MS)
        return cm_error_set(err, CM_E_CONSENT_INVALID,
                            "consent granted_at is %lld ms after now; at most %lld ms of clock "
                            "skew is allowed",
                            (long long)(granted_at_ms - now_ms), (long long)CM_CONSENT_SKEW_MS);
    record(c, granted_at_ms, expires_at_ms - granted_at_ms, threads, throttle_pct);
    cm_error_clear(err);
    return CM_OK;
}

int cm_consent_restore_numbers(cm_consent *c, double granted_at_ms, double expires_at_ms,
                               double threads, double throttle_pct, int64_t now_ms, cm_error *err)
{
    if (c == NULL)
        return cm_error_set(err, CM_E_INVAL, "consent record is NULL");
    /* 2^53: beyond it a double no longer holds every whole millisecond. Threads and
     * throttle get a wide bound that fits an int, so the range check of
     * cm_consent_restore names what they should be. */
    const double max_ms = 9007199254740992.0;
    const struct {
        const char *name;
        double v, lo, hi;
        const char *expected;
    } f[] = {
        {"granted_at", granted_at_ms, 0, max_ms, "a whole number of ms since the Unix epoch"},
        {"expires_at", expires_at_ms, 0, max_ms, "a whole number of ms since the Unix epoch"},
        {"threads", threads, -1e9, 1e9, "a whole number 1..256"},
        {"throttle", throttle_pct, -1e9, 1e9, "a whole number of percent 1..100"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        /* The range test first, so the cast never sees a value an int64_t cannot hold;
         * NaN fails every comparison. */
        double v = f[i].v;
        if (!(v >= f[i].lo && v <= f[i].hi) || (double)(int64_t)v != v)
            return cm_error_set(err, CM_E_CONSENT_INVALID, "consent %s is %.17g; expected %s",
                                f[i].name, v, f[i].expected);
    }
    return cm_consent_restore(c, (int64_t)granted_at_ms, (int64_t)expires_at_ms, (int)threads,
                              (int)throttle_pct, now_ms, err);
}

void cm_consent_revoke(cm_consent *c)
{
    if (c != NULL)
        atomic_store(&c->revoked, true);
}

int cm_consent_check(const cm_consent *c, int64_t now_ms)
{
    if (c == NULL || !c->granted)
        return CM_E_NO_CONSENT;
    /* The cast drops const only for the atomic load, which C11 declares on non-const
     * pointers; it writes nothing. */
    if (atomic_load((atomic_bool *)&c->revoked))
        return CM_E_CONSENT_REVOKED;
    if (now_ms >= c->expires_at_ms)
        return CM_E_CONSENT_EXPIRED;
    return CM_OK;
}

int cm_consent_check_use(const cm_consent *c, int64_t now_ms, int thread_index, int throttle_pct)
{
    int rc = cm_consent_check(c, now_ms);
    if (rc)
        return rc;
    if (thread_index < 0 || thread_index >= c->threads || throttle_pct < 1 ||
        throttle_pct > c->throttle_pct)
        return CM_E_CONSENT_EXCEEDED;
    return CM_OK;
}

int64_t cm_consent_granted_at(const cm_consent *c)
{
    return c != NULL && c->granted ? c->granted_at_ms : 0;
}

int64_t cm_consent_expires_at(const cm_consent *c)
{
    return c != NULL && c->granted ? c->expires_at_ms : 0;
}

int cm_consent_threads(const cm_consent *c)
{
    return c != NULL && c->granted ? c->threads : 0;
}

int cm_consent_throttle(const cm_consent *c)
{
    return c != NULL && c->granted ? c->throttle_pct : 0;
}
