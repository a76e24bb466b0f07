/* flameprof.c - the flameprof command: run programs under the profiler, render profiles.
 *
 * Subcommands live in one table; each gets argv starting at its own name and returns the
 * process exit status: 0 success, 1 runtime failure, 2 usage error (and for `record`, the
 * profiled command's own status). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "cmd_convert.h"
#include "cmd_report.h"
#include "diff.h"
#include "folded.h"
#include "svg.h"

#ifndef FLAMEPROF_VERSION
#define FLAMEPROF_VERSION "unknown"
#endif

#define EXIT_NOTFOUND 127 /* as shells report a command they cannot find */
#define EXIT_NOEXEC 126   /* ... and one they found but cannot run */

/* ====================================================================================== */
/* record                                                                                  */
/* ====================================================================================== */

static const char record_help[] =
    "Usage: flameprof record [-F HZ] [-o PREFIX] [--format LIST] [--] COMMAND [ARGS...]\n"
    "\n"
    "Run COMMAND with the flameprof sampler preloaded; profiles are written when it exits.\n"
    "\n"
    "  -F, --freq HZ        sampling frequency per thread (sets FLAMEPROF_FREQ)\n"
    "  -o, --output PREFIX  output path prefix (sets FLAMEPROF_OUT)\n"
    "      --format LIST    files to write, comma-separated: svg, folded, pprof, speedscope\n"
    "                       (sets FLAMEPROF_FORMAT; default svg,folded)\n"
    "  -h, --help           show this help\n"
    "\n"
    "The library is $FLAMEPROF_LIB, else libflameprof.so next to this program (build tree,\n"
    "same directory, ../lib, ../lib/x86_64-linux-gnu). flameprof exits with COMMAND's status,\n"
    "or dies of the same signal; 127 if COMMAND is not found, 126 if it cannot be run.\n";

static bool usable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* Canonical path of the preload library into out[PATH_MAX]; 0, or -1 after a message. */
static int find_library(char *out)
{
    const char *env = getenv("FLAMEPROF_LIB");
    if (env && *env) {
        /* An explicit choice that does not exist is an error, not a hint to look elsewhere. */
        if (!usable_file(env) || !realpath(env, out)) {
            fprintf(stderr, "flameprof: FLAMEPROF_LIB=%s: not a readable file\n", env);
            return -1;
        }
        return 0;
    }
    static const char *const rel[] = { "/../preload/libflameprof.so", "/libflameprof.so",
                                       "/../lib/libflameprof.so",
                                       "/../lib/x86_64-linux-gnu/libflameprof.so" };
    char exe[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        for (size_t i = 0; i < sizeof(rel) / sizeof(*rel); i++) {
            snprintf(path, sizeof(path), "%s%s", exe, rel[i]);
            if (usable_file(path) && realpath(path, out))
                return 0;
        }
    }
    fprintf(stderr, "flameprof: libflameprof.so not found next to %s; set FLAMEPROF_LIB\n",
            n > 0 ? exe : "this program");
    return -1;
}

/* LD_PRELOAD="<lib>[:<previous value>]": ours first so its constructor runs early, the
 * user's own preloads kept. ld.so splits the list on ':' and blanks with no escaping. */
static int set_preload(const char *lib)
{
    if (strpbrk(lib, ": \t\n")) {
        fprintf(stderr, "flameprof: %s: a path with ':' or blanks cannot go in LD_PRELOAD\n", lib);
        return -1;
    }
    const char *old = getenv("LD_PRELOAD");
    size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *val = malloc(n);
    if (!val)
        return -1;
    snprintf(val, n, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    int rc = setenv("LD_PRELOAD", val, 1);
    free(val);
    return rc;
}

typedef struct record_opts {
    const char *freq, *out, *format;
    char lib[PATH_MAX];
} record_opts;

/* In the child: environment for the preload, then the command. Never returns. */
static void exec_child(const record_opts *r, char **cmd, const struct sigaction *old_int,
                       const struct sigaction *old_quit)
{
    sigaction(SIGINT, old_int, NULL);
    sigaction(SIGQUIT, old_quit, NULL);
    if (set_preload(r->lib) < 0 || (r->freq && setenv("FLAMEPROF_FREQ", r->freq, 1) < 0) ||
        (r->out && setenv("FLAMEPROF_OUT", r->out, 1) < 0) ||
        (r->format && setenv("FLAMEPROF_FORMAT", r->format, 1) < 0))
        _exit(EXIT_NOEXEC);
    execvp(cmd[0], cmd);
    int e = errno;
    fprintf(stderr, "flameprof: %s: %s\n", cmd[0], strerror(e));
    _exit(e == ENOENT || e == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC);
}

/* Ends this process the way the child ended, so the shell sees the same thing. */
static int mirror_status(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (!WIFSIGNALED(status))
        return 1;
    int sig = WTERMSIG(status);
    /* Die of the same signal, but without a core file of our own: the child's is the one
     * that matters. */
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    fflush(NULL);
    raise(sig);
    return 128 + sig; /* a signal whose default action is not to terminate */
}

static int cmd_record(int argc, char **argv)
{
    static const struct option longopts[] = { { "freq", required_argument, NULL, 'F' },
                                               { "output", required_argument, NULL, 'o' },
                                               { "format", required_argument, NULL, 'f' },
                                               { "help", no_argument, NULL, 'h' },
                                               { NULL, 0, NULL, 0 } };
    record_opts r = { NULL, NULL, NULL, "" };
    long hz;
    int c;
    /* '+': options end at the command, whose own options are its business. */
    while ((c = getopt_long(argc, argv, "+:F:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (!cli_parse_long(optarg, 1, 1000000, &hz)) {
                cli_usage_error("record", "-F wants a frequency in Hz (1..1000000), not '%s'", optarg);
                return EXIT_USAGE;
            }
            r.freq = optarg;
            break;
        case 'o':
            if (!*optarg) {
                cli_usage_error("record", "%s", "-o wants a non-empty prefix");
                return EXIT_USAGE;
            }
            r.out = optarg;
            break;
        case 'f': {
            unsigned formats;
            char why[160];
            if (!config_parse_formats(optarg, &formats, why, sizeof(why)) || !*optarg) {
                cli_usage_error("record", "--format wants a list of svg, folded, pprof, "
                                "speedscope, not '%s'", optarg);
                return EXIT_USAGE;
            }
            r.format = optarg;
            break;
        }
        case 'h':
            fputs(record_help, stdout);
            return 0;
        default:
            return cli_bad_option("record", argv, c);
        }
    }
    if (optind >= argc) {
        cli_usage_error("record", "%s", "no command to run");
        return EXIT_USAGE;
    }
    if (find_library(r.lib) < 0)
        return EXIT_NOTFOUND;

    /* Like time(1): a ^C or ^\ goes to the whole foreground group; the command decides
     * what to do with it and we report whatever it did. */
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "flameprof: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0)
        exec_child(&r, argv + optind, &old_int, &old_quit);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "flameprof: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return mirror_status(status);
}

/* ====================================================================================== */
/* svg                                                                                     */
/* ====================================================================================== */

static const char svg_help[] =
    "Usage: flameprof svg [OPTIONS] [FILE.folded]\n"
    "\n"
    "Render folded stacks (\"frame;frame;frame COUNT\" lines) from FILE, or standard input,\n"
    "as an interactive SVG flame graph on standard output.\n"
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
    "  --hash             accepted for flamegraph.pl compatibility; colours always\n"
    "                     derive from the name\n"
    "  -h, --help         show this help\n"
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
       OPT_INVERTED, OPT_REVERSE, OPT_HASH };

/* The options of flameprof.pl that `svg` and `diff` share. Fills o and files[0..nfiles)
 * (NULL where not given) from the command line; returns -1 to go on, else an exit status. */
static int svg_args(const char *cmd, const char *help, int argc, char **argv, svg_options *o,
                    const char **files, int min_files, int nfiles)
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
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *minwidth = NULL;
    long width;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TITLE: o->title = optarg; break;
        case OPT_SUBTITLE: o->subtitle = optarg; break;
        case OPT_COUNTNAME: o->countname = optarg; break;
        case OPT_INVERTED: o->inverted = true; break;
        case OPT_REVERSE: o->reverse = true; break;
        case OPT_HASH: break;
        case OPT_MINWIDTH: minwidth = optarg; break;
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
            return 0;
        default:
            return cli_bad_option(cmd, argv, c);
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

static int cmd_svg(int argc, char **argv)
{
    svg_options o;
    svg_options_default(&o);
    const char *file = NULL;
    int rc = svg_args("svg", svg_help, argc, argv, &o, &file, 0, 1);
    if (rc >= 0)
        return rc;
    /* Static and never freed: the process ends right after rendering, and returning 50k
     * blocks to malloc one by one was 5% of the run. Reachable, so no leak report. */
    static folded_profile p;
    folded_init(&p);
    if (cli_read_folded(file, &p) != 0)
        return 1;
    if (svg_write(&p, &o, stdout) < 0) {
        fprintf(stderr, "flameprof: writing the SVG: %s\n", errno ? strerror(errno) : "error");
        return 1;
    }
    return 0;
}

/* ====================================================================================== */
/* diff                                                                                    */
/* ====================================================================================== */

static const char diff_help[] =
    "Usage: flameprof diff [OPTIONS] BEFORE.folded AFTER.folded\n"
    "\n"
    "Render a differential flame graph as SVG on standard output: laid out by AFTER's\n"
    "samples, each frame red where its share of the samples grew from BEFORE to AFTER and\n"
    "blue where it shrank, the deeper the larger the change; grey where it did not change.\n"
    "Hover a frame for both counts, both shares and the change (in percentage points).\n"
    "\n"
    "Paths that only BEFORE has are kept, not lost: each is drawn where it would sort, with\n"
    "BEFORE's samples scaled to AFTER's total. So a frame is as wide as its samples in\n"
    "AFTER plus those of the paths under it that disappeared.\n"
    "\n"
    "Either file may be '-' for standard input. OPTIONS are those of 'flameprof svg'\n"
    "(--title, --subtitle, --width, --minwidth, --countname, --inverted, --reverse); --colors\n"
    "is accepted and ignored. The default subtitle names both files and their totals.\n";

static int cmd_diff(int argc, char **argv)
{
    svg_options o;
    svg_options_default(&o);
    const char *files[2] = { NULL, NULL };
    int rc = svg_args("diff", diff_help, argc, argv, &o, files, 2, 2);
    if (rc >= 0)
        return rc;
    if (strcmp(files[0], "-") == 0 && strcmp(files[1], "-") == 0) {
        cli_usage_error("diff", "%s", "only one of the files can be standard input");
        return EXIT_USAGE;
    }
    folded_profile before, after;
    folded_init(&before);
    folded_init(&after);
    svg_diff d = { NULL, 0, 0, 0 };
    char subtitle[512];
    rc = 1;
    if (cli_read_folded(files[0], &before) != 0 || cli_read_folded(files[1], &after) != 0)
        goto done;
    if (diff_build(&before, &after, &d) < 0) {
        fprintf(stderr, "flameprof: diff: out of memory\n");
        goto done;
    }
    if (!o.subtitle) {
        snprintf(subtitle, sizeof(subtitle), "before: %s (%llu), after: %s (%llu); red grew, "
                 "blue shrank", files[0], (unsigned long long)before.total, files[1],
                 (unsigned long long)after.total);
        o.subtitle = subtitle;
    }
    if (svg_write_diff(&d, &o, stdout) < 0) {
        fprintf(stderr, "flameprof: writing the SVG: %s\n", errno ? strerror(errno) : "error");
        goto done;
    }
    rc = 0;
done:
    diff_free(&d);
    folded_free(&before);
    folded_free(&after);
    return rc;
}

/* ====================================================================================== */
/* dispatch                                                                                */
/* ====================================================================================== */

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
    { "report", cmd_report, "turn the raw spill of a killed process into its profile" },
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
