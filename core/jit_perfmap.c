/* jit_perfmap.c - the perf-map follower (see jit_perfmap.h). All of it runs on the
 * aggregator thread or at exit, except jit_perfmap_stamp, which only loads an atomic and
 * calls fstat. */
#include "jit_perfmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit_execmem.h"
#include "jit_trampolines.h"
#include "jitmap.h"

enum { READ_CHUNK = 4 << 20 };

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

static void read_new_lines(int fd)
{
    struct stat st;
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

uint64_t jit_perfmap_stamp(void)
{
    int fd = atomic_load_explicit(&g_fd, memory_order_relaxed);
    struct stat st; /* fstat is async-signal-safe; the caller preserves errno */
    if (fd < 0 || fstat(fd, &st) != 0)
        return 0;
    return (uint64_t)st.st_size;
}

uint32_t jit_perfmap_gen(uint64_t stamp)
{
    return g_pm ? jitmap_gen_at(g_pm, stamp) : 0;
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
    g_seen = false;
    g_problem = NULL;
    memset(&g_st, 0, sizeof g_st);
}
