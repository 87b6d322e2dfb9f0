/* A RandomX light-mode hasher for the gateway's node test clients, over a pipe.
 *
 * Stands in for the wasm runtime where a test needs many hashes quickly: it keeps one
 * cache per seed, so a client does not pay the cache's 0.7 s on every hash. One request
 * a line on stdin, one answer a line on stdout:
 *   hash SEED_HEX BLOB_HEX                        -> hash HASH_HEX
 *   mine SEED_HEX BLOB_HEX TARGET64 NONCE COUNT   -> found NONCE_HEX HASH_HEX HASHES
 *                                                  | none HASHES
 * `mine` varies the low 24 bits of the nonce from NONCE on and keeps the blob's top nonce
 * byte (the NiceHash byte the gateway gave this browser); it stops at the first hash
 * below TARGET64 (decimal u64).
 * The person running the tests consents to their own CPU being used: the record below.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentminer/consent.h"
#include "consentminer/hasher.h"
#include "consentminer/hex.h"
#include "consentminer/job.h"
#include "consentminer/target.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
    cm_rx_cache *cache = NULL;
    cm_hasher *h = NULL;
    cm_consent *consent = cm_consent_new();
    cm_error err;
    if (!consent || cm_consent_grant(consent, now_ms(), CM_CONSENT_DEFAULT_MS, 1, 100, &err) ||
        cm_rx_cache_new(0, &cache, &err)) {
        fprintf(stderr, "rx_miner: %s\n", err.message);
        return 1;
    }
    char line[4096];
    setvbuf(stdout, NULL, _IOLBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        char cmd[8], seed_hex[130], blob_hex[1000];
        unsigned long long target = 0, nonce = 0, count = 0;
        int n = sscanf(line, "%7s %129s %999s %llu %llu %llu", cmd, seed_hex, blob_hex, &target,
                       &nonce, &count);
        uint8_t seed[64], blob[CM_BLOB_MAX], hash[32];
        size_t seed_len = 0, blob_len = 0, off = 0;
        if (n < 3 ||
            cm_hex_decode("seed", seed_hex, strlen(seed_hex), seed, sizeof seed, &seed_len, &err) ||
            cm_hex_decode("blob", blob_hex, strlen(blob_hex), blob, sizeof blob, &blob_len, &err)) {
            printf("error %s\n", n < 3 ? "bad request" : err.message);
            continue;
        }
        if (cm_rx_cache_set_seed(cache, seed, seed_len, NULL, &err) ||
            (!h && cm_hasher_new(0, cache, NULL, &h, &err)) ||
            cm_hasher_use(h, cache, NULL, &err)) {
            printf("error %s\n", err.message);
            continue;
        }
        if (!strcmp(cmd, "hash")) {
            if (cm_hasher_hash(h, consent, now_ms(), blob, blob_len, hash)) {
                printf("error hash failed\n");
                continue;
            }
            char out[65];
            cm_hex_encode(hash, 32, out);
            printf("hash %s\n", out);
            continue;
        }
        if (strcmp(cmd, "mine") || n != 6 || cm_blob_nonce_offset(blob, blob_len, &off, &err)) {
            printf("error bad mine request\n");
            continue;
        }
        unsigned long long i;
        int found = 0;
        for (i = 0; i < count; i++) {
            uint32_t v = (uint32_t)(nonce + i);
            blob[off] = (uint8_t)v;
            blob[off + 1] = (uint8_t)(v >> 8);
            blob[off + 2] = (uint8_t)(v >> 16);
            if (cm_hasher_hash(h, consent, now_ms(), blob, blob_len, hash))
                break;
            if (cm_hash_meets_target(hash, target)) {
                char hx[65], nx[9];
                cm_hex_encode(hash, 32, hx);
                cm_hex_encode(blob + off, 4, nx);
                printf("found %s %s %llu\n", nx, hx, i + 1);
                found = 1;
                break;
            }
        }
        if (!found)
            printf("none %llu\n", i);
    }
    cm_hasher_free(h);
    cm_rx_cache_free(cache);
    cm_consent_free(consent);
    return 0;
}
