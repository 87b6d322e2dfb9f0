/* consentminer — the stratum pool upstream: login, jobs, submits, keepalived,
 * client.reconnect, NiceHash, failover with backoff, and a probe back to the primary. */
#include "stratum_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "backoff.h"
#include "consentminer/hex.h"
#include "consentminer/target.h"
#include "line_stream.h"
#include "tls.h"
#include "upstream_impl.h"

/* Stratum lines are small (a job is under 1 KiB); 64 KiB leaves room for verbose pools
 * while a hostile one cannot grow memory. */
#define MAX_LINE 65536
/* Job ids the pool may still accept shares for (it keeps a few recent jobs). */
#define KNOWN_JOBS 8
#define HOST_MAX 256
/* Shares kept while no pool is reachable; more would all be stale by the time one is. */
#define MAX_WAITING 256
/* A session this long counts as working again: the reconnect backoff starts over. */
#define STABLE_MS 60000

typedef struct pool_url {
    char host[HOST_MAX];
    int port;
    int tls;
} pool_url;

enum { K_LOGIN, K_SUBMIT, K_KEEPALIVE };

typedef struct pending {
    struct pending *next;
    int64_t id;
    int kind;
    void *ctx;
    uint64_t sent_ms;
    char job_id[CM_JOB_ID_MAX + 1];
    uint32_t nonce;
    uint8_t hash[32];
} pending;

typedef struct deferred {
    struct deferred *next;
    void *ctx;
    cm_submit_outcome outcome;
    char reason[256];
} deferred;

enum { C_OPENING, C_LOGIN, C_READY };
enum { R_ACTIVE, R_PROBE, R_DRAINING };

typedef struct stratum stratum;

typedef struct conn {
    stratum *st;
    struct conn *next; /* in the draining list */
    cm_line_stream *ls;
    pool_url url;
    int index; /* in the url list, -1 for a client.reconnect target */
    char where[HOST_MAX + 16];
    int state;
    int role;
    char session[128];
    int nicehash;
    /* The pool listed "keepalive" in its login reply's extensions: only then is keepalived
     * sent (p2pool takes it and never answers; others may not know it at all). */
    int keepalive_ext;
    char jobs[KNOWN_JOBS][CM_JOB_ID_MAX + 1];
    int job_next;
    pending *pending;
    uint64_t last_send_ms;
    uint64_t last_recv_ms; /* any line from the pool: it is alive, whatever it answers */
    uint64_t ready_ms;     /* when the login succeeded */
    int64_t next_id;
} conn;

struct stratum {
    cm_upstream base;
    uv_loop_t *loop;
    cm_upstream_events ev;
    void *ud;
    pool_url *urls;
    size_t url_count;
    char *user, *pass, *agent, *ca_file;
    char *rig_id; /* NULL: no rigid in the login */
    int pinned;
    uint8_t pin[32];
    uint32_t keepalive_ms, reply_timeout_ms, primary_retry_ms;
    cm_backoff backoff;
    conn *active;
    conn *probe;
    conn *draining;
    int cursor; /* url index of the last attempt from the list */
    int redirect_pending;
    pool_url redirect;
    uint64_t last_probe_ms;
    pending *waiting;   /* submits made while no connection was ready */
    deferred *deferred; /* answers to deliver on the next loop turn */
    uv_timer_t retry_timer, tick_timer, defer_timer;
    int handles;
    int closing;
};

static void conn_free(conn *c);
static void conn_fail(conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void connect_to(stratum *st, const pool_url *u, int index, int role);

/* ---- small helpers ---- */

static void logf_(stratum *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(stratum *st, const char *fmt, ...)
{
    if (st->closing || st->ev.on_log == NULL)
        return;
    char msg[CM_TLS_ERROR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st->ev.on_log(st->ud, msg);
}

static char *dupstr(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int parse_url(const char *text, int default_tls, pool_url *u, cm_error *err)
{
    memset(u, 0, sizeof *u);
    u->tls = default_tls;
    const char *p = text;
    static const struct {
        const char *prefix;
        int tls;
    } schemes[] = {{"stratum+tcp://", 0}, {"stratum+ssl://", 1}, {"stratum+tls://", 1}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncasecmp(p, schemes[i].prefix, n) == 0) {
            p += n;
            u->tls = u->tls || schemes[i].tls;
        }
    }
    const char *colon = strrchr(p, ':');
    if (colon == NULL || colon == p) {
        cm_error_set(err, CM_E_INVAL, "pool address '%s' is not host:port", text);
        return -1;
    }
    size_t hlen = (size_t)(colon - p);
    if (p[0] == '[' && hlen >= 2 && p[hlen - 1] == ']') {
        p++;
        hlen -= 2;
    }
    if (hlen >= HOST_MAX) {
        cm_error_set(err, CM_E_INVAL, "pool host in '%s' is longer than %d", text, HOST_MAX - 1);
        return -1;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != 0 || port < 1 || port > 65535) {
        cm_error_set(err, CM_E_INVAL, "pool port in '%s' is not 1..65535", text);
        return -1;
    }
    memcpy(u->host, p, hlen);
    u->host[hlen] = 0;
    u->port = (int)port;
    return 0;
}

static void describe(const pool_url *u, char *out, size_t len)
{
    snprintf(out, len, "%s:%d%s", u->host, u->port, u->tls ? " (TLS)" : "");
}

/* ---- answers delivered on a later loop turn ---- */

static void deliver_deferred(stratum *st)
{
    while (st->deferred) {
        deferred *d = st->deferred;
        st->deferred = d->next;
        if (st->ev.on_result)
            st->ev.on_result(st->ud, d->ctx, d->outcome, d->reason);
        free(d);
    }
}

static void on_defer_timer(uv_timer_t *t)
{
    deliver_deferred(t->data);
}

static void answer_later(stratum *st, void *ctx, cm_submit_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void answer_later(stratum *st, void *ctx, cm_submit_outcome outcome, const char *fmt, ...)
{
    deferred *d = calloc(1, sizeof *d);
    if (d == NULL) {
        /* Out of memory: answer now rather than never. */
        if (st->ev.on_result)
            st->ev.on_result(st->ud, ctx, outcome, "out of memory");
        return;
    }
    d->ctx = ctx;
    d->outcome = outcome;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
    deferred **tail = &st->deferred;
    while (*tail)
        tail = &(*tail)->next;
    *tail = d;
    uv_timer_start(&st->defer_timer, on_defer_timer, 0, 0);
}

/* ---- sending ---- */

static int conn_send_json(conn *c, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text == NULL)
        return -1;
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (line == NULL) {
        free(text);
        return -1;
    }
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = 0;
    free(text);
    int rc = cm_line_stream_send(c->ls, line, n + 1);
    free(line);
    if (rc == 0)
        c->last_send_ms = uv_now(c->st->loop);
    return rc;
}

static void pending_push(conn *c, pending *p)
{
    p->next = c->pending;
    c->pending = p;
}

static pending *pending_take(conn *c, int64_t id)
{
    for (pending **pp = &c->pending; *pp; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            pending *p = *pp;
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

static int conn_knows_job(const conn *c, const char *job_id)
{
    for (int i = 0; i < KNOWN_JOBS; i++)
        if (c->jobs[i][0] && strcmp(c->jobs[i], job_id) == 0)
            return 1;
    return 0;
}

static void conn_remember_job(conn *c, const char *job_id)
{
    if (conn_knows_job(c, job_id))
        return;
    snprintf(c->jobs[c->job_next], sizeof c->jobs[0], "%s", job_id);
    c->job_next = (c->job_next + 1) % KNOWN_JOBS;
}

static void send_submit(conn *c, pending *p)
{
    char nonce_hex[9], result_hex[65];
    uint8_t nb[4] = {(uint8_t)p->nonce, (uint8_t)(p->nonce >> 8), (uint8_t)(p->nonce >> 16),
                     (uint8_t)(p->nonce >> 24)};
    cm_hex_encode(nb, 4, nonce_hex);
    cm_hex_encode(p->hash, 32, result_hex);
    p->id = c->next_id++;
    p->sent_ms = uv_now(c->st->loop);
    json_t *msg = json_pack("{s:I, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "id", (json_int_t)p->id,
                            "jsonrpc", "2.0", "method", "submit", "params", "id", c->session,
                            "job_id", p->job_id, "nonce", nonce_hex, "result", result_hex);
    pending_push(c, p);
    if (msg == NULL || conn_send_json(c, msg) != 0)
        conn_fail(c, "cannot send a share to %s", c->where);
}

/* Sends a submit where it can go now, or keeps it until a connection is ready. */
static void route_submit(stratum *st, pending *p)
{
    conn *c = st->active;
    if (c != NULL && c->state == C_READY) {
        if (conn_knows_job(c, p->job_id)) {
            send_submit(c, p);
        } else {
            answer_later(st, p->ctx, CM_SUBMIT_STALE,
                         "job %s is not work of the current session with %s", p->job_id, c->where);
            free(p);
        }
        return;
    }
    p->next = NULL;
    size_t n = 0;
    pending **tail = &st->waiting;
    while (*tail) {
        tail = &(*tail)->next;
        n++;
    }
    if (n >= MAX_WAITING) {
        answer_later(st, p->ctx, CM_SUBMIT_STALE,
                     "%d shares already wait for a pool connection; job %s will be old by then",
                     MAX_WAITING, p->job_id);
        free(p);
        return;
    }
    *tail = p;
}

static void flush_waiting(stratum *st)
{
    conn *c = st->active;
    pending *list = st->waiting;
    st->waiting = NULL;
    while (list) {
        pending *p = list;
        list = p->next;
        p->next = NULL;
        if (c != NULL && c->state == C_READY && conn_knows_job(c, p->job_id)) {
            logf_(st, "pool %s: sending a share for job %s found while disconnected", c->where,
                  p->job_id);
            send_submit(c, p);
            c = st->active; /* send_submit may have failed the connection */
        } else {
            answer_later(st, p->ctx, CM_SUBMIT_STALE,
                         "job %s was replaced while disconnected; the pool's current work "
                         "differs",
                         p->job_id);
            free(p);
        }
    }
}

/* ---- connection life ---- */

static void schedule_retry(stratum *st, uint32_t delay_ms);

static void conn_detach(conn *c)
{
    stratum *st = c->st;
    if (st->active == c)
        st->active = NULL;
    if (st->probe == c)
        st->probe = NULL;
    for (conn **pp = &st->draining; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
}

/* Closes c; unanswered submits go back to the waiting queue (sent again if their job is
 * still current on the next session) so none is lost. */
static void conn_free(conn *c)
{
    stratum *st = c->st;
    conn_detach(c);
    cm_line_stream_close(c->ls);
    while (c->pending) {
        pending *p = c->pending;
        c->pending = p->next;
        if (p->kind == K_SUBMIT && !st->closing) {
            route_submit(st, p);
        } else {
            if (p->kind == K_SUBMIT && st->ev.on_result)
                st->ev.on_result(st->ud, p->ctx, CM_SUBMIT_STALE,
                                 "miner stopped before the pool answered");
            free(p);
        }
    }
    free(c);
}

static void conn_failv(conn *c, const char *fmt, va_list ap)
{
    stratum *st = c->st;
    char reason[CM_TLS_ERROR_MAX + 128];
    vsnprintf(reason, sizeof reason, fmt, ap);
    int role = c->role;
    int was_ready = c->state == C_READY;
    int index = c->index;
    char where[sizeof c->where];
    snprintf(where, sizeof where, "%s", c->where);
    conn_detach(c);
    if (role == R_ACTIVE) {
        conn_free(c);
        uint32_t delay = cm_backoff_next(&st->backoff);
        /* A pool that worked and then dropped us is tried again first (restarts and
         * network blips are common); one that could not even log us in is skipped. */
        int next = index < 0   ? st->cursor
                   : was_ready ? index
                               : (int)((size_t)(index + 1) % st->url_count);
        st->cursor = next;
        char next_where[HOST_MAX + 16];
        describe(&st->urls[next], next_where, sizeof next_where);
        logf_(st, "pool %s: next attempt %s in %.1f s", where, next_where, delay / 1000.0);
        if (st->ev.on_state)
            st->ev.on_state(st->ud, 0, where, reason);
        schedule_retry(st, delay);
    } else if (role == R_PROBE) {
        conn_free(c);
        logf_(st, "primary pool %s still unavailable: %s", where, reason);
    } else {
        conn_free(c);
    }
}

static void conn_fail(conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conn_failv(c, fmt, ap);
    va_end(ap);
}

static void on_retry_timer(uv_timer_t *t)
{
    stratum *st = t->data;
    if (st->closing || st->active != NULL)
        return;
    if (st->redirect_pending) {
        st->redirect_pending = 0;
        connect_to(st, &st->redirect, -1, R_ACTIVE);
        return;
    }
    connect_to(st, &st->urls[st->cursor], st->cursor, R_ACTIVE);
}

static void schedule_retry(stratum *st, uint32_t delay_ms)
{
    if (!st->closing)
        uv_timer_start(&st->retry_timer, on_retry_timer, delay_ms, 0);
}

/* ---- messages from the pool ---- */

static const char *json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Parses a job object; 0 and *job filled, or -1 after logging why. */
static int take_job(conn *c, json_t *params, cm_job *job)
{
    stratum *st = c->st;
    if (!json_is_object(params)) {
        logf_(st, "pool %s sent a job that is not an object; keeping the previous job", c->where);
        return -1;
    }
    cm_job_fields f = {0};
    f.blob = json_str(params, "blob");
    f.job_id = json_str(params, "job_id");
    f.target = json_str(params, "target");
    f.seed_hash = json_str(params, "seed_hash");
    f.algo = json_str(params, "algo");
    json_t *h = json_object_get(params, "height");
    if (json_is_integer(h) && json_integer_value(h) > 0)
        f.height = (uint64_t)json_integer_value(h);
    cm_error err;
    cm_error_clear(&err);
    if (cm_job_parse(&f, job, &err) != CM_OK) {
        logf_(st, "pool %s sent an unusable job (%s: %s); keeping the previous job", c->where,
              cm_err_name(err.code), err.message);
        return -1;
    }
    if (c->nicehash) {
        job->nicehash = 1;
        job->nicehash_byte = job->blob[job->nonce_offset + 3];
    }
    conn_remember_job(c, job->job_id);
    return 0;
}

static void emit_job(stratum *st, const cm_job *job)
{
    if (st->ev.on_job && !st->closing)
        st->ev.on_job(st->ud, job, 0);
}

static void promote_probe(stratum *st, conn *c)
{
    conn *old = st->active;
    st->probe = NULL;
    c->role = R_ACTIVE;
    st->active = c;
    st->cursor = 0;
    if (old != NULL) {
        old->role = R_DRAINING;
        if (old->pending == NULL) {
            conn_detach(old);
            conn_free(old);
        } else {
            old->next = st->draining;
            st->draining = old;
        }
    }
    logf_(st, "primary pool %s is back; switching to it", c->where);
}

static void handle_login_reply(conn *c, json_t *msg)
{
    stratum *st = c->st;
    json_t *error = json_object_get(msg, "error");
    json_t *result = json_object_get(msg, "result");
    if (error != NULL && !json_is_null(error)) {
        const char *m = json_str(error, "message");
        json_t *code = json_object_get(error, "code");
        conn_fail(c, "login refused: %s (code %lld)", m ? m : "no message",
                  json_is_integer(code) ? (long long)json_integer_value(code) : 0LL);
        return;
    }
    if (!json_is_object(result)) {
        conn_fail(c, "login reply has neither result nor error");
        return;
    }
    const char *status = json_str(result, "status");
    if (status != NULL && strcmp(status, "OK") != 0) {
        conn_fail(c, "login status is '%s', not OK", status);
        return;
    }
    const char *id = json_str(result, "id");
    if (id == NULL || id[0] == 0 || strlen(id) >= sizeof c->session) {
        conn_fail(c, "login reply has no usable session id");
        return;
    }
    snprintf(c->session, sizeof c->session, "%s", id);
    json_t *ext = json_object_get(result, "extensions");
    size_t i;
    json_t *e;
    if (json_is_array(ext)) {
        json_array_foreach(ext, i, e)
        {
            if (json_is_string(e) && strcasecmp(json_string_value(e), "nicehash") == 0)
                c->nicehash = 1;
            if (json_is_string(e) && strcasecmp(json_string_value(e), "keepalive") == 0)
                c->keepalive_ext = 1;
        }
    }
    if (json_is_true(json_object_get(result, "nicehash")) || strstr(c->url.host, "nicehash.com"))
        c->nicehash = 1;
    cm_job job;
    json_t *jobj = json_object_get(result, "job");
    int have_job = jobj != NULL && !json_is_null(jobj) && take_job(c, jobj, &job) == 0;
    c->state = C_READY;
    if (c->role == R_PROBE)
        promote_probe(st, c);
    c->ready_ms = uv_now(st->loop);
    if (c->index >= 0)
        st->cursor = c->index;
    logf_(st, "pool %s: logged in%s", c->where, c->nicehash ? " (NiceHash mode)" : "");
    if (st->ev.on_state)
        st->ev.on_state(st->ud, 1, c->where, NULL);
    if (st->active != c)
        return;
    if (have_job)
        emit_job(st, &job);
    if (st->active == c)
        flush_waiting(st);
}

static int reason_is_stale(const char *m)
{
    static const char *const words[] = {"stale", "expired", "outdated", "old job", "job not found"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(m, words[i]))
            return 1;
    return 0;
}

static void handle_submit_reply(conn *c, pending *p, json_t *msg)
{
    stratum *st = c->st;
    json_t *error = json_object_get(msg, "error");
    json_t *result = json_object_get(msg, "result");
    void *ctx = p->ctx;
    char job_id[sizeof p->job_id];
    snprintf(job_id, sizeof job_id, "%s", p->job_id);
    free(p);
    if (error != NULL && !json_is_null(error)) {
        const char *m = json_str(error, "message");
        char reason[300];
        snprintf(reason, sizeof reason, "%s", m ? m : "pool gave no reason");
        cm_submit_outcome o = reason_is_stale(reason) ? CM_SUBMIT_STALE : CM_SUBMIT_REJECTED;
        if (st->ev.on_result)
            st->ev.on_result(st->ud, ctx, o, reason);
        if (strcasestr(reason, "unauthenticated") || strcasestr(reason, "unauthorized"))
            conn_fail(c, "pool lost our session (%s); logging in again", reason);
        return;
    }
    const char *status = json_is_object(result) ? json_str(result, "status") : NULL;
    if (status != NULL && strcasecmp(status, "OK") == 0) {
        if (st->ev.on_result)
            st->ev.on_result(st->ud, ctx, CM_SUBMIT_ACCEPTED, NULL);
    } else {
        char reason[300];
        snprintf(reason, sizeof reason, "pool answered the share for job %s without status OK",
                 job_id);
        if (st->ev.on_result)
            st->ev.on_result(st->ud, ctx, CM_SUBMIT_REJECTED, reason);
    }
}

static void handle_reconnect(conn *c, json_t *params)
{
    stratum *st = c->st;
    const char *host = NULL;
    long long port = 0, wait = 0;
    json_t *h, *p, *w;
    if (json_is_array(params)) {
        h = json_array_get(params, 0);
        p = json_array_get(params, 1);
        w = json_array_get(params, 2);
    } else if (json_is_object(params)) {
        h = json_object_get(params, "host");
        p = json_object_get(params, "port");
        w = json_object_get(params, "wait");
    } else {
        logf_(st, "pool %s sent client.reconnect without parameters; reconnecting to it", c->where);
        h = p = w = NULL;
    }
    if (json_is_string(h) && json_string_length(h) > 0)
        host = json_string_value(h);
    if (json_is_integer(p))
        port = json_integer_value(p);
    else if (json_is_string(p))
        port = strtoll(json_string_value(p), NULL, 10);
    if (json_is_integer(w))
        wait = json_integer_value(w);
    else if (json_is_string(w))
        wait = strtoll(json_string_value(w), NULL, 10);
    if (wait < 0)
        wait = 0;
    if (wait > 600) /* a pool that wants us away longer is better left for the failover */
        wait = 600;
    pool_url target = c->url;
    if (host != NULL) {
        if (strlen(host) >= HOST_MAX) {
            logf_(st, "pool %s sent client.reconnect with an overlong host; ignored", c->where);
            return;
        }
        snprintf(target.host, sizeof target.host, "%s", host);
    }
    if (port > 0 && port <= 65535)
        target.port = (int)port;
    else if (port != 0)
        logf_(st, "pool %s sent client.reconnect with port %lld; keeping %d", c->where, port,
              target.port);
    char to[HOST_MAX + 16], where[sizeof c->where];
    describe(&target, to, sizeof to);
    snprintf(where, sizeof where, "%s", c->where);
    /* Only to a host the operator named: a pool (or whoever speaks for it on a plain
     * connection) must not send our login, and our traffic, to a host of its choosing. */
    int listed = 0;
    for (size_t i = 0; i < st->url_count; i++)
        listed |= strcasecmp(st->urls[i].host, target.host) == 0;
    if (!listed) {
        logf_(st,
              "pool %s sent client.reconnect to %s, a host not given on the command line; "
              "ignored",
              where, to);
        return;
    }
    logf_(st, "pool %s asked us to reconnect to %s in %lld s", where, to, wait);
    st->redirect = target;
    st->redirect_pending = 1;
    /* A redirect onto a listed pool is that pool, so failover and the primary probe keep
     * their places in the list. */
    for (size_t i = 0; i < st->url_count; i++) {
        if (strcmp(st->urls[i].host, target.host) == 0 && st->urls[i].port == target.port &&
            st->urls[i].tls == target.tls) {
            st->redirect_pending = 0;
            st->cursor = (int)i;
        }
    }
    if (c->role == R_ACTIVE) {
        conn_detach(c);
        conn_free(c);
        if (st->ev.on_state)
            st->ev.on_state(st->ud, 0, where, "pool asked to reconnect (client.reconnect)");
        schedule_retry(st, (uint32_t)wait * 1000);
    } else {
        conn_detach(c);
        conn_free(c);
    }
}

static void on_line(void *ud, char *line, size_t len)
{
    conn *c = ud;
    stratum *st = c->st;
    c->last_recv_ms = uv_now(st->loop);
    json_error_t jerr;
    json_t *msg = json_loadb(line, len, 0, &jerr);
    if (msg == NULL || !json_is_object(msg)) {
        logf_(st, "pool %s sent malformed JSON (%s) in a %zu-byte line starting '%.40s'; ignored",
              c->where, msg ? "not an object" : jerr.text, len, line);
        json_decref(msg);
        return;
    }
    const char *method = json_str(msg, "method");
    if (method != NULL) {
        json_t *params = json_object_get(msg, "params");
        if (strcmp(method, "job") == 0) {
            cm_job job;
            if (c->state == C_READY && take_job(c, params, &job) == 0 && c->role == R_ACTIVE)
                emit_job(st, &job);
        } else if (strcmp(method, "client.reconnect") == 0) {
            handle_reconnect(c, params);
        } else {
            logf_(st, "pool %s sent unknown method '%.40s'; ignored", c->where, method);
        }
        json_decref(msg);
        return;
    }
    json_t *id = json_object_get(msg, "id");
    pending *p = json_is_integer(id) ? pending_take(c, json_integer_value(id)) : NULL;
    if (p == NULL) {
        logf_(st, "pool %s sent a reply to no request of ours; ignored", c->where);
        json_decref(msg);
        return;
    }
    if (p->kind == K_LOGIN) {
        free(p);
        handle_login_reply(c, msg);
    } else if (p->kind == K_SUBMIT) {
        handle_submit_reply(c, p, msg);
    } else {
        json_t *error = json_object_get(msg, "error");
        if (error != NULL && !json_is_null(error)) {
            const char *m = json_str(error, "message");
            logf_(st, "pool %s refused keepalived: %s", c->where, m ? m : "no reason");
        }
        free(p);
    }
    json_decref(msg);
}

static void on_oversize(void *ud, size_t discarded)
{
    conn *c = ud;
    logf_(c->st, "pool %s sent a %zu-byte line, over the %d-byte limit; discarded", c->where,
          discarded, MAX_LINE);
}

static void on_open(void *ud)
{
    conn *c = ud;
    stratum *st = c->st;
    pending *p = calloc(1, sizeof *p);
    if (p == NULL) {
        conn_fail(c, "out of memory");
        return;
    }
    p->kind = K_LOGIN;
    p->id = c->next_id++;
    p->sent_ms = uv_now(st->loop);
    pending_push(c, p);
    c->state = C_LOGIN;
    json_t *msg = json_pack("{s:I, s:s, s:s, s:{s:s, s:s, s:s, s:[s]}}", "id", (json_int_t)p->id,
                            "jsonrpc", "2.0", "method", "login", "params", "login", st->user,
                            "pass", st->pass, "agent", st->agent, "algo", "rx/0");
    /* Pools show workers by it (xmrig's --rig-id); the login stays the wallet. */
    if (msg && st->rig_id)
        json_object_set_new(json_object_get(msg, "params"), "rigid", json_string(st->rig_id));
    if (msg == NULL || conn_send_json(c, msg) != 0)
        conn_fail(c, "cannot send login");
}

static void on_close(void *ud, const char *reason)
{
    conn *c = ud;
    c->ls = NULL; /* the stream is gone */
    conn_fail(c, "%s", reason);
}

static void connect_to(stratum *st, const pool_url *u, int index, int role)
{
    conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        logf_(st, "out of memory for a pool connection");
        if (role == R_ACTIVE)
            schedule_retry(st, cm_backoff_next(&st->backoff));
        return;
    }
    c->st = st;
    c->url = *u;
    c->index = index;
    c->role = role;
    c->next_id = 1;
    c->state = C_OPENING;
    describe(u, c->where, sizeof c->where);
    static const cm_line_stream_events ev = {on_open, on_line, on_oversize, on_close};
    cm_line_stream_config cfg = {
        .host = u->host,
        .port = u->port,
        .tls = u->tls,
        .ca_file = st->ca_file,
        .pin = st->pinned ? st->pin : NULL,
        .max_line = MAX_LINE,
        .open_timeout_ms = st->reply_timeout_ms < 10000 ? st->reply_timeout_ms : 10000,
    };
    c->ls = cm_line_stream_open(st->loop, &cfg, &ev, c);
    if (c->ls == NULL) {
        free(c);
        logf_(st, "out of memory for a pool connection");
        if (role == R_ACTIVE)
            schedule_retry(st, cm_backoff_next(&st->backoff));
        return;
    }
    if (role == R_ACTIVE)
        st->active = c;
    else
        st->probe = c;
}

/* ---- the once-a-second tick: reply deadlines, keepalived, primary probe ---- */

static int conn_check_deadlines(conn *c, uint64_t now)
{
    stratum *st = c->st;
    for (pending *p = c->pending, *next; p; p = next) {
        next = p->next;
        if (now - p->sent_ms < st->reply_timeout_ms)
            continue;
        if (p->kind == K_KEEPALIVE && c->last_recv_ms >= p->sent_ms) {
            /* Unanswered, but the pool has spoken since: it is alive (p2pool never
             * answers keepalived). */
            free(pending_take(c, p->id));
            continue;
        }
        const char *what = p->kind == K_LOGIN    ? "login"
                           : p->kind == K_SUBMIT ? "share"
                                                 : "keepalived";
        if (p->kind == K_SUBMIT) {
            pending_take(c, p->id);
            if (st->ev.on_result)
                st->ev.on_result(st->ud, p->ctx, CM_SUBMIT_REJECTED,
                                 "the pool did not answer the share in time");
            free(p);
        }
        conn_fail(c, "no reply to our %s within %.0f s", what, st->reply_timeout_ms / 1000.0);
        return -1;
    }
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    stratum *st = t->data;
    uint64_t now = uv_now(st->loop);
    if (st->active && conn_check_deadlines(st->active, now) != 0)
        return;
    if (st->probe && conn_check_deadlines(st->probe, now) != 0)
        return;
    for (conn *c = st->draining, *next; c; c = next) {
        next = c->next;
        if (conn_check_deadlines(c, now) == 0 && c->pending == NULL) {
            conn_detach(c);
            conn_free(c);
        }
    }
    conn *a = st->active;
    /* The backoff starts over only once a session has lasted: a pool that logs us in and
     * drops us at once must not be hammered every second. */
    if (a && a->state == C_READY && now - a->ready_ms >= STABLE_MS)
        cm_backoff_reset(&st->backoff);
    if (a && a->state == C_READY && a->keepalive_ext && now - a->last_send_ms >= st->keepalive_ms) {
        pending *p = calloc(1, sizeof *p);
        if (p) {
            p->kind = K_KEEPALIVE;
            p->id = a->next_id++;
            p->sent_ms = now;
            pending_push(a, p);
            json_t *msg = json_pack("{s:I, s:s, s:s, s:{s:s}}", "id", (json_int_t)p->id, "jsonrpc",
                                    "2.0", "method", "keepalived", "params", "id", a->session);
            if (msg == NULL || conn_send_json(a, msg) != 0) {
                conn_fail(a, "cannot send keepalived");
                return;
            }
        }
    }
    a = st->active;
    if (a && a->state == C_READY && a->index != 0 && st->probe == NULL &&
        now - st->last_probe_ms >= st->primary_retry_ms) {
        st->last_probe_ms = now;
        connect_to(st, &st->urls[0], 0, R_PROBE);
    }
}

/* ---- the upstream interface ---- */

static int pool_submit(cm_upstream *u, const char *job_id, uint32_t nonce, const uint8_t hash[32],
                       void *ctx)
{
    stratum *st = (stratum *)u;
    if (st->closing)
        return CM_E_STATE;
    if (strlen(job_id) > CM_JOB_ID_MAX)
        return CM_E_JOB_ID;
    pending *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CM_E_NOMEM;
    p->kind = K_SUBMIT;
    p->ctx = ctx;
    p->nonce = nonce;
    memcpy(p->hash, hash, 32);
    snprintf(p->job_id, sizeof p->job_id, "%s", job_id);
    route_submit(st, p);
    return 0;
}

static void stratum_free(stratum *st)
{
    free(st->urls);
    free(st->user);
    free(st->pass);
    free(st->agent);
    free(st->rig_id);
    free(st->ca_file);
    free(st);
}

static void on_handle_closed(uv_handle_t *h)
{
    stratum *st = h->data;
    if (--st->handles == 0)
        stratum_free(st);
}

static void pool_close(cm_upstream *u)
{
    stratum *st = (stratum *)u;
    if (st->closing)
        return;
    st->closing = 1;
    /* Answer everything still owed, now, while the owner's ud is still valid. */
    if (st->active)
        conn_free(st->active);
    if (st->probe)
        conn_free(st->probe);
    while (st->draining)
        conn_free(st->draining);
    while (st->waiting) {
        pending *p = st->waiting;
        st->waiting = p->next;
        if (st->ev.on_result)
            st->ev.on_result(st->ud, p->ctx, CM_SUBMIT_STALE,
                             "miner stopped while disconnected from the pool");
        free(p);
    }
    deliver_deferred(st);
    uv_close((uv_handle_t *)&st->retry_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->tick_timer, on_handle_closed);
    uv_close((uv_handle_t *)&st->defer_timer, on_handle_closed);
}

static const cm_upstream_ops pool_ops = {pool_submit, pool_close};

cm_upstream *cm_upstream_pool_new(uv_loop_t *loop, const cm_pool_config *cfg,
                                  const cm_upstream_events *ev, void *ud, cm_error *err)
{
    cm_error_clear(err);
    if (cfg == NULL || cfg->url_count == 0 || cfg->urls == NULL) {
        cm_error_set(err, CM_E_INVAL, "no pool address given");
        return NULL;
    }
    if (cfg->user == NULL || cfg->user[0] == 0) {
        cm_error_set(err, CM_E_INVAL, "no pool login (wallet address) given");
        return NULL;
    }
    stratum *st = calloc(1, sizeof *st);
    if (st == NULL) {
        cm_error_set(err, CM_E_NOMEM, "out of memory");
        return NULL;
    }
    st->base.ops = &pool_ops;
    st->loop = loop;
    st->ev = *ev;
    st->ud = ud;
    st->urls = calloc(cfg->url_count, sizeof *st->urls);
    st->url_count = cfg->url_count;
    st->user = dupstr(cfg->user);
    st->pass = dupstr(cfg->pass ? cfg->pass : "x");
    st->agent = dupstr(cfg->agent ? cfg->agent : "consentminer/" CM_VERSION);
    st->ca_file = dupstr(cfg->ca_file);
    st->rig_id = dupstr(cfg->rig_id);
    if (st->urls == NULL || st->user == NULL || st->pass == NULL || st->agent == NULL ||
        (cfg->ca_file && st->ca_file == NULL) || (cfg->rig_id && st->rig_id == NULL)) {
        stratum_free(st);
        cm_error_set(err, CM_E_NOMEM, "out of memory");
        return NULL;
    }
    /* A pin means TLS: a pinned pool reached in the clear would be trusted by nothing. */
    int tls = cfg->tls || cfg->tls_fingerprint != NULL;
    for (size_t i = 0; i < cfg->url_count; i++) {
        if (parse_url(cfg->urls[i], tls, &st->urls[i], err) != 0) {
            stratum_free(st);
            return NULL;
        }
    }
    if (cfg->tls_fingerprint) {
        if (cm_tls_parse_fingerprint(cfg->tls_fingerprint, st->pin) != 0) {
            cm_error_set(err, CM_E_INVAL,
                         "TLS fingerprint '%.80s' is not a SHA-256 (64 hex digits)",
                         cfg->tls_fingerprint);
            stratum_free(st);
            return NULL;
        }
        st->pinned = 1;
    }
    if (cfg->rig_id) {
        /* It goes into pools' dashboards and logs: keep it to a short visible word. */
        size_t n = strlen(cfg->rig_id), ok = n >= 1 && n <= 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = cfg->rig_id[i] > 0x20 && cfg->rig_id[i] < 0x7f;
        if (!ok) {
            cm_error_set(err, CM_E_INVAL,
                         "rig id '%.80s' is not 1..64 printable ASCII characters without spaces",
                         cfg->rig_id);
            stratum_free(st);
            return NULL;
        }
    }
    st->keepalive_ms = cfg->keepalive_ms ? cfg->keepalive_ms : 60000;
    st->reply_timeout_ms = cfg->reply_timeout_ms ? cfg->reply_timeout_ms : 30000;
    st->primary_retry_ms = cfg->primary_retry_ms ? cfg->primary_retry_ms : 60000;
    cm_backoff_init(&st->backoff, cfg->backoff_min_ms ? cfg->backoff_min_ms : 1000,
                    cfg->backoff_max_ms ? cfg->backoff_max_ms : 60000,
                    (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)st);
    uv_timer_init(loop, &st->retry_timer);
    uv_timer_init(loop, &st->tick_timer);
    uv_timer_init(loop, &st->defer_timer);
    st->retry_timer.data = st->tick_timer.data = st->defer_timer.data = st;
    st->handles = 3;
    st->last_probe_ms = uv_now(loop);
    uv_timer_start(&st->tick_timer, on_tick, 1000, 1000);
    connect_to(st, &st->urls[0], 0, R_ACTIVE);
    return &st->base;
}
