/* consentminer — the consent record that every hashing call checks.
 *
 * docs/design.md, consent rule 4: cm_ hashing calls fail with a "no consent" error unless a
 * valid, unexpired consent record is held, and revocation is checked between hashes.
 * Time is always passed in (milliseconds since the Unix epoch), never read here.
 * cm_consent_revoke may be called from any thread while another thread hashes; the
 * hashing thread sees it before its next hash.
 */
#ifndef CONSENTMINER_CONSENT_H
#define CONSENTMINER_CONSENT_H

#include <stdint.h>
#include "consentminer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A remembered yes lasts 24 hours by default and at most 30 days (docs/design.md, rule 7). */
#define CM_CONSENT_DEFAULT_MS (24LL * 60 * 60 * 1000)
#define CM_CONSENT_MAX_MS (30LL * 24 * 60 * 60 * 1000)
#define CM_CONSENT_MAX_THREADS 256

typedef struct cm_consent cm_consent;

/* A record holding no consent. NULL when out of memory. */
cm_consent *cm_consent_new(void);
void cm_consent_free(cm_consent *c);

/* Records a yes given at now_ms, valid for duration_ms (1 ms .. CM_CONSENT_MAX_MS), for
 * `threads` workers (1..CM_CONSENT_MAX_THREADS) at `throttle_pct` percent of each
 * thread's time (1..100). Clears an earlier revoke. Error: CM_E_CONSENT_INVALID naming
 * the argument out of range. */
int cm_consent_grant(cm_consent *c, int64_t now_ms, int64_t duration_ms, int threads,
                     int throttle_pct, cm_error *err);

/* Restores a record given earlier (from storage or a gateway login): the same checks as
 * grant, with expires_at_ms - granted_at_ms as the duration, and granted_at_ms not in
 * the future of now_ms by more than a minute of clock skew. */
int cm_consent_restore(cm_consent *c, int64_t granted_at_ms, int64_t expires_at_ms,
                       int threads, int throttle_pct, int64_t now_ms, cm_error *err);

/* cm_consent_restore for a record whose fields arrive as numbers, as JSON and JavaScript
 * hold them (a consent token's payload, the wasm runtime's arguments): each must be a
 * whole number (no fraction, not NaN or infinite) in range, else CM_E_CONSENT_INVALID
 * naming the field; then the same checks as cm_consent_restore. This is the one consent
 * rule; tests/vectors/consent_records.txt holds its cases for every implementation. */
int cm_consent_restore_numbers(cm_consent *c, double granted_at_ms, double expires_at_ms,
                               double threads, double throttle_pct, int64_t now_ms, cm_error *err);

/* Withdraws the yes; safe to call from any thread. */
void cm_consent_revoke(cm_consent *c);

/* CM_OK when the record holds a yes at now_ms; else CM_E_NO_CONSENT (NULL or never
 * granted), CM_E_CONSENT_REVOKED or CM_E_CONSENT_EXPIRED. */
int cm_consent_check(const cm_consent *c, int64_t now_ms);

/* cm_consent_check, then the record's ceilings for one mining thread: thread_index (from
 * 0) must be below cm_consent_threads and throttle_pct (1..100) at most
 * cm_consent_throttle, else CM_E_CONSENT_EXCEEDED. The mining loop calls it before every
 * hash (cm_batch), so a host that starts more threads or raises the throttle past what
 * the visitor agreed to gets no hash out of core. */
int cm_consent_check_use(const cm_consent *c, int64_t now_ms, int thread_index, int throttle_pct);

int64_t cm_consent_granted_at(const cm_consent *c);
int64_t cm_consent_expires_at(const cm_consent *c);
int cm_consent_threads(const cm_consent *c);
int cm_consent_throttle(const cm_consent *c);

#ifdef __cplusplus
}
#endif
#endif
