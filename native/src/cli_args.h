/* consentminer — how the subcommands read their options: getopt_long with one loop for
 * all of them (cli_parse), and parsers for the values.
 *
 * Each command declares an options struct, a getopt_long table and a take() function
 * that stores one option in the struct; cli_parse runs getopt_long over argv and calls
 * take() once per option, in order, so a later option overrides an earlier one. Long
 * options are taken as `--name value` and `--name=value`; short ones as `-t 2` and `-t2`.
 * Only whole option names are taken (getopt_long would accept any unambiguous prefix,
 * "--thr" for "--threads"; a prefix that works today may become ambiguous when an option
 * is added, so none is taken). No command takes operands: a word that is no option is an
 * unknown option, as is "--".
 */
#ifndef CM_NATIVE_CLI_ARGS_H
#define CM_NATIVE_CLI_ARGS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

/* Stores one option in opts: key is the option's val in the table (its short letter, or
 * a number above 255 for a long-only option), arg its value (NULL for a flag; else a
 * word of argv, kept as long as argv is) and name its long form ("--threads", also for
 * -t) for messages, valid during the call only. Returns 0, or prints what is wrong
 * (naming the option and what was expected) and returns 2. */
typedef int (*cli_take_fn)(void *opts, int key, const char *arg, const char *name);

/* One command's options. "h" / "help" must be in the tables: cli_parse answers it. */
typedef struct cli_spec {
    const char *command;        /* "bench": messages start "consentminer bench: " */
    const char *shorts;         /* getopt's short options, e.g. "ht:" */
    const struct option *longs; /* getopt_long's table, ended by a zeroed entry */
    void (*usage)(FILE *out);
    cli_take_fn take;
} cli_spec;

/* Parses argv[1..argc-1] (argv[0] is the command's name) into opts. Returns 0 to run,
 * 1 when the help was printed to stdout (exit 0), or 2 when an option is unknown, lacks
 * its value or has a bad one (the message and, for an unknown option, the usage are on
 * stderr). Resets getopt's state first, so it may run any number of times. */
int cli_parse(const cli_spec *spec, int argc, char **argv, void *opts);

/* Parses a whole decimal number in [min, max] from text; prints a message naming
 * option and the range, and returns -1, when it is not one. */
int cm_arg_int(const char *option, const char *text, long min, long max, long *out);
/* Same for a decimal number with a fraction. */
int cm_arg_double(const char *option, const char *text, double min, double max, double *out);

/* --mode for the commands that hash: "fast", "light" and, when allow_auto, "auto".
 * Stores CLI_MODE_FAST, CLI_MODE_LIGHT or CLI_MODE_AUTO in *out; otherwise prints
 * "consentminer COMMAND: --mode is 'X'; expected fast or light[ or auto]" and returns 2. */
enum { CLI_MODE_LIGHT = 0, CLI_MODE_FAST = 1, CLI_MODE_AUTO = 2 };
int cli_mode(const char *command, const char *text, int allow_auto, int *out);

#endif
