/* consentminer — mining threads and the seed thread (see workers.h). */
#include "workers.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "consentminer/hasher.h"
#include "consentminer/throttle.h"
#include "platform.h"

/* How long a throttled worker hashes before it asks the throttle for a pause: short
 * enough that the measured duty cycle follows a change within a second. */
#define CM_THROTTLE_SLICE_MS 250.0
/* Dataset items per chunk when building: small enough to stop quickly when the seed
 * changes again and to report progress smoothly (about 1000 chunks). */
#define CM_DATASET_CHUNK 32768UL

typedef struct worker {
    cm_workers *w;
    int index;
    uv_thread_t tid;
    cm_hasher *hasher;
    cm_nonce_range nonces;
    uint64_t job_gen;       /* the job generation its nonce slice belongs to */
    int exhausted;          /* slice used up for job_gen */
    cm_throttle throttle;
    /* per batch, for counting hashes as they complete */
    uint64_t state_gen;
    uint64_t calls;
    uint64_t counted;       /* hashes of this batch already added to the counters */
    double slice_start;
    int throttled;
    atomic_uint_fast64_t hashes;
    double done_ms;         /* guarded by w->mu: fixed work finished at (cm_mono_ms) */
} worker;

struct cm_workers {
    cm_workers_config cfg;
    uv_mutex_t mu;
    uv_cond_t cv;
    worker *workers;
    uv_thread_t seed_tid;
    int started;

    /* guarded by mu */
    cm_job job;
    uint64_t job_gen;
    int have_job;
    int stopping;
    int paused;
    int hashing;            /* workers inside a batch */
    int cache_ready;        /* cache holds cache_seed */
    uint8_t cache_seed[CM_SEED_HASH_SIZE];
    int ds_ready;           /* dataset built for cache_seed */
    int ds_ever_ready;
    int fast;               /* fast mode still wanted (dataset allocated) */
    int throttle_pct;
    cm_workers_info info;
    double start_ms;

    cm_rx_cache *cache;
    cm_rx_dataset *dataset;

    /* read without the lock */
    atomic_uint_fast64_t state_gen; /* bumped whenever workers must leave their batch */
    atomic_uint_fast64_t hashes;
    atomic_uint_fast64_t busy_us;
    atomic_int build_abort;
    atomic_ulong build_done;
};

static void event(cm_workers *w, const char *fmt, const char *arg)
{
    if (!w->cfg.on_event)
        return;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    w->cfg.on_event(w->cfg.ud, msg);
}

/* Sizes of what RandomX allocates (RandomX spec: 256 MiB cache, 2080 MiB dataset, 2 MiB
 * scratchpad per VM). */
#define CM_CACHE_BYTES (256ull << 20)
#define CM_DATASET_BYTES (2080ull << 20)
#define CM_SCRATCHPAD_BYTES (2ull << 20)

/* CM_RX_LARGE_PAGES only when reserved huge pages for `bytes` are free right now: librandomx
 * 1.1.10 leaks its cache object when a large-page allocation fails (seen under
 * LeakSanitizer), and a doomed attempt is wasted time anyway. Transparent huge pages are
 * advised separately, whatever this says. */
static unsigned reserved_pages_for(const cm_workers *w, uint64_t bytes)
{
    return w->cfg.large_pages && cm_huge_pages_free_bytes() >= bytes ? CM_RX_LARGE_PAGES : 0;
}

static int64_t clock_cb(void *ud)
{
    (void)ud;
    return cm_wall_ms();
}

/* Called by core before every hash: counts the one just completed and tells the loop to
 * stop when the state moved on or the throttle slice is over. Core calls it once before
 * the batch's first hash and then before each hash, so the third call is the first to
 * follow a completed hash: counting earlier would count a hash still being computed
 * (and a benchmark would read its checksum before the last hash is in). */
static int stop_cb(void *ud)
{
    worker *k = ud;
    cm_workers *w = k->w;
    if (k->calls++ >= 2) {
        k->counted++;
        atomic_fetch_add(&k->hashes, 1);
        atomic_fetch_add(&w->hashes, 1);
    }
    if (atomic_load(&w->state_gen) != k->state_gen)
        return 1;
    if (k->throttled && cm_mono_ms() - k->slice_start >= CM_THROTTLE_SLICE_MS)
        return 1;
    return 0;
}

static int share_cb(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[32])
{
    worker *k = ud;
    if (k->w->cfg.on_share)
        k->w->cfg.on_share(k->w->cfg.ud, job, nonce, hash);
    return 0;
}

static int hash_cb(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[32])
{
    (void)job;
    worker *k = ud;
    k->w->cfg.on_hash(k->w->cfg.ud, k->index, nonce, hash);
    return 0;
}

/* Worker k's nonces of the current job: its slice of the whole space, or of
 * [0, fixed_nonces) for a benchmark's fixed work. */
static void take_slice(cm_workers *w, worker *k)
{
    uint64_t n = w->cfg.fixed_nonces, t = (uint64_t)w->cfg.threads;
    if (n == 0) {
        cm_nonce_range_init(&k->nonces, (uint32_t)k->index, (uint32_t)t, w->job.nicehash,
                            w->job.nicehash_byte, NULL);
        return;
    }
    k->nonces.first = n * (uint64_t)k->index / t;
    k->nonces.end = n * ((uint64_t)k->index + 1) / t;
    k->nonces.next = k->nonces.first;
    k->nonces.fixed = 0;
}

static void wait_ms(cm_workers *w, double ms)
{
    /* caller holds mu; wakes early on any broadcast (stop, job, pause) */
    if (ms > 0)
        uv_cond_timedwait(&w->cv, &w->mu, (uint64_t)(ms * 1e6));
}

static void worker_main(void *arg)
{
    worker *k = arg;
    cm_workers *w = k->w;
    cm_job job;
    cm_error err;
    double idle_ms = 0;

    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stopping &&
               (w->paused || !w->have_job || !w->cache_ready ||
                memcmp(w->cache_seed, w->job.seed_hash, CM_SEED_HASH_SIZE) != 0 ||
                (w->fast && !w->ds_ready && !w->ds_ever_ready) ||
                (k->exhausted && k->job_gen == w->job_gen)))
            uv_cond_wait(&w->cv, &w->mu);
        if (w->stopping)
            break;
        int use_fast = w->fast && w->ds_ready;
        if (k->job_gen != w->job_gen) {
            k->job_gen = w->job_gen;
            k->exhausted = 0;
            k->done_ms = 0;
            take_slice(w, k);
        }
        job = w->job;
        int pct = w->throttle_pct;
        k->state_gen = atomic_load(&w->state_gen);
        w->hashing++;
        uv_mutex_unlock(&w->mu);

        int rc = CM_OK;
        cm_rx_dataset *ds = use_fast ? w->dataset : NULL;
        unsigned lp = reserved_pages_for(w, CM_SCRATCHPAD_BYTES);
        if (!k->hasher)
            rc = cm_hasher_new(lp, w->cache, ds, &k->hasher, &err);
        else if (cm_hasher_is_fast(k->hasher) != use_fast)
            rc = cm_hasher_use(k->hasher, w->cache, ds, &err);
        if (rc) {
            event(w, "worker cannot create a RandomX VM: %s", err.message);
        } else {
            cm_throttle_set(&k->throttle, pct);
            k->throttled = pct < 100;
            k->calls = 0;
            k->counted = 0;
            k->slice_start = cm_mono_ms();
            double cpu0 = cm_thread_cpu_ms();
            cm_batch b = {.job = &job,
                          .nonces = &k->nonces,
                          .consent = w->cfg.consent,
                          .thread_index = k->index,
                          .throttle_pct = pct,
                          .clock = clock_cb,
                          .on_share = share_cb,
                          .share_ud = k,
                          .should_stop = stop_cb,
                          .stop_ud = k,
                          .on_hash = w->cfg.on_hash ? hash_cb : NULL,
                          .hash_ud = k};
            rc = cm_hasher_mine(k->hasher, &b);
            /* stop_cb counted every completed hash but the batch's last one */
            if (b.hashes > k->counted) {
                uint64_t rest = b.hashes - k->counted;
                atomic_fetch_add(&k->hashes, rest);
                atomic_fetch_add(&w->hashes, rest);
            }
            double busy = cm_thread_cpu_ms() - cpu0;
            atomic_fetch_add(&w->busy_us, (uint_fast64_t)(busy * 1000));
            if (k->throttled && rc == CM_E_STOPPED)
                idle_ms = cm_throttle_account(&k->throttle, busy, idle_ms);
            else
                idle_ms = 0;
        }

        uv_mutex_lock(&w->mu);
        w->hashing--;
        uv_cond_broadcast(&w->cv);
        if (rc == CM_E_NONCE_EXHAUSTED) {
            k->exhausted = 1;
            if (w->cfg.fixed_nonces)
                k->done_ms = cm_mono_ms();
            else
                event(w, "a worker used up its nonce range; waiting for the next job%s", NULL);
        } else if (rc == CM_E_NO_CONSENT || rc == CM_E_CONSENT_EXPIRED ||
                   rc == CM_E_CONSENT_REVOKED) {
            /* Core refused: wait for the caller to stop us or grant again. */
            event(w, "hashing stopped: %s", cm_strerror(rc));
            uint64_t gen = atomic_load(&w->state_gen);
            while (!w->stopping && atomic_load(&w->state_gen) == gen)
                wait_ms(w, 1000);
        } else if (rc != CM_OK && rc != CM_E_STOPPED && rc != CM_E_STATE) {
            event(w, "worker error: %s", cm_strerror(rc));
            wait_ms(w, 1000);
        }
        if (idle_ms > 0 && !w->stopping) {
            double t0 = cm_mono_ms();
            wait_ms(w, idle_ms);
            idle_ms = cm_mono_ms() - t0;
        }
    }
    uv_mutex_unlock(&w->mu);
}

typedef struct builder {
    cm_workers *w;
    unsigned long start, count;
    uv_thread_t tid;
} builder;

static void build_main(void *arg)
{
    builder *b = arg;
    cm_workers *w = b->w;
    for (unsigned long i = 0; i < b->count; i += CM_DATASET_CHUNK) {
        if (atomic_load(&w->build_abort))
            return;
        unsigned long n = b->count - i < CM_DATASET_CHUNK ? b->count - i : CM_DATASET_CHUNK;
        cm_rx_dataset_init_range(w->dataset, w->cache, b->start + i, n);
        atomic_fetch_add(&w->build_done, n);
    }
}

/* Builds the dataset from the cache on init_threads threads; returns 1 when complete. */
static int build_dataset(cm_workers *w, int n)
{
    builder *bs = calloc((size_t)n, sizeof *bs);
    if (!bs)
        return 0;
    atomic_store(&w->build_abort, 0);
    atomic_store(&w->build_done, 0);
    int started = 0;
    for (int i = 0; i < n; i++) {
        bs[i].w = w;
        cm_rx_dataset_range((unsigned)i, (unsigned)n, &bs[i].start, &bs[i].count);
        if (uv_thread_create(&bs[i].tid, build_main, &bs[i]) == 0)
            started++;
        else
            break;
    }
    unsigned long total = cm_rx_dataset_item_count();
    unsigned long expect = 0;
    for (int i = 0; i < started; i++)
        expect += bs[i].count;
    while (atomic_load(&w->build_done) < expect && !atomic_load(&w->build_abort)) {
        cm_sleep_ms(200);
        if (w->cfg.on_progress)
            w->cfg.on_progress(w->cfg.ud, "dataset",
                               (double)atomic_load(&w->build_done) / (double)total);
    }
    for (int i = 0; i < started; i++)
        uv_thread_join(&bs[i].tid);
    free(bs);
    int ok = started == n && !atomic_load(&w->build_abort);
    if (ok && w->cfg.on_progress)
        w->cfg.on_progress(w->cfg.ud, "dataset", 1.0);
    return ok;
}

static void seed_main(void *arg)
{
    cm_workers *w = arg;
    uint8_t seed[CM_SEED_HASH_SIZE];
    cm_error err;

    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stopping &&
               !(w->have_job && (!w->cache_ready || memcmp(w->cache_seed, w->job.seed_hash,
                                                           CM_SEED_HASH_SIZE) != 0)))
            uv_cond_wait(&w->cv, &w->mu);
        if (w->stopping)
            break;
        memcpy(seed, w->job.seed_hash, CM_SEED_HASH_SIZE);
        /* The cache is about to be rewritten: every worker leaves its batch first. */
        w->cache_ready = 0;
        w->ds_ready = 0;
        atomic_fetch_add(&w->state_gen, 1);
        uv_cond_broadcast(&w->cv);
        while (w->hashing > 0 && !w->stopping)
            uv_cond_wait(&w->cv, &w->mu);
        if (w->stopping)
            break;
        uv_mutex_unlock(&w->mu);

        int rc = cm_rx_cache_set_seed(w->cache, seed, sizeof seed, NULL, &err);

        uv_mutex_lock(&w->mu);
        if (rc) {
            event(w, "cannot build the RandomX cache: %s", err.message);
            continue;
        }
        memcpy(w->cache_seed, seed, sizeof seed);
        w->cache_ready = 1;
        atomic_fetch_add(&w->state_gen, 1);
        uv_cond_broadcast(&w->cv);
        if (!w->fast) {
            if (!w->info.ready) {
                w->info.ready = 1;
                w->info.init_seconds = (cm_mono_ms() - w->start_ms) / 1e3;
            }
            continue;
        }
        if (w->ds_ever_ready)
            event(w, "new seed: hashing in light mode while the dataset rebuilds%s", NULL);
        int init_threads = w->cfg.init_threads > 0 ? w->cfg.init_threads : cm_cpu_count();
        w->info.init_threads = init_threads;
        uv_mutex_unlock(&w->mu);

        double t0 = cm_mono_ms();
        int built = build_dataset(w, init_threads);
        double build_s = (cm_mono_ms() - t0) / 1e3;

        uv_mutex_lock(&w->mu);
        if (built && w->cache_ready && !memcmp(w->cache_seed, seed, sizeof seed)) {
            cm_rx_dataset_finish(w->dataset, w->cache);
            w->ds_ready = 1;
            w->info.dataset_seconds = build_s;
            w->info.dataset_batched = cm_rx_cache_fast_init(w->cache);
            if (w->ds_ever_ready)
                event(w, "dataset rebuilt: back to fast mode%s", NULL);
            w->ds_ever_ready = 1;
            w->info.hashing_fast = 1;
            if (!w->info.ready) {
                w->info.ready = 1;
                w->info.init_seconds = (cm_mono_ms() - w->start_ms) / 1e3;
            }
            atomic_fetch_add(&w->state_gen, 1);
            uv_cond_broadcast(&w->cv);
        }
    }
    uv_mutex_unlock(&w->mu);
}

int cm_workers_new(const cm_workers_config *cfg, cm_workers **out, cm_error *err)
{
    if (!cfg || !out)
        return cm_error_set(err, CM_E_INVAL, "workers config or output is NULL");
    *out = NULL;
    if (cfg->threads < 1 || cfg->threads > CM_CONSENT_MAX_THREADS)
        return cm_error_set(err, CM_E_INVAL, "threads is %d; expected 1..%d", cfg->threads,
                            CM_CONSENT_MAX_THREADS);
    if (cfg->init_threads < 0 || cfg->init_threads > CM_CONSENT_MAX_THREADS)
        return cm_error_set(err, CM_E_INVAL, "init threads is %d; expected 0 (every CPU) or 1..%d",
                            cfg->init_threads, CM_CONSENT_MAX_THREADS);
    if (cfg->throttle_pct < 1 || cfg->throttle_pct > 100)
        return cm_error_set(err, CM_E_INVAL, "throttle is %d%%; expected 1..100",
                            cfg->throttle_pct);
    if (!cfg->consent)
        return cm_error_set(err, CM_E_NO_CONSENT, "workers need a consent record");
    cm_workers *w = calloc(1, sizeof *w);
    if (!w)
        return cm_error_set(err, CM_E_NOMEM, "out of memory");
    w->cfg = *cfg;
    w->throttle_pct = cfg->throttle_pct;
    w->start_ms = cm_mono_ms();
    uv_mutex_init(&w->mu);
    uv_cond_init(&w->cv);
    unsigned lp = reserved_pages_for(w, CM_CACHE_BYTES);
    int rc = cm_rx_cache_new(lp, &w->cache, err);
    if (rc)
        goto fail;
    w->info.cache_large_pages = cm_rx_cache_large_pages(w->cache);
    if (!w->info.cache_large_pages && cfg->large_pages) {
        /* Before the first seed fills it, so its pages fault in huge where the kernel
         * allows (transparent huge pages in madvise mode). */
        size_t size;
        void *mem = cm_rx_cache_memory(w->cache, &size);
        w->info.cache_thp = cm_advise_huge_pages(mem, size);
    }
    if (cfg->mode == CM_MODE_FAST) {
        rc = cm_rx_dataset_new(reserved_pages_for(w, CM_DATASET_BYTES), &w->dataset, err);
        if (rc) {
            event(w, "fast mode unavailable (%s); hashing in light mode", err->message);
            w->dataset = NULL;
        } else {
            w->fast = 1;
            w->info.dataset_large_pages = cm_rx_dataset_large_pages(w->dataset);
            if (!w->info.dataset_large_pages && cfg->large_pages) {
                size_t size;
                void *mem = cm_rx_dataset_memory(w->dataset, &size);
                w->info.dataset_thp = cm_advise_huge_pages(mem, size);
            }
        }
    }
    w->workers = calloc((size_t)cfg->threads, sizeof *w->workers);
    if (!w->workers) {
        rc = cm_error_set(err, CM_E_NOMEM, "out of memory");
        goto fail;
    }
    if (uv_thread_create(&w->seed_tid, seed_main, w)) {
        rc = cm_error_set(err, CM_E_NOMEM, "cannot start the seed thread");
        goto fail;
    }
    w->started = 1;
    for (int i = 0; i < cfg->threads; i++) {
        w->workers[i].w = w;
        w->workers[i].index = i;
        cm_throttle_set(&w->workers[i].throttle, cfg->throttle_pct);
        if (uv_thread_create(&w->workers[i].tid, worker_main, &w->workers[i])) {
            cm_workers_free(w);
            return cm_error_set(err, CM_E_NOMEM, "cannot start worker thread %d", i);
        }
        w->started++;
    }
    *out = w;
    cm_error_clear(err);
    return CM_OK;
fail:
    cm_rx_dataset_free(w->dataset);
    cm_rx_cache_free(w->cache);
    free(w->workers);
    uv_cond_destroy(&w->cv);
    uv_mutex_destroy(&w->mu);
    free(w);
    return rc;
}

void cm_workers_set_job(cm_workers *w, const cm_job *job)
{
    uv_mutex_lock(&w->mu);
    w->job = *job;
    w->have_job = 1;
    w->job_gen++;
    atomic_fetch_add(&w->state_gen, 1);
    if (w->cache_ready && memcmp(w->cache_seed, job->seed_hash, CM_SEED_HASH_SIZE) != 0)
        atomic_store(&w->build_abort, 1);
    uv_cond_broadcast(&w->cv);
    uv_mutex_unlock(&w->mu);
}

void cm_workers_set_throttle(cm_workers *w, int pct)
{
    if (pct < 1 || pct > 100)
        return;
    uv_mutex_lock(&w->mu);
    w->throttle_pct = pct;
    atomic_fetch_add(&w->state_gen, 1);
    uv_cond_broadcast(&w->cv);
    uv_mutex_unlock(&w->mu);
}

void cm_workers_pause(cm_workers *w, int paused)
{
    uv_mutex_lock(&w->mu);
    w->paused = paused;
    atomic_fetch_add(&w->state_gen, 1);
    uv_cond_broadcast(&w->cv);
    uv_mutex_unlock(&w->mu);
}

uint64_t cm_workers_hashes(cm_workers *w)
{
    return atomic_load(&w->hashes);
}

uint64_t cm_workers_thread_hashes(cm_workers *w, int i, double *done_ms)
{
    if (i < 0 || i >= w->cfg.threads) {
        if (done_ms)
            *done_ms = 0;
        return 0;
    }
    if (done_ms) {
        uv_mutex_lock(&w->mu);
        *done_ms = w->workers[i].done_ms;
        uv_mutex_unlock(&w->mu);
    }
    return atomic_load(&w->workers[i].hashes);
}

double cm_workers_busy_ms(cm_workers *w)
{
    return (double)atomic_load(&w->busy_us) / 1000.0;
}

void cm_workers_info_get(cm_workers *w, cm_workers_info *info)
{
    uv_mutex_lock(&w->mu);
    *info = w->info;
    info->hashing_fast = w->fast && w->ds_ready;
    uv_mutex_unlock(&w->mu);
}

void cm_workers_stop(cm_workers *w)
{
    if (!w || !w->started)
        return;
    uv_mutex_lock(&w->mu);
    w->stopping = 1;
    atomic_fetch_add(&w->state_gen, 1);
    atomic_store(&w->build_abort, 1);
    uv_cond_broadcast(&w->cv);
    uv_mutex_unlock(&w->mu);
    uv_thread_join(&w->seed_tid);
    for (int i = 0; i < w->started - 1; i++)
        uv_thread_join(&w->workers[i].tid);
    w->started = 0;
}

void cm_workers_free(cm_workers *w)
{
    if (!w)
        return;
    cm_workers_stop(w);
    for (int i = 0; i < w->cfg.threads; i++)
        cm_hasher_free(w->workers[i].hasher);
    free(w->workers);
    cm_rx_dataset_free(w->dataset);
    cm_rx_cache_free(w->cache);
    uv_cond_destroy(&w->cv);
    uv_mutex_destroy(&w->mu);
    free(w);
}
