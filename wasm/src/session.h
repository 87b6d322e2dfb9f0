/* consentminer wasm — what one module instance holds, and the calls JavaScript makes.
 *
 * A module instance is one Web Worker (or the node CLI). It holds one consent record,
 * at most one RandomX cache and one VM, the current job with this worker's nonce slice,
 * and the shares the last batch found. JavaScript passes strings and bytes through
 * memory from malloc; every call returns 0 or a negative cm_err code, and
 * cm_wasm_error_message() says what was wrong, naming the input at fault.
 *
 * Memory: RandomX aborts (no exception catching in this build) when an allocation
 * fails inside it, so the cache and VM are only created after cm_wasm_memory_check has
 * shown that the module's memory can grow to what they need.
 */
#ifndef CM_WASM_SESSION_H
#define CM_WASM_SESSION_H

#include <stdint.h>

#include "consentminer.h"

/* RandomX light mode: the 256 MiB cache (RANDOMX_ARGON_MEMORY KiB), plus the 2 MiB
 * scratchpad, the VM and slack for the allocator's bookkeeping. */
#define CM_WASM_LIGHT_BYTES ((256.0 + 8.0) * 1024 * 1024)
/* A VM without its cache: scratchpad, registers, program buffers. */
#define CM_WASM_VM_BYTES (4.0 * 1024 * 1024)

/* Milliseconds since the Unix epoch, from the embedder's clock (Date.now()). */
int64_t cm_wasm_now_ms(void);

/* The message of the last failed call ("" after a successful one). */
const char *cm_wasm_error_message(void);
/* The symbolic name of a cm_err code ("CM_E_NO_CONSENT"). */
const char *cm_wasm_error_name(int code);
/* Sets the last error; returns code. */
int cm_wasm_fail(int code, const char *message);
/* Records err as the last error; returns its code. */
int cm_wasm_fail_err(const cm_error *err);

/* Takes the consent given by the person (times in ms since the epoch, threads, throttle
 * percent), checked by core at the embedder's current time. */
int cm_wasm_consent(double granted_at_ms, double expires_at_ms, double threads,
                    double throttle_pct);
/* Withdraws it: the next hash is refused. */
void cm_wasm_revoke(void);
/* The instance's consent record (NULL before cm_wasm_consent succeeded). */
const cm_consent *cm_wasm_consent_record(void);

/* Picks RandomX's path before the first seed: on (1) the run-time wasm translators
 * (src/jit/, RANDOMX_FLAG_JIT), off (0) the interpreter. The runtime turns it on only
 * after checking that this engine runs the generated code (SIMD128). Returns the path in
 * use: 0 also when the build has no JIT; after the cache exists it cannot change. */
int cm_wasm_set_jit(int on);
int cm_wasm_jit(void);
/* cm_rx_cache_new / cm_hasher_new flags for that path. */
int cm_wasm_rx_flags(void);

/* CM_OK when `bytes` more can be allocated (the memory grows to hold them and then
 * stays grown), CM_E_NOMEM with a message otherwise. */
int cm_wasm_memory_check(double bytes);

/* Makes the cache hold `seed` (1..64 bytes), creating cache and VM on first use after a
 * memory check. Returns 1 when the cache was (re)initialised, 0 when it held the seed,
 * or a negative cm_err. Refused without consent. */
int cm_wasm_set_seed(const uint8_t *seed, int seed_len);

/* One hash of input into out (32 bytes) with the current cache. Refused without consent. */
int cm_wasm_hash(const uint8_t *input, int input_len, uint8_t *out);

/* Parses a stratum job (NUL-terminated strings; height 0 if absent) and gives this
 * worker slice `index` of `count` of its nonces. nicehash: 1 when the pool fixes the
 * nonce's top byte (the byte already in the blob is kept). Errors name the field. */
int cm_wasm_job(const char *blob, const char *job_id, const char *target, const char *seed_hash,
                double height, int nicehash, int index, int count);
/* The job the last successful cm_wasm_job parsed, NULL before one. */
const cm_job *cm_wasm_job_value(void);
/* The current job's 32-byte seed hash (for cm_wasm_set_seed), NULL without a job. */
const uint8_t *cm_wasm_job_seed(void);

/* Hashes up to max_hashes nonces of the current job (see cm_hasher_mine). CM_OK,
 * CM_E_NONCE_EXHAUSTED (wait for a new job), a consent error, or CM_E_STATE (no job, or
 * the cache holds another seed). */
int cm_wasm_mine(int max_hashes);
/* Hashes done by the last cm_wasm_mine. */
double cm_wasm_mined(void);
/* Shares found by the last cm_wasm_mine, and each one's nonce and 32-byte hash. */
int cm_wasm_share_count(void);
uint32_t cm_wasm_share_nonce(int i);
const uint8_t *cm_wasm_share_hash(int i);
/* The job id the shares belong to. */
const char *cm_wasm_job_id(void);

/* The duty cycle of this instance's worker (core's cm_throttle, 1..100 percent) and the
 * pause to take after a busy interval of busy_ms that followed idle_ms of pause. */
int cm_wasm_throttle_set(int pct);
double cm_wasm_throttle_account(double busy_ms, double idle_ms);

/* Yield points inside RandomX (yield.c). One-thread build: while on, RandomX returns
 * to the event loop every 20 ms of a hash or cache fill, so cm_wasm_mine and
 * cm_wasm_set_seed must then be called as asynchronous (Asyncify) exports. */
void cm_wasm_set_yield(int on);
void cm_rx_yield_point(void);

/* The shared-memory build's controller calls (threads.c). */
int cm_wasm_mt_start(int threads, int throttle_pct);
int cm_wasm_mt_set_threads(int threads);
int cm_wasm_mt_job(const char *blob, const char *job_id, const char *target, const char *seed_hash,
                   double height, int nicehash);
void cm_wasm_mt_set_throttle(int pct);
void cm_wasm_mt_pause(int paused);
void cm_wasm_mt_stop(void);
int cm_wasm_mt_poll(double *out, int max_threads);
int cm_wasm_mt_share(char *job_id, uint32_t *nonce, uint8_t *hash);
/* The address of the stop flag, which the page sets (Atomics.store) before terminating. */
int32_t *cm_wasm_mt_stop_flag(void);
void cm_wasm_mt_yield_point(void);

#endif
