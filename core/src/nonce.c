/* consentminer — disjoint nonce slices, one per worker.
 *
 * Slice i of n is [floor(S*i/n), floor(S*(i+1)/n)) of the space S (2^24 in NiceHash mode,
 * where the pool fixes the top byte, else 2^32): contiguous, disjoint, covering S, and
 * never empty while n <= S. S*(i+1) stays below 2^64 because i+1 <= n < 2^32.
 */
#include "consentminer/nonce.h"

#include <stddef.h>

#define NONCE_SPACE_FULL (UINT64_C(1) << 32)
#define NONCE_SPACE_NICEHASH (UINT64_C(1) << 24)

int cm_nonce_range_init(cm_nonce_range *r, uint32_t index, uint32_t count, int nicehash,
                        uint8_t fixed_byte, cm_error *err)
{
    if (r == NULL)
        return cm_error_set(err, CM_E_INVAL, "nonce range is NULL");
    uint64_t space = nicehash ? NONCE_SPACE_NICEHASH : NONCE_SPACE_FULL;
    if (count == 0)
        return cm_error_set(err, CM_E_INVAL, "worker count is 0; expected at least 1");
    if (index >= count)
        return cm_error_set(err, CM_E_INVAL, "worker index is %u; expected 0..%u", index,
                            count - 1);
    if (count > space)
        return cm_error_set(err, CM_E_INVAL,
                            "worker count is %u; the %s nonce space has only %llu nonces", count,
                            nicehash ? "NiceHash" : "32-bit", (unsigned long long)space);
    r->first = space * index / count;
    r->end = space * ((uint64_t)index + 1) / count;
    r->next = r->first;
    r->fixed = nicehash ? (uint32_t)fixed_byte << 24 : 0;
    cm_error_clear(err);
    return CM_OK;
}

int cm_nonce_range_next(cm_nonce_range *r, uint32_t *nonce)
{
    if (r == NULL || nonce == NULL)
        return CM_E_INVAL;
    if (r->next >= r->end)
        return CM_E_NONCE_EXHAUSTED;
    *nonce = (uint32_t)r->next | r->fixed;
    r->next++;
    return CM_OK;
}

uint64_t cm_nonce_range_left(const cm_nonce_range *r)
{
    if (r == NULL || r->next >= r->end)
        return 0;
    return r->end - r->next;
}
