/* Burns CPU in pre_exec_work, then replaces itself with another program. exec runs no atexit
 * handler and no destructor, so the profiler has to write the pre-exec image's profile on the
 * way into exec.
 *
 * usage: wl_exec execve|execv|execvp|execl PROGRAM [--truth PATH]
 * PROGRAM runs with no arguments; its exit status becomes ours. */
#include "wl_common.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { SLICES = 25 };
static const double SLICE_MS = 20.0;

extern char **environ;

BURNER(pre_exec_work, 41)

int main(int argc, char **argv)
{
    wl_init();
    if (argc < 3) {
        fprintf(stderr, "usage: %s execve|execv|execvp|execl PROGRAM [--truth PATH]\n", argv[0]);
        return 2;
    }
    const char *how = argv[1], *prog = argv[2];
    int slices = (int)(SLICES * wl_scale() + 0.5);
    for (int s = 0; s < (slices > 0 ? slices : 1); s++) {
        long iters = wl_slice_iters(SLICE_MS);
        double t0 = burn_thread_cpu();
        pre_exec_work(iters);
        wl_truth_add("pre_exec_work", burn_thread_cpu() - t0);
    }
    wl_thread_end();
    if (wl_truth_write(wl_truth_path(argc, argv)) != 0)
        return 1;
    printf("wl_exec: exec %s via %s\n", prog, how);
    fflush(stdout); /* exec discards stdio buffers */

    char *const args[] = {(char *)prog, NULL};
    if (strcmp(how, "execve") == 0)
        execve(prog, args, environ);
    else if (strcmp(how, "execv") == 0)
        execv(prog, args);
    else if (strcmp(how, "execvp") == 0)
        execvp(prog, args);
    else if (strcmp(how, "execl") == 0)
        execl(prog, prog, (char *)NULL);
    else {
        fprintf(stderr, "wl_exec: unknown exec call %s\n", how);
        return 2;
    }
    perror("exec");
    return 127;
}
