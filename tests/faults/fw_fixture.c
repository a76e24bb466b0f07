/* The library fw_host dlchurn and fw_elf dlopen, call and dlclose: fixture_burn must be
 * named in the profile although the library is gone by the time the profile is written. */
#include "fw_common.h"

uint64_t fixture_burn(long iters);

BURN_NOIPA uint64_t fixture_burn(long iters)
{
    BURN(iters, 61);
    return burn_sink;
}
