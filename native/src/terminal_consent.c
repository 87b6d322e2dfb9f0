/* consentminer — the terminal disclosure and the yes/no question. */
#include "terminal_consent.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void cm_disclosure_print(FILE *out, const cm_disclosure *d)
{
    /* Expected load is the share of each thread's time spent hashing, times threads: the
     * number a CPU meter would show, in percent of one CPU (as top shows it). */
    int load = d->threads * d->throttle_pct;
    fprintf(out,
            "consentminer mine will, once you agree:\n"
            "  mine:        Monero with the RandomX algorithm (rx/0), %s mode%s\n"
            "  CPU:         %d mining thread%s on this computer's %d CPU%s, each hashing %d%% of "
            "the time:\n"
            "               expected CPU load about %d%% (of %d%%), plus the memory above\n",
            d->mode,
            strcmp(d->mode, "fast") == 0 ? " (2080 MiB dataset + 256 MiB cache in memory)"
                                         : " (256 MiB cache in memory)",
            d->threads, d->threads == 1 ? "" : "s", d->cpus, d->cpus == 1 ? "" : "s",
            d->throttle_pct, load, 100 * d->cpus);
    /* Building the dataset loads more CPUs than the mining threads may (issue 18): the
     * person deciding must know before, not find out from a fan. */
    if (d->init_threads > 0)
        fprintf(out,
                "               first builds the dataset on %d thread%s: CPU load up to %d%%\n"
                "               until it is built (tens of seconds), and again while mining\n"
                "               each time the seed changes (every 2048 blocks, about 3 days)\n",
                d->init_threads, d->init_threads == 1 ? "" : "s",
                100 * (d->init_threads < d->cpus ? d->init_threads : d->cpus));
    fprintf(out,
            "  rewards to:  %s\n"
            "  stop:        press Ctrl-C (or send SIGTERM); hashing stops at once and final\n"
            "               statistics are printed\n"
            "  remembered:  for this run only\n",
            d->rewards);
    fflush(out);
}

int cm_terminal_ask(FILE *in, FILE *out, int assume_yes)
{
    if (assume_yes) {
        fprintf(out, "Consent given in advance with --yes.\n");
        fflush(out);
        return 1;
    }
    if (!isatty(fileno(in))) {
        fprintf(out, "Not starting: there is no terminal to ask for your consent. Run it in a "
                     "terminal, or pass --yes to agree in advance.\n");
        fflush(out);
        return 0;
    }
    fprintf(out, "Start mining? [y/N] ");
    fflush(out);
    char line[64];
    if (fgets(line, sizeof line, in) == NULL) {
        fprintf(out, "\nNo answer: not starting.\n");
        return 0;
    }
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        p[--n] = 0;
    if (strcasecmp(p, "y") == 0 || strcasecmp(p, "yes") == 0)
        return 1;
    fprintf(out, "Not starting: the answer was not yes.\n");
    return 0;
}
