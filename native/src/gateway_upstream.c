/* consentminer gateway — the upstream side: connections to the pool or monerod, and
 * which browsers each one serves.
 *
 * NiceHash split (docs/design.md, Protocols): a job's nonce has 4 bytes; the gateway fixes the
 * top one per browser, so one upstream job serves at most 256 browsers without two of
 * them hashing the same nonces. The 257th browser needs different work, so the gateway
 * opens another upstream connection ("slot"): to a pool that is another login (the pool
 * gives each connection its own blob), to monerod another client with its own
 * extra_nonce in the coinbase (so its template, and its hashing blob, differ).
 * Slot 0 is opened at start so that the first browser finds a job waiting; slots past it
 * are opened on demand and closed after a minute without browsers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consentminer/hex.h"
#include "consentminer/target.h"
#include "daemon_client.h"
#include "gateway_server.h"
#include "safe_text.h"
#include "stratum_client.h"

#define GW_SLOT_IDLE_CLOSE_MS 60000

/* Distinguishes this gateway's coinbases from another gateway's on the same monerod. */
static uint8_t instance_tag[4];

static void on_job(void *ud, const cm_job *job, uint64_t difficulty)
{
    gw_slot *sl = ud;
    gw_server *s = sl->srv;
    if (job->nicehash) {
        /* The pool fixed the top byte itself: there is no byte left to give browsers. */
        gw_log("upstream %d: the pool sent a NiceHash job (top nonce byte fixed); the "
               "gateway cannot split it between browsers, job ignored",
               sl->index);
        return;
    }
    gw_upjob *u = calloc(1, sizeof *u);
    if (!u)
        return;
    u->refs = 1;
    u->job = *job;
    u->difficulty = difficulty;
    u->slot = sl->index;
    /* A new block retires the slot's earlier works: shares for them are stale. */
    u->work = gw_acct_work_new(s->acct, sl->index, job);
    if (!u->work)
        gw_log("upstream %d: job %s repeats work whose block was replaced; its shares will be "
               "answered stale",
               sl->index, job->job_id);
    if (!sl->up) {
        /* A job means the upstream works, whatever order the events came in. */
        sl->up = 1;
        sl->epoch++;
    }
    u->epoch = sl->epoch;
    int new_seed = !sl->job || memcmp(sl->job->job.seed_hash, job->seed_hash, 32);
    gw_upjob_unref(sl->job);
    sl->job = u;
    sl->jobs++;
    if (new_seed)
        gw_verify_prepare(s->verify, job->seed_hash);
    if (!s->cfg.quiet)
        gw_log("upstream %d: job %s height %" PRIu64 " difficulty %" PRIu64 " for %d browsers",
               sl->index, job->job_id, job->height,
               difficulty ? difficulty : cm_target_to_difficulty(job->target64), sl->count);
    for (gw_conn *c = sl->members; c; c = c->s.slot_next)
        gw_session_new_job(c);
}

static void on_state(void *ud, int up, const char *where, const char *reason)
{
    gw_slot *sl = ud;
    if (up) {
        if (!sl->up) {
            sl->up = 1;
            sl->epoch++;
        }
        sl->connects++;
        sl->reason[0] = 0;
        gw_log("upstream %d: connected to %s", sl->index, where ? where : "?");
        return;
    }
    /* The pool's words, cut to fit between UTF-8 characters: /stats serialises them
     * (jansson refuses broken UTF-8, and the upstream vanished from the list). */
    char full[512];
    snprintf(full, sizeof full, "%s%s%s", where ? where : "", where ? ": " : "",
             reason ? reason : "connection lost");
    txt_utf8_cut(sl->reason, sizeof sl->reason, full);
    if (sl->up || sl->job)
        gw_log_fields("warn", json_pack("{s:i}", "upstream", sl->index),
                      "upstream %d: down (%s); %d browsers stay connected and wait for work",
                      sl->index, sl->reason, sl->count);
    sl->up = 0;
    /* The job is dead with its connection: shares for it are answered stale, and the
     * next job after reconnecting replaces it. */
    gw_upjob_unref(sl->job);
    sl->job = NULL;
}

static void on_result(void *ud, void *ctx, cm_submit_outcome outcome, const char *reason)
{
    gw_slot *sl = ud;
    gw_session_upstream_result(sl->srv, ctx, outcome, reason);
}

static void on_log(void *ud, const char *message)
{
    gw_slot *sl = ud;
    gw_log("upstream %d: %s", sl->index, message);
}

static const cm_upstream_events events = {on_job, on_state, on_result, on_log};

static int slot_open(gw_server *s, gw_slot *sl)
{
    cm_error err;
    cm_error_clear(&err);
    sl->srv = s;
    sl->up = 0;
    sl->job = NULL;
    snprintf(sl->reason, sizeof sl->reason, "connecting");
    if (s->daemon_mode) {
        uint8_t extra[8];
        memcpy(extra, instance_tag, 4);
        extra[4] = (uint8_t)sl->index;
        extra[5] = (uint8_t)(sl->index >> 8);
        extra[6] = 'g';
        extra[7] = 'w';
        cm_daemon_config dc = {0};
        dc.url = s->cfg.daemon;
        dc.wallet = s->cfg.wallet;
        dc.extra_nonce = extra;
        dc.extra_nonce_len = sizeof extra;
        sl->u = cm_upstream_daemon_new(s->loop, &dc, &events, sl, &err);
    } else {
        const char *first[1] = {s->cfg.pool};
        cm_pool_config pc = {0};
        /* Failover and failback are the stratum client's, as for `mine -o A -o B`. */
        pc.urls = s->cfg.n_pools ? s->cfg.pools : first;
        pc.url_count = s->cfg.n_pools ? s->cfg.n_pools : 1;
        pc.primary_retry_ms = (uint32_t)s->cfg.pool_failback_s * 1000;
        pc.user = s->cfg.wallet;
        pc.pass = s->cfg.pool_pass;
        pc.agent = "consentminer-gateway/" CM_VERSION;
        pc.tls = s->cfg.pool_tls;
        pc.tls_fingerprint = s->cfg.pool_fingerprint;
        sl->u = cm_upstream_pool_new(s->loop, &pc, &events, sl, &err);
    }
    if (!sl->u) {
        gw_log("upstream %d: cannot start: %s", sl->index, err.message);
        snprintf(sl->reason, sizeof sl->reason, "cannot start: %.140s", err.message);
        return -1;
    }
    sl->open = 1;
    sl->count = 0;
    memset(sl->used, 0, sizeof sl->used);
    sl->members = NULL;
    sl->empty_since_ms = gw_now(s);
    return 0;
}

static void slot_close(gw_slot *sl)
{
    if (!sl->open)
        return;
    sl->open = 0;
    cm_upstream *u = sl->u;
    sl->u = NULL;
    cm_upstream_close(u); /* answers pending submits STALE through on_result first */
    sl->up = 0;
    gw_upjob_unref(sl->job);
    sl->job = NULL;
    gw_acct_slot_closed(sl->srv->acct, sl->index);
    snprintf(sl->reason, sizeof sl->reason, "closed");
}

int gw_upstream_start(gw_server *s)
{
    if (uv_random(NULL, NULL, instance_tag, sizeof instance_tag, 0, NULL))
        memset(instance_tag, 0x5a, sizeof instance_tag);
    int n = s->cfg.max_upstreams > 0 ? s->cfg.max_upstreams : 1;
    s->slots = calloc((size_t)n, sizeof *s->slots);
    if (!s->slots)
        return -1;
    s->nslots = n;
    s->acct = gw_acct_new(n, 0);
    if (!s->acct)
        return -1;
    for (int i = 0; i < n; i++) {
        s->slots[i].index = i;
        s->slots[i].srv = s;
        snprintf(s->slots[i].reason, sizeof s->slots[i].reason, "not opened");
    }
    return slot_open(s, &s->slots[0]);
}

void gw_upstream_stop(gw_server *s)
{
    for (int i = 0; i < s->nslots; i++)
        slot_close(&s->slots[i]);
}

/* A free byte that no departed session left shares under on a work still live: a new
 * browser starts its nonces again and would redo (and could resubmit) them. */
static int free_byte(const gw_slot *sl, int start)
{
    for (int k = 0; k < 256; k++) {
        int b = (start + k) & 255;
        if (!(sl->used[b >> 3] & (1u << (b & 7))) &&
            gw_acct_byte_clean(sl->srv->acct, sl->index, b))
            return b;
    }
    return -1;
}

int gw_upstream_join(gw_server *s, gw_conn *c)
{
    int per = s->cfg.per_upstream > 0 && s->cfg.per_upstream <= 256 ? s->cfg.per_upstream : 256;
    gw_slot *pick = NULL;
    /* Fill open slots first (fewest upstream connections), preferring one with work. */
    for (int i = 0; i < s->nslots; i++) {
        gw_slot *sl = &s->slots[i];
        if (!sl->open || sl->count >= per || free_byte(sl, 0) < 0)
            continue;
        if (!pick || (sl->job && !pick->job))
            pick = sl;
    }
    if (!pick) {
        for (int i = 0; i < s->nslots; i++) {
            if (!s->slots[i].open) {
                if (slot_open(s, &s->slots[i]))
                    return -1;
                gw_log("upstream %d: opened for browsers beyond %d per upstream connection", i,
                       per);
                pick = &s->slots[i];
                break;
            }
        }
    }
    if (!pick)
        return -1;
    /* Next-fit from a moving start: a byte just freed is the last to be handed out again,
     * so a new browser does not redo (and resubmit) the nonces its predecessor covered. */
    int b = free_byte(pick, (int)(pick->jobs * 7 + (uint64_t)pick->count * 131 + c->id) & 255);
    if (b < 0)
        return -1;
    pick->used[b >> 3] |= (uint8_t)(1u << (b & 7));
    pick->count++;
    c->s.slot = pick;
    c->s.nonce_byte = b;
    c->s.slot_prev = NULL;
    c->s.slot_next = pick->members;
    if (pick->members)
        pick->members->s.slot_prev = c;
    pick->members = c;
    return 0;
}

void gw_upstream_leave(gw_server *s, gw_conn *c)
{
    gw_slot *sl = c->s.slot;
    if (!sl)
        return;
    if (c->s.slot_prev)
        c->s.slot_prev->s.slot_next = c->s.slot_next;
    else
        sl->members = c->s.slot_next;
    if (c->s.slot_next)
        c->s.slot_next->s.slot_prev = c->s.slot_prev;
    int b = c->s.nonce_byte;
    if (b >= 0) {
        sl->used[b >> 3] &= (uint8_t) ~(1u << (b & 7));
        if (c->s.recorded)
            gw_acct_byte_left(s->acct, sl->index, b);
    }
    if (--sl->count == 0)
        sl->empty_since_ms = gw_now(s);
    c->s.slot = NULL;
    c->s.nonce_byte = -1;
    c->s.slot_prev = c->s.slot_next = NULL;
}

void gw_upstream_sweep(gw_server *s, int64_t now)
{
    for (int i = 1; i < s->nslots; i++) {
        gw_slot *sl = &s->slots[i];
        if (sl->open && sl->count == 0 && now - sl->empty_since_ms > GW_SLOT_IDLE_CLOSE_MS) {
            gw_log("upstream %d: closed, no browsers for a minute", i);
            slot_close(sl);
        }
    }
}

const char *gw_upstream_submit(gw_server *s, gw_share *sh)
{
    gw_slot *sl = &s->slots[sh->up->slot];
    if (!sl->open || !sl->u)
        return "upstream connection closed";
    if (!sl->up)
        return sl->reason[0] ? sl->reason : "upstream unavailable";
    if (sh->up->epoch != sl->epoch)
        return "job from before the upstream connection was re-established";
    int rc = cm_upstream_submit(sl->u, sh->up->job.job_id, sh->nonce, sh->req.hash, sh);
    if (rc)
        return cm_strerror(rc);
    s->stats.up_submitted++;
    if (s->daemon_mode) {
        sh->block = 1;
        s->stats.blocks_submitted++;
        char who[160];
        gw_log_fields("info", gw_conn_fields(sh->c),
                      "block candidate at height %" PRIu64 " from %s submitted to monerod",
                      sh->up->job.height, gw_conn_who(sh->c, who, sizeof who));
    }
    return NULL;
}
