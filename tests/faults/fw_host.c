/* fw_host - hostile hosts (issue 5): programs that do what real programs do and that a
 * profiler's signals, timers and threads could disturb. faults.py runs each with and without
 * the profiler and checks that the program behaves the same.
 *
 * usage: fw_host MODE [ARGS]
 *   churn N              N short-lived threads, created 8 at a time and joined, while one
 *                        thread burns CPU. RLIMIT_SIGPENDING is lowered to what the user has
 *                        queued now + 400, so leaking one POSIX timer per dead thread makes
 *                        timer_create fail with EAGAIN long before N.
 *   dlchurn DIR SECONDS  4 threads, each dlopen(DIR/fixK.so) / call fixture_burn / dlclose
 *                        in a loop (K = 0..3) for SECONDS of wall time
 *   eintr SECONDS [storm|storm-restart]
 *                        threads blocked in read, accept, futex wait, sem_wait, timed futex
 *                        wait, pthread_cond_timedwait, poll and nanosleep (their waker feeds
 *                        them every ms) while another thread burns CPU; prints per call how
 *                        many returns were EINTR. storm: a thread also sends SIGUSR2 to each
 *                        blocked thread every 100 us, handler without SA_RESTART (every call
 *                        must see EINTR: proves the counting works); storm-restart: the same
 *                        with SA_RESTART (what the kernel interrupts regardless)
 *   ownprof HOW          the program installs its own SIGPROF handler (HOW: sigaction,
 *                        signal, ctor = in a constructor) and setitimer(ITIMER_PROF, 10 ms),
 *                        burns 0.5 s of CPU, says whether its handler ran. HOW=flags: the
 *                        handler asks SA_RESETHAND | SA_NODEFER with SIGUSR1 in its mask,
 *                        says what it saw (SIGUSR1 blocked, SIGPROF not, disposition reset),
 *                        and the next SIGPROF kills the process (the default action)
 *   blockprof            a thread blocks SIGPROF, burns, unblocks, burns
 *   blockprof-all        main blocks SIGPROF before starting a thread: nothing is sampled
 *   deep N               recursion N frames deep (in a thread with a 256 MB stack), burning
 *                        at the bottom
 *   smallstack           a thread with a 64 KB stack burns; then it recurses until only
 *                        AT_MINSIGSTKSZ + 8 KB of its stack is left, paints the rest, burns
 *                        there and reports how deep the signal frames reached
 *   altstack             SIGUSR1 handler on a sigaltstack (SA_ONSTACK) burns CPU, signalled
 *                        every 200 us while main burns 0.4 s
 *   altstack-overflow N  a thread with a 64 KB stack overflows it N times; a SIGSEGV handler
 *                        on a sigaltstack siglongjmps back each time (stack-overflow recovery)
 *   altstack-small       two threads, each with a small sigaltstack (2 x AT_MINSIGSTKSZ +
 *                        6 KB: room for two nested signal frames) above a painted guard:
 *                        each burns on its own stack (SIGPROF lands on the sigaltstack), then
 *                        in SIGUSR2 handlers that run on the sigaltstack (SIGPROF nests there);
 *                        reports the deepest byte touched in each phase and whether the
 *                        guard below the sigaltstack stayed intact (Go runs every thread so)
 * The stack modes (deep .. altstack-small) are in fw_host_stacks.c.
 */
#include "fw_common.h"
#include "fw_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>

BURNER(churn_burn, 21)
BURNER(churn_worker_burn, 22)
BURNER(eintr_burn, 23)
BURNER(blocker_burn, 24)
BURNER(own_burn, 25)
BURNER(blocked_burn, 26)
BURNER(unblocked_burn, 27)
BURNER(main_burn, 28)

void die(const char *what)
{
    perror(what);
    exit(2);
}

void start_thread(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                  void *arg)
{
    int e = pthread_create(t, attr, fn, arg);
    if (e != 0) {
        fprintf(stderr, "fw_host: pthread_create: %s\n", strerror(e));
        exit(2);
    }
}

/* A plain handler for sig, with flags and an empty mask; dies on failure. */
void install_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        die("sigaction");
}

/* ---- churn ---- */

static atomic_bool churn_stop;

static void *churn_burner(void *arg)
{
    (void)arg;
    while (!atomic_load(&churn_stop))
        churn_burn(FW_CHUNK);
    return NULL;
}

static void *churn_worker(void *arg)
{
    (void)arg;
    churn_worker_burn(FW_CHUNK / 10);
    return NULL;
}

/* Signals queued (and timers' preallocated queue entries) for this user, from SigQ. */
static long sigq_used(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long used = -1, limit;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "SigQ: %ld/%ld", &used, &limit) == 2)
            break;
    if (f)
        fclose(f);
    return used;
}

static int do_churn(int n)
{
    long used = sigq_used();
    struct rlimit rl;
    if (used >= 0 && getrlimit(RLIMIT_SIGPENDING, &rl) == 0) {
        rl.rlim_cur = (rlim_t)used + 400;
        if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
            perror("setrlimit(RLIMIT_SIGPENDING)");
    }
    fprintf(stderr, "fw_host: SigQ %ld queued at start; RLIMIT_SIGPENDING now %ld\n", used,
            used + 400);
    pthread_t burner;
    start_thread(&burner, NULL, churn_burner, NULL);
    int created = 0;
    for (int i = 0; i < n; i += 8) {
        pthread_t t[8];
        int k = n - i < 8 ? n - i : 8;
        for (int j = 0; j < k; j++) {
            start_thread(&t[j], NULL, churn_worker, NULL);
            created++;
        }
        for (int j = 0; j < k; j++)
            pthread_join(t[j], NULL);
    }
    atomic_store(&churn_stop, true);
    pthread_join(burner, NULL);
    fprintf(stderr, "fw_host: SigQ %ld queued at the end\n", sigq_used());
    FW_SAY("churn: %d threads created and joined\n", created);
    return 0;
}

/* ---- dlopen/dlclose churn ---- */

enum { DL_THREADS = 4 };
static const char *dl_dir;
static double dl_until;
static double dl_cpu[DL_THREADS];
static long dl_cycles[DL_THREADS];
static atomic_int dl_failed;

static void *dl_worker(void *arg)
{
    int k = (int)(intptr_t)arg;
    char path[4096];
    snprintf(path, sizeof path, "%s/fix%d.so", dl_dir, k);
    while (burn_clock(CLOCK_MONOTONIC) < dl_until) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            fprintf(stderr, "fw_host: dlopen %s: %s\n", path, dlerror());
            atomic_store(&dl_failed, 1);
            return NULL;
        }
        uint64_t (*fn)(long);
        *(void **)&fn = dlsym(h, "fixture_burn");
        if (!fn) {
            fprintf(stderr, "fw_host: dlsym fixture_burn: %s\n", dlerror());
            atomic_store(&dl_failed, 1);
            return NULL;
        }
        double t0 = burn_thread_cpu();
        for (int i = 0; i < 10; i++)
            fn(FW_CHUNK);
        dl_cpu[k] += burn_thread_cpu() - t0;
        if (dlclose(h) != 0) {
            fprintf(stderr, "fw_host: dlclose: %s\n", dlerror());
            atomic_store(&dl_failed, 1);
            return NULL;
        }
        dl_cycles[k]++;
    }
    return NULL;
}

static int do_dlchurn(const char *dir, double seconds)
{
    dl_dir = dir;
    dl_until = burn_clock(CLOCK_MONOTONIC) + seconds;
    pthread_t t[DL_THREADS];
    for (int k = 0; k < DL_THREADS; k++)
        start_thread(&t[k], NULL, dl_worker, (void *)(intptr_t)k);
    double cpu = 0;
    long cycles = 0;
    for (int k = 0; k < DL_THREADS; k++) {
        pthread_join(t[k], NULL);
        cpu += dl_cpu[k];
        cycles += dl_cycles[k];
    }
    fprintf(stderr, "fw_host: fixture_cpu=%.3f cycles=%ld\n", cpu, cycles);
    FW_SAY("dlchurn: %s\n", atomic_load(&dl_failed) ? "FAILED" : "done");
    return atomic_load(&dl_failed) ? 1 : 0;
}

/* ---- blocking calls and EINTR ---- */

enum { EI_READ, EI_ACCEPT, EI_FUTEX, EI_SEM, EI_FUTEX_TIMED, EI_COND_TIMED, EI_POLL,
       EI_NANOSLEEP, EI_N };
static const char *const ei_names[EI_N] = {
    "read", "accept", "futex_wait", "sem_wait", "futex_wait_timeout", "pthread_cond_timedwait",
    "poll", "nanosleep",
};
static _Atomic long ei_calls[EI_N], ei_eintr[EI_N], ei_storm_signals;
static _Atomic pid_t ei_tids[EI_N];
static atomic_bool ei_stop, ei_feeder_stop;
static int pipe_data[2], pipe_never[2], listen_fd;
static struct sockaddr_in listen_addr;
static _Atomic uint32_t futex_word, futex_never;
static sem_t ei_sem;
static pthread_mutex_t ei_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ei_cond = PTHREAD_COND_INITIALIZER;

static long futex(_Atomic uint32_t *w, int op, uint32_t v, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)w, op, v, ts, NULL, 0);
}

static void *ei_thread(void *arg)
{
    int k = (int)(intptr_t)arg;
    atomic_store(&ei_tids[k], (pid_t)syscall(SYS_gettid));
    while (!atomic_load(&ei_stop)) {
        /* Some CPU between the calls, so this thread's own CPU timer fires near them. */
        blocker_burn(FW_CHUNK / 8);
        long r = 0;
        int e = 0;
        switch (k) {
        case EI_READ: {
            char c;
            r = read(pipe_data[0], &c, 1);
            break;
        }
        case EI_ACCEPT:
            r = accept(listen_fd, NULL, NULL);
            e = errno;
            if (r >= 0)
                close((int)r);
            errno = e;
            break;
        case EI_FUTEX:
            r = futex(&futex_word, FUTEX_WAIT_PRIVATE, atomic_load(&futex_word), NULL);
            break;
        case EI_SEM:
            r = sem_wait(&ei_sem);
            break;
        case EI_FUTEX_TIMED: {
            struct timespec ts = { 0, 1000000 };
            r = futex(&futex_never, FUTEX_WAIT_PRIVATE, 0, &ts);
            break;
        }
        case EI_COND_TIMED: {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_mutex_lock(&ei_mutex);
            int rc = pthread_cond_timedwait(&ei_cond, &ei_mutex, &ts);
            pthread_mutex_unlock(&ei_mutex);
            r = rc ? -1 : 0;
            errno = rc;
            break;
        }
        case EI_POLL: {
            struct pollfd p = { pipe_never[0], POLLIN, 0 };
            r = poll(&p, 1, 1);
            break;
        }
        case EI_NANOSLEEP: {
            struct timespec ts = { 0, 1000000 };
            r = nanosleep(&ts, NULL);
            break;
        }
        }
        e = errno;
        atomic_fetch_add(&ei_calls[k], 1);
        if (r < 0 && e == EINTR)
            atomic_fetch_add(&ei_eintr[k], 1);
    }
    return NULL;
}

/* Wakes the blocked threads about once a millisecond, and keeps waking them until told to
 * stop (after they have all been joined). */
static void *ei_feeder(void *arg)
{
    (void)arg;
    while (!atomic_load(&ei_feeder_stop)) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
        if (write(pipe_data[1], "x", 1) < 0 && errno != EAGAIN)
            perror("write");
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s >= 0) {
            connect(s, (struct sockaddr *)&listen_addr, sizeof listen_addr);
            close(s);
        }
        atomic_fetch_add(&futex_word, 1);
        futex(&futex_word, FUTEX_WAKE_PRIVATE, 1, NULL);
        sem_post(&ei_sem);
    }
    return NULL;
}

static void on_usr2(int sig)
{
    (void)sig;
}

static void *ei_storm(void *arg)
{
    (void)arg;
    pid_t pid = getpid();
    while (!atomic_load(&ei_stop)) {
        for (int k = 0; k < EI_N; k++) {
            pid_t t = atomic_load(&ei_tids[k]);
            if (t && syscall(SYS_tgkill, pid, t, SIGUSR2) == 0)
                atomic_fetch_add(&ei_storm_signals, 1);
        }
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void *ei_burner(void *arg)
{
    (void)arg;
    while (!atomic_load(&ei_stop))
        eintr_burn(FW_CHUNK);
    return NULL;
}

static int do_eintr(double seconds, const char *storm)
{
    if (pipe2(pipe_data, O_CLOEXEC | O_NONBLOCK) != 0 || pipe2(pipe_never, O_CLOEXEC) != 0)
        die("pipe2");
    /* Only the writer end is non-blocking (the feeder must never block on a full pipe). */
    if (fcntl(pipe_data[0], F_SETFL, 0) != 0)
        die("fcntl");
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    listen_addr.sin_family = AF_INET;
    listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof listen_addr;
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&listen_addr, sizeof listen_addr) ||
        getsockname(listen_fd, (struct sockaddr *)&listen_addr, &len) || listen(listen_fd, 512))
        die("listen");
    if (sem_init(&ei_sem, 0, 0) != 0)
        die("sem_init");
    if (storm)
        install_handler(SIGUSR2, on_usr2, strcmp(storm, "storm-restart") == 0 ? SA_RESTART : 0);
    pthread_t t[EI_N], feeder, burner, stormer;
    for (int k = 0; k < EI_N; k++)
        start_thread(&t[k], NULL, ei_thread, (void *)(intptr_t)k);
    start_thread(&feeder, NULL, ei_feeder, NULL);
    /* The CPU burner is what the profiler samples most; the storms need no profiler. */
    if (!storm)
        start_thread(&burner, NULL, ei_burner, NULL);
    else
        start_thread(&stormer, NULL, ei_storm, NULL);
    double end = burn_clock(CLOCK_MONOTONIC) + seconds;
    while (burn_clock(CLOCK_MONOTONIC) < end) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    atomic_store(&ei_stop, true);
    if (storm)
        pthread_join(stormer, NULL);
    for (int k = 0; k < EI_N; k++)
        pthread_join(t[k], NULL);
    atomic_store(&ei_feeder_stop, true);
    pthread_join(feeder, NULL);
    if (!storm)
        pthread_join(burner, NULL);
    for (int k = 0; k < EI_N; k++)
        printf("eintr %s calls=%ld eintr=%ld\n", ei_names[k], atomic_load(&ei_calls[k]),
               atomic_load(&ei_eintr[k]));
    printf("storm signals=%ld\n", atomic_load(&ei_storm_signals));
    fflush(stdout);
    return 0;
}

/* ---- the program's own SIGPROF ---- */

static _Atomic long own_calls;

static void own_handler(int sig)
{
    (void)sig;
    atomic_fetch_add(&own_calls, 1);
}

static void own_handler_info(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    own_handler(sig);
}

static bool is_default(int sig)
{
    struct sigaction old;
    return sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
           old.sa_handler == SIG_DFL;
}

static bool is_own(int sig)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) != 0)
        return false;
    return (cur.sa_flags & SA_SIGINFO) ? cur.sa_sigaction == own_handler_info
                                       : cur.sa_handler == own_handler;
}

static void install_own_sigaction(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = own_handler_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, NULL) != 0)
        die("sigaction(SIGPROF)");
}

/* glibc passes argc/argv to constructors: "ownprof ctor" installs the handler here, before
 * main, as a library's constructor would. */
__attribute__((constructor)) static void ctor(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "ownprof") == 0 && strcmp(argv[2], "ctor") == 0)
        install_own_sigaction();
}

/* The handler with flags: what it sees, written with write(2) (async-signal-safe). */
static void own_flags_handler(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    sigset_t cur;
    struct sigaction now;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    /* The kernel resets the handler only (SA_SIGINFO stays in the flags). */
    bool reset = sigaction(sig, NULL, &now) == 0 && now.sa_handler == SIG_DFL;
    char line[128];
    int n = snprintf(line, sizeof line, "handler: SIGUSR1 %s, SIGPROF %s, disposition %s\n",
                     sigismember(&cur, SIGUSR1) ? "blocked" : "NOT blocked",
                     sigismember(&cur, SIGPROF) ? "BLOCKED" : "not blocked",
                     reset ? "reset to default" : "NOT reset");
    if (write(STDOUT_FILENO, line, (size_t)n) < 0)
        _exit(3);
    atomic_fetch_add(&own_calls, 1);
}

static int do_ownprof_flags(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = own_flags_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    if (sigaction(SIGPROF, &sa, NULL) != 0)
        die("sigaction(SIGPROF)");
    struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
    if (setitimer(ITIMER_PROF, &it, NULL) != 0)
        die("setitimer");
    fw_burn_cpu(1.0, own_burn); /* the second SIGPROF ends the process */
    FW_SAY("still alive after 1 s of CPU: NOT the default action\n");
    return 0;
}

static int do_ownprof(const char *how)
{
    if (strcmp(how, "flags") == 0)
        return do_ownprof_flags();
    if (strcmp(how, "ctor") != 0) {
        FW_SAY("SIGPROF before: %s\n", is_default(SIGPROF) ? "default" : "NOT default");
        if (strcmp(how, "sigaction") == 0)
            install_own_sigaction();
        else if (strcmp(how, "signal") == 0)
            signal(SIGPROF, own_handler);
        else
            return 2;
    }
    FW_SAY("SIGPROF handler is the program's: %s\n", is_own(SIGPROF) ? "yes" : "NO");
    struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
    if (setitimer(ITIMER_PROF, &it, NULL) != 0)
        die("setitimer");
    fw_burn_cpu(0.5, own_burn);
    struct itimerval zero;
    memset(&zero, 0, sizeof zero);
    setitimer(ITIMER_PROF, &zero, NULL);
    fprintf(stderr, "fw_host: own SIGPROF handler calls=%ld\n", atomic_load(&own_calls));
    FW_SAY("own SIGPROF handler called: %s\n", atomic_load(&own_calls) > 0 ? "yes" : "NO");
    return 0;
}

static void *blocking_thread(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    fw_burn_cpu(0.25, blocked_burn);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    fw_burn_cpu(0.2, unblocked_burn);
    return NULL;
}

static int do_blockprof(bool all)
{
    if (all) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGPROF);
        pthread_sigmask(SIG_BLOCK, &s, NULL);
    }
    pthread_t t;
    start_thread(&t, NULL, blocking_thread, NULL);
    fw_burn_cpu(0.25, main_burn);
    pthread_join(t, NULL);
    FW_SAY("blockprof: done\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = fw_mode(argc, argv, "MODE [ARGS] (see the source)");
    const char *a1 = argc > 2 ? argv[2] : NULL, *a2 = argc > 3 ? argv[3] : NULL;
    if (strcmp(mode, "churn") == 0 && a1)
        return do_churn(atoi(a1));
    if (strcmp(mode, "dlchurn") == 0 && a1 && a2)
        return do_dlchurn(a1, atof(a2));
    if (strcmp(mode, "eintr") == 0 && a1)
        return do_eintr(atof(a1), a2);
    if (strcmp(mode, "ownprof") == 0 && a1)
        return do_ownprof(a1);
    if (strcmp(mode, "blockprof") == 0)
        return do_blockprof(false);
    if (strcmp(mode, "blockprof-all") == 0)
        return do_blockprof(true);
    if (strcmp(mode, "deep") == 0 && a1)
        return do_deep(atol(a1));
    if (strcmp(mode, "smallstack") == 0)
        return do_smallstack();
    if (strcmp(mode, "altstack") == 0)
        return do_altstack();
    if (strcmp(mode, "altstack-small") == 0)
        return do_altstack_small();
    if (strcmp(mode, "altstack-overflow") == 0 && a1)
        return do_altstack_overflow(atol(a1));
    fprintf(stderr, "fw_host: unknown mode or missing argument: %s\n", mode);
    return 2;
}
