/* endings.c - write the profile, then die of the same signal. */
#include "endings.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "owner.h"

enum { WAIT_LIMIT_MS = 10000 }; /* a stuck writer must not keep a dying process alive */

static const int watched[] = { SIGTERM, SIGINT, SIGHUP };
static atomic_bool ours[sizeof watched / sizeof *watched]; /* our handler is installed */
static atomic_int requested;
static atomic_bool done, writer_alive;
static endings_sigaction_fn real_sigaction;
static struct sigaction our_action;

static int watched_index(int sig)
{
    for (size_t i = 0; i < sizeof watched / sizeof *watched; i++)
        if (watched[i] == sig)
            return (int)i;
    return -1;
}

bool endings_is_watched(int sig)
{
    return watched_index(sig) >= 0;
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

void endings_request_profile(int why)
{
    if (!owner_is_self())
        return; /* a raw-cloned child: the writer it would wait for is the parent's */
    int saved_errno = errno;
    int expected = 0;
    atomic_compare_exchange_strong(&requested, &expected, why);
    struct timespec ms = { 0, 1000000 };
    for (int i = 0; i < WAIT_LIMIT_MS && atomic_load(&writer_alive) && !atomic_load(&done); i++)
        nanosleep(&ms, NULL);
    errno = saved_errno;
}

void endings_end_by(int sig)
{
    if (!real_sigaction)
        return; /* before endings_init: the caller carries on as if nothing happened */
    endings_request_profile(sig);
    die_of(sig);
}

static void on_ending(int sig)
{
    endings_end_by(sig);
}

void endings_init(endings_sigaction_fn real)
{
    real_sigaction = real;
    memset(&our_action, 0, sizeof our_action);
    our_action.sa_handler = on_ending;
    /* SA_ONSTACK: on the thread's alternate signal stack where it has one (a goroutine's
     * stack is too small for a signal frame); the handler itself needs a few hundred bytes. */
    our_action.sa_flags = SA_RESTART | SA_ONSTACK;
    sigemptyset(&our_action.sa_mask);
    for (size_t i = 0; real && i < sizeof watched / sizeof *watched; i++) {
        struct sigaction cur;
        if (real(watched[i], NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
            cur.sa_handler != SIG_DFL)
            continue;
        if (real(watched[i], &our_action, NULL) == 0)
            atomic_store(&ours[i], true);
    }
}

static bool is_default(const struct sigaction *act)
{
    return !(act->sa_flags & SA_SIGINFO) && act->sa_handler == SIG_DFL;
}

int endings_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int i = watched_index(sig);
    bool was_ours = atomic_load(&ours[i]);
    if (act && is_default(act) && real_sigaction) {
        /* The program asks for the default: ours is the default plus the profile. */
        struct sigaction prev;
        int rc = real_sigaction(sig, &our_action, &prev);
        if (rc == 0)
            atomic_store(&ours[i], true);
        if (rc == 0 && old) {
            *old = prev;
            if (was_ours) {
                memset(old, 0, sizeof *old);
                old->sa_handler = SIG_DFL;
            }
        }
        return rc;
    }
    int rc = real_sigaction(sig, act, old);
    if (rc == 0 && act)
        atomic_store(&ours[i], false); /* the program's choice replaces ours */
    if (rc == 0 && old && was_ours) {
        memset(old, 0, sizeof *old); /* what the program would have seen without us */
        old->sa_handler = SIG_DFL;
    }
    return rc;
}

int endings_requested(void)
{
    return atomic_load(&requested);
}

void endings_done(void)
{
    atomic_store(&done, true);
}

void endings_set_writer(bool alive)
{
    atomic_store(&writer_alive, alive);
}
