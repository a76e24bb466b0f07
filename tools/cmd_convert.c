/* cmd_convert.c - `flameprof convert`: folded stacks to the formats other tools read. */
#include "cmd_convert.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_input.h"
#include "config.h"
#include "folded.h"
#include "pprof.h"
#include "speedscope.h"

static const char convert_help[] =
    "Usage: flameprof convert [--format FORMAT] [-o FILE] [OPTIONS] [INPUT]\n"
    "\n"
    "Convert a profile from INPUT (a file or URL of any format flameprof reads, see below),\n"
    "or standard input, for other tools.\n"
    "\n"
    "  -f, --format FORMAT  pprof       gzip'ed profile.proto: go tool pprof, pprof.me,\n"
    "                                   Pyroscope, Grafana, IDEs\n"
    "                       speedscope  the JSON file format of https://www.speedscope.app\n"
    "                       folded      the folded stacks again, sorted and merged\n"
    "                       Without --format, the ending of -o FILE decides: .pb.gz, .pb,\n"
    "                       .pprof -> pprof; .json -> speedscope; .folded -> folded.\n"
    "      --to FORMAT      the same as --format (pandoc's and other converters' name)\n"
    "  -o, --output FILE    write FILE (replaced only once complete) instead of standard\n"
    "                       output\n"
    "  -F, --freq HZ        the sampling frequency the counts were taken at (default 997,\n"
    "                       flameprof's): pprof's period is 1e9/HZ ns, and each sample's cpu\n"
    "                       value its count times the period\n"
    "      --name NAME      the profile's name in speedscope (default: the input file name)\n"
    "  -h, --help           show this help\n"
    CLI_FILTER_HELP
    "\n"
    "Frames tagged _[i] (inlined) become lines of their caller's pprof location. Malformed\n"
    "lines are reported on standard error with their line number and skipped.\n";

enum format { FMT_NONE, FMT_PPROF, FMT_SPEEDSCOPE, FMT_FOLDED };

static bool ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), k = strlen(end);
    return n >= k && strcmp(s + n - k, end) == 0;
}

static enum format format_named(const char *s)
{
    return !strcmp(s, "pprof") ? FMT_PPROF : !strcmp(s, "speedscope") ? FMT_SPEEDSCOPE
         : !strcmp(s, "folded") ? FMT_FOLDED : FMT_NONE;
}

static enum format format_of_path(const char *path)
{
    if (ends_with(path, ".pb.gz") || ends_with(path, ".pb") || ends_with(path, ".pprof"))
        return FMT_PPROF;
    if (ends_with(path, ".json"))
        return FMT_SPEEDSCOPE;
    return ends_with(path, ".folded") ? FMT_FOLDED : FMT_NONE;
}

typedef struct convert_opts {
    enum format format;
    const char *output, *input, *name;
    unsigned hz;
    cli_input_opts in;
} convert_opts;

static int write_format(const convert_opts *c, const folded_profile *p, FILE *out)
{
    switch (c->format) {
    case FMT_PPROF:
        return pprof_write(p, c->hz, NULL, out);
    case FMT_SPEEDSCOPE:
        return speedscope_write(p, c->name, out);
    default:
        return folded_write(p, out);
    }
}

static int write_cb(void *ctx, FILE *out)
{
    const void *const *cp = ctx; /* { convert_opts, folded_profile } */
    return write_format(cp[0], cp[1], out);
}

enum { OPT_NAME = 256 };

/* Fills c from the command line; returns -1 to go on, else an exit status. */
static int convert_args(int argc, char **argv, convert_opts *c)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 'f' }, /* what converters call it: a guess that works */
        { "output", required_argument, NULL, 'o' },
        { "freq", required_argument, NULL, 'F' },
        { "name", required_argument, NULL, OPT_NAME },
        { "help", no_argument, NULL, 'h' },
        CLI_INPUT_LONGOPTS,
        CLI_FILTER_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    long hz;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, ":f:o:F:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            if ((c->format = format_named(optarg)) == FMT_NONE) {
                cli_usage_error("convert", "--format wants pprof, speedscope or folded, not '%s'",
                                optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            if (!*optarg) {
                cli_usage_error("convert", "%s", "-o wants a file name");
                return EXIT_USAGE;
            }
            c->output = optarg;
            break;
        case 'F':
            if (!cli_parse_long(optarg, 1, 1000000, &hz)) {
                cli_usage_error("convert", "--freq wants a frequency in Hz (1..1000000), not '%s'",
                                optarg);
                return EXIT_USAGE;
            }
            c->hz = (unsigned)hz;
            break;
        case OPT_NAME:
            c->name = optarg;
            break;
        case 'h':
            fputs(convert_help, stdout);
            fputs("\n" CLI_INPUT_HELP, stdout);
            return 0;
        default:
            switch (cli_input_option(&c->in, "convert", opt, optarg)) {
            case 1: break;
            case 0:
                if ((rc = cli_filter_option("convert", opt, optarg)) < 0)
                    return cli_bad_option("convert", argv, opt);
                if (rc > 0)
                    return rc;
                break;
            default: return EXIT_USAGE;
            }
        }
    }
    if (argc - optind > 1) {
        cli_usage_error("convert", "one input file at most, got also '%s'", argv[optind + 1]);
        return EXIT_USAGE;
    }
    c->input = optind < argc ? argv[optind] : NULL;
    if (c->format == FMT_NONE && c->output)
        c->format = format_of_path(c->output);
    if (c->format == FMT_NONE) {
        cli_usage_error("convert", "%s", "which format? --format pprof, speedscope or folded");
        return EXIT_USAGE;
    }
    if (c->format == FMT_PPROF && !c->output && isatty(STDOUT_FILENO)) {
        cli_usage_error("convert", "%s", "pprof is binary: give -o FILE or redirect the output");
        return EXIT_USAGE;
    }
    return -1;
}

int cmd_convert(int argc, char **argv)
{
    convert_opts c = { FMT_NONE, NULL, NULL, NULL, CONFIG_DEFAULT_FREQ, { 0 } };
    cli_input_defaults(&c.in);
    int rc = convert_args(argc, argv, &c);
    if (rc >= 0)
        return rc;
    if (!c.name) { /* the input file's name without its folders, else "flameprof" */
        const char *in = c.input && strcmp(c.input, "-") ? c.input : NULL;
        c.name = in ? (strrchr(in, '/') ? strrchr(in, '/') + 1 : in) : "flameprof";
    }
    folded_profile p;
    folded_init(&p);
    rc = cli_read_profile(c.input, &c.in, &p);
    if (rc == 0)
        rc = cli_filter_apply("convert", &p);
    char named[2048];
    c.name = cli_filter_subtitle(c.name, named, sizeof named); /* speedscope shows it */
    if (rc == 0 && c.output) {
        const void *ctx[2] = { &c, &p };
        rc = cli_write_file(c.output, write_cb, (void *)ctx);
    } else if (rc == 0 && write_format(&c, &p, stdout) < 0) {
        fprintf(stderr, "flameprof: writing the output: %s\n", errno ? strerror(errno) : "error");
        rc = 1;
    }
    folded_free(&p);
    return rc;
}
