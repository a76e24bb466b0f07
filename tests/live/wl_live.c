/* wl_live.c - a long-running service for the live tests (live.py), -O2 without frame
 * pointers like the other workloads.
 *   wl_live phases A B   burns phase_a for A wall seconds, then phase_b for B seconds
 *                        ("phase a" / "phase b" / "done" on stdout as each begins), then
 *                        waits, idle, for SIGTERM
 *   wl_live threads S    three threads named by pthread_setname_np, prctl(PR_SET_NAME) and
 *                        /proc/self/task/TID/comm burn for S seconds each with shares 1:2:3
 *                        of the work; prints "thread NAME TID CPU_SECONDS" for each, then
 *                        waits for standard input to close
 *   wl_live fork S       forks: the child prints "child PID" and burns phase_b for S
 *                        seconds, then exits; the parent prints "parent PID", burns
 *                        phase_a for S seconds, reaps the child, then waits for SIGTERM
 *   wl_live exec S       burns phase_a for S seconds, then execs itself as "phases 0 S"
 *   wl_live idle S       sleeps S seconds (the control channel's idle cost) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "burn.h"

BURNER(phase_a, 0xa)
BURNER(phase_b, 0xb)
BURNER(thread_work, 0xc)

static void burn_for(uint64_t (*fn)(long), double seconds)
{
    double end = burn_clock(CLOCK_MONOTONIC) + seconds;
    while (burn_clock(CLOCK_MONOTONIC) < end)
        fn(200000);
}

/* Idle until a signal ends us (the test sends SIGTERM when it is done). */
static void wait_for_end(void)
{
    for (;;)
        pause();
}

typedef struct worker {
    int how, share;
    double seconds, cpu;
    pid_t tid;
    char name[16];
    pthread_t th;
} worker;

static pthread_barrier_t g_named;

static void name_self(worker *w)
{
    if (w->how == 0) {
        pthread_setname_np(pthread_self(), w->name);
    } else if (w->how == 1) {
        prctl(PR_SET_NAME, w->name, 0, 0, 0);
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%ld/comm", (long)w->tid);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(w->name, f);
            fclose(f);
        }
    }
}

static void *work(void *arg)
{
    worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    name_self(w);
    pthread_barrier_wait(&g_named);
    double t0 = burn_thread_cpu(), end = burn_clock(CLOCK_MONOTONIC) + w->seconds;
    /* shares 1:2:3 of the CPU: burn `share` units, then sleep (3 - share) units */
    while (burn_clock(CLOCK_MONOTONIC) < end) {
        for (int i = 0; i < w->share; i++)
            thread_work(100000);
        struct timespec ts = { 0, 300000L * (3 - w->share) };
        if (w->share < 3)
            nanosleep(&ts, NULL);
    }
    w->cpu = burn_thread_cpu() - t0;
    return NULL;
}

static int threads(double seconds)
{
    worker w[3];
    pthread_barrier_init(&g_named, NULL, 4);
    for (int i = 0; i < 3; i++) {
        w[i] = (worker){ .how = i, .share = i + 1, .seconds = seconds };
        snprintf(w[i].name, sizeof w[i].name, "worker-%c", 'a' + i);
        pthread_create(&w[i].th, NULL, work, &w[i]);
    }
    pthread_barrier_wait(&g_named);
    for (int i = 0; i < 3; i++)
        pthread_join(w[i].th, NULL);
    for (int i = 0; i < 3; i++)
        printf("thread %s %ld %.4f\n", w[i].name, (long)w[i].tid, w[i].cpu);
    fflush(stdout);
    wait_for_end();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "phases")) {
        puts("phase a");
        fflush(stdout);
        burn_for(phase_a, atof(argv[2]));
        puts("phase b");
        fflush(stdout);
        burn_for(phase_b, atof(argv[3]));
        puts("done");
        fflush(stdout);
        wait_for_end();
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "threads"))
        return threads(atof(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "fork")) {
        pid_t child = fork();
        printf("%s %ld\n", child == 0 ? "child" : "parent", (long)getpid());
        fflush(stdout);
        burn_for(child == 0 ? phase_b : phase_a, atof(argv[2]));
        if (child == 0)
            _exit(0);
        waitpid(child, NULL, 0);
        puts("done");
        fflush(stdout);
        wait_for_end();
    }
    if (argc == 3 && !strcmp(argv[1], "exec")) {
        burn_for(phase_a, atof(argv[2]));
        execl("/proc/self/exe", argv[0], "phases", "0", argv[2], (char *)NULL);
        return 1;
    }
    if (argc == 3 && !strcmp(argv[1], "idle")) {
        sleep((unsigned)atoi(argv[2]));
        return 0;
    }
    fprintf(stderr, "usage: wl_live phases A B | threads S | idle S\n");
    return 2;
}
