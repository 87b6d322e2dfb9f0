/* consentminer — the monerod upstream: block templates in, blocks out. */
#include "daemon_client.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "consentminer/hex.h"
#include "consentminer/target.h"
#include "http_client.h"
#include "upstream_impl.h"

/* Templates kept for late submits: a block found on a template that was just refreshed
 * (same parent, new transactions) is still a valid block. */
#define KEPT_TEMPLATES 4
/* A block template is at most a few hundred KiB; a blob is 2 hex digits per byte. */
#define MAX_TEMPLATE_BYTES (CM_HTTP_MAX_BODY / 2)

typedef struct tmpl {
    int used;
    cm_job job;
    uint64_t difficulty;
    char prev_hash[65];
    uint8_t *blob; /* the block template */
    size_t blob_len;
} tmpl;

typedef struct dsubmit {
    struct dsubmit *next;
    struct monerod *d;
    cm_http_req *req;
    void *ctx;
    char job_id[CM_JOB_ID_MAX + 1];
    uint32_t nonce;
    uint64_t height;
    char prev_hash[65];
    char *body; /* the submit_block request, kept to retry */
    size_t body_len;
    /* 0: sent or being sent; 1: monerod was unreachable, retry on its return; 2: to be
     * answered locally on the next timer turn; 3: held while another block on the same
     * parent is in flight (two children of one parent: the second is an orphan at best). */
    int waiting;
} dsubmit;

typedef struct monerod {
    cm_upstream base;
    uv_loop_t *loop;
    cm_upstream_events ev;
    void *ud;
    char host[256];
    int port;
    char where[300];
    char *wallet;
    uint32_t reserve_size;
    char *extra_nonce_hex;
    uint32_t poll_ms, refresh_ms, timeout_ms;
    tmpl kept[KEPT_TEMPLATES];
    int newest; /* index into kept, -1 before the first template */
    uint64_t job_counter;
    char top_hash[65];        /* chain top as last seen by a poll */
    char accepted_parent[65]; /* parent of the last block monerod accepted from us */
    uint64_t top_height;      /* height of the next block as last seen */
    uint64_t last_template_ms;
    cm_http_req *poll_req;
    cm_http_req *tmpl_req;
    int want_template; /* a new template is wanted once the current request ends */
    dsubmit *submits;
    int up; /* 1 after a successful answer, until a failure */
    char last_error[256];
    uv_timer_t timer;
    int closing;
} monerod;

static void request_template(monerod *d);
static void on_timer(uv_timer_t *t);

static void logf_(monerod *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(monerod *d, const char *fmt, ...)
{
    if (d->closing || d->ev.on_log == NULL)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->ev.on_log(d->ud, msg);
}

static void set_up(monerod *d, int up, const char *reason)
{
    if (up == d->up) {
        if (!up && reason && strcmp(reason, d->last_error) != 0) {
            snprintf(d->last_error, sizeof d->last_error, "%s", reason);
            logf_(d, "monerod %s: %s", d->where, reason);
        }
        return;
    }
    d->up = up;
    snprintf(d->last_error, sizeof d->last_error, "%s", reason ? reason : "");
    if (d->ev.on_state && !d->closing)
        d->ev.on_state(d->ud, up, d->where, reason);
}

static const tmpl *newest(const monerod *d)
{
    return d->newest >= 0 ? &d->kept[d->newest] : NULL;
}

/* Parses a JSON-RPC answer; returns the result object or NULL with *why set. */
static json_t *rpc_result(const char *body, size_t len, json_t **root, char *why, size_t why_len)
{
    json_error_t jerr;
    *root = json_loadb(body, len, 0, &jerr);
    if (*root == NULL || !json_is_object(*root)) {
        snprintf(why, why_len, "malformed JSON from monerod (%s)",
                 *root ? "not an object" : jerr.text);
        return NULL;
    }
    json_t *error = json_object_get(*root, "error");
    if (error != NULL && !json_is_null(error)) {
        json_t *m = json_object_get(error, "message");
        json_t *c = json_object_get(error, "code");
        snprintf(why, why_len, "%s (code %lld)", json_is_string(m) ? json_string_value(m) : "error",
                 json_is_integer(c) ? (long long)json_integer_value(c) : 0LL);
        return NULL;
    }
    json_t *result = json_object_get(*root, "result");
    if (!json_is_object(result)) {
        snprintf(why, why_len, "monerod's reply has no result");
        return NULL;
    }
    return result;
}

/* ---- templates ---- */

static void take_template(monerod *d, json_t *r)
{
    json_t *jh = json_object_get(r, "blockhashing_blob");
    json_t *jt = json_object_get(r, "blocktemplate_blob");
    json_t *jd = json_object_get(r, "difficulty");
    json_t *jtop = json_object_get(r, "difficulty_top64");
    json_t *jheight = json_object_get(r, "height");
    json_t *jseed = json_object_get(r, "seed_hash");
    json_t *jprev = json_object_get(r, "prev_hash");
    if (!json_is_string(jh) || !json_is_string(jt) || !json_is_integer(jd) ||
        !json_is_integer(jheight) || !json_is_string(jseed) || !json_is_string(jprev)) {
        logf_(d, "monerod's block template lacks a field (blockhashing_blob, blocktemplate_blob, "
                 "difficulty, height, seed_hash or prev_hash); ignored");
        return;
    }
    uint64_t difficulty = (uint64_t)json_integer_value(jd);
    if (json_is_integer(jtop) && json_integer_value(jtop) != 0)
        difficulty = UINT64_MAX; /* beyond 64 bits: no 64-bit hash can be sure to meet it */
    if (difficulty == 0) {
        logf_(d, "monerod's block template has difficulty 0; ignored");
        return;
    }
    int slot = (d->newest + 1) % KEPT_TEMPLATES;
    tmpl *t = &d->kept[slot];
    tmpl fresh;
    memset(&fresh, 0, sizeof fresh);
    char job_id[CM_JOB_ID_MAX + 1];
    snprintf(job_id, sizeof job_id, "%" PRIu64 "-%" PRIu64, (uint64_t)json_integer_value(jheight),
             ++d->job_counter);
    char target_hex[17];
    uint64_t target64 = cm_target_from_difficulty(difficulty);
    uint8_t tb[8];
    for (int i = 0; i < 8; i++)
        tb[i] = (uint8_t)(target64 >> (8 * i));
    cm_hex_encode(tb, 8, target_hex);
    cm_job_fields f = {
        .blob = json_string_value(jh),
        .job_id = job_id,
        .target = target_hex,
        .seed_hash = json_string_value(jseed),
        .algo = "rx/0",
        .height = (uint64_t)json_integer_value(jheight),
    };
    cm_error err;
    cm_error_clear(&err);
    if (cm_job_parse(&f, &fresh.job, &err) != CM_OK) {
        logf_(d, "monerod's block template is unusable (%s: %s); ignored", cm_err_name(err.code),
              err.message);
        return;
    }
    fresh.job.target64 = target64;
    size_t hex_len = json_string_length(jt);
    if (hex_len / 2 > MAX_TEMPLATE_BYTES || hex_len < 2 * CM_BLOB_MIN) {
        logf_(d, "monerod's block template is %zu hex characters; ignored", hex_len);
        return;
    }
    fresh.blob = malloc(hex_len / 2 + 1);
    if (fresh.blob == NULL) {
        logf_(d, "out of memory for a block template");
        return;
    }
    if (cm_hex_decode("blocktemplate_blob", json_string_value(jt), hex_len, fresh.blob,
                      hex_len / 2 + 1, &fresh.blob_len, &err) != CM_OK) {
        logf_(d, "monerod's block template is unusable (%s); ignored", err.message);
        free(fresh.blob);
        return;
    }
    /* Both blobs start with the same block header, so the nonce sits at the same offset;
     * check rather than trust, or a found block would be submitted corrupted. */
    size_t off;
    if (cm_blob_nonce_offset(fresh.blob, fresh.blob_len, &off, &err) != CM_OK ||
        off != fresh.job.nonce_offset || memcmp(fresh.blob, fresh.job.blob, off) != 0) {
        logf_(d, "monerod's template and hashing blobs disagree on the block header; ignored");
        free(fresh.blob);
        return;
    }
    fresh.used = 1;
    fresh.difficulty = difficulty;
    snprintf(fresh.prev_hash, sizeof fresh.prev_hash, "%s", json_string_value(jprev));
    free(t->blob);
    *t = fresh;
    d->newest = slot;
    d->last_template_ms = uv_now(d->loop);
    snprintf(d->top_hash, sizeof d->top_hash, "%s", t->prev_hash);
    d->top_height = t->job.height;
    set_up(d, 1, NULL);
    if (d->ev.on_job && !d->closing)
        d->ev.on_job(d->ud, &t->job, difficulty);
}

static void on_template(void *ud, int status, const char *body, size_t len, const char *error)
{
    monerod *d = ud;
    d->tmpl_req = NULL;
    if (status == 0) {
        set_up(d, 0, error);
    } else if (status != 200) {
        char why[64];
        snprintf(why, sizeof why, "HTTP status %d to get_block_template", status);
        set_up(d, 0, why);
    } else {
        json_t *root;
        char why[300];
        json_t *r = rpc_result(body, len, &root, why, sizeof why);
        if (r == NULL) {
            char msg[360];
            snprintf(msg, sizeof msg, "get_block_template failed: %s", why);
            set_up(d, 0, msg);
        } else {
            take_template(d, r);
        }
        json_decref(root);
    }
    if (d->want_template) {
        d->want_template = 0;
        request_template(d);
    }
}

static void request_template(monerod *d)
{
    if (d->closing)
        return;
    if (d->tmpl_req != NULL) {
        d->want_template = 1;
        return;
    }
    json_t *params = json_pack("{s:s}", "wallet_address", d->wallet);
    if (d->extra_nonce_hex)
        json_object_set_new(params, "extra_nonce", json_string(d->extra_nonce_hex));
    else
        json_object_set_new(params, "reserve_size", json_integer(d->reserve_size));
    json_t *msg = json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id", "0", "method",
                            "get_block_template", "params", params);
    char *body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (body == NULL) {
        logf_(d, "out of memory building get_block_template");
        return;
    }
    d->tmpl_req = cm_http_post(d->loop, d->host, d->port, "/json_rpc", body, strlen(body),
                               d->timeout_ms, on_template, d);
    free(body);
}

/* ---- submits ---- */

static void submit_unlink(monerod *d, dsubmit *s)
{
    for (dsubmit **pp = &d->submits; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            return;
        }
    }
}

static void submit_done(monerod *d, dsubmit *s, cm_submit_outcome o, const char *reason)
{
    submit_unlink(d, s);
    if (d->ev.on_result)
        d->ev.on_result(d->ud, s->ctx, o, reason);
    free(s->body);
    free(s);
}

static void send_submit(dsubmit *s);

/* A block on `parent` was answered: the ones held behind it are orphans if it was
 * accepted; otherwise the first of them goes out now. */
static void release_held(monerod *d, const char *parent, int accepted)
{
    for (dsubmit *s = d->submits, *next; s; s = next) {
        next = s->next;
        if (s->waiting != 3 || strcmp(s->prev_hash, parent) != 0)
            continue;
        if (accepted) {
            submit_done(d, s, CM_SUBMIT_STALE,
                        "another block on the same parent was accepted first; this one would "
                        "be an orphan");
        } else {
            send_submit(s);
            return;
        }
    }
}

static int parent_in_flight(const monerod *d, const dsubmit *self, const char *parent)
{
    for (const dsubmit *s = d->submits; s; s = s->next)
        if (s != self && (s->waiting == 0 || s->waiting == 1) && strcmp(s->prev_hash, parent) == 0)
            return 1;
    return 0;
}

static void on_submitted(void *ud, int status, const char *body, size_t len, const char *error)
{
    dsubmit *s = ud;
    monerod *d = s->d;
    s->req = NULL;
    if (status == 0) {
        /* Unreachable: keep the block and try again once monerod answers a poll. */
        s->waiting = 1;
        set_up(d, 0, error);
        logf_(d,
              "monerod %s did not take block %s (%s); will resend while its parent is "
              "still the chain top",
              d->where, s->job_id, error);
        return;
    }
    if (status != 200) {
        char why[80];
        snprintf(why, sizeof why, "monerod answered submit_block with HTTP status %d", status);
        submit_done(d, s, CM_SUBMIT_REJECTED, why);
        return;
    }
    json_t *root;
    char why[300];
    json_t *r = rpc_result(body, len, &root, why, sizeof why);
    const char *st = r ? json_string_value(json_object_get(r, "status")) : NULL;
    char parent[65];
    snprintf(parent, sizeof parent, "%s", s->prev_hash);
    if (r != NULL && st != NULL && strcmp(st, "OK") == 0) {
        snprintf(d->accepted_parent, sizeof d->accepted_parent, "%s", parent);
        submit_done(d, s, CM_SUBMIT_ACCEPTED, NULL);
        release_held(d, parent, 1);
        request_template(d); /* the chain moved: build on our block at once */
    } else {
        char reason[360];
        if (r == NULL)
            snprintf(reason, sizeof reason, "monerod refused the block: %s", why);
        else
            snprintf(reason, sizeof reason, "monerod answered status '%s'", st ? st : "none");
        submit_done(d, s, CM_SUBMIT_REJECTED, reason);
        release_held(d, parent, 0);
        request_template(d);
    }
    json_decref(root);
}

static void send_submit(dsubmit *s)
{
    monerod *d = s->d;
    s->waiting = 0;
    s->req = cm_http_post(d->loop, d->host, d->port, "/json_rpc", s->body, s->body_len,
                          d->timeout_ms, on_submitted, s);
    if (s->req == NULL)
        s->waiting = 1;
}

/* After a poll: resend blocks monerod missed, or declare them stale. */
static void retry_waiting(monerod *d)
{
    for (dsubmit *s = d->submits, *next; s; s = next) {
        next = s->next;
        if (s->waiting != 1 && s->waiting != 3)
            continue;
        if (strcmp(s->prev_hash, d->top_hash) == 0) {
            if (s->waiting == 1)
                send_submit(s);
        } else {
            char reason[200];
            snprintf(reason, sizeof reason,
                     "block for height %" PRIu64 " went stale while monerod was unreachable: the "
                     "chain moved on",
                     s->height);
            submit_done(d, s, CM_SUBMIT_STALE, reason);
        }
    }
}

static int daemon_submit(cm_upstream *u, const char *job_id, uint32_t nonce, const uint8_t hash[32],
                         void *ctx)
{
    monerod *d = (monerod *)u;
    if (d->closing)
        return CM_E_STATE;
    dsubmit *s = calloc(1, sizeof *s);
    if (s == NULL)
        return CM_E_NOMEM;
    s->d = d;
    s->ctx = ctx;
    s->nonce = nonce;
    snprintf(s->job_id, sizeof s->job_id, "%s", job_id);
    s->next = d->submits;
    d->submits = s;
    const tmpl *t = NULL;
    for (int i = 0; i < KEPT_TEMPLATES; i++)
        if (d->kept[i].used && strcmp(d->kept[i].job.job_id, job_id) == 0)
            t = &d->kept[i];
    /* Answers are always asynchronous: a zero-delay poll delivers the early ones. */
    if (t == NULL || strcmp(t->prev_hash, d->top_hash) != 0 ||
        strcmp(t->prev_hash, d->accepted_parent) == 0 ||
        !cm_hash_meets_difficulty(hash, t->difficulty)) {
        s->waiting = 2; /* answered on the next timer turn */
        uv_timer_start(&d->timer, on_timer, 0, d->poll_ms);
        return 0;
    }
    s->height = t->job.height;
    snprintf(s->prev_hash, sizeof s->prev_hash, "%s", t->prev_hash);
    uint8_t *blob = malloc(t->blob_len);
    char *hex = malloc(2 * t->blob_len + 1);
    if (blob == NULL || hex == NULL) {
        free(blob);
        free(hex);
        submit_unlink(d, s);
        free(s);
        return CM_E_NOMEM;
    }
    memcpy(blob, t->blob, t->blob_len);
    cm_job_write_nonce(&t->job, blob, nonce);
    cm_hex_encode(blob, t->blob_len, hex);
    free(blob);
    json_t *msg = json_pack("{s:s, s:s, s:s, s:[s]}", "jsonrpc", "2.0", "id", "0", "method",
                            "submit_block", "params", hex);
    free(hex);
    s->body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (s->body == NULL) {
        submit_unlink(d, s);
        free(s);
        return CM_E_NOMEM;
    }
    s->body_len = strlen(s->body);
    if (parent_in_flight(d, s, s->prev_hash))
        s->waiting = 3;
    else
        send_submit(s);
    return 0;
}

/* Submits that could be judged without monerod: answered here, on a loop turn. */
static void answer_local(monerod *d)
{
    for (dsubmit *s = d->submits, *next; s; s = next) {
        next = s->next;
        if (s->waiting != 2)
            continue;
        const tmpl *t = NULL;
        for (int i = 0; i < KEPT_TEMPLATES; i++)
            if (d->kept[i].used && strcmp(d->kept[i].job.job_id, s->job_id) == 0)
                t = &d->kept[i];
        char reason[200];
        if (t == NULL) {
            snprintf(reason, sizeof reason, "job %s is not a block template still held", s->job_id);
            submit_done(d, s, CM_SUBMIT_STALE, reason);
        } else if (strcmp(t->prev_hash, d->accepted_parent) == 0) {
            submit_done(d, s, CM_SUBMIT_STALE,
                        "another block on the same parent was accepted first; this one would "
                        "be an orphan");
        } else if (strcmp(t->prev_hash, d->top_hash) != 0) {
            snprintf(reason, sizeof reason,
                     "template for height %" PRIu64 " is stale: the chain moved on", t->job.height);
            submit_done(d, s, CM_SUBMIT_STALE, reason);
        } else {
            snprintf(reason, sizeof reason,
                     "hash does not meet block difficulty %" PRIu64 "; not sent", t->difficulty);
            submit_done(d, s, CM_SUBMIT_REJECTED, reason);
        }
    }
}

/* ---- polling ---- */

static void on_height(void *ud, int status, const char *body, size_t len, const char *error)
{
    monerod *d = ud;
    d->poll_req = NULL;
    if (status != 200) {
        char why[300];
        if (status == 0)
            snprintf(why, sizeof why, "%s", error);
        else
            snprintf(why, sizeof why, "HTTP status %d to get_height", status);
        set_up(d, 0, why);
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *h = json_object_get(root, "height");
    json_t *hash = json_object_get(root, "hash");
    if (!json_is_integer(h)) {
        logf_(d, "monerod's get_height reply has no height; asking for a template instead");
        json_decref(root);
        request_template(d);
        return;
    }
    uint64_t height = (uint64_t)json_integer_value(h);
    const char *top = json_is_string(hash) ? json_string_value(hash) : NULL;
    int moved = height != d->top_height || (top != NULL && strcmp(top, d->top_hash) != 0);
    if (moved && top != NULL && strlen(top) < sizeof d->top_hash) {
        snprintf(d->top_hash, sizeof d->top_hash, "%s", top);
        d->top_height = height;
    }
    json_decref(root);
    if (!d->up || moved || newest(d) == NULL ||
        uv_now(d->loop) - d->last_template_ms >= d->refresh_ms)
        request_template(d);
    retry_waiting(d);
}

static void on_timer(uv_timer_t *t)
{
    monerod *d = t->data;
    answer_local(d);
    if (d->poll_req == NULL && !d->closing)
        d->poll_req = cm_http_post(d->loop, d->host, d->port, "/get_height", "{}", 2, d->timeout_ms,
                                   on_height, d);
}

/* ---- life cycle ---- */

static void daemon_free(monerod *d)
{
    for (int i = 0; i < KEPT_TEMPLATES; i++)
        free(d->kept[i].blob);
    free(d->wallet);
    free(d->extra_nonce_hex);
    free(d);
}

static void on_timer_closed(uv_handle_t *h)
{
    daemon_free(h->data);
}

static void daemon_close(cm_upstream *u)
{
    monerod *d = (monerod *)u;
    if (d->closing)
        return;
    answer_local(d);
    d->closing = 1;
    cm_http_cancel(d->poll_req);
    cm_http_cancel(d->tmpl_req);
    while (d->submits) {
        dsubmit *s = d->submits;
        cm_http_cancel(s->req);
        submit_done(d, s, CM_SUBMIT_STALE, "miner stopped before monerod answered");
    }
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

static const cm_upstream_ops daemon_ops = {daemon_submit, daemon_close};

cm_upstream *cm_upstream_daemon_new(uv_loop_t *loop, const cm_daemon_config *cfg,
                                    const cm_upstream_events *ev, void *ud, cm_error *err)
{
    cm_error_clear(err);
    if (cfg == NULL || cfg->url == NULL) {
        cm_error_set(err, CM_E_INVAL, "no monerod address given");
        return NULL;
    }
    if (cfg->wallet == NULL || cfg->wallet[0] == 0) {
        cm_error_set(err, CM_E_INVAL, "no wallet address given for solo mining (--wallet)");
        return NULL;
    }
    if (cfg->reserve_size > 255 || cfg->extra_nonce_len > 255) {
        cm_error_set(err, CM_E_INVAL, "reserve_size and extra_nonce are at most 255 bytes");
        return NULL;
    }
    if (cfg->extra_nonce != NULL && cfg->reserve_size != 0) {
        cm_error_set(err, CM_E_INVAL,
                     "give either reserve_size or extra_nonce, not both "
                     "(monerod refuses both)");
        return NULL;
    }
    monerod *d = calloc(1, sizeof *d);
    if (d == NULL) {
        cm_error_set(err, CM_E_NOMEM, "out of memory");
        return NULL;
    }
    d->base.ops = &daemon_ops;
    if (cm_http_parse_url(cfg->url, d->host, sizeof d->host, &d->port) != 0) {
        cm_error_set(err, CM_E_INVAL, "monerod address '%.100s' is not http://host:port", cfg->url);
        free(d);
        return NULL;
    }
    d->loop = loop;
    d->ev = *ev;
    d->ud = ud;
    snprintf(d->where, sizeof d->where, "http://%s:%d", d->host, d->port);
    d->wallet = strdup(cfg->wallet);
    d->reserve_size = cfg->reserve_size;
    if (cfg->extra_nonce != NULL && cfg->extra_nonce_len > 0) {
        d->extra_nonce_hex = malloc(2 * cfg->extra_nonce_len + 1);
        if (d->extra_nonce_hex)
            cm_hex_encode(cfg->extra_nonce, cfg->extra_nonce_len, d->extra_nonce_hex);
    }
    if (d->wallet == NULL || (cfg->extra_nonce_len > 0 && d->extra_nonce_hex == NULL)) {
        daemon_free(d);
        cm_error_set(err, CM_E_NOMEM, "out of memory");
        return NULL;
    }
    d->poll_ms = cfg->poll_ms ? cfg->poll_ms : 1000;
    d->refresh_ms = cfg->refresh_ms ? cfg->refresh_ms : 30000;
    d->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    d->newest = -1;
    d->up = -1; /* unknown: the first answer either way is reported */
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_timer, 0, d->poll_ms);
    return &d->base;
}
