/* cli.h - what the flameprof subcommands share: one-line errors, strict numbers, reading
 * folded stacks with malformed lines reported by number.
 *
 * Exit statuses: 0 success, 1 runtime failure, 2 usage error. */
#ifndef FLAMEPROF_CLI_H
#define FLAMEPROF_CLI_H

#include <stdbool.h>

#include "folded.h"

#define EXIT_USAGE 2
#define CLI_MAX_LINE_ERRORS 100 /* a file of garbage should not bury the terminal */

/* "flameprof: CMD: <fmt with arg>" then a pointer to --help, on stderr. */
void cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* For getopt_long run with opterr = 0 and a leading ':' in the option string (':' for a
 * missing value, '?' for an unknown option): prints one line, returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv, int c);

/* Strict decimal: the whole string, no sign, no overflow, within lo..hi. */
bool cli_parse_long(const char *s, long lo, long hi, long *out);

/* Reads folded stacks from path (NULL or "-": standard input) into p (initialized by the
 * caller). Malformed lines are reported as "flameprof: NAME:LINE: why" and skipped.
 * Returns 0, or 1 after a one-line message if the file cannot be read. */
int cli_read_folded(const char *path, folded_profile *p);

#endif
