/* consentminer — a mining job as stratum and monerod describe it.
 *
 * A job is a plain value: parse it once from its stratum fields, then read its fields.
 * The nonce offset is found by parsing the block header (major and minor version varints,
 * timestamp varint, 32-byte previous id), never assumed to be 39.
 */
#ifndef CONSENTMINER_JOB_H
#define CONSENTMINER_JOB_H

#include <stddef.h>
#include <stdint.h>
#include "consentminer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The blob sizes xmrig accepts for a job (docs/design.md, protocols). */
#define CM_BLOB_MIN 43
#define CM_BLOB_MAX 407
/* job_id is an opaque string chosen by the pool; 64 characters covers every pool seen. */
#define CM_JOB_ID_MAX 64
#define CM_SEED_HASH_SIZE 32
#define CM_HASH_SIZE 32

typedef struct cm_job {
    uint8_t blob[CM_BLOB_MAX];
    size_t blob_len;
    size_t nonce_offset;             /* where the 4 little-endian nonce bytes start */
    char job_id[CM_JOB_ID_MAX + 1];  /* NUL-terminated */
    uint64_t target64;               /* share target as a 64-bit number (see target.h) */
    uint8_t seed_hash[CM_SEED_HASH_SIZE];
    uint64_t height;                 /* 0 when the pool sent none */
    int nicehash;                    /* 1: the top nonce byte is fixed by the pool */
    uint8_t nicehash_byte;           /* the fixed byte when nicehash is 1 */
} cm_job;

/* The stratum fields of a job, as strings (NUL-terminated; NULL means "absent"). */
typedef struct cm_job_fields {
    const char *blob;       /* hex, 43..407 bytes */
    const char *job_id;     /* 1..64 characters */
    const char *target;     /* hex, 4 or 8 bytes */
    const char *seed_hash;  /* hex, 32 bytes; required for RandomX */
    const char *algo;       /* NULL or "rx/0" */
    uint64_t height;        /* 0 when absent */
} cm_job_fields;

/* Parses and validates a job. On error, *job is unspecified and err names the field.
 * Errors: CM_E_HEX_ODD, CM_E_HEX_CHAR, CM_E_BLOB_SIZE, CM_E_BLOB_HEADER,
 * CM_E_NONCE_OFFSET, CM_E_JOB_ID, CM_E_TARGET, CM_E_SEED_HASH, CM_E_ALGO. */
int cm_job_parse(const cm_job_fields *fields, cm_job *job, cm_error *err);

/* Finds the nonce offset of a Monero block hashing blob by parsing its header.
 * Errors: CM_E_BLOB_HEADER (a varint runs past the blob or is longer than 10 bytes),
 * CM_E_NONCE_OFFSET (fewer than 4 bytes remain for the nonce). */
int cm_blob_nonce_offset(const uint8_t *blob, size_t len, size_t *offset, cm_error *err);

/* Writes nonce (little-endian) into blob at job->nonce_offset of a copy of the blob. */
void cm_job_write_nonce(const cm_job *job, uint8_t *blob, uint32_t nonce);

/* Reads the nonce at job->nonce_offset of blob. */
uint32_t cm_job_read_nonce(const cm_job *job, const uint8_t *blob);

#ifdef __cplusplus
}
#endif
#endif
