/* A service between two requests: a burst of CPU, an idle stretch, another burst.
 *
 * usage: wl_idle [--truth PATH]
 *   before_burn  ~200 ms of CPU
 *   then "idle\n" on stdout (flushed) and 2 s asleep: the driver counts the profiler's
 *   drain-thread wake-ups meanwhile
 *   after_burn   ~200 ms of CPU: its first samples must wake the dozing drain thread
 * stdout is the same on every run. */
#include "wl_common.h"

#include <stdio.h>
#include <time.h>

static const double BURST_MS = 200.0, IDLE_S = 2.0;

BURNER(before_burn, 61)
BURNER(after_burn, 62)

int main(int argc, char **argv)
{
    wl_init();
    const char *truth_path = wl_truth_path(argc, argv);
    wl_burn_measured("before_burn", before_burn, wl_iters(BURST_MS));
    printf("idle\n");
    fflush(stdout);
    struct timespec idle = { (time_t)IDLE_S, 0 };
    while (nanosleep(&idle, &idle) != 0)
        ;
    wl_burn_measured("after_burn", after_burn, wl_iters(BURST_MS));
    wl_thread_end();
    printf("wl_idle: done\n");
    return wl_truth_write(truth_path) == 0 ? 0 : 1;
}
