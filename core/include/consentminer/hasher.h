/* consentminer — the RandomX wrapper and the mining loop.
 *
 * Three objects, with RandomX's own life cycle (new -> use -> free):
 *  - cm_rx_cache: the 256 MiB cache for one seed (light mode hashes from it directly;
 *    fast mode builds the dataset from it). Re-initialised only when the seed changes.
 *  - cm_rx_dataset: the 2 GiB dataset of fast mode. Its initialisation is split into
 *    ranges that the caller runs on its own threads (core has no threads).
 *  - cm_hasher: one RandomX VM, owned by one thread.
 * Large pages are tried when asked for; when the system has none, allocation falls back
 * to ordinary pages and cm_*_large_pages() reports 0: never a crash.
 * Every hashing call takes a consent record and the current time, and refuses with
 * CM_E_NO_CONSENT, CM_E_CONSENT_EXPIRED or CM_E_CONSENT_REVOKED.
 */
#ifndef CONSENTMINER_HASHER_H
#define CONSENTMINER_HASHER_H

#include <stddef.h>
#include <stdint.h>
#include "consentminer/consent.h"
#include "consentminer/error.h"
#include "consentminer/job.h"
#include "consentminer/nonce.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Light or fast mode is not a flag: a hasher made with a dataset hashes from it (fast),
 * one made without hashes from the cache (light). */
typedef enum cm_rx_flags {
    CM_RX_LARGE_PAGES = 2,  /* try large pages, fall back to ordinary ones */
    CM_RX_NO_JIT = 4        /* use the interpreter even where a JIT exists */
} cm_rx_flags;

typedef struct cm_rx_cache cm_rx_cache;
typedef struct cm_rx_dataset cm_rx_dataset;
typedef struct cm_hasher cm_hasher;

/* Allocates a cache with no seed yet. flags: CM_RX_LARGE_PAGES, CM_RX_NO_JIT.
 * Errors: CM_E_NOMEM. */
int cm_rx_cache_new(unsigned flags, cm_rx_cache **out, cm_error *err);
void cm_rx_cache_free(cm_rx_cache *c);

/* Initialises the cache for seed (1..64 bytes) unless it already holds that seed.
 * *changed (may be NULL) is 1 when it was rebuilt. No VM may hash with this cache
 * meanwhile. Errors: CM_E_INVAL (seed length). */
int cm_rx_cache_set_seed(cm_rx_cache *c, const uint8_t *seed, size_t seed_len, int *changed,
                         cm_error *err);

/* 1 when the cache holds exactly this seed. */
int cm_rx_cache_has_seed(const cm_rx_cache *c, const uint8_t *seed, size_t seed_len);

/* 1 when the cache got large pages. */
int cm_rx_cache_large_pages(const cm_rx_cache *c);

/* 1 when datasets are built from this cache by consentminer's batched SuperscalarHash
 * (native builds; checked against RandomX's own items for the cache's seed), 0 when by
 * RandomX's one-item-at-a-time code. */
int cm_rx_cache_fast_init(const cm_rx_cache *c);

/* Allocates a dataset (about 2080 MiB). flags: CM_RX_LARGE_PAGES. Errors: CM_E_NOMEM. */
int cm_rx_dataset_new(unsigned flags, cm_rx_dataset **out, cm_error *err);
void cm_rx_dataset_free(cm_rx_dataset *d);

/* Number of dataset items (RandomX: 34078719). */
unsigned long cm_rx_dataset_item_count(void);

/* The part-th of `parts` contiguous ranges of items, for the caller's threads. */
void cm_rx_dataset_range(unsigned part, unsigned parts, unsigned long *start,
                         unsigned long *count);

/* Computes items [start, start+count) from cache. Safe to call concurrently for
 * disjoint ranges. Marks the dataset as not ready until cm_rx_dataset_finish. */
int cm_rx_dataset_init_range(cm_rx_dataset *d, cm_rx_cache *c, unsigned long start,
                             unsigned long count);

/* Declares every range done: the dataset now belongs to the cache's seed. */
void cm_rx_dataset_finish(cm_rx_dataset *d, const cm_rx_cache *c);

/* 1 when the dataset was finished for exactly this seed. */
int cm_rx_dataset_has_seed(const cm_rx_dataset *d, const uint8_t *seed, size_t seed_len);

/* The cache's memory and size, so a native caller can advise the kernel (MADV_HUGEPAGE)
 * before seeding it: light-mode hashes and the dataset build read it at random, 256 MiB
 * that ordinary pages spread over 65,536 TLB entries. NULL (and size 0) in a build
 * without RandomX's source (CM_HAVE_SSH), whose public API does not expose it. */
void *cm_rx_cache_memory(cm_rx_cache *c, size_t *size);

/* The dataset's memory and size, so a native caller can advise the kernel (for example
 * MADV_HUGEPAGE) before initialising it. */
void *cm_rx_dataset_memory(cm_rx_dataset *d, size_t *size);
int cm_rx_dataset_large_pages(const cm_rx_dataset *d);

/* A VM. With d == NULL it hashes in light mode from c; otherwise in fast mode from d
 * (c may then be NULL). flags: CM_RX_LARGE_PAGES (scratchpad), CM_RX_NO_JIT.
 * Errors: CM_E_NOMEM, CM_E_INVAL (no cache and no dataset). */
int cm_hasher_new(unsigned flags, cm_rx_cache *c, cm_rx_dataset *d, cm_hasher **out,
                  cm_error *err);
void cm_hasher_free(cm_hasher *h);

/* Points the VM at another cache (light) or dataset (fast), after a seed change. A
 * light VM given a dataset becomes a fast one, and a fast VM given NULL dataset and a
 * cache becomes a light one. */
int cm_hasher_use(cm_hasher *h, cm_rx_cache *c, cm_rx_dataset *d, cm_error *err);

/* 1 when the VM hashes from a dataset. */
int cm_hasher_is_fast(const cm_hasher *h);

/* One hash of input (any length) into out, if consent holds at now_ms. */
int cm_hasher_hash(cm_hasher *h, const cm_consent *consent, int64_t now_ms, const void *input,
                   size_t input_len, uint8_t out[CM_HASH_SIZE]);

/* The clock the mining loop reads before every hash: milliseconds since the Unix epoch. */
typedef int64_t (*cm_clock_fn)(void *ud);

/* Called for every hash below the job's target (a share candidate). Return 0 to go on,
 * non-zero to stop the batch (it then returns CM_E_STOPPED). */
typedef int (*cm_share_fn)(void *ud, const cm_job *job, uint32_t nonce,
                           const uint8_t hash[CM_HASH_SIZE]);

/* Checked before every hash: return non-zero to stop the batch (new job, shutdown). */
typedef int (*cm_stop_fn)(void *ud);

typedef struct cm_batch {
    const cm_job *job;          /* the work; its seed must match the VM's cache/dataset */
    cm_nonce_range *nonces;     /* this worker's slice; advanced by the loop */
    const cm_consent *consent;  /* checked before every hash, with the two fields below */
    int thread_index;           /* this mining thread, from 0: below the consent's threads */
    int throttle_pct;           /* the duty cycle the caller runs it at, 1..100 (0: 100), at
                                 * most the consent's throttle (cm_consent_check_use) */
    cm_clock_fn clock;          /* required */
    void *clock_ud;
    uint64_t max_hashes;        /* stop after this many hashes (0: until stopped) */
    cm_share_fn on_share;       /* may be NULL */
    void *share_ud;
    cm_stop_fn should_stop;     /* may be NULL */
    void *stop_ud;
    /* Called for every hash computed, share or not, before the share check: a benchmark
     * folds them into a checksum. Non-zero stops the batch. May be NULL. */
    cm_share_fn on_hash;
    void *hash_ud;
    uint64_t hashes;            /* out: hashes completed by this call */
} cm_batch;

/* The mining loop: hashes consecutive nonces of b->nonces with RandomX's pipelined
 * first/next calls, reports shares, and returns CM_OK after max_hashes, or
 * CM_E_STOPPED, CM_E_NONCE_EXHAUSTED, or a consent error (checked before each hash, so
 * a revoke, an expiry, or a thread or throttle beyond the record's ceilings
 * (CM_E_CONSENT_EXCEEDED) stops the batch before its next hash). */
int cm_hasher_mine(cm_hasher *h, cm_batch *b);

#ifdef __cplusplus
}
#endif
#endif
