/* consentminer — splitting the nonce space between workers.
 *
 * The nonce is 4 little-endian blob bytes. Without NiceHash a worker may vary all 32
 * bits; in NiceHash mode the pool (or the gateway) fixes the top byte and workers vary
 * the low 24 bits. Worker i of n gets the i-th of n contiguous, disjoint slices of that
 * space, so no two workers of one job ever hash the same nonce.
 */
#ifndef CONSENTMINER_NONCE_H
#define CONSENTMINER_NONCE_H

#include <stdint.h>
#include "consentminer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_nonce_range {
    uint64_t next;   /* next nonce to hand out, within [first, end) */
    uint64_t first;  /* first nonce of this worker's slice */
    uint64_t end;    /* one past the last nonce of this worker's slice */
    uint32_t fixed;  /* bits fixed by NiceHash (top byte), OR-ed into every nonce */
} cm_nonce_range;

/* Gives worker `index` of `count` its slice. nicehash: 0, or 1 with fixed_byte the
 * top byte to keep. Errors: CM_E_INVAL when count is 0, index >= count, or count is
 * larger than the space (2^24 with NiceHash, 2^32 without). */
int cm_nonce_range_init(cm_nonce_range *r, uint32_t index, uint32_t count, int nicehash,
                        uint8_t fixed_byte, cm_error *err);

/* Hands out the next nonce of the slice. CM_E_NONCE_EXHAUSTED when the slice is used up
 * (the caller needs a new job). */
int cm_nonce_range_next(cm_nonce_range *r, uint32_t *nonce);

/* Nonces left in the slice. */
uint64_t cm_nonce_range_left(const cm_nonce_range *r);

#ifdef __cplusplus
}
#endif
#endif
