/* ticker.c - wall-clock ticker thread (see ticker.h). */
#include "ticker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "array.h"

/* The signal's value: bits 48-63 say it is ours, 32-47 the weight of a thread's first sample
 * (ticks since it was found), 0-31 the tick it was sent at. The handler weighs a sample by
 * the ticks from that thread's last delivered one to now: signals sent while one was still
 * pending merge (SIGPROF is not queued twice; the first one's value stays), and their ticks
 * are not lost. */
#define TICKER_TAG 0xf1a3ULL

/* The ticker's current tick, for the handler: a signal delivered late (the thread waited
 * for a CPU, another signal merged into it) stands for every tick up to its delivery. */
static _Atomic uint32_t g_tick_now;

/* The handler's side: the tick of this thread's last sample (0: none yet). */
static __thread uint32_t tls_last_tick __attribute__((tls_model("initial-exec")));

typedef struct tick_thread {
    pid_t tid;
    uint64_t last;  /* tick of its last sample (or of its discovery) */
    bool skip;      /* blocks the signal, or is ours */
    bool seen;      /* in the latest scan */
} tick_thread;

static pthread_t g_thread;
static bool g_running;
static atomic_bool g_stop;
static long g_period;
static int g_signo;
static _Atomic uint64_t n_sent, n_failed, n_skipped;

static tick_thread *threads;
static size_t threads_len, threads_cap, cursor;

/* Does the thread block signo now? (SigBlk: a hex mask, bit signo-1.) */
static bool blocks_signal(pid_t tid, int signo)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; /* gone */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = 0;
    const char *p = strstr(buf, "\nSigBlk:");
    if (!p)
        return false;
    unsigned long long mask = strtoull(p + 8, NULL, 16);
    return (mask >> (signo - 1)) & 1;
}

static tick_thread *find(pid_t tid)
{
    for (size_t i = 0; i < threads_len; i++)
        if (threads[i].tid == tid)
            return &threads[i];
    return NULL;
}

static void rescan(uint64_t tick, pid_t self)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    for (size_t i = 0; i < threads_len; i++)
        threads[i].seen = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0)
            continue;
        tick_thread *t = find(tid);
        if (!t) {
            if (!UTIL_RESERVE(threads, threads_cap, threads_len + 1))
                break;
            bool skip = tid == self || blocks_signal(tid, g_signo);
            if (skip && tid != self)
                atomic_fetch_add(&n_skipped, 1);
            threads[threads_len++] = (tick_thread){ tid, tick > 0 ? tick - 1 : 0, skip, 0 };
            t = &threads[threads_len - 1];
        }
        t->seen = true;
    }
    closedir(d);
    size_t w = 0; /* drop the threads that ended */
    for (size_t i = 0; i < threads_len; i++)
        if (threads[i].seen)
            threads[w++] = threads[i];
    threads_len = w;
    if (cursor >= threads_len)
        cursor = 0;
}

static void send_one(tick_thread *t, uint64_t tick, pid_t pid)
{
    uint64_t w = tick - t->last;
    if (w > 0xffffu)
        w = 0xffffu;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = g_signo;
    si.si_code = SI_QUEUE;
    si.si_pid = pid;
    si.si_uid = getuid();
    si.si_value.sival_ptr = (void *)(uintptr_t)((TICKER_TAG << 48) | (w << 32) |
                                                (uint32_t)tick);
    if (syscall(SYS_rt_tgsigqueueinfo, pid, t->tid, g_signo, &si) == 0) {
        t->last = tick;
        atomic_fetch_add_explicit(&n_sent, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&n_failed, 1, memory_order_relaxed);
    }
}

static void tick_once(uint64_t tick, pid_t pid)
{
    size_t sent = 0;
    for (size_t scanned = 0; scanned < threads_len && sent < TICKER_MAX_PER_TICK; scanned++) {
        tick_thread *t = &threads[cursor];
        cursor = (cursor + 1) % threads_len;
        if (!t->skip) {
            send_one(t, tick, pid);
            sent++;
        }
    }
}

/* The ticker opens /proc files at every rescan, which would take the lowest free
 * descriptor number in the program's table: a program that just closed 0 to open its own
 * file there (a daemon, a shell's redirection) would get another number. So the ticker
 * works in a descriptor table of its own, empty (CLOSE_RANGE_UNSHARE copies none of the
 * program's descriptors, so none is kept open behind it); it needs no descriptor the other
 * threads use. Where close_range is missing (Linux < 5.9), the shared table as before. */
static void private_descriptors(void)
{
    if (syscall(SYS_close_range, 0U, ~0U, CLOSE_RANGE_UNSHARE) != 0)
        errno = 0; /* nothing else to do: the window is a few microseconds a rescan */
}

static void *ticker_main(void *unused)
{
    (void)unused;
    private_descriptors();
    pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint64_t tick = 1; !atomic_load(&g_stop); tick++) {
        next.tv_nsec += g_period;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
        atomic_store_explicit(&g_tick_now, (uint32_t)tick, memory_order_relaxed);
        if (tick % TICKER_RESCAN_TICKS == 1)
            rescan(tick, self);
        if (threads_len)
            tick_once(tick, pid);
    }
    return NULL;
}

int ticker_start(long period_ns, int signo, ticker_thread_fn create)
{
    if (g_running)
        return 0;
    g_period = period_ns;
    g_signo = signo;
    atomic_store(&g_stop, false);
    threads_len = cursor = 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited: the ticker takes no signal */
    int rc = create(&g_thread, NULL, ticker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    g_running = rc == 0;
    return rc == 0 ? 0 : -1;
}

void ticker_stop(void)
{
    if (!g_running)
        return;
    atomic_store(&g_stop, true);
    pthread_join(g_thread, NULL);
    g_running = false;
}

void ticker_after_fork_child(void)
{
    g_running = false;
    threads_len = cursor = 0;
    atomic_store(&g_tick_now, 0);
    atomic_store(&n_sent, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&n_skipped, 0);
}

uint32_t ticker_decode(const siginfo_t *si, pid_t pid)
{
    if (si->si_code != SI_QUEUE || si->si_pid != pid)
        return 0;
    uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
    if ((v >> 48) != TICKER_TAG)
        return 0;
    uint32_t tick = (uint32_t)v, first = (uint32_t)(v >> 32) & 0xffffu;
    uint32_t now = atomic_load_explicit(&g_tick_now, memory_order_relaxed);
    if (now > tick)
        tick = now;
    /* A tick not after the last: a new ticker (after a fork), or a thread id reused. */
    uint32_t w = tls_last_tick && tick > tls_last_tick ? tick - tls_last_tick : first;
    return w ? w : 1;
}

void ticker_took(const siginfo_t *si)
{
    uint32_t tick = (uint32_t)(uintptr_t)si->si_value.sival_ptr;
    uint32_t now = atomic_load_explicit(&g_tick_now, memory_order_relaxed);
    tls_last_tick = now > tick ? now : tick;
}

void ticker_counts(uint64_t *sent, uint64_t *failed, uint64_t *skipped)
{
    *sent = atomic_load(&n_sent);
    *failed = atomic_load(&n_failed);
    *skipped = atomic_load(&n_skipped);
}
