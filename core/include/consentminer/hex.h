/* consentminer — hex encoding of the byte strings stratum carries. */
#ifndef CONSENTMINER_HEX_H
#define CONSENTMINER_HEX_H

#include <stddef.h>
#include <stdint.h>
#include "consentminer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes hex (length hex_len, not necessarily NUL-terminated) into out, which holds
 * out_cap bytes. On success *out_len is hex_len / 2. Errors: CM_E_HEX_ODD, CM_E_HEX_CHAR,
 * CM_E_INVAL when out_cap is too small. `field` names the input in the message
 * ("blob", "seed_hash"). */
int cm_hex_decode(const char *field, const char *hex, size_t hex_len, uint8_t *out,
                  size_t out_cap, size_t *out_len, cm_error *err);

/* The value 0..15 of one hex digit (either case), or -1 for any other character. */
int cm_hex_digit(int c);

/* Writes 2*len lowercase hex characters and a NUL into out (capacity >= 2*len+1). */
void cm_hex_encode(const uint8_t *bytes, size_t len, char *out);

#ifdef __cplusplus
}
#endif
#endif
