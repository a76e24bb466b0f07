/* The ways a program ends, each of which must still write the profile.
 *
 * usage: wl_exit return|exit|thread-exit [--truth PATH]
 *   return       main returns 5
 *   exit         exit(6) from a function called by main
 *   thread-exit  a second thread calls exit(7) while the main thread is still burning CPU
 * stdout is the same on every run, so callers can compare it with and without the profiler. */
#include "wl_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLICES = 15 };
static const double SLICE_MS = 20.0;

static const char *truth_path;
static atomic_int main_done;

BURNER(main_burn, 51)
BURNER(thread_burn, 52)

/* Unmeasured: keeps the main thread on the CPU while another thread exits the process. */
BURNER(main_spin, 53)

static int slices(void)
{
    int n = (int)(SLICES * wl_scale() + 0.5);
    return n > 0 ? n : 1;
}

static void run(const char *name, uint64_t (*fn)(long))
{
    for (int s = 0; s < slices(); s++) {
        wl_burn_measured(name, fn, wl_slice_iters(SLICE_MS));
    }
}

static BURN_NOIPA void finish_by_exit(void)
{
    wl_thread_end();
    if (wl_truth_write(truth_path) != 0)
        exit(1);
    printf("wl_exit: mode=exit\n");
    exit(6);
}

static void *exiting_thread(void *arg)
{
    (void)arg;
    run("thread_burn", thread_burn);
    while (!atomic_load(&main_done))
        ;
    if (wl_truth_write(truth_path) != 0)
        exit(1);
    printf("wl_exit: mode=thread-exit\n");
    exit(7);
}

int main(int argc, char **argv)
{
    wl_init();
    if (argc < 2) {
        fprintf(stderr, "usage: %s return|exit|thread-exit [--truth PATH]\n", argv[0]);
        return 2;
    }
    truth_path = wl_truth_path(argc, argv);
    if (strcmp(argv[1], "thread-exit") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, exiting_thread, NULL) != 0)
            return 2;
        run("main_burn", main_burn);
        atomic_store(&main_done, 1);
        long iters = wl_iters(SLICE_MS);
        for (;;) /* until the other thread's exit() ends the process */
            main_spin(iters);
    }
    run("main_burn", main_burn);
    if (strcmp(argv[1], "exit") == 0)
        finish_by_exit();
    if (strcmp(argv[1], "return") != 0) {
        fprintf(stderr, "wl_exit: unknown mode %s\n", argv[1]);
        return 2;
    }
    wl_thread_end();
    if (wl_truth_write(truth_path) != 0)
        return 1;
    printf("wl_exit: mode=return\n");
    return 5;
}
