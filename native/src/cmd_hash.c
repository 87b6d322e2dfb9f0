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
    fprintf(
        out,
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

typedef struct hash_options {
    const char *key, *input;
    int key_hex, input_hex, no_jit;
} hash_options;

enum { OPT_KEY_TEXT = 256, OPT_KEY_HEX, OPT_INPUT_TEXT, OPT_INPUT_HEX, OPT_NO_JIT };

static const struct option hash_longopts[] = {
    {"key-text", required_argument, NULL, OPT_KEY_TEXT},
    {"key-hex", required_argument, NULL, OPT_KEY_HEX},
    {"input-text", required_argument, NULL, OPT_INPUT_TEXT},
    {"input-hex", required_argument, NULL, OPT_INPUT_HEX},
    {"no-jit", no_argument, NULL, OPT_NO_JIT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int hash_take(void *opts, int key, const char *arg, const char *name)
{
    (void)name;
    hash_options *o = opts;
    switch (key) {
    case OPT_KEY_TEXT:
    case OPT_KEY_HEX:
        o->key = arg;
        o->key_hex = key == OPT_KEY_HEX;
        break;
    case OPT_INPUT_TEXT:
    case OPT_INPUT_HEX:
        o->input = arg;
        o->input_hex = key == OPT_INPUT_HEX;
        break;
    case OPT_NO_JIT:
        o->no_jit = 1;
        break;
    }
    return 0;
}

/* What the options cannot say alone: both inputs are there, and not absurdly long. */
static int hash_check(const hash_options *o)
{
    if (!o->key || !o->input) {
        fprintf(stderr, "consentminer hash: %s is missing\n",
                !o->key ? "the key (--key-text or --key-hex)"
                        : "the input (--input-text or --input-hex)");
        usage(stderr);
        return 2;
    }
    if (strlen(o->input) > (o->input_hex ? 2 * CM_HASH_INPUT_MAX : CM_HASH_INPUT_MAX)) {
        fprintf(stderr, "consentminer hash: input is longer than %u bytes\n", CM_HASH_INPUT_MAX);
        return 2;
    }
    return 0;
}

/* Hashes the input under the key and prints the hash: the exit status. */
static int hash_run(const hash_options *o)
{
    uint8_t *k = NULL, *in = NULL;
    size_t klen = 0, inlen = 0;
    if (take("key", o->key, o->key_hex, &k, &klen) ||
        take("input", o->input, o->input_hex, &in, &inlen)) {
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
    unsigned flags = o->no_jit ? CM_RX_NO_JIT : 0;
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

int cm_cmd_hash(int argc, char **argv)
{
    hash_options o = {0};
    static const cli_spec spec = {"hash", "h", hash_longopts, usage, hash_take};
    int rc = cli_parse(&spec, argc, argv, &o);
    if (rc == 1) /* --help */
        return 0;
    if (rc == 0)
        rc = hash_check(&o);
    return rc ? rc : hash_run(&o);
}
