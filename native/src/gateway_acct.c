/* consentminer gateway — share accounting without sockets (see gateway_acct.h).
 *
 * Memory is bounded three ways: live works per upstream connection
 * (GW_ACCT_WORKS_PER_SLOT), remembered nonces in all (max_nonces; past it a share is
 * answered busy rather than forgotten), and retired work ids (GW_ACCT_RETIRED_KEPT).
 * A work's nonce set goes with the work: once retired, every share for it is stale, so
 * its nonces need not be remembered.
 */
#include <stdlib.h>
#include <string.h>

#include "consentminer/target.h"
#include "gateway_acct.h"

#define BUCKETS 1024 /* live works are at most upstream connections x 8 */

typedef struct work {
    struct work *next; /* hash chain */
    uint64_t id;
    uint64_t serial; /* order of arrival, over all slots */
    int slot;
    uint32_t *set; /* open addressing; 0 marks an empty cell */
    uint32_t cap, n;
    int has_zero; /* nonce 0, which the set cannot hold */
} work;

typedef struct slot_state {
    work *live[GW_ACCT_WORKS_PER_SLOT]; /* oldest first */
    int nlive;
    uint64_t height;
    uint8_t prev[32];
    int have_block;
    uint64_t left_serial[256]; /* newest live serial when a byte with shares was left */
} slot_state;

struct gw_acct {
    work *buckets[BUCKETS];
    slot_state *slots;
    int nslots;
    uint64_t serial;
    uint64_t retired[GW_ACCT_RETIRED_KEPT];
    size_t nretired, retired_at;
    size_t nonces, max_nonces, nworks;
    uint64_t next_job;
};

gw_acct *gw_acct_new(int nslots, size_t max_nonces)
{
    gw_acct *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->slots = calloc(nslots > 0 ? (size_t)nslots : 1, sizeof *a->slots);
    if (!a->slots) {
        free(a);
        return NULL;
    }
    a->nslots = nslots;
    a->max_nonces = max_nonces ? max_nonces : GW_ACCT_MAX_NONCES;
    return a;
}

static void work_free(work *w)
{
    free(w->set);
    free(w);
}

void gw_acct_free(gw_acct *a)
{
    if (!a)
        return;
    for (int b = 0; b < BUCKETS; b++) {
        for (work *w = a->buckets[b], *next; w; w = next) {
            next = w->next;
            work_free(w);
        }
    }
    free(a->slots);
    free(a);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

uint64_t gw_acct_work_id(const cm_job *job)
{
    uint8_t blob[CM_BLOB_MAX];
    memcpy(blob, job->blob, job->blob_len);
    cm_job_write_nonce(job, blob, 0);
    uint64_t h = fnv(1469598103934665603ULL, job->seed_hash, 32);
    h = fnv(h, blob, job->blob_len);
    return h ? h : 1;
}

static work *find(const gw_acct *a, uint64_t id)
{
    for (work *w = a->buckets[id % BUCKETS]; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

int gw_acct_work_live(const gw_acct *a, uint64_t work_id)
{
    return work_id && find(a, work_id) != NULL;
}

static int was_retired(const gw_acct *a, uint64_t id)
{
    for (size_t i = 0; i < a->nretired; i++)
        if (a->retired[i] == id)
            return 1;
    return 0;
}

static void retire(gw_acct *a, work *w)
{
    work **pp = &a->buckets[w->id % BUCKETS];
    while (*pp != w)
        pp = &(*pp)->next;
    *pp = w->next;
    a->retired[a->retired_at] = w->id;
    a->retired_at = (a->retired_at + 1) % GW_ACCT_RETIRED_KEPT;
    if (a->nretired < GW_ACCT_RETIRED_KEPT)
        a->nretired++;
    a->nonces -= w->n + (size_t)w->has_zero;
    a->nworks--;
    work_free(w);
}

static void retire_oldest(gw_acct *a, slot_state *st)
{
    retire(a, st->live[0]);
    memmove(st->live, st->live + 1, (size_t)(st->nlive - 1) * sizeof st->live[0]);
    st->nlive--;
}

void gw_acct_slot_closed(gw_acct *a, int slot)
{
    if (slot < 0 || slot >= a->nslots)
        return;
    slot_state *st = &a->slots[slot];
    while (st->nlive)
        retire_oldest(a, st);
    st->have_block = 0;
}

uint64_t gw_acct_work_new(gw_acct *a, int slot, const cm_job *job)
{
    if (slot < 0 || slot >= a->nslots)
        return 0;
    slot_state *st = &a->slots[slot];
    /* The previous block's id is the 32 bytes before the nonce in a Monero hashing blob;
     * a pool may send no height, so both are compared. */
    const uint8_t *prev = job->nonce_offset >= 32 ? job->blob + job->nonce_offset - 32 : NULL;
    uint8_t pv[32] = {0};
    if (prev)
        memcpy(pv, prev, 32);
    if (st->have_block && (st->height != job->height || memcmp(st->prev, pv, 32)))
        while (st->nlive)
            retire_oldest(a, st);
    st->height = job->height;
    memcpy(st->prev, pv, 32);
    st->have_block = 1;

    uint64_t id = gw_acct_work_id(job);
    if (find(a, id))
        return id; /* the same work again (a resent job, a reconnection): same nonces */
    if (was_retired(a, id))
        return 0;
    work *w = calloc(1, sizeof *w);
    if (!w)
        return 0;
    w->id = id;
    w->serial = ++a->serial;
    w->slot = slot;
    w->next = a->buckets[id % BUCKETS];
    a->buckets[id % BUCKETS] = w;
    a->nworks++;
    if (st->nlive == GW_ACCT_WORKS_PER_SLOT)
        retire_oldest(a, st);
    st->live[st->nlive++] = w;
    return id;
}

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* 1 when nonce was already in the set, 0 when added, -1 when there is no room. */
static int set_add(gw_acct *a, work *w, uint32_t nonce)
{
    if (nonce == 0) {
        if (w->has_zero)
            return 1;
        if (a->nonces >= a->max_nonces)
            return -1;
        w->has_zero = 1;
        a->nonces++;
        return 0;
    }
    if (w->cap) {
        for (uint32_t i = mix(nonce) & (w->cap - 1);; i = (i + 1) & (w->cap - 1)) {
            if (w->set[i] == nonce)
                return 1;
            if (!w->set[i])
                break;
        }
    }
    if (a->nonces >= a->max_nonces)
        return -1;
    if ((w->n + 1) * 4 > w->cap * 3) {
        uint32_t cap = w->cap ? w->cap * 2 : 16;
        uint32_t *set = calloc(cap, sizeof *set);
        if (!set)
            return -1;
        for (uint32_t k = 0; k < w->cap; k++) {
            uint32_t v = w->set[k];
            if (!v)
                continue;
            uint32_t i = mix(v) & (cap - 1);
            while (set[i])
                i = (i + 1) & (cap - 1);
            set[i] = v;
        }
        free(w->set);
        w->set = set;
        w->cap = cap;
    }
    uint32_t i = mix(nonce) & (w->cap - 1);
    while (w->set[i])
        i = (i + 1) & (w->cap - 1);
    w->set[i] = nonce;
    w->n++;
    a->nonces++;
    return 0;
}

gw_acct_check gw_acct_submit(gw_acct *a, uint64_t work_id, uint64_t target64, int nonce_byte,
                             uint32_t nonce, const uint8_t claimed[32])
{
    work *w = work_id ? find(a, work_id) : NULL;
    if (!w)
        return GW_ACCT_STALE;
    if ((int)(nonce >> 24) != nonce_byte)
        return GW_ACCT_BAD_NONCE;
    /* Recorded before the target check: the same nonce sent again is a duplicate
     * whatever its first claim was. */
    int rc = set_add(a, w, nonce);
    if (rc)
        return rc > 0 ? GW_ACCT_DUPLICATE : GW_ACCT_FULL;
    /* The claimed hash must meet the target before it is worth hashing to check it. */
    if (!cm_hash_meets_target(claimed, target64))
        return GW_ACCT_LOW_DIFF;
    return GW_ACCT_VERIFY;
}

void gw_acct_byte_left(gw_acct *a, int slot, int byte)
{
    if (slot < 0 || slot >= a->nslots || byte < 0 || byte > 255)
        return;
    slot_state *st = &a->slots[slot];
    if (st->nlive)
        st->left_serial[byte] = st->live[st->nlive - 1]->serial;
}

int gw_acct_byte_clean(const gw_acct *a, int slot, int byte)
{
    if (slot < 0 || slot >= a->nslots || byte < 0 || byte > 255)
        return 0;
    const slot_state *st = &a->slots[slot];
    /* Live works are in arrival order: the oldest decides. */
    return !st->nlive || st->live[0]->serial > st->left_serial[byte];
}

uint64_t gw_acct_next_job_id(gw_acct *a)
{
    return ++a->next_job;
}

size_t gw_acct_nonces(const gw_acct *a)
{
    return a->nonces;
}

size_t gw_acct_works(const gw_acct *a)
{
    return a->nworks;
}
