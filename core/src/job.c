/* consentminer — stratum job fields into a cm_job, and the nonce offset of a blob.
 *
 * A Monero block hashing blob starts with the block header: major version, minor
 * version and timestamp as LEB128 varints, then the 32-byte id of the previous block,
 * then the 4-byte nonce. The offset is 39 on mainnet today (two 1-byte versions, a
 * 5-byte timestamp) but is parsed, never assumed.
 */
#include "consentminer/job.h"

#include <string.h>

#include "consentminer/hex.h"
#include "consentminer/target.h"

/* A varint holds a uint64: 9 bytes of 7 bits and a tenth with the last bit. */
#define VARINT_MAX_BYTES 10
#define PREV_ID_SIZE 32
#define NONCE_SIZE 4

static int skip_varint(const char *name, const uint8_t *blob, size_t len, size_t *pos,
                       cm_error *err)
{
    size_t start = *pos;
    for (size_t i = 0; i < VARINT_MAX_BYTES; i++) {
        size_t at = start + i;
        if (at >= len)
            return cm_error_set(err, CM_E_BLOB_HEADER,
                                "blob header %s varint at byte %zu runs past the %zu-byte blob",
                                name, start, len);
        uint8_t b = blob[at];
        if ((b & 0x80) != 0)
            continue;
        /* The tenth byte carries bit 63 only. */
        if (i == VARINT_MAX_BYTES - 1 && b > 1)
            return cm_error_set(err, CM_E_BLOB_HEADER,
                                "blob header %s varint at byte %zu overflows 64 bits", name, start);
        *pos = at + 1;
        return CM_OK;
    }
    return cm_error_set(err, CM_E_BLOB_HEADER,
                        "blob header %s varint at byte %zu is longer than %d bytes", name, start,
                        VARINT_MAX_BYTES);
}

int cm_blob_nonce_offset(const uint8_t *blob, size_t len, size_t *offset, cm_error *err)
{
    if (blob == NULL && len > 0)
        return cm_error_set(err, CM_E_INVAL, "blob is missing");
    size_t pos = 0;
    int rc;
    if ((rc = skip_varint("major version", blob, len, &pos, err)) != CM_OK ||
        (rc = skip_varint("minor version", blob, len, &pos, err)) != CM_OK ||
        (rc = skip_varint("timestamp", blob, len, &pos, err)) != CM_OK)
        return rc;
    size_t nonce_at = pos + PREV_ID_SIZE;
    if (nonce_at + NONCE_SIZE > len)
        return cm_error_set(err, CM_E_NONCE_OFFSET,
                            "blob nonce at byte %zu needs bytes %zu..%zu; the blob is %zu bytes",
                            nonce_at, nonce_at, nonce_at + NONCE_SIZE - 1, len);
    if (offset != NULL)
        *offset = nonce_at;
    cm_error_clear(err);
    return CM_OK;
}

static int parse_job_id(const char *job_id, cm_job *job, cm_error *err)
{
    if (job_id == NULL)
        return cm_error_set(err, CM_E_JOB_ID, "job_id is missing; expected 1..%d characters",
                            CM_JOB_ID_MAX);
    size_t len = strlen(job_id);
    if (len == 0 || len > CM_JOB_ID_MAX)
        return cm_error_set(err, CM_E_JOB_ID, "job_id is %zu characters; expected 1..%d", len,
                            CM_JOB_ID_MAX);
    memcpy(job->job_id, job_id, len + 1);
    return CM_OK;
}

static int parse_blob(const char *hex, cm_job *job, cm_error *err)
{
    if (hex == NULL)
        return cm_error_set(err, CM_E_BLOB_SIZE,
                            "blob is missing; a RandomX blob is %d..%d bytes of hex", CM_BLOB_MIN,
                            CM_BLOB_MAX);
    size_t len = strlen(hex);
    if (len % 2 != 0)
        return cm_hex_decode("blob", hex, len, job->blob, sizeof job->blob, NULL, err);
    if (len / 2 < CM_BLOB_MIN || len / 2 > CM_BLOB_MAX)
        return cm_error_set(err, CM_E_BLOB_SIZE, "job blob is %zu bytes; a RandomX blob is %d..%d",
                            len / 2, CM_BLOB_MIN, CM_BLOB_MAX);
    int rc = cm_hex_decode("blob", hex, len, job->blob, sizeof job->blob, &job->blob_len, err);
    if (rc != CM_OK)
        return rc;
    return cm_blob_nonce_offset(job->blob, job->blob_len, &job->nonce_offset, err);
}

static int parse_seed_hash(const char *hex, cm_job *job, cm_error *err)
{
    if (hex == NULL)
        return cm_error_set(err, CM_E_SEED_HASH,
                            "seed_hash is missing; a RandomX job needs %d hex characters",
                            2 * CM_SEED_HASH_SIZE);
    size_t len = strlen(hex);
    if (len % 2 != 0)
        return cm_hex_decode("seed_hash", hex, len, job->seed_hash, sizeof job->seed_hash, NULL,
                             err);
    if (len != 2 * CM_SEED_HASH_SIZE)
        return cm_error_set(err, CM_E_SEED_HASH, "seed_hash is %zu bytes of hex; expected %d",
                            len / 2, CM_SEED_HASH_SIZE);
    return cm_hex_decode("seed_hash", hex, len, job->seed_hash, sizeof job->seed_hash, NULL, err);
}

int cm_job_parse(const cm_job_fields *fields, cm_job *job, cm_error *err)
{
    if (fields == NULL || job == NULL)
        return cm_error_set(err, CM_E_INVAL, "job fields or job output is NULL");
    memset(job, 0, sizeof *job);
    /* "rx/0" is the name xmrig and Monero pools give RandomX (stratum "algo" field). */
    if (fields->algo != NULL && strcmp(fields->algo, "rx/0") != 0)
        return cm_error_set(err, CM_E_ALGO, "algo is \"%.32s\"; expected \"rx/0\"", fields->algo);
    int rc;
    if ((rc = parse_job_id(fields->job_id, job, err)) != CM_OK ||
        (rc = parse_blob(fields->blob, job, err)) != CM_OK ||
        (rc = cm_target_parse(fields->target, &job->target64, err)) != CM_OK ||
        (rc = parse_seed_hash(fields->seed_hash, job, err)) != CM_OK)
        return rc;
    job->height = fields->height;
    /* Whether the pool fixes the top nonce byte is the caller's knowledge (the login's
     * "nicehash" extension), so a parsed job never assumes it. */
    job->nicehash = 0;
    job->nicehash_byte = 0;
    cm_error_clear(err);
    return CM_OK;
}

void cm_job_write_nonce(const cm_job *job, uint8_t *blob, uint32_t nonce)
{
    uint8_t *p = blob + job->nonce_offset;
    p[0] = (uint8_t)nonce;
    p[1] = (uint8_t)(nonce >> 8);
    p[2] = (uint8_t)(nonce >> 16);
    p[3] = (uint8_t)(nonce >> 24);
}

uint32_t cm_job_read_nonce(const cm_job *job, const uint8_t *blob)
{
    const uint8_t *p = blob + job->nonce_offset;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
