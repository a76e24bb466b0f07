/* fork(): the parent burns in parent_work before and after the fork, the child in child_work.
 * Each process must get its own profile: the child's must not carry the parent's samples from
 * before the fork (an inherited sample buffer would), and must have its own sampling running
 * (timers are not inherited across fork).
 *
 * usage: wl_fork [--truth PATH]   (the child writes its truth to PATH.child) */
#include "wl_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SLICES = 30 };
static const double SLICE_MS = 20.0;

BURNER(parent_work, 21)
BURNER(child_work, 22)

static void run(const char *name, uint64_t (*fn)(long), int slices)
{
    for (int s = 0; s < slices; s++) {
        wl_burn_measured(name, fn, wl_slice_iters(SLICE_MS));
    }
}

int main(int argc, char **argv)
{
    wl_init();
    const char *truth = wl_truth_path(argc, argv);
    int slices = (int)(SLICES * wl_scale() + 0.5);
    if (slices < 2)
        slices = 2;
    run("parent_work", parent_work, slices / 2);

    fflush(NULL); /* or the child would print the parent's buffered output again */
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        wl_truth_reset();
        run("child_work", child_work, slices);
        wl_thread_end();
        char path[4096];
        snprintf(path, sizeof path, "%s.child", truth ? truth : "");
        int rc = truth ? wl_truth_write(path) : 0;
        /* exit(), not _exit(): the normal way a forked worker ends, running atexit handlers. */
        exit(rc == 0 ? 0 : 1);
    }
    run("parent_work", parent_work, slices - slices / 2);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "wl_fork: child failed (status 0x%x)\n", status);
        return 3;
    }
    wl_truth_int("child_pid", (long)pid);
    wl_thread_end();
    printf("wl_fork: done\n");
    return wl_truth_write(truth) == 0 ? 0 : 1;
}
