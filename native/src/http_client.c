/* consentminer — a single HTTP POST over libuv, parsed with http-parser. */
#include "http_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

struct cm_http_req {
    uv_loop_t *loop;
    cm_http_cb cb;
    void *ud;
    char host[256];
    int port;
    char *request;
    size_t request_len;
    uv_getaddrinfo_t resolve;
    int resolving;
    uv_tcp_t tcp;
    int tcp_init;
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t timer;
    int handles;
    int done; /* callback made or cancelled */
    http_parser parser;
    http_parser_settings settings;
    char *body;
    size_t body_len, body_cap;
    int complete;
};

static void maybe_free(cm_http_req *r)
{
    if (r->done && r->handles == 0 && !r->resolving) {
        free(r->request);
        free(r->body);
        free(r);
    }
}

static void on_closed(uv_handle_t *h)
{
    cm_http_req *r = h->data;
    r->handles--;
    maybe_free(r);
}

static void finish(cm_http_req *r, int status, const char *fmt, ...)
{
    if (r->done)
        return;
    r->done = 1;
    char error[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(error, sizeof error, fmt, ap);
        va_end(ap);
    }
    if (r->resolving)
        uv_cancel((uv_req_t *)&r->resolve);
    if (r->tcp_init && !uv_is_closing((uv_handle_t *)&r->tcp))
        uv_close((uv_handle_t *)&r->tcp, on_closed);
    if (!uv_is_closing((uv_handle_t *)&r->timer))
        uv_close((uv_handle_t *)&r->timer, on_closed);
    if (r->cb)
        r->cb(r->ud, status, status > 0 ? (r->body ? r->body : "") : NULL,
              status > 0 ? r->body_len : 0, status > 0 ? NULL : error);
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    cm_http_req *r = p->data;
    if (r->body_len + len > CM_HTTP_MAX_BODY)
        return -1;
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (b == NULL)
            return -1;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, at, len);
    r->body_len += len;
    r->body[r->body_len] = 0;
    return 0;
}

static int on_message_complete(http_parser *p)
{
    cm_http_req *r = p->data;
    r->complete = 1;
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    if (suggested > 65536)
        suggested = 65536;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    cm_http_req *r = s->data;
    if (r->done) {
        free(buf->base);
        return;
    }
    if (nread < 0) {
        free(buf->base);
        if (nread == UV_EOF) {
            http_parser_execute(&r->parser, &r->settings, NULL, 0);
            if (r->complete)
                finish(r, r->parser.status_code, NULL);
            else
                finish(r, 0, "%s:%d closed the connection before a full HTTP response", r->host,
                       r->port);
        } else {
            finish(r, 0, "read from %s:%d failed: %s", r->host, r->port, uv_strerror((int)nread));
        }
        return;
    }
    size_t n = http_parser_execute(&r->parser, &r->settings, buf->base, (size_t)nread);
    free(buf->base);
    if (r->parser.http_errno != HPE_OK || n != (size_t)nread) {
        if (r->body_len >= CM_HTTP_MAX_BODY || r->parser.http_errno == HPE_CB_body)
            finish(r, 0, "HTTP response from %s:%d is larger than %u bytes or out of memory",
                   r->host, r->port, CM_HTTP_MAX_BODY);
        else
            finish(r, 0, "malformed HTTP response from %s:%d: %s", r->host, r->port,
                   http_errno_description(HTTP_PARSER_ERRNO(&r->parser)));
        return;
    }
    if (r->complete)
        finish(r, r->parser.status_code, NULL);
}

static void on_write(uv_write_t *w, int status)
{
    cm_http_req *r = w->data;
    if (status < 0 && !r->done)
        finish(r, 0, "write to %s:%d failed: %s", r->host, r->port, uv_strerror(status));
}

static void on_connect(uv_connect_t *c, int status)
{
    cm_http_req *r = c->data;
    if (r->done)
        return;
    if (status < 0) {
        finish(r, 0, "cannot connect to %s:%d: %s", r->host, r->port, uv_strerror(status));
        return;
    }
    uv_buf_t buf = uv_buf_init(r->request, (unsigned)r->request_len);
    r->write.data = r;
    int rc = uv_write(&r->write, (uv_stream_t *)&r->tcp, &buf, 1, on_write);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&r->tcp, on_alloc, on_read);
    if (rc < 0)
        finish(r, 0, "cannot talk to %s:%d: %s", r->host, r->port, uv_strerror(rc));
}

static void start_connect(cm_http_req *r, const struct sockaddr *addr)
{
    int rc = uv_tcp_init(r->loop, &r->tcp);
    if (rc < 0) {
        finish(r, 0, "cannot create a socket: %s", uv_strerror(rc));
        return;
    }
    r->tcp_init = 1;
    r->handles++;
    r->tcp.data = r;
    r->connect.data = r;
    rc = uv_tcp_connect(&r->connect, &r->tcp, addr, on_connect);
    if (rc < 0)
        finish(r, 0, "cannot connect to %s:%d: %s", r->host, r->port, uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    cm_http_req *r = req->data;
    r->resolving = 0;
    if (r->done) {
        uv_freeaddrinfo(res);
        maybe_free(r);
        return;
    }
    if (status < 0 || res == NULL) {
        uv_freeaddrinfo(res);
        finish(r, 0, "cannot resolve %s: %s", r->host,
               uv_strerror(status < 0 ? status : UV_ENOENT));
        return;
    }
    start_connect(r, res->ai_addr);
    uv_freeaddrinfo(res);
}

static void on_timer(uv_timer_t *t)
{
    cm_http_req *r = t->data;
    if (r->tcp_init || r->resolving) {
        finish(r, 0, "%s:%d did not answer in time", r->host, r->port);
        return;
    }
    /* First turn: start from the loop so that even an immediate failure reaches the
     * callback after cm_http_post has returned the request. */
    struct sockaddr_storage addr;
    if (uv_ip4_addr(r->host, r->port, (struct sockaddr_in *)&addr) == 0 ||
        uv_ip6_addr(r->host, r->port, (struct sockaddr_in6 *)&addr) == 0) {
        start_connect(r, (const struct sockaddr *)&addr);
        return;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", r->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    r->resolve.data = r;
    int rc = uv_getaddrinfo(r->loop, &r->resolve, on_resolved, r->host, port, &hints);
    if (rc < 0)
        finish(r, 0, "cannot resolve %s: %s", r->host, uv_strerror(rc));
    else
        r->resolving = 1;
}

cm_http_req *cm_http_post(uv_loop_t *loop, const char *host, int port, const char *path,
                          const char *body, size_t body_len, uint32_t timeout_ms, cm_http_cb cb,
                          void *ud)
{
    cm_http_req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->loop = loop;
    r->cb = cb;
    r->ud = ud;
    snprintf(r->host, sizeof r->host, "%s", host);
    r->port = port;
    size_t cap = body_len + strlen(path) + strlen(host) + 256;
    r->request = malloc(cap);
    if (r->request == NULL) {
        free(r);
        return NULL;
    }
    int n = snprintf(r->request, cap,
                     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     path, host, port, body_len);
    memcpy(r->request + n, body, body_len);
    r->request_len = (size_t)n + body_len;
    http_parser_init(&r->parser, HTTP_RESPONSE);
    r->parser.data = r;
    http_parser_settings_init(&r->settings);
    r->settings.on_body = on_body;
    r->settings.on_message_complete = on_message_complete;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    r->handles++;
    /* Repeat: the first firing starts the connection, the second is the deadline. */
    uv_timer_start(&r->timer, on_timer, 0, timeout_ms ? timeout_ms : 10000);
    return r;
}

void cm_http_cancel(cm_http_req *r)
{
    if (r == NULL)
        return;
    r->cb = NULL;
    finish(r, 0, NULL);
    maybe_free(r);
}

int cm_http_parse_url(const char *url, char *host, size_t host_len, int *port)
{
    const char *p = url;
    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strstr(p, "://") != NULL)
        return -1;
    const char *end = p + strcspn(p, "/");
    const char *colon = NULL;
    const char *hs = p, *he = end;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (rb == NULL)
            return -1;
        hs = p + 1;
        he = rb;
        if (rb + 1 < end && rb[1] == ':')
            colon = rb + 1;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        if (colon)
            he = colon;
    }
    if (he <= hs || (size_t)(he - hs) >= host_len)
        return -1;
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = 0;
    *port = 80;
    if (colon) {
        char *stop;
        long v = strtol(colon + 1, &stop, 10);
        if (stop != end || v < 1 || v > 65535)
            return -1;
        *port = (int)v;
    }
    return 0;
}
