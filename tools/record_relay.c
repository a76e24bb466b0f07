/* record_relay.c - the signals that end a recording, passed on to the command. */
#include "record_relay.h"

#include <signal.h>
#include <stdbool.h>

static const int relayed[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
#define NRELAYED (int)(sizeof relayed / sizeof *relayed)

static struct sigaction old_action[NRELAYED];
static bool installed[NRELAYED];
static sigset_t old_mask;
static volatile sig_atomic_t command_pid; /* 0: nobody to send to */

static void relay(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    pid_t to = command_pid;
    if (to <= 0)
        return;
    /* The terminal's ^C, ^\ and hang-up went to the whole foreground group already. */
    if (si && si->si_code == SI_KERNEL && sig != SIGTERM)
        return;
    if (si && si->si_code <= 0 && si->si_pid == to)
        return; /* the command signalling us: not back to it */
    kill(to, sig);
}

void record_relay_install(void)
{
    sigset_t block;
    sigemptyset(&block);
    for (int i = 0; i < NRELAYED; i++)
        sigaddset(&block, relayed[i]);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    struct sigaction sa = { .sa_sigaction = relay, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < NRELAYED; i++) {
        sigaction(relayed[i], NULL, &old_action[i]);
        if (old_action[i].sa_handler == SIG_IGN)
            continue; /* nohup's choice holds for the whole tree */
        installed[i] = sigaction(relayed[i], &sa, NULL) == 0;
    }
}

void record_relay_child(void)
{
    for (int i = 0; i < NRELAYED; i++)
        if (installed[i])
            sigaction(relayed[i], &old_action[i], NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

void record_relay_started(pid_t pid)
{
    command_pid = pid > 0 ? pid : 0;
    sigprocmask(SIG_SETMASK, &old_mask, NULL); /* one that came meanwhile is sent now */
}

void record_relay_done(void)
{
    command_pid = 0;
}
