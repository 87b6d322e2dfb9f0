/* consentminer gateway — each browser's difficulty, aimed at one share per interval.
 *
 * A browser's hash rate is unknown at login (a phone with one thread does ~1 H/s, a
 * desktop with eight ~20 H/s in wasm) and changes with its throttle. Shares are the only
 * measurement the gateway has, so it counts the difficulty credited since the last
 * change and retargets once there is enough evidence: three shares, or three intervals
 * without one. Each step moves by at most 4x either way so one lucky share cannot send
 * the difficulty out of reach, and changes under 15% are not worth a new job.
 */
#include "gateway.h"

#define VARDIFF_MIN_SHARES 3
#define VARDIFF_QUIET_INTERVALS 3.0
#define VARDIFF_MAX_STEP 4.0
#define VARDIFF_DEADBAND 0.15

void gw_vardiff_init(gw_vardiff *v, uint64_t diff, int64_t now_ms)
{
    v->diff = diff ? diff : 1;
    v->since_ms = now_ms;
    v->sum_diff = 0;
    v->shares = 0;
}

void gw_vardiff_share(gw_vardiff *v, uint64_t d)
{
    v->sum_diff += d;
    v->shares++;
}

uint64_t gw_vardiff_retarget(gw_vardiff *v, const gw_vardiff_cfg *cfg, int64_t now_ms)
{
    double interval = cfg->interval_s > 0 ? cfg->interval_s : 30.0;
    double elapsed = (double)(now_ms - v->since_ms) / 1000.0;
    if (elapsed <= 0)
        return 0;
    int enough = v->shares >= VARDIFF_MIN_SHARES && elapsed >= interval / 4;
    int quiet = elapsed >= VARDIFF_QUIET_INTERVALS * interval;
    if (!enough && !quiet)
        return 0;
    double cur = (double)v->diff;
    /* With no share at all, the rate is at most cur / elapsed: aim below it. */
    double rate = v->shares ? (double)v->sum_diff / elapsed : cur / elapsed;
    double want = rate * interval;
    if (want > cur * VARDIFF_MAX_STEP)
        want = cur * VARDIFF_MAX_STEP;
    if (want < cur / VARDIFF_MAX_STEP)
        want = cur / VARDIFF_MAX_STEP;
    double lo = cfg->min_diff ? (double)cfg->min_diff : 1.0;
    double hi = cfg->max_diff ? (double)cfg->max_diff : 1e15;
    if (want < lo)
        want = lo;
    if (want > hi)
        want = hi;
    v->since_ms = now_ms;
    v->sum_diff = 0;
    v->shares = 0;
    double change = want > cur ? want / cur - 1 : cur / want - 1;
    if (change < VARDIFF_DEADBAND)
        return 0;
    v->diff = (uint64_t)(want + 0.5);
    if (v->diff < 1)
        v->diff = 1;
    return v->diff;
}
