/* wl_waits - threads that split their time between known CPU work and known waits, each
 * measured here (CLOCK_MONOTONIC): a sleep, a pipe read, a mutex, a condition variable, a
 * socket. A feeder thread wakes the waiters every FEED_MS; a holder thread keeps the mutex
 * most of the time. Prints one line per function: `NAME SECONDS`, and per worker thread
 * `thread_X SECONDS` (its whole life), so a wall profile's shares can be checked against
 * the truth; and `eintr_nanosleep N`: how often a sleep was interrupted by a signal. Usage: wl_waits [seconds] (default 2). */
#include <errno.h>
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

__attribute__((noinline)) static void wait_sleep(double *acc)
{
    double t0 = now();
    sleep_ns(4 * 1000000L);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_pipe(double *acc)
{
    double t0 = now();
    char c;
    if (read(pipefd[0], &c, 1) != 1)
        atomic_store(&stop, true);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_mutex(double *acc)
{
    double t0 = now();
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_cond(double *acc)
{
    double t0 = now();
    pthread_mutex_lock(&cv_lock);
    unsigned g = cv_gen;
    while (g == cv_gen && !atomic_load(&stop))
        pthread_cond_wait(&cv, &cv_lock);
    pthread_mutex_unlock(&cv_lock);
    *acc += now() - t0;
}

__attribute__((noinline)) static void wait_socket(double *acc)
{
    double t0 = now();
    char c;
    if (recv(sockfd[0], &c, 1, 0) != 1)
        atomic_store(&stop, true);
    *acc += now() - t0;
}

typedef struct worker {
    const char *name, *burn_name, *wait_name;
    void (*burn)(double *);
    void (*wait)(double *);
    double burn_s, wait_s, life_s;
} worker;

#define WORKER(x) { "thread_" #x, "burn_" #x, "wait_" #x, burn_##x, wait_##x, 0, 0, 0 }
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
            w->wait(&w->wait_s);                                                            \
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
    pthread_t t[NWORKERS], f, h;
    pthread_create(&f, NULL, feeder, NULL);
    pthread_create(&h, NULL, holder, NULL);
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
    for (int i = 0; i < NWORKERS; i++)
        printf("%s %.6f\n%s %.6f\n%s %.6f\n", workers[i].name, workers[i].life_s,
               workers[i].burn_name, workers[i].burn_s, workers[i].wait_name, workers[i].wait_s);
    printf("eintr_nanosleep %u\n", atomic_load(&eintr_nanosleep));
    return 0;
}
