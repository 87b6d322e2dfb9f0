/* consentminer — consent in a terminal: say what will run, then ask.
 *
 * docs/design.md's consent rules, applied to a terminal: the disclosure names the currency and
 * algorithm, the threads and the expected CPU load (including the dataset build, which
 * may take more CPUs than the mining threads), where the rewards go and how to stop;
 * the answer defaults to no; without a terminal to ask on, only an explicit --yes given
 * in advance counts as consent.
 */
#ifndef CM_NATIVE_TERMINAL_CONSENT_H
#define CM_NATIVE_TERMINAL_CONSENT_H

#include <stdio.h>

typedef struct cm_disclosure {
    int threads;
    int init_threads;    /* threads building the fast-mode dataset; 0 in light mode */
    int cpus;
    int throttle_pct;
    const char *mode;    /* "fast", "light" */
    const char *rewards; /* one or more lines: where rewards go */
} cm_disclosure;

/* Prints the disclosure to out. */
void cm_disclosure_print(FILE *out, const cm_disclosure *d);

/* Decides consent: with assume_yes, 1 (and says so on out); otherwise asks
 * "Start mining? [y/N]" on the terminal `in` and returns 1 only for y or yes. When `in`
 * is not a terminal, prints why it refuses and returns 0. */
int cm_terminal_ask(FILE *in, FILE *out, int assume_yes);

#endif
