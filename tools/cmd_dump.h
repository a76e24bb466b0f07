/* cmd_dump.h - the `flameprof dump` subcommand: a running process's profile, on demand. */
#ifndef FLAMEPROF_CMD_DUMP_H
#define FLAMEPROF_CMD_DUMP_H

/* argv[0] is "dump". Returns 0, 1 (no such process, no library in it, not allowed, a
 * write error) or 2 (usage). */
int cmd_dump(int argc, char **argv);

#endif
