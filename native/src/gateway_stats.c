/* consentminer gateway — what the gateway is doing, for people (/stats, JSON) and for
 * Prometheus (/metrics, text format 0.0.4): connections, verified hash rate, shares by
 * outcome, upstream state, blocks found, refusals by reason.
 *
 * The verified hash rate is the difficulty of accepted shares per second: the work the
 * browsers proved, not what they claim.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consentminer/target.h"
#include "gateway_server.h"

int gw_stats_init(gw_stats *st, int64_t now_ms)
{
    memset(st, 0, sizeof *st);
    st->started_ms = now_ms;
    st->rate = cm_stats_new(now_ms);
    return st->rate ? 0 : -1;
}

void gw_stats_free(gw_stats *st)
{
    cm_stats_free(st->rate);
    st->rate = NULL;
}

static json_t *slot_json(const gw_slot *sl)
{
    json_t *o = json_pack("{s:i,s:b,s:s,s:i,s:I,s:I}", "index", sl->index, "up", sl->up, "state",
                          sl->up ? "up" : sl->reason, "browsers", sl->count, "connects",
                          (json_int_t)sl->connects, "jobs", (json_int_t)sl->jobs);
    if (o && sl->job) {
        uint64_t d = sl->job->difficulty ? sl->job->difficulty
                                         : cm_target_to_difficulty(sl->job->job.target64);
        json_object_set_new(o, "height", json_integer((json_int_t)sl->job->job.height));
        json_object_set_new(o, "job_id", json_string(sl->job->job.job_id));
        json_object_set_new(o, "difficulty", json_integer((json_int_t)d));
    }
    return o;
}

char *gw_stats_json(void *server, size_t *len)
{
    gw_server *s = server;
    gw_stats *st = &s->stats;
    int64_t now = gw_wall_ms();
    uint64_t vh = 0;
    double busy = 0, cpu = 0;
    int queued = 0;
    if (s->verify)
        gw_verify_counters(s->verify, &vh, &busy, &cpu, &queued);

    json_t *refused = json_object();
    for (int r = 0; r < GW_R_COUNT; r++)
        json_object_set_new(refused, gw_refusal_name((gw_refusal)r),
                            json_integer((json_int_t)st->refused[r]));
    json_t *shares = json_pack("{s:I,s:I}", "received", (json_int_t)st->shares_received, "pending",
                               (json_int_t)st->shares_pending);
    for (int o = 0; o < GW_O_COUNT; o++)
        json_object_set_new(shares, gw_outcome_name((gw_outcome)o),
                            json_integer((json_int_t)st->shares[o]));
    json_t *slots = json_array();
    int up = 0, open = 0;
    for (int i = 0; i < s->nslots; i++) {
        if (!s->slots[i].open)
            continue;
        open++;
        up += s->slots[i].up;
        json_array_append_new(slots, slot_json(&s->slots[i]));
    }
    json_t *root = json_pack(
        "{s:I,s:{s:I,s:I,s:I,s:I,s:I},s:o,s:o,"
        "s:{s:f,s:f,s:f,s:I},"
        "s:{s:i,s:I,s:f,s:f,s:f,s:f,s:i},"
        "s:{s:s,s:i,s:i,s:o,s:I,s:I,s:I,s:I},"
        "s:{s:I,s:I,s:I,s:I}}",
        "uptime_s", (json_int_t)((now - st->started_ms) / 1000), "connections", "open",
        (json_int_t)st->conns_open, "total", (json_int_t)st->conns_total, "websocket",
        (json_int_t)st->ws_open, "sessions", (json_int_t)st->sessions_open, "sessions_total",
        (json_int_t)st->sessions_total, "refused", refused, "shares", shares, "hashrate",
        "verified_10s", cm_stats_hashrate(st->rate, now, CM_STATS_WINDOW_SHORT_MS), "verified_60s",
        cm_stats_hashrate(st->rate, now, CM_STATS_WINDOW_MEDIUM_MS), "verified_15m",
        cm_stats_hashrate(st->rate, now, CM_STATS_WINDOW_LONG_MS), "verified_difficulty",
        (json_int_t)st->verified_diff, "verification", "threads", s->cfg.verify_threads, "hashes",
        (json_int_t)vh, "busy_s", busy, "hashes_per_busy_s", busy > 0 ? (double)vh / busy : 0.0,
        "cpu_s", cpu, "hashes_per_cpu_s", cpu > 0 ? (double)vh / cpu : 0.0, "queued", queued,
        "upstream", "mode", s->daemon_mode ? "daemon" : "pool", "open", open, "up", up,
        "connections", slots, "submitted", (json_int_t)st->up_submitted, "accepted",
        (json_int_t)st->up_accepted, "rejected", (json_int_t)st->up_rejected, "stale",
        (json_int_t)st->up_stale, "blocks", "submitted", (json_int_t)st->blocks_submitted,
        "accepted", (json_int_t)st->blocks_accepted, "rejected", (json_int_t)st->blocks_rejected,
        "stale", (json_int_t)st->blocks_stale);
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (text && len)
        *len = strlen(text);
    return text;
}

/* A growing text buffer for the Prometheus exposition. */
typedef struct tbuf {
    char *p;
    size_t len, cap;
    int oom;
} tbuf;

static void tprintf(tbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void tprintf(tbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void metric(tbuf *b, const char *name, const char *type, const char *help)
{
    tprintf(b, "# HELP consentminer_gateway_%s %s\n# TYPE consentminer_gateway_%s %s\n", name, help,
            name, type);
}

char *gw_stats_metrics(void *server, size_t *len)
{
    gw_server *s = server;
    gw_stats *st = &s->stats;
    int64_t now = gw_wall_ms();
    uint64_t vh = 0;
    double busy = 0, cpu = 0;
    int queued = 0;
    if (s->verify)
        gw_verify_counters(s->verify, &vh, &busy, &cpu, &queued);
    tbuf b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return NULL;
#define P "consentminer_gateway_"
    metric(&b, "connections", "gauge", "Open connections by kind.");
    tprintf(&b, P "connections{kind=\"tcp\"} %" PRIu64 "\n", st->conns_open);
    tprintf(&b, P "connections{kind=\"websocket\"} %" PRIu64 "\n", st->ws_open);
    tprintf(&b, P "connections{kind=\"session\"} %" PRIu64 "\n", st->sessions_open);
    metric(&b, "connections_total", "counter", "Connections accepted.");
    tprintf(&b, P "connections_total %" PRIu64 "\n", st->conns_total);
    metric(&b, "sessions_total", "counter", "Logins with a valid consent record.");
    tprintf(&b, P "sessions_total %" PRIu64 "\n", st->sessions_total);
    metric(&b, "refused_total", "counter", "Connections refused or ended, by reason.");
    for (int r = 0; r < GW_R_COUNT; r++)
        tprintf(&b, P "refused_total{reason=\"%s\"} %" PRIu64 "\n", gw_refusal_name((gw_refusal)r),
                st->refused[r]);
    metric(&b, "shares_total", "counter", "Shares submitted by browsers, by outcome.");
    for (int o = 0; o < GW_O_COUNT; o++)
        tprintf(&b, P "shares_total{outcome=\"%s\"} %" PRIu64 "\n", gw_outcome_name((gw_outcome)o),
                st->shares[o]);
    metric(&b, "shares_pending", "gauge", "Shares being verified or waiting for upstream.");
    tprintf(&b, P "shares_pending %" PRIu64 "\n", st->shares_pending);
    metric(&b, "verified_hashrate", "gauge",
           "Hashes per second proven by accepted shares (their difficulty over time).");
    tprintf(&b, P "verified_hashrate{window=\"10s\"} %.3f\n",
            cm_stats_hashrate(st->rate, now, CM_STATS_WINDOW_SHORT_MS));
    tprintf(&b, P "verified_hashrate{window=\"60s\"} %.3f\n",
            cm_stats_hashrate(st->rate, now, CM_STATS_WINDOW_MEDIUM_MS));
    tprintf(&b, P "verified_hashrate{window=\"15m\"} %.3f\n",
            cm_stats_hashrate(st->rate, now, CM_STATS_WINDOW_LONG_MS));
    metric(&b, "verifications_total", "counter", "RandomX light-mode hashes computed to verify.");
    tprintf(&b, P "verifications_total %" PRIu64 "\n", vh);
    metric(&b, "verify_busy_seconds_total", "counter", "Time the verification threads hashed.");
    tprintf(&b, P "verify_busy_seconds_total %.3f\n", busy);
    metric(&b, "verify_cpu_seconds_total", "counter", "CPU time those hashes took.");
    tprintf(&b, P "verify_cpu_seconds_total %.3f\n", cpu);
    metric(&b, "verify_queue", "gauge", "Shares waiting for a verification thread.");
    tprintf(&b, P "verify_queue %d\n", queued);
    metric(&b, "upstream_up", "gauge", "1 when the upstream connection is up, by slot.");
    for (int i = 0; i < s->nslots; i++)
        if (s->slots[i].open)
            tprintf(&b, P "upstream_up{slot=\"%d\"} %d\n", i, s->slots[i].up);
    metric(&b, "upstream_browsers", "gauge", "Browsers served by each upstream connection.");
    for (int i = 0; i < s->nslots; i++)
        if (s->slots[i].open)
            tprintf(&b, P "upstream_browsers{slot=\"%d\"} %d\n", i, s->slots[i].count);
    metric(&b, "upstream_submits_total", "counter", "Shares sent upstream, by answer.");
    tprintf(&b, P "upstream_submits_total{result=\"sent\"} %" PRIu64 "\n", st->up_submitted);
    tprintf(&b, P "upstream_submits_total{result=\"accepted\"} %" PRIu64 "\n", st->up_accepted);
    tprintf(&b, P "upstream_submits_total{result=\"rejected\"} %" PRIu64 "\n", st->up_rejected);
    tprintf(&b, P "upstream_submits_total{result=\"stale\"} %" PRIu64 "\n", st->up_stale);
    metric(&b, "blocks_total", "counter", "Blocks submitted to monerod, by answer.");
    tprintf(&b, P "blocks_total{result=\"submitted\"} %" PRIu64 "\n", st->blocks_submitted);
    tprintf(&b, P "blocks_total{result=\"accepted\"} %" PRIu64 "\n", st->blocks_accepted);
    tprintf(&b, P "blocks_total{result=\"rejected\"} %" PRIu64 "\n", st->blocks_rejected);
    tprintf(&b, P "blocks_total{result=\"stale\"} %" PRIu64 "\n", st->blocks_stale);
#undef P
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}
