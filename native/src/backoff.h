/* consentminer — reconnect delays: exponential backoff with jitter, bounded.
 *
 * The n-th consecutive failure waits a random time in [d/2, d] where
 * d = min(max_ms, min_ms * 2^n): growing so a dead pool is not hammered, bounded so a
 * returning pool is found soon, jittered so many miners do not reconnect in lockstep.
 */
#ifndef CM_NATIVE_BACKOFF_H
#define CM_NATIVE_BACKOFF_H

#include <stdint.h>

typedef struct cm_backoff {
    uint32_t min_ms;
    uint32_t max_ms;
    uint32_t failures; /* consecutive failures since the last success */
    uint64_t rng;      /* xorshift state; any non-zero seed */
} cm_backoff;

void cm_backoff_init(cm_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed);

/* The delay before the next attempt, counting one more failure. */
uint32_t cm_backoff_next(cm_backoff *b);

/* A connection worked: the next failure starts again from min_ms. */
void cm_backoff_reset(cm_backoff *b);

#endif
