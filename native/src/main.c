/* consentminer — command-line entry point: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"hash", cm_cmd_hash, "print the RandomX hash of one input (light mode), for vectors"},
    {"bench", cm_cmd_bench, "measure hashes per second with the mining loop"},
    {"mine", cm_cmd_mine, "mine on a pool or solo against monerod, after your consent"},
    {"gateway", cm_cmd_gateway, "bridge consenting browsers to a pool or monerod"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: consentminer COMMAND [OPTIONS]\n\n"
                 "Mines Monero (RandomX) only with the consent of whoever owns the CPU.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`consentminer COMMAND --help` explains each command's options.\n");
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
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "consentminer: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
