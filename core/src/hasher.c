/* consentminer — the RandomX wrapper and the mining loop (see hasher.h). */
#include "consentminer/hasher.h"

#include <randomx.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "consentminer/target.h"
#ifdef CM_HAVE_SSH
#include "superscalar.h"
#endif

/* RandomX accepts keys of any length; Monero's seed is 32 bytes. 64 leaves room for the
 * test vectors' ASCII keys and anything a caller may want to benchmark with. */
#define CM_SEED_MAX 64

struct cm_rx_cache {
    randomx_cache *rx;
    randomx_flags flags;
    int large_pages;
    uint8_t seed[CM_SEED_MAX];
    size_t seed_len; /* 0: no seed yet */
    /* Incremented on every re-initialisation, so VMs know to reload the cache's
     * SuperscalarHash programs (randomx_vm_set_cache) before their next hash. */
    unsigned long generation;
#ifdef CM_HAVE_SSH
    /* The seed's SuperscalarHash programs for the batched dataset build, and whether
     * that build matched RandomX's own items for this seed (else RandomX builds it). */
    ssh_program *progs;
    int ssh_ok;
#endif
};

struct cm_rx_dataset {
    randomx_dataset *rx;
    int large_pages;
    atomic_int ready;
    uint8_t seed[CM_SEED_MAX];
    size_t seed_len;
};

struct cm_hasher {
    randomx_vm *vm;
    randomx_flags flags; /* the flags the VM was created with */
    cm_rx_cache *cache;
    cm_rx_dataset *dataset;
    unsigned long cache_generation;
};

/* RandomX's recommended flags for this machine (JIT, hardware AES, Argon2 SIMD where
 * available; the portable interpreter in wasm), minus the JIT when asked. */
static randomx_flags base_flags(unsigned flags)
{
    randomx_flags f = randomx_get_flags();
    if (flags & CM_RX_NO_JIT)
        f &= ~RANDOMX_FLAG_JIT;
    return f;
}

int cm_rx_cache_new(unsigned flags, cm_rx_cache **out, cm_error *err)
{
    if (!out)
        return cm_error_set(err, CM_E_INVAL, "cache output pointer is NULL");
    *out = NULL;
    cm_rx_cache *c = calloc(1, sizeof *c);
    if (!c)
        return cm_error_set(err, CM_E_NOMEM, "out of memory allocating the cache record");
    c->flags = base_flags(flags);
    if (flags & CM_RX_LARGE_PAGES) {
        c->rx = randomx_alloc_cache(c->flags | RANDOMX_FLAG_LARGE_PAGES);
        c->large_pages = c->rx != NULL;
    }
    if (!c->rx)
        c->rx = randomx_alloc_cache(c->flags);
    if (!c->rx) {
        free(c);
        return cm_error_set(err, CM_E_NOMEM,
                            "RandomX cache allocation failed: 256 MiB of memory needed");
    }
    *out = c;
    cm_error_clear(err);
    return CM_OK;
}

void cm_rx_cache_free(cm_rx_cache *c)
{
    if (!c)
        return;
    randomx_release_cache(c->rx);
#ifdef CM_HAVE_SSH
    free(c->progs);
#endif
    free(c);
}

#ifdef CM_HAVE_SSH
/* Items to compare with RandomX's own after each new seed: both ends of the dataset and
 * a spread between, each the first of a batch or inside one. Cheap (tens of
 * microseconds); a mismatch (a RandomX whose internals differ from the headers this was
 * built with, a compiler fault) sends the build back to RandomX's code. */
static int ssh_matches_randomx(cm_rx_cache *c)
{
    static const uint64_t frac[] = {0, 1, 63, 64, 65, 1000003, 17000000, 34000000};
    const uint64_t items = randomx_dataset_item_count();
    const uint8_t *mem = ssh_cache_memory(c->rx);
    for (size_t i = 0; i <= sizeof frac / sizeof frac[0]; i++) {
        uint64_t item = i < sizeof frac / sizeof frac[0] ? frac[i] % items : items - 1;
        uint8_t ours[64], theirs[64];
        ssh_init_items(c->progs, mem, ours, item, 1);
        ssh_reference_item(c->rx, theirs, item);
        if (memcmp(ours, theirs, sizeof ours) != 0)
            return 0;
    }
    return 1;
}
#endif

int cm_rx_cache_fast_init(const cm_rx_cache *c)
{
#ifdef CM_HAVE_SSH
    return c && c->seed_len && c->ssh_ok;
#else
    (void)c;
    return 0;
#endif
}

int cm_rx_cache_has_seed(const cm_rx_cache *c, const uint8_t *seed, size_t seed_len)
{
    return c && seed && c->seed_len != 0 && c->seed_len == seed_len &&
           memcmp(c->seed, seed, seed_len) == 0;
}

int cm_rx_cache_set_seed(cm_rx_cache *c, const uint8_t *seed, size_t seed_len, int *changed,
                         cm_error *err)
{
    if (changed)
        *changed = 0;
    if (!c || !seed)
        return cm_error_set(err, CM_E_INVAL, "cache or seed is NULL");
    if (seed_len < 1 || seed_len > CM_SEED_MAX)
        return cm_error_set(err, CM_E_INVAL, "seed is %zu bytes; expected 1..%d", seed_len,
                            CM_SEED_MAX);
    cm_error_clear(err);
    if (cm_rx_cache_has_seed(c, seed, seed_len))
        return CM_OK;
    randomx_init_cache(c->rx, seed, seed_len);
    memcpy(c->seed, seed, seed_len);
    c->seed_len = seed_len;
#ifdef CM_HAVE_SSH
    if (!c->progs)
        c->progs = malloc(SSH_PROGRAMS * sizeof *c->progs);
    c->ssh_ok = c->progs && ssh_generate(seed, seed_len, c->progs) == 0 && ssh_matches_randomx(c);
#endif
    c->generation++;
    if (changed)
        *changed = 1;
    return CM_OK;
}

int cm_rx_cache_large_pages(const cm_rx_cache *c)
{
    return c ? c->large_pages : 0;
}

int cm_rx_dataset_new(unsigned flags, cm_rx_dataset **out, cm_error *err)
{
    if (!out)
        return cm_error_set(err, CM_E_INVAL, "dataset output pointer is NULL");
    *out = NULL;
    cm_rx_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return cm_error_set(err, CM_E_NOMEM, "out of memory allocating the dataset record");
    if (flags & CM_RX_LARGE_PAGES) {
        d->rx = randomx_alloc_dataset(RANDOMX_FLAG_LARGE_PAGES);
        d->large_pages = d->rx != NULL;
    }
    if (!d->rx)
        d->rx = randomx_alloc_dataset(RANDOMX_FLAG_DEFAULT);
    if (!d->rx) {
        free(d);
        return cm_error_set(err, CM_E_NOMEM,
                            "RandomX dataset allocation failed: 2080 MiB of memory needed");
    }
    atomic_init(&d->ready, 0);
    *out = d;
    cm_error_clear(err);
    return CM_OK;
}

void cm_rx_dataset_free(cm_rx_dataset *d)
{
    if (!d)
        return;
    randomx_release_dataset(d->rx);
    free(d);
}

unsigned long cm_rx_dataset_item_count(void)
{
    return randomx_dataset_item_count();
}

void cm_rx_dataset_range(unsigned part, unsigned parts, unsigned long *start,
                         unsigned long *count)
{
    unsigned long items = randomx_dataset_item_count();
    if (parts == 0 || part >= parts) {
        *start = items;
        *count = 0;
        return;
    }
    unsigned long long s = (unsigned long long)items * part / parts;
    unsigned long long e = (unsigned long long)items * (part + 1) / parts;
    *start = (unsigned long)s;
    *count = (unsigned long)(e - s);
}

int cm_rx_dataset_init_range(cm_rx_dataset *d, cm_rx_cache *c, unsigned long start,
                             unsigned long count)
{
    if (!d || !c || c->seed_len == 0)
        return CM_E_STATE;
    unsigned long items = randomx_dataset_item_count();
    if (start > items || count > items - start)
        return CM_E_INVAL;
    atomic_store(&d->ready, 0);
#ifdef CM_HAVE_SSH
    if (c->ssh_ok) {
        uint8_t *mem = randomx_get_dataset_memory(d->rx);
        ssh_init_items(c->progs, ssh_cache_memory(c->rx), mem + (size_t)start * 64, start, count);
        return CM_OK;
    }
#endif
    randomx_init_dataset(d->rx, c->rx, start, count);
    return CM_OK;
}

void cm_rx_dataset_finish(cm_rx_dataset *d, const cm_rx_cache *c)
{
    if (!d || !c)
        return;
    memcpy(d->seed, c->seed, c->seed_len);
    d->seed_len = c->seed_len;
    atomic_store(&d->ready, 1);
}

int cm_rx_dataset_has_seed(const cm_rx_dataset *d, const uint8_t *seed, size_t seed_len)
{
    return d && seed && atomic_load(&d->ready) && d->seed_len == seed_len &&
           memcmp(d->seed, seed, seed_len) == 0;
}

void *cm_rx_cache_memory(cm_rx_cache *c, size_t *size)
{
#ifdef CM_HAVE_SSH
    if (size)
        *size = c ? 256u * 1024u * 1024u : 0; /* RANDOMX_ARGON_MEMORY KiB */
    return c ? (void *)ssh_cache_memory(c->rx) : NULL;
#else
    (void)c;
    if (size)
        *size = 0;
    return NULL;
#endif
}

void *cm_rx_dataset_memory(cm_rx_dataset *d, size_t *size)
{
    if (size)
        *size = d ? (size_t)randomx_dataset_item_count() * RANDOMX_DATASET_ITEM_SIZE : 0;
    return d ? randomx_get_dataset_memory(d->rx) : NULL;
}

int cm_rx_dataset_large_pages(const cm_rx_dataset *d)
{
    return d ? d->large_pages : 0;
}

/* Creates the RandomX VM for the hasher's current cache/dataset, with large pages for
 * the scratchpad when asked and available. */
static int create_vm(cm_hasher *h, unsigned flags, cm_error *err)
{
    randomx_flags f = h->dataset ? RANDOMX_FLAG_FULL_MEM : RANDOMX_FLAG_DEFAULT;
    if (h->cache)
        f |= h->cache->flags;
    else
        f |= base_flags(flags);
    if (flags & CM_RX_NO_JIT)
        f &= ~RANDOMX_FLAG_JIT;
    randomx_cache *rc = h->cache ? h->cache->rx : NULL;
    randomx_dataset *rd = h->dataset ? h->dataset->rx : NULL;
    randomx_vm *vm = NULL;
    if (flags & CM_RX_LARGE_PAGES)
        vm = randomx_create_vm(f | RANDOMX_FLAG_LARGE_PAGES, rc, rd);
    if (vm)
        f |= RANDOMX_FLAG_LARGE_PAGES;
    else
        vm = randomx_create_vm(f, rc, rd);
    if (!vm)
        return cm_error_set(err, CM_E_NOMEM,
                            "RandomX VM creation failed: 2 MiB scratchpad and code buffers");
    if (h->vm)
        randomx_destroy_vm(h->vm);
    h->vm = vm;
    h->flags = f;
    h->cache_generation = h->cache ? h->cache->generation : 0;
    return CM_OK;
}

int cm_hasher_new(unsigned flags, cm_rx_cache *c, cm_rx_dataset *d, cm_hasher **out,
                  cm_error *err)
{
    if (!out)
        return cm_error_set(err, CM_E_INVAL, "hasher output pointer is NULL");
    *out = NULL;
    if (!c && !d)
        return cm_error_set(err, CM_E_INVAL, "a hasher needs a cache (light) or a dataset (fast)");
    if (!d && c->seed_len == 0)
        return cm_error_set(err, CM_E_STATE, "the cache has no seed yet; set one first");
    cm_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return cm_error_set(err, CM_E_NOMEM, "out of memory allocating the hasher");
    h->cache = c;
    h->dataset = d;
    int rc = create_vm(h, flags, err);
    if (rc) {
        free(h);
        return rc;
    }
    *out = h;
    cm_error_clear(err);
    return CM_OK;
}

void cm_hasher_free(cm_hasher *h)
{
    if (!h)
        return;
    randomx_destroy_vm(h->vm);
    free(h);
}

int cm_hasher_use(cm_hasher *h, cm_rx_cache *c, cm_rx_dataset *d, cm_error *err)
{
    if (!h || (!c && !d))
        return cm_error_set(err, CM_E_INVAL, "a hasher needs a cache (light) or a dataset (fast)");
    if (!d && c->seed_len == 0)
        return cm_error_set(err, CM_E_STATE, "the cache has no seed yet; set one first");
    int was_fast = h->dataset != NULL;
    h->cache = c;
    h->dataset = d;
    cm_error_clear(err);
    /* A RandomX VM's mode is fixed when it is created: switching light <-> fast needs a
     * new VM; staying in one mode only re-points it. */
    if (was_fast != (d != NULL)) {
        unsigned keep = (h->flags & RANDOMX_FLAG_LARGE_PAGES) ? CM_RX_LARGE_PAGES : 0;
        if (!(h->flags & RANDOMX_FLAG_JIT))
            keep |= CM_RX_NO_JIT;
        return create_vm(h, keep, err);
    }
    if (d)
        randomx_vm_set_dataset(h->vm, d->rx);
    else {
        randomx_vm_set_cache(h->vm, c->rx);
        h->cache_generation = c->generation;
    }
    return CM_OK;
}

int cm_hasher_is_fast(const cm_hasher *h)
{
    return h && h->dataset != NULL;
}

/* A light VM must reload the cache's programs after the cache changed seed. */
static void refresh_cache(cm_hasher *h)
{
    if (!h->dataset && h->cache && h->cache_generation != h->cache->generation) {
        randomx_vm_set_cache(h->vm, h->cache->rx);
        h->cache_generation = h->cache->generation;
    }
}

int cm_hasher_hash(cm_hasher *h, const cm_consent *consent, int64_t now_ms, const void *input,
                   size_t input_len, uint8_t out[CM_HASH_SIZE])
{
    int rc = cm_consent_check(consent, now_ms);
    if (rc)
        return rc;
    if (!h || (!input && input_len) || !out)
        return CM_E_INVAL;
    refresh_cache(h);
    randomx_calculate_hash(h->vm, input, input_len, out);
    return CM_OK;
}

/* 1 when the hasher's memory belongs to the job's seed. */
static int seed_matches(const cm_hasher *h, const cm_job *job)
{
    if (h->dataset)
        return cm_rx_dataset_has_seed(h->dataset, job->seed_hash, CM_SEED_HASH_SIZE);
    return cm_rx_cache_has_seed(h->cache, job->seed_hash, CM_SEED_HASH_SIZE);
}

int cm_hasher_mine(cm_hasher *h, cm_batch *b)
{
    if (!b)
        return CM_E_INVAL;
    b->hashes = 0;
    if (!h || !b->job || !b->nonces || !b->clock)
        return CM_E_INVAL;
    const cm_job *job = b->job;
    const int throttle = b->throttle_pct ? b->throttle_pct : 100;
    int rc = cm_consent_check_use(b->consent, b->clock(b->clock_ud), b->thread_index, throttle);
    if (rc)
        return rc;
    if (!seed_matches(h, job))
        return CM_E_STATE;
    refresh_cache(h);

    /* Two copies of the blob: RandomX's pipelined API hashes one input while it fills
     * the scratchpad from the next (randomx_calculate_hash_next), as its own benchmark
     * and xmrig do; each copy carries its own nonce. */
    uint8_t blobs[2][CM_BLOB_MAX];
    const size_t len = job->blob_len;
    memcpy(blobs[0], job->blob, len);
    memcpy(blobs[1], job->blob, len);

    uint32_t nonce, next_nonce = 0;
    if (b->should_stop && b->should_stop(b->stop_ud))
        return CM_E_STOPPED;
    if (cm_nonce_range_next(b->nonces, &nonce))
        return CM_E_NONCE_EXHAUSTED;
    int cur = 0;
    cm_job_write_nonce(job, blobs[cur], nonce);
    randomx_calculate_hash_first(h->vm, blobs[cur], len);

    uint8_t hash[CM_HASH_SIZE];
    for (;;) {
        /* Consent rule 4: checked before every hash, so a revoke, an expiry or a use
         * beyond the ceilings stops the batch before the next hash is computed (the
         * pending one is discarded). */
        rc = cm_consent_check_use(b->consent, b->clock(b->clock_ud), b->thread_index, throttle);
        if (rc == CM_OK && b->should_stop && b->should_stop(b->stop_ud))
            rc = CM_E_STOPPED;
        if (rc) {
            /* The pending hash is dropped: give its nonce back to the slice, so a later
             * batch hashes it and a slice's work has no holes (a benchmark's fixed work
             * counts on it). It is always the last nonce the slice handed out. */
            b->nonces->next--;
            return rc;
        }
        int at_max = b->max_hashes && b->hashes + 1 >= b->max_hashes;
        int have_next = !at_max && cm_nonce_range_next(b->nonces, &next_nonce) == CM_OK;
        if (have_next) {
            cm_job_write_nonce(job, blobs[cur ^ 1], next_nonce);
            randomx_calculate_hash_next(h->vm, blobs[cur ^ 1], len, hash);
        } else {
            randomx_calculate_hash_last(h->vm, hash);
        }
        b->hashes++;
        if ((b->on_hash && b->on_hash(b->hash_ud, job, nonce, hash)) ||
            (cm_hash_meets_target(hash, job->target64) && b->on_share &&
             b->on_share(b->share_ud, job, nonce, hash))) {
            if (have_next)
                b->nonces->next--;
            return CM_E_STOPPED;
        }
        if (!have_next)
            return at_max ? CM_OK : CM_E_NONCE_EXHAUSTED;
        cur ^= 1;
        nonce = next_nonce;
    }
}
