/* wl_alternate - 4 threads, each alternating between two functions faster than the
 * scheduler tick: fa for 230 us of its CPU time, then fb for 610 us (a 0.84 ms cycle, which
 * does not beat against 997 Hz). Each thread measures the CPU time it spent in each (its own
 * CPU clock) and the program prints `share_fa PERCENT`: the truth a profile is judged by.
 * Usage: wl_alternate [cpu-seconds per thread] (default 1.5). fa and fb differ in their
 * constants so that the compiler does not fold them into one function. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { NTHREADS = 4 };
static double seconds = 1.5;
static volatile double sink;
static double in_a[NTHREADS], in_b[NTHREADS];
/* Not constants: the compiler must not clone fa and fb for them (fa.constprop.0). */
static volatile double us_a = 230, us_b = 610;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A function that burns `us` microseconds of this thread's CPU time; seed and step differ
 * between the two so that the compiler keeps them apart. */
#define BURNER(name, seed, step)                                                            \
    __attribute__((noinline)) static double name(double us)                        \
    {                                                                                       \
        double t0 = cpu_now(), x = seed;                                                    \
        while (cpu_now() - t0 < us / 1e6)                                                   \
            for (int i = 0; i < 100; i++)                                                   \
                x = x * step + .5;                                                          \
        sink = x;                                                                           \
        return cpu_now() - t0;                                                              \
    }
BURNER(fa, 1, 1.0000001)
BURNER(fb, 2, 1.0000002)

static void *run(void *arg)
{
    int i = (int)(long)arg;
    double start = cpu_now();
    while (cpu_now() - start < seconds) {
        in_a[i] += fa(us_a);
        in_b[i] += fb(us_b);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds = atof(argv[1]);
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, run, (void *)i);
    double a = 0, b = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        a += in_a[i];
        b += in_b[i];
    }
    printf("fa %.4f\nfb %.4f\nshare_fa %.2f\n", a, b, 100 * a / (a + b));
    return 0;
}
