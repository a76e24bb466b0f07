/* cmd_record.c - `flameprof record`: run a command with the sampler preloaded.
 *
 * Every process of the command's tree writes its profile into a private directory when it
 * ends (FLAMEPROF_TREE); record is the tree's subreaper, waits for it, merges the
 * directory into one profile (record_tree.h) and mirrors the command's exit (status or
 * signal) as its own. */
#include "cmd_record.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "record_tree.h"
#include "record_check.h"
#include "record_relay.h"

#define EXIT_NOTFOUND 127 /* as shells report a command they cannot find */
#define EXIT_NOEXEC 126   /* ... and one they found but cannot run */

static const char record_help[] =
    "Usage: flameprof record [-F HZ] [-o PREFIX] [--format LIST] [--pids] [--per-process]\n"
    "                        [--mode cpu|wall] [--source timer|perf] [--] COMMAND [ARGS...]\n"
    "\n"
    "Run COMMAND with the flameprof sampler preloaded and write one profile of every process\n"
    "it starts, when it has ended: each program a root frame (sh, python3, chromium\n"
    "--type=renderer), and one summary of what was profiled and what was not.\n"
    "\n"
    "  -F, --freq HZ        sampling frequency per thread (sets FLAMEPROF_FREQ)\n"
    "  -o, --output PREFIX  output path prefix, %p the command's pid, %c its name\n"
    "                       (default flameprof.%c.%p)\n"
    "      --format LIST    files to write, comma-separated: svg, folded, pprof, speedscope\n"
    "                       (default svg,folded)\n"
    "      --pids           one root frame per process, \"NAME [pid N]\", not per program\n"
    "      --per-process    also each process's own profile, PREFIX.NAME.PID.*\n"
    "      --mode MODE      cpu (CPU time, the default) or wall (every thread, running or\n"
    "                       waiting, 97 Hz unless -F; sets FLAMEPROF_MODE)\n"
    "      --source SOURCE  cpu mode's clock: timer (default) or perf (perf_event task\n"
    "                       clock, beyond the scheduler tick; sets FLAMEPROF_SOURCE)\n"
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
    bool pids, per_process;
    int64_t start_ns, end_ns; /* when the command began and ended (Unix ns): pprof's */
    config env;               /* FLAMEPROF_* as the library would read them (warned once) */
    char lib[PATH_MAX], tree[PATH_MAX - 128];
    const char *mode, *source; /* --mode, --source: FLAMEPROF_MODE, FLAMEPROF_SOURCE */
} record_opts;

/* In the child: environment for the preload, then the command. Never returns. */
static void exec_child(const record_opts *r, char **cmd)
{
    record_relay_child();
    unsetenv("FLAMEPROF_ROOT"); /* the command is the root of its own tree */
    /* What only the merged profile uses is ours, read (and warned about) here once. */
    unsetenv("FLAMEPROF_FORMAT");
    unsetenv("FLAMEPROF_OUT");
    char freq[16];
    snprintf(freq, sizeof freq, "%u", r->env.freq);
    const char *f = r->freq ? r->freq : getenv("FLAMEPROF_FREQ") ? freq : NULL;
    if (set_preload(r->lib) < 0 || (f && setenv("FLAMEPROF_FREQ", f, 1) < 0) ||
        setenv("FLAMEPROF_TREE", r->tree, 1) < 0 ||
        (r->mode && setenv("FLAMEPROF_MODE", r->mode, 1) < 0) ||
        (r->source && setenv("FLAMEPROF_SOURCE", r->source, 1) < 0))
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

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum { TREE_WAIT_MS = 5000 }; /* for processes of the tree that outlive the command */

/* The tree's one profile, named like a bare run's: -o's PREFIX with %p the command's pid and
 * %c its name. */
/* Returns record_tree_merge's answer: the number of processes in the profile, or -1. */
static int merge_tree(const record_opts *r, pid_t pid, const char *command, int still_running)
{
    config cfg = r->env;
    cfg.tree[0] = 0;
    char why[160];
    if (r->freq)
        cfg.freq = (unsigned)atol(r->freq);
    if (r->format)
        config_parse_formats(r->format, &cfg.formats, why, sizeof why);
    if (r->mode)
        config_parse_mode(r->mode, &cfg.mode, why, sizeof why);
    if (!r->freq && !getenv("FLAMEPROF_FREQ"))
        cfg.freq = cfg.mode == CONFIG_MODE_WALL ? CONFIG_DEFAULT_WALL_FREQ : CONFIG_DEFAULT_FREQ;
    const char *slash = strrchr(command, '/');
    char name[64], prefix[PATH_MAX];
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : command);
    for (char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '+' || *c == '-'))
            *c = '_';
    if (!config_expand_out(r->out ? r->out : cfg.out, pid, name, prefix, sizeof prefix))
        config_expand_out(CONFIG_DEFAULT_OUT, pid, name, prefix, sizeof prefix);
    char title[96];
    snprintf(title, sizeof title, "flameprof record: %s%s", name,
             cfg.mode == CONFIG_MODE_WALL ? " wall-clock" : "");
    record_tree_opts o = { &cfg, prefix, title, r->pids, r->per_process, r->start_ns,
                           r->end_ns };
    return record_tree_merge(r->tree, &o, still_running);
}

/* --mode (c 'm') or --source ('s'): checked by the parser the library uses. */
static bool record_choice(int c, const char *arg, record_opts *r)
{
    char why[80];
    config_mode m;
    config_source so;
    bool ok = *arg && (c == 'm' ? config_parse_mode(arg, &m, why, sizeof why)
                                : config_parse_source(arg, &so, why, sizeof why));
    if (!ok) {
        cli_usage_error("record", c == 'm' ? "--mode wants cpu or wall, not '%s'"
                                           : "--source wants timer or perf, not '%s'", arg);
        return false;
    }
    *(c == 'm' ? &r->mode : &r->source) = arg;
    return true;
}

int cmd_record(int argc, char **argv)
{
    static const struct option longopts[] = { { "freq", required_argument, NULL, 'F' },
                                               { "output", required_argument, NULL, 'o' },
                                               { "format", required_argument, NULL, 'f' },
                                               { "mode", required_argument, NULL, 'm' },
                                               { "source", required_argument, NULL, 's' },
                                               { "help", no_argument, NULL, 'h' },
                                               { "pids", no_argument, NULL, 'P' },
                                               { "per-process", no_argument, NULL, 'E' },
                                               { NULL, 0, NULL, 0 } };
    record_opts r = { 0 };
    long hz;
    int c;
    /* '+': options end at the command, whose own options are its business. */
    while ((c = getopt_long(argc, argv, "+:F:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            /* the library's range (FLAMEPROF_FREQ): past it, it would sample at 997 Hz */
            if (!cli_parse_long(optarg, CONFIG_MIN_FREQ, CONFIG_MAX_FREQ, &hz)) {
                cli_usage_error("record", "-F wants a frequency in Hz (1..10000), not '%s'", optarg);
                return EXIT_USAGE;
            }
            r.freq = optarg;
            break;
        case 'm':
        case 's':
            if (!record_choice(c, optarg, &r))
                return EXIT_USAGE;
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
        case 'P':
            r.pids = true;
            break;
        case 'E':
            r.per_process = true;
            break;
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
    config_load(&r.env);
    if (record_tree_create(r.tree, sizeof r.tree) < 0)
        return 1;
    /* Processes of the tree whose parent ended before them come to us, so that we know
     * when the whole tree is done. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    /* The command decides what a ^C or a kill does to it; we report whatever it did. */
    record_relay_install();
    record_check check;
    record_check_before(&check, argv[optind]);
    fflush(NULL);
    r.start_ns = wall_ns();
    pid_t pid = fork();
    if (pid == 0)
        exec_child(&r, argv + optind);
    record_relay_started(pid);
    if (pid < 0) {
        fprintf(stderr, "flameprof: fork: %s\n", strerror(errno));
        check.said = true;
        record_check_after(&check, argv[optind], 0); /* removes the marker */
        return 1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "flameprof: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    record_relay_done();
    r.end_ns = wall_ns();
    int still_running = record_tree_reap(TREE_WAIT_MS);
    /* A command that could not be started has said so in one line already. */
    bool not_started = WIFEXITED(status) && (WEXITSTATUS(status) == EXIT_NOTFOUND ||
                                             WEXITSTATUS(status) == EXIT_NOEXEC);
    /* A process recovered from its raw spill is profiled: record_check has nothing to add. */
    if (!(not_started && record_tree_empty(r.tree)) &&
        merge_tree(&r, pid, argv[optind], still_running) > 0)
        check.said = true;
    record_tree_remove(r.tree);
    record_check_after(&check, argv[optind], status);
    return mirror_status(status);
}
