/* sampler.c - SIGPROF handler, per-thread CPU timers, handler cost accounting; the handler
 * also answers park.h's question at exit. */
#include "sampler.h"

#include "array.h"
#include "procmaps.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "aggregator.h"
#include "endings.h"
#include "golang.h"
#include "handler_cost.h"
#include "hotspot.h"
#include "jit_jvmmap.h"
#include "jit_trampolines.h"
#include "modules.h"
#include "park.h"
#include "perfclock.h"
#include "phases.h"
#include "pyframes.h"
#include "ticker.h"
#include "rbframes.h"
#include "stackcopy.h"
#include "unwind.h"

/* sigev_value of our timers: tells our signals from the program's own SIGPROFs. */
static const char sampler_magic[] = "flameprof";

static ring *g_ring;
/* CFI rows the walks looked up (cfi_memo.h): mapped at start, given to the handlers
 * (g_memo) only once faulted in, by the aggregator after MEMO_AFTER_SAMPLES samples
 * (sampler_prepare_memo). Its 2 MB cost ~0.2 ms of kernel time to clear (or, in a fork
 * child, to copy) and save ~2 us a sample: a short process (a shell's subshell, a compiler
 * pass) is better off searching the tables. NULL: none (the walk searches the tables). */
static cfi_memo *g_memo_mapped;
static _Atomic(cfi_memo *) g_memo;
enum { MEMO_AFTER_SAMPLES = 64 };
static lastwalk_pool *g_lastwalk; /* threads' previous walks (lastwalk.h); NULL: none */
enum { LASTWALK_POOL = 1024 }; /* threads at once with a record; more walk in full */
static long g_period_ns;
static bool g_itimer; /* fallback source: setitimer, signals carry SI_KERNEL */
static bool g_empty;  /* benchmark floor: count the signal, do nothing else */
static bool g_wall;   /* wall mode: a monotonic timer per thread (ticker.h) */
static bool g_perf;   /* CPU source: perf_event task clock per thread (perfclock.h) */
static ticker_thread_fn g_create;
static atomic_bool g_sampling;
static atomic_int g_inflight;

static _Atomic uint64_t st_signals, st_weight, st_dropped, st_dropped_weight, st_foreign,
    st_threads, st_timer_failures, st_offcpu, st_perf_threads;

/* The program's own SIGPROF disposition, as it set it (its flags and mask included): what
 * sigaction() reports to it, and what foreign SIGPROFs are chained to. Written outside the
 * handler; app_has_handler says whether it is a function to call. app_reset: an
 * SA_RESETHAND handler has run once, so the program's disposition is SIG_DFL again. */
static struct sigaction app_action;
static atomic_bool app_has_handler, app_reset;
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

/* This thread's stack, [lo, hi): every unwinder read stays inside it. Initial-exec TLS
 * is a plain fs-relative load, safe in a signal handler; zero when unknown. */
static __thread uint64_t tls_stack_lo __attribute__((tls_model("initial-exec")));
static __thread uint64_t tls_stack_hi __attribute__((tls_model("initial-exec")));
static __thread uint32_t tls_tid __attribute__((tls_model("initial-exec"))); /* 0: unknown */
/* This thread's previous walk (claimed at its first sample; tried: claimed or none left). */
static __thread unwind_last *tls_last __attribute__((tls_model("initial-exec")));
static __thread bool tls_last_tried __attribute__((tls_model("initial-exec")));

/* Writable mappings at start, for threads that existed before us (their bounds are not in
 * TLS). Sorted by start; read-only after sampler_init. */
typedef struct range { uint64_t lo, hi; } range;
static range *start_maps;
static size_t start_maps_len;

/* Timers we created, so every one can be deleted at stop. */
typedef struct thread_timer {
    pid_t tid;
    timer_t timer;
    int perf_fd; /* >= 0: a perf_event task clock instead of the timer */
    bool used;
} thread_timer;
static pthread_mutex_t timers_lock = PTHREAD_MUTEX_INITIALIZER;
static thread_timer *timers;
static size_t timers_len, timers_cap;
static pthread_key_t thread_key;

static uint64_t now_ns(void)
{
    struct timespec ts; /* clock_gettime is async-signal-safe (a vDSO call here) */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The start-time mapping holding addr: its index, or start_maps_len if none. */
static size_t start_map_of(uint64_t addr)
{
    size_t a = 0, b = start_maps_len;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (start_maps[mid].hi <= addr)
            a = mid + 1;
        else
            b = mid;
    }
    return a < start_maps_len && start_maps[a].lo <= addr ? a : start_maps_len;
}

static bool stack_bounds(uint64_t sp, uint64_t *lo, uint64_t *hi)
{
    /* A goroutine's stack, in Go's heap (golang.h); a thread's system stack is below. */
    if (golang_stack_bounds(golang_current(), sp, lo, hi))
        return true;
    if (tls_stack_hi && sp >= tls_stack_lo && sp < tls_stack_hi) {
        *lo = tls_stack_lo;
        *hi = tls_stack_hi;
        return true;
    }
    size_t a = start_map_of(sp);
    if (a < start_maps_len) {
        *lo = start_maps[a].lo;
        *hi = start_maps[a].hi;
        return true;
    }
    return false;
}

/* A SIGPROF that is not ours goes to the program's disposition: SIG_DFL ends the process,
 * SIG_IGN nothing, a handler runs with the semantics its flags asked for: its sa_mask is
 * already blocked (our kernel action carries it, see install_ours); SA_RESETHAND: once,
 * then SIG_DFL; SA_NODEFER: SIGPROF unblocked while it runs (two syscalls, only for such
 * handlers). Runs first in on_signal, with nothing of
 * ours on the stack but on_signal's small frame: the program's handler gets nearly the
 * whole alternate stack (Go's own handler runs here, on Go's 32 KB signal stack). */
static void chain_to_app(int sig, siginfo_t *si, void *uc)
{
    atomic_fetch_add_explicit(&st_foreign, 1, memory_order_relaxed);
    if (!atomic_load_explicit(&app_has_handler, memory_order_acquire)) {
        /* SIG_DFL terminates on SIGPROF: so it does here (profile first); SIG_IGN ignores. */
        if (atomic_load_explicit(&app_reset, memory_order_relaxed) ||
            (!(app_action.sa_flags & SA_SIGINFO) && app_action.sa_handler == SIG_DFL))
            endings_end_by(sig);
        return;
    }
    int flags = app_action.sa_flags;
    void (*info_fn)(int, siginfo_t *, void *) = app_action.sa_sigaction;
    void (*plain_fn)(int) = app_action.sa_handler;
    if ((flags & SA_RESETHAND) && atomic_exchange(&app_has_handler, false))
        atomic_store(&app_reset, true);
    sigset_t unblock, saved;
    if (flags & SA_NODEFER) {
        sigemptyset(&unblock);
        sigaddset(&unblock, sig);
        pthread_sigmask(SIG_UNBLOCK, &unblock, &saved);
    }
    if (flags & SA_SIGINFO)
        info_fn(sig, si, uc);
    else
        plain_fn(sig);
    if (flags & SA_NODEFER)
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

static bool is_our_signal(const siginfo_t *si)
{
    if (g_wall)
        return ticker_decode(si) != 0;
    if (g_perf && perfclock_is_ours(si))
        return true;
    if (g_itimer)
        return si->si_code == SI_KERNEL;
    return si->si_code == SI_TIMER && si->si_value.sival_ptr == (void *)sampler_magic;
}

/* Wall mode's on/off-CPU state (README, "Wall-clock mode"): off CPU is the kernel's own
 * "sleeping": blocked in a system call, waiting for an event. A thread that runs, or is
 * runnable and waits for a CPU (preempted, or woken and not yet back from its call), is on
 * CPU: it wants the CPU (ps's and top's R state; async-profiler's wall mode says the same).
 *
 * The wall timer's signal is generated at the period by the kernel; the handler runs when the
 * thread next returns to user space. A thread blocked when the signal came has its call
 * interrupted: restarted (the kernel puts the pc back on the `syscall` instruction, 0f 05) or
 * failed with EINTR (pc just past it, rax = -EINTR). Anything else ran or was runnable: a
 * call that returned normally while the signal was pending (a read of /dev/zero, a woken
 * futex wait) is on-CPU time. User code is almost never exactly on a `syscall` instruction.
 * Known limits: an uninterruptible wait (disk I/O, state D) is not broken by the signal and
 * reads as on CPU; a call that notices the signal after its wake-up (a socket read, woken
 * by data) restarts and reads as off CPU.
 * Reads two code bytes around the pc, within its page (the pc's page is mapped): no system
 * call, no clock read. */
static bool in_system_call(const ucontext_t *uc)
{
    uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    int64_t rax = (int64_t)uc->uc_mcontext.gregs[REG_RAX];
    const unsigned char *p = (const unsigned char *)(uintptr_t)pc;
    if ((pc & 4095) <= 4094 && p[0] == 0x0f && p[1] == 0x05)
        return true;
    return rax == -EINTR && (pc & 4095) >= 2 && p[-2] == 0x0f && p[-1] == 0x05;
}

static void take_sample(const siginfo_t *si, const ucontext_t *uc)
{
    if (g_empty) {
        atomic_fetch_add_explicit(&st_signals, 1, memory_order_relaxed);
        return;
    }
    PHASE_NOW(ph0);
    PHASE_AB_BEGIN();
    uint64_t t0 = now_ns();
    uint32_t weight = 1;
    if (g_wall)
        weight = ticker_decode(si);
    else if (si->si_code == SI_TIMER && si->si_overrun > 0)
        weight += si->si_overrun < 1000000 ? (uint32_t)si->si_overrun : 1000000;
    atomic_fetch_add_explicit(&st_signals, 1, memory_order_relaxed);
    ring_sample *s = ring_claim(g_ring);
    if (!s) {
        atomic_fetch_add_explicit(&st_dropped, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&st_dropped_weight, weight, memory_order_relaxed);
        return;
    }
    unwind_regs regs = unwind_regs_of(uc);
    uint64_t lo, hi;
    if (!stack_bounds(regs.sp, &lo, &hi))
        hi = regs.sp; /* unknown stack: keep only the interrupted pc */
    if (!tls_last_tried) {
        tls_last = lastwalk_claim(g_lastwalk);
        tls_last_tried = true;
    }
    unwind_ctx ctx = { modules_current(), jit_trampolines(), hotspot_interpreter(),
                       golang_current(),
                       atomic_load_explicit(&g_memo, memory_order_acquire), tls_last, 0 };
    PHASE_ADD(PHASE_ENTRY, ph0);
    PHASE_NOW(ph1);
    /* Interpreted frames first, then the native walk above them, then the two merged
     * where the interpreter's evaluation loop runs them (pyframes.h). A Ruby process has
     * no Python frames (npy 0) and gets its own splice (rbframes.h); each reader is off,
     * and costs a load and a branch, in processes not running its interpreter. */
    unwind_prefetch(&ctx, regs, hi); /* loads in flight while the interpreter is read */
    pyframes_gil gil;
    size_t npy = pyframes_read(s->py, RING_MAX_PY, &gil);
    PHASE_ADD(PHASE_PY, ph1);
    PHASE_COUNT_ADD(PHASE_PYFRAMES, npy);
    PHASE_NOW(ph2);
    unwind_result r = unwind_walk(&ctx, regs, hi, s->pcs + npy, RING_MAX_DEPTH - npy);
    PHASE_ADD(PHASE_WALK, ph2);
    s->copy = 0;
    if (r.outside && !r.truncated && r.depth && !ctx.go &&
        !module_map_find(ctx.modules, s->pcs[npy + r.depth - 1])) {
        /* The walk ended in code no module covers: likely a library dlopen'ed since the
         * last tick. Its table is built now, and the stack walked again with it. */
        aggregator_poke_modules(t0);
        s->copy = stackcopy_take(regs, hi, t0);
    }
    PHASE_NOW(ph3);
    if (npy)
        r.depth = pyframes_splice(s->pcs, npy, r.depth, RING_MAX_DEPTH, s->py, npy);
    bool runtime = false; /* interpreter frames spliced in (rbframes.h) */
    r.depth = rbframes_splice(s->pcs, r.depth, RING_MAX_DEPTH, &runtime);
    PHASE_ADD(PHASE_SPLICE, ph3);
    PHASE_NOW(ph4);
    s->weight = weight;
    s->time_ns = t0; /* the clock read for the cost histogram: time costs nothing more */
    s->gen = ctx.modules ? ctx.modules->gen : 0;
    s->tid = tls_tid ? tls_tid : (uint32_t)syscall(SYS_gettid);
    s->depth = (uint16_t)r.depth;
    s->flags = (r.truncated ? RING_TRUNCATED : 0) | (r.outside ? RING_JIT : 0) |
               (r.methods ? RING_METHODS : 0) |
               (g_wall && in_system_call(uc) ? RING_OFFCPU : 0) | (npy ? RING_PY : 0);
    s->npy = (uint32_t)npy;
    if (s->flags & RING_OFFCPU)
        atomic_fetch_add_explicit(&st_offcpu, weight, memory_order_relaxed);
    s->flags |= (runtime ? RING_RUNTIME : 0) | (gil == PYFRAMES_GIL_HELD ? RING_GIL_HELD : 0) |
                (gil == PYFRAMES_GIL_NOT_HELD ? RING_GIL_NOT_HELD : 0);
    if (r.outside) /* JIT code is named as of now: the JVM's generation; the perf map's
                      follows from time_ns (jit_perfmap.h), with no system call here */
        s->jvm_gen = jit_jvm_gen();
    if (ring_publish(g_ring, s))
        aggregator_wake(); /* the drain thread dozed: a sample after 100 ms idle */
    atomic_fetch_add_explicit(&st_weight, weight, memory_order_relaxed);
    uint64_t cost = now_ns() - t0;
    handler_cost_add(cost);
    PHASE_AB_END(cost);
    PHASE_ADD(PHASE_PUBLISH, ph4);
    PHASE_ADD(PHASE_TOTAL, ph0);
}

size_t sampler_park_python(uint64_t lo, uint64_t hi, uint64_t text_lo, uint64_t text_hi)
{
    return g_ring ? park_python(SAMPLER_SIGNAL, lo, hi, text_lo, text_hi) : 0;
}

/* park.h's question: the thread's stack end (0: unknown) and whether it waits in a call. */
static void answer_park(const ucontext_t *uc)
{
    uint64_t lo, hi;
    if (!stack_bounds((uint64_t)uc->uc_mcontext.gregs[REG_RSP], &lo, &hi))
        hi = 0;
    park_if_inside(uc, hi, in_system_call(uc));
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    if (park_is_signal(si)) {
        answer_park(uc);
    } else if (!is_our_signal(si)) {
        chain_to_app(sig, si, uc);
    } else {
        atomic_fetch_add_explicit(&g_inflight, 1, memory_order_acquire);
        if (atomic_load_explicit(&g_sampling, memory_order_acquire))
            take_sample(si, uc);
        atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_release);
    }
    errno = saved_errno;
}

/* ---- start-time mappings (for threads that predate us) ---- */

static bool add_start_map(void *ctx, const util_mapping *m)
{
    size_t *cap = ctx;
    if (m->perms[0] != 'r' || m->perms[1] != 'w')
        return true;
    if (!UTIL_RESERVE(start_maps, *cap, start_maps_len + 1))
        return false;
    start_maps[start_maps_len++] = (range){ m->lo, m->hi };
    return true;
}

static void load_start_maps(void)
{
    size_t cap = 0;
    util_procmaps_each(add_start_map, &cap);
}

/* ---- timers ---- */

static void timers_record(pid_t tid, timer_t t, int perf_fd)
{
    pthread_mutex_lock(&timers_lock);
    size_t i = 0;
    while (i < timers_len && timers[i].used)
        i++;
    if (i == timers_len && !UTIL_RESERVE(timers, timers_cap, timers_len + 1)) {
        pthread_mutex_unlock(&timers_lock);
        if (perf_fd >= 0)
            perfclock_close(perf_fd);
        else
            timer_delete(t);
        return;
    }
    if (i == timers_len)
        timers_len++;
    timers[i] = (thread_timer){ tid, t, perf_fd, true };
    pthread_mutex_unlock(&timers_lock);
}

static void arm_timer(pid_t tid, clockid_t clock);
static bool start_itimer(void);

/* Another thread's CPU clock: CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED for that tid. */
static clockid_t thread_clock(pid_t tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | 6);
}

/* Arm every thread of the process; with except, all but that one. */
static void arm_all_threads(pid_t except)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid > 0 && tid != except)
            arm_timer(tid, thread_clock(tid));
    }
    closedir(d);
}

/* The perf_event source for tid, if chosen and possible (under the fd cap). */
static bool arm_perf(pid_t tid)
{
    pthread_mutex_lock(&timers_lock); /* perfclock's open set is kept under it */
    int fd = perfclock_open(tid, g_period_ns, SAMPLER_SIGNAL);
    pthread_mutex_unlock(&timers_lock);
    if (fd < 0)
        return false;
    timers_record(tid, NULL, fd);
    atomic_fetch_add_explicit(&st_threads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st_perf_threads, 1, memory_order_relaxed);
    return true;
}

static void arm_timer(pid_t tid, clockid_t clock)
{
    if (g_perf && arm_perf(tid))
        return; /* else (fd cap, the thread is gone): a CPU timer as before */
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SAMPLER_SIGNAL;
    sev.sigev_value.sival_ptr = (void *)sampler_magic;
    sev._sigev_un._tid = tid;
    timer_t t;
    if (timer_create(clock, &sev, &t) != 0) {
        atomic_fetch_add_explicit(&st_timer_failures, 1, memory_order_relaxed);
        return;
    }
    struct itimerspec its;
    its.it_interval.tv_sec = g_period_ns / 1000000000;
    its.it_interval.tv_nsec = g_period_ns % 1000000000;
    its.it_value = its.it_interval;
    /* Record first: a stop that runs concurrently must find and delete it. */
    timers_record(tid, t, -1);
    if (timer_settime(t, 0, &its, NULL) != 0)
        atomic_fetch_add_explicit(&st_timer_failures, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&st_threads, 1, memory_order_relaxed);
}

/* pthread key destructor: the thread is exiting; its timer must go (timers are a limited
 * resource: thread churn would otherwise exhaust RLIMIT_SIGPENDING). */
static void on_thread_exit(void *unused)
{
    (void)unused;
    /* The previous walk's record goes back to the pool; this thread's handler (it runs on
     * this thread only) sees none from here on. */
    unwind_last *last = tls_last;
    tls_last = NULL;
    tls_last_tried = true;
    atomic_signal_fence(memory_order_seq_cst);
    lastwalk_release(g_lastwalk, last);
    pid_t tid = (pid_t)syscall(SYS_gettid);
    pthread_mutex_lock(&timers_lock);
    for (size_t i = 0; i < timers_len; i++) {
        if (timers[i].used && timers[i].tid == tid) {
            if (timers[i].perf_fd >= 0)
                perfclock_close(timers[i].perf_fd);
            else
                timer_delete(timers[i].timer);
            timers[i].used = false;
        }
    }
    pthread_mutex_unlock(&timers_lock);
}

/* The main thread's stack from the start-time maps: the mapping holding sp, extended down
 * to the stack limit as it may grow (glibc's pthread_getattr_np reckons the same, but
 * reads /proc/self/maps again to do it: ~40 us of every process's start). Only the top is
 * used to bound reads (stack_bounds' callers walk from sp up). */
static bool main_stack_bounds(uint64_t sp)
{
    size_t a = start_map_of(sp);
    if (a >= start_maps_len)
        return false;
    uint64_t hi = start_maps[a].hi, lo = start_maps[a].lo, floor = a ? start_maps[a - 1].hi : 0;
    struct rlimit rl;
    uint64_t limit = getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                         ? (uint64_t)rl.rlim_cur
                         : hi;
    uint64_t grown = limit < hi - floor ? hi - limit : floor;
    tls_stack_lo = grown < lo ? grown : lo;
    tls_stack_hi = hi;
    return true;
}

static void record_stack_bounds(void)
{
    if (tls_tid == (uint32_t)getpid() &&
        main_stack_bounds((uint64_t)(uintptr_t)__builtin_frame_address(0)))
        return;
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        tls_stack_lo = (uint64_t)(uintptr_t)addr;
        tls_stack_hi = tls_stack_lo + size;
    }
    pthread_attr_destroy(&attr);
}

/* This thread's record of its previous walk, claimed and its pages faulted in here rather
 * than at its first samples (lastwalk_touch). A sample that lands before the assignment
 * claims its own; that one is then left unused (rare: one pool entry). */
static void claim_lastwalk(void)
{
    if (tls_last_tried)
        return;
    unwind_last *l = lastwalk_claim(g_lastwalk);
    lastwalk_touch(l);
    atomic_signal_fence(memory_order_seq_cst);
    if (!tls_last_tried) {
        tls_last = l;
        tls_last_tried = true;
    } else {
        lastwalk_release(g_lastwalk, l);
    }
}

void sampler_thread_start(void)
{
    if (!atomic_load(&g_sampling) || g_itimer)
        return;
    claim_lastwalk();
    tls_tid = (uint32_t)syscall(SYS_gettid);
    record_stack_bounds();
    if (g_wall) { /* armed now; the ticker's scans find the threads started otherwise */
        atomic_fetch_add_explicit(&st_threads, 1, memory_order_relaxed);
        ticker_add_self((pid_t)tls_tid);
        return;
    }
    pthread_setspecific(thread_key, (void *)sampler_magic);
    arm_timer((pid_t)tls_tid, CLOCK_THREAD_CPUTIME_ID);
}

void sampler_arm_existing_threads(void)
{
    if (!g_itimer && !g_wall)
        arm_all_threads((pid_t)syscall(SYS_gettid));
}

void sampler_resume(void)
{
    atomic_store(&g_sampling, true);
    uint64_t threads = atomic_load(&st_threads); /* the same threads, not new ones */
    if (g_wall)
        ticker_start(g_period_ns, SAMPLER_SIGNAL, g_create);
    else if (g_itimer)
        start_itimer();
    else
        arm_all_threads(0);
    atomic_store(&st_threads, threads);
}

static bool start_itimer(void)
{
    struct itimerval it;
    it.it_interval.tv_sec = g_period_ns / 1000000000;
    it.it_interval.tv_usec = (g_period_ns % 1000000000) / 1000;
    it.it_value = it.it_interval;
    return setitimer(ITIMER_PROF, &it, NULL) == 0;
}

static bool probe_timer_create(void)
{
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_NONE;
    timer_t t;
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t) != 0)
        return false;
    timer_delete(t);
    return true;
}

/* Our kernel action for SIGPROF. SA_ONSTACK: where the thread has an alternate signal stack
 * the handler runs on it. Go gives each of its threads one and requires it (os/signal): a
 * handler run on a goroutine's small heap-allocated stack writes its signal frame over
 * whatever lies below, and Go's own handler, chained from ours, refuses to run off its
 * signal stack. Threads without one run the handler on their own stack, as before; we never
 * set one up ourselves (Go would adopt it as its signal stack). mask: the program's
 * handler's sa_mask (empty without one), so that handler, when chained, runs with what it
 * asked blocked at no cost per signal; ours then runs with the same signals blocked, which
 * only delays them by a sample's few microseconds. SA_RESTART: our signals never make a
 * system call fail with EINTR (a program's handler installed without it therefore gets
 * restarted calls too: the one flag we cannot keep for it). */
static int install_ours(const sigset_t *mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sa.sa_mask = *mask;
    return real_sigaction(SAMPLER_SIGNAL, &sa, NULL);
}

static bool is_handler(const struct sigaction *a)
{
    return (a->sa_flags & SA_SIGINFO) || (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN);
}

void sampler_set_mode(bool wall, bool perf, ticker_thread_fn create)
{
    g_wall = wall;
    g_perf = perf && !wall;
    g_create = create;
}

int sampler_init(unsigned freq, ring *r, bool empty)
{
    g_ring = r;
    g_empty = empty;
    g_period_ns = 1000000000L / (long)freq;
    if (pthread_key_create(&thread_key, on_thread_exit) != 0)
        return -1;
    load_start_maps();
    if (!g_memo_mapped)
        g_memo_mapped = cfi_memo_new();
    if (!g_lastwalk)
        g_lastwalk = lastwalk_pool_new(LASTWALK_POOL); /* NULL: every walk is whole */
    golang_detect(); /* before any timer: the handler reads its layout unlocked */
    /* libc's, not our interposer: the program's calls go through sampler_app_sigaction. */
    real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(
        RTLD_NEXT, "sigaction");
    struct sigaction old;
    if (!real_sigaction || real_sigaction(SAMPLER_SIGNAL, NULL, &old) != 0)
        return -1;
    app_action = old;
    sigset_t none;
    sigemptyset(&none);
    if (install_ours(is_handler(&old) ? &old.sa_mask : &none) != 0)
        return -1;
    atomic_store(&app_has_handler, is_handler(&old));
    char why[128];
    if (g_perf && !perfclock_probe(why, sizeof why)) {
        fprintf(stderr, "flameprof: FLAMEPROF_SOURCE=perf: perf_event_open refused (%s); "
                        "using per-thread CPU timers\n", why);
        g_perf = false;
    }
    g_itimer = !g_wall && !probe_timer_create();
    atomic_store(&g_sampling, true);
    if (g_wall && (!g_create || ticker_start(g_period_ns, SAMPLER_SIGNAL, g_create) != 0)) {
        atomic_store(&g_sampling, false);
        return -1;
    }
    if (g_itimer && !start_itimer()) {
        atomic_store(&g_sampling, false);
        return -1;
    }
    return 0;
}

void sampler_stop(void)
{
    atomic_store(&g_sampling, false);
    ticker_stop();
    if (g_itimer) {
        struct itimerval zero;
        memset(&zero, 0, sizeof zero);
        setitimer(ITIMER_PROF, &zero, NULL);
    }
    pthread_mutex_lock(&timers_lock);
    for (size_t i = 0; i < timers_len; i++) {
        if (timers[i].used && timers[i].perf_fd >= 0)
            perfclock_close(timers[i].perf_fd);
        else if (timers[i].used)
            timer_delete(timers[i].timer);
        timers[i].used = false;
    }
    pthread_mutex_unlock(&timers_lock);
    /* A handler that started before the flag flipped may still be writing a sample. */
    for (int i = 0; i < 100000 && atomic_load(&g_inflight) > 0; i++)
        sched_yield();
}

void sampler_after_fork_child(void)
{
    /* POSIX timers are not inherited, and the other threads are gone. */
    pthread_mutex_init(&timers_lock, NULL);
    timers_len = 0;
    perfclock_forget_all_open(); /* the parent's threads' events, inherited as fds */
    ticker_after_fork_child();
    atomic_store(&g_inflight, 0);
    _Atomic uint64_t *counters[] = { &st_signals, &st_weight, &st_dropped, &st_dropped_weight,
                                     &st_foreign, &st_threads, &st_timer_failures,
                                     &st_offcpu, &st_perf_threads };
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
        atomic_store(counters[i], 0);
    handler_cost_reset();
    ring_reset(g_ring);
    atomic_store(&g_memo, NULL); /* the parent's pages, shared until written: the child's
                                    aggregator makes them its own before handlers write */
    tls_tid = (uint32_t)syscall(SYS_gettid); /* the child's thread has a new id */
}

void sampler_after_fork_arm(void)
{
    if (g_wall && atomic_load(&g_sampling))
        ticker_start(g_period_ns, SAMPLER_SIGNAL, g_create);
    else if (g_itimer)
        start_itimer(); /* itimers are not inherited either */
    else if (atomic_load(&g_sampling))
        arm_timer((pid_t)tls_tid, CLOCK_THREAD_CPUTIME_ID);
}

void sampler_prepare_memo(void)
{
    if (!g_memo_mapped || atomic_load_explicit(&g_memo, memory_order_relaxed) != NULL ||
        atomic_load_explicit(&st_signals, memory_order_relaxed) < MEMO_AFTER_SAMPLES)
        return;
    cfi_memo_populate(g_memo_mapped);
    atomic_store_explicit(&g_memo, g_memo_mapped, memory_order_release);
}

bool sampler_idle(void)
{
    return atomic_load(&g_inflight) == 0;
}

bool sampler_release_for_exit(void)
{
    /* g_sampling is false (sampler_stop): a handler entering from now on sees it after
     * counting itself in flight, and returns without a walk. */
    if (atomic_load(&g_sampling) || atomic_load(&g_inflight) != 0)
        return false;
    cfi_memo *m = g_memo_mapped;
    g_memo_mapped = NULL;
    atomic_store(&g_memo, NULL);
    cfi_memo_free(m);
    return true;
}

void sampler_get_stats(sampler_stats *o)
{
    *o = (sampler_stats){ 0 }; /* every field, those added later too */
    o->signals = atomic_load(&st_signals);
    o->weight = atomic_load(&st_weight);
    o->dropped = atomic_load(&st_dropped);
    o->dropped_weight = atomic_load(&st_dropped_weight);
    o->foreign = atomic_load(&st_foreign);
    o->threads = atomic_load(&st_threads) + (g_itimer ? 1 : 0);
    o->timer_failures = atomic_load(&st_timer_failures);
    o->cost_median_ns = handler_cost_percentile(0.5);
    o->cost_p99_ns = handler_cost_percentile(0.99);
    o->source = g_itimer ? "setitimer(ITIMER_PROF), no overrun weighting"
                         : "timer_create(CLOCK_THREAD_CPUTIME_ID) per thread, overrun-weighted";
    o->perf_threads = atomic_load(&st_perf_threads);
    o->offcpu_weight = atomic_load(&st_offcpu);
    o->wall = g_wall;
    if (g_wall) {
        o->source = "timer_create(CLOCK_MONOTONIC) per thread, at most 16 x frequency signals "
                    "a second, overrun-weighted";
        ticker_counts(&o->wall_armed, &o->wall_failed, &o->wall_skipped, &o->wall_stretch);
    } else if (g_perf) {
        o->source = o->perf_threads == o->threads
                        ? "perf_event task-clock per thread"
                        : "perf_event task-clock per thread (timer_create beyond the fd cap)";
    }
    o->app_handler = atomic_load(&app_has_handler);
}

bool sampler_app_sigaction(const struct sigaction *act, struct sigaction *old)
{
    if (!g_ring || !real_sigaction)
        return false;
    struct sigaction prev = app_action;
    if (atomic_load(&app_reset))
        prev.sa_handler = SIG_DFL; /* as the kernel resets it: the handler only, flags kept */
    if (act) {
        atomic_store(&app_has_handler, false); /* no chaining while it changes */
        app_action = *act;
        atomic_store(&app_reset, false);
        sigset_t none;
        sigemptyset(&none);
        install_ours(is_handler(act) ? &act->sa_mask : &none);
        atomic_store(&app_has_handler, is_handler(act));
    }
    if (old)
        *old = prev;
    return true;
}
