/* cmd_report.c - `flameprof report RAWFILE`: the profile of a process from the raw spill it
 * leaves while it runs (killed, crashed, or still running), whole or for a time range; and
 * `flameprof heatmap RAWFILE`: the same file's timeline as a heatmap page. Both also take
 * another tool's profile (report_input.h). */
#include "cmd_report.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "debuginfod.h"
#include "report_input.h"
#include "jit_perfmap.h"
#include "rawfile.h"
#include "report.h"
#include "stacks.h"
#include "timeline.h"

static const char report_help[] =
    "Usage: flameprof report [-o PREFIX] [--format LIST] [--from SEC] [--to SEC] [-q]\n"
    "                        RAWFILE|FILE\n"
    "\n"
    "Turn the raw sample spill of a process (PREFIX.raw: killed, crashed, still running,\n"
    "or kept with FLAMEPROF_FORMAT=timeline) into PREFIX.folded and PREFIX.svg. PREFIX\n"
    "defaults to RAWFILE without its .raw ending. Addresses are named from the module files\n"
    "still on disk, and JIT code from /tmp/perf-PID.map if it is still there. Where\n"
    "DEBUGINFOD_URLS is set, debug files this machine lacks are fetched from debuginfod by\n"
    "build-id.\n"
    "FILE may be another tool's profile (perf script, .cpuprofile, speedscope, pprof,\n"
    "folded): its time runs from its first sample, and --from/--to want one (pprof and\n"
    "folded have none). PREFIX then defaults to FILE.\n"
    "\n"
    "  -o PREFIX      output prefix\n"
    "  --format LIST  the files to write, as FLAMEPROF_FORMAT: folded, svg, pprof,\n"
    "                 speedscope, heatmap (default svg,folded)\n"
    "  --from SEC     only the samples from SEC seconds after the profile began (the\n"
    "                 timeline's 20 ms slots; decimals allowed)\n"
    "  --to SEC       only the samples before SEC seconds\n"
    "  -q             no summary line\n"
    "  -h, --help     show this help\n"
    CLI_FILTER_HELP;

static const char heatmap_help[] =
    "Usage: flameprof heatmap [-o PREFIX] [-q] RAWFILE|FILE\n"
    "\n"
    "Write PREFIX.heatmap.html: the run's timeline as a FlameScope heatmap (a column per\n"
    "second, a row per 20 ms), where a selected time range opens as a flame graph and two\n"
    "ranges compare as a differential one. One self-contained file: no server, no network.\n"
    "RAWFILE may belong to a process still running (what it has written so far is drawn).\n"
    "FILE may be another tool's profile with time stamps: perf script output (plain or\n"
    "gzip'ed), a V8 .cpuprofile, a speedscope file with a time unit; its time runs from its\n"
    "first sample. PREFIX defaults to RAWFILE without its .raw ending (FILE as it is).\n"
    "Filters apply to raw files' heatmaps only.\n"
    "\n"
    "  -o PREFIX   output prefix\n"
    "  -q          no summary line\n"
    "  -h, --help  show this help\n"
    CLI_FILTER_HELP;

typedef struct report_opts {
    const char *cmd, *prefix, *path;
    double from, to; /* seconds; to < 0: the end */
    bool range;
} report_opts;

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

/* The command-line options into cfg and o; -1 to go on, else an exit status. */
static int report_args(int argc, char **argv, config *cfg, report_opts *o)
{
    enum { OPT_FORMAT = 256, OPT_FROM, OPT_TO };
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },   { "format", required_argument, NULL, OPT_FORMAT },
        { "from", required_argument, NULL, OPT_FROM }, { "to", required_argument, NULL, OPT_TO },
        CLI_FILTER_LONGOPTS, { NULL, 0, NULL, 0 }
    };
    bool heatmap = strcmp(o->cmd, "heatmap") == 0;
    char why[160];
    int c, rc;
    while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
        if (heatmap && c >= OPT_FORMAT && c <= OPT_TO)
            c = '?';
        switch (c) {
        case 'o': o->prefix = optarg; break;
        case 'q': cfg->quiet = true; break;
        case OPT_FORMAT:
            if (!config_parse_formats(optarg, &cfg->formats, why, sizeof why) ||
                (cfg->formats & CONFIG_FORMAT_TIMELINE)) {
                cli_usage_error(o->cmd, "--format: %s", optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_FROM:
        case OPT_TO:
            if (!parse_seconds(optarg, c == OPT_FROM ? &o->from : &o->to)) {
                cli_usage_error(o->cmd, "--from/--to want seconds >= 0, got '%s'", optarg);
                return EXIT_USAGE;
            }
            o->range = true;
            break;
        case 'h':
            fputs(heatmap ? heatmap_help : report_help, stdout);
            return 0;
        default:
            if ((rc = cli_filter_option(o->cmd, c, optarg)) < 0)
                return cli_bad_option(o->cmd, argv, c);
            if (rc > 0)
                return rc;
        }
    }
    if (o->range && o->to >= 0 && o->to <= o->from) {
        cli_usage_error(o->cmd, "%s", "--to must be later than --from");
        return EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_usage_error(o->cmd, "%s", "which raw file?");
        return EXIT_USAGE;
    }
    if (argc - optind > 1) {
        cli_usage_error(o->cmd, "one raw file, got also '%s'", argv[optind + 1]);
        return EXIT_USAGE;
    }
    o->path = argv[optind];
    return -1;
}

/* --from/--to: every stack's weight becomes its weight in [from, to), from the timeline. */
static void restrict_to_range(stack_table *t, const timeline *tl, const report_opts *o)
{
    for (size_t id = 0; id < t->len; id++) {
        stack_entry *e = stacks_get(t, (uint32_t)id);
        e->weight = e->samples = 0;
    }
    uint32_t a = (uint32_t)floor(o->from * TIMELINE_SLOTS_PER_S + 1e-6);
    uint32_t b = o->to < 0 ? UINT32_MAX : (uint32_t)ceil(o->to * TIMELINE_SLOTS_PER_S - 1e-6);
    for (size_t i = timeline_lower(tl, a); i < tl->len && tl->cells[i].slot < b; i++) {
        stack_entry *e = stacks_get(t, tl->cells[i].id);
        e->weight += tl->cells[i].weight;
        e->samples++; /* the timeline keeps weights: count a stack once per slot */
    }
}

static void add_samples(stack_entry *e, void *ctx)
{
    *(uint64_t *)ctx += e->samples;
}

static void set_prefix(config *cfg, const report_opts *o)
{
    size_t n = strlen(o->path);
    if (o->prefix)
        snprintf(cfg->out, sizeof cfg->out, "%s", o->prefix);
    else
        snprintf(cfg->out, sizeof cfg->out, "%.*s",
                 (int)(n > 4 && !strcmp(o->path + n - 4, ".raw") ? n - 4 : n), o->path);
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

/* Whether path is a raw spill: named so, or starting as one does ("flameprof-raw "). */
static bool is_raw_file(const char *path)
{
    size_t len = strlen(path);
    if (len >= 4 && strcmp(path + len - 4, ".raw") == 0)
        return true;
    char head[16] = "";
    FILE *f = fopen(path, "re");
    if (!f)
        return true; /* the raw file path says why it cannot be opened */
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    return n >= 14 && memcmp(head, "flameprof-raw ", 14) == 0;
}

/* report or heatmap of another tool's profile (perf script, .cpuprofile, speedscope,
 * pprof): report_input.h. */
static int run_on_input(config *cfg, const report_opts *o, unsigned formats)
{
    set_prefix(cfg, o);
    report_input_opts r = { .path = o->path, .prefix = cfg->out, .range = o->range,
                            .from = o->from, .to = o->to, .quiet = cfg->quiet,
                            .formats = formats ? formats : cfg->formats ? cfg->formats
                                                         : CONFIG_DEFAULT_FORMATS };
    cli_input_opts in;
    cli_input_defaults(&in);
    return report_input_run(&r, &in);
}

static int run(int argc, char **argv, unsigned formats)
{
    config cfg = { .freq = CONFIG_DEFAULT_FREQ, .formats = formats };
    report_opts o = { .cmd = argv[0], .to = -1 };
    int rc = report_args(argc, argv, &cfg, &o);
    if (rc >= 0)
        return rc;
    if (!is_raw_file(o.path))
        return run_on_input(&cfg, &o, formats);
    FILE *in = fopen(o.path, "re");
    if (!in) {
        fprintf(stderr, "flameprof: %s: cannot open %s: %m\n", o.cmd, o.path);
        return 1;
    }
    stack_table t;
    stacks_init(&t);
    timeline tl;
    timeline_init(&tl, 0);
    t.by_thread = true; /* the spill's H records say whether the process kept threads apart */
    rawfile_info info;
    cli_line_errors errs = { o.path, 0 };
    long bad = rawfile_read_all(in, &t, &tl, &info, cli_line_error, &errs);
    fclose(in);
    rc = 1;
    if (bad < 0) {
        fprintf(stderr, "flameprof: %s: %s is not a flameprof raw file\n", o.cmd, o.path);
        goto done;
    }
    cli_line_errors_end(&errs, bad);
    bool need_tl = o.range || (cfg.formats & CONFIG_FORMAT_HEATMAP);
    if (need_tl && info.version < 2) {
        fprintf(stderr, "flameprof: %s: %s has no timeline (written by an older flameprof)\n",
                o.cmd, o.path);
        goto done;
    }
    if (o.range)
        restrict_to_range(&t, &tl, &o);
    cfg.freq = info.freq;
    cfg.mode = info.mode == CONFIG_MODE_WALL ? CONFIG_MODE_WALL : CONFIG_MODE_CPU;
    cfg.source = info.source == CONFIG_SOURCE_PERF ? CONFIG_SOURCE_PERF : CONFIG_SOURCE_TIMER;
    set_prefix(&cfg, &o);
    jit_load_perfmap_of(info.pid);
    char source[160];
    snprintf(source, sizeof source, "raw spill of pid %ld%s%s", info.pid,
             info.clean ? "" : " (it did not end cleanly, or still runs)",
             o.range ? ", a time range (samples: stacks per slot)" : "");
    uint64_t samples = 0;
    stacks_foreach(&t, add_samples, &samples);
    /* As the library at exit: no samples, no files (an empty SVG and folded file would
     * pass for a profile of a program that did nothing). */
    if (samples == 0) {
        if (o.range)
            fprintf(stderr, "flameprof: %s: no samples from %.2f s to %s in %s (its timeline "
                            "covers %.2f s to %.2f s); nothing written\n", o.cmd, o.from,
                    o.to < 0 ? "the end" : "--to", o.path,
                    (double)info.first_slot / TIMELINE_SLOTS_PER_S,
                    (double)info.end_slot / TIMELINE_SLOTS_PER_S);
        else
            fprintf(stderr, "flameprof: %s: %s holds no samples (pid %ld ended before its "
                            "first sample was spilled); nothing written\n", o.cmd, o.path,
                    info.pid);
        goto done;
    }
    sampler_stats st = { .signals = samples, .source = source, .outside = true,
                         .wall = cfg.mode == CONFIG_MODE_WALL };
    symbolize_debuginfod *dbg = symbolize_debuginfod_new();
    report_input ri = { .cfg = &cfg, .stacks = &t, .stats = &st, .self_pc = NULL, .durable = true,
                        .fetch = dbg ? symbolize_debuginfod_fetch : NULL, .fetch_ctx = dbg,
                        .tl = &tl, .tl_info = info, .pid = info.pid, .filter = cli_filter() };
    rc = report_write(&ri) ? 0 : 1;
    report_debuginfod(dbg, cfg.quiet);
    symbolize_debuginfod_free(dbg);
done:
    timeline_free(&tl);
    stacks_free(&t);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int cmd_heatmap(int argc, char **argv)
{
    return run(argc, argv, CONFIG_FORMAT_HEATMAP);
}
