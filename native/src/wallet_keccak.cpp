// Keccak-256 for wallet_address.c, from Crypto++ (Debian's libcrypto++-dev): neither
// mbedTLS 2.28 nor the other libraries the project links have the pre-standard Keccak
// that Monero's address checksum uses.
#include <cryptopp/keccak.h>

extern "C" {
#include "wallet_address.h"
}

extern "C" void wallet_keccak256(const uint8_t *data, size_t len, uint8_t out[32])
{
    CryptoPP::Keccak_256 h;
    h.CalculateDigest(out, data, len);
}
