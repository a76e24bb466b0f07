/* cli.h - what the flameprof subcommands share: one-line errors, strict numbers,
 * malformed lines of any input reported by number (reading profiles: cli_input.h).
 *
 * Exit statuses: 0 success, 1 runtime failure, 2 usage error. */
#ifndef FLAMEPROF_CLI_H
#define FLAMEPROF_CLI_H

#include <stdbool.h>
#include <stddef.h>

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

/* The malformed lines of one input: the first CLI_MAX_LINE_ERRORS are reported as
 * "flameprof: NAME:LINE: why" by cli_line_error (ctx: a cli_line_errors), the total by
 * cli_line_errors_end. Fits folded_parse's and rawfile_read's error callbacks. */
typedef struct cli_line_errors {
    const char *name; /* the input as the user named it */
    long seen;
} cli_line_errors;

void cli_line_error(void *ctx, size_t line_no, const char *why);

/* After the parse that found `bad` malformed lines: one line with the total, if some went
 * unreported. */
void cli_line_errors_end(const cli_line_errors *e, long bad);


#endif
