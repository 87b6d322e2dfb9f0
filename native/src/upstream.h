/* consentminer — where work comes from and where results go: a stratum pool or monerod.
 *
 * `consentminer mine` and `consentminer gateway` both talk to their upstream through
 * this interface, on a libuv loop. An upstream delivers jobs (a new job replaces the
 * previous one), reports whether it is connected, and takes submissions, answering each
 * exactly once (accepted, rejected with a reason, or stale with a reason): nothing is
 * silently dropped.
 *
 * Constructors live beside each implementation: cm_upstream_pool_new (stratum_client.h)
 * and cm_upstream_daemon_new (daemon_client.h). Every call and every event happens on
 * the loop thread of the upstream's loop; on_result is never called from inside
 * cm_upstream_submit. Several upstreams may live on one loop at once.
 */
#ifndef CM_NATIVE_UPSTREAM_H
#define CM_NATIVE_UPSTREAM_H

#include <stdint.h>
#include <uv.h>
#include "consentminer/job.h"

typedef struct cm_upstream cm_upstream;

typedef enum cm_submit_outcome {
    CM_SUBMIT_ACCEPTED = 0,
    CM_SUBMIT_REJECTED = 1,
    CM_SUBMIT_STALE = 2
} cm_submit_outcome;

typedef struct cm_upstream_events {
    /* New work. job->target64 is the upstream's share target; for monerod it is derived
     * from `difficulty` (the block difficulty), which is also passed (0 for pools). */
    void (*on_job)(void *ud, const cm_job *job, uint64_t difficulty);
    /* Connected (up = 1) or lost (up = 0, with a reason such as "connection refused"). */
    void (*on_state)(void *ud, int up, const char *where, const char *reason);
    /* The answer to one cm_upstream_submit, matched by its ctx. */
    void (*on_result)(void *ud, void *ctx, cm_submit_outcome outcome, const char *reason);
    /* Something worth a log line (malformed reply, protocol error), with its reason. */
    void (*on_log)(void *ud, const char *message);
} cm_upstream_events;

/* Submits a result for job_id. The hash lets the upstream re-check the block target;
 * the outcome arrives later through on_result with ctx. Returns 0 or a negative code
 * (then on_result is not called). */
int cm_upstream_submit(cm_upstream *u, const char *job_id, uint32_t nonce,
                       const uint8_t hash[32], void *ctx);

/* Stops and frees the upstream on the loop; pending submissions get on_result STALE
 * before it returns, and no event is delivered after it returns. */
void cm_upstream_close(cm_upstream *u);

#endif
