/* consentminer — a pause controller that holds a duty cycle from measured busy time.
 *
 * State: exponentially weighted integrals, time constant TAU, of busy time (B) and of all
 * time (T), so B / T is the duty over a window of the last few seconds. Each call first
 * lets the window run through the idle time slept since the previous call, then through
 * the busy interval just measured (the worker loop is: pause, hash, account).
 *
 * The pause asked for is the idle time after which B / T falls to the level L that a
 * steady square wave at the requested fraction f (busy b, idle b (1 - f) / f) has at the
 * end of its idle phase. With T settled at TAU that pause is TAU ln(B / (L TAU)): in the
 * steady state it is exactly b (1 - f) / f, and a pause slept j ms too long shrinks B by
 * exp(-j / TAU), so the next pause is exactly j ms shorter. The long-run duty therefore
 * converges to f itself, not to a phase-dependent sample of it.
 *
 * Each pause stays within a quarter and four times the steady pause for the busy
 * interval just measured: after a late wake-up or a raised setting the worker catches up
 * gently instead of running flat out, and after a lowered setting it does not stop for
 * seconds to repay history gathered under the old one.
 */
#include "consentminer/throttle.h"

#include <math.h>
#include <stddef.h>

/* Time constant of the window: long enough to smooth single hashes of the wasm build
 * (about 400 ms each, docs/design.md measurements), short enough to follow a new setting and
 * show a hidden tab's idle time within seconds. */
#define THROTTLE_TAU_MS 5000.0
/* Longer intervals add nothing: after 100 time constants the window has forgotten the
 * past entirely. */
#define THROTTLE_INTERVAL_MAX_MS (100.0 * THROTTLE_TAU_MS)
#define THROTTLE_CATCH_UP 4.0

static double sane_interval(double ms)
{
    if (!(ms > 0.0)) /* negative, zero or NaN */
        return 0.0;
    return ms > THROTTLE_INTERVAL_MAX_MS ? THROTTLE_INTERVAL_MAX_MS : ms;
}

int cm_throttle_set(cm_throttle *t, int pct)
{
    if (t == NULL || pct < 1 || pct > 100)
        return CM_E_INVAL;
    t->pct = pct;
    return CM_OK;
}

/* Runs the window through ms milliseconds, busy or idle. */
static void advance(cm_throttle *t, double ms, int busy)
{
    double keep = exp(-ms / THROTTLE_TAU_MS);
    double added = THROTTLE_TAU_MS * -expm1(-ms / THROTTLE_TAU_MS);
    t->busy_ms = t->busy_ms * keep + (busy ? added : 0.0);
    t->total_ms = t->total_ms * keep + added;
}

double cm_throttle_account(cm_throttle *t, double busy_ms, double idle_ms)
{
    if (t == NULL)
        return 0.0;
    busy_ms = sane_interval(busy_ms);
    idle_ms = sane_interval(idle_ms);
    if (!(t->busy_ms >= 0.0) || !(t->total_ms >= t->busy_ms) ||
        !(t->total_ms <= THROTTLE_TAU_MS * (1.0 + 1e-9))) {
        t->busy_ms = 0.0; /* never used, or damaged: start a fresh window */
        t->total_ms = 0.0;
    }
    advance(t, idle_ms, 0);
    advance(t, busy_ms, 1);

    /* A struct that was never set (pct 0) throttles hardest rather than not at all. */
    int pct = t->pct < 1 ? 1 : t->pct;
    if (pct >= 100 || busy_ms == 0.0)
        return 0.0;
    double f = pct / 100.0;
    double steady = busy_ms * (1.0 - f) / f;

    /* L: the square wave's window level at the end of its idle phase. */
    double eb = exp(-busy_ms / THROTTLE_TAU_MS);
    double ep = exp(-steady / THROTTLE_TAU_MS);
    double level = -expm1(-busy_ms / THROTTLE_TAU_MS) * ep / (1.0 - eb * ep);
    double pause = steady;
    if (level > 1e-12) {
        /* Solve B e / (T e + TAU (1 - e)) = L for e = exp(-pause / TAU). */
        double x = (t->busy_ms - level * t->total_ms) / (level * THROTTLE_TAU_MS);
        pause = x > 0.0 ? THROTTLE_TAU_MS * log1p(x) : 0.0;
    }
    if (pause < steady / THROTTLE_CATCH_UP)
        pause = steady / THROTTLE_CATCH_UP;
    if (pause > steady * THROTTLE_CATCH_UP)
        pause = steady * THROTTLE_CATCH_UP;
    return pause;
}

double cm_throttle_measured(const cm_throttle *t)
{
    if (t == NULL || !(t->total_ms > 0.0))
        return 0.0;
    double m = t->busy_ms / t->total_ms;
    return m < 0.0 ? 0.0 : (m > 1.0 ? 1.0 : m);
}
