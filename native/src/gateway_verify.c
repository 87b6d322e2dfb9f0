/* consentminer gateway — every share re-hashed with RandomX light mode, off the loop.
 *
 * A light-mode hash costs ~30 ms on this kind of CPU (docs/design.md: 34 H/s per core with
 * the JIT), far too long for the event loop, which must keep thousands of sockets
 * moving. So verification runs on its own threads, each with one RandomX VM, fed by a
 * queue that takes addresses and sessions in turn (gw_vowner in gateway.h): first come,
 * first served would let one address's flood of forged results delay every honest
 * share behind it. Results go back to the loop through a uv_async.
 *
 * The 256 MiB light cache belongs to a seed, not to a thread: all threads hash from the
 * same cache. Two caches are kept so shares of the old seed and the new one can both be
 * checked across a seed switch (every 2048 blocks). A cache is rebuilt only when no
 * thread is hashing from it, and a VM is pointed at the cache again after every rebuild
 * (RandomX: randomx_vm_set_cache after the cache's key changes).
 */
#include <stdlib.h>
#include <string.h>

#include "consentminer/consent.h"
#include "consentminer/hasher.h"
#include "gateway.h"
#include "platform.h"

#define GW_VERIFY_CACHES 2

typedef struct vcache {
    uint8_t seed[32];
    int valid;    /* holds seed */
    int building; /* a thread is initialising it */
    int users;    /* threads hashing from it */
    uint64_t gen; /* bumped on every rebuild */
    uint64_t last_use;
    cm_rx_cache *c;
} vcache;

struct gw_verify {
    uv_loop_t *loop;
    uv_async_t async;
    uv_mutex_t mu;
    uv_cond_t cv_work;
    uv_cond_t cv_cache;
    gw_vgroup *g_head, *g_tail; /* groups with requests waiting, in turn */
    gw_vgroup anon_group;       /* for requests without an owner */
    gw_vowner anon;
    int queued, max_queue;
    gw_vreq *done_head;
    vcache caches[GW_VERIFY_CACHES];
    uint64_t tick;
    uint8_t prepare_seed[32];
    int prepare_pending;
    uv_thread_t *threads;
    int nthreads;
    int stop;
    gw_verify_done done;
    void *ud;
    uint64_t hashes;
    double busy_s;
    double cpu_s;
    unsigned rx_flags; /* CM_RX_LARGE_PAGES when enough reserved huge pages are free */
};

static double mono_s(void)
{
    return (double)uv_hrtime() / 1e9;
}

/* This thread's CPU time: on a shared machine the wall time a hash takes includes the
 * time other processes ran; the CPU time is what the hash cost. */
static double thread_cpu_s(void)
{
    return cm_thread_cpu_ms() / 1000.0;
}

/* Takes (and if needed builds) the cache for seed; NULL if it cannot be built.
 * Called without the lock; returns with users counted. */
static vcache *acquire(gw_verify *v, const uint8_t seed[32])
{
    uv_mutex_lock(&v->mu);
    for (;;) {
        if (v->stop) {
            uv_mutex_unlock(&v->mu);
            return NULL;
        }
        vcache *victim = NULL;
        int waiting = 0;
        for (int i = 0; i < GW_VERIFY_CACHES; i++) {
            vcache *c = &v->caches[i];
            if (!memcmp(c->seed, seed, 32) && (c->valid || c->building)) {
                if (c->building) {
                    waiting = 1;
                    break;
                }
                c->users++;
                c->last_use = ++v->tick;
                uv_mutex_unlock(&v->mu);
                return c;
            }
        }
        if (!waiting) {
            for (int i = 0; i < GW_VERIFY_CACHES; i++) {
                vcache *c = &v->caches[i];
                if (c->users || c->building)
                    continue;
                if (!victim || (!c->valid && victim->valid) ||
                    (c->valid == victim->valid && c->last_use < victim->last_use))
                    victim = c;
            }
        }
        if (!victim) {
            uv_cond_wait(&v->cv_cache, &v->mu);
            continue;
        }
        victim->building = 1;
        victim->valid = 0;
        memcpy(victim->seed, seed, 32);
        uv_mutex_unlock(&v->mu);

        int rc = 0;
        if (!victim->c)
            rc = cm_rx_cache_new(v->rx_flags, &victim->c, NULL);
        if (!rc)
            rc = cm_rx_cache_set_seed(victim->c, seed, 32, NULL, NULL);

        uv_mutex_lock(&v->mu);
        victim->building = 0;
        victim->valid = rc == 0;
        victim->gen++;
        uv_cond_broadcast(&v->cv_cache);
        if (rc) {
            uv_mutex_unlock(&v->mu);
            return NULL;
        }
        victim->users++;
        victim->last_use = ++v->tick;
        uv_mutex_unlock(&v->mu);
        return victim;
    }
}

static void release(gw_verify *v, vcache *c)
{
    uv_mutex_lock(&v->mu);
    c->users--;
    uv_cond_broadcast(&v->cv_cache);
    uv_mutex_unlock(&v->mu);
}

typedef struct vthread {
    gw_verify *v;
    cm_hasher *h;
    const vcache *on; /* the cache the VM points at, and its generation then */
    uint64_t on_gen;
    cm_consent *consent;
} vthread;

/* The gateway operator started the gateway: that is the consent for its own CPU to
 * verify shares. The core still wants a record for every hash (docs/design.md, rule 4). */
static int grant(vthread *t)
{
    return cm_consent_grant(t->consent, gw_wall_ms(), CM_CONSENT_MAX_MS, 1, 100, NULL);
}

static void verify_one(vthread *t, gw_vreq *req)
{
    gw_verify *v = t->v;
    vcache *c = acquire(v, req->seed);
    if (!c) {
        req->error = v->stop ? CM_E_STOPPED : CM_E_NOMEM;
        return;
    }
    int rc = 0;
    if (!t->h) {
        rc = cm_hasher_new(v->rx_flags, c->c, NULL, &t->h, NULL);
    } else if (t->on != c || t->on_gen != c->gen) {
        rc = cm_hasher_use(t->h, c->c, NULL, NULL);
    }
    if (!rc) {
        t->on = c;
        t->on_gen = c->gen;
        double t0 = mono_s(), c0 = thread_cpu_s();
        rc = cm_hasher_hash(t->h, t->consent, gw_wall_ms(), req->blob, req->blob_len, req->hash);
        if (rc == CM_E_CONSENT_EXPIRED && !grant(t))
            rc =
                cm_hasher_hash(t->h, t->consent, gw_wall_ms(), req->blob, req->blob_len, req->hash);
        double dt = mono_s() - t0, dc = thread_cpu_s() - c0;
        uv_mutex_lock(&v->mu);
        if (!rc) {
            v->hashes++;
            req->seconds = dt;
        }
        v->busy_s += dt;
        v->cpu_s += dc;
        uv_mutex_unlock(&v->mu);
    } else {
        t->on = NULL;
    }
    release(v, c);
    req->error = rc;
    req->match = !rc && !memcmp(req->hash, req->claimed, 32);
}

/* The next request in turn (see gw_vowner in gateway.h); called with the lock held. */
static gw_vreq *take(gw_verify *v)
{
    gw_vgroup *g = v->g_head;
    if (!g)
        return NULL;
    v->g_head = g->next;
    if (!v->g_head)
        v->g_tail = NULL;
    g->next = NULL;
    gw_vowner *o = g->head;
    g->head = o->next;
    if (!g->head)
        g->tail = NULL;
    o->next = NULL;
    gw_vreq *r = o->head;
    o->head = r->next;
    if (!o->head)
        o->tail = NULL;
    r->next = NULL;
    v->queued--;
    if (--o->queued > 0) {
        if (g->tail)
            g->tail->next = o;
        else
            g->head = o;
        g->tail = o;
    }
    if (--g->queued > 0) {
        if (v->g_tail)
            v->g_tail->next = g;
        else
            v->g_head = g;
        v->g_tail = g;
    }
    return r;
}

static void worker(void *arg)
{
    vthread *t = arg;
    gw_verify *v = t->v;
    uv_mutex_lock(&v->mu);
    while (!v->stop) {
        if (v->prepare_pending) {
            uint8_t seed[32];
            memcpy(seed, v->prepare_seed, 32);
            v->prepare_pending = 0;
            uv_mutex_unlock(&v->mu);
            vcache *c = acquire(v, seed);
            if (c)
                release(v, c);
            uv_mutex_lock(&v->mu);
            continue;
        }
        gw_vreq *req = take(v);
        if (!req) {
            uv_cond_wait(&v->cv_work, &v->mu);
            continue;
        }
        uv_mutex_unlock(&v->mu);

        verify_one(t, req);

        uv_mutex_lock(&v->mu);
        req->next = v->done_head;
        v->done_head = req;
        uv_async_send(&v->async);
    }
    uv_mutex_unlock(&v->mu);
    cm_hasher_free(t->h);
    cm_consent_free(t->consent);
    free(t);
}

static void deliver(uv_async_t *a)
{
    gw_verify *v = a->data;
    uv_mutex_lock(&v->mu);
    gw_vreq *list = v->done_head;
    v->done_head = NULL;
    uv_mutex_unlock(&v->mu);
    while (list) {
        gw_vreq *next = list->next;
        v->done(v->ud, list);
        list = next;
    }
}

gw_verify *gw_verify_new(uv_loop_t *loop, int threads, int max_queue, gw_verify_done done, void *ud)
{
    gw_verify *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->loop = loop;
    v->done = done;
    v->ud = ud;
    v->max_queue = max_queue > 0 ? max_queue : 4096;
    v->anon.group = &v->anon_group;
    /* Large pages only when reserved ones are free for two caches and the VMs: asking
     * RandomX when there are none costs a failed allocation (and, in librandomx 1.1.10,
     * leaks its cache record). */
    uint64_t want = (2 * 256 + 2 * (uint64_t)(threads > 0 ? threads : 1) + 16) << 20;
    v->rx_flags = cm_huge_pages_free_bytes() >= want ? CM_RX_LARGE_PAGES : 0;
    v->nthreads = threads > 0 ? threads : 1;
    uv_mutex_init(&v->mu);
    uv_cond_init(&v->cv_work);
    uv_cond_init(&v->cv_cache);
    uv_async_init(loop, &v->async, deliver);
    v->async.data = v;
    v->threads = calloc((size_t)v->nthreads, sizeof *v->threads);
    int started = 0;
    for (int i = 0; v->threads && i < v->nthreads; i++) {
        vthread *t = calloc(1, sizeof *t);
        if (!t)
            break;
        t->v = v;
        t->consent = cm_consent_new();
        if (!t->consent || grant(t)) {
            gw_log("verify: could not record the gateway's own consent for thread %d", i);
        }
        if (uv_thread_create(&v->threads[i], worker, t)) {
            cm_consent_free(t->consent);
            free(t);
            break;
        }
        started++;
    }
    v->nthreads = started;
    if (!started)
        gw_log("verify: no verification thread could start; every share will wait");
    return v;
}

int gw_verify_submit(gw_verify *v, gw_vreq *req)
{
    uv_mutex_lock(&v->mu);
    if (v->queued >= v->max_queue || v->stop) {
        uv_mutex_unlock(&v->mu);
        return -1;
    }
    req->next = NULL;
    req->error = 0;
    req->match = 0;
    req->cancelled = 0;
    gw_vowner *o = req->owner ? req->owner : &v->anon;
    gw_vgroup *g = o->group ? o->group : &v->anon_group;
    o->group = g;
    if (o->tail)
        o->tail->next = req;
    else
        o->head = req;
    o->tail = req;
    /* An owner or group with nothing waiting goes first: an address that sends a share
     * now and then (an honest visitor) is not put behind those that keep the queue full;
     * those take turns among themselves from the tail. */
    if (++o->queued == 1) {
        o->next = g->head;
        g->head = o;
        if (!g->tail)
            g->tail = o;
    }
    if (++g->queued == 1) {
        g->next = v->g_head;
        v->g_head = g;
        if (!v->g_tail)
            v->g_tail = g;
    }
    v->queued++;
    uv_cond_signal(&v->cv_work);
    uv_mutex_unlock(&v->mu);
    return 0;
}

int gw_verify_cancel(gw_verify *v, gw_vowner *o)
{
    int n = 0;
    uv_mutex_lock(&v->mu);
    gw_vgroup *g = o->group;
    if (o->queued > 0 && g) {
        gw_vowner **op = &g->head, *oprev = NULL;
        while (*op != o) {
            oprev = *op;
            op = &(*op)->next;
        }
        *op = o->next;
        if (g->tail == o)
            g->tail = oprev;
        for (gw_vreq *r = o->head, *rn; r; r = rn) {
            rn = r->next;
            r->cancelled = 1;
            r->next = v->done_head;
            v->done_head = r;
            n++;
        }
        o->head = o->tail = NULL;
        o->next = NULL;
        o->queued = 0;
        g->queued -= n;
        if (g->queued == 0) {
            gw_vgroup **gp = &v->g_head, *gprev = NULL;
            while (*gp != g) {
                gprev = *gp;
                gp = &(*gp)->next;
            }
            *gp = g->next;
            if (v->g_tail == g)
                v->g_tail = gprev;
            g->next = NULL;
        }
        v->queued -= n;
        uv_async_send(&v->async);
    }
    uv_mutex_unlock(&v->mu);
    return n;
}

void gw_verify_prepare(gw_verify *v, const uint8_t seed[32])
{
    uv_mutex_lock(&v->mu);
    int have = 0;
    for (int i = 0; i < GW_VERIFY_CACHES; i++)
        if (!memcmp(v->caches[i].seed, seed, 32) && (v->caches[i].valid || v->caches[i].building))
            have = 1;
    if (!have) {
        memcpy(v->prepare_seed, seed, 32);
        v->prepare_pending = 1;
        uv_cond_signal(&v->cv_work);
    }
    uv_mutex_unlock(&v->mu);
}

void gw_verify_counters(gw_verify *v, uint64_t *hashes, double *busy_s, double *cpu_s, int *queued)
{
    uv_mutex_lock(&v->mu);
    if (cpu_s)
        *cpu_s = v->cpu_s;
    if (hashes)
        *hashes = v->hashes;
    if (busy_s)
        *busy_s = v->busy_s;
    if (queued)
        *queued = v->queued;
    uv_mutex_unlock(&v->mu);
}

static void closed(uv_handle_t *h)
{
    gw_verify *v = h->data;
    for (int i = 0; i < GW_VERIFY_CACHES; i++)
        cm_rx_cache_free(v->caches[i].c);
    uv_mutex_destroy(&v->mu);
    uv_cond_destroy(&v->cv_work);
    uv_cond_destroy(&v->cv_cache);
    free(v->threads);
    free(v);
}

void gw_verify_free(gw_verify *v)
{
    if (!v)
        return;
    uv_mutex_lock(&v->mu);
    v->stop = 1;
    uv_cond_broadcast(&v->cv_work);
    uv_cond_broadcast(&v->cv_cache);
    uv_mutex_unlock(&v->mu);
    for (int i = 0; v->threads && i < v->nthreads; i++)
        uv_thread_join(&v->threads[i]);
    deliver(&v->async);
    for (gw_vreq *r; (r = take(v));) {
        r->error = CM_E_STOPPED;
        r->match = 0;
        v->done(v->ud, r);
    }
    uv_close((uv_handle_t *)&v->async, closed);
}
