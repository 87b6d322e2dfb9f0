/* consentminer tests — the native oracle for the wasm hash differential test.
 *
 * Reads lines "KEY_HEX INPUT_HEX" on stdin and prints RandomX's hash of each (light
 * mode), computed by Debian's librandomx (the library the native build links) with
 * its recommended flags on this machine: JIT, hardware AES, x86 MXCSR rounding. The
 * cache is rebuilt only when the key changes, which makes this much faster than one
 * `consentminer hash` per pair; tests/wasm/diff-hashes.sh checks pairs against that
 * command too.
 */
#include <randomx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unhex(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (unsigned char)v;
    }
    return n % 2 ? -1 : 0;
}

int main(void)
{
    randomx_flags flags = randomx_get_flags();
    randomx_cache *cache = randomx_alloc_cache(flags);
    if (!cache) {
        fprintf(stderr, "rx_hash_batch: cannot allocate the RandomX cache\n");
        return 1;
    }
    randomx_vm *vm = NULL;
    static char line[1 << 16];
    static unsigned char key[64], lastkey[64], input[1 << 15];
    size_t lastlen = 0;
    unsigned long n = 0;
    while (fgets(line, sizeof line, stdin)) {
        n++;
        char *k = strtok(line, " \t\r\n"), *in = strtok(NULL, " \t\r\n");
        if (!k || k[0] == '#')
            continue;
        if (!in)
            in = "";
        size_t kl = strlen(k), il = strlen(in);
        if (kl < 2 || kl > 128 || il / 2 > sizeof input || unhex(k, kl, key) ||
            unhex(in, il, input)) {
            fprintf(stderr, "rx_hash_batch: line %lu is not KEY_HEX INPUT_HEX\n", n);
            return 2;
        }
        kl /= 2;
        if (!vm || kl != lastlen || memcmp(key, lastkey, kl) != 0) {
            randomx_init_cache(cache, key, kl);
            memcpy(lastkey, key, kl);
            lastlen = kl;
            if (!vm && !(vm = randomx_create_vm(flags, cache, NULL))) {
                fprintf(stderr, "rx_hash_batch: cannot create the RandomX VM\n");
                return 1;
            }
            randomx_vm_set_cache(vm, cache);
        }
        unsigned char hash[RANDOMX_HASH_SIZE];
        randomx_calculate_hash(vm, input, il / 2, hash);
        for (int i = 0; i < RANDOMX_HASH_SIZE; i++)
            printf("%02x", hash[i]);
        putchar('\n');
    }
    if (vm)
        randomx_destroy_vm(vm);
    randomx_release_cache(cache);
    return 0;
}
