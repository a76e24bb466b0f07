/* cmd_report.c - `flameprof report RAWFILE`: the profile of a process that died before it
 * could write one (SIGKILL, a crash, the OOM killer), from the raw spill it left. */
#include "cmd_report.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "debuginfod.h"
#include "jit_perfmap.h"
#include "rawfile.h"
#include "report.h"
#include "stacks.h"

static const char report_help[] =
    "Usage: flameprof report [-o PREFIX] [-q] RAWFILE\n"
    "\n"
    "Turn the raw sample spill of a process that died before writing its profile\n"
    "(killed, crashed) into PREFIX.folded and PREFIX.svg. PREFIX defaults to RAWFILE\n"
    "without its .raw ending. Addresses are named from the module files still on disk,\n"
    "and JIT code from /tmp/perf-PID.map if it is still there. Where DEBUGINFOD_URLS is\n"
    "set, debug files this machine lacks are fetched from debuginfod by build-id.\n"
    "\n"
    "  -o PREFIX   output prefix\n"
    "  -q          no summary line\n"
    "  -h, --help  show this help\n";

static void add_samples(stack_entry *e, void *ctx)
{
    *(uint64_t *)ctx += e->samples;
}

/* The command-line options into cfg, prefix and path; -1 to go on, else an exit status. */
static int report_args(int argc, char **argv, config *cfg, const char **prefix,
                       const char **path)
{
    static const struct option longopts[] = { { "help", no_argument, NULL, 'h' },
                                               { NULL, 0, NULL, 0 } };
    int c;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': *prefix = optarg; break;
        case 'q': cfg->quiet = true; break;
        case 'h':
            fputs(report_help, stdout);
            return 0;
        default:
            return cli_bad_option("report", argv, c);
        }
    }
    if (optind >= argc) {
        cli_usage_error("report", "%s", "which raw file?");
        return EXIT_USAGE;
    }
    if (argc - optind > 1) {
        cli_usage_error("report", "one raw file, got also '%s'", argv[optind + 1]);
        return EXIT_USAGE;
    }
    *path = argv[optind];
    return -1;
}

/* One line on what debuginfod gave, where it was asked. */
static void report_debuginfod(const symbolize_debuginfod *dbg, bool quiet)
{
    size_t asked, found;
    symbolize_debuginfod_counts(dbg, &asked, &found);
    if (dbg && !quiet)
        fprintf(stderr, "flameprof: debuginfod: debug files for %zu of %zu modules that had "
                        "none here\n", found, asked);
}

int cmd_report(int argc, char **argv)
{
    config cfg = { .freq = CONFIG_DEFAULT_FREQ };
    const char *prefix = NULL, *path = NULL;
    int rc = report_args(argc, argv, &cfg, &prefix, &path);
    if (rc >= 0)
        return rc;
    FILE *in = fopen(path, "re");
    if (!in) {
        fprintf(stderr, "flameprof: report: cannot open %s: %m\n", path);
        return 1;
    }
    stack_table t;
    stacks_init(&t);
    long pid;
    bool clean;
    cli_line_errors errs = { path, 0 };
    long bad = rawfile_read(in, &t, &pid, &cfg.freq, &clean, cli_line_error, &errs);
    fclose(in);
    if (bad < 0) {
        fprintf(stderr, "flameprof: report: %s is not a flameprof raw file\n", path);
        stacks_free(&t);
        return 1;
    }
    cli_line_errors_end(&errs, bad);
    size_t n = strlen(path);
    if (prefix)
        snprintf(cfg.out, sizeof cfg.out, "%s", prefix);
    else
        snprintf(cfg.out, sizeof cfg.out, "%.*s", (int)(n > 4 && !strcmp(path + n - 4, ".raw")
                                                           ? n - 4 : n), path);
    jit_load_perfmap_of(pid);
    char source[96];
    snprintf(source, sizeof source, "raw spill of pid %ld%s", pid,
             clean ? "" : " (it did not end cleanly)");
    uint64_t samples = 0;
    stacks_foreach(&t, add_samples, &samples);
    sampler_stats st = { .signals = samples, .source = source };
    symbolize_debuginfod *dbg = symbolize_debuginfod_new();
    report_input ri = { .cfg = &cfg, .stacks = &t, .stats = &st, .self_pc = NULL,
                        .fetch = dbg ? symbolize_debuginfod_fetch : NULL, .fetch_ctx = dbg };
    bool ok = report_write(&ri);
    report_debuginfod(dbg, cfg.quiet);
    symbolize_debuginfod_free(dbg);
    stacks_free(&t);
    return ok ? 0 : 1;
}
