/* procname.h - what to call this process in file names and in a tree's root frames.
 *
 * The program is the base name of argv[0]; Chromium-style multi-process programs say which
 * kind of process this is with a --type=KIND argument (renderer, gpu-process, utility,
 * zygote), added to the name. Read from /proc/self/cmdline each time, since a zygote's
 * child retitles itself after it is forked; /proc/self/comm, then "process", where that
 * cannot be read. Not async-signal-safe. */
#ifndef FLAMEPROF_PROCNAME_H
#define FLAMEPROF_PROCNAME_H

#include <stddef.h>

enum { PROCNAME_FILE_MAX = 48, PROCNAME_DISPLAY_MAX = 96 };

/* The whole of a small /proc file (or as much as fits) into buf, NUL-terminated; its length,
 * 0 if it cannot be read. Plain open/read/close. */
size_t procname_read_proc(const char *path, char *buf, size_t cap);

/* file: safe in a file name, e.g. "chromium-renderer" ([A-Za-z0-9._+-] only, never
 * starting with '.'); display: e.g. "chromium --type=renderer". */
void procname_read(char file[PROCNAME_FILE_MAX], char display[PROCNAME_DISPLAY_MAX]);

#endif
