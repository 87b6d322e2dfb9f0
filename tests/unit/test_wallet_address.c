/* wallet_address_check against tests/vectors/wallet_addresses.txt: real addresses of each
 * network and kind made by monero-wallet-cli, and broken ones with the error each gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wallet_address.h"

static void test_vectors(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/wallet_addresses.txt", CM_VECTORS_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int cases = 0, valid = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 0 || line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = 0;
        const char *expect = line, *addr = tab + 1;
        wallet_address_info info = {0};
        char err[200] = "";
        int rc = wallet_address_check(addr, strlen(addr), &info, err, sizeof err);
        if (strncmp(expect, "error: ", 7) == 0) {
            if (rc == 0 || strstr(err, expect + 7) == NULL)
                fail_msg("%s: expected an error containing \"%s\", got rc %d \"%s\"", addr,
                         expect + 7, rc, err);
        } else {
            char got[64];
            if (rc != 0)
                fail_msg("%s: expected %s, got the error \"%s\"", addr, expect, err);
            snprintf(got, sizeof got, "%s %s", info.network, info.kind);
            assert_string_equal(got, expect);
            valid++;
        }
        cases++;
    }
    fclose(f);
    assert_true(cases >= 15);
    assert_true(valid >= 7);
}

static void test_keccak(void **state)
{
    (void)state;
    /* Keccak-256 of the empty string (the pre-standard padding Monero uses; SHA3-256 of
     * it is a7ffc6f8...). */
    static const uint8_t want[32] = {0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c,
                                     0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
                                     0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b,
                                     0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70};
    uint8_t h[32];
    wallet_keccak256((const uint8_t *)"", 0, h);
    assert_memory_equal(h, want, 32);
}

static void test_span(void **state)
{
    (void)state;
    assert_int_equal(wallet_address_span("4abc.rig1"), 4);
    assert_int_equal(wallet_address_span("4abc+5000"), 4);
    assert_int_equal(wallet_address_span("4abc"), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_keccak),
        cmocka_unit_test(test_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
