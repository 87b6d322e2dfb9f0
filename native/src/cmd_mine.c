/* consentminer mine — mine on a stratum pool or solo against monerod, after the consent
 * of whoever runs it: disclosure, a yes on the terminal (or --yes given in advance), a
 * status line, and Ctrl-C / SIGTERM stopping the hashing at once.
 *
 * Threads: the libuv loop (this thread) owns the upstream, the timers and the output;
 * the mining threads (workers.c) hand shares over through a queue and a uv_async_t.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "wallet_address.h"
#include "cli_args.h"
#include "commands.h"
#include "consentminer/consent.h"
#include "consentminer/hex.h"
#include "consentminer/stats.h"
#include "consentminer/target.h"
#include "daemon_client.h"
#include "platform.h"
#include "safe_text.h"
#include "stratum_client.h"
#include "terminal_consent.h"
#include "tls.h"
#include "workers.h"

#define MAX_POOLS 16
/* RandomX fast mode holds the 2080 MiB dataset and the 256 MiB cache; keep 256 MiB more
 * for the rest of the system before choosing it on our own. */
#define FAST_MODE_BYTES ((uint64_t)(2080 + 256 + 256) << 20)
/* Reserved bytes in the coinbase for solo mining; nothing writes them today, but keeping
 * a few lets a later version vary the template without asking monerod again. */
#define SOLO_RESERVE_SIZE 8
/* Hashing goes on through short outages (shares wait and are sent if still current), but
 * not for work a minute old with no upstream: that CPU would be spent for nothing. */
#define IDLE_WHEN_DOWN_MS 60000
/* On Ctrl-C, results already sent get this long for their answer: a block monerod has
 * taken is not reported stale because the reply was a few milliseconds late. A second
 * Ctrl-C ends the wait at once; hashing has stopped before it starts. */
#define ANSWER_GRACE_MS 5000

typedef struct found {
    struct found *next;
    char job_id[CM_JOB_ID_MAX + 1];
    uint32_t nonce;
    uint8_t hash[32];
    uint64_t height;
} found;

typedef struct miner {
    uv_loop_t *loop;
    cm_upstream *up;
    cm_workers *workers;
    cm_consent *consent;
    cm_stats *stats;
    int daemon_mode;
    int threads;
    int init_threads; /* threads that build the fast-mode dataset */
    int cpus;

    uv_async_t share_async;
    uv_mutex_t share_mu;
    found *share_head, **share_tail;

    uv_signal_t sigint, sigterm;
    uv_timer_t sample_timer, status_timer;
    uv_timer_t answer_timer; /* bounds the wait for answers after a stop */
    int in_flight;           /* results sent whose answer has not come yet */
    int finished;            /* finish_stop has run */
    double status_interval_s;

    char where[320];
    int connected;
    double down_since; /* when the upstream went away; 0 while it is there */
    int paused;        /* workers paused for want of an upstream */
    int have_job;
    cm_job job;
    uint64_t difficulty;
    uint64_t hashes_seen;
    double steady_t0, steady_t1; /* first sample after initialisation, last sample */
    uint64_t steady_h0, steady_h1;
    double steady_cpu0, steady_cpu1; /* process CPU time at those samples */
    double start_mono, cpu_mark, wall_mark;
    int progress_step;
    int stopping;
    int exit_code;
} miner;

/* ---- output ---- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
    /* Lines quote the pool's text (methods, errors, hosts): escaped, so none can forge a
     * line or drive the terminal. */
    char text[1024], shown[4096];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    txt_log_escape(shown, sizeof shown, text,
                   (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
    flockfile(stdout);
    printf("[%s] %s\n", stamp, shown);
    fflush(stdout);
    funlockfile(stdout);
}

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: consentminer mine -o HOST:PORT [-o HOST:PORT ...] -u WALLET [options]\n"
        "       consentminer mine --daemon http://127.0.0.1:18081 --wallet ADDRESS [options]\n"
        "\n"
        "Mines Monero (RandomX) on this computer after showing what will run and asking\n"
        "you to agree. Ctrl-C or SIGTERM stops hashing at once, waits up to 5 s for the\n"
        "answer to results already sent (Ctrl-C again skips the wait) and prints final\n"
        "statistics.\n"
        "\n"
        "Pool mining (stratum):\n"
        "  -o, --url HOST:PORT     pool address; repeat for failover, tried in order; the\n"
        "                          first is probed every minute and used again when it returns\n"
        "                          (a stratum+ssl:// prefix turns on TLS for that pool)\n"
        "  -u, --user WALLET       pool login, usually your wallet address\n"
        "  -p, --pass PASS         pool password (default \"x\")\n"
        "  --tls                   use TLS for every pool; the certificate must verify against\n"
        "                          the system CA store (/etc/ssl/certs/ca-certificates.crt)\n"
        "  --tls-fingerprint HEX   trust exactly the certificate whose SHA-256 (of its DER\n"
        "                          bytes) is HEX (64 hex digits, colons allowed), e.g. a\n"
        "                          pool's self-signed one; anything else is refused\n"
        "                          (implies --tls)\n"
        "  --keepalive SEC         send keepalived after SEC idle seconds (default 60), to a\n"
        "                          pool that lists the keepalive extension in its login reply\n"
        "  -k                      keepalive on, as with xmrig's -k (\"needs pool support\"):\n"
        "                          already the default here; taken so xmrig's command lines\n"
        "                          work unchanged\n"
        "  --failback SEC          while on a failover pool, try the first one again every\n"
        "                          SEC seconds (default 60)\n"
        "  --rig-id ID             this machine's name at the pool (sent as rigid in the\n"
        "                          login, as xmrig does), 1..64 printable characters\n"
        "\n"
        "Solo mining (monerod):\n"
        "  --daemon URL            monerod RPC, http://HOST:PORT; work comes from\n"
        "                          get_block_template, found blocks go to submit_block\n"
        "  --wallet ADDRESS        the address block rewards are paid to\n"
        "\n"
        "Mining:\n"
        "  -t, --threads N         mining threads, 1..256 (default: all %d CPUs)\n"
        "  --throttle PCT          share of each thread's time spent hashing, 1..100\n"
        "                          (default 100)\n"
        "  --mode fast|light|auto  fast: 2080 MiB dataset, fastest; light: 256 MiB cache,\n"
        "                          about 1/8 the speed; auto (default): fast when memory allows\n"
        "  --init-threads N        threads that build the fast-mode dataset before the first\n"
        "                          hash and at each seed change, 1..256 (default: all CPUs)\n"
        "  --no-large-pages        use neither reserved nor transparent huge pages\n"
        "  --status-interval SEC   seconds between status lines, 1..3600 (default 10)\n"
        "  --yes                   agree in advance instead of being asked; required when\n"
        "                          there is no terminal to ask on\n"
        "  -h, --help              show this help\n"
        "\n"
        "The status line shows hash rate over 10 s / 60 s / 15 min, the CPU this process\n"
        "actually used (in %% of one CPU), shares accepted / rejected / stale, the pool or\n"
        "daemon, the difficulty and the block height.\n",
        cm_cpu_count());
}

/* ---- shares: worker threads -> loop ---- */

static void worker_share(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[32])
{
    miner *m = ud;
    found *f = calloc(1, sizeof *f);
    if (f == NULL) {
        say("out of memory: a share for job %s (nonce %08x) could not be queued", job->job_id,
            nonce);
        return;
    }
    snprintf(f->job_id, sizeof f->job_id, "%s", job->job_id);
    f->nonce = nonce;
    memcpy(f->hash, hash, 32);
    f->height = job->height;
    uv_mutex_lock(&m->share_mu);
    *m->share_tail = f;
    m->share_tail = &f->next;
    uv_mutex_unlock(&m->share_mu);
    uv_async_send(&m->share_async);
}

static void finish_stop(miner *m);

static void count_share(miner *m, cm_submit_outcome o)
{
    cm_stats_add_share(m->stats, o == CM_SUBMIT_ACCEPTED   ? CM_SHARE_ACCEPTED
                                 : o == CM_SUBMIT_REJECTED ? CM_SHARE_REJECTED
                                                           : CM_SHARE_STALE);
}

static void drain_shares(miner *m)
{
    uv_mutex_lock(&m->share_mu);
    found *list = m->share_head;
    m->share_head = NULL;
    m->share_tail = &m->share_head;
    uv_mutex_unlock(&m->share_mu);
    while (list) {
        found *f = list;
        list = f->next;
        int rc = m->up ? cm_upstream_submit(m->up, f->job_id, f->nonce, f->hash, f) : CM_E_STATE;
        if (rc == 0)
            m->in_flight++;
        if (rc != 0) {
            say("%s for job %s (nonce %08x) not sent: %s; counted stale",
                m->daemon_mode ? "block" : "share", f->job_id, f->nonce, cm_strerror(rc));
            cm_stats_add_share(m->stats, CM_SHARE_STALE);
            free(f);
        }
    }
}

static void on_share_async(uv_async_t *a)
{
    drain_shares(a->data);
}

/* ---- upstream events ---- */

static void on_job(void *ud, const cm_job *job, uint64_t difficulty)
{
    miner *m = ud;
    if (m->stopping)
        return;
    int new_seed = m->have_job && memcmp(m->job.seed_hash, job->seed_hash, CM_SEED_HASH_SIZE);
    uint64_t diff = difficulty ? difficulty : cm_target_to_difficulty(job->target64);
    if (new_seed) {
        char seed[2 * CM_SEED_HASH_SIZE + 1];
        cm_hex_encode(job->seed_hash, CM_SEED_HASH_SIZE, seed);
        say("new RandomX seed %.16s... at height %" PRIu64 ": switching epoch", seed, job->height);
    }
    if (!m->have_job || job->height != m->job.height || diff != m->difficulty || new_seed)
        say("new job %s from %s: height %" PRIu64 ", difficulty %" PRIu64 "%s", job->job_id,
            m->where, job->height, diff, job->nicehash ? ", NiceHash" : "");
    /* The same work again (a pool resending its job after a reconnect) keeps the workers
     * where they are: restarting their nonces would find, and send, the same shares twice. */
    int same = m->have_job && !strcmp(m->job.job_id, job->job_id) &&
               m->job.blob_len == job->blob_len && !memcmp(m->job.blob, job->blob, job->blob_len) &&
               m->job.target64 == job->target64 && m->job.nicehash == job->nicehash &&
               !memcmp(m->job.seed_hash, job->seed_hash, CM_SEED_HASH_SIZE);
    m->job = *job;
    m->have_job = 1;
    m->difficulty = diff;
    if (!same)
        cm_workers_set_job(m->workers, job);
    if (m->paused) {
        m->paused = 0;
        cm_workers_pause(m->workers, 0);
        say("resumed: new work from %s", m->where);
    }
}

static void on_state(void *ud, int up, const char *where, const char *reason)
{
    miner *m = ud;
    snprintf(m->where, sizeof m->where, "%s", where);
    m->connected = up;
    if (!up && m->down_since == 0)
        m->down_since = cm_mono_ms();
    if (up)
        m->down_since = 0;
    if (up)
        say("connected to %s", where);
    else
        say("%s unavailable: %s", where, reason ? reason : "unknown reason");
}

static void on_result(void *ud, void *ctx, cm_submit_outcome outcome, const char *reason)
{
    miner *m = ud;
    found *f = ctx;
    m->in_flight--;
    count_share(m, outcome);
    const char *what = m->daemon_mode ? "block" : "share";
    if (outcome == CM_SUBMIT_ACCEPTED) {
        if (m->daemon_mode)
            say("block accepted at height %" PRIu64 " (job %s, nonce %08x)", f->height, f->job_id,
                f->nonce);
        else
            say("share accepted (job %s, nonce %08x)", f->job_id, f->nonce);
    } else {
        say("%s %s (job %s, nonce %08x): %s", what,
            outcome == CM_SUBMIT_REJECTED ? "rejected" : "stale", f->job_id, f->nonce,
            reason ? reason : "no reason given");
    }
    free(f);
    if (m->stopping && m->in_flight == 0)
        finish_stop(m);
}

static void on_log(void *ud, const char *message)
{
    (void)ud;
    say("%s", message);
}

/* ---- worker events (worker or seed threads) ---- */

static void worker_progress(void *ud, const char *what, double fraction)
{
    miner *m = ud;
    int step = (int)(fraction * 10);
    if (step != m->progress_step || fraction >= 1.0) {
        m->progress_step = fraction >= 1.0 ? -1 : step;
        say("initialising RandomX %s on %d thread%s: %d%%", what, m->init_threads,
            m->init_threads == 1 ? "" : "s", (int)(fraction * 100));
    }
}

static void worker_event(void *ud, const char *message)
{
    (void)ud;
    say("%s", message);
}

/* ---- statistics ---- */

static void sample_hashes(miner *m)
{
    uint64_t h = cm_workers_hashes(m->workers);
    double now = cm_mono_ms();
    cm_stats_add_hashes(m->stats, (int64_t)now, h - m->hashes_seen);
    m->hashes_seen = h;
    if (m->steady_t0 == 0) {
        /* The steady rate counts from the first sample after initialisation, counter and
         * clock read together, as `consentminer bench` does: comparable to it. */
        cm_workers_info info;
        cm_workers_info_get(m->workers, &info);
        if (info.ready) {
            m->steady_t0 = now;
            m->steady_h0 = h;
            m->steady_cpu0 = cm_process_cpu_ms();
        }
    }
    m->steady_t1 = now;
    m->steady_h1 = h;
    m->steady_cpu1 = cm_process_cpu_ms();
}

static void on_sample(uv_timer_t *t)
{
    miner *m = t->data;
    sample_hashes(m);
    /* Work from an upstream gone this long is almost surely stale: spare the CPU until
     * new work comes (on_job resumes). */
    if (!m->connected && !m->paused && m->down_since > 0 &&
        cm_mono_ms() - m->down_since >= IDLE_WHEN_DOWN_MS) {
        m->paused = 1;
        cm_workers_pause(m->workers, 1);
        say("paused: no work source for %d s; hashing resumes with the next job",
            IDLE_WHEN_DOWN_MS / 1000);
    }
}

static void fmt_rate(char *out, size_t len, double r)
{
    snprintf(out, len, r >= 100 ? "%.0f" : "%.1f", r);
}

static void on_status(uv_timer_t *t)
{
    miner *m = t->data;
    sample_hashes(m);
    int64_t now = (int64_t)cm_mono_ms();
    double cpu = cm_process_cpu_ms(), wall = cm_mono_ms();
    double pct = wall > m->wall_mark ? 100.0 * (cpu - m->cpu_mark) / (wall - m->wall_mark) : 0;
    m->cpu_mark = cpu;
    m->wall_mark = wall;
    char r10[16], r60[16], r15[16];
    fmt_rate(r10, sizeof r10, cm_stats_hashrate(m->stats, now, CM_STATS_WINDOW_SHORT_MS));
    fmt_rate(r60, sizeof r60, cm_stats_hashrate(m->stats, now, CM_STATS_WINDOW_MEDIUM_MS));
    fmt_rate(r15, sizeof r15, cm_stats_hashrate(m->stats, now, CM_STATS_WINDOW_LONG_MS));
    cm_workers_info info;
    cm_workers_info_get(m->workers, &info);
    say("speed 10s/60s/15m %s %s %s H/s | cpu %.0f%% of %d%% | %s %" PRIu64 "/%" PRIu64 "/%" PRIu64
        " (accepted/rejected/stale) | %s %s%s | diff %" PRIu64 " | height %" PRIu64 " | %s",
        r10, r60, r15, pct, 100 * m->cpus, m->daemon_mode ? "blocks" : "shares",
        cm_stats_shares(m->stats, CM_SHARE_ACCEPTED), cm_stats_shares(m->stats, CM_SHARE_REJECTED),
        cm_stats_shares(m->stats, CM_SHARE_STALE), m->daemon_mode ? "daemon" : "pool",
        m->where[0] ? m->where : "-", m->connected ? "" : " (down)", m->difficulty, m->job.height,
        m->paused    ? "paused until new work"
        : info.ready ? (info.hashing_fast ? "fast" : "light")
                     : "initialising");
}

/* ---- stopping ---- */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The last step of a stop: whatever is still unanswered is counted stale by the
 * upstream's close, and every handle closes so that uv_run returns. */
static void finish_stop(miner *m)
{
    if (m->finished)
        return;
    m->finished = 1;
    close_handle((uv_handle_t *)&m->answer_timer);
    if (m->up != NULL) {
        cm_upstream_close(m->up); /* answers what is still owed (stale) */
        m->up = NULL;
    }
    close_handle((uv_handle_t *)&m->sigint);
    close_handle((uv_handle_t *)&m->sigterm);
}

static void on_answer_timeout(uv_timer_t *t)
{
    miner *m = t->data;
    say("no answer within %d s for %d %s%s; counted stale", ANSWER_GRACE_MS / 1000, m->in_flight,
        m->daemon_mode ? "block" : "share", m->in_flight == 1 ? "" : "s");
    finish_stop(m);
}

static void stop(miner *m, const char *why)
{
    if (m->stopping)
        return;
    m->stopping = 1;
    sample_hashes(m); /* the steady rate ends here, before the stop itself */
    /* Consent first: core refuses the next hash even before the threads are joined. */
    cm_consent_revoke(m->consent);
    double t0 = cm_mono_ms();
    cm_workers_stop(m->workers);
    say("%s: hashing stopped in %.0f ms", why, cm_mono_ms() - t0);
    double t1 = m->steady_t1, cpu1 = m->steady_cpu1;
    uint64_t h1 = m->steady_h1;
    sample_hashes(m); /* counts the last hashes in the totals */
    m->steady_t1 = t1;
    m->steady_h1 = h1;
    m->steady_cpu1 = cpu1;
    drain_shares(m); /* shares found before the stop are still sent or accounted for */
    close_handle((uv_handle_t *)&m->sample_timer);
    close_handle((uv_handle_t *)&m->status_timer);
    close_handle((uv_handle_t *)&m->share_async);
    if (m->in_flight > 0 && m->up != NULL && m->connected) {
        say("waiting up to %d s for the answer to %d %s%s already sent (Ctrl-C again to skip)",
            ANSWER_GRACE_MS / 1000, m->in_flight, m->daemon_mode ? "block" : "share",
            m->in_flight == 1 ? "" : "s");
        uv_timer_start(&m->answer_timer, on_answer_timeout, ANSWER_GRACE_MS, 0);
        return;
    }
    finish_stop(m);
}

static void on_signal(uv_signal_t *s, int signum)
{
    miner *m = s->data;
    if (m->stopping) { /* a second signal while answers are awaited: stop waiting */
        finish_stop(m);
        return;
    }
    stop(m, signum == SIGINT ? "interrupted (Ctrl-C)" : "terminated (SIGTERM)");
}

static void final_report(miner *m)
{
    double secs = (cm_mono_ms() - m->start_mono) / 1000.0;
    uint64_t hashes = cm_stats_total_hashes(m->stats);
    say("final: %" PRIu64 " hashes in %.1f s (%.1f H/s average), process CPU %.1f s; %s "
        "accepted %" PRIu64 ", rejected %" PRIu64 ", stale %" PRIu64,
        hashes, secs, secs > 0 ? (double)hashes / secs : 0, cm_process_cpu_ms() / 1000.0,
        m->daemon_mode ? "blocks" : "shares", cm_stats_shares(m->stats, CM_SHARE_ACCEPTED),
        cm_stats_shares(m->stats, CM_SHARE_REJECTED), cm_stats_shares(m->stats, CM_SHARE_STALE));
    double steady = (m->steady_t1 - m->steady_t0) / 1000.0;
    double cpu = (m->steady_cpu1 - m->steady_cpu0) / 1000.0;
    if (m->steady_t0 > 0 && steady > 0)
        say("steady rate: %.2f H/s over %.1f s of hashing after initialisation; %.2f hashes per "
            "process CPU second",
            (double)(m->steady_h1 - m->steady_h0) / steady, steady,
            cpu > 0 ? (double)(m->steady_h1 - m->steady_h0) / cpu : 0.0);
}

/* ---- the command ---- */

/* ---- options ---- */

typedef struct mine_options {
    const char *pools[MAX_POOLS];
    size_t pool_count;
    const char *user, *pass, *fingerprint, *daemon_url, *wallet, *rig_id;
    int mode; /* CLI_MODE_FAST, _LIGHT or _AUTO */
    int tls, yes, large_pages;
    long threads, init_threads, throttle, keepalive, failback;
    double status_interval;
} mine_options;

enum {
    OPT_TLS = 256,
    OPT_TLS_FINGERPRINT,
    OPT_KEEPALIVE,
    OPT_FAILBACK,
    OPT_RIG_ID,
    OPT_DAEMON,
    OPT_WALLET,
    OPT_INIT_THREADS,
    OPT_THROTTLE,
    OPT_MODE,
    OPT_NO_LARGE_PAGES,
    OPT_STATUS_INTERVAL,
    OPT_YES,
};

/* The short letters are xmrig's (-o -u -p -t -k), so its command lines read the same. */
static const struct option mine_longopts[] = {
    {"url", required_argument, NULL, 'o'},
    {"user", required_argument, NULL, 'u'},
    {"pass", required_argument, NULL, 'p'},
    {"tls", no_argument, NULL, OPT_TLS},
    {"tls-fingerprint", required_argument, NULL, OPT_TLS_FINGERPRINT},
    {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"failback", required_argument, NULL, OPT_FAILBACK},
    {"rig-id", required_argument, NULL, OPT_RIG_ID},
    {"daemon", required_argument, NULL, OPT_DAEMON},
    {"wallet", required_argument, NULL, OPT_WALLET},
    {"threads", required_argument, NULL, 't'},
    {"init-threads", required_argument, NULL, OPT_INIT_THREADS},
    {"throttle", required_argument, NULL, OPT_THROTTLE},
    {"mode", required_argument, NULL, OPT_MODE},
    {"no-large-pages", no_argument, NULL, OPT_NO_LARGE_PAGES},
    {"status-interval", required_argument, NULL, OPT_STATUS_INTERVAL},
    {"yes", no_argument, NULL, OPT_YES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int mine_take(void *opts, int key, const char *arg, const char *name)
{
    mine_options *o = opts;
    switch (key) {
    case 'o':
        if (o->pool_count == MAX_POOLS) {
            fprintf(stderr, "consentminer mine: at most %d pools (-o)\n", MAX_POOLS);
            return 2;
        }
        o->pools[o->pool_count++] = arg;
        return 0;
    case 'u':
        o->user = arg;
        return 0;
    case 'p':
        o->pass = arg;
        return 0;
    case 'k': /* xmrig's "send keepalived ... (needs pool support)": already what this does */
        return 0;
    case OPT_TLS:
        o->tls = 1;
        return 0;
    case OPT_TLS_FINGERPRINT:
        o->fingerprint = arg;
        return 0;
    case OPT_KEEPALIVE:
        return cm_arg_int(name, arg, 1, 3600, &o->keepalive) ? 2 : 0;
    case OPT_FAILBACK:
        return cm_arg_int(name, arg, 1, 86400, &o->failback) ? 2 : 0;
    case OPT_RIG_ID:
        o->rig_id = arg;
        return 0;
    case OPT_DAEMON:
        o->daemon_url = arg;
        return 0;
    case OPT_WALLET:
        o->wallet = arg;
        return 0;
    case 't':
        return cm_arg_int(name, arg, 1, CM_CONSENT_MAX_THREADS, &o->threads) ? 2 : 0;
    case OPT_INIT_THREADS:
        return cm_arg_int(name, arg, 1, CM_CONSENT_MAX_THREADS, &o->init_threads) ? 2 : 0;
    case OPT_THROTTLE:
        return cm_arg_int(name, arg, 1, 100, &o->throttle) ? 2 : 0;
    case OPT_MODE:
        return cli_mode("mine", arg, 1, &o->mode);
    case OPT_NO_LARGE_PAGES:
        o->large_pages = 0;
        return 0;
    case OPT_STATUS_INTERVAL:
        return cm_arg_double(name, arg, 1, 3600, &o->status_interval) ? 2 : 0;
    case OPT_YES:
        o->yes = 1;
        return 0;
    }
    return 0;
}

/* What the options say together: one work source, and an address that is one. A pool's
 * login defaults to --wallet, so this may fill o->user. */
static int mine_check(mine_options *o)
{
    int daemon_mode = o->daemon_url != NULL;
    if (daemon_mode && o->pool_count > 0) {
        fprintf(stderr, "consentminer mine: give either pools (-o) or --daemon, not both\n");
        return 2;
    }
    if (!daemon_mode && o->pool_count == 0) {
        fprintf(stderr, "consentminer mine: no work source: give -o HOST:PORT (pool) or "
                        "--daemon URL (solo)\n\n");
        usage(stderr);
        return 2;
    }
    if (daemon_mode && (o->wallet == NULL || !*o->wallet)) {
        fprintf(stderr, "consentminer mine: solo mining needs --wallet ADDRESS for the rewards\n");
        return 2;
    }
    /* Solo: the address monerod pays. A pool: its login, which for Monero pools starts
     * with the address (NiceHash and some others take other logins, so only something
     * shaped like a Monero address is held to it). */
    const char *addr = daemon_mode ? o->wallet : o->user;
    size_t n = addr ? (daemon_mode ? strlen(addr) : wallet_address_span(addr)) : 0;
    char err[160];
    if (addr && (daemon_mode || n == 95 || n == 106) &&
        wallet_address_check(addr, n, NULL, err, sizeof err)) {
        fprintf(stderr, "consentminer mine: %s %.*s: %s\n", daemon_mode ? "--wallet" : "-u", (int)n,
                addr, err);
        return 2;
    }
    if (!daemon_mode && o->user == NULL)
        o->user = o->wallet;
    if (!daemon_mode && (o->user == NULL || !*o->user)) {
        fprintf(stderr, "consentminer mine: pool mining needs -u WALLET (the pool login)\n");
        return 2;
    }
    uint8_t pin[32];
    if (o->fingerprint && cm_tls_parse_fingerprint(o->fingerprint, pin) != 0) {
        fprintf(stderr,
                "consentminer mine: --tls-fingerprint '%s' is not a SHA-256 "
                "(64 hex digits, colons allowed)\n",
                o->fingerprint);
        return 2;
    }
    if (daemon_mode && (o->tls || o->fingerprint)) {
        fprintf(stderr, "consentminer mine: --tls and --tls-fingerprint apply to pools only\n");
        return 2;
    }
    return 0;
}

/* --mode auto: fast when the memory for its dataset is there (or cannot be told), else
 * light, and says so. */
static cm_mode choose_mode(int mode)
{
    if (mode != CLI_MODE_AUTO)
        return mode == CLI_MODE_FAST ? CM_MODE_FAST : CM_MODE_LIGHT;
    uint64_t avail = cm_mem_available();
    if (avail == 0 || avail >= FAST_MODE_BYTES)
        return CM_MODE_FAST;
    fprintf(stderr,
            "consentminer mine: %" PRIu64 " MiB available, fast mode needs about %" PRIu64
            " MiB: using light mode\n",
            avail >> 20, FAST_MODE_BYTES >> 20);
    return CM_MODE_LIGHT;
}

/* The disclosure, then the question: 1 when the answer is yes. */
static int ask_consent(const mine_options *o, cm_mode mode)
{
    char rewards[1600];
    if (o->daemon_url) {
        snprintf(rewards, sizeof rewards,
                 "solo mining: blocks found are submitted to monerod at %s and pay the\n"
                 "               wallet %s",
                 o->daemon_url, o->wallet);
    } else {
        const char *first = o->pools[0];
        int tls = o->tls || o->fingerprint || strstr(first, "+ssl") || strstr(first, "+tls");
        size_t n =
            (size_t)snprintf(rewards, sizeof rewards, "the pool %s%s", first, tls ? " (TLS)" : "");
        for (size_t i = 1; i < o->pool_count && n < sizeof rewards; i++)
            n += (size_t)snprintf(rewards + n, sizeof rewards - n,
                                  ",\n               or %s if "
                                  "the ones before are down",
                                  o->pools[i]);
        if (n < sizeof rewards)
            snprintf(rewards + n, sizeof rewards - n,
                     "\n               credits the login %s (the pool pays it)", o->user);
    }
    cm_disclosure d = {.threads = (int)o->threads,
                       .init_threads = mode == CM_MODE_FAST ? (int)o->init_threads : 0,
                       .cpus = cm_cpu_count(),
                       .throttle_pct = (int)o->throttle,
                       .mode = mode == CM_MODE_FAST ? "fast" : "light",
                       .rewards = rewards};
    cm_disclosure_print(stderr, &d);
    return cm_terminal_ask(stdin, stderr, o->yes);
}

/* The upstream the options name, reporting to m on loop; NULL with err filled. */
static cm_upstream *start_upstream(miner *m, uv_loop_t *loop, const mine_options *o, cm_error *err)
{
    static const cm_upstream_events ev = {on_job, on_state, on_result, on_log};
    if (o->daemon_url) {
        cm_daemon_config dc = {
            .url = o->daemon_url, .wallet = o->wallet, .reserve_size = SOLO_RESERVE_SIZE};
        cm_upstream *up = cm_upstream_daemon_new(loop, &dc, &ev, m, err);
        snprintf(m->where, sizeof m->where, "%s", o->daemon_url);
        return up;
    }
    cm_pool_config pc = {.urls = o->pools,
                         .url_count = o->pool_count,
                         .user = o->user,
                         .pass = o->pass,
                         .tls = o->tls,
                         .tls_fingerprint = o->fingerprint,
                         .keepalive_ms = (uint32_t)o->keepalive * 1000,
                         .primary_retry_ms = (uint32_t)o->failback * 1000,
                         .rig_id = o->rig_id};
    cm_upstream *up = cm_upstream_pool_new(loop, &pc, &ev, m, err);
    snprintf(m->where, sizeof m->where, "%s", o->pools[0]);
    return up;
}

/* Asks, then mines until a signal: the exit status. */
static int mine_run(const mine_options *o)
{
    cm_mode mode = choose_mode(o->mode);
    if (!ask_consent(o, mode))
        return 1;

    miner m;
    memset(&m, 0, sizeof m);
    m.daemon_mode = o->daemon_url != NULL;
    m.threads = (int)o->threads;
    m.init_threads = (int)o->init_threads;
    m.cpus = cm_cpu_count();
    m.status_interval_s = o->status_interval;
    m.progress_step = -1;
    m.share_tail = &m.share_head;
    m.start_mono = cm_mono_ms();
    m.wall_mark = m.start_mono;
    m.cpu_mark = cm_process_cpu_ms();
    cm_error err;
    m.consent = cm_consent_new();
    m.stats = cm_stats_new((int64_t)cm_mono_ms());
    if (m.consent == NULL || m.stats == NULL ||
        cm_consent_grant(m.consent, cm_wall_ms(), CM_CONSENT_MAX_MS, m.threads, (int)o->throttle,
                         &err) != CM_OK) {
        fprintf(stderr, "consentminer mine: cannot record the consent: %s\n",
                m.consent && m.stats ? err.message : "out of memory");
        cm_consent_free(m.consent);
        cm_stats_free(m.stats);
        return 1;
    }
    uv_mutex_init(&m.share_mu);
    cm_workers_config wc = {.threads = m.threads,
                            .init_threads = m.init_threads,
                            .mode = mode,
                            .large_pages = o->large_pages,
                            .throttle_pct = (int)o->throttle,
                            .consent = m.consent,
                            .on_share = worker_share,
                            .on_progress = worker_progress,
                            .on_event = worker_event,
                            .ud = &m};
    if (cm_workers_new(&wc, &m.workers, &err) != CM_OK) {
        fprintf(stderr, "consentminer mine: cannot start mining threads: %s\n", err.message);
        cm_consent_free(m.consent);
        cm_stats_free(m.stats);
        uv_mutex_destroy(&m.share_mu);
        return 1;
    }

    /* A pool that vanishes mid-write must cost a reconnect, not the process (libuv
     * writes with write(2), which raises SIGPIPE on a closed socket). */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t loop;
    uv_loop_init(&loop);
    m.loop = &loop;
    uv_async_init(&loop, &m.share_async, on_share_async);
    m.share_async.data = &m;
    uv_signal_init(&loop, &m.sigint);
    uv_signal_init(&loop, &m.sigterm);
    m.sigint.data = m.sigterm.data = &m;
    uv_signal_start(&m.sigint, on_signal, SIGINT);
    uv_signal_start(&m.sigterm, on_signal, SIGTERM);
    uv_timer_init(&loop, &m.sample_timer);
    uv_timer_init(&loop, &m.status_timer);
    uv_timer_init(&loop, &m.answer_timer);
    m.sample_timer.data = m.status_timer.data = m.answer_timer.data = &m;
    uv_timer_start(&m.sample_timer, on_sample, 1000, 1000);
    uint64_t every = (uint64_t)(o->status_interval * 1000);
    uv_timer_start(&m.status_timer, on_status, every, every);

    m.up = start_upstream(&m, &loop, o, &err);
    if (m.up == NULL) {
        fprintf(stderr, "consentminer mine: %s\n", err.message);
        m.exit_code = 2;
        stop(&m, "not started");
    } else {
        say("mining with %ld thread%s in %s mode; waiting for work from %s", o->threads,
            o->threads == 1 ? "" : "s", mode == CM_MODE_FAST ? "fast" : "light", m.where);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (m.exit_code == 0)
        final_report(&m);
    uv_loop_close(&loop);
    cm_workers_free(m.workers);
    /* Shares that raced the stop are freed; they were never hashed into a result. */
    for (found *f = m.share_head, *n; f; f = n) {
        n = f->next;
        free(f);
    }
    uv_mutex_destroy(&m.share_mu);
    cm_consent_free(m.consent);
    cm_stats_free(m.stats);
    return m.exit_code;
}

int cm_cmd_mine(int argc, char **argv)
{
    mine_options o = {.mode = CLI_MODE_AUTO,
                      .large_pages = 1,
                      .threads = cm_cpu_count(),
                      .init_threads = cm_cpu_count(),
                      .throttle = 100,
                      .keepalive = 60,
                      .failback = 60,
                      .status_interval = 10};
    static const cli_spec spec = {"mine", "ho:u:p:t:k", mine_longopts, usage, mine_take};
    int rc = cli_parse(&spec, argc, argv, &o);
    if (rc == 1) /* --help */
        return 0;
    if (rc == 0)
        rc = mine_check(&o);
    return rc ? rc : mine_run(&o);
}
