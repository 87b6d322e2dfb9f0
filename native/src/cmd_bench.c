/* consentminer bench — hashes per second with the same mining threads `mine` uses.
 * Running this command is the consent: it grants a record for its own run only.
 *
 * Two kinds of run: for --seconds S (the default), whatever the threads hash in S
 * seconds; for --hashes N, fixed work: the nonces 0..N-1 of one synthetic job, whose
 * hashes are folded into a checksum, so two machines (or two builds) that ran the same N
 * can be compared hash for hash, as xmrig's --bench does. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_args.h"
#include "commands.h"
#include "consentminer/consent.h"
#include "consentminer/hex.h"
#include "consentminer/job.h"
#include "consentminer/target.h"
#include "cpu_info.h"
#include "platform.h"
#include "workers.h"

/* Bounds that only keep a typo from running for days: 10^8 hashes is about 4 days of
 * one fast-mode thread here. */
#define BENCH_HASHES_MAX 100000000L
#define BENCH_REPEAT_MAX 100

static volatile sig_atomic_t interrupted;
static volatile int measuring_done;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: consentminer bench [--mode fast|light] [--threads N] [--init-threads N]\n"
            "                          [--seconds S | --hashes N] [--repeat K] [--json]\n"
            "                          [--no-large-pages]\n\n"
            "Hashes a synthetic job with the mining loop and reports hashes per second.\n\n"
            "  --mode fast|light  fast: 2080 MiB dataset, built first; light: 256 MiB cache\n"
            "                     only (default: fast)\n"
            "  --threads N        mining threads, 1..256 (default: number of CPUs, %d here)\n"
            "  --init-threads N   threads that build the fast-mode dataset, 1..256\n"
            "                     (default: every CPU, whatever --threads is)\n"
            "  --seconds S        how long to hash after initialisation, 1..86400 (default 20)\n"
            "  --hashes N         fixed work instead: hash nonces 0..N-1 of the synthetic job,\n"
            "                     1..%ld, and print a checksum of the hashes (the XOR of all\n"
            "                     N 32-byte hashes) that any machine running the same N must\n"
            "                     reproduce\n"
            "  --repeat K         measure K times after one initialisation, 1..%d, and report\n"
            "                     the median rate and the spread (default 1)\n"
            "  --json             print one JSON object instead of text\n"
            "  --no-large-pages   use neither reserved nor transparent huge pages\n"
            "  -h, --help         show this help\n\n"
            "Ctrl-C stops early and reports what was measured.\n",
            cm_cpu_count(), BENCH_HASHES_MAX, BENCH_REPEAT_MAX);
}

/* What the workers' callbacks share (one ud for all of them). The checksums: one 32-byte
 * XOR accumulator per worker, each written by its own worker thread only and read after
 * the workers' hash counter says the work is done. */
typedef struct bench_ud {
    int tty;
    int last_step;
    uint8_t (*sum)[CM_HASH_SIZE];
} bench_ud;

static void on_progress(void *ud, const char *what, double fraction)
{
    bench_ud *p = ud;
    int pct = (int)(fraction * 100);
    if (p->tty) {
        fprintf(stderr, "\rinitialising %s: %3d%%", what, pct);
        if (fraction >= 1.0)
            fputc('\n', stderr);
    } else if (pct / 10 != p->last_step) {
        p->last_step = pct / 10;
        fprintf(stderr, "initialising %s: %d%%\n", what, pct);
    }
}

static void on_event(void *ud, const char *message)
{
    (void)ud;
    /* The bench ends by revoking its own consent; the workers' note of that is expected. */
    if (!measuring_done)
        fprintf(stderr, "consentminer bench: %s\n", message);
}

static void on_hash(void *ud, int worker, uint32_t nonce, const uint8_t hash[32])
{
    (void)nonce;
    bench_ud *c = ud;
    for (int i = 0; i < CM_HASH_SIZE; i++)
        c->sum[worker][i] ^= hash[i];
}

/* A job shaped like Monero's: header major 16, minor 16, a 5-byte timestamp varint,
 * a 32-byte previous id, then the nonce at offset 39. The target is so hard that no
 * share is found, as in RandomX's own benchmark. These bytes are the fixed work of
 * --hashes: changing them changes every checksum ever published. */
static void bench_job(cm_job *job)
{
    memset(job, 0, sizeof *job);
    job->blob_len = 76;
    job->blob[0] = 16;
    job->blob[1] = 16;
    const uint8_t ts[5] = {0xa0, 0xb5, 0xd3, 0xa6, 0x06};
    memcpy(job->blob + 2, ts, sizeof ts);
    for (size_t i = 7; i < job->blob_len; i++)
        job->blob[i] = (uint8_t)(i * 37 + 11);
    job->nonce_offset = 39;
    strcpy(job->job_id, "bench");
    job->target64 = 1;
    for (size_t i = 0; i < CM_SEED_HASH_SIZE; i++)
        job->seed_hash[i] = (uint8_t)(0x5a ^ i);
}

/* What one measurement saw. */
typedef struct run {
    double seconds;
    uint64_t hashes;
    double rate;
    double cpu_ms;
    uint64_t *thread_hashes;
    double *thread_seconds;
    uint8_t checksum[CM_HASH_SIZE];
} run;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return v[0];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

typedef struct options {
    cm_mode mode;
    long threads, init_threads, hashes, repeat;
    double seconds;
    int json, large_pages, seconds_given;
} options;

enum {
    OPT_MODE = 256,
    OPT_INIT_THREADS,
    OPT_SECONDS,
    OPT_HASHES,
    OPT_REPEAT,
    OPT_JSON,
    OPT_NO_LARGE_PAGES
};

static const struct option bench_longopts[] = {
    {"mode", required_argument, NULL, OPT_MODE},
    {"threads", required_argument, NULL, 't'},
    {"init-threads", required_argument, NULL, OPT_INIT_THREADS},
    {"seconds", required_argument, NULL, OPT_SECONDS},
    {"hashes", required_argument, NULL, OPT_HASHES},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"json", no_argument, NULL, OPT_JSON},
    {"no-large-pages", no_argument, NULL, OPT_NO_LARGE_PAGES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int bench_take(void *opts, int key, const char *arg, const char *name)
{
    options *o = opts;
    int mode;
    switch (key) {
    case OPT_MODE:
        if (cli_mode("bench", arg, 0, &mode))
            return 2;
        o->mode = mode == CLI_MODE_FAST ? CM_MODE_FAST : CM_MODE_LIGHT;
        return 0;
    case 't':
        return cm_arg_int(name, arg, 1, CM_CONSENT_MAX_THREADS, &o->threads) ? 2 : 0;
    case OPT_INIT_THREADS:
        return cm_arg_int(name, arg, 1, CM_CONSENT_MAX_THREADS, &o->init_threads) ? 2 : 0;
    case OPT_SECONDS:
        o->seconds_given = 1;
        return cm_arg_double(name, arg, 1, 86400, &o->seconds) ? 2 : 0;
    case OPT_HASHES:
        return cm_arg_int(name, arg, 1, BENCH_HASHES_MAX, &o->hashes) ? 2 : 0;
    case OPT_REPEAT:
        return cm_arg_int(name, arg, 1, BENCH_REPEAT_MAX, &o->repeat) ? 2 : 0;
    case OPT_JSON:
        o->json = 1;
        return 0;
    case OPT_NO_LARGE_PAGES:
        o->large_pages = 0;
        return 0;
    }
    return 0;
}

/* What no single option can say wrong. */
static int bench_check(const options *o)
{
    if (o->hashes && o->seconds_given) {
        fprintf(stderr, "consentminer bench: --hashes and --seconds both given; a run is "
                        "either fixed work (--hashes) or a fixed time (--seconds)\n");
        return 2;
    }
    return 0;
}

/* Waits until the workers' first job is ready to hash; 0 when interrupted first. */
static int wait_ready(cm_workers *w, cm_workers_info *info)
{
    do {
        cm_sleep_ms(20);
        cm_workers_info_get(w, info);
    } while (!info->ready && !interrupted);
    return info->ready;
}

/* One fixed-work measurement: the workers, paused, are given the job again (which
 * resets their nonces to their parts of 0..N-1), then let go together. Returns 0 when
 * nothing was measured (interrupted during initialisation, out of memory). */
static int measure_fixed(cm_workers *w, const options *o, const cm_job *job, bench_ud *c, run *r,
                         int first)
{
    int n = (int)o->threads;
    cm_workers_pause(w, 1);
    memset(c->sum, 0, (size_t)n * sizeof *c->sum);
    cm_workers_set_job(w, job);
    cm_workers_info info;
    if (first && !wait_ready(w, &info))
        return 0;
    uint64_t *h0 = calloc((size_t)n, sizeof *h0);
    if (!h0)
        return 0;
    for (int i = 0; i < n; i++)
        h0[i] = cm_workers_thread_hashes(w, i, NULL);
    uint64_t all0 = cm_workers_hashes(w);
    double t0 = cm_mono_ms(), pcpu0 = cm_process_cpu_ms();
    cm_workers_pause(w, 0);
    while (!interrupted && cm_workers_hashes(w) - all0 < (uint64_t)o->hashes)
        cm_sleep_ms(5);
    double t1 = cm_mono_ms();
    r->cpu_ms = cm_process_cpu_ms() - pcpu0;
    r->hashes = cm_workers_hashes(w) - all0;
    r->seconds = (t1 - t0) / 1e3;
    memset(r->checksum, 0, sizeof r->checksum);
    for (int i = 0; i < n; i++) {
        double done;
        r->thread_hashes[i] = cm_workers_thread_hashes(w, i, &done) - h0[i];
        r->thread_seconds[i] = ((done > 0 ? done : t1) - t0) / 1e3;
        for (int b = 0; b < CM_HASH_SIZE; b++)
            r->checksum[b] ^= c->sum[i][b];
    }
    free(h0);
    return 1;
}

/* One timed measurement: whatever the running workers hash in o->seconds. Returns 0
 * when nothing was measured (out of memory). */
static int measure_timed(cm_workers *w, const options *o, run *r)
{
    int n = (int)o->threads;
    uint64_t *h0 = calloc((size_t)n, sizeof *h0);
    if (!h0)
        return 0;
    for (int i = 0; i < n; i++)
        h0[i] = cm_workers_thread_hashes(w, i, NULL);
    uint64_t all0 = cm_workers_hashes(w);
    double t0 = cm_mono_ms(), pcpu0 = cm_process_cpu_ms();
    while (!interrupted && cm_mono_ms() - t0 < o->seconds * 1000)
        cm_sleep_ms(50);
    double t1 = cm_mono_ms();
    r->cpu_ms = cm_process_cpu_ms() - pcpu0;
    r->hashes = cm_workers_hashes(w) - all0;
    r->seconds = (t1 - t0) / 1e3;
    for (int i = 0; i < n; i++) {
        r->thread_hashes[i] = cm_workers_thread_hashes(w, i, NULL) - h0[i];
        r->thread_seconds[i] = r->seconds;
    }
    free(h0);
    return 1;
}

static void add_flag(void *ud, const char *flag)
{
    json_array_append_new(ud, json_string(flag));
}

static json_t *report_json(const options *o, const cm_workers_info *info, const cm_job *job,
                           const char *pages, run *runs, int nruns, double median, double lo,
                           double hi, int checksums_agree)
{
    char model[256], stamp[32], hex[2 * CM_BLOB_MAX + 1];
    cm_cpu_model(model, sizeof model);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *flags = json_array();
    cm_cpu_flags(add_flag, flags);

    uint64_t hashes = 0;
    double secs = 0, cpu_ms = 0;
    json_t *jruns = json_array();
    for (int k = 0; k < nruns; k++) {
        run *r = &runs[k];
        hashes += r->hashes;
        secs += r->seconds;
        cpu_ms += r->cpu_ms;
        json_t *per = json_array();
        for (int i = 0; i < o->threads; i++)
            json_array_append_new(
                per, json_pack("{s:I, s:f}", "hashes", (json_int_t)r->thread_hashes[i], "hashrate",
                               r->thread_seconds[i] > 0
                                   ? (double)r->thread_hashes[i] / r->thread_seconds[i]
                                   : 0.0));
        json_t *jr = json_pack("{s:I, s:f, s:f, s:o}", "hashes", (json_int_t)r->hashes, "seconds",
                               r->seconds, "hashrate", r->rate, "threads", per);
        if (o->hashes) {
            cm_hex_encode(r->checksum, CM_HASH_SIZE, hex);
            json_object_set_new(jr, "checksum", json_string(hex));
        }
        json_array_append_new(jruns, jr);
    }

    json_t *root = json_object();
    json_object_set_new(root, "version", json_string(CM_VERSION));
    json_object_set_new(root, "timestamp", json_string(stamp));
    json_object_set_new(
        root, "cpu",
        json_pack("{s:s, s:i, s:o}", "model", model, "count", cm_cpu_count(), "flags", flags));
    json_object_set_new(root, "mode", json_string(info->hashing_fast ? "fast" : "light"));
    json_object_set_new(root, "threads", json_integer(o->threads));
    json_object_set_new(root, "init_threads", json_integer(info->init_threads));
    json_object_set_new(root, "hashes", json_integer((json_int_t)hashes));
    json_object_set_new(root, "seconds", json_real(secs));
    json_object_set_new(root, "hashrate", json_real(median));
    json_object_set_new(root, "repeat", json_integer(nruns));
    json_object_set_new(root, "hashrate_min", json_real(lo));
    json_object_set_new(root, "hashrate_max", json_real(hi));
    json_object_set_new(root, "spread_pct", json_real(median > 0 ? 100 * (hi - lo) / median : 0));
    json_object_set_new(root, "init_seconds", json_real(info->init_seconds));
    json_object_set_new(root, "dataset_seconds", json_real(info->dataset_seconds));
    json_object_set_new(root, "dataset_init",
                        info->init_threads == 0
                            ? json_null()
                            : json_string(info->dataset_batched ? "batched" : "randomx"));
    json_object_set_new(root, "large_pages",
                        json_boolean(info->cache_large_pages || info->dataset_large_pages));
    json_object_set_new(root, "huge_pages", json_string(pages));
    json_object_set_new(root, "huge_page_detail",
                        json_pack("{s:b, s:b, s:b, s:b, s:s}", "cache_reserved",
                                  info->cache_large_pages, "dataset_reserved",
                                  info->dataset_large_pages, "cache_thp_advised",
                                  info->cache_thp, "dataset_thp_advised", info->dataset_thp,
                                  "thp_mode", cm_thp_mode()));
    json_object_set_new(root, "interrupted", json_boolean(interrupted));
    json_object_set_new(root, "cpu_seconds", json_real(cpu_ms / 1000.0));
    json_object_set_new(root, "hashes_per_cpu_second",
                        json_real(cpu_ms > 0 ? (double)hashes / (cpu_ms / 1000.0) : 0.0));
    json_object_set_new(root, "runs", jruns);
    if (o->hashes) {
        char key[2 * CM_SEED_HASH_SIZE + 1];
        cm_hex_encode(job->seed_hash, CM_SEED_HASH_SIZE, key);
        cm_hex_encode(job->blob, job->blob_len, hex);
        json_t *work =
            json_pack("{s:I, s:s, s:s, s:I, s:s}", "hashes", (json_int_t)o->hashes, "key", key,
                      "blob", hex, "nonce_offset", (json_int_t)job->nonce_offset, "checksum_of",
                      "XOR of the RandomX hashes of blob with nonce 0..hashes-1 "
                      "written as 4 little-endian bytes at nonce_offset");
        if (nruns > 0 && checksums_agree) {
            cm_hex_encode(runs[0].checksum, CM_HASH_SIZE, hex);
            json_object_set_new(work, "checksum", json_string(hex));
        } else {
            json_object_set_new(work, "checksum", json_null());
        }
        json_object_set_new(root, "work", work);
    }
    return root;
}

/* Measures as o says and prints the report; the exit status. */
static int bench_run(const options *o)
{
    cm_error err;
    cm_consent *consent = cm_consent_new();
    if (!consent ||
        cm_consent_grant(consent, cm_wall_ms(), CM_CONSENT_MAX_MS, (int)o->threads, 100, &err)) {
        fprintf(stderr, "consentminer bench: cannot record consent\n");
        cm_consent_free(consent);
        return 1;
    }
    int n = (int)o->threads;
    bench_ud ud = {.tty = isatty(2), .last_step = -1, .sum = calloc((size_t)n, sizeof *ud.sum)};
    run *runs = calloc((size_t)o->repeat, sizeof *runs);
    int ok = ud.sum && runs;
    for (long k = 0; ok && k < o->repeat; k++) {
        runs[k].thread_hashes = calloc((size_t)n, sizeof *runs[k].thread_hashes);
        runs[k].thread_seconds = calloc((size_t)n, sizeof *runs[k].thread_seconds);
        ok = runs[k].thread_hashes && runs[k].thread_seconds;
    }
    cm_workers_config cfg = {.threads = n,
                             .init_threads = (int)o->init_threads,
                             .mode = o->mode,
                             .large_pages = o->large_pages,
                             .throttle_pct = 100,
                             .consent = consent,
                             .fixed_nonces = (uint64_t)o->hashes,
                             .on_hash = o->hashes ? on_hash : NULL,
                             .on_progress = on_progress,
                             .on_event = on_event,
                             .ud = &ud};
    cm_workers *w = NULL;
    if (!ok) {
        fprintf(stderr, "consentminer bench: out of memory\n");
    } else if (cm_workers_new(&cfg, &w, &err)) {
        fprintf(stderr, "consentminer bench: %s\n", err.message);
        ok = 0;
    }
    if (!ok)
        goto done;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    cm_job job;
    bench_job(&job);
    cm_workers_info info;
    int nruns = 0;
    if (o->hashes) {
        while (nruns < o->repeat && !interrupted &&
               measure_fixed(w, o, &job, &ud, &runs[nruns], nruns == 0))
            nruns++;
    } else {
        cm_workers_set_job(w, &job);
        if (wait_ready(w, &info))
            while (nruns < o->repeat && !interrupted && measure_timed(w, o, &runs[nruns]))
                nruns++;
    }
    cm_workers_info_get(w, &info);
    measuring_done = 1;
    cm_consent_revoke(consent);
    cm_workers_free(w);

    double *rates = calloc((size_t)(nruns ? nruns : 1), sizeof *rates);
    double median = 0, lo = 0, hi = 0;
    int agree = 1;
    for (int k = 0; k < nruns; k++) {
        runs[k].rate = runs[k].seconds > 0 ? (double)runs[k].hashes / runs[k].seconds : 0;
        if (rates)
            rates[k] = runs[k].rate;
        lo = k == 0 || runs[k].rate < lo ? runs[k].rate : lo;
        hi = k == 0 || runs[k].rate > hi ? runs[k].rate : hi;
        if (memcmp(runs[k].checksum, runs[0].checksum, CM_HASH_SIZE) != 0)
            agree = 0;
    }
    if (nruns && rates)
        median = median_of(rates, nruns);
    free(rates);
    const char *pages = (info.cache_large_pages || info.dataset_large_pages)      ? "reserved"
                        : (o->large_pages && strcmp(cm_thp_mode(), "never") != 0) ? "transparent"
                                                                                  : "none";
    /* An interrupted fixed-work run hashed only part of its nonces: its checksum means
     * nothing and is not printed. */
    int complete = !interrupted && nruns == o->repeat;
    if (o->json) {
        json_t *root =
            report_json(o, &info, &job, pages, runs, nruns, median, lo, hi, agree && complete);
        char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(root);
    } else {
        uint64_t hashes = 0;
        double secs = 0;
        for (int k = 0; k < nruns; k++) {
            hashes += runs[k].hashes;
            secs += runs[k].seconds;
            if (o->repeat > 1)
                printf("run %d: %.1f H/s (%llu hashes in %.2f s)\n", k + 1, runs[k].rate,
                       (unsigned long long)runs[k].hashes, runs[k].seconds);
        }
        printf("mode %s, %d thread%s: %.1f H/s", info.hashing_fast ? "fast" : "light", n,
               n == 1 ? "" : "s", median);
        if (nruns > 1)
            printf(" (median of %d runs; min %.1f, max %.1f, spread %.1f%%)", nruns, lo, hi,
                   median > 0 ? 100 * (hi - lo) / median : 0);
        printf(" (%llu hashes in %.1f s); initialisation %.1f s", (unsigned long long)hashes, secs,
               info.init_seconds);
        if (info.init_threads)
            printf(" (dataset %.1f s on %d thread%s, %s)", info.dataset_seconds, info.init_threads,
                   info.init_threads == 1 ? "" : "s",
                   info.dataset_batched ? "batched" : "RandomX's code");
        printf("; huge pages: %s\n", pages);
        if (o->hashes && complete && agree) {
            char hex[2 * CM_HASH_SIZE + 1];
            cm_hex_encode(runs[0].checksum, CM_HASH_SIZE, hex);
            printf("checksum of %ld hashes: %s\n", o->hashes, hex);
        }
    }
    if (o->mode == CM_MODE_FAST && !info.hashing_fast)
        fprintf(stderr, "consentminer bench: fast mode was asked for but light mode ran\n");
    if (o->hashes && complete && !agree)
        fprintf(stderr,
                "consentminer bench: the checksums of the %d runs differ: the same "
                "work gave different hashes (faulty memory or CPU?)\n",
                nruns);
    ok = !(interrupted && nruns == 0) && !(o->hashes && complete && !agree);
done:
    for (long k = 0; runs && k < o->repeat; k++) {
        free(runs[k].thread_hashes);
        free(runs[k].thread_seconds);
    }
    free(runs);
    free(ud.sum);
    cm_consent_free(consent);
    return ok ? 0 : 1;
}

int cm_cmd_bench(int argc, char **argv)
{
    options o = {.mode = CM_MODE_FAST,
                 .threads = cm_cpu_count(),
                 .seconds = 20,
                 .repeat = 1,
                 .large_pages = 1};
    static const cli_spec spec = {"bench", "ht:", bench_longopts, usage, bench_take};
    int rc = cli_parse(&spec, argc, argv, &o);
    if (rc == 1) /* --help */
        return 0;
    if (rc == 0)
        rc = bench_check(&o);
    return rc ? rc : bench_run(&o);
}
