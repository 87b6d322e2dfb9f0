/* Stratum jobs (job.h): the malformed-job table, the nonce-offset table, a real pool job,
 * and reading and writing the nonce. */
#include "vector_lines.h"

#include "consentminer/error.h"
#include "consentminer/job.h"

/* A real job from a pool's login reply (also the "=" value in jobs_malformed.txt). */
#define REAL_BLOB                                                                                  \
    "10109d97c3c20639e4a88de37e69f8af1235afa0f50a20a02d9ad6d0b979c642bc68aa746bebf40000008fafef5"  \
    "66106b728e059a9c4f304d99f81bd7a3804a5bdc2a63f088008f97c382a27"
#define REAL_JOB_ID "d0xdXRIBKUD+0cON2Cs4EziVY6XL"
#define REAL_TARGET "c6100000"
#define REAL_SEED "27318467c624a537d02531b291e253a2a02a9dc194810178586f536e3391c66f"

static char *field_value(const char *tok, const char *real)
{
    if (strcmp(tok, "=") == 0) {
        char *s = malloc(strlen(real) + 1);
        strcpy(s, real);
        return s;
    }
    return vec_expand(tok);
}

static void test_malformed_table(void **state)
{
    (void)state;
    vec_file v;
    vec_open(&v, "jobs_malformed.txt");
    int cases = 0, failures = 0;
    while (vec_next(&v)) {
        vec_need(&v, 7);
        char *blob = field_value(v.field[2], REAL_BLOB);
        char *job_id = field_value(v.field[3], REAL_JOB_ID);
        char *target = field_value(v.field[4], REAL_TARGET);
        char *seed = field_value(v.field[5], REAL_SEED);
        char *algo = field_value(v.field[6], "rx/0");
        cm_job_fields f = {blob, job_id, target, seed, algo, 3435647};
        cm_job job;
        cm_error err;
        memset(&err, 0x55, sizeof err);
        int rc = cm_job_parse(&f, &job, &err);
        const char *want = v.field[0];
        const char *word = v.field[1];
        if (strcmp(cm_err_name(rc), want) != 0) {
            print_error("jobs_malformed.txt:%d: gave %s (%s), expected %s\n", v.line_no,
                        cm_err_name(rc), rc ? err.message : "", want);
            failures++;
        } else if (err.code != rc) {
            print_error("jobs_malformed.txt:%d: err.code %d, returned %d\n", v.line_no, err.code,
                        rc);
            failures++;
        } else if (rc == CM_OK && err.message[0] != '\0') {
            print_error("jobs_malformed.txt:%d: a message on success\n", v.line_no);
            failures++;
        } else if (rc != CM_OK && strcmp(word, "-") != 0 && strstr(err.message, word) == NULL) {
            print_error("jobs_malformed.txt:%d: message \"%s\" does not name %s\n", v.line_no,
                        err.message, word);
            failures++;
        }
        /* The same input gives the same code when the caller wants no message. */
        cm_job job2;
        assert_int_equal(cm_job_parse(&f, &job2, NULL), rc);
        free(blob);
        free(job_id);
        free(target);
        free(seed);
        free(algo);
        cases++;
    }
    assert_int_equal(failures, 0);
    assert_true(cases >= 50);
}

static void test_nonce_offset_table(void **state)
{
    (void)state;
    vec_file v;
    vec_open(&v, "nonce_offsets.txt");
    int cases = 0, failures = 0;
    static uint8_t blob[4096];
    while (vec_next(&v)) {
        vec_need(&v, 2);
        char *hex = vec_expand(v.field[0]);
        size_t len = vec_unhex(hex, blob, sizeof blob);
        size_t off = 7777;
        cm_error err;
        int rc = cm_blob_nonce_offset(blob, len, &off, &err);
        const char *want = v.field[1];
        if (want[0] == 'C') {
            if (strcmp(cm_err_name(rc), want) != 0) {
                print_error("nonce_offsets.txt:%d: gave %s, expected %s\n", v.line_no,
                            cm_err_name(rc), want);
                failures++;
            } else if (strstr(err.message, "blob") == NULL || off != 7777) {
                print_error("nonce_offsets.txt:%d: message \"%s\" or offset %zu\n", v.line_no,
                            err.message, off);
                failures++;
            }
        } else {
            uint64_t expect = vec_u64(&v, want);
            if (rc != CM_OK || off != expect) {
                print_error("nonce_offsets.txt:%d: gave %s offset %zu (%s), expected %llu\n",
                            v.line_no, cm_err_name(rc), off, err.message,
                            (unsigned long long)expect);
                failures++;
            }
        }
        free(hex);
        cases++;
    }
    assert_int_equal(failures, 0);
    assert_true(cases >= 25);
}

static void test_real_job(void **state)
{
    (void)state;
    cm_job_fields f = {REAL_BLOB, REAL_JOB_ID, REAL_TARGET, REAL_SEED, "rx/0", 3435647};
    cm_job job;
    memset(&job, 0xAA, sizeof job);
    cm_error err;
    assert_int_equal(cm_job_parse(&f, &job, &err), CM_OK);
    assert_int_equal(job.blob_len, 76);
    assert_int_equal(job.nonce_offset, 39);
    assert_int_equal(job.blob[0], 0x10);
    assert_int_equal(job.blob[75], 0x27);
    assert_string_equal(job.job_id, REAL_JOB_ID);
    /* c6100000 is t = 0x10c6: 0xFFFFFFFFFFFFFFFF // (0xFFFFFFFF // 0x10c6), by Python. */
    assert_true(job.target64 == UINT64_C(18442594489949));
    assert_int_equal(job.seed_hash[0], 0x27);
    assert_int_equal(job.seed_hash[1], 0x31);
    assert_int_equal(job.seed_hash[31], 0x6f);
    assert_true(job.height == 3435647);
    /* NiceHash is the caller's call, never inferred from the blob. */
    assert_int_equal(job.nicehash, 0);
    assert_int_equal(job.nicehash_byte, 0);
    /* This pool fixed the top nonce byte at 0x8f: blob bytes 39..42 are 00 00 00 8f. */
    assert_true(cm_job_read_nonce(&job, job.blob) == UINT32_C(0x8f000000));
}

static void test_exact_messages(void **state)
{
    (void)state;
    cm_job job;
    cm_error err;
    cm_job_fields f = {"1010"
                       "00000000000000000000",
                       REAL_JOB_ID,
                       REAL_TARGET,
                       REAL_SEED,
                       NULL,
                       0};
    assert_int_equal(cm_job_parse(&f, &job, &err), CM_E_BLOB_SIZE);
    assert_string_equal(err.message, "job blob is 12 bytes; a RandomX blob is 43..407");
    cm_job_fields g = {REAL_BLOB, REAL_JOB_ID, REAL_TARGET, NULL, NULL, 0};
    assert_int_equal(cm_job_parse(&g, &job, &err), CM_E_SEED_HASH);
    assert_string_equal(err.message, "seed_hash is missing; a RandomX job needs 64 hex characters");
    cm_job_fields h = {REAL_BLOB, REAL_JOB_ID, "ffffff", REAL_SEED, NULL, 0};
    assert_int_equal(cm_job_parse(&h, &job, &err), CM_E_TARGET);
    assert_string_equal(err.message, "target is 3 bytes of hex; expected 4 or 8");
}

static void test_write_read_nonce(void **state)
{
    (void)state;
    cm_job job;
    cm_job_fields f = {REAL_BLOB, REAL_JOB_ID, REAL_TARGET, REAL_SEED, NULL, 0};
    assert_int_equal(cm_job_parse(&f, &job, NULL), CM_OK);
    uint8_t blob[CM_BLOB_MAX];
    memcpy(blob, job.blob, job.blob_len);
    cm_job_write_nonce(&job, blob, UINT32_C(0x01020304));
    /* Stratum's nonce 0x01020304 is "04030201": little-endian at the offset. */
    const uint8_t want[4] = {0x04, 0x03, 0x02, 0x01};
    assert_memory_equal(blob + 39, want, 4);
    assert_memory_equal(blob, job.blob, 39);
    assert_memory_equal(blob + 43, job.blob + 43, job.blob_len - 43);
    assert_true(cm_job_read_nonce(&job, blob) == UINT32_C(0x01020304));
    cm_job_write_nonce(&job, blob, UINT32_C(0xfffffffe));
    assert_int_equal(blob[39], 0xfe);
    assert_int_equal(blob[42], 0xff);
    assert_true(cm_job_read_nonce(&job, blob) == UINT32_C(0xfffffffe));
}

static void test_null_arguments(void **state)
{
    (void)state;
    cm_job job;
    cm_error err;
    assert_int_equal(cm_job_parse(NULL, &job, &err), CM_E_INVAL);
    cm_job_fields f = {REAL_BLOB, REAL_JOB_ID, REAL_TARGET, REAL_SEED, NULL, 0};
    assert_int_equal(cm_job_parse(&f, NULL, &err), CM_E_INVAL);
    size_t off;
    assert_int_equal(cm_blob_nonce_offset(NULL, 0, &off, NULL), CM_E_BLOB_HEADER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_table),  cmocka_unit_test(test_nonce_offset_table),
        cmocka_unit_test(test_real_job),         cmocka_unit_test(test_exact_messages),
        cmocka_unit_test(test_write_read_nonce), cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
