/* consentminer — command-line entry point: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli_config.h"
#include "commands.h"

/* split: the command's own parser does not take --name=value, so the pre-pass splits it
 * (audit's parser is audit.mjs; the others use getopt_long, which takes both forms). */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    int split;
    const char *summary;
} commands[] = {
    {"hash", cm_cmd_hash, 0, "print the RandomX hash of one input (light mode), for vectors"},
    {"bench", cm_cmd_bench, 0, "measure hashes per second with the mining loop"},
    {"mine", cm_cmd_mine, 0, "mine on a pool or solo against monerod, after your consent"},
    {"gateway", cm_cmd_gateway, 0, "bridge consenting browsers to a pool or monerod"},
    {"audit", cm_cmd_audit, 1,
     "check that a web page mines nothing before consent (node, Chromium)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: consentminer COMMAND [OPTIONS]\n\n"
                 "Mines Monero (RandomX) only with the consent of whoever owns the CPU.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`consentminer COMMAND --help` explains each command's options. Every command\n"
                 "takes --name value and --name=value (whole names only: no abbreviations), a\n"
                 "short option's value as -t 2 or -t2, and --config FILE: a JSON object of long\n"
                 "options without their dashes ({\"threads\": 2, \"pool\": [\"a:3333\"],\n"
                 "\"tls\": true}); options after --config override the file's.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("consentminer %s\n", CM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int n;
            char **args, *source;
            if (cli_expand(commands[i].name, commands[i].split, argc - 1, argv + 1, &n, &args,
                           &source) != 0)
                return 2;
            int rc = commands[i].run(n, args);
            /* An option error may come from the file: say where the options came from. */
            if (rc == 2 && source != NULL)
                fprintf(stderr, "consentminer %s: (options were read from --config %s)\n",
                        commands[i].name, source);
            cli_expanded_free(n, args, source);
            return rc;
        }
    fprintf(stderr, "consentminer: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
