/* Behind a reverse proxy: --trust-proxy networks, PROXY protocol v1 lines and
 * X-Forwarded-For values (cases in tests/vectors/gateway_proxy.txt), and the HTTP
 * parser keeping X-Forwarded-For's right end.
 * usage: test_gateway_proxy VECTORS_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "gateway_proxy.h"

static const char *vectors_dir;

/* Splits a vector line on " | " into at most 5 fields (modified in place). */
static int split(char *line, char **f)
{
    int n = 0;
    f[n++] = line;
    for (char *p; n < 5 && (p = strstr(f[n - 1], " | "));) {
        *p = 0;
        f[n++] = p + 3;
    }
    return n;
}

/* \r, \n, \t, \xHH and {{N*C}} (C repeated N times) into bytes. */
static size_t unescape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = in; *p && n < cap;) {
        if (!strncmp(p, "{{", 2)) {
            int times = atoi(p + 2);
            const char *c = strchr(p, '*') + 1;
            for (int i = 0; i < times && n < cap; i++)
                out[n++] = *c;
            p = strstr(p, "}}") + 2;
        } else if (p[0] == '\\' && p[1] == 'x') {
            out[n++] = (char)strtol((char[]){p[2], p[3], 0}, NULL, 16);
            p += 4;
        } else if (p[0] == '\\' && p[1]) {
            out[n++] = p[1] == 'r' ? '\r' : p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : p[1];
            p += 2;
        } else {
            out[n++] = *p++;
        }
    }
    return n;
}

static size_t parse_list(char *text, gw_cidr *out, size_t cap)
{
    size_t n = 0;
    char err[160];
    for (char *tok = strtok(text, ","); tok && n < cap; tok = strtok(NULL, ",")) {
        if (gw_cidr_parse(tok, &out[n++], err, sizeof err))
            fail_msg("network %s in a vector: %s", tok, err);
    }
    return n;
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    if (ss->ss_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)ss, out, cap);
    else
        uv_ip6_name((const struct sockaddr_in6 *)ss, out, cap);
}

static void check_contains(int line, const char *err, const char *want)
{
    if (!strstr(err, want))
        fail_msg("line %d: error '%s' does not say '%s'", line, err, want);
}

static void test_proxy_vectors(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/gateway_proxy.txt", vectors_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    char line[1024];
    int no = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *fl[5] = {0};
        int nf = split(line, fl);
        char err[160] = "";
        cases++;
        if (!strcmp(fl[0], "cidr") && nf == 3) {
            gw_cidr c;
            int rc = gw_cidr_parse(fl[1], &c, err, sizeof err);
            if (!strcmp(fl[2], "ok")) {
                if (rc)
                    fail_msg("line %d: %s refused: %s", no, fl[1], err);
            } else {
                if (!rc)
                    fail_msg("line %d: %s accepted", no, fl[1]);
                check_contains(no, err, fl[2] + 4);
            }
        } else if (!strcmp(fl[0], "match") && nf == 4) {
            gw_cidr list[8];
            size_t n = parse_list(fl[1], list, 8);
            struct sockaddr_storage ss;
            if (gw_addr_parse(fl[2], strlen(fl[2]), &ss))
                fail_msg("line %d: address %s", no, fl[2]);
            if (gw_cidr_match(list, n, (struct sockaddr *)&ss) != atoi(fl[3]))
                fail_msg("line %d: %s in the list should be %s", no, fl[2], fl[3]);
        } else if (!strcmp(fl[0], "proxy") && nf == 3) {
            char in[512];
            size_t len = unescape(fl[1], in, sizeof in), used = 0;
            struct sockaddr_storage src;
            int is_proxy;
            gw_proxy_state st = gw_proxy_v1_parse(in, len, &used, &src, &is_proxy, err, sizeof err);
            const char *want = fl[2];
            gw_proxy_state want_st = !strncmp(want, "ok", 2) || !strncmp(want, "unknown", 7)
                                         ? GW_PROXY_OK
                                     : !strcmp(want, "none") ? GW_PROXY_NONE
                                     : !strcmp(want, "more") ? GW_PROXY_MORE
                                                             : GW_PROXY_BAD;
            if (st != want_st)
                fail_msg("line %d: state %d, expected %s (error: %s)", no, (int)st, want, err);
            if (is_proxy != (len >= 6 && !memcmp(in, "PROXY ", 6)))
                fail_msg("line %d: is_proxy %d", no, is_proxy);
            if (!strncmp(want, "ok ", 3)) {
                char a[64], text[64];
                int port;
                size_t n;
                if (sscanf(want + 3, "%63s %d %zu", a, &port, &n) != 3)
                    fail_msg("line %d: bad expectation", no);
                addr_text(&src, text, sizeof text);
                int got_port =
                    ntohs(src.ss_family == AF_INET ? ((struct sockaddr_in *)&src)->sin_port
                                                   : ((struct sockaddr_in6 *)&src)->sin6_port);
                if (strcmp(text, a) || got_port != port || used != n)
                    fail_msg("line %d: %s:%d in %zu bytes, expected %s:%d in %zu", no, text,
                             got_port, used, a, port, n);
            } else if (!strncmp(want, "unknown ", 8)) {
                if (src.ss_family != AF_UNSPEC || used != (size_t)atoi(want + 8))
                    fail_msg("line %d: family %d, %zu bytes", no, src.ss_family, used);
            } else if (want_st == GW_PROXY_BAD) {
                check_contains(no, err, want + 4);
            }
            /* Byte by byte, as a slow proxy could send it: the same answer at the end,
             * and never a verdict before the bytes that decide it. */
            for (size_t k = 1; k < len && want_st != GW_PROXY_NONE; k++) {
                gw_proxy_state part =
                    gw_proxy_v1_parse(in, k, &used, &src, &is_proxy, err, sizeof err);
                if (part == GW_PROXY_NONE || (part == GW_PROXY_OK && want_st != GW_PROXY_OK))
                    fail_msg("line %d: after %zu bytes state %d", no, k, (int)part);
            }
        } else if (!strcmp(fl[0], "xff") && nf == 4) {
            gw_cidr list[8];
            size_t n = parse_list(fl[1], list, 8);
            struct sockaddr_storage ss;
            int rc = gw_xff_pick(fl[2], list, n, &ss, err, sizeof err);
            if (!strncmp(fl[3], "ok ", 3)) {
                char text[64];
                if (rc)
                    fail_msg("line %d: rc %d (%s)", no, rc, err);
                addr_text(&ss, text, sizeof text);
                if (strcmp(text, fl[3] + 3))
                    fail_msg("line %d: picked %s, expected %s", no, text, fl[3] + 3);
            } else if (!strcmp(fl[3], "empty")) {
                if (rc != 1)
                    fail_msg("line %d: rc %d for an empty value", no, rc);
            } else {
                if (rc != -1)
                    fail_msg("line %d: rc %d, expected a refusal", no, rc);
                check_contains(no, err, fl[3] + 4);
            }
        } else {
            fail_msg("line %d: unknown vector", no);
        }
    }
    fclose(f);
    if (cases < 60)
        fail_msg("only %d cases read from %s", cases, path);
}

static const char *parse_xff(const char *request, gw_http_req **out)
{
    gw_http_req *r = gw_http_req_new(16384);
    gw_http_req_feed(r, request, strlen(request));
    assert_int_equal(gw_http_req_state(r), GW_HTTP_DONE);
    *out = r;
    return gw_http_req_xff(r);
}

/* Two headers are one list (RFC 7230 3.2.2); a long one keeps its right end, where the
 * trusted proxies wrote, and drops the piece of an address the cut leaves. */
static void test_http_xff(void **state)
{
    (void)state;
    gw_http_req *r;
    assert_null(parse_xff("GET /ws HTTP/1.1\r\nHost: a\r\n\r\n", &r));
    gw_http_req_free(r);
    assert_string_equal(parse_xff("GET /ws HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n"
                                  "Host: a\r\nx-forwarded-for: 5.6.7.8\r\n\r\n",
                                  &r),
                        "1.2.3.4, 5.6.7.8");
    gw_http_req_free(r);
    char req[8192] = "GET /ws HTTP/1.1\r\nX-Forwarded-For: ";
    for (int i = 0; i < 300; i++)
        strcat(req, "10.0.0.1, ");
    strcat(req, "203.0.113.7\r\n\r\n");
    const char *v = parse_xff(req, &r);
    assert_true(strlen(v) < GW_HTTP_XFF_MAX);
    size_t vl = strlen(v);
    assert_string_equal(v + vl - 13, ", 203.0.113.7");
    assert_true(!strncmp(v, " 10.0.0.1,", 10));
    gw_http_req_free(r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
        return 2;
    }
    vectors_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proxy_vectors),
        cmocka_unit_test(test_http_xff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
