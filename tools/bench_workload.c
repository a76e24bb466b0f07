/* bench_workload.c - the overhead benchmark's program: CPU work at the bottom of a
 * ~30-frame stack, built -O2 without frame pointers, on one or more threads.
 * Usage: bench_workload [millions-of-iterations] [threads] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { DEPTH = 28 };

static volatile uint64_t sink;

__attribute__((noinline)) static uint64_t work(long iters)
{
    uint64_t x = 88172645463325252ull;
    for (long i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

__attribute__((noinline)) static uint64_t descend(int depth, long iters)
{
    if (depth == 0)
        return work(iters);
    uint64_t r = descend(depth - 1, iters);
    sink += r; /* keeps each level a real frame, not a tail call */
    return r + 1;
}

static void *thread_main(void *arg)
{
    long total = *(long *)arg;
    for (long done = 0; done < total; done += 100000)
        sink += descend(DEPTH, 100000);
    return NULL;
}

int main(int argc, char **argv)
{
    long millions = argc > 1 ? atol(argv[1]) : 2000;
    int nthreads = argc > 2 ? atoi(argv[2]) : 1;
    if (millions < 1 || nthreads < 1 || nthreads > 64)
        return 2;
    long per = millions * 1000000 / nthreads;
    pthread_t t[64];
    for (int i = 1; i < nthreads; i++)
        pthread_create(&t[i], NULL, thread_main, &per);
    thread_main(&per);
    for (int i = 1; i < nthreads; i++)
        pthread_join(t[i], NULL);
    printf("%llu\n", (unsigned long long)sink);
    return 0;
}
