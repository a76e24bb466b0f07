/* goexit.c - redirect a Go program's runtime.exit through our _exit (see goexit.h). */

#include "goexit.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "golang.h"

enum { EXIT_STACK = 64 * 1024 };

/* Named for the assembly below. busy: a thread is on the exit stack. */
static int exit_busy __asm__("flameprof_goexit_busy") __attribute__((used));
static _Alignas(16) unsigned char exit_stack[EXIT_STACK] __asm__("flameprof_goexit_stack")
    __attribute__((used));

/* On our stack, never returns: our _exit interposer writes the profile, then exits. */
__attribute__((used, noreturn)) static void on_go_exit(int status) __asm__("flameprof_on_go_exit");
static void on_go_exit(int status)
{
    _exit(status);
}

/* Entered by a jmp from runtime.exit, with Go's ABI0 frame: the status at 8(%rsp). */
void flameprof_goexit_trampoline(void) __attribute__((visibility("hidden")));
__asm__(".text\n"
        ".p2align 4\n"
        "flameprof_goexit_trampoline:\n"
        "    movl 8(%rsp), %edi\n"
        "    movl $1, %eax\n"
        "    xchgl %eax, flameprof_goexit_busy(%rip)\n"
        "    testl %eax, %eax\n"
        "    jnz 2f\n"
        "    leaq flameprof_goexit_stack+65536(%rip), %rsp\n"
        "    call flameprof_on_go_exit\n"
        "    ud2\n"
        /* Another thread is writing the profile and will end the process: wait for it. */
        "2:  movl $34, %eax\n" /* pause */
        "    syscall\n"
        "    jmp 2b\n");

_Static_assert(EXIT_STACK == 65536, "the trampoline's stack top");

void goexit_install(bool quiet)
{
    uint64_t fn = golang_exit_fn();
    if (!golang_is_go())
        return;
    const char *why = NULL;
    if (!fn) {
        why = "its runtime.exit is not the code this version of flameprof knows";
    } else {
        uint8_t patch[12] = { 0x48, 0xb8 }; /* movabs $imm64, %rax */
        uint64_t target = (uint64_t)(uintptr_t)flameprof_goexit_trampoline;
        memcpy(patch + 2, &target, 8);
        patch[10] = 0xff; /* jmp *%rax */
        patch[11] = 0xe0;
        uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        uintptr_t lo = fn & ~(page - 1), hi = (fn + sizeof patch + page - 1) & ~(page - 1);
        /* Writable, not executable, for the copy: no Go code runs yet. */
        if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0) {
            why = strerror(errno);
        } else {
            memcpy((void *)(uintptr_t)fn, patch, sizeof patch);
            if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_EXEC) != 0)
                why = "cannot make its code executable again"; /* not reached on Linux */
        }
    }
    if (why && !quiet)
        fprintf(stderr, "flameprof: pid %ld: Go program: its exit cannot be intercepted (%s); "
                        "when it exits, only the raw spill remains (flameprof report)\n",
                (long)getpid(), why);
}
