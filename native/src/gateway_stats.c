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
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

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
    tprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Upper bounds of the verification histogram, in seconds: a light-mode hash takes ~30 ms
 * on one core (docs/design.md), more on a loaded or sanitised build. */
static const double verify_bounds[] = {0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1,
                                       0.15,  0.25, 0.5,  1,    2.5,  5};
#define N_BOUNDS (sizeof verify_bounds / sizeof verify_bounds[0])

void gw_stats_verify_seconds(gw_stats *st, double seconds)
{
    size_t i = 0;
    while (i < N_BOUNDS && seconds > verify_bounds[i])
        i++;
    st->verify_buckets[i]++; /* the last one is +Inf only */
    st->verify_count++;
    st->verify_sum_s += seconds;
}

/* The process's own figures from /proc (what Prometheus's client libraries call the
 * process collector); a figure that cannot be read is left out rather than made up. */
static void process_metrics(tbuf *b)
{
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    /* Fields after the command name, which is in parentheses and may hold spaces. */
    char *p = strrchr(buf, ')');
    unsigned long long fld[24] = {0};
    int got = 0;
    if (p) {
        p += 2;
        for (; got < 24 && *p; got++) {
            while (*p == ' ')
                p++;
            if (got == 0) /* state: a letter */
                p++;
            else
                fld[got] = strtoull(p, &p, 10);
        }
    }
    /* fld[k] is the stat field k + 3 (proc(5)): utime 14, stime 15, starttime 22,
     * vsize 23, rss 24. */
    if (got >= 22 && tick > 0) {
        metric(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
        tprintf(b, "process_cpu_seconds_total %.2f\n", (double)(fld[11] + fld[12]) / (double)tick);
        metric(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size.");
        tprintf(b, "process_virtual_memory_bytes %llu\n", fld[20]);
        metric(b, "process_resident_memory_bytes", "gauge", "Resident memory size.");
        tprintf(b, "process_resident_memory_bytes %llu\n", fld[21] * (unsigned long long)page);
        unsigned long long btime = 0;
        FILE *st = fopen("/proc/stat", "r");
        char line[256];
        while (st && fgets(line, sizeof line, st))
            if (sscanf(line, "btime %llu", &btime) == 1)
                break;
        if (st)
            fclose(st);
        if (btime) {
            metric(b, "process_start_time_seconds", "gauge",
                   "Start time of the process since the Unix epoch.");
            tprintf(b, "process_start_time_seconds %.2f\n",
                    (double)btime + (double)fld[19] / (double)tick);
        }
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long open = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
                open++;
        closedir(d);
        metric(b, "process_open_fds", "gauge", "Open file descriptors.");
        tprintf(b, "process_open_fds %ld\n", open);
    }
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY) {
        metric(b, "process_max_fds", "gauge", "Limit on open file descriptors.");
        tprintf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
}

/* Prometheus conventions: what only grows is a counter (rate() picks the window), and
 * the values of one metric's labels partition it, so that sum() means something: open
 * connections, WebSockets and sessions are separate gauges, as are what was sent
 * upstream and what came back. */
char *gw_stats_metrics(void *server, size_t *len)
{
    gw_server *s = server;
    gw_stats *st = &s->stats;
    uint64_t vh = 0;
    double busy = 0, cpu = 0;
    int queued = 0;
    if (s->verify)
        gw_verify_counters(s->verify, &vh, &busy, &cpu, &queued);
    tbuf b = {malloc(8192), 0, 8192, 0};
    if (!b.p)
        return NULL;
#define P "consentminer_gateway_"
    metric(&b, "consentminer_build_info", "gauge", "The running version (always 1).");
    tprintf(&b, "consentminer_build_info{version=\"%s\"} 1\n", CM_VERSION);
    metric(&b, P "connections_open", "gauge",
           "Open TCP connections on the public listener (requests and WebSockets).");
    tprintf(&b, P "connections_open %" PRIu64 "\n", st->conns_open);
    metric(&b, P "websockets_open", "gauge", "Open WebSocket connections (logged in or not).");
    tprintf(&b, P "websockets_open %" PRIu64 "\n", st->ws_open);
    metric(&b, P "sessions_open", "gauge", "Logged-in browsers.");
    tprintf(&b, P "sessions_open %" PRIu64 "\n", st->sessions_open);
    metric(&b, P "connections_total", "counter", "Connections accepted.");
    tprintf(&b, P "connections_total %" PRIu64 "\n", st->conns_total);
    metric(&b, P "sessions_total", "counter", "Logins with a valid consent.");
    tprintf(&b, P "sessions_total %" PRIu64 "\n", st->sessions_total);
    metric(&b, P "refused_total", "counter", "Connections refused or ended, by reason.");
    for (int r = 0; r < GW_R_COUNT; r++)
        tprintf(&b, P "refused_total{reason=\"%s\"} %" PRIu64 "\n", gw_refusal_name((gw_refusal)r),
                st->refused[r]);
    metric(&b, P "shares_total", "counter",
           "Shares submitted by browsers and answered, by outcome (one each).");
    for (int o = 0; o < GW_O_COUNT; o++)
        tprintf(&b, P "shares_total{outcome=\"%s\"} %" PRIu64 "\n", gw_outcome_name((gw_outcome)o),
                st->shares[o]);
    metric(&b, P "shares_pending", "gauge", "Shares being verified or waiting for upstream.");
    tprintf(&b, P "shares_pending %" PRIu64 "\n", st->shares_pending);
    metric(&b, P "verified_hashes_total", "counter",
           "Hashes proven by accepted shares (the sum of their difficulties); rate() of it is "
           "the verified hash rate.");
    tprintf(&b, P "verified_hashes_total %" PRIu64 "\n", st->verified_diff);
    metric(&b, P "verifications_total", "counter", "RandomX light-mode hashes computed to verify.");
    tprintf(&b, P "verifications_total %" PRIu64 "\n", vh);
    metric(&b, P "verify_busy_seconds_total", "counter", "Time the verification threads hashed.");
    tprintf(&b, P "verify_busy_seconds_total %.3f\n", busy);
    metric(&b, P "verify_cpu_seconds_total", "counter", "CPU time those hashes took.");
    tprintf(&b, P "verify_cpu_seconds_total %.3f\n", cpu);
    metric(&b, P "verify_queue", "gauge", "Shares waiting for a verification thread.");
    tprintf(&b, P "verify_queue %d\n", queued);
    metric(&b, P "verify_seconds", "histogram", "Time the RandomX hash of one share took.");
    uint64_t cum = 0;
    for (size_t i = 0; i < N_BOUNDS; i++) {
        cum += st->verify_buckets[i];
        tprintf(&b, P "verify_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", verify_bounds[i], cum);
    }
    tprintf(&b, P "verify_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", st->verify_count);
    tprintf(&b, P "verify_seconds_sum %.6f\n", st->verify_sum_s);
    tprintf(&b, P "verify_seconds_count %" PRIu64 "\n", st->verify_count);
    metric(&b, P "upstream_up", "gauge", "1 when the upstream connection is up, by slot.");
    for (int i = 0; i < s->nslots; i++)
        if (s->slots[i].open)
            tprintf(&b, P "upstream_up{slot=\"%d\"} %d\n", i, s->slots[i].up);
    metric(&b, P "upstream_browsers", "gauge", "Browsers served by each upstream connection.");
    for (int i = 0; i < s->nslots; i++)
        if (s->slots[i].open)
            tprintf(&b, P "upstream_browsers{slot=\"%d\"} %d\n", i, s->slots[i].count);
    metric(&b, P "upstream_submits_total", "counter", "Verified shares sent upstream.");
    tprintf(&b, P "upstream_submits_total %" PRIu64 "\n", st->up_submitted);
    metric(&b, P "upstream_answers_total", "counter",
           "Upstream's answers to those shares, by result.");
    tprintf(&b, P "upstream_answers_total{result=\"accepted\"} %" PRIu64 "\n", st->up_accepted);
    tprintf(&b, P "upstream_answers_total{result=\"rejected\"} %" PRIu64 "\n", st->up_rejected);
    tprintf(&b, P "upstream_answers_total{result=\"stale\"} %" PRIu64 "\n", st->up_stale);
    metric(&b, P "blocks_submitted_total", "counter", "Block candidates sent to monerod.");
    tprintf(&b, P "blocks_submitted_total %" PRIu64 "\n", st->blocks_submitted);
    metric(&b, P "blocks_total", "counter", "monerod's answers to those blocks, by result.");
    tprintf(&b, P "blocks_total{result=\"accepted\"} %" PRIu64 "\n", st->blocks_accepted);
    tprintf(&b, P "blocks_total{result=\"rejected\"} %" PRIu64 "\n", st->blocks_rejected);
    tprintf(&b, P "blocks_total{result=\"stale\"} %" PRIu64 "\n", st->blocks_stale);
#undef P
    process_metrics(&b);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

char *gw_stats_health(void *server, int *status, size_t *len)
{
    gw_server *s = server;
    char text[400];
    int up = 0;
    for (int i = 0; i < s->nslots; i++)
        up |= s->slots[i].open && s->slots[i].up;
    if (s->stopping) {
        *status = 503;
        snprintf(text, sizeof text, "stopping: the gateway is draining after a signal\n");
    } else if (up) {
        *status = 200;
        snprintf(text, sizeof text, "ok\n");
    } else {
        *status = 503;
        /* Slot 0 is open from the start: its reason is the upstream's. */
        const char *why =
            s->nslots > 0 && s->slots[0].reason[0] ? s->slots[0].reason : "not connected yet";
        snprintf(text, sizeof text, "no upstream connection: %s: %s\n",
                 s->daemon_mode ? "monerod" : "pool", why);
    }
    char *body = strdup(text);
    if (body && len)
        *len = strlen(body);
    return body;
}
