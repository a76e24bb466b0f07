/* cli.h - what the flameprof subcommands share: one-line errors, strict numbers,
 * malformed lines of any input reported by number (reading profiles: cli_input.h).
 *
 * Exit statuses: 0 success, 1 runtime failure, 2 usage error. */
#ifndef FLAMEPROF_CLI_H
#define FLAMEPROF_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "filter.h"
#include "folded.h"

#define EXIT_USAGE 2
#define CLI_MAX_LINE_ERRORS 100 /* a file of garbage should not bury the terminal */

/* "flameprof: CMD: <fmt with arg>" then a pointer to --help, on stderr. */
void cli_usage_error(const char *cmd, const char *fmt, const char *arg);

/* For getopt_long run with opterr = 0 and a leading ':' in the option string (':' for a
 * missing value, '?' for an unknown option): prints one line, returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv, int c);

/* Writes path whole or not at all: emit(ctx, f) into a temporary file beside it (mode
 * 0666 less the umask), renamed over path once complete, so an error leaves neither a
 * truncated file nor a lost previous one. emit returns < 0 on error (errno set). Returns
 * 0, or 1 after one "flameprof: PATH: why" line on stderr. */
int cli_write_file(const char *path, int (*emit)(void *ctx, FILE *out), void *ctx);

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


/* ---- filters (filter.h), the same options on every command that writes a profile ----
 * A command adds CLI_FILTER_LONGOPTS to its getopt_long table and CLI_FILTER_HELP to its
 * help, hands every option it does not know to cli_filter_option, and calls
 * cli_filter_apply on the loaded profile (after any reader). One filter a process. */
enum { CLI_OPT_HIDE = 0x2000, /* past cli_input.h's values */ CLI_OPT_FOCUS, CLI_OPT_EXCLUDE, CLI_OPT_STRIP,
       CLI_OPT_STRIP_RUNTIME, CLI_OPT_THREADS };

#define CLI_FILTER_LONGOPTS                                                  \
    { "hide", required_argument, NULL, CLI_OPT_HIDE },                       \
    { "focus", required_argument, NULL, CLI_OPT_FOCUS },                     \
    { "exclude", required_argument, NULL, CLI_OPT_EXCLUDE },                 \
    { "strip", required_argument, NULL, CLI_OPT_STRIP },                     \
    { "strip-runtime-prefixes", no_argument, NULL, CLI_OPT_STRIP_RUNTIME }, \
    { "threads", no_argument, NULL, CLI_OPT_THREADS }

#define CLI_FILTER_HELP                                                                    \
    "Filters (POSIX extended regexes, matched anywhere in a frame name; each may repeat):\n" \
    "  --hide REGEX       remove matching frames; their samples go to the nearest kept\n"  \
    "                     caller (no sample is lost)\n"                                     \
    "  --focus REGEX      keep only stacks with a matching frame\n"                         \
    "  --exclude REGEX    drop stacks with a matching frame\n"                              \
    "  --strip REGEX      remove the first match from each frame name, for reading\n"       \
    "  --strip-runtime-prefixes\n"                                                          \
    "                     strip V8's JS:* LazyCompile:* Function:~ ... and CPython's py::\n" \
    "                     (applied first: the other regexes see the stripped names)\n" \
    "  --threads          keep threads apart: a root frame \"[name tid]\" each, in profiles\n" \
    "                     recorded with FLAMEPROF_THREADS=1 (merged by default)\n"

/* The process's one filter (initialized on first use). */
filter *cli_filter(void);

/* If c is a filter option: adds it and returns 0, or prints one line and returns
 * EXIT_USAGE for a bad regex. Returns -1 if c is not a filter option. */
int cli_filter_option(const char *cmd, int c, const char *arg);

/* Runs the filter over p when one was given. Returns 0, or 1 after a one-line message. */
int cli_filter_apply(const char *cmd, folded_profile *p);

/* The filter's one-line description (filter_describe) appended to a subtitle: into buf,
 * returned; the subtitle itself when no filter is active. */
const char *cli_filter_subtitle(const char *subtitle, char *buf, size_t cap);

#endif
