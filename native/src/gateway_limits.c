/* consentminer gateway — what a browser may do: which sites may connect, how many
 * connections one address may hold, how fast it may submit. The refusals themselves
 * are logged by the caller, which knows the peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* ---- connections per IP: a small open-addressing table keyed by the address text ---- */

typedef struct ip_slot {
    char ip[GW_IP_KEY_MAX]; /* a key of gw_ip_key */
    int count;              /* 0: empty; -1: deleted */
} ip_slot;

struct gw_iptable {
    ip_slot *slots;
    size_t cap, used, tombs; /* tombs: deleted slots, which lookups must step over */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

gw_iptable *gw_iptable_new(void)
{
    gw_iptable *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cap = 256;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    return t;
}

void gw_iptable_free(gw_iptable *t)
{
    if (t)
        free(t->slots);
    free(t);
}

static ip_slot *find(gw_iptable *t, const char *ip, int insert)
{
    size_t mask = t->cap - 1, i = (size_t)hash_str(ip) & mask;
    ip_slot *tomb = NULL;
    for (size_t n = 0; n < t->cap; n++, i = (i + 1) & mask) {
        ip_slot *s = &t->slots[i];
        if (s->count == 0)
            return insert ? (tomb ? tomb : s) : NULL;
        if (s->count < 0) {
            if (!tomb)
                tomb = s;
            continue;
        }
        if (!strcmp(s->ip, ip))
            return s;
    }
    return insert ? tomb : NULL;
}

/* Rebuilds the table, twice as large when it is half full, the same size when deleted
 * slots are what fills it (connections come and go from ever new addresses). */
static int grow(gw_iptable *t)
{
    size_t cap = t->used * 2 >= t->cap ? t->cap * 2 : t->cap;
    gw_iptable bigger = {calloc(cap, sizeof(ip_slot)), cap, 0, 0};
    if (!bigger.slots)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].count > 0) {
            ip_slot *s = find(&bigger, t->slots[i].ip, 1);
            *s = t->slots[i];
            bigger.used++;
        }
    }
    free(t->slots);
    *t = bigger;
    return 0;
}

int gw_iptable_add(gw_iptable *t, const char *ip)
{
    if ((t->used * 2 >= t->cap || (t->used + t->tombs) * 4 >= t->cap * 3) && grow(t))
        return 1 << 30; /* out of memory: report "too many" rather than crash */
    ip_slot *s = find(t, ip, 1);
    if (!s)
        return 1 << 30;
    if (s->count <= 0) {
        if (s->count < 0)
            t->tombs--;
        memset(s->ip, 0, sizeof s->ip);
        strncpy(s->ip, ip, sizeof s->ip - 1);
        s->count = 0;
        t->used++;
    }
    return ++s->count;
}

void gw_iptable_remove(gw_iptable *t, const char *ip)
{
    ip_slot *s = find(t, ip, 0);
    if (!s)
        return;
    if (--s->count == 0) {
        s->count = -1;
        t->used--;
        t->tombs++;
    }
}

int gw_ip_key(const struct sockaddr *sa, int v6_prefix, char *out, size_t cap)
{
    if (sa->sa_family == AF_INET)
        return uv_ip4_name((const struct sockaddr_in *)sa, out, cap) ? -1 : 0;
    if (sa->sa_family != AF_INET6)
        return -1;
    struct sockaddr_in6 a = *(const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) {
        /* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d: one address each. */
        struct sockaddr_in v4 = {.sin_family = AF_INET};
        memcpy(&v4.sin_addr, a.sin6_addr.s6_addr + 12, 4);
        return uv_ip4_name(&v4, out, cap) ? -1 : 0;
    }
    int bits = v6_prefix < 1 ? 1 : v6_prefix > 128 ? 128 : v6_prefix;
    uint8_t *b = a.sin6_addr.s6_addr;
    for (int i = 0; i < 16; i++) {
        int keep = bits - 8 * i;
        b[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
    }
    char text[INET6_ADDRSTRLEN];
    if (uv_ip6_name(&a, text, sizeof text))
        return -1;
    int n = snprintf(out, cap, "%s/%d", text, bits);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- submit rate: a token bucket ---- */

void gw_bucket_init(gw_bucket *b, double burst, int64_t now_ms)
{
    b->tokens = burst;
    b->last_ms = now_ms;
}

int gw_bucket_take(gw_bucket *b, double rate, double burst, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += rate * (double)(now_ms - b->last_ms) / 1000.0;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0)
        return 0;
    b->tokens -= 1.0;
    return 1;
}
