/* consentminer mine — placeholder until its issue lands: says so and fails. */
#include <stdio.h>
#include "commands.h"

int cm_cmd_mine(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "consentminer mine: not built yet\n");
    return 2;
}
