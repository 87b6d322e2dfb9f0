/* consentminer — the CLI's subcommands; each parses its own options and returns the
 * process exit status (0 ok, 1 failure at run time, 2 bad usage). */
#ifndef CM_NATIVE_COMMANDS_H
#define CM_NATIVE_COMMANDS_H

int cm_cmd_hash(int argc, char **argv);
int cm_cmd_bench(int argc, char **argv);
int cm_cmd_mine(int argc, char **argv);
int cm_cmd_gateway(int argc, char **argv);
int cm_cmd_audit(int argc, char **argv);

#endif
