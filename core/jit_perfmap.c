/* jit_perfmap.c - the perf-map follower (see jit_perfmap.h). All of it runs on the
 * aggregator thread or at exit: the signal handler asks nothing of it. */
#include "jit_perfmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jit_execmem.h"
#include "jit_trampolines.h"
#include "jitmap.h"

enum { READ_CHUNK = 4 << 20, POLLS = 256 /* 2.5 s of ticks */ };

static atomic_int g_fd = -1;
static dev_t g_dev; /* the perf map we opened: to recognise our descriptor */
static ino_t g_ino;
static jitmap *g_pm;
static uint64_t g_consumed;
static jitmap_stats g_st;
static const char *g_problem;
static bool g_seen;
static bool g_foreign; /* reading a dead process's map (flameprof report) */
static char *g_buf;
static bool g_refreshed_this_poll;

/* The map's size as the follower saw it, and when (CLOCK_MONOTONIC, read just before the
 * fstat): the last POLLS of them, oldest first from g_poll_first. A sample taken at time t
 * is named by the map as it was at the first of these at or after t (jit_perfmap_gen). */
static struct perfmap_poll {
    uint64_t t_ns, size;
} g_polls[POLLS];
static size_t g_poll_first, g_polls_len;

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note_poll(uint64_t t_ns, uint64_t size)
{
    if (g_polls_len == POLLS) {
        g_poll_first = (g_poll_first + 1) % POLLS;
        g_polls_len--;
    }
    g_polls[(g_poll_first + g_polls_len++) % POLLS] = (struct perfmap_poll){ t_ns, size };
}

/* jitmap callback: code only in executable memory (a fresh snapshot once per poll if the
 * entry is in memory we have not seen yet); notes CPython trampolines on the way. */
static bool accept_entry(void *ctx, uint64_t start, uint64_t end, const char *name, size_t len)
{
    (void)ctx;
    if (g_foreign)
        return true; /* another (dead) process's map: its memory cannot be checked */
    if (!jit_execmem_contains(start, end)) {
        if (g_refreshed_this_poll)
            return false;
        jit_execmem_refresh();
        g_refreshed_this_poll = true;
        if (!jit_execmem_contains(start, end))
            return false;
    }
    if (len > 4 && memcmp(name, "py::", 4) == 0)
        jit_trampolines_add(start, end);
    return true;
}

void jit_perfmap_path(long pid, char *buf, size_t cap)
{
    snprintf(buf, cap, "/tmp/perf-%ld.map", pid);
}

/* When this process started, in seconds since the epoch (boot time + /proc/self/stat's
 * starttime), or 0 if unknown. */
static long long process_start_s(void)
{
    static long long start = -1;
    if (start >= 0)
        return start;
    start = 0;
    char buf[1024];
    long long btime = 0;
    FILE *f = fopen("/proc/stat", "re");
    while (f && fgets(buf, sizeof buf, f))
        if (sscanf(buf, "btime %lld", &btime) == 1)
            break;
    if (f)
        fclose(f);
    f = fopen("/proc/self/stat", "re");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    unsigned long long ticks;
    long hz = sysconf(_SC_CLK_TCK);
    /* After ')': state is field 3; starttime is field 22. */
    if (btime > 0 && p && hz > 0 &&
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                      "%*d %*d %llu", &ticks) == 1)
        start = btime + (long long)(ticks / (unsigned long long)hz);
    return start;
}

/* The perf map is trusted only if it is a regular file of ours (or root's), opened
 * without following a symlink, as perf itself insists. A map last written before this
 * process began is a dead process's that had the same pid (maps left in /tmp): not ours,
 * passed over without a word until something writes it again. */
static void try_open(long pid)
{
    char path[64];
    jit_perfmap_path(pid, path, sizeof path);
    /* Looked at first, opened only once it is there: this runs every tick, and even an
     * open that fails holds the lowest free descriptor number while the kernel looks the
     * path up, so a program thread that closed 0 and opens its own file at that moment gets
     * 1 (a fork child that reopens its stdin 300,000 times a second: 11-38 got 1). */
    struct stat pre;
    if (lstat(path, &pre) != 0)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP && !g_problem) {
            g_problem = "it is a symlink";
            fprintf(stderr, "flameprof: ignoring %s: %s\n", path, g_problem);
        }
        return;
    }
    struct stat st;
    const char *problem = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        problem = "not a regular file";
    else if (st.st_uid != getuid() && st.st_uid != 0)
        problem = "owned by another user";
    if (!problem && !g_foreign && process_start_s() > 0 &&
        (long long)st.st_mtime < process_start_s() - 1) {
        close(fd);
        return;
    }
    if (problem) {
        close(fd);
        if (!g_problem)
            fprintf(stderr, "flameprof: ignoring %s: %s\n", path, problem);
        g_problem = problem;
        return;
    }
    if (!g_pm && !(g_pm = jitmap_new())) {
        close(fd);
        return;
    }
    g_seen = true;
    g_consumed = 0;
    g_dev = st.st_dev;
    g_ino = st.st_ino;
    atomic_store(&g_fd, fd);
}

/* Parse what the map gained up to size; a last line still being written waits for the
 * next look. */
static void parse_up_to(int fd, uint64_t size)
{
    if (!g_buf && size > g_consumed && !(g_buf = malloc(READ_CHUNK)))
        return;
    while (g_consumed < size) {
        size_t want = size - g_consumed < READ_CHUNK ? (size_t)(size - g_consumed) : READ_CHUNK;
        ssize_t n = pread(fd, g_buf, want, (off_t)g_consumed);
        if (n <= 0)
            return;
        size_t used = jitmap_parse_perfmap(g_pm, g_buf, (size_t)n, g_consumed, accept_entry,
                                           NULL, &g_st);
        if (used == 0) {
            if ((size_t)n < READ_CHUNK)
                return; /* a line still being written */
            g_st.malformed++; /* a line longer than a chunk: skip it */
            used = (size_t)n;
        }
        g_consumed += used;
    }
}

static void read_new_lines(int fd)
{
    struct stat st;
    uint64_t t_ns = monotonic_ns(); /* before the fstat: the map had at least this by then */
    if (fstat(fd, &st) != 0)
        return;
    if (st.st_dev != g_dev || st.st_ino != g_ino) {
        /* The program closed our descriptor (a daemon closing everything) and the number
         * may now be its own file: never read it, never close it. */
        atomic_store(&g_fd, -1);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < g_consumed)
        g_consumed = 0; /* truncated: V8 truncates the map when an isolate starts */
    parse_up_to(fd, size);
    /* Every whole line written by t_ns is parsed now (one still being written then is not,
     * and neither runs its code yet): gen_at(g_consumed) sees all of them. */
    if (!g_foreign)
        note_poll(t_ns, g_consumed);
}

void jit_poll(void)
{
    int fd = atomic_load(&g_fd);
    if (fd < 0) {
        try_open((long)getpid());
        fd = atomic_load(&g_fd);
        if (fd < 0)
            return;
    }
    g_refreshed_this_poll = false;
    read_new_lines(fd);
    jit_trampolines_publish();
}

void jit_load_perfmap_of(long pid)
{
    g_foreign = true;
    try_open(pid);
    int fd = atomic_load(&g_fd);
    if (fd >= 0)
        read_new_lines(fd);
}

/* The first poll at or after t, or NULL if there is none yet. */
static const struct perfmap_poll *poll_after(uint64_t t_ns)
{
    size_t lo = 0, hi = g_polls_len; /* polls are in time order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g_polls[(g_poll_first + mid) % POLLS].t_ns < t_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g_polls_len ? &g_polls[(g_poll_first + lo) % POLLS] : NULL;
}

uint32_t jit_perfmap_gen(uint64_t t_ns)
{
    if (!g_pm)
        return 0;
    static uint64_t looked_again_ns; /* once for all samples taken before that look */
    const struct perfmap_poll *p = poll_after(t_ns);
    if (!p && t_ns > looked_again_ns) {
        /* Taken after the last look (between the tick's poll and its drain): look again. */
        looked_again_ns = monotonic_ns();
        jit_poll();
        p = poll_after(t_ns);
    }
    return p ? jitmap_gen_at(g_pm, p->size) : jitmap_current_gen(g_pm);
}

bool jit_perfmap_name(uint64_t pc, uint32_t gen, char *buf, size_t cap)
{
    return g_pm && jitmap_lookup_copy(g_pm, pc, gen, buf, cap);
}

bool jit_perfmap_is_foreign(void)
{
    return g_foreign;
}

int jit_perfmap_fd(void)
{
    return g_foreign ? -1 : atomic_load(&g_fd);
}

void jit_get_stats(jit_stats *o)
{
    o->entries = g_st.entries;
    o->malformed = g_st.malformed;
    o->outside = g_st.outside;
    o->perfmap_seen = g_seen;
    o->perfmap_problem = g_problem;
}

void jit_after_fork_child(void)
{
    int fd = atomic_exchange(&g_fd, -1);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino)
        close(fd);
    /* The parent's map and tables stay allocated (copy-on-write, possibly mid-update in the
     * parent's aggregator): start afresh rather than walk them. */
    g_pm = NULL;
    g_consumed = 0;
    g_poll_first = g_polls_len = 0;
    g_seen = false;
    g_problem = NULL;
    memset(&g_st, 0, sizeof g_st);
}
