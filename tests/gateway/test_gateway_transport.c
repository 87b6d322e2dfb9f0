/* The transport's pure parts: UTF-8-safe cutting and log escaping (cases in
 * tests/vectors/safe_text.txt), the per-IP key (IPv6 counted by prefix), and WebSocket
 * messages put together from fragments.
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

/* ---- WebSocket messages put together by gateway_ws.c ---- */

typedef struct ws_probe {
    char text[1024];
    size_t text_len;
    int texts;
    unsigned close_code;
    uint8_t out[4096];
    size_t out_len;
} ws_probe;

static void probe_text(void *ud, const char *msg, size_t len)
{
    ws_probe *p = ud;
    p->texts++;
    p->text_len = len < sizeof p->text ? len : sizeof p->text;
    memcpy(p->text, msg, p->text_len);
}

static int probe_write(void *ud, const uint8_t *data, size_t len)
{
    ws_probe *p = ud;
    if (p->out_len + len <= sizeof p->out) {
        memcpy(p->out + p->out_len, data, len);
        p->out_len += len;
    }
    return 0;
}

static void probe_close(void *ud, unsigned code, const char *reason)
{
    (void)reason;
    ((ws_probe *)ud)->close_code = code;
}

/* A client frame, masked with the zero key (the payload reads as written). */
static size_t client_frame(uint8_t *out, int fin, int opcode, const char *payload, size_t len)
{
    size_t n = 0;
    out[n++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[n++] = (uint8_t)(0x80 | len);
    } else {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    }
    memset(out + n, 0, 4);
    n += 4;
    memcpy(out + n, payload, len);
    return n + len;
}

static void test_ws_fragments(void **state)
{
    (void)state;
    static const gw_ws_callbacks cb = {probe_text, probe_write, probe_close};
    /* One byte a fragment, fed in one piece: the message arrives whole, once. */
    ws_probe p = {0};
    gw_ws *ws = gw_ws_new(&cb, &p, 256);
    const char *msg = "{\"id\":1,\"method\":\"keepalived\"}";
    size_t ml = strlen(msg), n = 0;
    static uint8_t wire[65536];
    for (size_t i = 0; i < ml; i++)
        n += client_frame(wire + n, i == ml - 1, i ? 0 : 1, msg + i, 1);
    assert_int_equal(gw_ws_feed(ws, wire, n), 0);
    assert_int_equal(p.texts, 1);
    assert_int_equal(p.text_len, ml);
    assert_memory_equal(p.text, msg, ml);
    /* A ping between fragments is answered; the message around it is whole. */
    n = client_frame(wire, 0, 1, "ab", 2);
    n += client_frame(wire + n, 1, 9, "p", 1);
    n += client_frame(wire + n, 1, 0, "cd", 2);
    p.out_len = 0;
    assert_int_equal(gw_ws_feed(ws, wire, n), 0);
    assert_int_equal(p.texts, 2);
    assert_int_equal(p.text_len, 4);
    assert_memory_equal(p.text, "abcd", 4);
    assert_true(p.out_len >= 3 && p.out[0] == 0x8A); /* the pong */
    gw_ws_free(ws);

    /* A last fragment past the cap: 1009, and the part kept is never taken as a message
     * (its first 250 bytes would parse as JSON). */
    ws_probe q = {0};
    ws = gw_ws_new(&cb, &q, 256);
    char part[250];
    memset(part, ' ', sizeof part);
    memcpy(part, "{\"id\":1}", 8);
    n = client_frame(wire, 0, 1, part, sizeof part);
    n += client_frame(wire + n, 1, 0, "          ", 10);
    assert_int_equal(gw_ws_feed(ws, wire, n), 1);
    assert_int_equal(q.texts, 0);
    assert_int_equal(q.close_code, 1009);
    gw_ws_free(ws);

    /* One-byte fragments past the cap: 1009 at byte 257. */
    ws_probe r = {0};
    ws = gw_ws_new(&cb, &r, 256);
    n = 0;
    for (size_t i = 0; i < 300; i++)
        n += client_frame(wire + n, 0, i ? 0 : 1, "a", 1);
    assert_int_equal(gw_ws_feed(ws, wire, n), 1);
    assert_int_equal(r.texts, 0);
    assert_int_equal(r.close_code, 1009);
    gw_ws_free(ws);
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
        cmocka_unit_test(test_ws_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
