/* consentminer — stratum targets, difficulty, and the share and block checks.
 *
 * The 4-byte target form and its expansion to 64 bits are xmrig's and Monero pools'
 * (docs/design.md, protocols); the block check is Monero's check_hash: the 256-bit hash
 * times the difficulty must not overflow 256 bits.
 */
#include "consentminer/target.h"

#include <string.h>

#include "consentminer/hex.h"

static uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t read_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t expand32(uint32_t t)
{
    return UINT64_MAX / (UINT64_C(0xFFFFFFFF) / t);
}

int cm_target_parse(const char *hex, uint64_t *target64, cm_error *err)
{
    if (hex == NULL)
        return cm_error_set(err, CM_E_TARGET,
                            "target is missing; expected 4 or 8 bytes of hex (8 or 16 characters)");
    size_t len = strlen(hex);
    uint8_t bytes[8];
    size_t n = 0;
    if (len % 2 != 0)
        return cm_hex_decode("target", hex, len, bytes, sizeof bytes, &n, err);
    if (len != 8 && len != 16)
        return cm_error_set(err, CM_E_TARGET, "target is %zu bytes of hex; expected 4 or 8",
                            len / 2);
    int rc = cm_hex_decode("target", hex, len, bytes, sizeof bytes, &n, err);
    if (rc != CM_OK)
        return rc;
    uint64_t t = n == 4 ? read_le32(bytes) : read_le64(bytes);
    if (t == 0)
        return cm_error_set(err, CM_E_TARGET, "target is zero; no hash can meet it");
    if (target64 != NULL)
        *target64 = n == 4 ? expand32((uint32_t)t) : t;
    cm_error_clear(err);
    return CM_OK;
}

uint64_t cm_target_from_difficulty(uint64_t difficulty)
{
    /* Difficulty 0 means nothing; treat it as the easiest, 1. */
    return difficulty == 0 ? UINT64_MAX : UINT64_MAX / difficulty;
}

uint64_t cm_target_to_difficulty(uint64_t target64)
{
    return target64 == 0 ? 0 : UINT64_MAX / target64;
}

void cm_target_to_hex(uint64_t difficulty, char *out)
{
    uint64_t target64 = cm_target_from_difficulty(difficulty);
    uint8_t bytes[8];
    /* The 4-byte form t = 0xFFFFFFFF / difficulty is what pools send; use it only when a
     * miner expanding it gets back exactly this target, so the two forms never disagree
     * about which shares are valid. */
    uint64_t d = difficulty == 0 ? 1 : difficulty;
    if (d <= UINT64_C(0xFFFFFFFF)) {
        uint32_t t = (uint32_t)(UINT64_C(0xFFFFFFFF) / d);
        if (expand32(t) == target64) {
            for (int i = 0; i < 4; i++)
                bytes[i] = (uint8_t)(t >> (8 * i));
            cm_hex_encode(bytes, 4, out);
            return;
        }
    }
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(target64 >> (8 * i));
    cm_hex_encode(bytes, 8, out);
}

int cm_hash_meets_target(const uint8_t hash[32], uint64_t target64)
{
    return read_le64(hash + 24) < target64;
}

/* 64x64 -> 128-bit product from 32-bit halves, so the same code runs on wasm32 and
 * every compiler; a block check happens once per share, so speed does not matter. */
static void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32;
    uint64_t b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    *lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

int cm_hash_meets_difficulty(const uint8_t hash[32], uint64_t difficulty)
{
    /* Multiply limb by limb, least significant first; whatever carries out of the top
     * limb is the part of the product at or above 2^256. */
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t hi, lo;
        mul64(read_le64(hash + 8 * i), difficulty, &hi, &lo);
        lo += carry;
        if (lo < carry)
            hi++;
        carry = hi;
    }
    return carry == 0;
}
