/* consentminer — error codes, their names and descriptions, and field-naming messages. */
#include "consentminer/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *cm_strerror(int code)
{
    switch (code) {
    case CM_OK:
        return "success";
    case CM_E_INVAL:
        return "invalid argument";
    case CM_E_NOMEM:
        return "out of memory";
    case CM_E_STATE:
        return "operation not allowed in the current state";
    case CM_E_NO_CONSENT:
        return "no consent to mine was given";
    case CM_E_CONSENT_EXPIRED:
        return "the consent to mine has expired";
    case CM_E_CONSENT_REVOKED:
        return "the consent to mine was revoked";
    case CM_E_CONSENT_INVALID:
        return "the consent record is invalid";
    case CM_E_CONSENT_EXCEEDED:
        return "more threads or a higher throttle than the consent allows";
    case CM_E_HEX_ODD:
        return "hex field has an odd number of characters";
    case CM_E_HEX_CHAR:
        return "hex field has a non-hex character";
    case CM_E_BLOB_SIZE:
        return "job blob has the wrong size";
    case CM_E_BLOB_HEADER:
        return "job blob has a malformed block header";
    case CM_E_NONCE_OFFSET:
        return "job blob is too short for its nonce";
    case CM_E_JOB_ID:
        return "job_id is missing, empty or too long";
    case CM_E_TARGET:
        return "target is invalid";
    case CM_E_SEED_HASH:
        return "seed_hash is missing or not 32 bytes";
    case CM_E_HEIGHT:
        return "height is out of range";
    case CM_E_ALGO:
        return "algorithm is not rx/0";
    case CM_E_NONCE_EXHAUSTED:
        return "nonce range exhausted";
    case CM_E_STOPPED:
        return "stopped by the caller";
    case CM_E_LARGE_PAGES:
        return "large pages are unavailable";
    default:
        return "unknown error";
    }
}

const char *cm_err_name(int code)
{
    switch (code) {
    case CM_OK:
        return "CM_OK";
    case CM_E_INVAL:
        return "CM_E_INVAL";
    case CM_E_NOMEM:
        return "CM_E_NOMEM";
    case CM_E_STATE:
        return "CM_E_STATE";
    case CM_E_NO_CONSENT:
        return "CM_E_NO_CONSENT";
    case CM_E_CONSENT_EXPIRED:
        return "CM_E_CONSENT_EXPIRED";
    case CM_E_CONSENT_REVOKED:
        return "CM_E_CONSENT_REVOKED";
    case CM_E_CONSENT_INVALID:
        return "CM_E_CONSENT_INVALID";
    case CM_E_CONSENT_EXCEEDED:
        return "CM_E_CONSENT_EXCEEDED";
    case CM_E_HEX_ODD:
        return "CM_E_HEX_ODD";
    case CM_E_HEX_CHAR:
        return "CM_E_HEX_CHAR";
    case CM_E_BLOB_SIZE:
        return "CM_E_BLOB_SIZE";
    case CM_E_BLOB_HEADER:
        return "CM_E_BLOB_HEADER";
    case CM_E_NONCE_OFFSET:
        return "CM_E_NONCE_OFFSET";
    case CM_E_JOB_ID:
        return "CM_E_JOB_ID";
    case CM_E_TARGET:
        return "CM_E_TARGET";
    case CM_E_SEED_HASH:
        return "CM_E_SEED_HASH";
    case CM_E_HEIGHT:
        return "CM_E_HEIGHT";
    case CM_E_ALGO:
        return "CM_E_ALGO";
    case CM_E_NONCE_EXHAUSTED:
        return "CM_E_NONCE_EXHAUSTED";
    case CM_E_STOPPED:
        return "CM_E_STOPPED";
    case CM_E_LARGE_PAGES:
        return "CM_E_LARGE_PAGES";
    default:
        return "CM_E_UNKNOWN";
    }
}

int cm_error_set(cm_error *err, int code, const char *fmt, ...)
{
    if (err != NULL) {
        err->code = code;
        err->message[0] = '\0';
        if (fmt != NULL) {
            va_list ap;
            va_start(ap, fmt);
            /* vsnprintf only formats into the caller's buffer: no I/O. It truncates
             * a message longer than CM_ERROR_MESSAGE_MAX - 1 and always terminates. */
            vsnprintf(err->message, sizeof err->message, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

void cm_error_clear(cm_error *err)
{
    if (err != NULL) {
        err->code = CM_OK;
        err->message[0] = '\0';
    }
}
