/* consentminer — Monero address checks, so a typo in --wallet is caught at start rather
 * than as a pool's or monerod's refusal later (or, worse, a payout nobody can spend).
 *
 * An address is Monero's base58 (blocks of 8 bytes as 11 characters, the last block
 * shorter) of: the network tag (a varint; one byte for every tag in use), the public spend
 * and view keys (32 bytes each), an 8-byte payment id for integrated addresses, and the
 * first 4 bytes of the Keccak-256 of everything before them.
 */
#ifndef CONSENTMINER_WALLET_ADDRESS_H
#define CONSENTMINER_WALLET_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct wallet_address_info {
    const char *network; /* "mainnet", "testnet", "stagenet" */
    const char *kind;    /* "standard", "integrated", "subaddress" */
} wallet_address_info;

/* Checks `len` bytes of `text` as a Monero address. 0 and *info filled when valid; -1
 * with a sentence in err (naming what was expected) when not. info may be NULL. */
int wallet_address_check(const char *text, size_t len, wallet_address_info *info, char *err,
                         size_t errlen);

/* The address part of a pool login: pools take "ADDRESS.worker", "ADDRESS+difficulty" and
 * the like, so the address ends at the first '.', '+' or ':'. Returns its length. */
size_t wallet_address_span(const char *login);

/* Keccak-256 as Monero uses it (the original padding, not SHA3-256's), from Crypto++. */
void wallet_keccak256(const uint8_t *data, size_t len, uint8_t out[32]);

#endif
