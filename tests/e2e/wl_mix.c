/* The main accuracy workload: one process, four threads, and on the main thread a static
 * function, a function in a dlopen'ed library, a C++ virtual method, an inlined hot loop, a
 * 60-deep recursion and a frame that realigns its stack.
 *
 * usage: wl_mix FIXTURE.so [--truth PATH]
 *
 * Every function runs in many short slices, round-robin, rather than in one long block: a
 * sampler that only looks at scheduler ticks attributes a whole tick to whatever runs at the
 * tick, and slicing spreads any bias from start-up, phase or drift evenly over all functions. */
#include "wl_common.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { SLICES = 25, RECURSION_DEPTH = 60 };
static const double SLICE_MS = 20.0;

uint64_t cpp_work(long iters); /* wl_mix_shapes.cpp: calls geo::Square::area(int) const */

/* A static function: only the symbol table (or DWARF) knows its name. */
BURNER(static_work, 1)

/* Always inlined: its instructions live in inline_parent, and only the DWARF inline records
 * say they belong to hot_inline. The whole loop is in here, so every sample taken in
 * inline_parent's body is in hot_inline. */
static inline __attribute__((always_inline)) uint64_t hot_inline(long iters)
{
    BURN(iters, 2);
    return burn_sink;
}

BURN_NOIPA uint64_t inline_parent(long iters)
{
    return hot_inline(iters) + 1;
}

BURN_NOIPA uint64_t recurse_bottom(long iters)
{
    BURN(iters, 3);
    return burn_sink;
}

/* depth frames of recurse, then recurse_bottom. The volatile read after the call keeps the
 * call from being a tail call, so the compiler cannot turn the recursion into a loop. */
BURN_NOIPA uint64_t recurse(int depth, long iters)
{
    volatile int keep = depth;
    uint64_t r = depth <= 1 ? recurse_bottom(iters) : recurse(depth - 1, iters);
    return r + (uint64_t)keep;
}

BURN_NOIPA uint64_t aligned_leaf(long iters, volatile char *p)
{
    BURN(iters, 6);
    p[1] = (char)burn_sink;
    return burn_sink;
}

/* An over-aligned local makes the compiler realign the stack (`and $-64, %rsp`): the frame's
 * CFA is then rbp-based in the CFI even without frame pointers, and the stack pointer says
 * nothing about where the return address is. Its callee's samples must still unwind through. */
BURN_NOIPA uint64_t aligned_frame(long iters)
{
    _Alignas(64) volatile char buf[256];
    buf[0] = 1;
    uint64_t r = aligned_leaf(iters, buf);
    return r + (uint64_t)buf[0];
}

BURN_NOIPA uint64_t work_1x(long iters)
{
    BURN(iters, 11);
    return burn_sink;
}

BURN_NOIPA uint64_t work_2x(long iters)
{
    BURN(iters, 12);
    return burn_sink;
}

BURN_NOIPA uint64_t work_3x(long iters)
{
    BURN(iters, 13);
    return burn_sink;
}

struct worker {
    const char *name;
    uint64_t (*fn)(long);
    int mult;
    int slices;
};

static void *worker_main(void *arg)
{
    const struct worker *w = arg;
    for (int s = 0; s < w->slices; s++) {
        long iters = wl_slice_iters(SLICE_MS * w->mult);
        double t0 = burn_thread_cpu();
        w->fn(iters);
        wl_truth_add(w->name, burn_thread_cpu() - t0);
    }
    wl_thread_end();
    return NULL;
}

typedef uint64_t (*work_fn)(long);

static uint64_t call_recurse(long iters)
{
    return recurse(RECURSION_DEPTH, iters);
}

int main(int argc, char **argv)
{
    double main_t0 = burn_thread_cpu();
    wl_init();
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE.so [--truth PATH]\n", argv[0]);
        return 2;
    }
    void *fixture = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!fixture) {
        fprintf(stderr, "wl_mix: dlopen: %s\n", dlerror());
        return 2;
    }
    work_fn fixture_work = (work_fn)(uintptr_t)dlsym(fixture, "fixture_work");
    if (!fixture_work) {
        fprintf(stderr, "wl_mix: dlsym fixture_work: %s\n", dlerror());
        return 2;
    }
    int slices = (int)(SLICES * wl_scale() + 0.5);
    if (slices < 1)
        slices = 1;

    static struct worker workers[3] = {
        {"work_1x", work_1x, 1, 0},
        {"work_2x", work_2x, 2, 0},
        {"work_3x", work_3x, 3, 0},
    };
    pthread_t tids[3];
    for (int i = 0; i < 3; i++) {
        workers[i].slices = slices;
        if (pthread_create(&tids[i], NULL, worker_main, &workers[i]) != 0) {
            fprintf(stderr, "wl_mix: pthread_create failed\n");
            return 2;
        }
    }

    /* One entry per measured function; the truth name is the frame name the profile must show. */
    static const struct {
        const char *name;
        const char *also; /* a second frame that covers exactly the same CPU */
        work_fn fn;
    } mains[] = {
        {"static_work", NULL, static_work},
        {"fixture_work", NULL, NULL},
        {"geo::Square::area(int) const", NULL, cpp_work},
        {"inline_parent", "hot_inline_[i]", inline_parent},
        {"recurse", "recurse_bottom", call_recurse},
        {"aligned_frame", "aligned_leaf", aligned_frame},
    };
    for (int s = 0; s < slices; s++) {
        for (size_t k = 0; k < sizeof mains / sizeof mains[0]; k++) {
            work_fn fn = mains[k].fn ? mains[k].fn : fixture_work;
            long iters = wl_slice_iters(SLICE_MS);
            double t0 = burn_thread_cpu();
            fn(iters);
            double dt = burn_thread_cpu() - t0;
            wl_truth_add(mains[k].name, dt);
            if (mains[k].also)
                wl_truth_add(mains[k].also, dt);
        }
    }
    for (int i = 0; i < 3; i++)
        pthread_join(tids[i], NULL);
    wl_truth_add("main", burn_thread_cpu() - main_t0);
    wl_thread_end();
    wl_truth_int("threads", 4);
    wl_truth_int("recursion_depth", RECURSION_DEPTH);
    printf("wl_mix: done, %d slices\n", slices);
    /* Return from main: the profile must be written on this path too. */
    return wl_truth_write(wl_truth_path(argc, argv)) == 0 ? 0 : 1;
}
