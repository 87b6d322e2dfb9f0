/* consentminer gateway — the HTTP side: one request head (http-parser), then either a
 * static file, /stats, /metrics, or the upgrade to a WebSocket at /ws.
 *
 * Each connection carries one request: every response closes it, except the upgrade.
 * Browsers open a new connection for each file, which costs little for a page, a
 * worker script and a wasm module, and keeps the state per connection minimal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <http_parser.h>
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include "consentminer/hex.h"
#include "gateway.h"

/* Static files are sent in pieces (gateway_server.c); anything larger than this is not a
 * web page's asset. */
#define GW_STATIC_MAX (64u * 1024 * 1024)

struct gw_http_req {
    http_parser parser;
    http_parser_settings settings;
    size_t max_head;
    size_t fed; /* bytes consumed so far */
    gw_http_state state;
    int error_status;
    char error_reason[120];
    char url[GW_HTTP_URL_MAX];
    size_t url_len;
    /* the header being read: its name, and which field (if any) its value goes to */
    char field[64];
    size_t field_len;
    int field_truncated;
    int in_value;
    char *value_dst;
    size_t *value_len;
    /* headers the gateway looks at */
    char host[GW_HTTP_FIELD_MAX], origin[GW_HTTP_FIELD_MAX], upgrade[64],
        connection[GW_HTTP_FIELD_MAX], ws_key[64], ws_version[16];
    size_t host_len, origin_len, upgrade_len, connection_len, ws_key_len, ws_version_len;
    int host_seen, origin_seen, upgrade_seen, connection_seen, ws_key_seen, ws_version_seen;
    int too_long;  /* a header value we keep was too long */
    int duplicate; /* a header we keep came twice */
    char duplicate_name[32];
    unsigned method;
    int is_upgrade;
    /* X-Forwarded-For (--trust-proxy): every such header joined by ", ", its last
     * GW_HTTP_XFF_MAX - 1 bytes when longer (the right end is the part a trusted proxy
     * wrote) */
    char xff[GW_HTTP_XFF_MAX];
    size_t xff_len;
    int xff_seen, xff_cut, in_xff;
    /* a POST's body (the /consent/ endpoints' JSON), read after the head; allocated
     * then, so a connection waiting for its head holds no room for one */
    int in_body;
    char *body;
    size_t body_len;
};

static gw_http_req *req_of(http_parser *p)
{
    return (gw_http_req *)p->data;
}

static int fail(gw_http_req *r, int status, const char *reason)
{
    if (r->state != GW_HTTP_ERROR) {
        r->state = GW_HTTP_ERROR;
        r->error_status = status;
        snprintf(r->error_reason, sizeof r->error_reason, "%s", reason);
    }
    return -1;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    gw_http_req *r = req_of(p);
    if (r->url_len + len >= sizeof r->url)
        return fail(r, 414, "request URL longer than 2047 bytes");
    memcpy(r->url + r->url_len, at, len);
    r->url_len += len;
    r->url[r->url_len] = 0;
    return 0;
}

static void xff_append(gw_http_req *r, const char *at, size_t len)
{
    size_t cap = sizeof r->xff - 1;
    if (len >= cap) {
        at += len - cap;
        len = cap;
        r->xff_len = 0;
        r->xff_cut = 1;
    } else if (r->xff_len + len > cap) {
        size_t drop = r->xff_len + len - cap;
        memmove(r->xff, r->xff + drop, r->xff_len - drop);
        r->xff_len -= drop;
        r->xff_cut = 1;
    }
    memcpy(r->xff + r->xff_len, at, len);
    r->xff_len += len;
    r->xff[r->xff_len] = 0;
}

/* Chooses where the value of the header just named goes; unknown headers are skipped. */
static void pick_value_dst(gw_http_req *r)
{
    static const struct {
        const char *name;
        size_t off, len_off, seen_off, cap;
    } known[] = {
#define K(n, f)                                                                                    \
    {n, offsetof(gw_http_req, f), offsetof(gw_http_req, f##_len), offsetof(gw_http_req, f##_seen), \
     sizeof(((gw_http_req *)0)->f)}
        K("host", host),
        K("origin", origin),
        K("upgrade", upgrade),
        K("connection", connection),
        K("sec-websocket-key", ws_key),
        K("sec-websocket-version", ws_version),
#undef K
    };
    r->value_dst = NULL;
    r->in_xff = 0;
    if (r->field_truncated)
        return;
    if (!strcasecmp(r->field, "x-forwarded-for")) {
        r->in_xff = 1;
        if (r->xff_seen)
            xff_append(r, ", ", 2);
        r->xff_seen = 1;
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcasecmp(r->field, known[i].name))
            continue;
        int *seen = (int *)((char *)r + known[i].seen_off);
        if (*seen) {
            /* Two Host or two Sec-WebSocket-Key headers: RFC 7230 5.4 says 400. */
            r->duplicate = 1;
            snprintf(r->duplicate_name, sizeof r->duplicate_name, "%s", known[i].name);
        }
        *seen = 1;
        r->value_dst = (char *)r + known[i].off;
        r->value_len = (size_t *)((char *)r + known[i].len_off);
        *r->value_len = 0;
        r->value_dst[0] = 0;
        return;
    }
}

static size_t value_cap(const gw_http_req *r)
{
    if (r->value_dst == r->host)
        return sizeof r->host;
    if (r->value_dst == r->origin)
        return sizeof r->origin;
    if (r->value_dst == r->upgrade)
        return sizeof r->upgrade;
    if (r->value_dst == r->connection)
        return sizeof r->connection;
    if (r->value_dst == r->ws_key)
        return sizeof r->ws_key;
    if (r->value_dst == r->ws_version)
        return sizeof r->ws_version;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    gw_http_req *r = req_of(p);
    if (r->in_value) {
        r->in_value = 0;
        r->field_len = 0;
        r->field_truncated = 0;
    }
    if (r->field_len + len >= sizeof r->field) {
        r->field_truncated = 1; /* a name this long is none we look at */
        return 0;
    }
    memcpy(r->field + r->field_len, at, len);
    r->field_len += len;
    r->field[r->field_len] = 0;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    gw_http_req *r = req_of(p);
    if (!r->in_value) {
        r->in_value = 1;
        pick_value_dst(r);
    }
    if (r->in_xff) {
        xff_append(r, at, len);
        return 0;
    }
    if (!r->value_dst)
        return 0;
    size_t cap = value_cap(r);
    if (*r->value_len + len >= cap) {
        r->too_long = 1;
        return 0;
    }
    memcpy(r->value_dst + *r->value_len, at, len);
    *r->value_len += len;
    r->value_dst[*r->value_len] = 0;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    gw_http_req *r = req_of(p);
    r->method = p->method;
    r->is_upgrade = p->upgrade;
    if (p->method == HTTP_POST && !p->upgrade && r->state == GW_HTTP_MORE) {
        /* A POST is read to its end: the endpoints need its JSON. Only a declared length
         * that fits: a chunked body could grow without a bound known in advance. */
        if (p->flags & F_CHUNKED)
            return fail(r, 411, "POST with a chunked body; send Content-Length");
        /* ULLONG_MAX: no Content-Length, which for a request means no body. */
        if (p->content_length != ULLONG_MAX && p->content_length > GW_HTTP_BODY_MAX)
            return fail(r, 413, "POST body larger than 4096 bytes");
        if (!(r->body = malloc(GW_HTTP_BODY_MAX + 1)))
            return fail(r, 503, "out of memory for the request body");
        r->body[0] = 0;
        r->in_body = 1;
        return 0;
    }
    if (r->state == GW_HTTP_MORE)
        r->state = GW_HTTP_DONE;
    /* The head is all the gateway reads: stop here, whatever body may follow. An upgrade
     * is left to http-parser, which stops right after the head by itself and returns the
     * exact count (a pause here would leave the head's last byte unconsumed, and it would
     * reach the WebSocket layer as the start of a frame). */
    if (!p->upgrade)
        http_parser_pause(p, 1);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    gw_http_req *r = req_of(p);
    /* Only a POST gets a body buffer; another method's body is read and dropped. */
    if (!r->body)
        return 0;
    if (r->body_len + len > GW_HTTP_BODY_MAX)
        return fail(r, 413, "POST body larger than 4096 bytes");
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    r->body[r->body_len] = 0;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    gw_http_req *r = req_of(p);
    if (r->in_body && r->state == GW_HTTP_MORE) {
        r->state = GW_HTTP_DONE;
        http_parser_pause(p, 1);
    }
    return 0;
}

gw_http_req *gw_http_req_new(size_t max_head)
{
    gw_http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
    http_parser_settings_init(&r->settings);
    r->settings.on_url = on_url;
    r->settings.on_header_field = on_header_field;
    r->settings.on_header_value = on_header_value;
    r->settings.on_headers_complete = on_headers_complete;
    r->settings.on_body = on_body;
    r->settings.on_message_complete = on_message_complete;
    r->max_head = max_head ? max_head : 8192;
    return r;
}

void gw_http_req_free(gw_http_req *r)
{
    if (r)
        free(r->body);
    free(r);
}

gw_http_state gw_http_req_state(const gw_http_req *r)
{
    return r->state;
}

size_t gw_http_req_feed(gw_http_req *r, const char *data, size_t len)
{
    size_t used = 0;
    /* Two rounds at most: the head up to max_head bytes, then (a POST) its body up to
     * GW_HTTP_BODY_MAX more, when both arrive in the same read. */
    while (r->state == GW_HTTP_MORE && used < len) {
        size_t limit = r->max_head + (r->in_body ? GW_HTTP_BODY_MAX : 0);
        size_t room = limit - r->fed;
        size_t take = len - used < room ? len - used : room;
        int was_body = r->in_body;
        size_t n = http_parser_execute(&r->parser, &r->settings, data + used, take);
        enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
        r->fed += n;
        used += n;
        /* Paused at the end of the head or the body, or stopped at an upgrade: n covers
         * the request. */
        if (r->state != GW_HTTP_MORE)
            return used;
        if (e != HPE_OK && e != HPE_PAUSED) {
            char why[100];
            snprintf(why, sizeof why, "malformed request: %s", http_errno_description(e));
            fail(r, 400, why);
            return used;
        }
        if (r->fed >= limit) {
            fail(r, r->in_body ? 413 : 431,
                 r->in_body ? "request body larger than the limit"
                            : "request head larger than the limit");
            return used;
        }
        if (n < take || was_body == r->in_body)
            break;
    }
    return used;
}

const char *gw_http_req_url(const gw_http_req *r)
{
    return r->url;
}

const char *gw_http_req_origin(const gw_http_req *r)
{
    return r->origin_seen ? r->origin : NULL;
}

const char *gw_http_req_xff(const gw_http_req *r)
{
    if (!r->xff_seen)
        return NULL;
    if (!r->xff_cut)
        return r->xff;
    /* Cut on the left: the first entry may be a piece of an address. */
    const char *comma = strchr(r->xff, ',');
    return comma ? comma + 1 : r->xff;
}

const char *gw_http_req_body(const gw_http_req *r, size_t *len)
{
    *len = r->body_len;
    return r->body ? r->body : "";
}

int gw_frame_origin(const gw_http_env *env, const gw_http_req *r, char *out, size_t cap)
{
    int n = env->public_origin ? snprintf(out, cap, "%s", env->public_origin)
                               : snprintf(out, cap, "%s://%s", env->tls ? "https" : "http",
                                          r->host_seen ? r->host : "");
    return n > 0 && (size_t)n < cap && (env->public_origin || r->host_seen) ? 0 : -1;
}

int gw_frame_origin_ok(const gw_http_env *env, const gw_http_req *r)
{
    char want[GW_HTTP_FIELD_MAX + 16];
    /* Browsers send the origin in lowercase ASCII (serialised by the URL standard); the
     * Host header is compared case-insensitively as RFC 7230 says hosts are. */
    return r->origin_seen && !gw_frame_origin(env, r, want, sizeof want) &&
           !strcasecmp(want, r->origin);
}

/* ---- responses ---- */

/* Cross-origin isolation, so browsers give the page SharedArrayBuffer for its workers,
 * and a policy that lets the page compile wasm and talk to this gateway, nothing else. */
static const char security_headers[] =
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Embedder-Policy: require-corp\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "worker-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
    "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n";

static const char *status_text(int status)
{
    switch (status) {
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 426:
        return "Upgrade Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static void set_head_with(gw_http_resp *out, int status, const char *type, size_t body_len,
                          const char *security, const char *extra)
{
    static const char fmt[] = "HTTP/1.1 %d %s\r\n"
                              "Server: consentminer\r\n"
                              "Content-Type: %s\r\n"
                              "Content-Length: %zu\r\n"
                              "Cache-Control: no-cache\r\n"
                              "Connection: close\r\n"
                              "%s%s\r\n";
    const char *more = extra ? extra : "";
    /* Sized to fit: the frame's headers grow with the --origin list. */
    int n = snprintf(NULL, 0, fmt, status, status_text(status), type, body_len, security, more);
    out->status = status;
    out->head = n < 0 ? NULL : malloc((size_t)n + 1);
    if (out->head) {
        snprintf(out->head, (size_t)n + 1, fmt, status, status_text(status), type, body_len,
                 security, more);
        out->head_len = (size_t)n;
    }
    out->close = 1;
}

static void set_head(gw_http_resp *out, int status, const char *type, size_t body_len,
                     const char *extra)
{
    set_head_with(out, status, type, body_len, security_headers, extra);
}

static void text_response(gw_http_resp *out, int status, const char *type, const char *body,
                          const char *extra)
{
    size_t len = strlen(body);
    set_head(out, status, type, len, extra);
    out->body = malloc(len + 1);
    if (out->body) {
        memcpy(out->body, body, len + 1);
        out->body_len = len;
    }
}

void gw_http_resp_init(gw_http_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->file_fd = -1;
}

void gw_http_error(int status, const char *reason, gw_http_resp *out)
{
    gw_http_resp_init(out);
    out->file_fd = -1;
    char body[200];
    snprintf(body, sizeof body, "%d %s\n", status, status_text(status));
    text_response(out, status, "text/plain; charset=utf-8", body,
                  status == 426 ? "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n" : NULL);
    snprintf(out->reason, sizeof out->reason, "%s", reason);
}

void gw_http_resp_free(gw_http_resp *resp)
{
    free(resp->head);
    free(resp->body);
    resp->head = resp->body = NULL;
    if (resp->file_fd >= 0)
        close(resp->file_fd);
    resp->file_fd = -1;
}

int gw_ws_accept_key(const char *key, char out[32])
{
    /* RFC 6455, section 1.3: SHA-1 of the key and this GUID, in base64. */
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char buf[64 + sizeof guid];
    size_t klen = strlen(key);
    if (klen > 64)
        return -1;
    memcpy(buf, key, klen);
    memcpy(buf + klen, guid, sizeof guid - 1);
    unsigned char digest[20];
    if (mbedtls_sha1_ret(buf, klen + sizeof guid - 1, digest))
        return -1;
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *)out, 32, &olen, digest, sizeof digest))
        return -1;
    out[olen] = 0;
    return 0;
}

/* 1 when the comma-separated header value lists token (case-insensitive). */
static int has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && !strncasecmp(s, token, tl))
            return 1;
    }
    return 0;
}

static void route_upgrade(const gw_http_env *env, const gw_http_req *r, gw_http_resp *out)
{
    if (r->method != HTTP_GET) {
        gw_http_error(405, "WebSocket upgrade with a method other than GET", out);
        return;
    }
    if (!r->upgrade_seen || !has_token(r->upgrade, "websocket")) {
        gw_http_error(426, "/ws without Upgrade: websocket", out);
        return;
    }
    if (!r->connection_seen || !has_token(r->connection, "upgrade")) {
        gw_http_error(400, "/ws without Connection: Upgrade", out);
        return;
    }
    if (!r->ws_version_seen || strcmp(r->ws_version, "13")) {
        gw_http_error(426, "Sec-WebSocket-Version is not 13", out);
        return;
    }
    unsigned char raw[64];
    size_t raw_len = 0;
    if (!r->ws_key_seen ||
        mbedtls_base64_decode(raw, sizeof raw, &raw_len, (const unsigned char *)r->ws_key,
                              r->ws_key_len) ||
        raw_len != 16) {
        gw_http_error(400, "Sec-WebSocket-Key is not 16 bytes in base64", out);
        return;
    }
    /* Only the consent frame logs in: the browser sets Origin, and a page script cannot
     * make it the frame's (docs/design.md, consent tokens). --origin lists who may embed
     * the frame, not who may connect. */
    if (!gw_frame_origin_ok(env, r)) {
        char why[160];
        snprintf(why, sizeof why, "origin %.100s is not the consent frame's origin",
                 r->origin_seen ? r->origin : "(none)");
        gw_http_error(403, why, out);
        return;
    }
    char accept[32];
    if (gw_ws_accept_key(r->ws_key, accept)) {
        gw_http_error(500, "could not compute Sec-WebSocket-Accept", out);
        return;
    }
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    out->status = 101;
    out->upgrade = 1;
    out->head = malloc((size_t)n + 1);
    if (out->head) {
        memcpy(out->head, buf, (size_t)n + 1);
        out->head_len = (size_t)n;
    }
}

int gw_static_resolve(const char *root, const char *url, char *out, size_t cap)
{
    /* Only the path: drop the query and fragment, then percent-decode. Decoding happens
     * before the segment check so %2e%2e is caught as "..". */
    char path[GW_HTTP_URL_MAX];
    size_t n = 0;
    if (url[0] != '/')
        return -1;
    for (const char *p = url; *p && *p != '?' && *p != '#'; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int h = cm_hex_digit(p[1]), l = h < 0 ? -1 : cm_hex_digit(p[2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            p += 2;
        }
        if (c == 0 || c == '\\')
            return -1;
        if (n + 1 >= sizeof path)
            return -1;
        path[n++] = (char)c;
    }
    path[n] = 0;
    /* Every segment: no "..", no "." and no hidden file (.git, .env). */
    for (char *s = path; *s;) {
        while (*s == '/')
            s++;
        if (*s == '.')
            return -1;
        while (*s && *s != '/')
            s++;
    }
    char joined[PATH_MAX];
    int w = snprintf(joined, sizeof joined, "%s%s%s", root, path,
                     path[n - 1] == '/' ? "index.html" : "");
    if (w < 0 || (size_t)w >= sizeof joined)
        return -1;
    char real_root[PATH_MAX], real[PATH_MAX];
    if (!realpath(root, real_root) || !realpath(joined, real))
        return -1;
    /* Symlinks are followed by realpath: what they point to must still be inside. */
    size_t rl = strlen(real_root);
    if (strncmp(real, real_root, rl) || (real[rl] != '/' && strcmp(real_root, "/")))
        return -1;
    struct stat st;
    if (stat(real, &st) || !S_ISREG(st.st_mode))
        return -1; /* directories are never listed */
    if (strlen(real) + 1 > cap)
        return -1;
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

const char *gw_static_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        /* ES modules and workers: browsers check for a JavaScript type. */
        {".mjs", "text/javascript; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        /* WebAssembly.compileStreaming refuses anything but application/wasm. */
        {".wasm", "application/wasm"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    size_t pl = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t el = strlen(types[i].ext);
        if (pl > el && !strcasecmp(path + pl - el, types[i].ext))
            return types[i].type;
    }
    return "application/octet-stream";
}

/* A file under root for url (a path below root), with these security headers. */
static void serve_file(const char *root, const char *url, const char *security,
                       const gw_http_req *r, gw_http_resp *out)
{
    char file[PATH_MAX];
    if (!root || gw_static_resolve(root, url, file, sizeof file)) {
        gw_http_error(404, "no such file", out);
        return;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > GW_STATIC_MAX) {
        if (fd >= 0)
            close(fd);
        gw_http_error(404, "unreadable or too large file", out);
        return;
    }
    /* Not read here: a read of megabytes on the loop would stall every visitor's shares.
     * The server reads it off the loop, a piece at a time, as the socket takes it. */
    set_head_with(out, 200, gw_static_type(file), (size_t)st.st_size, security, NULL);
    if (r->method == HTTP_GET && st.st_size > 0) {
        out->file_fd = fd;
        out->file_size = (uint64_t)st.st_size;
    } else {
        close(fd);
    }
}

static void route_static(const gw_http_env *env, const gw_http_req *r, gw_http_resp *out)
{
    serve_file(env->static_dir, r->url, security_headers, r, out);
}

/* The consent frame's files: embeddable by the --origin sites only (frame-ancestors),
 * loadable cross-origin (CORP), and cross-origin isolated when the embedding page is
 * (COEP/COOP), so its workers still get SharedArrayBuffer. */
static void route_frame(const gw_http_env *env, const gw_http_req *r, gw_http_resp *out)
{
    static const char fmt[] =
        "Cross-Origin-Opener-Policy: same-origin\r\n"
        "Cross-Origin-Embedder-Policy: require-corp\r\n"
        "Cross-Origin-Resource-Policy: cross-origin\r\n"
        "Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
        "worker-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors %s\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Referrer-Policy: no-referrer\r\n";
    const char *ancestors = env->frame_ancestors ? env->frame_ancestors : "'self'";
    /* The whole --origin list, never cut short: a cut origin could name another host. */
    size_t cap = sizeof fmt + strlen(ancestors);
    char *security = malloc(cap);
    if (!security) {
        gw_http_resp_init(out);
        text_response(out, 503, "text/plain", "out of memory\n", NULL);
        return;
    }
    snprintf(security, cap, fmt, ancestors);
    /* "/frame/x" is the file x under --frame-dir. */
    serve_file(env->frame_dir, r->url + strlen("/frame"), security, r, out);
    free(security);
}

void gw_http_json(gw_http_resp *out, int status, const char *json)
{
    gw_http_resp_init(out);
    text_response(out, status, "application/json", json, NULL);
}

static void route_generated(const gw_http_req *r, gw_http_resp *out, char *body, size_t len,
                            const char *type)
{
    if (!body) {
        gw_http_error(500, "could not build the response", out);
        return;
    }
    set_head(out, 200, type, len, NULL);
    if (r->method == HTTP_HEAD) {
        free(body);
        return;
    }
    out->body = body;
    out->body_len = len;
}

/* 1 when the URL's path (without query) is exactly p. */
static int path_is(const char *url, const char *p)
{
    size_t pl = strlen(p);
    return !strncmp(url, p, pl) && (url[pl] == 0 || url[pl] == '?');
}

void gw_http_route(const gw_http_env *env, const gw_http_req *r, gw_http_resp *out)
{
    gw_http_resp_init(out);
    if (r->state == GW_HTTP_ERROR) {
        gw_http_error(r->error_status, r->error_reason, out);
        return;
    }
    if (r->state != GW_HTTP_DONE) {
        gw_http_error(400, "incomplete request", out);
        return;
    }
    if (r->duplicate) {
        char why[80];
        snprintf(why, sizeof why, "header %s given twice", r->duplicate_name);
        gw_http_error(400, why, out);
        return;
    }
    if (r->too_long) {
        gw_http_error(431, "a header value is longer than the gateway accepts", out);
        return;
    }
    int v11 = r->parser.http_major == 1 && r->parser.http_minor == 1;
    int v10 = r->parser.http_major == 1 && r->parser.http_minor == 0;
    if ((!v11 && !v10) || (v11 && !r->host_seen)) {
        /* HTTP/1.1 needs Host (RFC 7230 5.4); 1.0 is still served for simple probes. */
        gw_http_error(400, "not an HTTP/1.0 or HTTP/1.1 request with a Host header", out);
        return;
    }
    if (r->url[0] != '/') {
        gw_http_error(400, "request target is not a path (absolute or asterisk form)", out);
        return;
    }
    if (path_is(r->url, "/ws")) {
        if (!v11) {
            gw_http_error(400, "WebSocket needs HTTP/1.1", out);
            return;
        }
        route_upgrade(env, r, out);
        return;
    }
    if (!strncmp(r->url, "/consent/", 9)) {
        if (r->method != HTTP_POST) {
            gw_http_error(405, "the /consent/ endpoints take POST only", out);
            return;
        }
        if (!env->consent) {
            gw_http_error(404, "no such endpoint", out);
            return;
        }
        env->consent(env->ud, r, out);
        return;
    }
    if (r->method != HTTP_GET && r->method != HTTP_HEAD) {
        gw_http_error(405, "method not allowed", out);
        return;
    }
    if (!strncmp(r->url, "/frame/", 7)) {
        route_frame(env, r, out);
        return;
    }
    if (path_is(r->url, "/stats") && env->stats_json) {
        size_t len = 0;
        char *body = env->stats_json(env->ud, &len);
        route_generated(r, out, body, len, "application/json");
        return;
    }
    if (path_is(r->url, "/metrics") && env->metrics_text) {
        size_t len = 0;
        char *body = env->metrics_text(env->ud, &len);
        route_generated(r, out, body, len, "text/plain; version=0.0.4; charset=utf-8");
        return;
    }
    if (path_is(r->url, "/healthz") && env->healthz) {
        int status = 503;
        size_t len = 0;
        char *body = env->healthz(env->ud, &status, &len);
        if (!body) {
            gw_http_error(500, "could not build the response", out);
            return;
        }
        set_head(out, status, "text/plain; charset=utf-8", len, NULL);
        if (r->method == HTTP_HEAD) {
            free(body);
            return;
        }
        out->body = body;
        out->body_len = len;
        return;
    }
    route_static(env, r, out);
}
