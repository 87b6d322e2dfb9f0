/* consentminer gateway — consent from the consent frame only: the /consent/ endpoints,
 * the grants' open sessions and revocations, and the token checks at login and renewal
 * (map in gateway_consent.h).
 *
 * Revocation is kept in memory, per gateway, until the grant's own expiry. Other gateways
 * sharing the key learn nothing of it: they stop within one --session-ttl, because the
 * frame deletes the grant it would need to renew (docs/design.md, consent tokens).
 */
#include "gateway_consent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consentminer/consent.h"

/* Grants are looked up by their random id; 4096 chains keep them short at 20,000
 * sessions. */
#define GW_GRANT_BUCKETS 4096
/* A revoke costs one entry until its grant expires (up to 30 days); beyond this many the
 * gateway refuses to remember more rather than grow without bound (the frame still
 * forgets the grant, and its last session token still expires). */
#define GW_REVOKED_MAX 200000
/* remember_s bounds (contract): one minute .. 30 days. */
#define GW_REMEMBER_MIN_S 60
#define GW_REMEMBER_MAX_S (30 * 24 * 3600)

typedef struct gw_grant {
    struct gw_grant *next;
    char id[GW_TOKEN_ID_HEX + 1];
    int open;         /* sessions logged in with a token from this grant */
    int revoked;      /* 1: refused until `until` */
    int64_t until_ms; /* the grant's own expiry */
} gw_grant;

struct gw_consent {
    gw_keyring *ring;
    int max_threads;
    int64_t ttl_ms;
    size_t n_revoked;
    gw_grant *buckets[GW_GRANT_BUCKETS];
};

gw_consent *gw_consent_new(gw_keyring *ring, int max_threads, int session_ttl_s)
{
    gw_consent *gc = calloc(1, sizeof *gc);
    if (!gc)
        return NULL;
    gc->ring = ring;
    gc->max_threads = max_threads;
    gc->ttl_ms = (int64_t)session_ttl_s * 1000;
    return gc;
}

void gw_consent_set_ring(gw_consent *gc, gw_keyring *ring)
{
    gw_keyring_free(gc->ring);
    gc->ring = ring;
}

void gw_consent_free(gw_consent *gc)
{
    if (!gc)
        return;
    for (size_t i = 0; i < GW_GRANT_BUCKETS; i++)
        for (gw_grant *g = gc->buckets[i], *next; g; g = next) {
            next = g->next;
            free(g);
        }
    gw_keyring_free(gc->ring);
    free(gc);
}

static size_t bucket_of(const char *id)
{
    /* The id is random hex: its first three digits spread evenly. */
    size_t h = 0;
    for (int i = 0; i < 3 && id[i]; i++)
        h = h * 16 + (size_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
    return h % GW_GRANT_BUCKETS;
}

/* The entry for id, or NULL (create 0) / a new one (create 1, NULL when out of memory).
 * Entries that hold nothing any more (no session, not revoked or past expiry) are
 * dropped on the way. */
static gw_grant *grant_get(gw_consent *gc, const char *id, int create, int64_t now)
{
    gw_grant **pp = &gc->buckets[bucket_of(id)];
    gw_grant *found = NULL;
    while (*pp) {
        gw_grant *g = *pp;
        if (g->revoked && g->until_ms <= now) {
            g->revoked = 0;
            gc->n_revoked--;
        }
        if (!g->open && !g->revoked && strcmp(g->id, id)) {
            *pp = g->next;
            free(g);
            continue;
        }
        if (!strcmp(g->id, id))
            found = g;
        pp = &g->next;
    }
    if (found || !create)
        return found;
    gw_grant *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    memcpy(g->id, id, sizeof g->id);
    g->next = gc->buckets[bucket_of(id)];
    gc->buckets[bucket_of(id)] = g;
    return g;
}

static int grant_revoked(gw_consent *gc, const char *id, int64_t now)
{
    gw_grant *g = grant_get(gc, id, 0, now);
    return g && g->revoked;
}

static void format_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- HTTP endpoints ---- */

static void json_error(gw_http_resp *out, int status, const char *message)
{
    json_t *o = json_pack("{s:s}", "error", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    gw_http_json(out, status, text ? text : "{\"error\":\"out of memory\"}");
    free(text);
    snprintf(out->reason, sizeof out->reason, "%s", message);
}

static void json_ok(gw_http_resp *out, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) {
        json_error(out, 500, "could not build the answer");
        return;
    }
    gw_http_json(out, 200, text);
    free(text);
}

/* A whole number field of the request in [lo, hi]. */
static int body_int(json_t *body, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    json_t *v = json_object_get(body, name);
    if (!json_is_integer(v))
        return -1;
    json_int_t i = json_integer_value(v);
    if (i < lo || i > hi)
        return -1;
    *out = (int64_t)i;
    return 0;
}

/* A session token from grant g, valid --session-ttl but never past the grant. */
static char *make_session(gw_consent *gc, const gw_token *g, int64_t now, gw_token *s)
{
    memset(s, 0, sizeof *s);
    s->kind = GW_TOKEN_SESSION;
    memcpy(s->site, g->site, sizeof s->site);
    s->granted_at = now;
    s->expires_at = now + gc->ttl_ms < g->expires_at ? now + gc->ttl_ms : g->expires_at;
    s->threads = g->threads;
    s->throttle = g->throttle;
    memcpy(s->grant, g->id, sizeof s->grant);
    return gw_token_sign(gc->ring, s);
}

static void post_grant(gw_consent *gc, json_t *body, int64_t now, gw_http_resp *out)
{
    char why[160];
    json_t *site = json_object_get(body, "site");
    if (!json_is_string(site) || json_string_length(site) < 1 ||
        json_string_length(site) > GW_TOKEN_SITE_MAX ||
        strlen(json_string_value(site)) != json_string_length(site)) {
        json_error(out, 400, "site is not a string of 1..100 characters");
        return;
    }
    int64_t threads, throttle, remember;
    if (body_int(body, "threads", 1, gc->max_threads, &threads)) {
        snprintf(why, sizeof why,
                 "threads is not a whole number 1..%d (this gateway's --max-threads)",
                 gc->max_threads);
        json_error(out, 400, why);
        return;
    }
    if (body_int(body, "throttle", 1, 100, &throttle)) {
        json_error(out, 400, "throttle is not a whole number of percent 1..100");
        return;
    }
    if (body_int(body, "remember_s", GW_REMEMBER_MIN_S, GW_REMEMBER_MAX_S, &remember)) {
        json_error(out, 400, "remember_s is not a whole number of seconds 60..2592000 (30 days)");
        return;
    }
    gw_token g = {.kind = GW_TOKEN_GRANT,
                  .granted_at = now,
                  .expires_at = now + remember * 1000,
                  .threads = (int)threads,
                  .throttle = (int)throttle};
    memcpy(g.site, json_string_value(site), json_string_length(site) + 1);
    gw_token s;
    char *grant = gw_token_sign(gc->ring, &g);
    char *session = grant ? make_session(gc, &g, now, &s) : NULL;
    if (!session) {
        free(grant);
        json_error(out, 500, "could not sign the consent tokens");
        return;
    }
    json_ok(out,
            json_pack("{s:s,s:s,s:I,s:I}", "grant", grant, "session", session, "expires_at",
                      (json_int_t)g.expires_at, "session_expires_at", (json_int_t)s.expires_at));
    free(grant);
    free(session);
}

/* The request's grant token, checked: 0, or -1 with the 401 answered. Expired grants
 * come back as 1 when allow_expired (revoking one is a no-op, not an error). */
static int body_grant(gw_consent *gc, json_t *body, int64_t now, int allow_expired, gw_token *g,
                      gw_http_resp *out)
{
    json_t *t = json_object_get(body, "grant");
    if (!json_is_string(t)) {
        json_error(out, 400, "grant is not a token string");
        return -1;
    }
    char why[200], msg[240];
    gw_token_err e = gw_token_verify(gc->ring, json_string_value(t), now, g, why, sizeof why);
    if (e == GW_TOKEN_EXPIRED && allow_expired)
        return 1;
    if (e) {
        snprintf(msg, sizeof msg, "grant refused: %s", why);
        json_error(out, 401, msg);
        return -1;
    }
    if (g->kind != GW_TOKEN_GRANT) {
        json_error(out, 401, "grant refused: a session token is not a grant token");
        return -1;
    }
    return 0;
}

static void post_session(gw_consent *gc, json_t *body, int64_t now, gw_http_resp *out)
{
    gw_token g, s;
    if (body_grant(gc, body, now, 0, &g, out))
        return;
    if (grant_revoked(gc, g.id, now)) {
        json_error(out, 401, "grant refused: it was revoked");
        return;
    }
    char *session = make_session(gc, &g, now, &s);
    if (!session) {
        json_error(out, 500, "could not sign the session token");
        return;
    }
    json_ok(out,
            json_pack("{s:s,s:I}", "session", session, "expires_at", (json_int_t)s.expires_at));
    free(session);
}

static void post_revoke(gw_server *srv, gw_consent *gc, json_t *body, int64_t now,
                        gw_http_resp *out)
{
    gw_token g;
    int rc = body_grant(gc, body, now, 1, &g, out);
    if (rc < 0)
        return;
    if (rc == 0) {
        gw_grant *e = grant_get(gc, g.id, 1, now);
        if (!e) {
            json_error(out, 500, "out of memory");
            return;
        }
        if (!e->revoked) {
            if (gc->n_revoked >= GW_REVOKED_MAX) {
                json_error(out, 503,
                           "this gateway holds too many revoked grants; the frame "
                           "must forget the grant itself");
                return;
            }
            e->revoked = 1;
            e->until_ms = g.expires_at;
            gc->n_revoked++;
        }
        /* Its sessions end now, each with the reason. */
        for (gw_conn *c = srv->conns, *next; c; c = next) {
            next = c->next;
            if (c->closing || c->phase != GW_PHASE_WS || strcmp(c->s.grant_id, g.id))
                continue;
            c->s.consent_expires_ms = 0;
            gw_conn_fail(c, NULL, CM_E_CONSENT_REVOKED,
                         "consent revoked: the visitor withdrew the yes", GW_R_CONSENT_REVOKED);
        }
        /* A grant's id stands for one visitor's yes: --log-visitors applies to it. */
        char gid[40];
        const char *shown = gw_log_visitor(g.id, gid, sizeof gid);
        if (shown && gw_log_visitor_mode() == GW_VISITORS_FULL)
            snprintf(gid, sizeof gid, "%.8s...", g.id);
        gw_log("consent grant %s revoked (site \"%.40s\")", shown ? gid : "(id not logged)",
               g.site);
    }
    json_ok(out, json_pack("{s:b}", "revoked", 1));
}

/* 1 when the URL's path (without query) is exactly p. */
static int path_is(const char *url, const char *p)
{
    size_t pl = strlen(p);
    return !strncmp(url, p, pl) && (url[pl] == 0 || url[pl] == '?');
}

void gw_consent_http(void *server, const gw_http_req *r, gw_http_resp *out)
{
    gw_server *s = server;
    gw_consent *gc = s->consent;
    const char *url = gw_http_req_url(r);
    gw_http_resp_init(out);
    if (!gw_frame_origin_ok(&s->http_env, r)) {
        char why[GW_HTTP_FIELD_MAX * 2 + 80], want[GW_HTTP_FIELD_MAX + 16] = "";
        const char *origin = gw_http_req_origin(r);
        gw_frame_origin(&s->http_env, r, want, sizeof want);
        snprintf(why, sizeof why, "Origin %.100s is not the consent frame's origin %.100s",
                 origin ? origin : "(none)", want[0] ? want : "(no Host)");
        json_error(out, 403, why);
        return;
    }
    int kind = path_is(url, "/consent/grant")     ? 1
               : path_is(url, "/consent/session") ? 2
               : path_is(url, "/consent/revoke")  ? 3
                                                  : 0;
    if (!kind) {
        json_error(out, 404,
                   "no such endpoint; expected /consent/grant, /consent/session or "
                   "/consent/revoke");
        return;
    }
    size_t len = 0;
    const char *text = gw_http_req_body(r, &len);
    json_error_t je;
    json_t *body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(body)) {
        json_decref(body);
        json_error(out, 400, "request body is not a JSON object");
        return;
    }
    int64_t now = gw_wall_ms();
    if (kind == 1)
        post_grant(gc, body, now, out);
    else if (kind == 2)
        post_session(gc, body, now, out);
    else
        post_revoke(s, gc, body, now, out);
    json_decref(body);
}

/* ---- login and renewal ---- */

/* The session token of a login or renewal: 0 with *t filled, or -1 with the error code,
 * refusal and message to fail the connection with. */
static int check_session_token(gw_consent *gc, const gw_msg *m, const char *what, int64_t now,
                               gw_token *t, int *code, gw_refusal *refusal, char *msg, size_t cap)
{
    char why[200];
    *code = CM_E_CONSENT_INVALID;
    *refusal = GW_R_CONSENT_INVALID;
    if (m->consent_form == GW_CONSENT_ABSENT) {
        *code = CM_E_NO_CONSENT;
        *refusal = GW_R_NO_CONSENT;
        snprintf(msg, cap,
                 "%s: no consent (params.consent must be a session token from the consent "
                 "frame)",
                 what);
        return -1;
    }
    if (m->consent_form != GW_CONSENT_TOKEN) {
        snprintf(msg, cap, "%s: consent must be a token issued by this gateway", what);
        return -1;
    }
    switch (gw_token_verify(gc->ring, m->consent_token, now, t, why, sizeof why)) {
    case GW_TOKEN_OK:
        break;
    case GW_TOKEN_MALFORMED:
        snprintf(msg, cap, "%s: consent must be a token issued by this gateway (%.120s)", what,
                 why);
        return -1;
    case GW_TOKEN_UNKNOWN_KID:
        snprintf(msg, cap,
                 "%s: consent token is under key \"%s\", which this gateway does not have", what,
                 t->kid);
        return -1;
    case GW_TOKEN_BAD_SIG:
        snprintf(msg, cap, "%s: consent token signature does not match (forged or altered)", what);
        return -1;
    case GW_TOKEN_INVALID:
        snprintf(msg, cap, "%s: consent token out of range: %.120s", what, why);
        return -1;
    case GW_TOKEN_EXPIRED: {
        char when[32];
        format_time(t->expires_at, when, sizeof when);
        *code = CM_E_CONSENT_EXPIRED;
        *refusal = GW_R_CONSENT_EXPIRED;
        snprintf(msg, cap, "%s: consent token expired at %s (%" PRId64 " s ago)", what, when,
                 (now - t->expires_at) / 1000);
        return -1;
    }
    }
    if (t->kind != GW_TOKEN_SESSION) {
        snprintf(msg, cap,
                 "%s: consent token is a grant, not a session token (POST /consent/session "
                 "makes one)",
                 what);
        return -1;
    }
    if (grant_revoked(gc, t->grant, now)) {
        *code = CM_E_CONSENT_REVOKED;
        *refusal = GW_R_CONSENT_REVOKED;
        snprintf(msg, cap, "%s: consent revoked (its grant was withdrawn)", what);
        return -1;
    }
    return 0;
}

int gw_consent_login(gw_conn *c, gw_msg *m)
{
    gw_consent *gc = c->srv->consent;
    gw_session *ss = &c->s;
    int64_t now = gw_wall_ms();
    gw_token t;
    int code;
    gw_refusal refusal;
    char msg[256];
    if (check_session_token(gc, m, "login refused", now, &t, &code, &refusal, msg, sizeof msg)) {
        gw_conn_fail(c, m->id, code, msg, refusal);
        return -1;
    }
    if (m->want_threads > t.threads || m->want_throttle > t.throttle) {
        int over_threads = m->want_threads > t.threads;
        snprintf(msg, sizeof msg,
                 "login refused: params.%s %d is above the consent's ceiling of %d",
                 over_threads ? "threads" : "throttle",
                 over_threads ? m->want_threads : m->want_throttle,
                 over_threads ? t.threads : t.throttle);
        gw_conn_fail(c, m->id, GW_E_PARAMS, msg, GW_R_LOGIN);
        return -1;
    }
    gw_grant *g = grant_get(gc, t.grant, 1, now);
    if (!g) {
        gw_conn_fail(c, m->id, GW_E_BUSY, "login refused: out of memory", GW_R_CAPACITY);
        return -1;
    }
    /* One session per consented thread: a token copied into more tabs or scripts than
     * the visitor allowed threads gets no more CPU than the visitor allowed. */
    if (g->open >= t.threads) {
        snprintf(msg, sizeof msg,
                 "login refused: this consent already has %d session%s open, its ceiling of %d "
                 "thread%s",
                 g->open, g->open == 1 ? "" : "s", t.threads, t.threads == 1 ? "" : "s");
        gw_conn_fail(c, m->id, GW_E_LOGIN, msg, GW_R_CONSENT_REPLAY);
        return -1;
    }
    g->open++;
    memcpy(ss->grant_id, t.grant, sizeof ss->grant_id);
    ss->consent_expires_ms = t.expires_at;
    ss->threads = m->want_threads ? m->want_threads : t.threads;
    ss->throttle = m->want_throttle ? m->want_throttle : t.throttle;
    return 0;
}

void gw_consent_renew(gw_conn *c, gw_msg *m)
{
    gw_consent *gc = c->srv->consent;
    gw_session *ss = &c->s;
    int64_t now = gw_wall_ms();
    gw_token t;
    int code;
    gw_refusal refusal;
    char msg[256];
    if (m->session_id && strcmp(m->session_id, ss->sid)) {
        size_t len = 0;
        char *reply =
            gw_msg_error_reply(m->id, GW_E_UNAUTH, "params.id is not this session's id", &len);
        if (reply)
            gw_conn_send_text(c, reply, len);
        free(reply);
        return;
    }
    if (check_session_token(gc, m, "consent renewal refused", now, &t, &code, &refusal, msg,
                            sizeof msg)) {
        gw_conn_fail(c, m->id, code, msg, refusal);
        return;
    }
    if (strcmp(t.grant, ss->grant_id)) {
        gw_conn_fail(c, m->id, CM_E_CONSENT_INVALID,
                     "consent renewal refused: the token is from another grant than the login's",
                     GW_R_CONSENT_INVALID);
        return;
    }
    ss->consent_expires_ms = t.expires_at;
    if (m->id) {
        size_t len = 0;
        char *reply = gw_msg_result_reply(
            m->id, json_pack("{s:s,s:I}", "status", "OK", "expires_at", (json_int_t)t.expires_at),
            &len);
        if (reply)
            gw_conn_send_text(c, reply, len);
        free(reply);
    }
}

void gw_consent_session_end(gw_conn *c)
{
    gw_consent *gc = c->srv->consent;
    gw_session *ss = &c->s;
    if (!gc || !ss->grant_id[0])
        return;
    gw_grant *g = grant_get(gc, ss->grant_id, 0, gw_wall_ms());
    if (g && g->open > 0)
        g->open--;
    ss->grant_id[0] = 0;
}
