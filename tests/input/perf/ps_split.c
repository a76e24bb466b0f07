/* ps_split.c - the workload of the perf script fixtures: work_a 60%, work_b 30% (on a
 * second thread), work_c 10% of the CPU, by loop counts; write_loop spends its time in
 * write(2) to /dev/null, in the kernel. Built -O2 -fno-omit-frame-pointer
 * -fno-optimize-sibling-calls so that `perf record -g` walks every frame. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static volatile double sink;

__attribute__((noinline)) static void burn(long n)
{
    double x = 0;
    for (long i = 0; i < n; i++)
        x += sqrt((double)i + x);
    sink = x;
}

__attribute__((noinline)) void work_a(long n) { burn(6 * n); }
__attribute__((noinline)) void work_b(long n) { burn(3 * n); }
__attribute__((noinline)) void work_c(long n) { burn(n); }

__attribute__((noinline)) void write_loop(long n)
{
    int fd = open("/dev/null", O_WRONLY);
    char b[64] = { 0 };
    for (long i = 0; i < n; i++)
        if (write(fd, b, sizeof(b)) < 0)
            break;
    close(fd);
}

static void *thread_main(void *arg)
{
    work_b(*(long *)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    pthread_t t;
    pthread_create(&t, NULL, thread_main, &n);
    work_a(n);
    work_c(n);
    write_loop(n / 4);
    pthread_join(t, NULL);
    return 0;
}
