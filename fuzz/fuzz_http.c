/* libFuzzer target: bytes from a browser before the WebSocket upgrade.
 *
 * The input is one HTTP request, fed to the parser in pieces (the first byte picks the
 * piece size, as TCP would split it), then routed: static files from a small directory
 * made once (with a symlink pointing out of it), /stats and /metrics from fixed bodies,
 * the upgrade with an origin allow-list. Whatever the bytes, no crash, no leak, and a
 * static answer never comes from outside the directory. A PROXY v1 line may come first
 * and X-Forwarded-For is read, as from a --trust-proxy peer.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway.h"
#include "gateway_proxy.h"

static char root[PATH_MAX];

static char *fixed(void *ud, size_t *len)
{
    const char *text = ud;
    *len = strlen(text);
    return strdup(text);
}

static void put(const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char tmpl[] = "/tmp/cm-fuzz-http-XXXXXX";
    if (!mkdtemp(tmpl))
        abort();
    snprintf(root, sizeof root, "%s/site", tmpl);
    if (mkdir(root, 0700))
        abort();
    put("index.html", "<title>fuzz</title>");
    put("app.mjs", "export {};");
    put("m.wasm", "\0asm");
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/secret", tmpl);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("outside", f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/out", root);
    if (symlink("../secret", p))
        abort();
    snprintf(p, sizeof p, "%s/sub", root);
    mkdir(p, 0700);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = 1 + data[0] % 64;
    data++;
    size--;
    /* As from a trusted proxy: a PROXY line first, when there is one. */
    size_t used = 0;
    struct sockaddr_storage src;
    char err[160];
    gw_proxy_state ps =
        gw_proxy_v1_parse((const char *)data, size, &used, &src, NULL, err, sizeof err);
    if (ps == GW_PROXY_MORE || ps == GW_PROXY_BAD)
        return 0;
    if (ps == GW_PROXY_OK) {
        if (used > size || used > GW_PROXY_V1_MAX)
            abort();
        data += used;
        size -= used;
    }
    gw_http_req *r = gw_http_req_new(8192);
    size_t off = 0;
    while (off < size && gw_http_req_state(r) == GW_HTTP_MORE) {
        size_t n = size - off < piece ? size - off : piece;
        size_t used = gw_http_req_feed(r, (const char *)data + off, n);
        if (used > n)
            abort();
        off += n;
    }
    const char *xff = gw_http_req_xff(r);
    if (xff) {
        static gw_cidr trusted[2];
        if (!trusted[0].family && (gw_cidr_parse("127.0.0.0/8", &trusted[0], err, sizeof err) ||
                                   gw_cidr_parse("fd00::/8", &trusted[1], err, sizeof err)))
            abort();
        if (strlen(xff) >= GW_HTTP_XFF_MAX)
            abort();
        gw_xff_pick(xff, trusted, 2, &src, err, sizeof err);
    }
    static const char *origins[] = {"http://good.example", "https://b.example:8443"};
    gw_http_env env = {.static_dir = root,
                       .origins = origins,
                       .n_origins = 2,
                       .stats_json = fixed,
                       .metrics_text = fixed,
                       .ud = (void *)"{\"ok\":1}",
                       .frame_dir = root,
                       .frame_ancestors = "https://b.example:8443"};
    gw_http_resp resp;
    gw_http_route(&env, r, &resp);
    if (resp.status == 200 && resp.body && memmem(resp.body, resp.body_len, "outside", 7))
        abort(); /* served the file behind the symlink or a dot segment */
    if (!resp.head)
        abort(); /* every request gets an answer (or an upgrade) */
    gw_http_resp_free(&resp);
    gw_http_req_free(r);
    return 0;
}
