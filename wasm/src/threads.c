/* consentminer wasm — mining threads that share one RandomX cache (shared-memory build).
 *
 * When the page is cross-origin isolated, one module instance on a SharedArrayBuffer
 * runs in a controller worker, and each mining thread is a pthread (a Web Worker that
 * Emscripten starts on the same memory). All of them hash from one 256 MiB cache
 * instead of one cache per worker.
 *
 * The controller calls the cm_wasm_mt_* functions below: start, a new job, throttle,
 * thread count, pause, and a poll of counters and shares. Mining threads wait on a
 * condition variable when there is nothing to do, and stop a batch before the next hash
 * when the job, the thread count or the pause state changes (cm_batch.should_stop).
 * A new seed is installed under the cache's write lock, after every thread has let go
 * of its read lock at the end of its current hash. Stopping is the embedder terminating
 * the controller worker, which ends its pthread workers with it; cm_wasm_mt_stop only
 * makes the threads exit on their own, between hashes.
 * Consent is the session's record (session.c), checked by core before every hash.
 */
#include <emscripten/emscripten.h>
#include <emscripten/threading.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "session.h"

#define MT_MAX CM_CONSENT_MAX_THREADS
#define MT_SHARES 64
/* A throttled thread sleeps in slices this long, so that pause, stop and new jobs are
 * seen within a slice. */
#define MT_SLEEP_SLICE_MS 50.0

typedef struct mt_share {
    char job_id[CM_JOB_ID_MAX + 1];
    uint32_t nonce;
    uint8_t hash[CM_HASH_SIZE];
} mt_share;

typedef struct mt_thread {
    pthread_t tid;
    int index;
    _Atomic uint64_t hashes;
    _Atomic uint64_t busy_us; /* time spent inside cm_hasher_mine */
    _Atomic int error;        /* last error that stopped this thread's hashing, or 0 */
} mt_thread;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_rwlock_t cache_lock;
    /* under lock */
    cm_job job;
    int have_job;
    mt_share shares[MT_SHARES];
    int share_head, share_count;
    uint64_t shares_dropped;
    /* read by threads without the lock */
    _Atomic unsigned generation; /* bumped by every job, thread count or pause change */
    _Atomic int active;          /* threads 0..active-1 hash */
    _Atomic int throttle;
    _Atomic int paused;
    _Atomic int quit;
    _Atomic int32_t stop_flag; /* set by the page itself through shared memory */
    _Atomic int reseeding;
    /* controller only */
    cm_rx_cache *cache;
    int spawned;
    mt_thread t[MT_MAX];
} M = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .wake = PTHREAD_COND_INITIALIZER,
       .cache_lock = PTHREAD_RWLOCK_INITIALIZER};

static double now_ms(void)
{
    return emscripten_get_now();
}

static int64_t clock_cb(void *ud)
{
    (void)ud;
    return cm_wasm_now_ms();
}

/* Wakes every thread to look at the shared state again. */
static void bump(void)
{
    pthread_mutex_lock(&M.lock);
    atomic_fetch_add(&M.generation, 1);
    pthread_cond_broadcast(&M.wake);
    pthread_mutex_unlock(&M.lock);
}

static int should_stop(void *ud)
{
    unsigned gen = (unsigned)(uintptr_t)ud;
    return atomic_load(&M.quit) || atomic_load(&M.stop_flag) || atomic_load(&M.reseeding) ||
           atomic_load(&M.generation) != gen;
}

/* Called inside RandomX between programs and during the cache fill (yield.c): once the
 * page has set the stop flag, this thread sleeps, using no CPU, until its worker ends. */
void cm_wasm_mt_yield_point(void)
{
    while (atomic_load(&M.stop_flag))
        emscripten_thread_sleep(1000);
}

EMSCRIPTEN_KEEPALIVE int32_t *cm_wasm_mt_stop_flag(void)
{
    return (int32_t *)&M.stop_flag;
}

static int on_share(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[CM_HASH_SIZE])
{
    (void)ud;
    pthread_mutex_lock(&M.lock);
    if (M.share_count == MT_SHARES) {
        /* the controller polls several times a second; losing one means it is stuck */
        M.share_head = (M.share_head + 1) % MT_SHARES;
        M.share_count--;
        M.shares_dropped++;
    }
    mt_share *s = &M.shares[(M.share_head + M.share_count) % MT_SHARES];
    memcpy(s->job_id, job->job_id, sizeof s->job_id);
    s->nonce = nonce;
    memcpy(s->hash, hash, CM_HASH_SIZE);
    M.share_count++;
    pthread_mutex_unlock(&M.lock);
    return 0;
}

static void *thread_main(void *arg)
{
    mt_thread *t = arg;
    cm_hasher *h = NULL;
    cm_throttle th = {0};
    cm_job job;
    cm_nonce_range nonces;
    unsigned gen = 0;
    int have_slice = 0, exhausted = 0;
    double idle_ms = 0;
    cm_error err;
    for (;;) {
        pthread_mutex_lock(&M.lock);
        for (;;) {
            unsigned g = atomic_load(&M.generation);
            int idle = atomic_load(&M.paused) || t->index >= atomic_load(&M.active) ||
                       !M.have_job || atomic_load(&M.reseeding) || (exhausted && g == gen) ||
                       atomic_load(&t->error);
            if (atomic_load(&M.quit) || atomic_load(&M.stop_flag) || !idle)
                break;
            pthread_cond_wait(&M.wake, &M.lock);
        }
        if (atomic_load(&M.quit) || atomic_load(&M.stop_flag)) {
            pthread_mutex_unlock(&M.lock);
            break;
        }
        unsigned g = atomic_load(&M.generation);
        if (!have_slice || g != gen) {
            /* A new job, thread count or resume: take the job and this thread's slice. */
            int rc =
                cm_nonce_range_init(&nonces, (uint32_t)t->index, (uint32_t)atomic_load(&M.active),
                                    M.job.nicehash, M.job.nicehash_byte, &err);
            job = M.job;
            gen = g;
            have_slice = rc == CM_OK;
            exhausted = rc != CM_OK;
        }
        pthread_mutex_unlock(&M.lock);
        if (!have_slice)
            continue;

        pthread_rwlock_rdlock(&M.cache_lock);
        if (!h && cm_hasher_new(cm_wasm_rx_flags(), M.cache, NULL, &h, &err)) {
            pthread_rwlock_unlock(&M.cache_lock);
            atomic_store(&t->error, err.code);
            continue;
        }
        cm_batch b = {.job = &job,
                      .nonces = &nonces,
                      .consent = cm_wasm_consent_record(),
                      .thread_index = t->index,
                      .throttle_pct = atomic_load(&M.throttle),
                      .clock = clock_cb,
                      .max_hashes = 1,
                      .on_share = on_share,
                      .should_stop = should_stop,
                      .stop_ud = (void *)(uintptr_t)gen};
        double t0 = now_ms();
        int rc = cm_hasher_mine(h, &b);
        double busy = now_ms() - t0;
        pthread_rwlock_unlock(&M.cache_lock);
        atomic_fetch_add(&t->hashes, b.hashes);
        atomic_fetch_add(&t->busy_us, (uint64_t)(busy * 1000));

        if (rc == CM_E_NONCE_EXHAUSTED || rc == CM_E_STATE) {
            exhausted = 1; /* wait for the next job (CM_E_STATE: its seed is not in yet) */
        } else if (rc != CM_OK && rc != CM_E_STOPPED) {
            atomic_store(&t->error, rc); /* consent withdrawn or expired: stop hashing */
            continue;
        }
        if (b.hashes == 0)
            continue;
        cm_throttle_set(&th, atomic_load(&M.throttle));
        double pause = cm_throttle_account(&th, busy, idle_ms);
        idle_ms = 0;
        if (pause > 0) {
            double s0 = now_ms();
            while (now_ms() - s0 < pause && !should_stop((void *)(uintptr_t)gen)) {
                double left = pause - (now_ms() - s0);
                emscripten_thread_sleep(left < MT_SLEEP_SLICE_MS ? left : MT_SLEEP_SLICE_MS);
            }
            idle_ms = now_ms() - s0;
        }
    }
    cm_hasher_free(h);
    return NULL;
}

/* Starts `threads` mining threads (they wait for a job). The cache is allocated here,
 * after a memory check, and seeded by cm_wasm_mt_job. */
EMSCRIPTEN_KEEPALIVE int cm_wasm_mt_start(int threads, int throttle_pct)
{
    if (threads < 1 || threads > MT_MAX)
        return cm_wasm_fail(CM_E_INVAL, "thread count out of range 1..256");
    int rc = cm_consent_check(cm_wasm_consent_record(), cm_wasm_now_ms());
    if (rc)
        return cm_wasm_fail(rc, cm_strerror(rc));
    if (!M.cache) {
        double need = CM_WASM_LIGHT_BYTES + threads * CM_WASM_VM_BYTES;
        cm_error err;
        if ((rc = cm_wasm_memory_check(need)))
            return rc;
        if ((rc = cm_rx_cache_new(cm_wasm_rx_flags(), &M.cache, &err)))
            return cm_wasm_fail_err(&err);
    }
    atomic_store(&M.throttle, throttle_pct < 1 ? 1 : throttle_pct > 100 ? 100 : throttle_pct);
    return cm_wasm_mt_set_threads(threads);
}

/* Sets the number of hashing threads, starting more when needed. */
EMSCRIPTEN_KEEPALIVE int cm_wasm_mt_set_threads(int threads)
{
    if (threads < 1 || threads > MT_MAX)
        return cm_wasm_fail(CM_E_INVAL, "thread count out of range 1..256");
    while (M.spawned < threads) {
        mt_thread *t = &M.t[M.spawned];
        t->index = M.spawned;
        if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
            if (M.spawned == 0)
                return cm_wasm_fail(CM_E_NOMEM, "could not start a mining thread (Web Worker)");
            threads = M.spawned;
            break;
        }
        M.spawned++;
    }
    atomic_store(&M.active, threads);
    bump();
    return threads;
}

/* A new job for all threads (strings as for cm_wasm_job). When its seed differs from the
 * cache's, the threads are held off the cache while it is rebuilt (about a second, on
 * this thread). Returns 1 when the cache was rebuilt, 0 if not, or a negative cm_err. */
EMSCRIPTEN_KEEPALIVE int cm_wasm_mt_job(const char *blob, const char *job_id, const char *target,
                                        const char *seed_hash, double height, int nicehash)
{
    if (!M.cache)
        return cm_wasm_fail(CM_E_STATE, "mining threads not started");
    /* session.c parses and validates; its nonce slice (0 of 1) is not used here. */
    int rc = cm_wasm_job(blob, job_id, target, seed_hash, height, nicehash, 0, 1);
    if (rc)
        return rc;
    cm_job job = *cm_wasm_job_value();
    int changed = 0;
    if (!cm_rx_cache_has_seed(M.cache, job.seed_hash, CM_SEED_HASH_SIZE)) {
        rc = cm_consent_check(cm_wasm_consent_record(), cm_wasm_now_ms());
        if (rc)
            return cm_wasm_fail(rc, cm_strerror(rc));
        atomic_store(&M.reseeding, 1);
        pthread_rwlock_wrlock(&M.cache_lock);
        cm_error err;
        rc = cm_rx_cache_set_seed(M.cache, job.seed_hash, CM_SEED_HASH_SIZE, &changed, &err);
        pthread_rwlock_unlock(&M.cache_lock);
        atomic_store(&M.reseeding, 0);
        if (rc)
            return cm_wasm_fail_err(&err);
    }
    pthread_mutex_lock(&M.lock);
    M.job = job;
    M.have_job = 1;
    for (int i = 0; i < M.spawned; i++)
        atomic_store(&M.t[i].error, 0);
    atomic_fetch_add(&M.generation, 1);
    pthread_cond_broadcast(&M.wake);
    pthread_mutex_unlock(&M.lock);
    return changed;
}

EMSCRIPTEN_KEEPALIVE void cm_wasm_mt_set_throttle(int pct)
{
    atomic_store(&M.throttle, pct < 1 ? 1 : pct > 100 ? 100 : pct);
}

EMSCRIPTEN_KEEPALIVE void cm_wasm_mt_pause(int paused)
{
    atomic_store(&M.paused, paused ? 1 : 0);
    bump();
}

/* Makes the threads exit between hashes (the embedder may terminate them anyway). */
EMSCRIPTEN_KEEPALIVE void cm_wasm_mt_stop(void)
{
    cm_wasm_revoke();
    atomic_store(&M.quit, 1);
    bump();
}

/* Counters for the controller: out[0] = threads started, then for each thread i:
 * out[1 + 3i] = hashes, out[2 + 3i] = busy milliseconds, out[3 + 3i] = its error code
 * (0 while it may hash). Returns the number of shares waiting. */
EMSCRIPTEN_KEEPALIVE int cm_wasm_mt_poll(double *out, int max_threads)
{
    int n = M.spawned < max_threads ? M.spawned : max_threads;
    out[0] = n;
    for (int i = 0; i < n; i++) {
        out[1 + 3 * i] = (double)atomic_load(&M.t[i].hashes);
        out[2 + 3 * i] = (double)atomic_load(&M.t[i].busy_us) / 1000.0;
        out[3 + 3 * i] = atomic_load(&M.t[i].error);
    }
    pthread_mutex_lock(&M.lock);
    int count = M.share_count;
    pthread_mutex_unlock(&M.lock);
    return count;
}

/* Takes the oldest waiting share: its job id (NUL-terminated, 65 bytes), nonce and
 * 32-byte hash. 1 when one was taken, 0 when none waits. */
EMSCRIPTEN_KEEPALIVE int cm_wasm_mt_share(char *job_id, uint32_t *nonce, uint8_t *hash)
{
    pthread_mutex_lock(&M.lock);
    if (M.share_count == 0) {
        pthread_mutex_unlock(&M.lock);
        return 0;
    }
    mt_share *s = &M.shares[M.share_head];
    memcpy(job_id, s->job_id, sizeof s->job_id);
    *nonce = s->nonce;
    memcpy(hash, s->hash, CM_HASH_SIZE);
    M.share_head = (M.share_head + 1) % MT_SHARES;
    M.share_count--;
    pthread_mutex_unlock(&M.lock);
    return 1;
}
