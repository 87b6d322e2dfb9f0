/* consentminer — error codes and messages.
 *
 * Every fallible cm_ function returns 0 (CM_OK) or a negative cm_err code, in the way
 * libuv does. Functions that validate input also fill a cm_error, whose message names
 * the input at fault and what was expected ("job blob is 12 bytes; a RandomX blob is
 * 43..407"). A NULL cm_error pointer is always allowed and means "code only".
 */
#ifndef CONSENTMINER_ERROR_H
#define CONSENTMINER_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_err {
    CM_OK = 0,
    /* generic */
    CM_E_INVAL = -1,   /* an argument is out of its documented range */
    CM_E_NOMEM = -2,   /* an allocation failed (RandomX cache, dataset or VM included) */
    CM_E_STATE = -3,   /* the object is not in a state that allows the call */
    /* consent (core refuses to hash without it) */
    CM_E_NO_CONSENT = -10,      /* no consent record was ever granted */
    CM_E_CONSENT_EXPIRED = -11, /* the record's expiry time has passed */
    CM_E_CONSENT_REVOKED = -12, /* the record was revoked */
    CM_E_CONSENT_INVALID = -13, /* grant arguments out of range (duration, threads, throttle) */
    CM_E_CONSENT_EXCEEDED = -14, /* more threads, or a higher throttle, than the record allows */
    /* job fields, one code per field so tests and logs can tell them apart */
    CM_E_HEX_ODD = -20,         /* a hex field has an odd number of characters */
    CM_E_HEX_CHAR = -21,        /* a hex field has a character outside 0-9a-fA-F */
    CM_E_BLOB_SIZE = -22,       /* blob outside 43..407 bytes */
    CM_E_BLOB_HEADER = -23,     /* the header varints are malformed */
    CM_E_NONCE_OFFSET = -24,    /* the nonce (4 bytes after the header) runs past the blob */
    CM_E_JOB_ID = -25,          /* job_id missing, empty or too long */
    CM_E_TARGET = -26,          /* target is not 4 or 8 bytes of hex, or is zero */
    CM_E_SEED_HASH = -27,       /* seed_hash missing or not 32 bytes of hex */
    CM_E_HEIGHT = -28,          /* height out of range */
    CM_E_ALGO = -29,            /* algorithm other than rx/0 */
    /* mining */
    CM_E_NONCE_EXHAUSTED = -40, /* the worker's nonce range is used up: a new job is needed */
    CM_E_STOPPED = -41,         /* a batch was stopped by its caller's stop flag */
    CM_E_LARGE_PAGES = -42      /* large pages were asked for but are unavailable */
} cm_err;

/* The longest message a cm_error holds, terminating NUL included. */
#define CM_ERROR_MESSAGE_MAX 192

typedef struct cm_error {
    int code;                            /* a cm_err value */
    char message[CM_ERROR_MESSAGE_MAX];  /* names the input at fault; "" when code is 0 */
} cm_error;

/* A short, static, English description of a cm_err code; never NULL. */
const char *cm_strerror(int code);

/* The symbolic name of a cm_err code ("CM_E_BLOB_SIZE"); never NULL. */
const char *cm_err_name(int code);

/* Sets err (if not NULL) to code and a printf-style message; returns code. */
int cm_error_set(cm_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears err (if not NULL) to CM_OK and an empty message. */
void cm_error_clear(cm_error *err);

#ifdef __cplusplus
}
#endif
#endif
