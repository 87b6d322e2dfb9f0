/* consentminer — share targets and difficulty.
 *
 * Stratum sends a target as hex: 4 bytes are a little-endian u32 t, meaning
 * target64 = 0xFFFFFFFFFFFFFFFF / (0xFFFFFFFF / t); 8 bytes are a little-endian u64 used as
 * is. A share is valid when the little-endian u64 in hash bytes 24..31 is below target64.
 * A block is valid when the hash, read as a 256-bit little-endian number, times the
 * block difficulty is below 2^256 (Monero's check_hash).
 */
#ifndef CONSENTMINER_TARGET_H
#define CONSENTMINER_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include "consentminer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a 4- or 8-byte hex target. Errors: CM_E_TARGET (wrong length, zero),
 * CM_E_HEX_ODD, CM_E_HEX_CHAR. */
int cm_target_parse(const char *hex, uint64_t *target64, cm_error *err);

/* The 64-bit target for a difficulty (>= 1): 0xFFFFFFFFFFFFFFFF / difficulty. */
uint64_t cm_target_from_difficulty(uint64_t difficulty);

/* The difficulty a 64-bit target stands for: 0xFFFFFFFFFFFFFFFF / target64 (0 -> 0). */
uint64_t cm_target_to_difficulty(uint64_t target64);

/* Writes the shortest stratum form of a difficulty's target into out (capacity >= 17):
 * 8 hex characters (4 bytes) when the target fits the 32-bit form, else 16. */
void cm_target_to_hex(uint64_t difficulty, char *out);

/* 1 when hash bytes 24..31 (little-endian u64) are below target64. */
int cm_hash_meets_target(const uint8_t hash[32], uint64_t target64);

/* 1 when hash * difficulty < 2^256 (hash as a little-endian 256-bit number). */
int cm_hash_meets_difficulty(const uint8_t hash[32], uint64_t difficulty);

#ifdef __cplusplus
}
#endif
#endif
