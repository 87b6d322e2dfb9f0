/* consentminer — exponential backoff with jitter for reconnects. */
#include "backoff.h"

void cm_backoff_init(cm_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed)
{
    b->min_ms = min_ms ? min_ms : 1;
    b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
    b->failures = 0;
    b->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

uint32_t cm_backoff_next(cm_backoff *b)
{
    uint64_t d = b->min_ms;
    for (uint32_t i = 0; i < b->failures && d < b->max_ms; i++)
        d *= 2;
    if (d > b->max_ms)
        d = b->max_ms;
    if (b->failures < 64)
        b->failures++;
    uint64_t half = d / 2;
    return (uint32_t)(d - half + xorshift(&b->rng) % (half + 1));
}

void cm_backoff_reset(cm_backoff *b)
{
    b->failures = 0;
}
