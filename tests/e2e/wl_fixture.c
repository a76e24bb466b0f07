/* A shared library that wl_mix dlopens by path after start: the profiler has to learn about a
 * module mapped after it started, and name a function in it. */
#include "burn.h"

uint64_t fixture_work(long iters);

BURN_NOIPA uint64_t fixture_work(long iters)
{
    BURN(iters, 5);
    return burn_sink;
}
