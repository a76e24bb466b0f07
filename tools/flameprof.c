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

#include "cmd_report.h"
#include "folded.h"
#include "svg.h"

#ifndef FLAMEPROF_VERSION
#define FLAMEPROF_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define EXIT_NOTFOUND 127 /* as shells report a command they cannot find */
#define EXIT_NOEXEC 126   /* ... and one they found but cannot run */
#define MAX_LINE_ERRORS 100

static void usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fputs("flameprof: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'flameprof %s%s--help' for more information.\n", cmd ? cmd : "",
            cmd ? " " : "");
}

/* getopt_long runs with opterr = 0 and a leading ':' in the option string, so that it
 * returns ':' for a missing value and '?' for an unknown option; we print one line. */
static int bad_option(const char *cmd, char **argv, int c)
{
    char shortopt[3] = { '-', (char)optopt, '\0' };
    /* optopt is the option character for short options, a long option's value (>= 256 for
     * ours) or 0 for an unknown long option: then the culprit is the argument itself. */
    const char *opt = optopt > 0 && optopt < 256 ? shortopt : argv[optind - 1];
    usage_error(cmd, c == ':' ? "option '%s' needs a value" : "unknown option '%s'", opt);
    return EXIT_USAGE;
}

/* Strict decimal: the whole string, no sign, no overflow. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || *s == '+' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* ====================================================================================== */
/* record                                                                                  */
/* ====================================================================================== */

static const char record_help[] =
    "Usage: flameprof record [-F HZ] [-o PREFIX] [--] COMMAND [ARGS...]\n"
    "\n"
    "Run COMMAND with the flameprof sampler preloaded; profiles are written when it exits.\n"
    "\n"
    "  -F, --freq HZ        sampling frequency per thread (sets FLAMEPROF_FREQ)\n"
    "  -o, --output PREFIX  output path prefix (sets FLAMEPROF_OUT)\n"
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
    const char *freq, *out;
    char lib[PATH_MAX];
} record_opts;

/* In the child: environment for the preload, then the command. Never returns. */
static void exec_child(const record_opts *r, char **cmd, const struct sigaction *old_int,
                       const struct sigaction *old_quit)
{
    sigaction(SIGINT, old_int, NULL);
    sigaction(SIGQUIT, old_quit, NULL);
    if (set_preload(r->lib) < 0 || (r->freq && setenv("FLAMEPROF_FREQ", r->freq, 1) < 0) ||
        (r->out && setenv("FLAMEPROF_OUT", r->out, 1) < 0))
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
                                               { "help", no_argument, NULL, 'h' },
                                               { NULL, 0, NULL, 0 } };
    record_opts r = { NULL, NULL, "" };
    long hz;
    int c;
    /* '+': options end at the command, whose own options are its business. */
    while ((c = getopt_long(argc, argv, "+:F:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (!parse_long(optarg, 1, 1000000, &hz)) {
                usage_error("record", "-F wants a frequency in Hz (1..1000000), not '%s'", optarg);
                return EXIT_USAGE;
            }
            r.freq = optarg;
            break;
        case 'o':
            if (!*optarg) {
                usage_error("record", "%s", "-o wants a non-empty prefix");
                return EXIT_USAGE;
            }
            r.out = optarg;
            break;
        case 'h':
            fputs(record_help, stdout);
            return 0;
        default:
            return bad_option("record", argv, c);
        }
    }
    if (optind >= argc) {
        usage_error("record", "%s", "no command to run");
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

typedef struct line_errors {
    const char *name;
    long seen;
} line_errors;

static void report_line(void *ctx, size_t line_no, const char *why)
{
    line_errors *e = ctx;
    /* A file of garbage should not bury the terminal; the total comes at the end. */
    if (++e->seen <= MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s:%zu: %s\n", e->name, line_no, why);
}

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

/* The parsed profile takes about as much memory as the file, in one malloc per stack. On
 * the VMs we measured, a first touch of a fresh 4 KB page costs ~10 us: 40% of rendering a
 * 23 MB profile was page faults. So, for big files, grow the heap once by the file's size
 * and ask for transparent huge pages there (honoured in THP "madvise" mode): 5600 faults
 * become ~400. Best effort: if anything here does not work, it is just slower. */
static void heap_for(FILE *in)
{
    struct stat st;
    if (fstat(fileno(in), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (8 << 20) ||
        st.st_size > (1L << 30))
        return;
    size_t want = (size_t)st.st_size + (size_t)st.st_size / 4; /* + headers and arrays */
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* keep the big arrays in that heap too */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);  /* and do not hand it back when they move */
    mallopt(M_TOP_PAD, (int)want);       /* the next growth takes it all at once */
    static void *volatile probe; /* volatile: the compiler may not drop malloc + free */
    char *before = sbrk(0);
    probe = malloc(1 << 20); /* more than the fresh heap holds: that growth, now */
    char *after = sbrk(0);
    free(probe);
    uintptr_t huge = 2u << 20, lo = ((uintptr_t)before + huge - 1) & ~(huge - 1);
    if (before != (char *)-1 && after != (char *)-1 && (uintptr_t)after > lo + huge)
        madvise((void *)lo, (uintptr_t)after - lo, MADV_HUGEPAGE);
}

enum { OPT_TITLE = 256, OPT_SUBTITLE, OPT_WIDTH, OPT_MINWIDTH, OPT_COUNTNAME, OPT_COLORS,
       OPT_INVERTED, OPT_REVERSE, OPT_HASH };

/* Fills o and *file from the command line; returns -1 to go on, else an exit status. */
static int svg_args(int argc, char **argv, svg_options *o, const char **file)
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
            if (!parse_long(optarg, 100, 100000, &width)) {
                usage_error("svg", "--width wants a number of pixels (100..100000), not '%s'", optarg);
                return EXIT_USAGE;
            }
            o->width = (int)width;
            break;
        case OPT_COLORS:
            if (strcmp(optarg, "hot") && strcmp(optarg, "java") && strcmp(optarg, "js")) {
                usage_error("svg", "--colors wants hot, java or js, not '%s'", optarg);
                return EXIT_USAGE;
            }
            o->colors = optarg;
            break;
        case 'h':
            fputs(svg_help, stdout);
            return 0;
        default:
            return bad_option("svg", argv, c);
        }
    }
    if (minwidth && !parse_minwidth(minwidth, o->width, &o->minwidth)) {
        usage_error("svg", "--minwidth wants pixels or a percentage, not '%s'", minwidth);
        return EXIT_USAGE;
    }
    if (argc - optind > 1) {
        usage_error("svg", "one input file at most, got also '%s'", argv[optind + 1]);
        return EXIT_USAGE;
    }
    *file = optind < argc ? argv[optind] : NULL;
    return -1;
}

static int cmd_svg(int argc, char **argv)
{
    svg_options o;
    svg_options_default(&o);
    const char *file = NULL;
    int rc = svg_args(argc, argv, &o, &file);
    if (rc >= 0)
        return rc;
    bool use_stdin = !file || strcmp(file, "-") == 0;
    FILE *in = use_stdin ? stdin : fopen(file, "r");
    if (!in) {
        fprintf(stderr, "flameprof: %s: %s\n", file, strerror(errno));
        return 1;
    }
    line_errors errs = { use_stdin ? "<stdin>" : file, 0 };
    /* Static and never freed: the process ends right after rendering, and returning 50k
     * blocks to malloc one by one was 5% of the run. Reachable, so no leak report. */
    static folded_profile p;
    folded_init(&p);
    heap_for(in);
    long bad = folded_parse(in, &p, report_line, &errs);
    if (!use_stdin)
        fclose(in);
    if (bad < 0) {
        fprintf(stderr, "flameprof: %s: %s\n", errs.name, errno ? strerror(errno) : "read error");
        return 1;
    }
    if (bad > MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s: %ld malformed lines skipped in all\n", errs.name, bad);
    if (svg_write(&p, &o, stdout) < 0) {
        fprintf(stderr, "flameprof: writing the SVG: %s\n", errno ? strerror(errno) : "error");
        return 1;
    }
    return 0;
}

/* ====================================================================================== */
/* dispatch                                                                                */
/* ====================================================================================== */

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

/* Planned next to these: diff (two profiles), convert (pprof, speedscope). Each is one
 * more row and one cmd_ function. */
static const command commands[] = {
    { "record", cmd_record, "run a command with the profiler and write its profile" },
    { "svg", cmd_svg, "render folded stacks as an interactive SVG flame graph" },
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
        usage_error(NULL, name[0] == '-' ? "unknown option '%s'" : "unknown command '%s'", name);
        return EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
