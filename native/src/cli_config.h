/* consentminer — what every subcommand's options go through before the command sees
 * them: `--config FILE` is replaced by the options a JSON file holds, and, for a command
 * whose parser is not getopt_long (audit), `--name=value` is split into `--name value`.
 *
 * The file is one JSON object whose keys are long option names without the dashes:
 *   {"listen": "127.0.0.1:8081", "pool": ["a:3333", "b:3333"], "tls": true, "threads": 2}
 * A string or number is the option's value, true gives the bare flag, false and null
 * leave the option out, and a list repeats the option once per item. The file's options
 * take the place of `--config FILE`, so options after it on the command line override
 * the file's, as a later option overrides an earlier one. Only the words before "--" are
 * read as options.
 */
#ifndef CM_NATIVE_CLI_CONFIG_H
#define CM_NATIVE_CLI_CONFIG_H

/* Builds the expanded argument list in *out_argv (argv[0] first, NULL-terminated) and its
 * count in *out_argc; *out_source names the config file read, or is NULL. split: also
 * split `--name=value`. Returns 0, or prints what is wrong with which input and returns
 * -1. Free with cli_expanded_free. */
int cli_expand(const char *command, int split, int argc, char **argv, int *out_argc,
               char ***out_argv, char **out_source);
void cli_expanded_free(int argc, char **argv, char *source);

#endif
