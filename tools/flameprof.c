/* flameprof.c - the flameprof command: dispatch to a subcommand, or print the usage.
 *
 * Subcommands live in one table, each in its own cmd_NAME.c; each gets argv starting at
 * its own name and returns the process exit status: 0 success, 1 runtime failure, 2 usage
 * error (and for `record`, the profiled command's own status). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_convert.h"
#include "cmd_diff.h"
#include "cmd_dump.h"
#include "cmd_record.h"
#include "cmd_report.h"
#include "cmd_svg.h"

#ifndef FLAMEPROF_VERSION
#define FLAMEPROF_VERSION "unknown"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

/* Each command is one row and one cmd_ function. */
static const command commands[] = {
    { "record", cmd_record, "run a command with the profiler and write its profile" },
    { "svg", cmd_svg, "render folded stacks as an interactive SVG flame graph" },
    { "diff", cmd_diff, "differential flame graph of two folded profiles" },
    { "convert", cmd_convert, "folded stacks to pprof or speedscope" },
    { "report", cmd_report, "a raw spill (killed, running) into its profile, or a time range's" },
    { "heatmap", cmd_heatmap, "a raw spill's timeline as a heatmap page (HTML)" },
    { "dump", cmd_dump, "the profile of a running process, so far or for the next seconds" },
};

static void usage(FILE *f)
{
    fputs("Usage: flameprof COMMAND [OPTIONS] [ARGS...]\n\nCommands:\n", f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'flameprof COMMAND --help' for the options of a command.\n", f);
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    opterr = 0;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        puts("flameprof " FLAMEPROF_VERSION);
        return 0;
    }
    if (strcmp(name, "help") == 0 && argc > 2 && find_command(argv[2])) {
        char *args[] = { argv[2], "--help", NULL };
        return find_command(argv[2])->run(2, args);
    }
    const command *cmd = find_command(name);
    if (!cmd) {
        cli_usage_error(NULL, name[0] == '-' ? "unknown option '%s'" : "unknown command '%s'", name);
        return EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
