/* consentminer — the subcommands' option loop and value parsers (see cli_args.h). */
#include "cli_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The table's entry named exactly name[0..len), or NULL. */
static const struct option *exact(const struct option *longs, const char *name, size_t len)
{
    for (const struct option *o = longs; o->name != NULL; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    return NULL;
}

/* An option's long form for messages: "--threads" for 't' when the table pairs them,
 * else "-k". */
static void name_of(const struct option *longs, int key, char *out, size_t cap)
{
    for (const struct option *o = longs; o->name != NULL; o++)
        if (o->flag == NULL && o->val == key) {
            snprintf(out, cap, "--%s", o->name);
            return;
        }
    snprintf(out, cap, "-%c", key);
}

static int unknown(const cli_spec *s, const char *text, size_t len)
{
    fprintf(stderr, "consentminer %s: unknown option '%.*s'\n\n", s->command, (int)len, text);
    s->usage(stderr);
    return 2;
}

int cli_parse(const cli_spec *s, int argc, char **argv, void *opts)
{
    /* '-': getopt_long returns words that are no option in place (as 1) instead of moving
     * them to the end, so the first stray word is the one reported. ':': a missing value
     * comes back as ':', told apart from an unknown option. */
    char shorts[64];
    snprintf(shorts, sizeof shorts, "-:%s", s->shorts);
    opterr = 0;
    optind = 0; /* glibc: 0 starts a new scan (main's help or a test may have run one) */
    for (;;) {
        int at = optind > 0 ? optind : 1;
        int c = getopt_long(argc, argv, shorts, s->longs, NULL);
        if (c == -1)
            break;
        /* A long option is a word of its own, so argv[at] is the word being read. */
        const char *word = at < argc ? argv[at] : "";
        const struct option *lo = NULL;
        size_t len = 0;
        if (c != 1 && !strncmp(word, "--", 2) && word[2]) {
            len = strcspn(word + 2, "=");
            lo = exact(s->longs, word + 2, len);
            if (lo == NULL) /* unknown, or only a prefix of one */
                return unknown(s, word, len + 2);
        }
        char name[72], shown[4];
        if (c == 1)
            return unknown(s, optarg, strlen(optarg));
        if (c == ':') { /* as typed: "-t needs a value" */
            if (lo)
                fprintf(stderr, "consentminer: --%s needs a value\n", lo->name);
            else
                fprintf(stderr, "consentminer: -%c needs a value\n", optopt);
            return 2;
        }
        if (c == '?') {
            if (lo) { /* a flag given a value: --json=1 */
                fprintf(stderr, "consentminer %s: --%s takes no value; give --%s alone\n",
                        s->command, lo->name, lo->name);
                return 2;
            }
            snprintf(shown, sizeof shown, "-%c", optopt);
            return unknown(s, shown, strlen(shown));
        }
        if (c == 'h') {
            s->usage(stdout);
            return 1;
        }
        name_of(s->longs, c, name, sizeof name);
        if (s->take(opts, c, optarg, name) != 0)
            return 2;
    }
    /* "--" ends getopt's options; no command takes operands, so it is refused as before. */
    if (optind > 1 && optind <= argc && !strcmp(argv[optind - 1], "--"))
        return unknown(s, "--", 2);
    return 0;
}

int cm_arg_int(const char *option, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "consentminer: %s is '%s'; expected a whole number %ld..%ld\n", option,
                text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int cm_arg_double(const char *option, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max)) {
        fprintf(stderr, "consentminer: %s is '%s'; expected a number %g..%g\n", option, text, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_mode(const char *command, const char *text, int allow_auto, int *out)
{
    if (!strcmp(text, "fast"))
        *out = CLI_MODE_FAST;
    else if (!strcmp(text, "light"))
        *out = CLI_MODE_LIGHT;
    else if (allow_auto && !strcmp(text, "auto"))
        *out = CLI_MODE_AUTO;
    else {
        fprintf(stderr, "consentminer %s: --mode is '%s'; expected fast%s light%s\n", command, text,
                allow_auto ? "," : " or", allow_auto ? " or auto" : "");
        return 2;
    }
    return 0;
}
