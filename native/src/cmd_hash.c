/* consentminer hash — one RandomX hash in light mode, for checking against vectors.
 * Running this command is the consent: it grants a record for its own run only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "commands.h"
#include "consentminer/consent.h"
#include "consentminer/hasher.h"
#include "consentminer/hex.h"
#include "platform.h"

/* Inputs are bounded only to keep a typo from allocating gigabytes. */
#define CM_HASH_INPUT_MAX (1u << 20)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: consentminer hash (--key-text T | --key-hex H) (--input-text I | --input-hex H)\n"
            "                         [--no-jit]\n\n"
            "Prints the 64-hex RandomX hash of the input under the key (light mode).\n\n"
            "  --key-text T     the RandomX key (seed) as text, e.g. \"test key 000\"\n"
            "  --key-hex H      the key as hex, 1..64 bytes (a Monero seed_hash is 32)\n"
            "  --input-text I   the input as text, e.g. \"This is a test\"\n"
            "  --input-hex H    the input as hex (a hashing blob, for example)\n"
            "  --no-jit         use RandomX's interpreter instead of its JIT compiler\n"
            "  -h, --help       show this help\n");
}

/* Reads a text or hex argument into a fresh buffer. */
static int take(const char *field, const char *text, int is_hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(text);
    if (!is_hex) {
        *out = malloc(n ? n : 1);
        if (!*out)
            return -1;
        memcpy(*out, text, n);
        *len = n;
        return 0;
    }
    *out = malloc(n / 2 + 1);
    if (!*out)
        return -1;
    cm_error err;
    if (cm_hex_decode(field, text, n, *out, n / 2 + 1, len, &err)) {
        fprintf(stderr, "consentminer hash: %s\n", err.message);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int cm_cmd_hash(int argc, char **argv)
{
    const char *key = NULL, *input = NULL;
    int key_hex = 0, input_hex = 0, no_jit = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--key-text") || !strcmp(a, "--key-hex")) {
            if (!(key = cm_arg_value(argc, argv, &i)))
                return 2;
            key_hex = !strcmp(a, "--key-hex");
        } else if (!strcmp(a, "--input-text") || !strcmp(a, "--input-hex")) {
            if (!(input = cm_arg_value(argc, argv, &i)))
                return 2;
            input_hex = !strcmp(a, "--input-hex");
        } else if (!strcmp(a, "--no-jit")) {
            no_jit = 1;
        } else {
            fprintf(stderr, "consentminer hash: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!key || !input) {
        fprintf(stderr, "consentminer hash: %s is missing\n",
                !key ? "the key (--key-text or --key-hex)" : "the input (--input-text or --input-hex)");
        usage(stderr);
        return 2;
    }
    if (strlen(input) > (input_hex ? 2 * CM_HASH_INPUT_MAX : CM_HASH_INPUT_MAX)) {
        fprintf(stderr, "consentminer hash: input is longer than %u bytes\n", CM_HASH_INPUT_MAX);
        return 2;
    }
    uint8_t *k = NULL, *in = NULL;
    size_t klen = 0, inlen = 0;
    if (take("key", key, key_hex, &k, &klen) || take("input", input, input_hex, &in, &inlen)) {
        free(k);
        return 2;
    }
    if (klen < 1 || klen > 64) {
        fprintf(stderr, "consentminer hash: key is %zu bytes; expected 1..64\n", klen);
        free(k);
        free(in);
        return 2;
    }

    int status = 1;
    cm_error err;
    cm_rx_cache *cache = NULL;
    cm_hasher *h = NULL;
    cm_consent *consent = cm_consent_new();
    int64_t now = cm_wall_ms();
    uint8_t out[CM_HASH_SIZE];
    char hex[2 * CM_HASH_SIZE + 1];
    unsigned flags = no_jit ? CM_RX_NO_JIT : 0;
    if (!consent || cm_consent_grant(consent, now, 60 * 1000, 1, 100, &err)) {
        fprintf(stderr, "consentminer hash: cannot record consent\n");
        goto done;
    }
    if (cm_rx_cache_new(flags, &cache, &err) || cm_rx_cache_set_seed(cache, k, klen, NULL, &err) ||
        cm_hasher_new(flags, cache, NULL, &h, &err)) {
        fprintf(stderr, "consentminer hash: %s\n", err.message);
        goto done;
    }
    int rc = cm_hasher_hash(h, consent, cm_wall_ms(), in, inlen, out);
    if (rc) {
        fprintf(stderr, "consentminer hash: %s\n", cm_strerror(rc));
        goto done;
    }
    cm_hex_encode(out, sizeof out, hex);
    printf("%s\n", hex);
    status = 0;
done:
    cm_hasher_free(h);
    cm_rx_cache_free(cache);
    cm_consent_free(consent);
    free(k);
    free(in);
    return status;
}
