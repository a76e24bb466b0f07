/* dlsym_next_a - a library whose function looks up the next definition of a name after
 * itself, as interposing libraries do: dlsym(RTLD_NEXT) must answer for this library, the
 * caller, although libflameprof.so interposes dlsym. */
#include <dlfcn.h>

int dlsym_next_value(void);
int dlsym_next_from_a(void);
int dlsym_next_b_present(void); /* makes libdlsym_next_b.so a dependency of this one */

int dlsym_next_value(void)
{
    return 1;
}

int dlsym_next_from_a(void)
{
    int (*next)(void) = (int (*)(void))dlsym(RTLD_NEXT, "dlsym_next_value");
    return next && dlsym_next_b_present() ? next() : -1;
}
