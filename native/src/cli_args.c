/* consentminer — option value parsing shared by the subcommands (see cli_args.h). */
#include "cli_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
        fprintf(stderr, "consentminer: %s is '%s'; expected a number %g..%g\n", option, text,
                min, max);
        return -1;
    }
    *out = v;
    return 0;
}

const char *cm_arg_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "consentminer: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}
