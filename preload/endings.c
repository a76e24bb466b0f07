/* endings.c - write the profile, then end as the program would have. */
#include "endings.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "owner.h"
#include "rawfile.h"


/* Who stands in the kernel's disposition of a watched signal. */
enum {
    ST_PROGRAM, /* the program's own handler or SIG_IGN, untouched */
    ST_OURS,    /* our_action, where the program has SIG_DFL */
    ST_WRAPPED, /* on_wrapped, around the program's SA_RESETHAND handler */
};

static const int watched[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
#define N_WATCHED (sizeof watched / sizeof *watched)
static atomic_int state[N_WATCHED];

/* The program's SA_RESETHAND handlers, for on_wrapped: two slots a signal, the one in use
 * published by pointer, so a handler in flight never reads a half-written action. */
static struct sigaction app_slots[N_WATCHED][2];
static _Atomic(struct sigaction *) app_cur[N_WATCHED];

static unsigned wait_ms; /* a stuck writer must not keep a dying process alive */
static atomic_int requested;
static void (*_Atomic g_wake_writer)(void); /* endings_set_wake */
static atomic_bool done, writer_alive, writing;
static atomic_bool looked; /* the writer has made its first look (endings_writer_looked) */
/* How long an ending waits for a writer that has not made its first look, in ms: longer
 * only on a machine too loaded to run a thread for that long. Such a writer is stuck on a
 * lock another thread held when this process was copied by a raw clone (the loader's:
 * test_clone ghostlock) and would have kept the process from exiting FLAMEPROF_STOP_WAIT
 * seconds, for a profile never written. */
enum { FIRST_LOOK_WAIT_MS = 1000 };
static atomic_long writing_tid;
static endings_sigaction_fn real_sigaction;
static struct sigaction our_action;

/* The line for a profile that could not be written, composed before it is needed (the
 * handler only copies it out). */
static char lost_head[64], lost_tail[2 * PATH_MAX + 128];
static atomic_flag lost_said = ATOMIC_FLAG_INIT;

static int watched_index(int sig)
{
    for (size_t i = 0; i < N_WATCHED; i++)
        if (watched[i] == sig)
            return (int)i;
    return -1;
}

static void die_of(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    if (real_sigaction(sig, &dfl, NULL) != 0)
        _exit(128 + sig);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig); /* not reached: the default action terminates */
}

bool endings_is_watched(int sig)
{
    return watched_index(sig) >= 0;
}

/* ---- the line for a lost profile ---- */

static void compose_lost_line(void)
{
    snprintf(lost_head, sizeof lost_head, "flameprof: pid %ld: ", (long)getpid());
    const char *raw = rawfile_path();
    if (raw)
        snprintf(lost_tail, sizeof lost_tail,
                 " before its profile was written; the samples are in %s: "
                 "`flameprof report %s` turns them into the profile\n", raw, raw);
    else
        snprintf(lost_tail, sizeof lost_tail,
                 " before its profile was written, and there is no raw spill\n");
    atomic_flag_clear(&lost_said);
}

static size_t put_str(char *buf, size_t len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - len)
        n = cap - len;
    memcpy(buf + len, s, n);
    return len + n;
}

/* The writer never ran: nothing was spilled, so the raw spill (its header alone) goes, and
 * one line says why there is no profile. Async-signal-safe. */
static void say_never_ran(void)
{
    if (atomic_flag_test_and_set(&lost_said))
        return;
    rawfile_discard();
    static char line[sizeof lost_head + 160];
    size_t n = put_str(line, 0, sizeof line, lost_head);
    n = put_str(line, n, sizeof line, "not profiled: " ENDINGS_NEVER_RAN "\n");
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* stderr may be gone: nothing else to tell */
}

/* Async-signal-safe: one write of a line composed earlier, once. */
static void say_lost(int why)
{
    if (atomic_flag_test_and_set(&lost_said))
        return;
    static char line[sizeof lost_head + sizeof lost_tail + 64];
    size_t n = put_str(line, 0, sizeof line, lost_head);
    if (why == ENDINGS_EXIT) {
        n = put_str(line, n, sizeof line, "the process exited");
    } else {
        char num[12], *p = num + sizeof num;
        *--p = 0;
        for (unsigned v = (unsigned)why; p == num + sizeof num - 1 || v; v /= 10)
            *--p = (char)('0' + v % 10);
        n = put_str(line, n, sizeof line, "the process ended by signal ");
        n = put_str(line, n, sizeof line, p);
    }
    n = put_str(line, n, sizeof line, lost_tail);
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* stderr may be gone: nothing else to tell */
}

/* ---- asking for the profile ---- */

void endings_request_profile(int why)
{
    if (!owner_is_self())
        return; /* a raw-cloned child: the writer it would wait for is the parent's */
    int saved_errno = errno;
    /* The writer is the aggregator thread, or whichever thread is already in the exit
     * path's write; never wait for ourselves. */
    long self = syscall(SYS_gettid);
    bool pending = atomic_load(&writer_alive) || atomic_load(&writing);
    if (wait_ms == 0) { /* asked not to wait: the raw spill is what remains */
        if (pending && !atomic_load(&done))
            say_lost(why);
        errno = saved_errno;
        return;
    }
    int expected = 0;
    atomic_compare_exchange_strong(&requested, &expected, why);
    void (*wake)(void) = atomic_load(&g_wake_writer);
    if (wake)
        wake(); /* the writer may be dozing (aggregator.h) */
    struct timespec ms = { 0, 1000000 };
    for (unsigned i = 0; !atomic_load(&done); i++) {
        bool writing_here = atomic_load(&writing) && atomic_load(&writing_tid) == self;
        pending = atomic_load(&writer_alive) || atomic_load(&writing);
        if (writing_here || !pending || i >= wait_ms)
            break;
        if (!atomic_load(&looked) && !atomic_load(&writing) && i >= FIRST_LOOK_WAIT_MS) {
            say_never_ran();
            errno = saved_errno;
            return;
        }
        nanosleep(&ms, NULL);
    }
    if (pending && !atomic_load(&done))
        say_lost(why);
    errno = saved_errno;
}

void endings_end_by(int sig)
{
    if (!real_sigaction)
        return; /* before endings_init: the caller carries on as if nothing happened */
    /* The init of a pid namespace (a program run as a container's pid 1) is not killed by
     * a signal it left at SIG_DFL: the kernel drops it, and so do we. */
    if (getpid() == 1)
        return;
    endings_request_profile(sig);
    die_of(sig);
}

static void on_ending(int sig)
{
    endings_end_by(sig);
}

/* The program's handler was installed with SA_RESETHAND (node's SIGINT/SIGTERM handler
 * resets the terminal and raises the signal again). We installed it without, and do the
 * reset here: to our_action, the default plus the profile, so that the signal it raises
 * again ends the process through us. */
static void on_wrapped(int sig, siginfo_t *si, void *uc)
{
    int i = watched_index(sig);
    const struct sigaction *app = atomic_load(&app_cur[i]);
    int expected = ST_WRAPPED;
    if (owner_check() == OWNER_SHARED) { /* a vfork child: its own one-shot, our records */
        int saved_errno = errno;       /* stay the parent's */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        real_sigaction(sig, &dfl, NULL);
        errno = saved_errno;
    } else if (atomic_compare_exchange_strong(&state[i], &expected, ST_OURS)) {
        int saved_errno = errno;
        real_sigaction(sig, &our_action, NULL);
        errno = saved_errno;
    } else if (expected == ST_OURS) {
        on_ending(sig); /* another thread took the one-shot first: this one meets SIG_DFL */
        return;
    }
    /* With the three arguments either way: on x86-64 the kernel passes them to every
     * handler, and handlers installed without SA_SIGINFO do read them (node's does not ask
     * for SA_SIGINFO but is declared with all three). */
    app->sa_sigaction(sig, si, uc);
}

/* ---- the program's sigaction ---- */

/* The kernel reads the handler word alone, whatever SA_SIGINFO says. */
static bool is_default(const struct sigaction *act)
{
    return act->sa_handler == SIG_DFL;
}

static bool resets(const struct sigaction *act)
{
    return (act->sa_flags & SA_RESETHAND) && act->sa_handler != SIG_DFL &&
           act->sa_handler != SIG_IGN;
}

/* Install what stands for act in the kernel; *view gets what the program would have seen
 * as the previous action without us. */
static int install(int sig, const struct sigaction *act, struct sigaction *view)
{
    int i = watched_index(sig);
    int prev = atomic_load(&state[i]);
    struct sigaction prev_app;
    if (prev == ST_WRAPPED)
        prev_app = *atomic_load(&app_cur[i]);
    const struct sigaction *kernel = act;
    int next = ST_PROGRAM;
    struct sigaction wrapper;
    if (act && is_default(act)) {
        kernel = &our_action;
        next = ST_OURS;
    } else if (act && resets(act)) {
        struct sigaction *slot = &app_slots[i][atomic_load(&app_cur[i]) == &app_slots[i][0]];
        *slot = *act;
        atomic_store(&app_cur[i], slot);
        wrapper = *act;
        wrapper.sa_sigaction = on_wrapped;
        wrapper.sa_flags = (act->sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
        kernel = &wrapper;
        next = ST_WRAPPED;
    }
    int rc = real_sigaction(sig, kernel, view);
    if (rc != 0)
        return rc;
    if (act)
        atomic_store(&state[i], next);
    if (prev == ST_OURS) {
        memset(view, 0, sizeof *view);
        view->sa_handler = SIG_DFL;
    } else if (prev == ST_WRAPPED) {
        *view = prev_app;
    }
    return 0;
}

bool endings_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *rc)
{
    if (!real_sigaction || watched_index(sig) < 0)
        return false;
    struct sigaction view;
    *rc = install(sig, act, &view);
    if (*rc == 0 && old)
        *old = view;
    return true;
}

void endings_init(endings_sigaction_fn real, unsigned wait_seconds)
{
    wait_ms = wait_seconds * 1000u;
    for (size_t i = 0; i < N_WATCHED; i++)
        atomic_store(&app_cur[i], &app_slots[i][0]);
    memset(&our_action, 0, sizeof our_action);
    our_action.sa_handler = on_ending;
    /* SA_ONSTACK: on the thread's alternate signal stack where it has one (a goroutine's
     * stack is too small for a signal frame); the handler itself needs little. */
    our_action.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&our_action.sa_mask);
    real_sigaction = real; /* last: from here on, the program's calls come to us */
    for (size_t i = 0; real && i < N_WATCHED; i++) {
        struct sigaction cur;
        if (real(watched[i], NULL, &cur) != 0 || !is_default(&cur))
            continue;
        if (real(watched[i], &our_action, NULL) == 0)
            atomic_store(&state[i], ST_OURS);
    }
}

/* ---- the writer's side ---- */

int endings_requested(void)
{
    return atomic_load(&requested);
}

void endings_writing(bool now)
{
    if (now) {
        atomic_store(&writing_tid, syscall(SYS_gettid));
        atomic_store(&writing, true);
    } else {
        atomic_store(&done, true);
        atomic_store(&writing, false);
    }
}

void endings_set_wake(void (*wake)(void))
{
    atomic_store(&g_wake_writer, wake);
}

void endings_set_writer(bool alive)
{
    if (alive) { /* a new profile starts (at start, in a fork child, after a failed exec) */
        atomic_store(&requested, 0);
        atomic_store(&writing, false);
        atomic_store(&done, false);
        atomic_store(&looked, false);
        compose_lost_line();
    }
    atomic_store(&writer_alive, alive);
}

void endings_writer_looked(void)
{
    atomic_store(&looked, true);
}
