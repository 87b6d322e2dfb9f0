/* consentminer gateway — per-address state for fair verification and the cost of
 * invalid shares (see gateway_fair.h). A chained hash table: entries come and go with
 * sessions, and stay only while a cool-down runs. */
#include <stdlib.h>
#include <string.h>

#include "gateway_fair.h"

#define FAIR_BUCKETS 4096

struct gw_fair {
    gw_ipstate *buckets[FAIR_BUCKETS];
    size_t n;
};

static size_t bucket_of(const char *ip)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 1099511628211ULL;
    return (size_t)(h % FAIR_BUCKETS);
}

gw_fair *gw_fair_new(void)
{
    return calloc(1, sizeof(gw_fair));
}

void gw_fair_free(gw_fair *f)
{
    if (!f)
        return;
    for (size_t b = 0; b < FAIR_BUCKETS; b++) {
        for (gw_ipstate *st = f->buckets[b], *next; st; st = next) {
            next = st->next;
            free(st);
        }
    }
    free(f);
}

gw_ipstate *gw_fair_get(gw_fair *f, const char *ip)
{
    size_t b = bucket_of(ip);
    for (gw_ipstate *st = f->buckets[b]; st; st = st->next) {
        if (!strcmp(st->ip, ip)) {
            st->refs++;
            return st;
        }
    }
    gw_ipstate *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    strncpy(st->ip, ip, sizeof st->ip - 1);
    st->refs = 1;
    st->next = f->buckets[b];
    f->buckets[b] = st;
    f->n++;
    return st;
}

static void unlink_free(gw_fair *f, gw_ipstate *st)
{
    gw_ipstate **pp = &f->buckets[bucket_of(st->ip)];
    while (*pp != st)
        pp = &(*pp)->next;
    *pp = st->next;
    f->n--;
    free(st);
}

void gw_fair_put(gw_fair *f, gw_ipstate *st, int64_t now)
{
    if (st && --st->refs == 0 && st->cool_until <= now)
        unlink_free(f, st);
}

int64_t gw_fair_cooling(const gw_ipstate *st, int64_t now)
{
    return st && st->cool_until > now ? st->cool_until - now : 0;
}

int gw_fair_invalid(gw_ipstate *st, int64_t now, int max_invalid, int64_t cooldown_ms)
{
    /* A window as long as the cool-down: an honest visitor's rare invalid share (a
     * browser bug, a flipped bit) is forgotten before it adds up. */
    if (!st->invalid || now - st->invalid_since > cooldown_ms) {
        st->invalid = 0;
        st->invalid_since = now;
    }
    if (++st->invalid < max_invalid)
        return 0;
    st->invalid = 0;
    st->cool_until = now + cooldown_ms;
    return 1;
}

void gw_fair_sweep(gw_fair *f, int64_t now)
{
    for (size_t b = 0; b < FAIR_BUCKETS; b++) {
        for (gw_ipstate *st = f->buckets[b], *next; st; st = next) {
            next = st->next;
            if (st->refs == 0 && st->cool_until <= now)
                unlink_free(f, st);
        }
    }
}

void gw_fair_counts(const gw_fair *f, int64_t now, size_t *known, size_t *cooling)
{
    size_t c = 0;
    for (size_t b = 0; cooling && b < FAIR_BUCKETS; b++)
        for (const gw_ipstate *st = f->buckets[b]; st; st = st->next)
            c += st->cool_until > now;
    if (known)
        *known = f->n;
    if (cooling)
        *cooling = c;
}
