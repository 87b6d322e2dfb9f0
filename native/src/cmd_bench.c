/* consentminer bench — hashes per second with the same mining threads `mine` uses.
 * Running this command is the consent: it grants a record for its own run only. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"
#include "commands.h"
#include "consentminer/consent.h"
#include "consentminer/job.h"
#include "consentminer/target.h"
#include "platform.h"
#include "workers.h"

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
            "usage: consentminer bench [--mode fast|light] [--threads N] [--seconds S] [--json]\n"
            "                          [--no-large-pages]\n\n"
            "Hashes a synthetic job with the mining loop and reports hashes per second.\n\n"
            "  --mode fast|light  fast: 2080 MiB dataset, built first on all threads;\n"
            "                     light: 256 MiB cache only (default: fast)\n"
            "  --threads N        mining threads, 1..256 (default: number of CPUs, %d here)\n"
            "  --seconds S        how long to hash after initialisation, 1..86400 (default 20)\n"
            "  --json             print one JSON object instead of text\n"
            "  --no-large-pages   use neither reserved nor transparent huge pages\n"
            "  -h, --help         show this help\n\n"
            "Ctrl-C stops early and reports what was measured.\n",
            cm_cpu_count());
}

typedef struct progress {
    int tty;
    int last_step;
} progress;

static void on_progress(void *ud, const char *what, double fraction)
{
    progress *p = ud;
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

/* A job shaped like Monero's: header major 16, minor 16, a 5-byte timestamp varint,
 * a 32-byte previous id, then the nonce at offset 39. The target is so hard that no
 * share is found, as in RandomX's own benchmark. */
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

int cm_cmd_bench(int argc, char **argv)
{
    cm_mode mode = CM_MODE_FAST;
    long threads = cm_cpu_count();
    double seconds = 20;
    int json = 0, large_pages = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--mode")) {
            if (!(v = cm_arg_value(argc, argv, &i)))
                return 2;
            if (!strcmp(v, "fast"))
                mode = CM_MODE_FAST;
            else if (!strcmp(v, "light"))
                mode = CM_MODE_LIGHT;
            else {
                fprintf(stderr, "consentminer bench: --mode is '%s'; expected fast or light\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = cm_arg_value(argc, argv, &i)) || cm_arg_int("--threads", v, 1, 256, &threads))
                return 2;
        } else if (!strcmp(a, "--seconds")) {
            if (!(v = cm_arg_value(argc, argv, &i)) ||
                cm_arg_double("--seconds", v, 1, 86400, &seconds))
                return 2;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-large-pages")) {
            large_pages = 0;
        } else {
            fprintf(stderr, "consentminer bench: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }

    cm_error err;
    cm_consent *consent = cm_consent_new();
    if (!consent || cm_consent_grant(consent, cm_wall_ms(), CM_CONSENT_MAX_MS, (int)threads, 100,
                                     &err)) {
        fprintf(stderr, "consentminer bench: cannot record consent\n");
        cm_consent_free(consent);
        return 1;
    }
    progress prog = {.tty = isatty(2), .last_step = -1};
    cm_workers_config cfg = {.threads = (int)threads,
                             .mode = mode,
                             .large_pages = large_pages,
                             .throttle_pct = 100,
                             .consent = consent,
                             .on_progress = on_progress,
                             .on_event = on_event,
                             .ud = &prog};
    cm_workers *w = NULL;
    if (cm_workers_new(&cfg, &w, &err)) {
        fprintf(stderr, "consentminer bench: %s\n", err.message);
        cm_consent_free(consent);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    cm_job job;
    bench_job(&job);
    cm_workers_set_job(w, &job);
    cm_workers_info info;
    do {
        cm_sleep_ms(20);
        cm_workers_info_get(w, &info);
    } while (!info.ready && !interrupted);

    uint64_t h0 = cm_workers_hashes(w);
    double t0 = cm_mono_ms(), cpu0 = cm_workers_busy_ms(w), pcpu0 = cm_process_cpu_ms();
    while (!interrupted && cm_mono_ms() - t0 < seconds * 1000)
        cm_sleep_ms(50);
    uint64_t h1 = cm_workers_hashes(w);
    double t1 = cm_mono_ms(), cpu1 = cm_workers_busy_ms(w), pcpu1 = cm_process_cpu_ms();
    cm_workers_info_get(w, &info);
    measuring_done = 1;
    cm_consent_revoke(consent);
    cm_workers_free(w);
    cm_consent_free(consent);

    double secs = (t1 - t0) / 1000.0;
    uint64_t hashes = h1 - h0;
    double rate = secs > 0 ? (double)hashes / secs : 0;
    const char *mode_name = info.hashing_fast ? "fast" : "light";
    const char *pages = (info.cache_large_pages || info.dataset_large_pages) ? "reserved"
                        : (large_pages && strcmp(cm_thp_mode(), "never") != 0) ? "transparent"
                                                                               : "none";
    (void)cpu0;
    (void)cpu1;
    if (json) {
        printf("{\"mode\":\"%s\",\"threads\":%ld,\"hashes\":%llu,\"seconds\":%.3f,"
               "\"hashrate\":%.2f,\"init_seconds\":%.3f,\"large_pages\":%s,\"huge_pages\":\"%s\","
               "\"interrupted\":%s,\"cpu_seconds\":%.3f,\"hashes_per_cpu_second\":%.3f}\n",
               mode_name, threads, (unsigned long long)hashes, secs, rate, info.init_seconds,
               (info.cache_large_pages || info.dataset_large_pages) ? "true" : "false", pages,
               interrupted ? "true" : "false", (pcpu1 - pcpu0) / 1000.0,
               pcpu1 > pcpu0 ? (double)hashes / ((pcpu1 - pcpu0) / 1000.0) : 0.0);
    } else {
        printf("mode %s, %ld thread%s: %.1f H/s (%llu hashes in %.1f s); initialisation %.1f s; "
               "huge pages: %s\n",
               mode_name, threads, threads == 1 ? "" : "s", rate, (unsigned long long)hashes, secs,
               info.init_seconds, pages);
    }
    if (mode == CM_MODE_FAST && !info.hashing_fast)
        fprintf(stderr, "consentminer bench: fast mode was asked for but light mode ran\n");
    return interrupted && hashes == 0 ? 1 : 0;
}
