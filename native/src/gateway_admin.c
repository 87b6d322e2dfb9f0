/* consentminer gateway — the admin listener (--admin-listen HOST:PORT): /stats, /metrics
 * and /healthz for the operator's monitoring, on an address visitors cannot reach, so
 * that the public listener need not show them to everyone.
 *
 * Plain HTTP, one request per connection, no WebSocket, no files, no consent endpoints.
 * Its connections are not visitors: they are not counted in the public listener's
 * figures nor held to its per-IP limit (a scrape from the proxy's address would otherwise
 * count against every visitor behind it). A few are allowed at once, each for a few
 * seconds, which is all a scraper or a health check needs.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway_server.h"

#define ADMIN_MAX_CONNS 32
#define ADMIN_TIMEOUT_MS 10000
#define ADMIN_MAX_REQUEST 8192

typedef struct admin_conn {
    uv_tcp_t tcp; /* first: the handle's address is the connection's */
    uv_timer_t timer;
    struct gw_admin *a;
    struct admin_conn *prev, *next;
    gw_http_req *http;
    gw_http_resp resp;
    uv_write_t wr;
    int closing;
    int open_handles;
} admin_conn;

struct gw_admin {
    gw_server *s;
    uv_tcp_t listener;
    gw_http_env env;
    admin_conn *conns;
    int nconns;
    int stopped;
};

static void conn_freed(uv_handle_t *h)
{
    admin_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    gw_http_req_free(c->http);
    gw_http_resp_free(&c->resp);
    free(c);
}

static void conn_close(admin_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    struct gw_admin *a = c->a;
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    a->nconns--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, conn_freed);
    uv_close((uv_handle_t *)&c->tcp, conn_freed);
}

static void timed_out(uv_timer_t *t)
{
    conn_close(t->data);
}

static void written(uv_write_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char slab[4096]; /* consumed before the next read: one loop thread */
    buf->base = slab;
    buf->len = sizeof slab;
}

static void answer(admin_conn *c)
{
    uv_read_stop((uv_stream_t *)&c->tcp);
    const char *url = gw_http_req_url(c->http);
    /* The router's other paths give 404 with this environment (no files, no frame, no
     * consent); /ws would still be upgraded, so it is refused here. */
    if (gw_http_req_state(c->http) == GW_HTTP_DONE && url &&
        (!strncmp(url, "/ws", 3) && (url[3] == 0 || url[3] == '?')))
        gw_http_error(404, "no WebSocket on the admin listener", &c->resp);
    else
        gw_http_route(&c->a->env, c->http, &c->resp);
    uv_buf_t bufs[2];
    unsigned n = 0;
    if (c->resp.head)
        bufs[n++] = uv_buf_init(c->resp.head, (unsigned)c->resp.head_len);
    if (c->resp.body && c->resp.body_len)
        bufs[n++] = uv_buf_init(c->resp.body, (unsigned)c->resp.body_len);
    c->wr.data = c;
    if (!n || uv_write(&c->wr, (uv_stream_t *)&c->tcp, bufs, n, written))
        conn_close(c);
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    admin_conn *c = (admin_conn *)st;
    if (c->closing || n == 0)
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    gw_http_req_feed(c->http, buf->base, (size_t)n);
    if (gw_http_req_state(c->http) != GW_HTTP_MORE)
        answer(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct gw_admin *a = server->data;
    if (status < 0)
        return;
    admin_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->a = a;
    gw_http_resp_init(&c->resp);
    c->tcp.data = c->timer.data = c;
    uv_tcp_init(a->s->loop, &c->tcp);
    uv_timer_init(a->s->loop, &c->timer);
    c->timer.data = c;
    c->tcp.data = c;
    c->open_handles = 2;
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    a->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) || a->nconns > ADMIN_MAX_CONNS ||
        !(c->http = gw_http_req_new(ADMIN_MAX_REQUEST)) ||
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb)) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, timed_out, ADMIN_TIMEOUT_MS, 0);
}

int gw_admin_start(gw_server *s, const char *host, int port)
{
    struct gw_admin *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    a->s = s;
    a->env.stats_json = gw_stats_json;
    a->env.metrics_text = gw_stats_metrics;
    a->env.healthz = gw_stats_health;
    a->env.ud = s;
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc)
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    if (rc) {
        gw_log_fields("error", NULL, "--admin-listen %s: not an IP address", host);
        free(a);
        return -1;
    }
    uv_tcp_init(s->loop, &a->listener);
    a->listener.data = a;
    s->admin = a;
    rc = uv_tcp_bind(&a->listener, (struct sockaddr *)&addr, 0);
    if (!rc)
        rc = uv_listen((uv_stream_t *)&a->listener, 64, on_connection);
    if (rc) {
        gw_log_fields("error", NULL, "--admin-listen %s:%d: cannot listen: %s", host, port,
                      uv_strerror(rc));
        return -1;
    }
    struct sockaddr_storage bound;
    int bl = sizeof bound;
    uv_tcp_getsockname(&a->listener, (struct sockaddr *)&bound, &bl);
    int bport = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    gw_log("admin listener on http://%s:%d/ (/stats, /metrics, /healthz; not on the public "
           "listener)",
           host, bport);
    /* A line a test or a supervisor can wait for, like the public listener's. */
    printf("gateway admin listening on %s:%d\n", host, bport);
    fflush(stdout);
    return 0;
}

void gw_admin_stop(gw_server *s)
{
    struct gw_admin *a = s->admin;
    if (!a || a->stopped)
        return;
    a->stopped = 1;
    if (!uv_is_closing((uv_handle_t *)&a->listener))
        uv_close((uv_handle_t *)&a->listener, NULL);
    while (a->conns)
        conn_close(a->conns);
}

void gw_admin_free(gw_server *s)
{
    free(s->admin);
    s->admin = NULL;
}
