/* consentminer gateway — one browser's stratum session: login with consent, its nonce
 * byte and difficulty, the jobs it is given, and what becomes of each share it submits.
 *
 * Consent rule 8 (docs/design.md): a login without a session token from the consent
 * frame, or with a forged, expired or revoked one, is answered with an error naming the
 * reason and the socket closes;
 * the browser's `login` field is never read, shares pay the gateway's --wallet.
 *
 * Every share ends in exactly one outcome (gw_outcome), counted in /stats, so that
 * received = sum of outcomes + pending holds at any moment.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentminer/consent.h"
#include "consentminer/hex.h"
#include "consentminer/target.h"
#include "gateway_consent.h"
#include "gateway_server.h"

/* With no --start-diff, a browser's first difficulty assumes this many hashes per
 * second per consented thread at full throttle (docs/design.md: 2.4-3.0 H/s measured for
 * light-mode wasm in node and Chromium). */
#define GW_WASM_HS_PER_THREAD 2.5

const char *gw_outcome_name(gw_outcome o)
{
    static const char *names[GW_O_COUNT] = {"accepted",  "invalid",      "low_difficulty",
                                            "bad_nonce", "duplicate",    "stale",
                                            "rejected",  "rate_limited", "busy"};
    return (unsigned)o < GW_O_COUNT ? names[o] : "unknown";
}

static int outcome_code(gw_outcome o)
{
    switch (o) {
    case GW_O_INVALID:
        return GW_E_INVALID_SHARE;
    case GW_O_LOW_DIFF:
        return GW_E_LOW_DIFF;
    case GW_O_BAD_NONCE:
        return GW_E_BAD_NONCE;
    case GW_O_DUPLICATE:
        return GW_E_DUPLICATE;
    case GW_O_STALE:
        return GW_E_STALE;
    case GW_O_REJECTED:
        return GW_E_REJECTED;
    case GW_O_RATE:
        return GW_E_RATE;
    case GW_O_BUSY:
        return GW_E_BUSY;
    default:
        return 0;
    }
}

static void send_json(gw_conn *c, char *text, size_t len)
{
    if (text) {
        gw_conn_send_text(c, text, len);
        free(text);
    }
}

static void reply_error(gw_conn *c, json_t *id, int code, const char *message)
{
    size_t len = 0;
    char *t = gw_msg_error_reply(id, code, message, &len);
    send_json(c, t, len);
}

static void reply_result(gw_conn *c, json_t *id, json_t *result)
{
    size_t len = 0;
    char *t = gw_msg_result_reply(id, result, &len);
    send_json(c, t, len);
}

void gw_upjob_unref(gw_upjob *j)
{
    if (j && --j->refs == 0)
        free(j);
}

static void bjob_clear(gw_bjob *b)
{
    gw_upjob_unref(b->up);
    memset(b, 0, sizeof *b);
}

void gw_session_init(gw_conn *c)
{
    memset(&c->s, 0, sizeof c->s);
    c->s.nonce_byte = -1;
}

/* The upstream difficulty a browser's difficulty must not exceed: a share that meets
 * upstream's target must also meet the browser's, or it would never be submitted. */
static uint64_t upstream_diff(const gw_upjob *u)
{
    if (u->difficulty)
        return u->difficulty;
    uint64_t d = cm_target_to_difficulty(u->job.target64);
    return d ? d : 1;
}

/* The job for this browser from its slot's current upstream job and its own
 * difficulty; NULL when the slot has no job. A new job id only when the upstream job or
 * the difficulty changed: a getjob flood then mints nothing, and the few jobs a session
 * keeps (GW_JOBS_KEPT) stay the ones it is mining on. */
static json_t *make_job(gw_conn *c)
{
    gw_server *s = c->srv;
    gw_session *ss = &c->s;
    if (!ss->slot || !ss->slot->job || !ss->slot->up)
        return NULL;
    gw_upjob *u = ss->slot->job;
    uint64_t diff = ss->vd.diff, cap = upstream_diff(u);
    if (diff > cap)
        diff = cap;
    char target[17];
    cm_target_to_hex(diff, target);
    uint64_t t64 = 0;
    if (cm_target_parse(target, &t64, NULL))
        return NULL;

    gw_bjob *b = &ss->jobs[ss->newest];
    if (b->up != u || b->diff != diff) {
        int i = (ss->newest + 1) % GW_JOBS_KEPT;
        b = &ss->jobs[i];
        bjob_clear(b);
        snprintf(b->id, sizeof b->id, "%" PRIx64, gw_acct_next_job_id(s->acct));
        b->up = u;
        u->refs++;
        b->diff = diff;
        b->target64 = t64;
        ss->newest = i;
    }

    /* NiceHash split: the browser varies the low 24 bits, its byte is the top one. */
    uint8_t blob[CM_BLOB_MAX];
    memcpy(blob, u->job.blob, u->job.blob_len);
    cm_job_write_nonce(&u->job, blob, (uint32_t)ss->nonce_byte << 24);
    char blob_hex[2 * CM_BLOB_MAX + 1], seed_hex[65];
    cm_hex_encode(blob, u->job.blob_len, blob_hex);
    cm_hex_encode(u->job.seed_hash, 32, seed_hex);
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}", "blob", blob_hex, "job_id", b->id, "target",
                     target, "algo", "rx/0", "height", (json_int_t)u->job.height, "seed_hash",
                     seed_hex);
}

static void send_job(gw_conn *c)
{
    json_t *job = make_job(c);
    if (!job)
        return;
    json_t *note = json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", "job", "params", job);
    if (!note)
        return;
    char *t = json_dumps(note, JSON_COMPACT);
    json_decref(note);
    if (t)
        send_json(c, t, strlen(t));
}

void gw_session_new_job(gw_conn *c)
{
    if (c->s.logged_in && !c->closing)
        send_job(c);
}

static void format_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void handle_login(gw_conn *c, gw_msg *m)
{
    gw_server *s = c->srv;
    gw_session *ss = &c->s;
    if (ss->logged_in) {
        reply_error(c, m->id, GW_E_LOGIN, "already logged in");
        return;
    }
    if (!m->algo_ok) {
        gw_conn_fail(c, m->id, GW_E_LOGIN, "login refused: algo list does not offer rx/0",
                     GW_R_LOGIN);
        return;
    }
    {
        char why[160];
        gw_ipstate *ipst = gw_fair_get(s->fair, c->ip_key);
        int64_t cool = gw_fair_cooling(ipst, gw_now(s));
        gw_fair_put(s->fair, ipst, gw_now(s));
        if (!ipst || cool) {
            snprintf(why, sizeof why,
                     "login refused: this address sent too many invalid shares; retry in %" PRId64
                     " s",
                     (cool + 999) / 1000);
            gw_conn_fail(c, m->id, GW_E_RATE, ipst ? why : "login refused: out of memory",
                         GW_R_COOLDOWN);
            return;
        }
    }
    /* Consent is a session token this gateway (or one sharing its key) issued to the
     * consent frame; gateway_consent.c checks it and sets the session's ceilings. */
    if (gw_consent_login(c, m))
        return;
    int64_t now = gw_wall_ms();
    snprintf(ss->agent, sizeof ss->agent, "%s", m->agent ? m->agent : "");
    ss->ipst = gw_fair_get(s->fair, c->ip_key);
    if (!ss->ipst) {
        gw_conn_fail(c, m->id, GW_E_BUSY, "login refused: out of memory", GW_R_CAPACITY);
        return;
    }
    ss->owner.group = &ss->ipst->group;
    if (gw_upstream_join(s, c)) {
        gw_conn_fail(c, m->id, GW_E_BUSY,
                     "login refused: every upstream connection is full (--max-upstreams)",
                     GW_R_CAPACITY);
        return;
    }
    uint64_t start = s->cfg.start_diff;
    if (!start) {
        double hs = GW_WASM_HS_PER_THREAD * ss->threads * ss->throttle / 100.0;
        start = (uint64_t)(hs * s->cfg.share_interval_s);
    }
    if (start < s->cfg.min_diff)
        start = s->cfg.min_diff;
    if (s->cfg.max_diff && start > s->cfg.max_diff)
        start = s->cfg.max_diff;
    gw_vardiff_init(&ss->vd, start, now);
    gw_bucket_init(&ss->bucket, s->cfg.submit_burst, gw_now(s));
    gw_bucket_init(&ss->msg_bucket, s->cfg.submit_burst, gw_now(s));
    uint8_t rnd[8];
    if (uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL))
        memcpy(rnd, &c->id, sizeof rnd);
    cm_hex_encode(rnd, sizeof rnd, ss->sid);
    ss->logged_in = 1;
    s->stats.sessions_open++;
    s->stats.sessions_total++;

    json_t *job = make_job(c);
    json_t *result = json_pack("{s:s,s:s,s:[s,s,s]}", "id", ss->sid, "status", "OK", "extensions",
                               "algo", "nicehash", "keepalive");
    if (job)
        json_object_set_new(result, "job", job);
    reply_result(c, m->id, result);
    if (!s->cfg.quiet) {
        char until[32];
        format_time(ss->consent_expires_ms, until, sizeof until);
        char who[160], agent[64];
        const char *ag = gw_log_visitor(ss->agent, agent, sizeof agent);
        json_t *f = gw_conn_fields(c);
        if (ag)
            json_object_set_new(f, "agent", json_string_nocheck(ag));
        json_object_set_new(f, "threads", json_integer(ss->threads));
        json_object_set_new(f, "throttle", json_integer(ss->throttle));
        json_object_set_new(f, "upstream", json_integer(ss->slot->index));
        json_object_set_new(f, "difficulty", json_integer((json_int_t)ss->vd.diff));
        gw_log_fields("info", f,
                      "login %s: agent \"%.40s\", %d threads at %d%%, consent until %s; upstream "
                      "%d byte %d, difficulty %" PRIu64 "%s",
                      gw_conn_who(c, who, sizeof who), ag ? ag : "(not logged)", ss->threads,
                      ss->throttle, until, ss->slot->index, ss->nonce_byte, ss->vd.diff,
                      job ? "" : "; no job yet (upstream not ready)");
    }
}

/* ---- shares ---- */

static void count_received(gw_server *s)
{
    s->stats.shares_received++;
    s->stats.shares_pending++;
}

/* An outcome reached before any share record exists. */
static void early_outcome(gw_conn *c, json_t *id, gw_outcome o, const char *reason)
{
    gw_server *s = c->srv;
    s->stats.shares[o]++;
    s->stats.shares_pending--;
    reply_error(c, id, outcome_code(o), reason);
}

/* Ends a session for its invalid shares; its shares still waiting are not worth the
 * hashing either. */
static void end_invalid(gw_conn *c, int code, const char *why)
{
    gw_server *s = c->srv;
    if (s->verify)
        gw_verify_cancel(s->verify, &c->s.owner);
    gw_conn_fail(c, NULL, code, why, GW_R_INVALID_SHARES);
}

/* The cost of an invalid share (a wrong hash, a nonce outside the byte, a claimed hash
 * above the target): after --max-invalid the session ends. After as many from one
 * address within --invalid-cooldown, every session of that address that sent one ends
 * too, and the address may not log in for as long. Its sessions without an invalid
 * share go on: visitors behind one NAT share an address. */
static void count_invalid(gw_conn *c, int code)
{
    gw_server *s = c->srv;
    gw_session *ss = &c->s;
    char why[160];
    ss->invalid++;
    int cool = ss->ipst &&
               gw_fair_invalid(ss->ipst, gw_now(s), s->cfg.max_invalid, s->cfg.invalid_cooldown_ms);
    if (cool) {
        char who[160];
        gw_log_fields("warn", gw_conn_fields(c),
                      "address of %s cooling down for %d s after %d invalid shares",
                      gw_conn_who(c, who, sizeof who), s->cfg.invalid_cooldown_ms / 1000,
                      s->cfg.max_invalid);
        snprintf(why, sizeof why,
                 "%d invalid shares from this address: disconnected, no login for %d s",
                 s->cfg.max_invalid, s->cfg.invalid_cooldown_ms / 1000);
        for (gw_conn *o = s->conns; o; o = o->next)
            if (o->s.ipst == ss->ipst && o->s.invalid > 0 && !o->closing &&
                o->phase == GW_PHASE_WS && !gw_ws_closing(o->ws))
                end_invalid(o, code, why);
        return;
    }
    if (ss->invalid >= s->cfg.max_invalid && !gw_ws_closing(c->ws)) {
        snprintf(why, sizeof why, "%d invalid shares: disconnected", ss->invalid);
        end_invalid(c, code, why);
    }
}

void gw_share_finish(gw_server *s, gw_share *sh, gw_outcome o, const char *reason)
{
    gw_conn *c = sh->c;
    s->stats.shares[o]++;
    s->stats.shares_pending--;
    c->shares_in_flight--;
    if (sh->ipst) {
        sh->ipst->inflight--;
        c->s.inflight--;
        gw_fair_put(s->fair, sh->ipst, gw_now(s));
        sh->ipst = NULL;
    }
    if (o == GW_O_ACCEPTED) {
        s->stats.verified_diff += sh->diff;
        cm_stats_add_hashes(s->stats.rate, gw_wall_ms(), sh->diff);
        c->s.accepted++;
    }
    if (!c->closing && c->phase == GW_PHASE_WS) {
        if (o == GW_O_ACCEPTED)
            reply_result(c, sh->id, json_pack("{s:s}", "status", "OK"));
        else
            reply_error(c, sh->id, outcome_code(o), reason);
        if (o == GW_O_INVALID)
            count_invalid(c, GW_E_INVALID_SHARE);
    }
    if (sh->id)
        json_decref(sh->id);
    gw_upjob_unref(sh->up);
    free(sh);
    gw_conn_unref(c);
}

static gw_bjob *find_job(gw_session *ss, const char *id)
{
    for (int i = 0; i < GW_JOBS_KEPT; i++)
        if (ss->jobs[i].up && !strcmp(ss->jobs[i].id, id))
            return &ss->jobs[i];
    return NULL;
}

static void handle_submit(gw_conn *c, gw_msg *m)
{
    gw_server *s = c->srv;
    gw_session *ss = &c->s;
    char why[192];
    if (m->session_id && strcmp(m->session_id, ss->sid)) {
        reply_error(c, m->id, GW_E_UNAUTH, "params.id is not this session's id");
        return;
    }
    count_received(s);
    /* The cheap checks first, hashing last (issue 13): the rate, the job, the room left
     * in the verification queue, then gw_acct's. */
    if (!gw_bucket_take(&ss->bucket, s->cfg.submit_rate, s->cfg.submit_burst, gw_now(s))) {
        snprintf(why, sizeof why, "more than %.3g submits per second", s->cfg.submit_rate);
        early_outcome(c, m->id, GW_O_RATE, why);
        /* Far beyond the limit (a whole burst refused in a row): a client that does not
         * listen. */
        if (++ss->rate_strikes > (int)s->cfg.submit_burst + 10)
            gw_conn_fail(c, NULL, GW_E_RATE, "submit rate far over the limit: disconnected",
                         GW_R_RATE);
        return;
    }
    ss->rate_strikes = 0;
    gw_bjob *b = find_job(ss, m->job_id);
    if (!b) {
        snprintf(why, sizeof why, "stale share: job %.64s is unknown or expired", m->job_id);
        early_outcome(c, m->id, GW_O_STALE, why);
        return;
    }
    gw_slot *sl = &s->slots[b->up->slot];
    if (!sl->up) {
        snprintf(why, sizeof why, "stale share: upstream unavailable (%.140s)", sl->reason);
        early_outcome(c, m->id, GW_O_STALE, why);
        return;
    }
    if (b->up->epoch != sl->epoch) {
        early_outcome(c, m->id, GW_O_STALE,
                      "stale share: job from before the upstream connection was re-established");
        return;
    }
    if (ss->inflight >= s->cfg.verify_per_session ||
        (ss->ipst && ss->ipst->inflight >= s->cfg.verify_per_ip)) {
        snprintf(why, sizeof why,
                 "verification busy: %d shares of this %s already wait; retry later",
                 ss->inflight >= s->cfg.verify_per_session ? ss->inflight : ss->ipst->inflight,
                 ss->inflight >= s->cfg.verify_per_session ? "session" : "address");
        early_outcome(c, m->id, GW_O_BUSY, why);
        return;
    }
    switch (
        gw_acct_submit(s->acct, b->up->work, b->target64, ss->nonce_byte, m->nonce, m->result)) {
    case GW_ACCT_VERIFY:
        break;
    case GW_ACCT_STALE:
        snprintf(why, sizeof why, "stale share: job %.64s was replaced by a new block", m->job_id);
        early_outcome(c, m->id, GW_O_STALE, why);
        return;
    case GW_ACCT_BAD_NONCE:
        snprintf(why, sizeof why, "nonce %08" PRIx32 " outside this session's top byte %02x",
                 m->nonce, (unsigned)ss->nonce_byte);
        early_outcome(c, m->id, GW_O_BAD_NONCE, why);
        count_invalid(c, GW_E_BAD_NONCE);
        return;
    case GW_ACCT_LOW_DIFF:
        ss->recorded = 1; /* its nonce is remembered too */
        early_outcome(c, m->id, GW_O_LOW_DIFF, "low difficulty share: result above the target");
        count_invalid(c, GW_E_LOW_DIFF);
        return;
    case GW_ACCT_DUPLICATE:
        early_outcome(c, m->id, GW_O_DUPLICATE,
                      "duplicate share: nonce already submitted for this work");
        return;
    case GW_ACCT_FULL:
        early_outcome(c, m->id, GW_O_BUSY, "too many shares remembered; retry later");
        return;
    }
    ss->recorded = 1;
    b->submitted++;
    gw_share *sh = calloc(1, sizeof *sh);
    if (!sh) {
        early_outcome(c, m->id, GW_O_BUSY, "out of memory");
        return;
    }
    sh->c = c;
    c->shares_in_flight++;
    sh->id = m->id ? json_incref(m->id) : NULL;
    sh->up = b->up;
    b->up->refs++;
    sh->diff = b->diff;
    sh->target64 = b->target64;
    sh->nonce = m->nonce;
    const cm_job *j = &b->up->job;
    memcpy(sh->req.blob, j->blob, j->blob_len);
    sh->req.blob_len = j->blob_len;
    cm_job_write_nonce(j, sh->req.blob, m->nonce);
    memcpy(sh->req.seed, j->seed_hash, 32);
    memcpy(sh->req.claimed, m->result, 32);
    sh->req.ud = sh;
    sh->req.owner = &ss->owner;
    if (ss->ipst) {
        sh->ipst = ss->ipst;
        sh->ipst->refs++;
        sh->ipst->inflight++;
        ss->inflight++;
    }
    c->refs++;
    if (gw_verify_submit(s->verify, &sh->req))
        gw_share_finish(s, sh, GW_O_BUSY, "verification queue full; retry later");
}

static int meets_upstream(const gw_upjob *u, const uint8_t hash[32])
{
    if (u->difficulty)
        return cm_hash_meets_difficulty(hash, u->difficulty);
    return cm_hash_meets_target(hash, u->job.target64);
}

void gw_session_verified(gw_server *s, gw_vreq *req)
{
    gw_share *sh = req->ud;
    gw_conn *c = sh->c;
    if (req->cancelled) {
        gw_share_finish(s, sh, GW_O_RATE,
                        "share dropped unverified: the session ended for invalid shares");
        return;
    }
    if (req->error) {
        char why[120];
        snprintf(why, sizeof why, "verification could not run: %s", cm_strerror(req->error));
        gw_share_finish(s, sh, GW_O_BUSY, why);
        return;
    }
    if (!req->match) {
        gw_share_finish(s, sh, GW_O_INVALID,
                        "invalid share: the RandomX hash of the blob with this nonce is not "
                        "the submitted result");
        return;
    }
    /* Verified work: it measures the browser's rate whatever upstream makes of it. */
    if (!c->closing)
        gw_vardiff_share(&c->s.vd, sh->diff);
    if (!meets_upstream(sh->up, req->hash)) {
        gw_share_finish(s, sh, GW_O_ACCEPTED, NULL);
        return;
    }
    const char *why = gw_upstream_submit(s, sh);
    if (why) {
        char msg[200];
        snprintf(msg, sizeof msg, "stale share: %.180s", why);
        gw_share_finish(s, sh, GW_O_STALE, msg);
    }
}

void gw_session_upstream_result(gw_server *s, gw_share *sh, cm_submit_outcome o, const char *reason)
{
    char why[200];
    switch (o) {
    case CM_SUBMIT_ACCEPTED:
        s->stats.up_accepted++;
        if (sh->block) {
            s->stats.blocks_accepted++;
            char who[160];
            gw_log_fields("info", gw_conn_fields(sh->c),
                          "block accepted at height %" PRIu64 " (share from %s)",
                          sh->up->job.height, gw_conn_who(sh->c, who, sizeof who));
        }
        gw_share_finish(s, sh, GW_O_ACCEPTED, NULL);
        break;
    case CM_SUBMIT_REJECTED:
        s->stats.up_rejected++;
        if (sh->block)
            s->stats.blocks_rejected++;
        snprintf(why, sizeof why, "rejected upstream: %.170s", reason ? reason : "no reason");
        gw_share_finish(s, sh, GW_O_REJECTED, why);
        break;
    default:
        s->stats.up_stale++;
        if (sh->block)
            s->stats.blocks_stale++;
        snprintf(why, sizeof why, "stale share: %.180s", reason ? reason : "upstream");
        gw_share_finish(s, sh, GW_O_STALE, why);
        break;
    }
}

/* ---- messages ---- */

void gw_session_message(gw_conn *c, const char *text, size_t len)
{
    gw_server *s = c->srv;
    gw_session *ss = &c->s;
    gw_msg m;
    gw_msg_error e;
    if (gw_msg_parse(text, len, &m, &e)) {
        if (!ss->logged_in) {
            /* Before login only a valid login is accepted: anything else ends it. */
            gw_conn_fail(c, e.id, e.code, e.message, GW_R_LOGIN);
        } else {
            if (e.reply)
                reply_error(c, e.id, e.code, e.message);
            if (++ss->strikes > s->cfg.max_strikes)
                gw_conn_fail(c, NULL, e.code, "too many malformed messages: disconnected",
                             GW_R_STRIKES);
        }
        gw_msg_clear(&m);
        gw_msg_error_clear(&e);
        return;
    }
    gw_msg_error_clear(&e);
    if (m.method == GW_M_LOGIN) {
        handle_login(c, &m);
    } else if (!ss->logged_in) {
        gw_conn_fail(c, m.id, GW_E_UNAUTH, "login first", GW_R_LOGIN);
    } else if (m.method == GW_M_SUBMIT) {
        handle_submit(c, &m);
    } else if (!gw_bucket_take(&ss->msg_bucket, s->cfg.submit_rate, s->cfg.submit_burst,
                               gw_now(s))) {
        /* getjob and keepalived cost a reply each (and getjob a job): the submit rate
         * covers them too, on a bucket of their own. */
        char why[96];
        snprintf(why, sizeof why, "more than %.3g getjob or keepalived per second",
                 s->cfg.submit_rate);
        if (m.id)
            reply_error(c, m.id, GW_E_RATE, why);
        if (++ss->msg_strikes > (int)s->cfg.submit_burst + 10)
            gw_conn_fail(c, NULL, GW_E_RATE,
                         "getjob/keepalived rate far over the limit: disconnected", GW_R_RATE);
    } else if (m.method == GW_M_KEEPALIVED) {
        ss->msg_strikes = 0;
        if (m.id)
            reply_result(c, m.id, json_pack("{s:s}", "status", "KEEPALIVED"));
    } else if (m.method == GW_M_CONSENT) {
        gw_consent_renew(c, &m);
    } else if (m.method == GW_M_GETJOB) {
        ss->msg_strikes = 0;
        if (m.id) {
            json_t *job = make_job(c);
            reply_result(c, m.id, job ? job : json_null());
        }
    }
    gw_msg_clear(&m);
}

/* 1 when the browser has submitted a share for its slot's current upstream job. */
static int submitted_on_current(const gw_session *ss)
{
    const gw_upjob *cur = ss->slot ? ss->slot->job : NULL;
    for (int i = 0; cur && i < GW_JOBS_KEPT; i++)
        if (ss->jobs[i].up == cur && ss->jobs[i].submitted)
            return 1;
    return 0;
}

void gw_session_sweep(gw_conn *c, int64_t now)
{
    gw_server *s = c->srv;
    gw_session *ss = &c->s;
    (void)now;
    int64_t wall = gw_wall_ms();
    if (wall >= ss->consent_expires_ms) {
        gw_conn_fail(c, NULL, CM_E_CONSENT_EXPIRED,
                     "consent expired: the session token was not renewed in time",
                     GW_R_CONSENT_EXPIRED);
        return;
    }
    gw_vardiff_cfg vc = {s->cfg.share_interval_s, s->cfg.min_diff, s->cfg.max_diff};
    uint64_t old = ss->vd.diff;
    uint64_t nd = gw_vardiff_retarget(&ss->vd, &vc, wall);
    /* A new job over the same upstream blob makes the browser start its nonces again
     * (the wasm runtime and xmrig both do): every share it already sent for that blob
     * would come back as a duplicate, its work done twice. So a new difficulty rides on
     * the next upstream job (pools and monerod send one at least every minute or so),
     * except when the browser has found nothing on the current one yet (an easier
     * target loses nothing), or floods at 4x the aim (the rate limit's business). */
    if (nd && ((nd < old && !submitted_on_current(ss)) || nd >= 4 * old))
        send_job(c);
}

void gw_session_end(gw_conn *c)
{
    gw_session *ss = &c->s;
    gw_consent_session_end(c);
    if (ss->logged_in) {
        c->srv->stats.sessions_open--;
        ss->logged_in = 0;
    }
    gw_upstream_leave(c->srv, c);
    for (int i = 0; i < GW_JOBS_KEPT; i++)
        bjob_clear(&ss->jobs[i]);
    /* Shares in flight hold references of their own. */
    gw_fair_put(c->srv->fair, ss->ipst, gw_now(c->srv));
    ss->ipst = NULL;
}
