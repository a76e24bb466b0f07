/* cli_input.h - how every subcommand that takes a profile reads it: folded stacks,
 * `perf script` output, pprof (file or http:// URL), V8 .cpuprofile or speedscope JSON,
 * plain or gzip'ed, the format detected from the content unless --input-format says it;
 * and the reading options they all accept (see CLI_INPUT_HELP). */
#ifndef FLAMEPROF_CLI_INPUT_H
#define FLAMEPROF_CLI_INPUT_H

#include <getopt.h>

#include "folded.h"
#include "input.h"
#include "perfscript.h"
#include "pprof_read.h"

typedef struct cli_input_opts {
    input_format format; /* INPUT_UNKNOWN: detect from the content */
    perfscript_opts perf;
    pprof_read_opts pprof;
    long timeout;        /* seconds for a URL beyond its ?seconds=N; 0: the default */
    bool short_names;    /* --short-names: frames in their short form (shortname.h) */
} cli_input_opts;

/* The long options, for a subcommand's getopt_long table; their values start here. */
enum {
    CLI_INPUT_FORMAT = 0x1000, CLI_INPUT_SAMPLE_INDEX, CLI_INPUT_TAGROOT, CLI_INPUT_PID,
    CLI_INPUT_TID, CLI_INPUT_KERNEL, CLI_INPUT_JIT, CLI_INPUT_ALL, CLI_INPUT_ADDRS,
    CLI_INPUT_EVENT_FILTER, CLI_INPUT_TIMEOUT, CLI_INPUT_SHORT_NAMES,
};
#define CLI_INPUT_LONGOPTS                                                   \
    { "input-format", required_argument, NULL, CLI_INPUT_FORMAT },          \
    { "sample-index", required_argument, NULL, CLI_INPUT_SAMPLE_INDEX },    \
    { "tagroot", required_argument, NULL, CLI_INPUT_TAGROOT },              \
    { "pid", no_argument, NULL, CLI_INPUT_PID },                            \
    { "tid", no_argument, NULL, CLI_INPUT_TID },                            \
    { "kernel", no_argument, NULL, CLI_INPUT_KERNEL },                      \
    { "jit", no_argument, NULL, CLI_INPUT_JIT },                            \
    { "all", no_argument, NULL, CLI_INPUT_ALL },                            \
    { "addrs", no_argument, NULL, CLI_INPUT_ADDRS },                        \
    { "event-filter", required_argument, NULL, CLI_INPUT_EVENT_FILTER },    \
    { "timeout", required_argument, NULL, CLI_INPUT_TIMEOUT },              \
    { "short-names", no_argument, NULL, CLI_INPUT_SHORT_NAMES }

#define CLI_INPUT_HELP                                                                        \
    "Input: folded stacks, `perf script` output, pprof (a file, or an http:// URL such as\n"  \
    "http://HOST:PORT/debug/pprof/profile?seconds=5), V8 .cpuprofile or speedscope JSON,\n"   \
    "plain or gzip'ed; the format is read from the content.\n"                               \
    "  --input-format F   folded, perf, pprof, cpuprofile or speedscope: do not detect\n"     \
    "  --sample-index I   pprof: the value to weigh samples by, an index or a type name\n"   \
    "                     (default: the profile's default, else the last: cpu for Go)\n"      \
    "  --tagroot KEYS     pprof: the labels KEYS (comma-separated) as root frames\n"          \
    "  --timeout SECS     URL: give up after SECS beyond ?seconds=N (default 30)\n"           \
    "  --pid, --tid       perf: PROCESS-PID (and /TID) as the root frame\n"                  \
    "  --kernel, --jit    perf: tag kernel frames _[k], JIT frames (perf maps) _[j];\n"        \
    "  --all              both\n"                                                            \
    "  --addrs            perf: addresses of frames without a symbol\n"                      \
    "  --event-filter E   perf: keep event E (default: the first event in the file)\n"       \
    "  --short-names      C++ and Rust frames without template arguments, parameters and\n"  \
    "                     return types (node::CreateEnvironment(...) -> node::CreateEnvironment)\n" \
    "perf script output is read as FlameGraph's stackcollapse-perf.pl reads it, with the\n"   \
    "same options; weights are its event periods (ns for cpu-clock).\n"

void cli_input_defaults(cli_input_opts *o);

/* One option of CLI_INPUT_LONGOPTS. Returns 1 if handled, 0 if opt is not one of them,
 * -1 after a usage message (cmd names the subcommand). */
int cli_input_option(cli_input_opts *o, const char *cmd, int opt, const char *arg);

/* Reads the profile at path (NULL or "-": standard input; http:// or https://: fetched)
 * into p (initialized by the caller; a second read adds to it). o may be NULL (defaults).
 * Malformed parts are reported as "flameprof: NAME:LINE: why" and skipped. Returns 0, or
 * 1 after a one-line message if the input cannot be read. */
int cli_read_profile(const char *path, const cli_input_opts *o, folded_profile *p);

/* Reads the profile at path (as cli_read_profile) sample by sample, in order, each with
 * its time where the format has one (input.h), into sink (its on_sample and ctx; the rest
 * is set here). *fmt: the format read (folded stacks and pprof have no time). Returns 0,
 * or 1 after a one-line message. */
int cli_read_samples(const char *path, const cli_input_opts *o, input_sink *sink,
                     input_format *fmt);

#endif
