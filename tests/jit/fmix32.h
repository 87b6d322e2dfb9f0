/* murmur3's 32-bit finalizer: the test data generator the translator tests share with
 * their node halves (run_ss.mjs, run_prog.mjs compute the same). */
#pragma once
#include <stdint.h>

static inline uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}
