/* consentminer gateway — what an address's sessions share (internal to native/): their
 * turn at the verification threads, their shares in flight, and the cost of invalid
 * shares (a cool-down in which the address may not log in or submit).
 *
 * Keyed on the connection's address text, as the per-IP connection count is.
 */
#ifndef CM_NATIVE_GATEWAY_FAIR_H
#define CM_NATIVE_GATEWAY_FAIR_H

#include "gateway.h"

typedef struct gw_ipstate {
    struct gw_ipstate *next;
    char ip[46];
    int refs;     /* logged-in sessions from it, plus its shares in flight */
    int inflight; /* its shares waiting for or in verification */
    int invalid;  /* invalid shares since invalid_since */
    int64_t invalid_since, cool_until;
    gw_vgroup group; /* its place in the verification queue */
} gw_ipstate;

typedef struct gw_fair gw_fair;

gw_fair *gw_fair_new(void);
void gw_fair_free(gw_fair *f);
/* The address's state, made on first use, with a reference taken; NULL without memory. */
gw_ipstate *gw_fair_get(gw_fair *f, const char *ip);
/* Drops a reference; the state goes when none is left and no cool-down runs. */
void gw_fair_put(gw_fair *f, gw_ipstate *st, int64_t now);
/* Milliseconds of cool-down left (0: none). */
int64_t gw_fair_cooling(const gw_ipstate *st, int64_t now);
/* Counts an invalid share. 1 when the address has now sent max_invalid of them within
 * cooldown_ms, and its cool-down of cooldown_ms starts. */
int gw_fair_invalid(gw_ipstate *st, int64_t now, int max_invalid, int64_t cooldown_ms);
/* Forgets addresses whose cool-down is over and that hold nothing. */
void gw_fair_sweep(gw_fair *f, int64_t now);
/* Addresses known, and of them in cool-down now. */
void gw_fair_counts(const gw_fair *f, int64_t now, size_t *known, size_t *cooling);

#endif
