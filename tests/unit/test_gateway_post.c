/* The gateway's HTTP layer for the consent endpoints (issue 14): a POST's body is read
 * whole whether it arrives with the head, byte by byte, or with the next request's bytes
 * after it; bodies without a bound are refused; /ws and /consent/ take requests only
 * from the consent frame's origin (--public-origin, else http(s)://<Host>); /frame/ gets
 * the frame's headers. Routed without a server, as fuzz/fuzz_http.c does (the endpoints'
 * own Origin check is in gateway_consent.c: tests/gateway/consent.mjs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway.h"

static const char POST[] = "POST /consent/grant HTTP/1.1\r\nHost: miner.example\r\n"
                           "Origin: http://miner.example\r\nContent-Length: 13\r\n\r\n"
                           "{\"threads\":1}";

/* Feeds text in pieces of `piece` bytes; returns the bytes consumed. */
static size_t feed(gw_http_req *r, const char *text, size_t len, size_t piece)
{
    size_t off = 0, used = 0;
    while (off < len && gw_http_req_state(r) == GW_HTTP_MORE) {
        size_t n = len - off < piece ? len - off : piece;
        used += gw_http_req_feed(r, text + off, n);
        off += n;
    }
    return used;
}

static void test_body_in_pieces(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 2, 7, 64, 100000};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        gw_http_req *r = gw_http_req_new(8192);
        size_t used = feed(r, POST, strlen(POST), pieces[i]);
        assert_int_equal(gw_http_req_state(r), GW_HTTP_DONE);
        assert_int_equal(used, strlen(POST));
        size_t len;
        const char *body = gw_http_req_body(r, &len);
        assert_int_equal(len, 13);
        assert_string_equal(body, "{\"threads\":1}");
        assert_string_equal(gw_http_req_origin(r), "http://miner.example");
        assert_string_equal(gw_http_req_url(r), "/consent/grant");
        gw_http_req_free(r);
    }
}

static void test_bytes_after_the_body_are_left(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sGET / HTTP/1.1\r\n\r\n", POST);
    gw_http_req *r = gw_http_req_new(8192);
    size_t used = gw_http_req_feed(r, text, strlen(text));
    assert_int_equal(gw_http_req_state(r), GW_HTTP_DONE);
    assert_int_equal(used, strlen(POST));
    gw_http_req_free(r);
}

static int status_of(const char *text, const gw_http_env *env, char *body, size_t cap)
{
    gw_http_req *r = gw_http_req_new(8192);
    gw_http_req_feed(r, text, strlen(text));
    gw_http_resp resp;
    gw_http_route(env, r, &resp);
    if (body) {
        snprintf(body, cap, "%.*s", (int)resp.body_len, resp.body ? resp.body : "");
        /* A file is not read by the router: the server streams it from file_fd. */
        if (resp.file_fd >= 0) {
            size_t have = strlen(body);
            ssize_t n = pread(resp.file_fd, body + have, cap - have - 1, 0);
            body[have + (n > 0 ? (size_t)n : 0)] = 0;
        }
        snprintf(body + strlen(body), cap - strlen(body), "|%s", resp.head ? resp.head : "");
    }
    int status = resp.status;
    gw_http_resp_free(&resp);
    gw_http_req_free(r);
    return status;
}

static void answer(void *ud, const gw_http_req *r, gw_http_resp *out)
{
    (void)r;
    ++*(int *)ud;
    gw_http_json(out, 200, "{\"ok\":true}");
}

static void test_unbounded_bodies_refused(void **state)
{
    (void)state;
    int calls = 0;
    gw_http_env env = {.consent = answer, .ud = &calls};
    assert_int_equal(
        status_of("POST /consent/grant HTTP/1.1\r\nHost: x\r\nContent-Length: 4097\r\n\r\n", &env,
                  NULL, 0),
        413);
    assert_int_equal(status_of("POST /consent/grant HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                               "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                               &env, NULL, 0),
                     411);
    /* A body that never ends is not answered (the handshake timeout closes it). */
    gw_http_req *r = gw_http_req_new(8192);
    static const char partial[] =
        "POST /consent/grant HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{}";
    gw_http_req_feed(r, partial, strlen(partial));
    assert_int_equal(gw_http_req_state(r), GW_HTTP_MORE);
    gw_http_req_free(r);
    assert_int_equal(calls, 0);
    assert_int_equal(status_of(POST, &env, NULL, 0), 200);
    assert_int_equal(calls, 1);
    assert_int_equal(status_of("GET /consent/grant HTTP/1.1\r\nHost: x\r\n\r\n", &env, NULL, 0),
                     405);
    assert_int_equal(calls, 1);
}

static void test_frame_origin(void **state)
{
    (void)state;
    static const char up[] = "GET /ws HTTP/1.1\r\nHost: %s\r\n%sUpgrade: websocket\r\nConnection: "
                             "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n";
    static const struct {
        int tls;
        const char *public_origin, *host, *origin;
        int want;
    } cases[] = {
        {0, NULL, "miner.example", "Origin: http://miner.example\r\n", 101},
        {0, NULL, "miner.example:8080", "Origin: http://miner.example:8080\r\n", 101},
        {0, NULL, "miner.example", "Origin: https://miner.example\r\n", 403},
        {1, NULL, "miner.example", "Origin: https://miner.example\r\n", 101},
        {1, NULL, "miner.example", "Origin: http://miner.example\r\n", 403},
        {0, NULL, "miner.example", "Origin: http://shop.example\r\n", 403},
        {0, NULL, "miner.example", "Origin: http://miner.example.evil\r\n", 403},
        {0, NULL, "miner.example", "Origin: null\r\n", 403},
        {0, NULL, "miner.example", "", 403},
        {0, "https://miner.example", "127.0.0.1:9000", "Origin: https://miner.example\r\n", 101},
        {0, "https://miner.example", "127.0.0.1:9000", "Origin: http://127.0.0.1:9000\r\n", 403},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *shop[] = {"https://shop.example"};
        gw_http_env env = {.origins = shop,
                           .n_origins = 1,
                           .tls = cases[i].tls,
                           .public_origin = cases[i].public_origin};
        char text[512];
        snprintf(text, sizeof text, up, cases[i].host, cases[i].origin);
        int got = status_of(text, &env, NULL, 0);
        if (got != cases[i].want)
            fail_msg("case %zu (%s %s): %d, expected %d", i, cases[i].host, cases[i].origin, got,
                     cases[i].want);
    }
}

static void test_frame_headers(void **state)
{
    (void)state;
    char dir[] = "/tmp/cm-frame-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("<!doctype html><title>frame</title>", f);
    fclose(f);
    gw_http_env env = {.frame_dir = dir, .frame_ancestors = "https://a.example https://b.example"};
    char out[4096];
    assert_int_equal(status_of("GET /frame/ HTTP/1.1\r\nHost: x\r\n\r\n", &env, out, sizeof out),
                     200);
    assert_non_null(strstr(out, "<title>frame</title>"));
    assert_non_null(strstr(out, "frame-ancestors https://a.example https://b.example\r\n"));
    assert_non_null(strstr(out, "Cross-Origin-Resource-Policy: cross-origin\r\n"));
    assert_non_null(strstr(out, "Cross-Origin-Embedder-Policy: require-corp\r\n"));
    assert_non_null(strstr(out, "Cross-Origin-Opener-Policy: same-origin\r\n"));
    assert_non_null(strstr(out, "Cache-Control: no-cache\r\n"));
    assert_null(strstr(out, "Access-Control-"));
    /* The site's own files keep theirs: same-origin resources, framed by itself only. */
    env.static_dir = dir;
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &env, out, sizeof out), 200);
    assert_non_null(strstr(out, "Cross-Origin-Resource-Policy: same-origin\r\n"));
    assert_non_null(strstr(out, "frame-ancestors 'self'\r\n"));
    /* No --frame-dir: nothing at /frame/. */
    env.frame_dir = NULL;
    assert_int_equal(status_of("GET /frame/ HTTP/1.1\r\nHost: x\r\n\r\n", &env, NULL, 0), 404);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_in_pieces),
        cmocka_unit_test(test_bytes_after_the_body_are_left),
        cmocka_unit_test(test_unbounded_bodies_refused),
        cmocka_unit_test(test_frame_origin),
        cmocka_unit_test(test_frame_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
