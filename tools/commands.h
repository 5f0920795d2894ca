/* Subcommands of the `accel` CLI: each is implemented in its own tools/cmd_*.c and called by tools/accel.c with
 * argv[0] set to the subcommand's name. Each returns the process exit status (0 on success). */
#ifndef ACCEL_TOOLS_COMMANDS_H
#define ACCEL_TOOLS_COMMANDS_H

/* accel detect [--json] [--no-isolate] [--timeout-ms N] [--help] */
int accel_cmd_detect(int argc, char **argv);

#endif
