/* libFuzzer target: sequences of session events through the gateway's share accounting
 * (native/src/gateway_acct.c, the layer gateway_session.c and gateway_upstream.c call):
 * upstream jobs (new blocks, new jobs at the same height, old jobs sent again, closed
 * connections), logins that take a nonce byte the way gw_upstream_join does, logouts,
 * getjob (new job ids), and submits, each verified by a fake verifier that says match or
 * no match deterministically from the share.
 *
 * Invariants, checked after every event:
 *  - no (work, nonce) is credited twice, whatever session or job id it comes with;
 *  - nothing is credited that was not recorded and verified (match);
 *  - a share is only taken for hashing on its session's byte, on the newest block of its
 *    upstream connection, with a claimed hash meeting the job's target;
 *  - no job id is given twice;
 *  - memory stays within the bounds (nonces, live works).
 * The work a share is credited under is the fuzzer's own identity of the blob (block,
 * variant, connection), not gw_acct's, so a wrong identity in gw_acct shows.
 *
 * Bounds of the model: 2 upstream connections, 24 blocks, 8 job variants per block, so
 * at most 384 distinct works: within GW_ACCT_RETIRED_KEPT, which is what lets gw_acct
 * refuse an old job sent again after its block was replaced.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consentminer/job.h"
#include "gateway_acct.h"

#define SLOTS 2
#define SESSIONS 8
#define JOBS_KEPT 4
#define BLOCKS 24
#define VARIANTS 8
#define MAX_NONCES 48
#define CREDITS 8192

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

typedef struct mjob {
    int used;
    uint64_t id, work;
    int slot, block, variant; /* the fuzzer's identity of the blob */
    uint64_t target64;
} mjob;

typedef struct msess {
    int on, slot, byte;
    mjob jobs[JOBS_KEPT];
    int newest;
} msess;

typedef struct mslot {
    int has_job, block, variant;
    uint64_t work;
    uint8_t used[256];
} mslot;

typedef struct model {
    gw_acct *a;
    mslot slots[SLOTS];
    msess sess[SESSIONS];
    int blocks; /* blocks made so far */
    uint64_t last_job_id;
    uint64_t credited[CREDITS]; /* (slot, block, variant, nonce) packed */
    size_t ncredited;
} model;

static void make_job(int slot, int block, int variant, cm_job *j)
{
    memset(j, 0, sizeof *j);
    j->blob_len = 76;
    j->blob[0] = 16;
    j->blob[1] = 16;
    j->blob[2] = 0x80 | 1;
    j->blob[3] = 0x80;
    j->blob[4] = 0x80;
    j->blob[5] = 0x80;
    j->blob[6] = 0x01;
    j->blob[7] = (uint8_t)block; /* previous block id: 7..38 */
    j->blob[38] = (uint8_t)(block * 37);
    j->nonce_offset = 39;
    j->blob[43] = (uint8_t)slot; /* the connection's extra nonce */
    j->blob[44] = (uint8_t)variant;
    j->height = 1000 + (uint64_t)block;
    memset(j->seed_hash, 0x5a, 32);
    j->target64 = UINT64_MAX;
    snprintf(j->job_id, sizeof j->job_id, "s%db%dv%d", slot, block, variant);
}

static uint64_t key_of(int slot, int block, int variant, uint32_t nonce)
{
    return (uint64_t)nonce | (uint64_t)slot << 32 | (uint64_t)block << 36 | (uint64_t)variant << 48;
}

static int credited(const model *m, uint64_t k)
{
    for (size_t i = 0; i < m->ncredited; i++)
        if (m->credited[i] == k)
            return 1;
    return 0;
}

/* The fake verifier: three shares in four match. */
static int verify_match(uint64_t k)
{
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 32;
    return (k & 3) != 0;
}

static void upstream_job(model *m, int slot, int block, int variant)
{
    cm_job j;
    make_job(slot, block, variant, &j);
    mslot *sl = &m->slots[slot];
    sl->work = gw_acct_work_new(m->a, slot, &j);
    sl->has_job = 1;
    sl->block = block;
    sl->variant = variant;
}

static void give_job(model *m, msess *s)
{
    mslot *sl = &m->slots[s->slot];
    if (!sl->has_job)
        return;
    int i = (s->newest + 1) % JOBS_KEPT;
    mjob *j = &s->jobs[i];
    j->used = 1;
    j->id = gw_acct_next_job_id(m->a);
    CHECK(j->id > m->last_job_id); /* never given before */
    m->last_job_id = j->id;
    j->work = sl->work;
    j->slot = s->slot;
    j->block = sl->block;
    j->variant = sl->variant;
    s->newest = i;
}

static void login(model *m, msess *s, int slot, int start)
{
    /* As gw_upstream_join: a free byte no departed session left shares under. */
    mslot *sl = &m->slots[slot];
    for (int k = 0; k < 256; k++) {
        int b = (start + k) & 255;
        if (!sl->used[b] && gw_acct_byte_clean(m->a, slot, b)) {
            sl->used[b] = 1;
            memset(s, 0, sizeof *s);
            s->on = 1;
            s->slot = slot;
            s->byte = b;
            give_job(m, s);
            return;
        }
    }
}

static void logout(model *m, msess *s, int recorded)
{
    m->slots[s->slot].used[s->byte] = 0;
    if (recorded)
        gw_acct_byte_left(m->a, s->slot, s->byte);
    s->on = 0;
}

/* Returns 1 when the share was recorded (taken for hashing), as the session notes. */
static int submit(model *m, msess *s, const uint8_t *p)
{
    mjob *j = &s->jobs[p[0] % JOBS_KEPT];
    if (!j->used)
        return 0;
    /* Few nonces, so that replays are common; now and then a byte not the session's. */
    int byte = (p[1] & 0xe0) == 0xe0 ? p[2] : s->byte;
    uint32_t nonce = (uint32_t)byte << 24 | (p[1] & 0x0f);
    uint8_t claimed[32] = {0};
    uint64_t t = (p[2] & 0x80) ? ~(uint64_t)0 : 0; /* above every target, or below */
    memcpy(claimed + 24, &t, 8);
    j->target64 = UINT64_MAX >> (p[2] & 7);
    gw_acct_check r = gw_acct_submit(m->a, j->work, j->target64, s->byte, nonce, claimed);
    if (r == GW_ACCT_LOW_DIFF)
        return 1; /* recorded too, as the session notes */
    if (r != GW_ACCT_VERIFY)
        return 0;
    /* Taken for hashing: on the session's byte, on the newest block of its connection,
     * meeting the target. */
    const mslot *sl = &m->slots[j->slot];
    CHECK(byte == s->byte);
    CHECK(sl->has_job && sl->block == j->block);
    CHECK(t == 0);
    uint64_t k = key_of(j->slot, j->block, j->variant, nonce);
    if (!verify_match(k))
        return 1;
    CHECK(!credited(m, k));
    if (m->ncredited < CREDITS)
        m->credited[m->ncredited++] = k;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    model *m = calloc(1, sizeof *m);
    if (!m)
        return 0;
    m->a = gw_acct_new(SLOTS, MAX_NONCES);
    if (!m->a) {
        free(m);
        return 0;
    }
    int recorded[SESSIONS] = {0};
    for (size_t i = 0; i + 4 <= size; i += 4) {
        const uint8_t *p = data + i;
        int slot = p[1] % SLOTS;
        msess *s = &m->sess[p[1] % SESSIONS];
        switch (p[0] % 8) {
        case 0: /* a new block on a connection */
            if (m->blocks < BLOCKS)
                upstream_job(m, slot, m->blocks++, p[2] % VARIANTS);
            break;
        case 1: /* a new job at the same height, or the same job again */
            if (m->slots[slot].has_job)
                upstream_job(m, slot, m->slots[slot].block, p[2] % VARIANTS);
            break;
        case 2: /* an old job sent again (a confused pool) */
            if (m->blocks)
                upstream_job(m, slot, p[2] % m->blocks, p[3] % VARIANTS);
            break;
        case 3:
            if (!s->on) {
                login(m, s, slot, p[2]);
                recorded[s - m->sess] = 0;
            }
            break;
        case 4:
            if (s->on)
                logout(m, s, recorded[s - m->sess]);
            break;
        case 5: /* getjob, or a new job pushed to the session */
            if (s->on)
                give_job(m, s);
            break;
        case 6:
        case 7:
            if (s->on && submit(m, s, p + 1))
                recorded[s - m->sess] = 1;
            break;
        }
        if ((p[0] & 0xf8) == 0xf8) { /* a connection closed for good */
            gw_acct_slot_closed(m->a, slot);
            m->slots[slot].has_job = 0;
        }
        CHECK(gw_acct_nonces(m->a) <= MAX_NONCES);
        CHECK(gw_acct_works(m->a) <= SLOTS * GW_ACCT_WORKS_PER_SLOT);
    }
    gw_acct_free(m->a);
    free(m);
    return 0;
}
