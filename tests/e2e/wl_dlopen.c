/* Libraries dlopen'ed and run at once: each path given is a copy of wl_fixture (its own
 * module to the loader), dlopen'ed and its fixture_work burned right after, before the
 * profiler's drain thread has had a tick to notice the new module. Every sample in it must
 * still carry its callers (stackcopy.h: the stack is copied and walked again). */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wl_common.h"

typedef uint64_t (*work_fn)(long iters);

static const double RUN_MS = 60.0; /* CPU per library: 15 samples at 250 Hz */

int main(int argc, char **argv)
{
    double main_t0 = burn_thread_cpu();
    wl_init();
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--truth") == 0) {
            i++;
            continue;
        }
        void *lib = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
        work_fn fn = lib ? (work_fn)(uintptr_t)dlsym(lib, "fixture_work") : NULL;
        if (!fn) {
            fprintf(stderr, "wl_dlopen: %s: %s\n", argv[i], dlerror());
            return 2;
        }
        double t0 = burn_thread_cpu();
        fn(wl_iters(RUN_MS * wl_scale()));
        wl_truth_add("fixture_work", burn_thread_cpu() - t0);
        n++;
    }
    wl_truth_add("main", burn_thread_cpu() - main_t0);
    wl_thread_end();
    wl_truth_int("libraries", n);
    printf("wl_dlopen: done, %d libraries\n", n);
    return wl_truth_write(wl_truth_path(argc, argv)) == 0 ? 0 : 1;
}
