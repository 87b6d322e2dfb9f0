/* consentminer gateway — share accounting without sockets (internal to native/).
 *
 * Which upstream works are live, which (work, nonce) pairs have been submitted, which
 * nonce bytes may be handed out again, and the job ids browsers are given. The
 * session (gateway_session.c) and the upstream side (gateway_upstream.c) call it;
 * fuzz/fuzz_session.c drives it with sequences of events and checks that no (work,
 * nonce) is credited twice and no job id is given twice.
 *
 * A "work" is what a hash depends on besides the nonce: the seed and the blob with its
 * nonce bytes zeroed. The same nonce on the same work is the same hash, whatever job
 * id, session or upstream job message it arrives with, so that is what the duplicate
 * set is keyed on (docs/design.md, "Share accounting").
 */
#ifndef CM_NATIVE_GATEWAY_ACCT_H
#define CM_NATIVE_GATEWAY_ACCT_H

#include <stddef.h>
#include <stdint.h>

#include "consentminer/job.h"

/* Works kept live per upstream connection at one height: a pool or monerod sends a new
 * job at the same height when transactions change, and a share for one of the last few
 * is still good work. */
#define GW_ACCT_WORKS_PER_SLOT 8
/* Retired works remembered so a job sent again after its block was replaced is not
 * taken as new work (its nonce set is gone; its shares would be stale anyway). */
#define GW_ACCT_RETIRED_KEPT 1024
/* Default bound on remembered (work, nonce) pairs: 1M pairs, about 8 MiB. */
#define GW_ACCT_MAX_NONCES (1u << 20)

typedef struct gw_acct gw_acct;

gw_acct *gw_acct_new(int nslots, size_t max_nonces);
void gw_acct_free(gw_acct *a);

/* The work identity of a job: never 0. */
uint64_t gw_acct_work_id(const cm_job *job);

/* A new job from upstream connection `slot`. When its block differs from the slot's
 * last job (another height or another previous block id), every earlier work of the
 * slot is retired: shares for them are stale. Returns the job's work id, or 0 when
 * that work was retired before (shares on it are stale). */
uint64_t gw_acct_work_new(gw_acct *a, int slot, const cm_job *job);
/* The upstream connection was closed for good: its works are retired. */
void gw_acct_slot_closed(gw_acct *a, int slot);
/* 1 when shares for work are still taken. */
int gw_acct_work_live(const gw_acct *a, uint64_t work);

/* What a share comes to before it is hashed. */
typedef enum gw_acct_check {
    GW_ACCT_VERIFY = 0, /* new (work, nonce), recorded: hash it */
    GW_ACCT_STALE,      /* its work is retired */
    GW_ACCT_BAD_NONCE,  /* the nonce's top byte is not the session's */
    GW_ACCT_LOW_DIFF,   /* the claimed hash does not meet the job's target */
    GW_ACCT_DUPLICATE,  /* (work, nonce) was submitted before, by any session */
    GW_ACCT_FULL        /* the duplicate set is at its bound: not recorded, not hashed */
} gw_acct_check;

/* The cheap checks, in the order they answer: stale, bad nonce, duplicate (or full),
 * low difficulty. A share past the nonce check is recorded, so that a second submission
 * of the same (work, nonce) is a duplicate. */
gw_acct_check gw_acct_submit(gw_acct *a, uint64_t work, uint64_t target64, int nonce_byte,
                             uint32_t nonce, const uint8_t claimed[32]);

/* A session that recorded shares on `slot` gave its nonce byte back: the byte is not
 * handed out again while any work live now is live (a new session would redo, and
 * could resubmit, the same nonces). */
void gw_acct_byte_left(gw_acct *a, int slot, int byte);
/* 1 when the byte may be handed out on slot. */
int gw_acct_byte_clean(const gw_acct *a, int slot, int byte);

/* A new job id (a number, never given before). */
uint64_t gw_acct_next_job_id(gw_acct *a);

/* Remembered (work, nonce) pairs and live works, for /stats and tests. */
size_t gw_acct_nonces(const gw_acct *a);
size_t gw_acct_works(const gw_acct *a);

#endif
