/* ticker.c - wall-clock timers per thread, kept by the ticker thread (see ticker.h). */
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
#include "start_latch.h"
#include "thread_signal.h"

/* sigev_value of our timers: bits 48-63 say it is ours. The program's own timers carry its
 * own pointers or small integers, never this. */
#define TICKER_TAG 0xf1a3ULL

typedef struct tick_thread {
    pid_t tid;
    timer_t timer;
    bool armed;  /* timer created (and set) */
    bool failed; /* its timer could not be created: not tried again */
    bool seen;   /* in the latest scan */
    bool skip;   /* not armed after the latest scan: blocks the signal, is ours, or failed */
} tick_thread;

static pthread_t g_thread;
static bool g_running;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake;
static bool g_stop; /* under g_lock */
static long g_period;
static int g_signo;
static pid_t g_self; /* the ticker thread's tid */
static _Atomic uint32_t g_stretch = 1; /* k: each timer's period in periods (ticker.h) */
static _Atomic uint64_t n_armed, n_failed, n_skipped;

/* The thread list, under g_list_lock: the ticker thread's scans, new threads arming
 * themselves (ticker_add_self), ticker_stop. */
static pthread_mutex_t g_list_lock = PTHREAD_MUTEX_INITIALIZER;
static tick_thread *threads;
static size_t threads_len, threads_cap;
static uint32_t phase_seq; /* spreads the timers' first expiries over a period */

static tick_thread *find(pid_t tid)
{
    for (size_t i = 0; i < threads_len; i++)
        if (threads[i].tid == tid)
            return &threads[i];
    return NULL;
}

static struct timespec ts_of(uint64_t ns)
{
    return (struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
}

/* (Re)set t's timer to k periods, its first expiry at one of 16 phases of that interval:
 * timers armed together do not all fire at once. */
static void set_timer(tick_thread *t, uint32_t k)
{
    uint64_t interval = (uint64_t)g_period * k;
    uint64_t first = interval * (1 + phase_seq++ % TICKER_MAX_PER_TICK) / TICKER_MAX_PER_TICK;
    struct itimerspec its = { ts_of(interval), ts_of(first) };
    timer_settime(t->timer, 0, &its, NULL);
}

static void arm(tick_thread *t, uint32_t k)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = g_signo;
    sev.sigev_value.sival_ptr = (void *)(uintptr_t)(TICKER_TAG << 48);
    sev._sigev_un._tid = t->tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) != 0) {
        atomic_fetch_add(&n_failed, 1);
        t->failed = true; /* gone, or out of timers */
        return;
    }
    t->armed = true;
    atomic_fetch_add(&n_armed, 1);
    set_timer(t, k);
}

/* Read /proc/self/task: new threads armed, gone ones' timers deleted, the stretch kept at
 * ceil(threads to arm / TICKER_MAX_PER_TICK). A thread that blocks the signal is asked again
 * at every scan: pthread_create starts each thread with every signal blocked until its start
 * routine runs, and a scan in that window must not pass it over for good. */
static void rescan_locked(void);

static void rescan(void)
{
    pthread_mutex_lock(&g_list_lock);
    rescan_locked();
    pthread_mutex_unlock(&g_list_lock);
}

static void rescan_locked(void)
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
            t = &threads[threads_len++];
            *t = (tick_thread){ .tid = tid };
        }
        t->seen = true;
    }
    closedir(d);
    size_t w = 0, live = 0, blocking = 0; /* drop the threads that ended */
    for (size_t i = 0; i < threads_len; i++) {
        tick_thread *t = &threads[i];
        if (!t->seen) {
            if (t->armed)
                timer_delete(t->timer);
            continue;
        }
        t->skip = !t->armed && (t->failed || t->tid == g_self || util_thread_blocks_signal(t->tid, g_signo));
        blocking += t->skip && !t->failed && t->tid != g_self;
        live += !t->skip;
        threads[w++] = *t;
    }
    atomic_store(&n_skipped, blocking);
    threads_len = w;
    uint32_t k = (uint32_t)((live + TICKER_MAX_PER_TICK - 1) / TICKER_MAX_PER_TICK);
    k = k ? k : 1;
    bool restretch = k != atomic_load(&g_stretch);
    atomic_store(&g_stretch, k);
    for (size_t i = 0; i < threads_len; i++) {
        tick_thread *t = &threads[i];
        if (t->skip)
            continue;
        if (!t->armed)
            arm(t, k);
        else if (restretch)
            set_timer(t, k);
    }
}

static uint64_t rescan_ns(void)
{
    uint64_t ns = (uint64_t)g_period * TICKER_RESCAN_PERIODS;
    return ns < 20000000u ? 20000000u : ns > 100000000u ? 100000000u : ns;
}

/* The ticker opens /proc files at every rescan, which would take the lowest free
 * descriptor number in the program's table (even an open that fails holds it while the path
 * is looked up): a program that just closed 0 to open its own file there (a daemon, a
 * shell's redirection) would get another number. So the ticker works in a descriptor table
 * of its own, empty (CLOSE_RANGE_UNSHARE copies none of the program's descriptors, so none
 * is kept open behind it); it needs no descriptor the other threads use. Where close_range
 * is missing (Linux < 5.9), the shared table as before. */
static void private_descriptors(void)
{
    if (syscall(SYS_close_range, 0U, ~0U, CLOSE_RANGE_UNSHARE) != 0)
        errno = 0; /* nothing else to do: the window is a few microseconds a rescan */
}

/* The first scan (its opendir: this thread's malloc arena made) before ticker_start returns:
 * start_latch.h. */
static util_latch g_first_scan;

static void *ticker_main(void *unused)
{
    (void)unused;
    private_descriptors();
    g_self = (pid_t)syscall(SYS_gettid);
    pthread_mutex_lock(&g_lock);
    while (!g_stop) {
        pthread_mutex_unlock(&g_lock);
        rescan();
        util_latch_open(&g_first_scan);
        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        uint64_t at = (uint64_t)next.tv_sec * 1000000000u + (uint64_t)next.tv_nsec + rescan_ns();
        next = ts_of(at);
        pthread_mutex_lock(&g_lock);
        while (!g_stop && pthread_cond_timedwait(&g_wake, &g_lock, &next) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&g_lock);
    util_latch_open(&g_first_scan); /* stopped before its first scan */
    return NULL;
}

static void init_wake(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_wake, &ca);
    pthread_condattr_destroy(&ca);
}

int ticker_start(long period_ns, int signo, ticker_thread_fn create)
{
    if (g_running)
        return 0;
    g_period = period_ns;
    g_signo = signo;
    g_stop = false;
    g_self = 0;
    threads_len = 0;
    atomic_store(&g_stretch, 1);
    init_wake();
    rescan(); /* the threads there now are sampled from the first period */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited: the ticker takes no signal */
    util_latch_reset(&g_first_scan);
    int rc = create(&g_thread, NULL, ticker_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        util_latch_wait(&g_first_scan, 50);
    pthread_mutex_lock(&g_list_lock);
    g_running = rc == 0;
    pthread_mutex_unlock(&g_list_lock);
    if (!g_running)
        ticker_stop(); /* deletes the timers armed above */
    return rc == 0 ? 0 : -1;
}

void ticker_add_self(pid_t tid)
{
    pthread_mutex_lock(&g_list_lock);
    tick_thread *t = g_running ? find(tid) : NULL;
    if (g_running && !t && UTIL_RESERVE(threads, threads_cap, threads_len + 1)) {
        t = &threads[threads_len++];
        *t = (tick_thread){ .tid = tid, .seen = true };
    }
    /* A scan may have found it first, with every signal still blocked: armed now. */
    if (t && !t->armed && !t->failed) {
        t->skip = false;
        arm(t, atomic_load(&g_stretch)); /* the next scan restretches if need be */
    }
    pthread_mutex_unlock(&g_list_lock);
}

void ticker_stop(void)
{
    if (g_running) {
        pthread_mutex_lock(&g_lock);
        g_stop = true;
        pthread_cond_signal(&g_wake);
        pthread_mutex_unlock(&g_lock);
        pthread_join(g_thread, NULL);
    }
    pthread_mutex_lock(&g_list_lock);
    g_running = false;
    for (size_t i = 0; i < threads_len; i++)
        if (threads[i].armed)
            timer_delete(threads[i].timer);
    threads_len = 0;
    pthread_mutex_unlock(&g_list_lock);
}

void ticker_after_fork_child(void)
{
    g_running = false;
    threads_len = 0; /* the parent's timers are not the child's */
    pthread_mutex_init(&g_lock, NULL);
    pthread_mutex_init(&g_list_lock, NULL);
    atomic_store(&g_stretch, 1);
    atomic_store(&n_armed, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&n_skipped, 0);
}

uint32_t ticker_decode(const siginfo_t *si)
{
    if (si->si_code != SI_TIMER)
        return 0;
    uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
    if (v != TICKER_TAG << 48)
        return 0;
    uint64_t overrun = si->si_overrun > 0 ? (uint64_t)si->si_overrun : 0;
    uint64_t w = atomic_load_explicit(&g_stretch, memory_order_relaxed) * (1 + overrun);
    return w < 1000000u ? (uint32_t)w : 1000000u;
}

void ticker_counts(uint64_t *armed, uint64_t *failed, uint64_t *skipped, uint64_t *stretch)
{
    *armed = atomic_load(&n_armed);
    *failed = atomic_load(&n_failed);
    *skipped = atomic_load(&n_skipped);
    *stretch = atomic_load(&g_stretch);
}
