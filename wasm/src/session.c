/* consentminer wasm — one module instance's consent, cache, VM and job (see session.h).
 *
 * Global state is fine here, unlike in core/: a module instance is one worker. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "session.h"

#include <emscripten/emscripten.h>
#include <randomx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A batch is kept short so the worker can read its messages between batches; more
 * shares than hashes cannot be found. */
#define CM_WASM_BATCH_MAX 16

static struct {
    cm_consent *consent;
    int consented;
    cm_rx_cache *cache;
    cm_hasher *hasher;
    cm_job job;
    int have_job;
    cm_nonce_range nonces;
    uint64_t mined;
    int share_count;
    uint32_t share_nonce[CM_WASM_BATCH_MAX];
    uint8_t share_hash[CM_WASM_BATCH_MAX][CM_HASH_SIZE];
    cm_throttle throttle;
    int thread_index; /* this worker's place among the page's mining threads */
    cm_error err;
    int jit;
} S = {.throttle = {.pct = 100}};

EMSCRIPTEN_KEEPALIVE int cm_wasm_set_jit(int on)
{
    /* The path is fixed when the cache is created (RandomX gives a JIT cache its own
     * compiler); later calls only report it. */
    if (!S.cache)
        S.jit = on && (randomx_get_flags() & RANDOMX_FLAG_JIT);
    return S.jit;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_jit(void) { return S.jit; }

int cm_wasm_rx_flags(void) { return S.jit ? 0 : CM_RX_NO_JIT; }

int64_t cm_wasm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t clock_cb(void *ud)
{
    (void)ud;
    return cm_wasm_now_ms();
}

EMSCRIPTEN_KEEPALIVE const char *cm_wasm_error_message(void)
{
    return S.err.message;
}

EMSCRIPTEN_KEEPALIVE const char *cm_wasm_error_name(int code)
{
    return cm_err_name(code);
}

int cm_wasm_fail(int code, const char *message)
{
    return cm_error_set(&S.err, code, "%s", message);
}

int cm_wasm_fail_err(const cm_error *err)
{
    S.err = *err;
    return err->code;
}

/* For codes returned without a cm_error (hashing, mining): core's description. */
static int fail_code(int code)
{
    if (code)
        cm_error_set(&S.err, code, "%s", cm_strerror(code));
    return code;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_consent(double granted_at_ms, double expires_at_ms, double threads,
                                         double throttle_pct)
{
    if (!S.consent && !(S.consent = cm_consent_new()))
        return cm_wasm_fail(CM_E_NOMEM, "out of memory allocating the consent record");
    cm_error err;
    /* Doubles, as JavaScript holds them: an int parameter would truncate 1.5 threads to 1
     * before the rule could refuse it. */
    int rc = cm_consent_restore_numbers(S.consent, granted_at_ms, expires_at_ms, threads,
                                        throttle_pct, cm_wasm_now_ms(), &err);
    if (rc) {
        cm_consent_revoke(S.consent);
        return cm_wasm_fail_err(&err);
    }
    rc = cm_consent_check(S.consent, cm_wasm_now_ms());
    if (rc)
        return fail_code(rc);
    S.consented = 1;
    cm_error_clear(&S.err);
    return CM_OK;
}

EMSCRIPTEN_KEEPALIVE void cm_wasm_revoke(void)
{
    if (S.consent)
        cm_consent_revoke(S.consent);
}

const cm_consent *cm_wasm_consent_record(void)
{
    return S.consented ? S.consent : NULL;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_memory_check(double bytes)
{
    if (!(bytes > 0) || bytes > 4294967295.0)
        return cm_wasm_fail(CM_E_INVAL, "memory check size out of range");
    /* volatile: a malloc whose result is only freed may be removed by the compiler,
     * and then the memory would not really be grown (or found missing) here. */
    void *volatile p = malloc((size_t)bytes);
    if (!p) {
        char msg[CM_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg,
                 "not enough memory: this WebAssembly memory cannot grow by %.0f MiB "
                 "(RandomX light mode needs 264 MiB for its cache and VM)",
                 bytes / (1024 * 1024));
        return cm_wasm_fail(CM_E_NOMEM, msg);
    }
    free(p);
    cm_error_clear(&S.err);
    return CM_OK;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_set_seed(const uint8_t *seed, int seed_len)
{
    cm_error err;
    int rc = cm_consent_check(cm_wasm_consent_record(), cm_wasm_now_ms());
    if (rc)
        return fail_code(rc);
    if (!S.cache) {
        if ((rc = cm_wasm_memory_check(CM_WASM_LIGHT_BYTES)))
            return rc;
        if ((rc = cm_rx_cache_new(cm_wasm_rx_flags(), &S.cache, &err)))
            return cm_wasm_fail_err(&err);
    }
    int changed = 0;
    if ((rc = cm_rx_cache_set_seed(S.cache, seed, seed_len < 0 ? 0 : (size_t)seed_len, &changed,
                                   &err)))
        return cm_wasm_fail_err(&err);
    if (!S.hasher) {
        if ((rc = cm_wasm_memory_check(CM_WASM_VM_BYTES)))
            return rc;
        if ((rc = cm_hasher_new(cm_wasm_rx_flags(), S.cache, NULL, &S.hasher, &err)))
            return cm_wasm_fail_err(&err);
    }
    cm_error_clear(&S.err);
    return changed;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_hash(const uint8_t *input, int input_len, uint8_t *out)
{
    if (!S.hasher)
        return cm_wasm_fail(CM_E_STATE, "no RandomX cache yet: set a seed first");
    int rc = cm_hasher_hash(S.hasher, cm_wasm_consent_record(), cm_wasm_now_ms(), input,
                            input_len < 0 ? 0 : (size_t)input_len, out);
    if (rc)
        return fail_code(rc);
    cm_error_clear(&S.err);
    return CM_OK;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_job(const char *blob, const char *job_id, const char *target,
                                     const char *seed_hash, double height, int nicehash, int index,
                                     int count)
{
    cm_error err;
    cm_job_fields f = {.blob = blob,
                       .job_id = job_id,
                       .target = target,
                       .seed_hash = seed_hash,
                       .algo = NULL,
                       .height = height > 0 ? (uint64_t)height : 0};
    cm_job job;
    int rc = cm_job_parse(&f, &job, &err);
    if (rc)
        return cm_wasm_fail_err(&err);
    if (nicehash) {
        /* Like xmrig: the pool's byte is already in the blob's top nonce byte. */
        job.nicehash = 1;
        job.nicehash_byte = job.blob[job.nonce_offset + 3];
    }
    cm_nonce_range nonces;
    if ((rc = cm_nonce_range_init(&nonces, (uint32_t)index, (uint32_t)count, job.nicehash,
                                  job.nicehash_byte, &err)))
        return cm_wasm_fail_err(&err);
    S.job = job;
    S.nonces = nonces;
    S.have_job = 1;
    cm_error_clear(&S.err);
    return CM_OK;
}

const cm_job *cm_wasm_job_value(void)
{
    return S.have_job ? &S.job : NULL;
}

EMSCRIPTEN_KEEPALIVE const uint8_t *cm_wasm_job_seed(void)
{
    return S.have_job ? S.job.seed_hash : NULL;
}

EMSCRIPTEN_KEEPALIVE const char *cm_wasm_job_id(void)
{
    return S.have_job ? S.job.job_id : "";
}

static int on_share(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[CM_HASH_SIZE])
{
    (void)ud;
    (void)job;
    if (S.share_count < CM_WASM_BATCH_MAX) {
        S.share_nonce[S.share_count] = nonce;
        memcpy(S.share_hash[S.share_count], hash, CM_HASH_SIZE);
        S.share_count++;
    }
    return 0;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_mine(int max_hashes)
{
    S.mined = 0;
    S.share_count = 0;
    if (!S.have_job || !S.hasher)
        return cm_wasm_fail(CM_E_STATE, "no job or no RandomX cache yet");
    if (max_hashes < 1 || max_hashes > CM_WASM_BATCH_MAX)
        max_hashes = CM_WASM_BATCH_MAX;
    cm_batch b = {.job = &S.job,
                  .nonces = &S.nonces,
                  .consent = cm_wasm_consent_record(),
                  .thread_index = S.thread_index,
                  .throttle_pct = S.throttle.pct,
                  .clock = clock_cb,
                  .max_hashes = (uint64_t)max_hashes,
                  .on_share = on_share};
    int rc = cm_hasher_mine(S.hasher, &b);
    S.mined = b.hashes;
    if (rc == CM_E_STATE)
        return cm_wasm_fail(rc, "the RandomX cache holds another seed than the job's");
    if (rc)
        return fail_code(rc);
    cm_error_clear(&S.err);
    return CM_OK;
}

EMSCRIPTEN_KEEPALIVE double cm_wasm_mined(void)
{
    return (double)S.mined;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_share_count(void)
{
    return S.share_count;
}

EMSCRIPTEN_KEEPALIVE uint32_t cm_wasm_share_nonce(int i)
{
    return i >= 0 && i < S.share_count ? S.share_nonce[i] : 0;
}

EMSCRIPTEN_KEEPALIVE const uint8_t *cm_wasm_share_hash(int i)
{
    return i >= 0 && i < S.share_count ? S.share_hash[i] : NULL;
}

EMSCRIPTEN_KEEPALIVE int cm_wasm_throttle_set(int pct)
{
    if (cm_throttle_set(&S.throttle, pct))
        return cm_wasm_fail(CM_E_INVAL, "throttle out of range 1..100 percent");
    return CM_OK;
}

/* Which of the page's mining threads this instance is (from 0); core checks it against
 * the consent's thread ceiling before every hash. */
EMSCRIPTEN_KEEPALIVE int cm_wasm_set_thread_index(int index)
{
    if (index < 0 || index >= 256)
        return cm_wasm_fail(CM_E_INVAL, "thread index out of range 0..255");
    S.thread_index = index;
    return CM_OK;
}

EMSCRIPTEN_KEEPALIVE double cm_wasm_throttle_account(double busy_ms, double idle_ms)
{
    return cm_throttle_account(&S.throttle, busy_ms, idle_ms);
}
