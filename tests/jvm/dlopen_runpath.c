/* dlopen_runpath - run under LD_PRELOAD=libflameprof.so: a dlopen by bare name must still
 * search the calling program's own RUNPATH ($ORIGIN here, where libdlopen_fixture.so is),
 * although the library interposes dlopen (to see libjvm.so coming). glibc takes the caller
 * from dlopen's return address: an interposer that called the real dlopen instead of
 * jumping to it would make itself the caller and the lookup would fail.
 * Exits 0 when the library loads and answers, 1 otherwise. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    void *h = dlopen("libdlopen_fixture.so", RTLD_NOW);
    if (!h) {
        printf("FAILED dlopen by name through the program's RUNPATH: %s\n", dlerror());
        return 1;
    }
    int (*answer)(void) = (int (*)(void))dlsym(h, "dlopen_fixture_answer");
    int got = answer ? answer() : -1;
    printf("%s dlopen by name through the program's RUNPATH: answer %d\n",
           got == 42 ? "ok    " : "FAILED", got);
    return got == 42 ? 0 : 1;
}
