/* cmd_dump.c - `flameprof dump PID`: ask a process running with the library for its profile
 * so far (or for the next SECONDS), without stopping it. The host answers on its control
 * socket with its raw spill (preload/control.h); this command symbolizes it, as `flameprof
 * report` does, so the host never pays for symbols. */
#include "cmd_dump.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "control.h"
#include "jit_perfmap.h"
#include "rawfile.h"
#include "report.h"
#include "report_stacks.h"
#include "stacks.h"

enum { ANSWER_TIMEOUT_S = 5, MAX_SECONDS = 24 * 3600 };

static const char dump_help[] =
    "Usage: flameprof dump [-d SECONDS] [-o PREFIX] [--format LIST] [-q] PID\n"
    "\n"
    "Ask process PID, running with libflameprof, for its profile so far, or with -d for\n"
    "the next SECONDS only, without stopping it. Only the process's own user (or root)\n"
    "may ask. The process hands over its raw samples; they are symbolized here.\n"
    "\n"
    "  -d, --duration SECONDS  profile only the next SECONDS (1..86400)\n"
    "  -o, --output PREFIX     output prefix (default flameprof-dump.PID); %p is the pid\n"
    "  -f, --format LIST       formats, as FLAMEPROF_FORMAT: folded,svg,pprof,speedscope\n"
    "                          (default folded,svg)\n"
    "  -q                      no summary line\n"
    "  -h, --help              show this help\n"
    CLI_FILTER_HELP;

typedef struct dump_opts {
    config cfg;
    long pid, seconds;
} dump_opts;

static int dump_args(int argc, char **argv, dump_opts *d)
{
    static const struct option longopts[] = {
        { "duration", required_argument, NULL, 'd' },
        { "output", required_argument, NULL, 'o' },
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        CLI_FILTER_LONGOPTS,
        { NULL, 0, NULL, 0 }
    };
    char why[256];
    int c, rc;
    snprintf(d->cfg.out, sizeof d->cfg.out, "flameprof-dump.%%p");
    while ((c = getopt_long(argc, argv, ":d:o:f:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (!cli_parse_long(optarg, 1, MAX_SECONDS, &d->seconds)) {
                cli_usage_error("dump", "-d wants seconds (1..86400), not '%s'", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'o':
            if (!config_parse_out(optarg, d->cfg.out, sizeof d->cfg.out, why, sizeof why)) {
                cli_usage_error("dump", "-o: %s", why);
                return EXIT_USAGE;
            }
            break;
        case 'f':
            if (!config_parse_formats(optarg, &d->cfg.formats, why, sizeof why)) {
                cli_usage_error("dump", "--format: %s", why);
                return EXIT_USAGE;
            }
            break;
        case 'q': d->cfg.quiet = true; break;
        case 'h':
            fputs(dump_help, stdout);
            return 0;
        default:
            if ((rc = cli_filter_option("dump", c, optarg)) < 0)
                return cli_bad_option("dump", argv, c);
            if (rc > 0)
                return rc;
        }
    }
    if (argc - optind != 1 || !cli_parse_long(argv[optind], 1, INT_MAX, &d->pid)) {
        cli_usage_error("dump", "wants one process id, got '%s'",
                        optind < argc ? argv[optind] : "nothing");
        return EXIT_USAGE;
    }
    return -1;
}

/* Connect to pid's control socket; -1 after one line if there is none. */
static int connect_to(long pid)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t n = control_name((pid_t)pid, a.sun_path, sizeof a.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = { ANSWER_TIMEOUT_S, 0 };
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        fprintf(stderr, "flameprof: dump: socket: %s\n", strerror(errno));
    } else if (connect(fd, (struct sockaddr *)&a,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) == 0) {
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid == pid)
            return fd;
        fprintf(stderr, "flameprof: dump: the control socket of pid %ld is held by another "
                        "process (pid %ld); not trusting it\n", pid, (long)cred.pid);
    } else if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        fprintf(stderr, "flameprof: dump: no process %ld\n", pid);
    } else {
        fprintf(stderr, "flameprof: dump: process %ld is not running with libflameprof "
                        "(it has no flameprof control socket)\n", pid);
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The answer's line and descriptor; returns the descriptor (and its size), or -1 after
 * one line. */
static int receive(int sock, long pid, uint64_t *size)
{
    char line[128] = "";
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = { line, sizeof line - 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    int fd = -1;
    struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
    unsigned long long sz;
    char word[16] = "";
    if (n > 0)
        sscanf(line, CONTROL_PROTO " %15s %llx", word, &sz);
    if (fd >= 0 && strcmp(word, "ok") == 0) {
        *size = sz;
        return fd;
    }
    if (fd >= 0)
        close(fd);
    if (n < 0)
        fprintf(stderr, "flameprof: dump: process %ld did not answer (%s)\n", pid,
                errno == EAGAIN ? "timed out" : strerror(errno));
    else if (strcmp(word, "denied") == 0)
        fprintf(stderr, "flameprof: dump: process %ld belongs to another user: only its "
                        "user or root may dump it\n", pid);
    else if (strcmp(word, "none") == 0)
        fprintf(stderr, "flameprof: dump: process %ld has no raw spill to give (it could "
                        "not create one)\n", pid);
    else
        fprintf(stderr, "flameprof: dump: process %ld gave an answer this flameprof does "
                        "not understand (another version?)\n", pid);
    return -1;
}

/* The first size bytes of fd, read into t; 0, or 1 after one line. */
static int read_spill(int fd, uint64_t size, stack_table *t, long pid, unsigned *freq)
{
    char *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    FILE *in = buf ? fmemopen(buf, got, "r") : NULL;
    long raw_pid = 0, bad = -1;
    bool clean;
    char name[64];
    snprintf(name, sizeof name, "raw spill of pid %ld", pid);
    cli_line_errors errs = { name, 0 };
    if (in) {
        bad = rawfile_read(in, t, &raw_pid, freq, &clean, cli_line_error, &errs);
        fclose(in);
    }
    free(buf);
    if (bad < 0 || raw_pid != pid) {
        fprintf(stderr, "flameprof: dump: process %ld sent no readable raw spill\n", pid);
        return 1;
    }
    cli_line_errors_end(&errs, bad);
    return 0;
}

/* One snapshot of pid's samples into t. */
static int snapshot(long pid, stack_table *t, unsigned *freq)
{
    int sock = connect_to(pid);
    if (sock < 0)
        return 1;
    uint64_t size = 0;
    int fd = receive(sock, pid, &size);
    close(sock);
    if (fd < 0)
        return 1;
    int rc = read_spill(fd, size, t, pid, freq);
    close(fd);
    return rc;
}

static void add_samples(stack_entry *e, void *ctx)
{
    *(uint64_t *)ctx += e->samples;
}

/* Sleep until `seconds` after start (CLOCK_MONOTONIC). */
static void sleep_until(const struct timespec *start, long seconds)
{
    struct timespec until = *start;
    until.tv_sec += seconds;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
        ;
}

int cmd_dump(int argc, char **argv)
{
    dump_opts d = { .cfg = { .freq = CONFIG_DEFAULT_FREQ } };
    int rc = dump_args(argc, argv, &d);
    if (rc >= 0)
        return rc;
    stack_table before, now;
    stacks_init(&before);
    stacks_init(&now);
    before.by_thread = now.by_thread = true; /* as the host kept them (FLAMEPROF_THREADS) */
    folded_profile base;
    folded_init(&base);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    rc = snapshot(d.pid, d.seconds ? &before : &now, &d.cfg.freq);
    if (rc == 0 && d.seconds) {
        sleep_until(&start, d.seconds);
        rc = snapshot(d.pid, &now, &d.cfg.freq);
    }
    if (rc == 0) {
        jit_load_perfmap_of(d.pid);
        uint64_t samples = 0, samples_before = 0;
        stacks_foreach(&now, add_samples, &samples);
        stacks_foreach(&before, add_samples, &samples_before);
        char source[96], title[96];
        snprintf(source, sizeof source, "dump of running pid %ld", d.pid);
        if (d.seconds)
            snprintf(title, sizeof title, "CPU Flame Graph (flameprof dump -d %ld, pid %ld)",
                     d.seconds, d.pid);
        else
            snprintf(title, sizeof title, "CPU Flame Graph (flameprof dump, pid %ld)", d.pid);
        sampler_stats st = { .signals = samples - samples_before, .source = source, .outside = true };
        report_input ri = { .cfg = &d.cfg, .stacks = &now, .stats = &st, .durable = true,
                            .filter = cli_filter(), .title = title, .pid = d.pid };
        if (d.seconds) {
            report_input rb = ri;
            rb.stacks = &before;
            report_build(&rb, &base);
            ri.base = &base;
        }
        rc = report_write(&ri) ? 0 : 1;
    }
    folded_free(&base);
    stacks_free(&before);
    stacks_free(&now);
    return rc;
}
