/* park.c - parking a finalized CPython's threads at exit. See park.h. */
#include "park.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "modules.h"
#include "thread_signal.h"
#include "unwind.h"

enum { PARK_WALK = 32, PARK_ROUNDS = 10, PARK_WAIT_MS = 20 };
static const char park_magic[] = "flameprof-park";
static _Atomic uint64_t park_lo, park_hi, park_text_lo, park_text_hi;
static atomic_int park_answers, park_retry;
static atomic_int park_len;

bool park_is_signal(const siginfo_t *si)
{
    /* The value first: getpid is a system call, made only for a signal that carries it. */
    return si->si_code == SI_QUEUE && si->si_value.sival_ptr == (void *)park_magic &&
           si->si_pid == (pid_t)syscall(SYS_getpid);
}

void park_if_inside(const ucontext_t *uc, uint64_t stack_hi, bool in_syscall)
{
    uint64_t lo = atomic_load(&park_lo), hi = atomic_load(&park_hi);
    uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    bool inside = false;
    if (lo && stack_hi) {
        uint64_t pcs[PARK_WALK];
        unwind_ctx ctx = { .modules = modules_current() };
        unwind_result r = unwind_walk(&ctx, unwind_regs_of(uc), stack_hi, pcs, PARK_WALK);
        for (size_t i = 0; i < r.depth && !inside; i++) {
            uint64_t at = i ? pcs[i] - 1 : pcs[i];
            inside = at >= lo && at < hi;
        }
    }
    bool safe = in_syscall ||
                (pc >= atomic_load(&park_text_lo) && pc < atomic_load(&park_text_hi));
    if (inside && safe)
        atomic_fetch_add(&park_len, 1);
    else if (inside)
        atomic_fetch_add(&park_retry, 1); /* ask again a moment later */
    atomic_fetch_add(&park_answers, 1);
    if (!inside || !safe)
        return;
    sigset_t all;
    sigfillset(&all);
    for (;;)
        sigsuspend(&all);
}

/* Signal every other thread that can answer (a parked one blocks every signal); wait
 * (bounded) for the answers. */
static void park_round(int signo, pid_t self)
{
    pid_t pid = getpid();
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    int sent = 0;
    atomic_store(&park_answers, 0);
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0 || tid == self || util_thread_blocks_signal(tid, signo))
            continue; /* ours (the drain thread blocks all), parked, or not answering */
        if (util_queue_signal(pid, tid, signo, (void *)park_magic) == 0)
            sent++;
    }
    closedir(d);
    struct timespec ms = { 0, 1000000 };
    for (int i = 0; i < PARK_WAIT_MS && atomic_load(&park_answers) < sent; i++)
        nanosleep(&ms, NULL);
}

size_t park_python(int signo, uint64_t lo, uint64_t hi, uint64_t text_lo, uint64_t text_hi)
{
    static pthread_mutex_t one = PTHREAD_MUTEX_INITIALIZER;
    /* One parker at a time; busy (or left locked by a fork): the other one is at it. */
    if (!lo || lo >= hi || pthread_mutex_trylock(&one) != 0)
        return 0;
    atomic_store(&park_hi, hi);
    atomic_store(&park_text_lo, text_lo);
    atomic_store(&park_text_hi, text_hi);
    atomic_store(&park_lo, lo);
    pid_t self = (pid_t)syscall(SYS_gettid);
    struct timespec ms = { 0, 1000000 };
    for (int round = 0; round < PARK_ROUNDS; round++) {
        atomic_store(&park_retry, 0);
        park_round(signo, self);
        if (atomic_load(&park_retry) == 0)
            break; /* every thread in the loop is parked */
        nanosleep(&ms, NULL);
    }
    atomic_store(&park_lo, 0);
    pthread_mutex_unlock(&one);
    return (size_t)atomic_load(&park_len);
}
