/* consentminer — newline-delimited TCP/TLS connection on libuv. */
#include "line_stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

enum { ST_INIT, ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_CLOSED };

struct cm_line_stream {
    uv_loop_t *loop;
    cm_line_stream_events ev;
    void *ud;
    char host[256];
    int port;
    int use_tls;
    char ca_file[256];
    int pinned;
    uint8_t pin[32];
    size_t max_line;
    uint32_t open_timeout_ms;
    int state;
    int notify;                         /* 1 while on_close may still be called */
    char reason[CM_TLS_ERROR_MAX + 64]; /* why it failed, for on_close */
    uv_getaddrinfo_t resolve;
    int resolving;
    uv_tcp_t tcp;
    int tcp_init;
    uv_connect_t connect;
    uv_timer_t timer;
    int open_handles; /* handles initialised and not yet closed */
    cm_tls *tls;
    char *line; /* current partial line */
    size_t line_len;
    int discarding; /* inside a too-long line */
    size_t discarded;
};

typedef struct write_req {
    uv_write_t req;
    uv_buf_t buf;
} write_req;

static void maybe_free(cm_line_stream *s)
{
    if (s->state == ST_CLOSED && s->open_handles == 0 && !s->resolving) {
        /* on_close is delivered only here, from a libuv close callback: never from inside
         * a call the owner made (a send that failed), so the owner may free what it likes. */
        if (s->notify && s->ev.on_close)
            s->ev.on_close(s->ud, s->reason);
        cm_tls_free(s->tls);
        free(s->line);
        free(s);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    cm_line_stream *s = h->data;
    s->open_handles--;
    maybe_free(s);
}

static void shutdown_stream(cm_line_stream *s)
{
    if (s->state == ST_CLOSED)
        return;
    s->state = ST_CLOSED;
    if (s->resolving)
        uv_cancel((uv_req_t *)&s->resolve);
    if (s->tcp_init && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&s->timer))
        uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}

static void fail(cm_line_stream *s, const char *fmt, ...)
{
    if (s->state == ST_CLOSED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
    shutdown_stream(s);
}

static void on_write(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    cm_line_stream *s = req->data;
    free(w->buf.base);
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        fail(s, "write to %s:%d failed: %s", s->host, s->port, uv_strerror(status));
}

static int raw_send(cm_line_stream *s, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    write_req *w = malloc(sizeof *w);
    char *copy = malloc(len);
    if (w == NULL || copy == NULL) {
        free(w);
        free(copy);
        fail(s, "out of memory writing to %s:%d", s->host, s->port);
        return -1;
    }
    memcpy(copy, data, len);
    w->buf = uv_buf_init(copy, (unsigned)len);
    w->req.data = s;
    int rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &w->buf, 1, on_write);
    if (rc < 0) {
        free(copy);
        free(w);
        fail(s, "write to %s:%d failed: %s", s->host, s->port, uv_strerror(rc));
        return -1;
    }
    return 0;
}

static int flush_tls(cm_line_stream *s)
{
    const uint8_t *data;
    size_t n = cm_tls_output(s->tls, &data);
    if (n == 0)
        return 0;
    int rc = raw_send(s, data, n);
    cm_tls_output_consume(s->tls, n);
    return rc;
}

static void opened(cm_line_stream *s)
{
    s->state = ST_OPEN;
    uv_timer_stop(&s->timer);
    if (s->ev.on_open)
        s->ev.on_open(s->ud);
}

/* Splits plaintext into lines; stops as soon as a callback closed the stream. */
static void take_plaintext(cm_line_stream *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len && s->state == ST_OPEN; i++) {
        char c = data[i];
        if (c == '\n') {
            if (s->discarding) {
                size_t dropped = s->discarded;
                s->discarding = 0;
                s->discarded = 0;
                if (s->ev.on_oversize)
                    s->ev.on_oversize(s->ud, dropped);
                continue;
            }
            size_t n = s->line_len;
            if (n > 0 && s->line[n - 1] == '\r')
                n--;
            s->line[n] = 0;
            s->line_len = 0;
            if (n > 0 && s->ev.on_line)
                s->ev.on_line(s->ud, s->line, n);
            continue;
        }
        if (s->discarding) {
            s->discarded++;
            continue;
        }
        if (s->line_len >= s->max_line) {
            s->discarding = 1;
            s->discarded = s->line_len + 1;
            s->line_len = 0;
            continue;
        }
        s->line[s->line_len++] = c;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    if (suggested > 65536)
        suggested = 65536;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    cm_line_stream *s = stream->data;
    if (nread < 0) {
        free(buf->base);
        if (nread == UV_EOF)
            fail(s, "%s:%d closed the connection", s->host, s->port);
        else
            fail(s, "read from %s:%d failed: %s", s->host, s->port, uv_strerror((int)nread));
        return;
    }
    if (nread == 0 || s->state == ST_CLOSED) {
        free(buf->base);
        return;
    }
    if (s->tls == NULL) {
        take_plaintext(s, buf->base, (size_t)nread);
        free(buf->base);
        return;
    }
    int rc = cm_tls_feed(s->tls, buf->base, (size_t)nread);
    free(buf->base);
    if (rc != 0) {
        fail(s, "out of memory reading from %s:%d", s->host, s->port);
        return;
    }
    if (s->state == ST_HANDSHAKE) {
        rc = cm_tls_handshake(s->tls);
        if (rc < 0) {
            flush_tls(s);
            fail(s, "%s", cm_tls_error(s->tls));
            return;
        }
        if (flush_tls(s) != 0)
            return;
        if (rc == 0)
            return;
        opened(s);
    }
    char plain[16384];
    while (s->state == ST_OPEN) {
        int n = cm_tls_read(s->tls, plain, sizeof plain);
        if (n == 0)
            break;
        if (n < 0) {
            fail(s, "%s", cm_tls_error(s->tls));
            return;
        }
        take_plaintext(s, plain, (size_t)n);
    }
    if (s->state == ST_OPEN)
        flush_tls(s);
}

static void on_connect(uv_connect_t *req, int status)
{
    cm_line_stream *s = req->data;
    if (status == UV_ECANCELED || s->state == ST_CLOSED)
        return;
    if (status < 0) {
        fail(s, "cannot connect to %s:%d: %s", s->host, s->port, uv_strerror(status));
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    if (rc < 0) {
        fail(s, "cannot read from %s:%d: %s", s->host, s->port, uv_strerror(rc));
        return;
    }
    uv_tcp_nodelay(&s->tcp, 1);
    /* A pool that does not list the keepalive extension is never sent keepalived, so let
     * the kernel notice a connection that died without a word (probes after 60 s idle). */
    uv_tcp_keepalive(&s->tcp, 1, 60);
    if (!s->use_tls) {
        opened(s);
        return;
    }
    char err[CM_TLS_ERROR_MAX];
    s->tls = cm_tls_client_new(s->host, s->ca_file[0] ? s->ca_file : NULL,
                               s->pinned ? s->pin : NULL, err, sizeof err);
    if (s->tls == NULL) {
        fail(s, "%s", err);
        return;
    }
    s->state = ST_HANDSHAKE;
    rc = cm_tls_handshake(s->tls);
    if (rc < 0) {
        fail(s, "%s", cm_tls_error(s->tls));
        return;
    }
    flush_tls(s);
}

static void start_connect(cm_line_stream *s, const struct sockaddr *addr)
{
    int rc = uv_tcp_init(s->loop, &s->tcp);
    if (rc < 0) {
        fail(s, "cannot create a socket for %s:%d: %s", s->host, s->port, uv_strerror(rc));
        return;
    }
    s->tcp_init = 1;
    s->open_handles++;
    s->tcp.data = s;
    s->connect.data = s;
    s->state = ST_CONNECTING;
    rc = uv_tcp_connect(&s->connect, &s->tcp, addr, on_connect);
    if (rc < 0)
        fail(s, "cannot connect to %s:%d: %s", s->host, s->port, uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    cm_line_stream *s = req->data;
    s->resolving = 0;
    if (s->state == ST_CLOSED) {
        uv_freeaddrinfo(res);
        maybe_free(s);
        return;
    }
    if (status < 0 || res == NULL) {
        uv_freeaddrinfo(res);
        fail(s, "cannot resolve %s: %s", s->host, uv_strerror(status < 0 ? status : UV_ENOENT));
        return;
    }
    start_connect(s, res->ai_addr);
    uv_freeaddrinfo(res);
}

static void begin(cm_line_stream *s)
{
    /* Numeric addresses skip the resolver thread. */
    struct sockaddr_storage addr;
    if (uv_ip4_addr(s->host, s->port, (struct sockaddr_in *)&addr) == 0 ||
        uv_ip6_addr(s->host, s->port, (struct sockaddr_in6 *)&addr) == 0) {
        start_connect(s, (const struct sockaddr *)&addr);
        return;
    }
    char port[16];
    snprintf(port, sizeof port, "%d", s->port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    s->resolve.data = s;
    s->state = ST_RESOLVING;
    int rc = uv_getaddrinfo(s->loop, &s->resolve, on_resolved, s->host, port, &hints);
    if (rc < 0)
        fail(s, "cannot resolve %s: %s", s->host, uv_strerror(rc));
    else
        s->resolving = 1;
}

static void on_timer(uv_timer_t *t)
{
    cm_line_stream *s = t->data;
    if (s->state == ST_INIT) {
        /* Started from the loop, not from cm_line_stream_open, so that even an
         * immediate failure reaches on_close after the owner holds the pointer. */
        uv_timer_start(&s->timer, on_timer, s->open_timeout_ms, 0);
        begin(s);
        return;
    }
    fail(s, "%s:%d did not %s in time", s->host, s->port,
         s->state == ST_HANDSHAKE ? "complete the TLS handshake" : "accept the connection");
}

cm_line_stream *cm_line_stream_open(uv_loop_t *loop, const cm_line_stream_config *cfg,
                                    const cm_line_stream_events *ev, void *ud)
{
    cm_line_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->max_line = cfg->max_line ? cfg->max_line : 65536;
    s->line = malloc(s->max_line + 1);
    if (s->line == NULL) {
        free(s);
        return NULL;
    }
    s->loop = loop;
    s->ev = *ev;
    s->ud = ud;
    snprintf(s->host, sizeof s->host, "%s", cfg->host);
    s->port = cfg->port;
    s->use_tls = cfg->tls;
    if (cfg->ca_file)
        snprintf(s->ca_file, sizeof s->ca_file, "%s", cfg->ca_file);
    if (cfg->pin) {
        s->pinned = 1;
        memcpy(s->pin, cfg->pin, 32);
    }
    s->open_timeout_ms = cfg->open_timeout_ms ? cfg->open_timeout_ms : 10000;
    s->notify = 1;
    s->state = ST_INIT;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->open_handles++;
    uv_timer_start(&s->timer, on_timer, 0, 0);
    return s;
}

int cm_line_stream_send(cm_line_stream *s, const char *data, size_t len)
{
    if (s == NULL || s->state != ST_OPEN)
        return -1;
    if (s->tls == NULL)
        return raw_send(s, data, len);
    if (cm_tls_write(s->tls, data, len) != 0) {
        fail(s, "%s", cm_tls_error(s->tls));
        return -1;
    }
    return flush_tls(s);
}

void cm_line_stream_close(cm_line_stream *s)
{
    if (s == NULL)
        return;
    s->notify = 0;
    shutdown_stream(s);
    maybe_free(s);
}
