/* wl_waits - threads that split their time between known CPU work and known waits, each
 * measured here (CLOCK_MONOTONIC): a sleep, a pipe read, a mutex, a condition variable, a
 * socket. A feeder thread wakes the waiters every FEED_MS; a holder thread keeps the mutex
 * most of the time. Prints one line per function: `NAME SECONDS`, and per worker thread
 * `thread_X SECONDS` (its whole life), so a wall profile's shares can be checked against
 * the truth; and `eintr_nanosleep N`: how often a sleep was interrupted by a signal.
 * Each wait is also split as the kernel saw it: `queued_wait_X SECONDS`, its time runnable
 * but waiting for a CPU (run_delay, /proc/thread-self/schedstat: the woken thread waits for
 * a CPU before its call returns), and `cpu_wait_X SECONDS`, its CPU time
 * (CLOCK_THREAD_CPUTIME_ID); the rest of the wait was blocked: off CPU. `schedstat 0`: the
 * kernel has no schedstat (the split is not printed). A last thread, thread_zero, computes
 * inside system calls (zero_reads: 1 MB reads of /dev/zero, 2 ms) between 8 ms sleeps: CPU
 * work a wall profile must not call off-CPU. Usage: wl_waits [seconds] (default 2). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURN_MS 2
#define FEED_MS 10

static double run_s = 2.0;
static atomic_bool stop;
static int pipefd[2], sockfd[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER, cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static unsigned cv_gen;

static double clock_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* The calling thread's run_delay in seconds (schedstat's second field), -1 if unknown. */
static __thread int schedstat_fd = -1;
static double run_delay(void)
{
    if (schedstat_fd < 0)
        schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    char buf[128];
    ssize_t n = schedstat_fd >= 0 ? pread(schedstat_fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return -1;
    buf[n] = 0;
    unsigned long long cpu_ns, delay_ns;
    if (sscanf(buf, "%llu %llu", &cpu_ns, &delay_ns) != 2)
        return -1;
    return (double)delay_ns / 1e9;
}

/* A wait's split (see the top): its time queued for a CPU and its CPU time. */
typedef struct split {
    double queued_s, cpu_s;
} split;
typedef struct split_mark {
    double queued, cpu;
} split_mark;

static split_mark split_begin(void)
{
    return (split_mark){ run_delay(), clock_s(CLOCK_THREAD_CPUTIME_ID) };
}

static void split_end(split *acc, split_mark m)
{
    acc->queued_s += run_delay() - m.queued;
    acc->cpu_s += clock_s(CLOCK_THREAD_CPUTIME_ID) - m.cpu;
}

/* nanosleep returns EINTR when any signal handler runs (SA_RESTART or not): POSIX
 * programs sleep on (as this one does) and count how often it happened. */
static atomic_uint eintr_nanosleep;

static void sleep_ns(long ns)
{
    struct timespec ts = { ns / 1000000000L, ns % 1000000000L }, rem;
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR) {
        atomic_fetch_add(&eintr_nanosleep, 1);
        ts = rem;
    }
}

static void sleep_ms(int ms)
{
    sleep_ns(ms * 1000000L);
}

static volatile double sink;
#define BURNER(name)                                                                        \
    __attribute__((noinline)) static void name(double *acc)                                 \
    {                                                                                       \
        double t0 = now(), x = 1.0;                                                         \
        while (now() - t0 < BURN_MS / 1000.0)                                               \
            for (int i = 0; i < 2000; i++)                                                  \
                x = x * 1.0000001 + 0.5;                                                    \
        sink = x;                                                                           \
        *acc += now() - t0;                                                                 \
    }
BURNER(burn_sleep)
BURNER(burn_pipe)
BURNER(burn_mutex)
BURNER(burn_cond)
BURNER(burn_socket)

__attribute__((noinline)) static void wait_sleep(double *acc, split *sp)
{
    double t0 = now();
    split_mark m = split_begin();
    sleep_ns(4 * 1000000L);
    split_end(sp, m);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_pipe(double *acc, split *sp)
{
    double t0 = now();
    split_mark m = split_begin();
    char c;
    if (read(pipefd[0], &c, 1) != 1)
        atomic_store(&stop, true);
    split_end(sp, m);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_mutex(double *acc, split *sp)
{
    double t0 = now();
    split_mark m = split_begin();
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
    split_end(sp, m);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_cond(double *acc, split *sp)
{
    double t0 = now();
    split_mark m = split_begin();
    pthread_mutex_lock(&cv_lock);
    unsigned g = cv_gen;
    while (g == cv_gen && !atomic_load(&stop))
        pthread_cond_wait(&cv, &cv_lock);
    pthread_mutex_unlock(&cv_lock);
    split_end(sp, m);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_socket(double *acc, split *sp)
{
    double t0 = now();
    split_mark m = split_begin();
    char c;
    if (recv(sockfd[0], &c, 1, 0) != 1)
        atomic_store(&stop, true);
    split_end(sp, m);
    *acc += now() - t0;
}

typedef struct worker {
    const char *name, *burn_name, *wait_name;
    void (*burn)(double *);
    void (*wait)(double *, split *);
    double burn_s, wait_s, life_s;
    split wait_split;
} worker;

#define WORKER(x) { "thread_" #x, "burn_" #x, "wait_" #x, burn_##x, wait_##x, 0, 0, 0, { 0, 0 } }
static worker workers[] = { WORKER(sleep), WORKER(pipe), WORKER(mutex), WORKER(cond),
                            WORKER(socket) };
enum { NWORKERS = sizeof workers / sizeof *workers };

#define THREAD_FN(x)                                                                     \
    __attribute__((noinline)) static void *thread_##x(void *arg)                            \
    {                                                                                       \
        worker *w = arg;                                                                    \
        double t0 = now();                                                                  \
        while (!atomic_load(&stop)) {                                                       \
            w->burn(&w->burn_s);                                                            \
            w->wait(&w->wait_s, &w->wait_split);                                            \
        }                                                                                   \
        w->life_s = now() - t0;                                                             \
        return NULL;                                                                        \
    }
THREAD_FN(sleep)
THREAD_FN(pipe)
THREAD_FN(mutex)
THREAD_FN(cond)
THREAD_FN(socket)
static void *(*const thread_fns[NWORKERS])(void *) = { thread_sleep, thread_pipe, thread_mutex,
                                                      thread_cond, thread_socket };


static void *feeder(void *unused)
{
    (void)unused;
    while (!atomic_load(&stop)) {
        sleep_ms(FEED_MS);
        if (write(pipefd[1], "x", 1) != 1 || send(sockfd[1], "x", 1, 0) != 1)
            break;
        pthread_mutex_lock(&cv_lock);
        cv_gen++;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&cv_lock);
    }
    return NULL;
}

__attribute__((noinline)) static void zero_reads(int fd)
{
    static char buf[1 << 20];
    double t0 = now();
    while (now() - t0 < BURN_MS / 1000.0)
        if (read(fd, buf, sizeof buf) <= 0)
            break;
}

static void *thread_zero(void *unused)
{
    (void)unused;
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    while (fd >= 0 && !atomic_load(&stop)) {
        zero_reads(fd);
        sleep_ms(4 * BURN_MS);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void *holder(void *unused)
{
    (void)unused;
    while (!atomic_load(&stop)) {
        pthread_mutex_lock(&lock);
        sleep_ms(FEED_MS - 1);
        pthread_mutex_unlock(&lock);
        sleep_ms(1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        run_s = atof(argv[1]);
    if (pipe(pipefd) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sockfd) != 0)
        return 1;
    pthread_t t[NWORKERS], f, h, z;
    pthread_create(&f, NULL, feeder, NULL);
    pthread_create(&h, NULL, holder, NULL);
    pthread_create(&z, NULL, thread_zero, NULL);
    for (int i = 0; i < NWORKERS; i++)
        pthread_create(&t[i], NULL, thread_fns[i], &workers[i]);
    sleep_ms((int)(run_s * 1000));
    atomic_store(&stop, true);
    pthread_join(f, NULL);
    /* Wake whoever still waits: a byte each, and a broadcast. */
    if (write(pipefd[1], "x", 1) != 1 || send(sockfd[1], "x", 1, 0) != 1)
        return 1;
    pthread_mutex_lock(&cv_lock);
    cv_gen++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&cv_lock);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(t[i], NULL);
    pthread_join(h, NULL);
    pthread_join(z, NULL);
    for (int i = 0; i < NWORKERS; i++)
        printf("%s %.6f\n%s %.6f\n%s %.6f\n", workers[i].name, workers[i].life_s,
               workers[i].burn_name, workers[i].burn_s, workers[i].wait_name, workers[i].wait_s);
    bool schedstat = run_delay() >= 0;
    for (int i = 0; i < NWORKERS && schedstat; i++)
        printf("queued_%s %.6f\ncpu_%s %.6f\n", workers[i].wait_name,
               workers[i].wait_split.queued_s, workers[i].wait_name, workers[i].wait_split.cpu_s);
    printf("schedstat %d\neintr_nanosleep %u\n", schedstat, atomic_load(&eintr_nanosleep));
    return 0;
}
