/* A shared library that wl_mix dlopens by path after start: the profiler has to learn about a
 * module mapped after it started, and name a function in it. */
#define WL_OWN_GLOBALS
#include "wl_common.h"

static volatile uint64_t wl_seed = 0x2545f4914f6cdd1dull;
static volatile uint64_t wl_sink;

uint64_t fixture_work(long iters);

WL_NOIPA uint64_t fixture_work(long iters)
{
    WL_BURN(iters, 5);
    return wl_sink;
}
