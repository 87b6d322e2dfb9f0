/* consentminer — mining threads around the core's mining loop.
 *
 * One thread per requested worker, each with its own cm_hasher, plus one seed thread that
 * (re)builds the RandomX cache when a job brings a new seed and, in fast mode, the
 * dataset with progress on init_threads threads: by default every CPU, whatever the
 * number of mining threads, because the dataset is a one-off wait before the first hash
 * and at each seed change (issue 18: 44 s on one thread, 23 s on two, here). When the
 * seed changes after the first dataset
 * was built, workers keep hashing in light mode from the new cache while the new dataset
 * builds, then switch back to fast mode: an epoch switch costs the cache rebuild
 * (about 0.7 s here), not the dataset's 20 s.
 * The consent record is checked by core before every hash: revoking it stops every
 * worker before its next hash. Callbacks run on worker threads; marshal them to your
 * loop (uv_async_send).
 */
#ifndef CM_NATIVE_WORKERS_H
#define CM_NATIVE_WORKERS_H

#include <stdint.h>
#include "consentminer/consent.h"
#include "consentminer/error.h"
#include "consentminer/job.h"

typedef enum cm_mode { CM_MODE_LIGHT = 0, CM_MODE_FAST = 1 } cm_mode;

typedef struct cm_workers cm_workers;

typedef struct cm_workers_config {
    int threads;          /* 1..CM_CONSENT_MAX_THREADS */
    cm_mode mode;         /* fast falls back to light (reported) when the dataset can't be had */
    int large_pages;      /* try reserved large pages, else advise transparent huge pages */
    int throttle_pct;     /* 1..100: share of each thread's time spent hashing */
    cm_consent *consent;  /* required; core checks it before every hash */
    /* A hash below the job's target. */
    void (*on_share)(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[32]);
    /* Progress of a long step ("dataset", 0..1). */
    void (*on_progress)(void *ud, const char *what, double fraction);
    /* Something the person running it should know (fallbacks, mode switches, errors). */
    void (*on_event)(void *ud, const char *message);
    void *ud;
    /* Threads building the fast-mode dataset, 1..CM_CONSENT_MAX_THREADS; 0: every CPU. */
    int init_threads;
    /* Benchmarks: when > 0, each job's work is exactly nonces [0, fixed_nonces), split
     * between the threads; a worker idles once its part is done (no event), until the
     * next cm_workers_set_job (even of the same job) starts the same work again. */
    uint64_t fixed_nonces;
    /* Every hash, share or not, on the worker thread `worker` (0..threads-1); may be NULL. */
    void (*on_hash)(void *ud, int worker, uint32_t nonce, const uint8_t hash[32]);
} cm_workers_config;

typedef struct cm_workers_info {
    int hashing_fast;          /* 1 while hashing from a dataset */
    int cache_large_pages;     /* reserved large pages for the cache */
    int dataset_large_pages;   /* reserved large pages for the dataset */
    int dataset_thp;           /* transparent huge pages advised for the dataset */
    int cache_thp;             /* ... and for the cache */
    double init_seconds;       /* first cache (+ dataset) build, seconds; 0 until done */
    int ready;                 /* 1 once the first job's memory is built */
    int init_threads;          /* threads that built (or build) the dataset; 0 in light mode */
    double dataset_seconds;    /* the last complete dataset build, seconds; 0 until one */
    int dataset_batched;       /* 1: built by core's batched SuperscalarHash (issue 18) */
} cm_workers_info;

/* Starts the threads; they idle until a job arrives. Errors: CM_E_INVAL, CM_E_NOMEM. */
int cm_workers_new(const cm_workers_config *cfg, cm_workers **out, cm_error *err);

/* Replaces the work. Every worker leaves its batch before its next hash and takes a fresh
 * nonce slice of the new job (NiceHash honoured). */
void cm_workers_set_job(cm_workers *w, const cm_job *job);

void cm_workers_set_throttle(cm_workers *w, int pct);
void cm_workers_pause(cm_workers *w, int paused);

/* Completed hashes of all workers since start. */
uint64_t cm_workers_hashes(cm_workers *w);
/* Completed hashes of worker i (0..threads-1) since start; with fixed_nonces, *done_ms
 * (may be NULL) is the cm_mono_ms() at which it finished its part of the current job,
 * 0 while it has not. */
uint64_t cm_workers_thread_hashes(cm_workers *w, int i, double *done_ms);
/* CPU time the workers spent hashing, milliseconds (thread CPU clocks). */
double cm_workers_busy_ms(cm_workers *w);
void cm_workers_info_get(cm_workers *w, cm_workers_info *info);

/* Stops every thread (each within one hash) and joins them. */
void cm_workers_stop(cm_workers *w);
/* Stops if needed and frees everything. */
void cm_workers_free(cm_workers *w);

#endif
