/* consentminer — holding a requested duty cycle from measured busy time.
 *
 * A worker hashes for a while (busy), then asks how long to pause so that, over a
 * sliding window, busy / (busy + idle) stays at the requested fraction. The busy time
 * is measured by the caller (thread CPU time natively, performance.now() around the
 * hashing call in a worker), never derived from the setting.
 */
#ifndef CONSENTMINER_THROTTLE_H
#define CONSENTMINER_THROTTLE_H

#include <stdint.h>
#include "consentminer/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_throttle {
    int pct;            /* requested duty cycle, 1..100 */
    double busy_ms;     /* decayed sum of measured busy time */
    double total_ms;    /* decayed sum of busy plus idle time */
} cm_throttle;

/* Sets the duty cycle (1..100 percent); keeps the measured history. CM_E_INVAL outside. */
int cm_throttle_set(cm_throttle *t, int pct);

/* Records one busy interval of busy_ms followed by the idle time actually slept,
 * idle_ms (which may differ from what was asked), and returns the pause in
 * milliseconds to take now (0 at 100 percent). */
double cm_throttle_account(cm_throttle *t, double busy_ms, double idle_ms);

/* The measured duty cycle so far, 0..1 (busy / total over the decayed window). */
double cm_throttle_measured(const cm_throttle *t);

#ifdef __cplusplus
}
#endif
#endif
