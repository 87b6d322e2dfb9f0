/* consentminer mine's network inputs: TLS pins, monerod URLs, pool addresses
 * (tests/vectors/mine_endpoints.txt), and the reconnect backoff's bounds. */
#include <stdint.h>
#include <string.h>

#include "vector_lines.h"

#include "backoff.h"
#include "daemon_client.h"
#include "http_client.h"
#include "stratum_client.h"
#include "tls.h"

static void on_job(void *ud, const cm_job *job, uint64_t difficulty)
{
    (void)ud;
    (void)job;
    (void)difficulty;
}

static void on_state(void *ud, int up, const char *where, const char *reason)
{
    (void)ud;
    (void)up;
    (void)where;
    (void)reason;
}

static void on_result(void *ud, void *ctx, cm_submit_outcome outcome, const char *reason)
{
    (void)reason;
    (void)ctx;
    int *stale = ud;
    if (outcome == CM_SUBMIT_STALE)
        (*stale)++;
}

static void on_log(void *ud, const char *message)
{
    (void)ud;
    (void)message;
}

static void endpoints(void **state)
{
    (void)state;
    vec_file v;
    vec_open(&v, "mine_endpoints.txt");
    int cases = 0;
    while (vec_next(&v)) {
        cases++;
        char *input = vec_expand(v.field[1]);
        if (!strcmp(v.field[0], "fingerprint")) {
            vec_need(&v, 3);
            uint8_t pin[32];
            int ok = cm_tls_parse_fingerprint(input, pin) == 0;
            if (ok != !strcmp(v.field[2], "ok"))
                fail_msg("mine_endpoints.txt:%d: fingerprint '%s' %s", v.line_no, input,
                         ok ? "accepted" : "refused");
        } else if (!strcmp(v.field[0], "daemon")) {
            char host[256];
            int port = 0;
            int rc = cm_http_parse_url(input, host, sizeof host, &port);
            if (v.nfields == 3) {
                if (rc == 0)
                    fail_msg("mine_endpoints.txt:%d: url '%s' accepted", v.line_no, input);
            } else {
                vec_need(&v, 4);
                char *want = vec_expand(v.field[2]);
                if (rc != 0 || strcmp(host, want) || port != atoi(v.field[3]))
                    fail_msg("mine_endpoints.txt:%d: url '%s' gave rc %d host '%s' port %d",
                             v.line_no, input, rc, rc ? "" : host, port);
                free(want);
            }
        } else if (!strcmp(v.field[0], "pool")) {
            vec_need(&v, 3);
            uv_loop_t loop;
            uv_loop_init(&loop);
            const char *urls[] = {input};
            cm_pool_config cfg = {.urls = urls, .url_count = 1, .user = "wallet"};
            cm_upstream_events ev = {on_job, on_state, on_result, on_log};
            int stale = 0;
            cm_error err;
            cm_upstream *u = cm_upstream_pool_new(&loop, &cfg, &ev, &stale, &err);
            if ((u != NULL) != !strcmp(v.field[2], "ok"))
                fail_msg("mine_endpoints.txt:%d: pool '%s' %s (%s)", v.line_no, input,
                         u ? "accepted" : "refused", err.message);
            if (u == NULL && strstr(err.message, input[0] ? input : "pool") == NULL &&
                input[0] != 0)
                fail_msg("mine_endpoints.txt:%d: message '%s' does not name '%s'", v.line_no,
                         err.message, input);
            if (u != NULL) {
                /* Nothing connected yet: a share submitted now waits, and closing answers
                 * it stale rather than dropping it. */
                uint8_t hash[32] = {0};
                assert_int_equal(cm_upstream_submit(u, "job", 1, hash, NULL), 0);
                cm_upstream_close(u);
                assert_int_equal(stale, 1);
            }
            uv_run(&loop, UV_RUN_DEFAULT);
            assert_int_equal(uv_loop_close(&loop), 0);
        } else {
            fail_msg("mine_endpoints.txt:%d: unknown kind '%s'", v.line_no, v.field[0]);
        }
        free(input);
    }
    assert_true(cases > 30);
}

static void backoff_bounds(void **state)
{
    (void)state;
    cm_backoff b;
    cm_backoff_init(&b, 1000, 60000, 42);
    uint32_t ceiling = 1000;
    for (int i = 0; i < 20; i++) {
        uint32_t d = cm_backoff_next(&b);
        /* Jittered within [ceiling/2, ceiling], the ceiling doubling up to the bound. */
        assert_true(d >= ceiling / 2 && d <= ceiling);
        ceiling = ceiling * 2 > 60000 ? 60000 : ceiling * 2;
    }
    cm_backoff_reset(&b);
    uint32_t d = cm_backoff_next(&b);
    assert_true(d >= 500 && d <= 1000);
    /* Two miners seeded differently do not retry in lockstep. */
    cm_backoff a, c;
    cm_backoff_init(&a, 1000, 60000, 1);
    cm_backoff_init(&c, 1000, 60000, 2);
    int same = 0;
    for (int i = 0; i < 8; i++)
        same += cm_backoff_next(&a) == cm_backoff_next(&c);
    assert_true(same < 8);
}

static void daemon_config_errors(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    cm_upstream_events ev = {on_job, on_state, on_result, on_log};
    cm_error err;
    uint8_t tag[4] = {1, 2, 3, 4};
    cm_daemon_config no_wallet = {.url = "http://127.0.0.1:9"};
    assert_null(cm_upstream_daemon_new(&loop, &no_wallet, &ev, NULL, &err));
    assert_non_null(strstr(err.message, "wallet"));
    cm_daemon_config both = {.url = "http://127.0.0.1:9",
                             .wallet = "w",
                             .reserve_size = 8,
                             .extra_nonce = tag,
                             .extra_nonce_len = 4};
    assert_null(cm_upstream_daemon_new(&loop, &both, &ev, NULL, &err));
    assert_non_null(strstr(err.message, "extra_nonce"));
    cm_daemon_config big = {.url = "http://127.0.0.1:9", .wallet = "w", .reserve_size = 256};
    assert_null(cm_upstream_daemon_new(&loop, &big, &ev, NULL, &err));
    cm_daemon_config bad_url = {.url = "ftp://x", .wallet = "w"};
    assert_null(cm_upstream_daemon_new(&loop, &bad_url, &ev, NULL, &err));
    assert_non_null(strstr(err.message, "ftp://x"));
    /* A good one, closed before it ever reached monerod: a submit meanwhile is answered. */
    int stale = 0;
    cm_daemon_config ok = {
        .url = "http://127.0.0.1:9", .wallet = "w", .extra_nonce = tag, .extra_nonce_len = 4};
    cm_upstream *u = cm_upstream_daemon_new(&loop, &ok, &ev, &stale, &err);
    assert_non_null(u);
    uint8_t hash[32] = {0};
    assert_int_equal(cm_upstream_submit(u, "1-1", 7, hash, NULL), 0);
    cm_upstream_close(u);
    assert_int_equal(stale, 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoints),
        cmocka_unit_test(backoff_bounds),
        cmocka_unit_test(daemon_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
