/* The RandomX wrapper and the mining loop: official vectors through the core API,
 * consent enforcement on every hashing entry point, and revoke/expiry mid-batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consentminer.h"

#define NOW 1790000000000LL /* a fixed wall time for tests, ms */

typedef struct fixture {
    cm_rx_cache *cache;
    cm_hasher *hasher;
    cm_consent *consent;
} fixture;

static const uint8_t key000[] = "test key 000";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    cm_error err;
    assert_int_equal(cm_rx_cache_new(0, &f->cache, &err), CM_OK);
    assert_int_equal(cm_rx_cache_set_seed(f->cache, key000, sizeof key000 - 1, NULL, &err), CM_OK);
    assert_int_equal(cm_hasher_new(0, f->cache, NULL, &f->hasher, &err), CM_OK);
    f->consent = cm_consent_new();
    assert_non_null(f->consent);
    assert_int_equal(cm_consent_grant(f->consent, NOW, 60000, 1, 100, &err), CM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cm_hasher_free(f->hasher);
    cm_rx_cache_free(f->cache);
    cm_consent_free(f->consent);
    free(f);
    return 0;
}

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    cm_hex_encode(b, n, out);
}

/* Every line of tests/vectors/randomx.txt, through cm_hasher_hash. */
static void test_official_vectors(void **state)
{
    fixture *f = *state;
    FILE *fp = fopen(CM_VECTORS_DIR "/randomx.txt", "r");
    assert_non_null(fp);
    char line[1024];
    int checked = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *kind = strtok(line, "|"), *key = strtok(NULL, "|"), *input = strtok(NULL, "|"),
             *want = strtok(NULL, "|");
        assert_non_null(want);
        if (strcmp(kind, "text") != 0)
            continue;
        cm_error err;
        assert_int_equal(
            cm_rx_cache_set_seed(f->cache, (const uint8_t *)key, strlen(key), NULL, &err), CM_OK);
        uint8_t out[32];
        char hex[65];
        assert_int_equal(cm_hasher_hash(f->hasher, f->consent, NOW, input, strlen(input), out),
                         CM_OK);
        to_hex(out, 32, hex);
        assert_string_equal(hex, want);
        checked++;
    }
    fclose(fp);
    assert_true(checked >= 4);
}

static void test_seed_rebuilt_only_on_change(void **state)
{
    fixture *f = *state;
    int changed = -1;
    cm_error err;
    assert_int_equal(cm_rx_cache_set_seed(f->cache, key000, sizeof key000 - 1, &changed, &err), CM_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(cm_rx_cache_set_seed(f->cache, (const uint8_t *)"other", 5, &changed, &err),
                     CM_OK);
    assert_int_equal(changed, 1);
    assert_true(cm_rx_cache_has_seed(f->cache, (const uint8_t *)"other", 5));
    assert_false(cm_rx_cache_has_seed(f->cache, key000, sizeof key000 - 1));
    assert_int_equal(cm_rx_cache_set_seed(f->cache, (const uint8_t *)"", 0, &changed, &err),
                     CM_E_INVAL);
    assert_non_null(strstr(err.message, "seed"));
}

static void test_hash_refuses_without_consent(void **state)
{
    fixture *f = *state;
    uint8_t out[32];
    cm_consent *none = cm_consent_new();
    assert_int_equal(cm_hasher_hash(f->hasher, NULL, NOW, "x", 1, out), CM_E_NO_CONSENT);
    assert_int_equal(cm_hasher_hash(f->hasher, none, NOW, "x", 1, out), CM_E_NO_CONSENT);
    /* expired: the record granted at NOW for 60 s */
    assert_int_equal(cm_hasher_hash(f->hasher, f->consent, NOW + 60001, "x", 1, out),
                     CM_E_CONSENT_EXPIRED);
    cm_consent_revoke(f->consent);
    assert_int_equal(cm_hasher_hash(f->hasher, f->consent, NOW, "x", 1, out), CM_E_CONSENT_REVOKED);
    cm_consent_free(none);
}

/* A job whose seed is the cache's and whose target every hash meets. */
static void easy_job(cm_job *job, const uint8_t *seed32)
{
    memset(job, 0, sizeof *job);
    job->blob_len = 76;
    job->blob[0] = 16;
    job->blob[1] = 16;
    job->blob[2] = 0x80; /* 3-byte timestamp varint: 0x80 0x80 0x01 */
    job->blob[3] = 0x80;
    job->blob[4] = 0x01;
    for (size_t i = 5; i < job->blob_len; i++)
        job->blob[i] = (uint8_t)i;
    job->nonce_offset = 37;
    strcpy(job->job_id, "t");
    job->target64 = UINT64_MAX;
    memcpy(job->seed_hash, seed32, 32);
}

typedef struct mine_log {
    int shares;
    uint32_t nonces[64];
    uint8_t hashes[64][32];
    int revoke_after;
    cm_consent *consent;
    int64_t now;
    int64_t step;
} mine_log;

static int64_t test_clock(void *ud)
{
    mine_log *log = ud;
    int64_t t = log->now;
    log->now += log->step;
    return t;
}

static int record_share(void *ud, const cm_job *job, uint32_t nonce, const uint8_t hash[32])
{
    (void)job;
    mine_log *log = ud;
    if (log->shares < 64) {
        log->nonces[log->shares] = nonce;
        memcpy(log->hashes[log->shares], hash, 32);
    }
    log->shares++;
    if (log->revoke_after && log->shares == log->revoke_after)
        cm_consent_revoke(log->consent);
    return 0;
}

static const uint8_t seed32[32] = {1, 2, 3, 4, 5, 6, 7, 8};

static void prepare_seed32(fixture *f)
{
    cm_error err;
    assert_int_equal(cm_rx_cache_set_seed(f->cache, seed32, 32, NULL, &err), CM_OK);
}

/* The pipelined loop reports, for each nonce, the hash a plain hash of that blob gives;
 * nonces are consecutive and distinct within the worker's slice. */
static void test_mine_hashes_match_plain_hashes(void **state)
{
    fixture *f = *state;
    prepare_seed32(f);
    cm_job job;
    easy_job(&job, seed32);
    cm_nonce_range r;
    assert_int_equal(cm_nonce_range_init(&r, 1, 4, 0, 0, NULL), CM_OK);
    mine_log log = {.now = NOW, .step = 1};
    cm_batch b = {.job = &job, .nonces = &r, .consent = f->consent, .clock = test_clock,
                  .clock_ud = &log, .max_hashes = 5, .on_share = record_share, .share_ud = &log};
    assert_int_equal(cm_hasher_mine(f->hasher, &b), CM_OK);
    assert_int_equal(b.hashes, 5);
    assert_int_equal(log.shares, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(log.nonces[i], 0x40000000u + (uint32_t)i);
        uint8_t blob[CM_BLOB_MAX], plain[32];
        memcpy(blob, job.blob, job.blob_len);
        cm_job_write_nonce(&job, blob, log.nonces[i]);
        assert_int_equal(blob[37], (uint8_t)i);
        assert_int_equal(blob[40], 0x40);
        assert_int_equal(cm_hasher_hash(f->hasher, f->consent, NOW, blob, job.blob_len, plain),
                         CM_OK);
        assert_memory_equal(plain, log.hashes[i], 32);
    }
}

/* on_hash sees every hash, shares or not, with the hash a plain hash of that nonce's blob
 * gives: a benchmark's checksum relies on it. The target here is one no hash meets. */
static void test_mine_on_hash_sees_every_hash(void **state)
{
    fixture *f = *state;
    prepare_seed32(f);
    cm_job job;
    easy_job(&job, seed32);
    job.target64 = 0;
    cm_nonce_range r;
    assert_int_equal(cm_nonce_range_init(&r, 0, 1, 0, 0, NULL), CM_OK);
    mine_log shares = {.now = NOW, .step = 1}, all = {.now = NOW};
    cm_batch b = {.job = &job, .nonces = &r, .consent = f->consent, .clock = test_clock,
                  .clock_ud = &shares, .max_hashes = 4, .on_share = record_share,
                  .share_ud = &shares, .on_hash = record_share, .hash_ud = &all};
    assert_int_equal(cm_hasher_mine(f->hasher, &b), CM_OK);
    assert_int_equal(b.hashes, 4);
    assert_int_equal(shares.shares, 0);
    assert_int_equal(all.shares, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(all.nonces[i], (uint32_t)i);
        uint8_t blob[CM_BLOB_MAX], plain[32];
        memcpy(blob, job.blob, job.blob_len);
        cm_job_write_nonce(&job, blob, all.nonces[i]);
        assert_int_equal(cm_hasher_hash(f->hasher, f->consent, NOW, blob, job.blob_len, plain),
                         CM_OK);
        assert_memory_equal(plain, all.hashes[i], 32);
    }
}

/* Stops a batch after two hashes: its first call comes before any hash. */
static int stop_after_two(void *ud)
{
    int *calls = ud;
    return ++*calls > 3;
}

/* A batch stopped mid-way gives back the nonce of the hash it dropped: the next batch of
 * the same slice starts there, so the slice is hashed without a hole. */
static void test_mine_stop_leaves_no_hole(void **state)
{
    fixture *f = *state;
    prepare_seed32(f);
    cm_job job;
    easy_job(&job, seed32);
    cm_nonce_range r;
    assert_int_equal(cm_nonce_range_init(&r, 0, 1, 0, 0, NULL), CM_OK);
    mine_log log = {.now = NOW, .step = 1};
    int calls = 0;
    cm_batch b = {.job = &job, .nonces = &r, .consent = f->consent, .clock = test_clock,
                  .clock_ud = &log, .on_share = record_share, .share_ud = &log,
                  .should_stop = stop_after_two, .stop_ud = &calls};
    assert_int_equal(cm_hasher_mine(f->hasher, &b), CM_E_STOPPED);
    assert_int_equal(b.hashes, 2);
    b.should_stop = NULL;
    b.max_hashes = 2;
    assert_int_equal(cm_hasher_mine(f->hasher, &b), CM_OK);
    assert_int_equal(log.shares, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(log.nonces[i], (uint32_t)i);
}

/* One worker's batch over easy_job: the seed prepared, the whole nonce space as its slice,
 * every share recorded in c->log, and a clock moving `step` ms per read. */
typedef struct mine_case {
    cm_job job;
    cm_nonce_range r;
    mine_log log;
    cm_batch b;
} mine_case;

static void mine_case_init(fixture *f, mine_case *c, const uint8_t *job_seed, int64_t step,
                           uint64_t max_hashes)
{
    prepare_seed32(f);
    easy_job(&c->job, job_seed);
    assert_int_equal(cm_nonce_range_init(&c->r, 0, 1, 0, 0, NULL), CM_OK);
    c->log = (mine_log){.now = NOW, .step = step};
    c->b = (cm_batch){.job = &c->job, .nonces = &c->r, .consent = f->consent, .clock = test_clock,
                      .clock_ud = &c->log, .max_hashes = max_hashes, .on_share = record_share,
                      .share_ud = &c->log};
}

/* A revoke during a batch stops it before its next hash. */
static void test_revoke_mid_batch_stops_before_next_hash(void **state)
{
    fixture *f = *state;
    mine_case c;
    mine_case_init(f, &c, seed32, 1, 100);
    c.log.revoke_after = 3;
    c.log.consent = f->consent;
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_CONSENT_REVOKED);
    assert_int_equal(c.b.hashes, 3);
    assert_int_equal(c.log.shares, 3);
}

/* Expiry during a batch (the clock passed in moves 10 s per hash; the record lasts 60 s). */
static void test_expiry_mid_batch(void **state)
{
    fixture *f = *state;
    mine_case c;
    mine_case_init(f, &c, seed32, 10000, 100);
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_CONSENT_EXPIRED);
    assert_true(c.b.hashes >= 4 && c.b.hashes <= 6);
}

static void test_mine_refuses_without_consent(void **state)
{
    fixture *f = *state;
    mine_case c;
    mine_case_init(f, &c, seed32, 1, 2);
    c.b.consent = NULL;
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_NO_CONSENT);
    assert_int_equal(c.b.hashes, 0);
    assert_int_equal(c.log.shares, 0);
}

/* The loop checks the consent's ceilings before every hash: the fixture's record allows
 * one thread at 100%, so a second thread, or a lower ceiling, gets no hash. */
static void test_mine_refuses_beyond_ceilings(void **state)
{
    fixture *f = *state;
    mine_case c;
    mine_case_init(f, &c, seed32, 1, 2);
    c.b.thread_index = 1;
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_CONSENT_EXCEEDED);
    assert_int_equal(c.b.hashes, 0);
    c.b.thread_index = 0;
    c.b.throttle_pct = 100;
    assert_int_equal(cm_consent_grant(f->consent, NOW, 60000, 1, 40, NULL), CM_OK);
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_CONSENT_EXCEEDED);
    c.b.throttle_pct = 0; /* 0 is 100%: still above 40 */
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_CONSENT_EXCEEDED);
    assert_int_equal(c.b.hashes, 0);
    assert_int_equal(c.log.shares, 0);
    c.b.throttle_pct = 40;
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_OK);
    assert_int_equal(c.b.hashes, 2);
}

/* A job for another seed than the cache's is refused, not hashed with the wrong key. */
static void test_mine_refuses_seed_mismatch(void **state)
{
    fixture *f = *state;
    uint8_t other[32] = {9};
    mine_case c;
    mine_case_init(f, &c, other, 1, 2);
    c.b.on_share = NULL;
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_STATE);
}

/* NiceHash: the loop keeps the fixed top byte and stops when the slice is used up. */
static void test_mine_nicehash_exhaustion(void **state)
{
    fixture *f = *state;
    mine_case c;
    mine_case_init(f, &c, seed32, 1, 0);
    assert_int_equal(cm_nonce_range_init(&c.r, 0, 1, 1, 0xab, NULL), CM_OK);
    c.r.next = c.r.end - 3; /* leave three nonces */
    assert_int_equal(cm_hasher_mine(f->hasher, &c.b), CM_E_NONCE_EXHAUSTED);
    assert_int_equal(c.b.hashes, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(c.log.nonces[i] >> 24, 0xab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_official_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_rebuilt_only_on_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_refuses_without_consent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_hashes_match_plain_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_on_hash_sees_every_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_stop_leaves_no_hole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_mid_batch_stops_before_next_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_mid_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_refuses_without_consent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_refuses_beyond_ceilings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_refuses_seed_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mine_nicehash_exhaustion, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
