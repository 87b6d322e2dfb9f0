/* consentminer — hash rate over sliding windows and share counters.
 *
 * Hash rate over the last 10 s, 60 s and 15 min, as xmrig reports it. Time is passed
 * in (milliseconds, any monotonic origin). Not thread-safe: one cm_stats per thread, or
 * a lock around it.
 */
#ifndef CONSENTMINER_STATS_H
#define CONSENTMINER_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CM_STATS_WINDOW_SHORT_MS 10000
#define CM_STATS_WINDOW_MEDIUM_MS 60000
#define CM_STATS_WINDOW_LONG_MS 900000

typedef enum cm_share_outcome {
    CM_SHARE_ACCEPTED = 0,
    CM_SHARE_REJECTED = 1,
    CM_SHARE_STALE = 2
} cm_share_outcome;

typedef struct cm_stats cm_stats;

/* NULL when out of memory. start_ms is the time counting begins. */
cm_stats *cm_stats_new(int64_t start_ms);
void cm_stats_free(cm_stats *s);

/* Counts n hashes finished at now_ms (times must not go backwards; earlier ones are
 * counted at the latest time seen). */
void cm_stats_add_hashes(cm_stats *s, int64_t now_ms, uint64_t n);

/* Hashes per second over the last window_ms (1000..CM_STATS_WINDOW_LONG_MS) before now_ms;
 * while less time than the window has passed since start, over the time that has. */
double cm_stats_hashrate(const cm_stats *s, int64_t now_ms, int64_t window_ms);

uint64_t cm_stats_total_hashes(const cm_stats *s);
void cm_stats_add_share(cm_stats *s, cm_share_outcome outcome);
uint64_t cm_stats_shares(const cm_stats *s, cm_share_outcome outcome);

#ifdef __cplusplus
}
#endif
#endif
