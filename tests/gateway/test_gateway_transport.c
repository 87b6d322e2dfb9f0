/* The transport's pure parts: UTF-8-safe cutting and log escaping (cases in
 * tests/vectors/safe_text.txt) and the per-IP key (IPv6 counted by prefix).
 * usage: test_gateway_transport VECTORS_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consentminer/hex.h"
#include "gateway.h"
#include "safe_text.h"

static const char *vectors_dir;

/* HEX with "{{N*HEX}}" repeats, or "-" for nothing, into out; returns the length. */
static size_t unhex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (!strcmp(text, "-"))
        return 0;
    for (const char *p = text; *p;) {
        const char *part = p;
        int times = 1;
        size_t plen;
        if (!strncmp(p, "{{", 2)) {
            times = atoi(p + 2);
            part = strchr(p, '*') + 1;
            const char *end = strstr(part, "}}");
            plen = (size_t)(end - part);
            p = end + 2;
        } else {
            const char *end = strstr(p, "{{");
            plen = end ? (size_t)(end - p) : strlen(p);
            p += plen;
        }
        for (int t = 0; t < times; t++)
            for (size_t i = 0; i < plen; i += 2) {
                int h = cm_hex_digit(part[i]), l = cm_hex_digit(part[i + 1]);
                if (h < 0 || l < 0 || n >= cap)
                    fail_msg("bad hex in vector: %s", text);
                out[n++] = (uint8_t)(h * 16 + l);
            }
    }
    return n;
}

static void test_safe_text_vectors(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/safe_text.txt", vectors_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char line[4096];
    int no = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *kind = strtok(line, "\t"), *cap_s = strtok(NULL, "\t"), *in_s = strtok(NULL, "\t"),
             *want_s = strtok(NULL, "");
        if (!kind || !cap_s || !in_s || !want_s)
            fail_msg("safe_text.txt:%d: expected KIND CAP INPUT EXPECTED", no);
        size_t cap = (size_t)atoi(cap_s);
        uint8_t in[1024];
        size_t in_len = unhex(in_s, in, sizeof in - 1);
        in[in_len] = 0;
        char out[1024];
        memset(out, 'Z', sizeof out);
        if (!strcmp(kind, "cut")) {
            uint8_t want[1024];
            size_t want_len = unhex(want_s, want, sizeof want);
            size_t got = txt_utf8_cut(out, cap, (const char *)in);
            if (got != want_len || memcmp(out, want, want_len) || out[got] != 0)
                fail_msg("safe_text.txt:%d: cut to %zu gave %zu bytes, expected %zu", no, cap, got,
                         want_len);
        } else if (!strcmp(kind, "escape")) {
            const char *want = strcmp(want_s, "-") ? want_s : "";
            size_t got = txt_log_escape(out, cap, (const char *)in, in_len);
            if (got != strlen(want) || strcmp(out, want))
                fail_msg("safe_text.txt:%d: escaped to \"%s\", expected \"%s\"", no, out, want);
        } else {
            fail_msg("safe_text.txt:%d: unknown kind %s", no, kind);
        }
        if (strlen(out) > cap - 1)
            fail_msg("safe_text.txt:%d: wrote past the capacity", no);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 20);
}

static void test_ip_key_vectors(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/gateway_ip_keys.txt", vectors_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char line[512], addr[128], want[128];
    int no = 0, cases = 0, prefix;
    while (fgets(line, sizeof line, f)) {
        no++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%127s %d %127s", addr, &prefix, want) != 3)
            fail_msg("gateway_ip_keys.txt:%d: expected ADDRESS PREFIX KEY", no);
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        if (uv_ip4_addr(addr, 1, (struct sockaddr_in *)&ss) &&
            uv_ip6_addr(addr, 1, (struct sockaddr_in6 *)&ss))
            fail_msg("gateway_ip_keys.txt:%d: %s is no address", no, addr);
        char key[GW_IP_KEY_MAX];
        if (gw_ip_key((struct sockaddr *)&ss, prefix, key, sizeof key) || strcmp(key, want))
            fail_msg("gateway_ip_keys.txt:%d: %s /%d gave %s, expected %s", no, addr, prefix, key,
                     want);
        cases++;
    }
    fclose(f);
    assert_true(cases >= 10);
    /* The longest key fits. */
    struct sockaddr_in6 a;
    uv_ip6_addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 1, &a);
    char key[GW_IP_KEY_MAX];
    assert_int_equal(gw_ip_key((struct sockaddr *)&a, 128, key, sizeof key), 0);
    assert_string_equal(key, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_gateway_transport VECTORS_DIR\n");
        return 2;
    }
    vectors_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_text_vectors),
        cmocka_unit_test(test_ip_key_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
