/* cmd_record.h - `flameprof record`: run a command under the profiler (LD_PRELOAD) and
 * exit as it did. */
#ifndef FLAMEPROF_CMD_RECORD_H
#define FLAMEPROF_CMD_RECORD_H

/* argv[0] is "record". Returns the command's exit status (or dies of its signal); 127 if
 * it is not found, 126 if it cannot be run, 2 for a usage error. */
int cmd_record(int argc, char **argv);

#endif
