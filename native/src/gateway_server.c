/* consentminer gateway — the listening socket and each connection's life on the loop:
 * accept (with the total and per-IP limits), HTTP head, upgrade, WebSocket messages to
 * the session, writes, closing, and one sweep timer for every deadline.
 *
 * One timer for all connections instead of one per connection: at 10,000 browsers a
 * uv_timer_t each is 10,000 heap entries touched on every reset, while a sweep over a
 * list once a second costs microseconds and keeps a connection small.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "gateway_consent.h"
#include "gateway_server.h"

/* A browser that stops reading is dropped before its backlog grows past this. */
#define GW_WRITE_BACKLOG_MAX (1u << 20)
/* After our last bytes (a response, a close frame), wait this long for the peer. */
#define GW_DRAIN_MS 2000
/* How long a stopping gateway waits for shares it already received (verification and the
 * upstream's answer) before it closes anyway; systemd's TimeoutStopSec is 30 s. */
#define GW_STOP_GRACE_MS 10000
/* A static file goes out in reads of this size, the next one only while less than
 * GW_FILE_QUEUED waits in the socket's write queue: a download holds a few hundred KiB
 * however large the file and however slowly it is read. */
#define GW_FILE_CHUNK (64u * 1024)
#define GW_FILE_QUEUED (256u * 1024)

int64_t gw_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_now(gw_server *s)
{
    return (int64_t)uv_now(s->loop);
}

const char *gw_refusal_name(gw_refusal r)
{
    static const char *names[GW_R_COUNT] = {
        "capacity",
        "per_ip",
        "bad_request",
        "origin",
        "handshake_timeout",
        "idle_timeout",
        "message_too_big",
        "protocol",
        "malformed_messages",
        "invalid_shares",
        "submit_rate",
        "no_consent",
        "consent_expired",
        "consent_invalid",
        "login",
        "slow_reader",
        "tls",
        "consent_revoked",
        "consent_replay",
        "cooldown",
        "proxy",
    };
    return (unsigned)r < GW_R_COUNT ? names[r] : "unknown";
}

/* ---- writing ---- */

typedef struct wreq {
    uv_write_t req;
    size_t len;
    char data[];
} wreq;

static void file_pump(gw_conn *c);

static void write_done(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    gw_conn *c = req->data;
    free(w);
    if (status < 0 && !c->closing)
        gw_conn_close(c, "write failed");
    else if (c->file && !c->closing)
        file_pump(c);
    gw_conn_unref(c);
}

/* Bytes to the socket, as they are (already encrypted when TLS is on). */
static int raw_write(void *ud, const uint8_t *data, size_t len)
{
    gw_conn *c = ud;
    if (c->closing)
        return -1;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > GW_WRITE_BACKLOG_MAX) {
        gw_conn_refuse(c, GW_R_SLOW_READER, "more than 1 MiB waiting to be sent");
        return -1;
    }
    wreq *w = malloc(sizeof *w + len);
    if (!w)
        return -1;
    memcpy(w->data, data, len);
    w->len = len;
    w->req.data = c;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    c->refs++;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done);
    if (rc) {
        c->refs--;
        free(w);
        return -1;
    }
    return 0;
}

/* Plaintext to the browser: through TLS when it is on. */
static int conn_write(gw_conn *c, const void *data, size_t len)
{
    if (c->tls)
        return gw_tls_write(c->tls, data, len, raw_write, c);
    return raw_write(c, data, len);
}

/* ---- closing ---- */

static void file_free(gw_conn *c);

static void conn_free(gw_conn *c)
{
    file_free(c);
    gw_http_req_free(c->http);
    gw_ws_free(c->ws);
    gw_tls_free(c->tls);
    free(c);
}

void gw_conn_unref(gw_conn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

static void on_closed(uv_handle_t *h)
{
    gw_conn *c = (gw_conn *)h;
    gw_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->counted)
        gw_iptable_remove(s->ips, c->ip_key);
    s->stats.conns_open--;
    if (c->ws)
        s->stats.ws_open--;
    gw_conn_unref(c);
}

void gw_conn_close(gw_conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (why && !c->srv->cfg.quiet && c->phase == GW_PHASE_WS) {
        char who[160];
        json_t *f = gw_conn_fields(c);
        json_object_set_new(f, "why", json_string_nocheck(why));
        gw_log_fields("info", f, "connection %s closed: %s", gw_conn_who(c, who, sizeof who), why);
    }
    gw_session_end(c);
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

void gw_conn_refuse(gw_conn *c, gw_refusal why, const char *detail)
{
    gw_server *s = c->srv;
    s->stats.refused[why]++;
    char who[160], text[300];
    gw_conn_redact(c, detail, text, sizeof text);
    json_t *f = gw_conn_fields(c);
    json_object_set_new(f, "reason", json_string(gw_refusal_name(why)));
    json_object_set_new(f, "detail", json_string_nocheck(text));
    gw_log_fields("warn", f, "refused %s: %s (%s)", gw_conn_who(c, who, sizeof who),
                  gw_refusal_name(why), text);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
    (void)status;
    gw_conn *c = req->data;
    free(req);
    gw_conn_unref(c);
}

/* Our side is done: send FIN after what is queued, keep reading (and discarding) until
 * the peer closes or the drain deadline, so the peer gets our last bytes rather than a
 * reset for data it sent that we never read. */
static void conn_drain(gw_conn *c)
{
    if (c->closing || c->phase == GW_PHASE_DRAIN)
        return;
    c->phase = GW_PHASE_DRAIN;
    c->deadline_ms = gw_now(c->srv) + GW_DRAIN_MS;
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req) {
        gw_conn_close(c, "out of memory");
        return;
    }
    req->data = c;
    c->refs++;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_done)) {
        c->refs--;
        free(req);
        gw_conn_close(c, NULL);
    }
}

/* ---- WebSocket phase ---- */

static void ws_text(void *ud, const char *msg, size_t len)
{
    gw_conn *c = ud;
    c->idle_ms = gw_now(c->srv) + c->srv->cfg.idle_timeout_ms;
    gw_session_message(c, msg, len);
}

static int ws_write(void *ud, const uint8_t *data, size_t len)
{
    return conn_write(ud, data, len);
}

static void ws_closed(void *ud, unsigned code, const char *reason)
{
    gw_conn *c = ud;
    if (code == 1009)
        gw_conn_refuse(c, GW_R_TOO_BIG, "message over --max-message");
    else if (code == 1002 || code == 1003 || code == 1007)
        gw_conn_refuse(c, GW_R_PROTOCOL,
                       code == 1003   ? "binary message"
                       : code == 1007 ? "invalid UTF-8"
                                      : reason);
}

int gw_conn_send_text(gw_conn *c, const char *text, size_t len)
{
    if (c->closing || !c->ws || c->phase != GW_PHASE_WS)
        return -1;
    int rc = gw_ws_send_text(c->ws, text, len);
    return rc;
}

void gw_conn_fail(gw_conn *c, json_t *id, int code, const char *message, gw_refusal why)
{
    size_t len = 0;
    char *reply = gw_msg_error_reply(id, code, message, &len);
    if (reply) {
        gw_conn_send_text(c, reply, len);
        free(reply);
    }
    gw_conn_refuse(c, why, message);
    if (c->ws && c->phase == GW_PHASE_WS) {
        /* 1008 policy violation: the close reason repeats the error for the browser. */
        gw_ws_close(c->ws, 1008, message);
        c->deadline_ms = gw_now(c->srv) + GW_DRAIN_MS;
    }
}

static void ws_feed(gw_conn *c, const uint8_t *data, size_t len)
{
    if (gw_ws_feed(c->ws, data, len))
        conn_drain(c);
}

/* ---- static files, in pieces off the loop ---- */

typedef struct gw_file_send {
    uv_fs_t req;
    gw_conn *c;
    int fd;
    int reading; /* a read is in flight (it holds a reference on the connection) */
    uint64_t off, size;
    char buf[GW_FILE_CHUNK];
} gw_file_send;

static void file_free(gw_conn *c)
{
    gw_file_send *f = c->file;
    if (!f)
        return;
    c->file = NULL;
    uv_fs_t req;
    uv_fs_close(NULL, &req, f->fd, NULL); /* no callback: closing a regular file is quick */
    uv_fs_req_cleanup(&req);
    free(f);
}

static void file_read_done(uv_fs_t *req)
{
    gw_file_send *f = req->data;
    gw_conn *c = f->c;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    f->reading = 0;
    if (!c->closing) {
        if (n <= 0 || (uint64_t)n > f->size - f->off) {
            /* The head promised the size: a file that changed since can only be told to
             * the browser by ending the connection early. */
            char who[160];
            gw_log("static file for %s: %s at byte %llu of %llu", gw_conn_who(c, who, sizeof who),
                   n < 0 ? uv_strerror((int)n) : "the file changed size",
                   (unsigned long long)f->off, (unsigned long long)f->size);
            gw_conn_close(c, NULL);
        } else if (conn_write(c, f->buf, (size_t)n) == 0) {
            f->off += (uint64_t)n;
            /* Progress: a download read slowly but steadily is not a stalled one. */
            c->deadline_ms = gw_now(c->srv) + c->srv->cfg.handshake_timeout_ms;
            file_pump(c);
        } else if (!c->closing) {
            gw_conn_close(c, "write failed");
        }
    }
    gw_conn_unref(c);
}

/* Reads the next piece when the socket has room for it; after the last, the usual drain. */
static void file_pump(gw_conn *c)
{
    gw_file_send *f = c->file;
    if (!f || f->reading || c->closing)
        return;
    if (f->off >= f->size) {
        file_free(c);
        conn_drain(c);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >= GW_FILE_QUEUED)
        return; /* write_done calls again as the queue empties */
    uint64_t left = f->size - f->off;
    uv_buf_t b = uv_buf_init(f->buf, left < sizeof f->buf ? (unsigned)left : sizeof f->buf);
    f->req.data = f;
    c->refs++;
    f->reading = 1;
    int rc = uv_fs_read(c->srv->loop, &f->req, f->fd, &b, 1, (int64_t)f->off, file_read_done);
    if (rc) {
        f->reading = 0;
        c->refs--;
        char who[160];
        gw_log("static file for %s: %s", gw_conn_who(c, who, sizeof who), uv_strerror(rc));
        gw_conn_close(c, NULL);
    }
}

/* Takes the response's open file; the connection sends it after the head. */
static void file_start(gw_conn *c, gw_http_resp *resp)
{
    gw_file_send *f = malloc(sizeof *f);
    if (!f) {
        gw_conn_close(c, "out of memory");
        return;
    }
    f->c = c;
    f->fd = resp->file_fd;
    resp->file_fd = -1;
    f->reading = 0;
    f->off = 0;
    f->size = resp->file_size;
    c->file = f;
    c->phase = GW_PHASE_FILE;
    c->deadline_ms = gw_now(c->srv) + c->srv->cfg.handshake_timeout_ms;
    file_pump(c);
}

/* ---- HTTP phase ---- */

static void send_response(gw_conn *c, gw_http_resp *resp)
{
    if (resp->head)
        conn_write(c, resp->head, resp->head_len);
    if (resp->body && resp->body_len)
        conn_write(c, resp->body, resp->body_len);
}

static void start_ws(gw_conn *c, const uint8_t *rest, size_t rest_len)
{
    gw_server *s = c->srv;
    static const gw_ws_callbacks cb = {ws_text, ws_write, ws_closed};
    c->ws = gw_ws_new(&cb, c, s->cfg.max_message);
    gw_http_req_free(c->http);
    c->http = NULL;
    if (!c->ws) {
        gw_conn_close(c, "out of memory");
        return;
    }
    c->phase = GW_PHASE_WS;
    s->stats.ws_open++;
    /* The handshake deadline now covers the login; idle starts counting too. */
    c->deadline_ms = gw_now(s) + s->cfg.handshake_timeout_ms;
    c->idle_ms = gw_now(s) + s->cfg.idle_timeout_ms;
    gw_session_init(c);
    if (rest_len)
        ws_feed(c, rest, rest_len);
}

static int proxied_request(gw_conn *c);

static void http_feed(gw_conn *c, const uint8_t *data, size_t len)
{
    size_t used = gw_http_req_feed(c->http, (const char *)data, len);
    gw_http_state st = gw_http_req_state(c->http);
    if (st == GW_HTTP_MORE)
        return;
    if (st == GW_HTTP_DONE && !c->counted && proxied_request(c))
        return;
    gw_http_resp resp;
    gw_http_route(&c->srv->http_env, c->http, &resp);
    if (resp.status >= 400) {
        gw_refusal why = resp.status == 403 ? GW_R_ORIGIN : GW_R_BAD_REQUEST;
        /* Not a refusal: a missing path, a wrong method, /healthz's 503 (no reason). */
        if (resp.status != 404 && resp.status != 405 && resp.reason[0])
            gw_conn_refuse(c, why, resp.reason);
    }
    send_response(c, &resp);
    int upgrade = resp.upgrade;
    if (resp.file_fd >= 0 && !c->closing)
        file_start(c, &resp);
    gw_http_resp_free(&resp);
    if (upgrade)
        start_ws(c, data + used, len - used);
    else if (c->phase == GW_PHASE_HTTP)
        conn_drain(c);
}

/* Plaintext from the browser (after TLS, if on). */
static int conn_plain(void *ud, const uint8_t *data, size_t len)
{
    gw_conn *c = ud;
    if (c->closing)
        return -1;
    if (c->phase == GW_PHASE_HTTP)
        http_feed(c, data, len);
    else if (c->phase == GW_PHASE_WS)
        ws_feed(c, data, len);
    return c->closing ? -1 : 0;
}

/* Bytes from the wire after any PROXY line: through TLS, if on, to the phase. */
static void conn_bytes(gw_conn *c, const uint8_t *data, size_t len)
{
    if (c->closing || !len)
        return;
    if (c->tls) {
        if (gw_tls_feed(c->tls, data, len, conn_plain, raw_write, c) && !c->closing) {
            gw_conn_refuse(c, GW_R_TLS, "TLS handshake or record failed");
            gw_conn_close(c, "TLS failure");
        }
    } else {
        conn_plain(c, data, len);
    }
}

/* ---- behind a proxy (--trust-proxy) ---- */

static void refuse_early(gw_conn *c, gw_refusal why, int status, const char *detail);

/* Counts the connection under its address for --max-per-ip; -1 when that refused it. */
static int conn_count(gw_conn *c)
{
    gw_server *s = c->srv;
    int per_ip = gw_iptable_add(s->ips, c->ip_key);
    c->counted = 1;
    if (s->cfg.max_per_ip > 0 && per_ip > s->cfg.max_per_ip) {
        char why[128];
        snprintf(why, sizeof why, "%d connections from %s (limit %d)", per_ip, c->ip_key,
                 s->cfg.max_per_ip);
        refuse_early(c, GW_R_PER_IP, 429, why);
        return -1;
    }
    return 0;
}

/* The visitor's address as a trusted proxy passed it on: limits, /64 keys and logs use
 * it from now on; the log names the proxy too ("203.0.113.7 via 127.0.0.1:41234#7"). */
static void conn_visitor(gw_conn *c, const struct sockaddr *sa)
{
    gw_server *s = c->srv;
    char ip[sizeof c->ip] = "?", key[sizeof c->ip_key] = "?", was[sizeof c->peer];
    if (sa->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof ip);
    else
        uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof ip);
    gw_ip_key(sa, s->cfg.ipv6_prefix, key, sizeof key);
    memcpy(was, c->peer, sizeof was);
    snprintf(c->peer, sizeof c->peer, "%s via %.*s", ip, 80, was);
    memcpy(c->ip, ip, sizeof c->ip);
    memcpy(c->ip_key, key, sizeof c->ip_key);
    c->trusted = gw_cidr_match(s->cfg.trust_proxy, s->cfg.n_trust_proxy, sa);
}

/* The request head of a connection from a trusted proxy: its X-Forwarded-For names the
 * visitor, who is then counted. -1 when the connection was refused. */
static int proxied_request(gw_conn *c)
{
    gw_server *s = c->srv;
    const char *xff = gw_http_req_xff(c->http);
    if (c->trusted && xff) {
        struct sockaddr_storage ss;
        char err[120], why[320];
        int rc = gw_xff_pick(xff, s->cfg.trust_proxy, s->cfg.n_trust_proxy, &ss, err, sizeof err);
        if (rc < 0) {
            snprintf(why, sizeof why, "malformed header from trusted proxy: %s", err);
            refuse_early(c, GW_R_PROXY, 400, why);
            return -1;
        }
        if (rc == 0)
            conn_visitor(c, (struct sockaddr *)&ss);
    }
    return conn_count(c);
}

/* The first bytes of a connection: a PROXY v1 line from a trusted proxy gives the
 * visitor's address; from anyone else it is refused, since it would be a visitor
 * choosing its own address. Anything else goes on to TLS or HTTP as it came. */
static void prelude_feed(gw_conn *c, const uint8_t *data, size_t len)
{
    size_t old = c->pre_len;
    size_t take = len < sizeof c->pre - old ? len : sizeof c->pre - old;
    memcpy(c->pre + old, data, take);
    c->pre_len += take;
    size_t used = 0;
    struct sockaddr_storage src;
    int is_proxy;
    char err[160], why[320];
    gw_proxy_state st =
        gw_proxy_v1_parse(c->pre, c->pre_len, &used, &src, &is_proxy, err, sizeof err);
    if (is_proxy && !c->trusted) {
        refuse_early(c, GW_R_PROXY, 400,
                     "PROXY protocol line from a peer no --trust-proxy network covers");
        return;
    }
    if (st == GW_PROXY_MORE)
        return;
    if (st == GW_PROXY_BAD) {
        snprintf(why, sizeof why, "malformed PROXY line from trusted proxy: %s", err);
        refuse_early(c, GW_R_PROXY, 400, why);
        return;
    }
    c->prelude = 0;
    if (st == GW_PROXY_NONE) {
        char head[sizeof c->pre];
        memcpy(head, c->pre, old);
        conn_bytes(c, (const uint8_t *)head, old);
        conn_bytes(c, data, len);
        return;
    }
    if (src.ss_family != AF_UNSPEC) {
        conn_visitor(c, (struct sockaddr *)&src);
        /* A visitor outside the trusted networks is known now; a proxy behind another
         * proxy still has its X-Forwarded-For to come. */
        if (!c->trusted && conn_count(c))
            return;
    }
    conn_bytes(c, data + (used - old), len - (used - old));
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    gw_conn *c = (gw_conn *)h;
    buf->base = c->srv->read_buf;
    buf->len = sizeof c->srv->read_buf;
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    gw_conn *c = (gw_conn *)st;
    if (n == 0 || c->closing)
        return;
    if (n < 0) {
        gw_conn_close(c, n == UV_EOF ? "closed by the browser" : uv_strerror((int)n));
        return;
    }
    if (c->phase == GW_PHASE_DRAIN || c->phase == GW_PHASE_FILE)
        return; /* one request a connection: what follows it is not read */
    c->refs++;  /* the connection outlives a close requested while handling these bytes */
    if (c->prelude)
        prelude_feed(c, (const uint8_t *)buf->base, (size_t)n);
    else
        conn_bytes(c, (const uint8_t *)buf->base, (size_t)n);
    gw_conn_unref(c);
}

/* ---- accepting ---- */

/* The refusal is written and the socket closed as soon as it is out: the drain that
 * waits for an answered browser to close first would let one address hold a socket for
 * every refusal (292 at once were seen) while it is being refused. What the peer sent is
 * read and dropped first, so the close sends FIN after the answer rather than a reset
 * that could discard the answer. */
static void refused_written(uv_shutdown_t *req, int status)
{
    (void)status;
    gw_conn *c = req->data;
    free(req);
    uv_os_fd_t fd;
    if (!c->closing && !uv_fileno((uv_handle_t *)&c->tcp, &fd)) {
        char sink[4096];
        for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
            ;
    }
    gw_conn_close(c, NULL);
    gw_conn_unref(c);
}

static void refuse_early(gw_conn *c, gw_refusal why, int status, const char *detail)
{
    gw_conn_refuse(c, why, detail);
    gw_http_resp resp;
    gw_http_error(status, detail, &resp);
    if (!c->tls)
        send_response(c, &resp); /* over TLS there is no session yet to say it in */
    gw_http_resp_free(&resp);
    c->phase = GW_PHASE_DRAIN;
    c->deadline_ms = gw_now(c->srv) + GW_DRAIN_MS;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req) {
        gw_conn_close(c, NULL);
        return;
    }
    req->data = c;
    c->refs++;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, refused_written)) {
        c->refs--;
        free(req);
        gw_conn_close(c, NULL);
    }
}

static void free_unaccepted(uv_handle_t *h)
{
    free(h); /* the handle is the connection's first member */
}

static void on_connection(uv_stream_t *server, int status)
{
    gw_server *s = server->data;
    if (status < 0) {
        gw_log("accept: %s", uv_strerror(status));
        return;
    }
    gw_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = s;
    c->refs = 1; /* the handle */
    c->id = ++s->next_conn_id;
    uv_tcp_init(s->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
        uv_close((uv_handle_t *)&c->tcp, free_unaccepted);
        return;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int sl = sizeof ss;
    snprintf(c->ip, sizeof c->ip, "?");
    snprintf(c->ip_key, sizeof c->ip_key, "?");
    if (!uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl)) {
        gw_ip_key((struct sockaddr *)&ss, s->cfg.ipv6_prefix, c->ip_key, sizeof c->ip_key);
        int port = 0;
        if (ss.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&ss, c->ip, sizeof c->ip);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->ip, sizeof c->ip);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        snprintf(c->peer, sizeof c->peer, "%s:%d#%llu", c->ip, port, (unsigned long long)c->id);
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->stats.conns_total++;
    s->stats.conns_open++;
    /* A trusted proxy's connection counts under the visitor it names, once named. */
    c->trusted = s->cfg.n_trust_proxy &&
                 gw_cidr_match(s->cfg.trust_proxy, s->cfg.n_trust_proxy, (struct sockaddr *)&ss);
    c->prelude = 1;
    int per_ip = 0;
    if (!c->trusted) {
        per_ip = gw_iptable_add(s->ips, c->ip_key);
        c->counted = 1;
    }
    c->phase = GW_PHASE_HTTP;
    c->deadline_ms = gw_now(s) + s->cfg.handshake_timeout_ms;
    uv_tcp_nodelay(&c->tcp, 1);
    if (s->tls_conf) {
        c->tls = gw_tls_new(s->tls_conf);
        if (!c->tls) {
            gw_conn_close(c, "out of memory");
            return;
        }
    }
    c->http = gw_http_req_new(s->cfg.max_request);
    if (!c->http) {
        gw_conn_close(c, "out of memory");
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb)) {
        gw_conn_close(c, "read failed");
        return;
    }
    if ((int)s->stats.conns_open > s->cfg.max_conns) {
        refuse_early(c, GW_R_CAPACITY, 503, "gateway at --max-conns");
        return;
    }
    if (s->cfg.max_per_ip > 0 && per_ip > s->cfg.max_per_ip) {
        char why[128];
        snprintf(why, sizeof why, "%d connections from %s (limit %d)", per_ip, c->ip_key,
                 s->cfg.max_per_ip);
        refuse_early(c, GW_R_PER_IP, 429, why);
        return;
    }
}

/* ---- the sweep ---- */

static void sweep(uv_timer_t *t)
{
    gw_server *s = t->data;
    int64_t now = gw_now(s);
    for (gw_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        if (c->phase == GW_PHASE_DRAIN) {
            if (now >= c->deadline_ms)
                gw_conn_close(c, NULL);
            continue;
        }
        if (c->phase == GW_PHASE_FILE) {
            if (now >= c->deadline_ms) {
                gw_conn_refuse(c, GW_R_SLOW_READER,
                               "static file not read for the handshake "
                               "timeout");
                gw_conn_close(c, "static file stalled");
            }
            continue;
        }
        if (c->phase == GW_PHASE_HTTP) {
            if (now >= c->deadline_ms) {
                gw_conn_refuse(c, GW_R_HANDSHAKE_TIMEOUT, "no complete request in time");
                gw_conn_close(c, "handshake timeout");
            }
            continue;
        }
        /* WebSocket */
        if (gw_ws_closing(c->ws)) {
            if (now >= c->deadline_ms)
                gw_conn_close(c, "closing handshake not answered");
            continue;
        }
        if (!c->s.logged_in && now >= c->deadline_ms) {
            gw_conn_fail(c, NULL, GW_E_UNAUTH, "no login in time", GW_R_HANDSHAKE_TIMEOUT);
            continue;
        }
        /* The consent's expiry first: it is the reason that matters to the visitor. */
        if (c->s.logged_in) {
            gw_session_sweep(c, now);
            if (gw_ws_closing(c->ws))
                continue;
        }
        if (now >= c->idle_ms) {
            gw_conn_refuse(c, GW_R_IDLE_TIMEOUT, "no message in time");
            gw_ws_close(c->ws, 1001, "idle timeout");
            c->deadline_ms = now + GW_DRAIN_MS;
        }
    }
    gw_upstream_sweep(s, now);
    gw_fair_sweep(s->fair, now);
}

/* ---- start and stop ---- */

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Everything closes: what stop_drain waits for is done, or a second signal came. */
static void stop_now(gw_server *s)
{
    if (s->stopping == 2)
        return;
    s->stopping = 2;
    if (uv_is_active((uv_handle_t *)&s->stop_timer))
        uv_timer_stop(&s->stop_timer);
    if (s->stats.shares_pending)
        gw_log("stopping now: %llu shares still pending are dropped",
               (unsigned long long)s->stats.shares_pending);
    uv_timer_stop(&s->sweep);
    uv_close((uv_handle_t *)&s->sweep, NULL);
    for (gw_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        gw_conn_close(c, "gateway stopping");
    }
    gw_upstream_stop(s);
    gw_verify_free(s->verify);
    s->verify = NULL;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    gw_admin_stop(s);
}

/* A browser told to go away hears it once its shares are answered, so none of its work
 * is left without an answer. */
static void say_going_away(gw_server *s)
{
    int64_t now = gw_now(s);
    for (gw_conn *c = s->conns; c; c = c->next) {
        if (!c->going_away || c->shares_in_flight > 0 || c->closing)
            continue;
        c->going_away = 0;
        if (c->ws && c->phase == GW_PHASE_WS) {
            gw_ws_close(c->ws, 1001, "gateway going away: reconnect");
            c->deadline_ms = now + GW_DRAIN_MS;
        }
    }
}

static void stop_tick(uv_timer_t *t)
{
    gw_server *s = t->data;
    say_going_away(s);
    int waiting = 0;
    for (gw_conn *c = s->conns; c; c = c->next)
        waiting += c->going_away || (c->ws && c->phase == GW_PHASE_WS && !c->closing);
    if ((s->stats.shares_pending == 0 && waiting == 0) || gw_now(s) >= s->stop_deadline_ms)
        stop_now(s);
}

/* SIGTERM or SIGINT: drain. No new connections; each browser is told "going away"
 * (1001), which the runtime takes as a cue to reconnect, rather than seeing the socket
 * vanish (1006); shares already received are verified and, where they meet the upstream
 * target, submitted and answered, for at most GW_STOP_GRACE_MS. A second signal stops at
 * once. */
static void on_signal(uv_signal_t *sig, int signum)
{
    gw_server *s = sig->data;
    if (s->stopping) {
        if (s->stopping == 1) {
            gw_log("second signal %d: stopping at once", signum);
            stop_now(s);
        }
        return;
    }
    s->stopping = 1;
    uv_close((uv_handle_t *)&s->listener, NULL);
    int browsers = 0;
    int64_t now = gw_now(s);
    for (gw_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->ws && c->phase == GW_PHASE_WS && !c->closing) {
            c->going_away = 1;
            browsers++;
        } else if (c->phase != GW_PHASE_DRAIN) {
            gw_conn_close(c, "gateway stopping");
        }
    }
    gw_log("stopping on signal %d: no new connections, %d browsers told to go away (1001) "
           "once their shares are answered, %llu shares to finish (at most %d s)",
           signum, browsers, (unsigned long long)s->stats.shares_pending, GW_STOP_GRACE_MS / 1000);
    s->stop_deadline_ms = now + GW_STOP_GRACE_MS;
    uv_timer_start(&s->stop_timer, stop_tick, 0, 50);
}

/* SIGHUP (systemd's ExecReload, a certificate renewal, a key rotation): read --cert/--key
 * again for new connections, and --consent-keys for the tokens signed and checked from now
 * on; open connections keep the certificate they started with, and sessions, grants and
 * revocations are kept. A file that no longer parses leaves the running one in place, and
 * says why. The gateway logs to standard error only, so there is no log file to reopen. */
static void reload_certificate(gw_server *s)
{
    char err[200] = "";
    void *conf = gw_tls_conf_new(s->cfg.cert, s->cfg.key, err, sizeof err);
    if (!conf) {
        gw_log("reload (SIGHUP): keeping the running certificate: --cert/--key: %s", err);
        return;
    }
    gw_tls_conf_free(s->tls_conf);
    s->tls_conf = conf;
    gw_log("reload (SIGHUP): certificate %s and key %s loaded for new connections", s->cfg.cert,
           s->cfg.key);
}

static void reload_consent_keys(gw_server *s)
{
    char err[300] = "";
    gw_keyring *ring = gw_keyring_load(s->cfg.consent_keys, err, sizeof err);
    if (!ring) {
        gw_log("reload (SIGHUP): keeping the running consent keys: --consent-keys: %s", err);
        return;
    }
    size_t n = gw_keyring_count(ring);
    gw_log("reload (SIGHUP): consent keys from %s: %zu key%s, signing with \"%s\"",
           s->cfg.consent_keys, n, n == 1 ? "" : "s", gw_keyring_signer(ring));
    gw_consent_set_ring(s->consent, ring);
}

static void on_reload(uv_signal_t *sig, int signum)
{
    (void)signum;
    gw_server *s = sig->data;
    if (s->stopping)
        return;
    if (!(s->cfg.cert && s->cfg.key) && !s->cfg.consent_keys) {
        gw_log("reload (SIGHUP): nothing to reload (no --cert/--key, no --consent-keys)");
        return;
    }
    if (s->cfg.cert && s->cfg.key)
        reload_certificate(s);
    if (s->cfg.consent_keys)
        reload_consent_keys(s);
}

/* With the usual soft limit of 1024 descriptors the gateway would stop accepting near
 * 1,000 visitors whatever --max-conns says: take the hard limit, and say so at start
 * when even that is short. */
static void raise_nofile(const gw_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return;
    /* A descriptor a browser, one an upstream connection, and room for the listener,
     * the loop's own, the verification threads' wakeups and the log. */
    unsigned long long need =
        (unsigned long long)cfg->max_conns + (unsigned long long)cfg->max_upstreams + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        /* Linux refuses RLIM_INFINITY for this limit (fs.nr_open caps it). */
        if (want.rlim_max == RLIM_INFINITY)
            want.rlim_cur = need > 1048576 ? need : 1048576;
        else
            want.rlim_cur = want.rlim_max;
        if (!setrlimit(RLIMIT_NOFILE, &want))
            rl.rlim_cur = want.rlim_cur;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        gw_log("open files limit (RLIMIT_NOFILE) is %llu, hard limit %llu: below the %llu that "
               "--max-conns %d needs, so the system will refuse connections beyond about %llu; "
               "raise the hard limit (ulimit -Hn, systemd LimitNOFILE=) or lower --max-conns",
               (unsigned long long)rl.rlim_cur,
               rl.rlim_max == RLIM_INFINITY ? 0ULL : (unsigned long long)rl.rlim_max, need,
               cfg->max_conns,
               rl.rlim_cur > 64 + (rlim_t)cfg->max_upstreams
                   ? (unsigned long long)(rl.rlim_cur - 64 - (rlim_t)cfg->max_upstreams)
                   : 0ULL);
}

static void verified(void *ud, gw_vreq *req)
{
    gw_server *s = ud;
    if (!req->error && !req->cancelled)
        gw_stats_verify_seconds(&s->stats, req->seconds);
    gw_session_verified(ud, req);
}

int gw_server_run(const gw_config *cfg)
{
    signal(SIGPIPE, SIG_IGN);
    if (gw_log_setup(cfg->log_json, (gw_log_visitors)cfg->log_visitors)) {
        fprintf(stderr, "consentminer gateway: --log-visitors hash: no random key from the "
                        "system (getrandom)\n");
        return 1;
    }
    /* First, before anything else is allocated: a bad key file ends the start here. */
    char kerr[300] = "";
    gw_keyring *ring = cfg->consent_keys ? gw_keyring_load(cfg->consent_keys, kerr, sizeof kerr)
                                         : gw_keyring_ephemeral(kerr, sizeof kerr);
    if (!ring) {
        gw_log_fields("error", NULL, "--consent-keys %s", kerr);
        return 2;
    }
    if (cfg->consent_keys)
        gw_log("consent tokens signed with key \"%s\" of %s; %zu key%s verify",
               gw_keyring_signer(ring), cfg->consent_keys, gw_keyring_count(ring),
               gw_keyring_count(ring) == 1 ? "" : "s");
    else
        gw_log("consent tokens signed with an ephemeral key (no --consent-keys): remembered "
               "consents will not survive a restart nor work on another gateway");
    raise_nofile(cfg);
    gw_server *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->loop = uv_default_loop();
    s->cfg = *cfg;
    s->daemon_mode = cfg->daemon != NULL;
    s->ips = gw_iptable_new();
    s->fair = gw_fair_new();
    if (!s->ips || !s->fair || gw_stats_init(&s->stats, gw_wall_ms())) {
        gw_log_fields("error", NULL, "out of memory");
        return 1;
    }
    s->http_env.static_dir = cfg->static_dir;
    s->http_env.origins = cfg->origins;
    s->http_env.n_origins = cfg->n_origins;
    /* With an admin listener the figures are there only; without one they stay here,
     * as before it existed (keep the port private, or put the proxy's rules in front). */
    s->http_env.stats_json = cfg->admin_host ? NULL : gw_stats_json;
    s->http_env.metrics_text = cfg->admin_host ? NULL : gw_stats_metrics;
    s->http_env.healthz = gw_stats_health;
    s->http_env.ud = s;
    s->http_env.frame_dir = cfg->frame_dir;
    s->http_env.public_origin = cfg->public_origin;
    s->http_env.tls = cfg->cert && cfg->key;
    s->http_env.consent = gw_consent_http;
    /* frame-ancestors: the --origin sites, else the gateway's own origin only. */
    size_t fa_len = 8;
    for (size_t i = 0; i < cfg->n_origins; i++)
        fa_len += strlen(cfg->origins[i]) + 1;
    s->frame_ancestors = malloc(fa_len);
    if (!s->frame_ancestors)
        return 1;
    strcpy(s->frame_ancestors, cfg->n_origins ? "" : "'self'");
    for (size_t i = 0; i < cfg->n_origins; i++) {
        if (i)
            strcat(s->frame_ancestors, " ");
        strcat(s->frame_ancestors, cfg->origins[i]);
    }
    s->http_env.frame_ancestors = s->frame_ancestors;
    s->consent = gw_consent_new(ring, cfg->max_threads, cfg->session_ttl_s);
    if (!s->consent) {
        gw_keyring_free(ring);
        return 1;
    }

    if (cfg->cert && cfg->key) {
        char err[200] = "";
        s->tls_conf = gw_tls_conf_new(cfg->cert, cfg->key, err, sizeof err);
        if (!s->tls_conf) {
            gw_log_fields("error", NULL, "--cert/--key: %s", err);
            return 1;
        }
    }

    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in *)&addr);
    if (rc)
        rc = uv_ip6_addr(cfg->listen_host, cfg->listen_port, (struct sockaddr_in6 *)&addr);
    if (rc) {
        gw_log_fields("error", NULL, "--listen %s: not an IP address", cfg->listen_host);
        return 2;
    }
    uv_tcp_init(s->loop, &s->listener);
    s->listener.data = s;
    rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&addr, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&s->listener, 4096, on_connection);
    if (rc) {
        gw_log_fields("error", NULL, "cannot listen on %s:%d: %s", cfg->listen_host,
                      cfg->listen_port, uv_strerror(rc));
        return 1;
    }
    if (cfg->listen_port == 0) {
        struct sockaddr_storage bound;
        int bl = sizeof bound;
        uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &bl);
        s->cfg.listen_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    }

    s->verify = gw_verify_new(s->loop, cfg->verify_threads, cfg->verify_queue, verified, s);
    if (!s->verify) {
        gw_log_fields("error", NULL, "cannot start verification threads");
        return 1;
    }
    uv_timer_init(s->loop, &s->sweep);
    s->sweep.data = s;
    uv_timer_start(&s->sweep, sweep, 1000, 1000);
    uv_timer_init(s->loop, &s->stop_timer);
    s->stop_timer.data = s;
    uv_signal_init(s->loop, &s->sigint);
    uv_signal_init(s->loop, &s->sigterm);
    uv_signal_init(s->loop, &s->sighup);
    s->sigint.data = s->sigterm.data = s->sighup.data = s;
    uv_signal_start(&s->sighup, on_reload, SIGHUP);
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);

    if (gw_upstream_start(s))
        return 1;
    if (cfg->admin_host && gw_admin_start(s, cfg->admin_host, cfg->admin_port))
        return 1;
    gw_log("listening on %s://%s:%d/ws%s%s; %d verification threads", s->tls_conf ? "wss" : "ws",
           cfg->listen_host, s->cfg.listen_port, cfg->static_dir ? "; static files from " : "",
           cfg->static_dir ? cfg->static_dir : "", cfg->verify_threads);
    gw_log("consent frame %s%s; logins and /consent/ requests only from %s; the frame may be "
           "embedded by %s",
           cfg->frame_dir ? "at /frame/ from " : "not served (no --frame-dir)",
           cfg->frame_dir ? cfg->frame_dir : "",
           cfg->public_origin ? cfg->public_origin
                              : "the gateway's own origin (scheme://Host of each request)",
           cfg->n_origins ? s->frame_ancestors : "this gateway's own origin only (no --origin)");
    if (cfg->n_trust_proxy)
        gw_log("visitor addresses from PROXY v1 lines and X-Forwarded-For of peers in %zu "
               "--trust-proxy networks; from other peers both are ignored",
               cfg->n_trust_proxy);
    /* A line a test or a supervisor can wait for. */
    printf("gateway listening on %s:%d\n", cfg->listen_host, s->cfg.listen_port);
    fflush(stdout);

    uv_run(s->loop, UV_RUN_DEFAULT);
    uv_walk(s->loop, close_walk, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    uv_loop_close(s->loop);
    gw_log("stopped: %llu connections served, %llu shares accepted, %llu blocks accepted",
           (unsigned long long)s->stats.conns_total,
           (unsigned long long)s->stats.shares[GW_O_ACCEPTED],
           (unsigned long long)s->stats.blocks_accepted);
    gw_admin_free(s);
    gw_stats_free(&s->stats);
    gw_iptable_free(s->ips);
    gw_fair_free(s->fair);
    gw_acct_free(s->acct);
    gw_tls_conf_free(s->tls_conf);
    gw_consent_free(s->consent);
    free(s->frame_ancestors);
    free(s->slots);
    free(s);
    return 0;
}
