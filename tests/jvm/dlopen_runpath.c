/* dlopen_runpath - run under LD_PRELOAD=libflameprof.so, which interposes dlsym (to hand a
 * JVM launcher its JNI_CreateJavaVM): glibc takes dlsym's and dlopen's caller from their
 * return address, and an interposer that called the real one instead of jumping to it would
 * make itself the caller. Two lookups that depend on the caller:
 * - dlsym(RTLD_NEXT) in a library (libdlsym_next_a.so) finds the next definition after it
 *   (libdlsym_next_b.so's, 42), not the one after libflameprof.so (a's own, 1);
 * - a dlopen by bare name searches the calling program's own RUNPATH ($ORIGIN here).
 * Exits 0 when both answer right, 1 otherwise. */
#include <dlfcn.h>
#include <stdio.h>

int dlsym_next_from_a(void);

int main(void)
{
    int next = dlsym_next_from_a();
    printf("%s dlsym(RTLD_NEXT) answers for its caller: %d\n", next == 42 ? "ok    " : "FAILED",
           next);
    if (next != 42)
        return 1;
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
