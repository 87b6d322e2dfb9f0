/* consentminer — Monero address checks (wallet_address.h says what an address is). */
#include "wallet_address.h"

#include <stdio.h>
#include <string.h>

static const char ALPHABET[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* Characters a base58 block of n bytes (0..8) takes. */
static const int BLOCK_CHARS[9] = {0, 2, 3, 5, 6, 7, 9, 10, 11};

/* Network tags from Monero's cryptonote_config.h (CRYPTONOTE_PUBLIC_*_BASE58_PREFIX). */
static const struct {
    uint8_t tag;
    const char *network, *kind;
} TAGS[] = {
    {18, "mainnet", "standard"},  {19, "mainnet", "integrated"},  {42, "mainnet", "subaddress"},
    {53, "testnet", "standard"},  {54, "testnet", "integrated"},  {63, "testnet", "subaddress"},
    {24, "stagenet", "standard"}, {25, "stagenet", "integrated"}, {36, "stagenet", "subaddress"},
};

static int digit(char c)
{
    const char *p = c ? strchr(ALPHABET, c) : NULL;
    return p ? (int)(p - ALPHABET) : -1;
}

/* Decodes base58 text into out (at most cap bytes); the number of bytes, or -1. */
static int decode(const char *text, size_t len, uint8_t *out, size_t cap, char *err, size_t errlen)
{
    size_t full = len / 11, rest = len % 11;
    int last = -1;
    for (int n = 0; n <= 8; n++)
        if ((size_t)BLOCK_CHARS[n] == rest)
            last = n;
    if (last < 0) {
        snprintf(err, errlen, "%zu characters cannot be Monero base58 (a last block of %zu)", len,
                 rest);
        return -1;
    }
    size_t total = full * 8 + (size_t)last;
    if (total > cap) {
        snprintf(err, errlen, "%zu characters is too long for a Monero address", len);
        return -1;
    }
    size_t o = 0;
    for (size_t b = 0; b <= full; b++) {
        size_t chars = b < full ? 11 : rest, bytes = b < full ? 8 : (size_t)last;
        if (chars == 0)
            break;
        unsigned __int128 v = 0;
        for (size_t i = 0; i < chars; i++) {
            char c = text[b * 11 + i];
            int d = digit(c);
            if (d < 0) {
                snprintf(err, errlen, "character '%c' at position %zu is not base58", c,
                         b * 11 + i + 1);
                return -1;
            }
            v = v * 58 + (unsigned)d;
        }
        if (bytes < 16 && (v >> (8 * bytes)) != 0) {
            snprintf(err, errlen, "base58 block %zu overflows its %zu bytes", b + 1, bytes);
            return -1;
        }
        for (size_t i = 0; i < bytes; i++)
            out[o + bytes - 1 - i] = (uint8_t)(v >> (8 * i));
        o += bytes;
    }
    return (int)total;
}

int wallet_address_check(const char *text, size_t len, wallet_address_info *info, char *err,
                         size_t errlen)
{
    if (len != 95 && len != 106) {
        snprintf(err, errlen, "%zu characters; a Monero address has 95 (106 for an integrated one)",
                 len);
        return -1;
    }
    uint8_t raw[80];
    int n = decode(text, len, raw, sizeof raw, err, errlen);
    if (n < 0)
        return -1;
    int k = -1;
    for (size_t i = 0; i < sizeof TAGS / sizeof TAGS[0]; i++)
        if (TAGS[i].tag == raw[0])
            k = (int)i;
    if (k < 0) {
        snprintf(err, errlen, "network byte %u is not a Monero address prefix", raw[0]);
        return -1;
    }
    int integrated = !strcmp(TAGS[k].kind, "integrated");
    if (n != (integrated ? 77 : 69)) {
        snprintf(err, errlen, "a %s %s address is %d bytes, this one %d", TAGS[k].network,
                 TAGS[k].kind, integrated ? 77 : 69, n);
        return -1;
    }
    uint8_t h[32];
    wallet_keccak256(raw, (size_t)n - 4, h);
    if (memcmp(h, raw + n - 4, 4) != 0) {
        snprintf(err, errlen, "its checksum does not match (a mistyped character?)");
        return -1;
    }
    if (info) {
        info->network = TAGS[k].network;
        info->kind = TAGS[k].kind;
    }
    return 0;
}

size_t wallet_address_span(const char *login)
{
    return strcspn(login, ".+:");
}
