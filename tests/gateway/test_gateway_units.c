/* The gateway's pure parts: difficulty retargeting, submit rate, origin allow-list,
 * per-IP counts, the WebSocket accept key, static path resolution and content types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"

static const gw_vardiff_cfg cfg30 = {30.0, 1, 0};

/* A browser at a steady rate, shares arriving as its difficulty predicts: the difficulty
 * converges on rate * 30 s from far below and from far above. */
static uint64_t simulate(double rate, uint64_t start, int seconds)
{
    gw_vardiff v;
    gw_vardiff_init(&v, start, 0);
    double work = 0;
    for (int t = 1; t <= seconds; t++) {
        work += rate;
        while (work >= (double)v.diff) {
            work -= (double)v.diff;
            gw_vardiff_share(&v, v.diff);
        }
        gw_vardiff_retarget(&v, &cfg30, (int64_t)t * 1000);
    }
    return v.diff;
}

static void test_vardiff_converges(void **state)
{
    (void)state;
    double rates[] = {1.0, 2.5, 20.0, 300.0};
    uint64_t starts[] = {1, 75, 100000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        for (size_t j = 0; j < sizeof starts / sizeof starts[0]; j++) {
            uint64_t d = simulate(rates[i], starts[j], 3600);
            double want = rates[i] * 30;
            if (d < want / 2.5 || d > want * 2.5)
                fail_msg("rate %.1f H/s from difficulty %llu ended at %llu; expected about %.0f",
                         rates[i], (unsigned long long)starts[j], (unsigned long long)d, want);
        }
    }
}

static void test_vardiff_limits(void **state)
{
    (void)state;
    gw_vardiff v;
    gw_vardiff_cfg c = {30.0, 50, 200};
    gw_vardiff_init(&v, 100, 0);
    /* Silence for three intervals: down, but by at most 4x and not under min. */
    assert_int_equal(gw_vardiff_retarget(&v, &c, 30000), 0);
    assert_int_equal(gw_vardiff_retarget(&v, &c, 90000), 50);
    /* A flood: up by at most 4x per step, never over max. */
    for (int i = 0; i < 100; i++)
        gw_vardiff_share(&v, 50);
    assert_int_equal(gw_vardiff_retarget(&v, &c, 100000), 200);
    /* Within 15% of the aim: no change (no new job for nothing). */
    gw_vardiff_init(&v, 100, 0);
    for (int i = 0; i < 3; i++)
        gw_vardiff_share(&v, 100);
    assert_int_equal(gw_vardiff_retarget(&v, &cfg30, 95000), 0);
}

static void test_bucket(void **state)
{
    (void)state;
    gw_bucket b;
    gw_bucket_init(&b, 3, 0);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 0), 1);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 0), 1);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 0), 1);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 0), 0);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 999), 0);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 1000), 1);
    /* A long pause refills to the burst only. */
    assert_int_equal(gw_bucket_take(&b, 1, 3, 100000), 1);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 100000), 1);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 100000), 1);
    assert_int_equal(gw_bucket_take(&b, 1, 3, 100000), 0);
}

static void test_iptable(void **state)
{
    (void)state;
    gw_iptable *t = gw_iptable_new();
    char ip[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(gw_iptable_add(t, ip), 1);
    }
    assert_int_equal(gw_iptable_add(t, "10.0.0.1"), 2);
    gw_iptable_remove(t, "10.0.0.1");
    gw_iptable_remove(t, "10.0.0.1");
    assert_int_equal(gw_iptable_add(t, "10.0.0.1"), 1);
    gw_iptable_remove(t, "192.0.2.1"); /* never added: nothing happens */
    /* Churn: a million short connections from ever new addresses stay fast and exact. */
    for (int i = 0; i < 1000000; i++) {
        snprintf(ip, sizeof ip, "172.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_int_equal(gw_iptable_add(t, ip), 1);
        gw_iptable_remove(t, ip);
    }
    assert_int_equal(gw_iptable_add(t, "10.0.19.135"), 2);
    gw_iptable_free(t);
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[32];
    /* RFC 6455, section 1.3. */
    assert_int_equal(gw_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_static(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/cm-gw-unit-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char site[PATH_MAX], p[PATH_MAX + 32], out[PATH_MAX];
    snprintf(site, sizeof site, "%s/site", tmpl);
    assert_int_equal(mkdir(site, 0700), 0);
    snprintf(p, sizeof p, "%s/index.html", site);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/a.wasm", site);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/secret", tmpl);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/out", site);
    assert_int_equal(symlink("../secret", p), 0);
    assert_int_equal(gw_static_resolve(site, "/", out, sizeof out), 0);
    assert_non_null(strstr(out, "/site/index.html"));
    assert_int_equal(gw_static_resolve(site, "/a.wasm?x=1", out, sizeof out), 0);
    assert_string_equal(gw_static_type(out), "application/wasm");
    assert_string_equal(gw_static_type("/x/w.mjs"), "text/javascript; charset=utf-8");
    assert_string_equal(gw_static_type("/x/w.js"), "text/javascript; charset=utf-8");
    const char *refused[] = {"/out",         "/../secret", "/%2e%2e/secret", "/%2E%2e/secret",
                             "/..%2fsecret", "/.hidden",   "/index.html%00", "/%",
                             "/%g0",         "relative",   "/a\\..\\secret", "/nothing"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (gw_static_resolve(site, refused[i], out, sizeof out) == 0)
            fail_msg("%s resolved to %s; it must be refused", refused[i], out);
    snprintf(p, sizeof p, "rm -rf '%s'", tmpl);
    assert_int_equal(system(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vardiff_converges),
        cmocka_unit_test(test_vardiff_limits),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_iptable),
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_static),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
