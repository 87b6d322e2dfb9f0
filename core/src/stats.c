/* consentminer — hash rate over 10 s, 60 s and 15 min, and share counters.
 *
 * Hashes go into 250 ms buckets of a ring that spans the longest window. A report of n
 * hashes at time t stands for work done since the previous report, so the n are spread
 * evenly over that interval (at most SPREAD_MAX_MS of it): a worker that reports once a
 * second then still reads as a steady rate in a 10 s window instead of jumping by a
 * tenth whenever a report enters or leaves the window.
 *
 * A window [now - w, now) counts its oldest bucket in proportion to the part of it
 * inside the window (hashes in a bucket are spread evenly over it) and its newest
 * bucket whole (every hash in it was reported at or before now), so a steady rate
 * reads exactly at any time, not only on bucket boundaries.
 */
#include "consentminer/stats.h"

#include <stdlib.h>

#define BUCKET_MS 250
/* The longest window, one bucket partly inside it, and the bucket being filled. */
#define RING_BUCKETS (CM_STATS_WINDOW_LONG_MS / BUCKET_MS + 2)
/* A gap longer than this between reports was a pause (hidden tab, throttle, new job),
 * not hashing: the reported hashes are put in its last SPREAD_MAX_MS. */
#define SPREAD_MAX_MS 5000

struct cm_stats {
    int64_t start_ms;
    int64_t last_ms; /* latest time seen, relative to start; the end of the last report */
    int64_t head;    /* the newest bucket written; buckets after it are empty */
    uint64_t total;
    uint64_t shares[3];
    double buckets[RING_BUCKETS];
};

cm_stats *cm_stats_new(int64_t start_ms)
{
    cm_stats *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->start_ms = start_ms;
    s->last_ms = 0;
    s->head = 0;
    return s;
}

void cm_stats_free(cm_stats *s)
{
    free(s);
}

static double *bucket(cm_stats *s, int64_t index)
{
    return &s->buckets[index % RING_BUCKETS];
}

/* Makes `index` the newest bucket, emptying the ones it passes over. */
static void advance(cm_stats *s, int64_t index)
{
    if (index <= s->head)
        return;
    int64_t from = s->head + 1;
    if (index - from >= RING_BUCKETS)
        from = index - RING_BUCKETS + 1;
    for (int64_t i = from; i <= index; i++)
        *bucket(s, i) = 0.0;
    s->head = index;
}

/* Time relative to start, never before it. Saturates instead of overflowing. */
static int64_t rel_time(const cm_stats *s, int64_t t_ms)
{
    if (t_ms <= s->start_ms)
        return 0;
    if (s->start_ms < 0 && t_ms > INT64_MAX + s->start_ms)
        return INT64_MAX / 2;
    int64_t r = t_ms - s->start_ms;
    return r > INT64_MAX / 2 ? INT64_MAX / 2 : r;
}

void cm_stats_add_hashes(cm_stats *s, int64_t now_ms, uint64_t n)
{
    if (s == NULL || n == 0)
        return;
    s->total += n;
    int64_t end = rel_time(s, now_ms);
    if (end < s->last_ms)
        end = s->last_ms; /* time went backwards: count at the latest time seen */
    int64_t begin = s->last_ms;
    if (end - begin > SPREAD_MAX_MS)
        begin = end - SPREAD_MAX_MS;
    if (begin >= end) {
        /* No time passed since the last report: the hashes belong to the last
         * millisecond before now. */
        begin = end > 0 ? end - 1 : 0;
        if (begin == end)
            end = 1;
    }
    s->last_ms = end > s->last_ms ? end : s->last_ms;
    advance(s, (end - 1) / BUCKET_MS);

    double per_ms = (double)n / (double)(end - begin);
    for (int64_t b = begin / BUCKET_MS; b * BUCKET_MS < end; b++) {
        int64_t lo = b * BUCKET_MS > begin ? b * BUCKET_MS : begin;
        int64_t hi = (b + 1) * BUCKET_MS < end ? (b + 1) * BUCKET_MS : end;
        *bucket(s, b) += per_ms * (double)(hi - lo);
    }
}

double cm_stats_hashrate(const cm_stats *s, int64_t now_ms, int64_t window_ms)
{
    if (s == NULL)
        return 0.0;
    if (window_ms < 1000)
        window_ms = 1000;
    if (window_ms > CM_STATS_WINDOW_LONG_MS)
        window_ms = CM_STATS_WINDOW_LONG_MS;
    int64_t now = rel_time(s, now_ms);
    if (now < s->last_ms)
        now = s->last_ms; /* asked about a time before the latest report: report as of it */
    int64_t from = now - window_ms > 0 ? now - window_ms : 0;
    if (now <= from)
        return 0.0;

    int64_t oldest = from / BUCKET_MS;
    int64_t newest = (now - 1) / BUCKET_MS;
    double sum = 0.0;
    for (int64_t b = oldest; b <= newest && b <= s->head; b++) {
        double h = s->buckets[b % RING_BUCKETS];
        if (b == oldest)
            h *= (double)((b + 1) * BUCKET_MS - from) / BUCKET_MS;
        sum += h;
    }
    return sum * 1000.0 / (double)(now - from);
}

uint64_t cm_stats_total_hashes(const cm_stats *s)
{
    return s == NULL ? 0 : s->total;
}

void cm_stats_add_share(cm_stats *s, cm_share_outcome outcome)
{
    if (s != NULL && outcome >= CM_SHARE_ACCEPTED && outcome <= CM_SHARE_STALE)
        s->shares[outcome]++;
}

uint64_t cm_stats_shares(const cm_stats *s, cm_share_outcome outcome)
{
    if (s == NULL || outcome < CM_SHARE_ACCEPTED || outcome > CM_SHARE_STALE)
        return 0;
    return s->shares[outcome];
}
