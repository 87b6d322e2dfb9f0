/* consentminer — small helpers the subcommands share for reading their options. */
#ifndef CM_NATIVE_CLI_ARGS_H
#define CM_NATIVE_CLI_ARGS_H

#include <stdint.h>

/* Parses a whole decimal number in [min, max] from text; prints a message naming
 * option and the range, and returns -1, when it is not one. */
int cm_arg_int(const char *option, const char *text, long min, long max, long *out);
/* Same for a decimal number with a fraction. */
int cm_arg_double(const char *option, const char *text, double min, double max, double *out);
/* Returns the option's value (argv[*i + 1]) and advances *i, or prints that the option
 * needs a value and returns NULL. */
const char *cm_arg_value(int argc, char **argv, int *i);

#endif
