/* cmd_report.c - `flameprof report RAWFILE`: the profile of a process that died before it
 * could write one (SIGKILL, a crash, the OOM killer), from the raw spill it left. */
#include "cmd_report.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "jit_perfmap.h"
#include "rawfile.h"
#include "report.h"
#include "stacks.h"

enum { MAX_LINE_ERRORS = 20 };

static const char report_help[] =
    "Usage: flameprof report [-o PREFIX] [-q] RAWFILE\n"
    "\n"
    "Turn the raw sample spill of a process that died before writing its profile\n"
    "(killed, crashed) into PREFIX.folded and PREFIX.svg. PREFIX defaults to RAWFILE\n"
    "without its .raw ending. Addresses are named from the module files still on disk,\n"
    "and JIT code from /tmp/perf-PID.map if it is still there.\n"
    "\n"
    "  -o PREFIX   output prefix\n"
    "  -q          no summary line\n"
    "  -h, --help  show this help\n";

typedef struct raw_errors {
    const char *name;
    long seen;
} raw_errors;

static void on_bad_line(void *ctx, size_t line_no, const char *why)
{
    raw_errors *e = ctx;
    if (++e->seen <= MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s:%zu: %s\n", e->name, line_no, why);
}

static uint64_t total_samples(stack_table *t)
{
    uint64_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            n += t->slots[i]->samples;
    return n;
}

int cmd_report(int argc, char **argv)
{
    config cfg = { .freq = CONFIG_DEFAULT_FREQ };
    const char *prefix = NULL, *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(report_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            prefix = argv[++i];
        } else if (strcmp(argv[i], "-q") == 0) {
            cfg.quiet = true;
        } else if (argv[i][0] == '-' || path) {
            fprintf(stderr, "flameprof: report: unexpected '%s' (see flameprof report --help)\n",
                    argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "flameprof: report: which raw file? (see flameprof report --help)\n");
        return 2;
    }
    FILE *in = fopen(path, "re");
    if (!in) {
        fprintf(stderr, "flameprof: report: cannot open %s: %m\n", path);
        return 1;
    }
    stack_table t;
    stacks_init(&t);
    long pid;
    bool clean;
    raw_errors errs = { path, 0 };
    long bad = rawfile_read(in, &t, &pid, &cfg.freq, &clean, on_bad_line, &errs);
    fclose(in);
    if (bad < 0) {
        fprintf(stderr, "flameprof: report: %s is not a flameprof raw file\n", path);
        stacks_free(&t);
        return 1;
    }
    if (bad > MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s: %ld bad lines in all, skipped\n", path, bad);
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
    sampler_stats st = { .signals = total_samples(&t), .source = source };
    report_input ri = { .cfg = &cfg, .stacks = &t, .stats = &st, .self_pc = NULL };
    bool ok = report_write(&ri);
    stacks_free(&t);
    return ok ? 0 : 1;
}
