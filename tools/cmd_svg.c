/* cmd_svg.c - `flameprof svg`: folded stacks to an interactive SVG flame graph, with the
 * options of flamegraph.pl that `svg` and `diff` share (cmd_svg_args). */
#include "cmd_svg.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "folded.h"

static const char svg_help[] =
    "Usage: flameprof svg [OPTIONS] [FILE|URL]\n"
    "\n"
    "Render a profile (folded stacks, perf script, pprof, V8 cpuprofile, speedscope; see\n"
    "below) from FILE, URL or standard input as an interactive SVG flame graph on standard\n"
    "output (or -o FILE).\n"
    "\n"
    "  --title TEXT       title (default \"Flame Graph\")\n"
    "  --subtitle TEXT    second line under the title\n"
    "  --width PX         image width (default 1200)\n"
    "  --minwidth PX      merge adjacent frames narrower than PX (default 0.1); N% for a\n"
    "                     share of the width\n"
    "  --countname NAME   unit of the counts (default \"samples\")\n"
    "  --colors PALETTE   hot (default), java or js\n"
    "  --inverted         icicle graph: roots at the top\n"
    "  --reverse          merge stacks from the leaf: callers of the hottest leaves\n"
    "  --full-labels      label frames with their full names (default: C++ and Rust names\n"
    "                     in short form in the frame, in full in the tooltip and search)\n"
    "  --hash             accepted for flamegraph.pl compatibility; colours always\n"
    "                     derive from the name\n"
    "  -o, --output FILE  write FILE (replaced only once complete) instead of standard\n"
    "                     output\n"
    "  -h, --help         show this help\n"
    CLI_FILTER_HELP
    "\n"
    "Options may also be written --name=VALUE. Malformed lines are reported on standard\n"
    "error with their line number and skipped.\n";

/* "--minwidth" as px, or "N%" of the drawable width as flamegraph.pl allows. */
static bool parse_minwidth(const char *s, int width, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return false;
    if (*end == '%' && end[1] == '\0')
        v = v / 100.0 * (width - 20);
    else if (*end)
        return false;
    *out = v;
    return true;
}

enum { OPT_TITLE = 256, OPT_SUBTITLE, OPT_WIDTH, OPT_MINWIDTH, OPT_COUNTNAME, OPT_COLORS,
       OPT_INVERTED, OPT_REVERSE, OPT_HASH, OPT_FULL_LABELS };

int cmd_svg_args(const char *cmd, const char *help, int argc, char **argv, svg_options *o,
                 cli_input_opts *in, const char **files, int min_files, int nfiles,
                 const char **output)
{
    static const struct option longopts[] = {
        { "title", required_argument, NULL, OPT_TITLE },
        { "subtitle", required_argument, NULL, OPT_SUBTITLE },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "minwidth", required_argument, NULL, OPT_MINWIDTH },
        { "countname", required_argument, NULL, OPT_COUNTNAME },
        { "colors", required_argument, NULL, OPT_COLORS },
        { "inverted", no_argument, NULL, OPT_INVERTED },
        { "reverse", no_argument, NULL, OPT_REVERSE },
        { "hash", no_argument, NULL, OPT_HASH },
        { "full-labels", no_argument, NULL, OPT_FULL_LABELS },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        CLI_INPUT_LONGOPTS,
        CLI_FILTER_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    const char *minwidth = NULL;
    long width;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TITLE: o->title = optarg; break;
        case OPT_SUBTITLE: o->subtitle = optarg; break;
        case OPT_COUNTNAME: o->countname = optarg; break;
        case OPT_INVERTED: o->inverted = true; break;
        case OPT_REVERSE: o->reverse = true; break;
        case OPT_HASH: break;
        case OPT_FULL_LABELS: o->full_labels = true; break;
        case OPT_MINWIDTH: minwidth = optarg; break;
        case 'o':
            if (!*optarg) {
                cli_usage_error(cmd, "%s", "-o wants a file name");
                return EXIT_USAGE;
            }
            *output = optarg;
            break;
        case OPT_WIDTH:
            if (!cli_parse_long(optarg, 100, 100000, &width)) {
                cli_usage_error(cmd, "--width wants a number of pixels (100..100000), not '%s'", optarg);
                return EXIT_USAGE;
            }
            o->width = (int)width;
            break;
        case OPT_COLORS:
            if (strcmp(optarg, "hot") && strcmp(optarg, "java") && strcmp(optarg, "js")) {
                cli_usage_error(cmd, "--colors wants hot, java or js, not '%s'", optarg);
                return EXIT_USAGE;
            }
            o->colors = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            fputs("\n" CLI_INPUT_HELP, stdout);
            return 0;
        default:
            switch (cli_input_option(in, cmd, c, optarg)) {
            case 1: break;
            case 0:
                if ((rc = cli_filter_option(cmd, c, optarg)) < 0)
                    return cli_bad_option(cmd, argv, c);
                if (rc > 0)
                    return rc;
                break;
            default: return EXIT_USAGE;
            }
        }
    }
    if (minwidth && !parse_minwidth(minwidth, o->width, &o->minwidth)) {
        cli_usage_error(cmd, "--minwidth wants pixels or a percentage, not '%s'", minwidth);
        return EXIT_USAGE;
    }
    if (argc - optind > nfiles) {
        cli_usage_error(cmd, nfiles == 1 ? "one input file at most, got also '%s'"
                                         : "two input files, got also '%s'", argv[optind + nfiles]);
        return EXIT_USAGE;
    }
    if (argc - optind < min_files) {
        cli_usage_error(cmd, "%s", "needs BEFORE.folded and AFTER.folded");
        return EXIT_USAGE;
    }
    for (int i = 0; i < nfiles; i++)
        files[i] = optind + i < argc ? argv[optind + i] : NULL;
    return -1;
}

int cmd_svg_emit(const char *output, int (*emit)(void *ctx, FILE *out), void *ctx)
{
    if (output)
        return cli_write_file(output, emit, ctx);
    if (emit(ctx, stdout) < 0) {
        fprintf(stderr, "flameprof: writing the SVG: %s\n", errno ? strerror(errno) : "error");
        return 1;
    }
    return 0;
}

static int emit_svg(void *ctx, FILE *out)
{
    const void *const *cp = ctx; /* { folded_profile, svg_options } */
    return svg_write(cp[0], cp[1], out);
}

int cmd_svg(int argc, char **argv)
{
    svg_options o;
    svg_options_default(&o);
    const char *file = NULL;
    cli_input_opts in;
    cli_input_defaults(&in);
    const char *output = NULL;
    int rc = cmd_svg_args("svg", svg_help, argc, argv, &o, &in, &file, 0, 1, &output);
    if (rc >= 0)
        return rc;
    /* Static and never freed: the process ends right after rendering, and returning 50k
     * blocks to malloc one by one was 5% of the run. Reachable, so no leak report. */
    static folded_profile p;
    folded_init(&p);
    if (cli_read_profile(file, &in, &p) != 0 || cli_filter_apply("svg", &p) != 0)
        return 1;
    char subtitle[2048];
    o.subtitle = cli_filter_subtitle(o.subtitle, subtitle, sizeof subtitle);
    const void *ctx[2] = { &p, &o };
    return cmd_svg_emit(output, emit_svg, (void *)ctx);
}
