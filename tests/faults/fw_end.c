/* fw_end - the ways a process ends (issue 5, "Endings"). Each mode burns CPU in a function
 * with a known name, then ends in one particular way; faults.py checks that the ending is
 * what it is without the profiler and that the profile (or the raw spill) is there.
 *
 * usage: fw_end MODE [ARG]
 *   wait-signal       checks that SIGTERM/SIGINT/SIGHUP look SIG_DFL, prints "ready" after
 *                     0.3 s of CPU, then burns (two threads) until a signal kills it
 *   reset-default     the same after signal(SIGTERM|SIGINT|SIGHUP, SIG_DFL) (many programs
 *                     reset dispositions at start)
 *   pid1              as wait-signal, in a child that is the init (pid 1) of a new pid
 *                     namespace (root only; exits 77 where that is refused); the parent
 *                     says the child's pid on stderr ("pid1: N") and exits with its status
 *   handler-exit      own SIGTERM handler sets a flag; main then calls exit(3)
 *   handler-_exit     own SIGTERM handler calls _exit(3) itself
 *   resethand         own handler for SIGTERM/SIGINT/SIGHUP/SIGQUIT, installed with
 *                     SA_RESETHAND, writes "cleanup" and raises the signal again (node's
 *                     way); prints what sigaction reports for it, then as wait-signal
 *   reraise           own handler writes "cleanup", restores SIG_DFL with signal() and
 *                     kill()s its own process with the signal again
 *   sysv              own handler installed with __sysv_signal (what signal() is in strict
 *                     ISO C: one-shot, not deferred), writes "cleanup" and raises again
 *   burn-forever [N]  prints "ready", burns on N threads (default 2) until killed
 *   segv SECONDS      burns SECONDS of CPU, then dereferences NULL
 *   abort SECONDS     burns SECONDS of CPU, then abort()
 *   _exit | _Exit     burns 0.3 s, then _exit(5) / _Exit(5)
 *   _exit-two         burns 0.3 s, then _exit(5) from main and, 0.5 ms later (while the
 *                     profile is being written), from a second thread (Chromium's renderer;
 *                     the library before the fix lost the profile 5 runs of 5)
 *   segv-handler      own SIGSEGV handler writes a line and _exit(9)s (a crash reporter)
 *   exec HOW          burns in pre_exec_burn, then execs itself (mode after-exec) through
 *                     HOW: execvpe, execle, execlp, fexecve
 *   exec-fail         an exec that fails (ENOENT), then more work, then return 0
 *   fork              fork without exec; the child burns and _exit(0)s
 *   spawn             posix_spawn of itself (mode spawned)
 *   vfork             vfork + execv of itself (mode spawned)
 *   vfork-signal      the same with its own SIGTERM handler, which the child sets back to
 *                     SIG_DFL before exec (shared memory: our record of the parent's
 *                     handler must not change); the parent then raises SIGTERM
 *   daemon DIR        double fork + setsid; the grandchild closes every descriptor, opens
 *                     DIR/daemon.log (as daemons do), burns, logs, exits; stderr to
 *                     DIR/daemon.err
 *   plain [SECONDS]   burns SECONDS (0.2) of CPU, prints a line, returns 7 (configuration
 *                     tests) */
#include "fw_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sched.h>
#include <sys/wait.h>

extern char **environ;

BURNER(end_burn, 1)
BURNER(end_thread_burn, 2)
BURNER(pre_exec_burn, 3)
BURNER(post_exec_burn, 4)
BURNER(after_failed_exec_burn, 5)
BURNER(child_burn, 6)
BURNER(parent_burn, 7)
BURNER(spawned_burn, 8)
BURNER(daemon_burn, 9)
BURNER(exit_burn, 10)
BURNER(plain_burn, 11)

static const int endings[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
static int *volatile null_ptr; /* a NULL the compiler cannot see (no trap instruction) */
static volatile sig_atomic_t got_term;

static void *burn_thread(void *arg)
{
    (void)arg;
    for (;;)
        end_thread_burn(FW_CHUNK);
    return NULL;
}

/* What a program sees when it asks: SIG_DFL for each ending signal, profiler or not. */
static void report_dispositions(void)
{
    for (size_t i = 0; i < sizeof endings / sizeof *endings; i++) {
        struct sigaction old;
        if (sigaction(endings[i], NULL, &old) != 0)
            FW_SAY("sigaction(%d) failed\n", endings[i]);
        else if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            FW_SAY("signal %d: NOT default\n", endings[i]);
        else
            FW_SAY("signal %d: default\n", endings[i]);
    }
}

/* Burns on `threads` threads (main included) until killed; 60 s of wall time at most, so a
 * lost signal cannot hang a test. */
static int burn_until_killed(int threads)
{
    for (int i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, burn_thread, NULL) != 0)
            return 2;
    }
    fw_burn_cpu(0.3, end_burn);
    FW_SAY("ready\n");
    double end = burn_clock(CLOCK_MONOTONIC) + 60;
    while (burn_clock(CLOCK_MONOTONIC) < end && !got_term)
        end_burn(FW_CHUNK);
    return got_term ? 0 : 1;
}

static void on_term_flag(int sig)
{
    (void)sig;
    got_term = 1;
}

static void on_term_exit(int sig)
{
    (void)sig;
    _exit(3);
}

static void on_segv(int sig)
{
    (void)sig;
    static const char msg[] = "fw_end: caught SIGSEGV\n";
    if (write(1, msg, sizeof msg - 1) < 0) {
        /* nothing to do: we are about to exit anyway */
    }
    _exit(9);
}

static void say_cleanup(void)
{
    static const char msg[] = "cleanup\n";
    if (write(1, msg, sizeof msg - 1) < 0) {
        /* nothing to do: the signal ends us anyway */
    }
}

static void on_ending_raise(int sig)
{
    say_cleanup();
    raise(sig);
}

static void on_ending_reraise(int sig)
{
    say_cleanup();
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
}

/* Own handlers for every ending signal, each of which ends the process by the signal's
 * default action in the end. */
static int own_ending_handlers(const char *how)
{
    for (size_t i = 0; i < sizeof endings / sizeof *endings; i++) {
        int sig = endings[i];
        if (strcmp(how, "sysv") == 0) {
            if (__sysv_signal(sig, on_ending_raise) == SIG_ERR)
                return 2;
            continue;
        }
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = strcmp(how, "resethand") == 0 ? on_ending_raise : on_ending_reraise;
        sa.sa_flags = strcmp(how, "resethand") == 0 ? SA_RESETHAND : 0;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sig, &sa, NULL) != 0 || sigaction(sig, NULL, &old) != 0)
            return 2;
        FW_SAY("signal %d: %s handler%s\n", sig,
               old.sa_handler == sa.sa_handler ? "own" : "OTHER",
               (old.sa_flags & SA_RESETHAND) ? ", SA_RESETHAND" : "");
    }
    return burn_until_killed(2);
}

static int own_term_handler(void (*fn)(int), int status)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0)
        return 2;
    burn_until_killed(2);
    if (!got_term)
        return 1;
    FW_SAY("handled SIGTERM\n");
    exit(status);
}

static const char *self_path(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        exit(2);
    }
    buf[n] = 0;
    return buf;
}

static int do_exec(const char *how)
{
    char self[4096];
    self_path(self, sizeof self);
    fw_burn_cpu(0.2, pre_exec_burn);
    FW_SAY("exec via %s\n", how);
    /* The PATH-searching calls find us by our base name, as they would a real command. */
    char *slash = strrchr(self, '/');
    *slash = 0;
    const char *base = slash + 1;
    char path[8192];
    snprintf(path, sizeof path, "%s:%s", self, getenv("PATH") ? getenv("PATH") : "/usr/bin");
    setenv("PATH", path, 1);
    char full[8192 + 16];
    snprintf(full, sizeof full, "%s/%s", self, base);
    char *argv[] = { (char *)base, "after-exec", NULL };
    if (strcmp(how, "execvpe") == 0) {
        execvpe(base, argv, environ);
    } else if (strcmp(how, "execle") == 0) {
        execle(full, base, "after-exec", (char *)NULL, environ);
    } else if (strcmp(how, "execlp") == 0) {
        execlp(base, base, "after-exec", (char *)NULL);
    } else if (strcmp(how, "fexecve") == 0) {
        int fd = open(full, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            fexecve(fd, argv, environ);
    } else {
        fprintf(stderr, "fw_end: unknown exec call %s\n", how);
        return 2;
    }
    perror("exec");
    return 127;
}

static int do_exec_fail(void)
{
    fw_burn_cpu(0.2, pre_exec_burn);
    char *argv[] = { "nothing", NULL };
    execv("/nonexistent/flameprof-fault/nothing", argv);
    FW_SAY("exec failed: %s\n", errno == ENOENT ? "ENOENT" : "other error");
    /* The program goes on: this work is as much the program's as the work before. */
    fw_burn_cpu(0.2, after_failed_exec_burn);
    return 0;
}

static int wait_child(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 100;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int as_pid1(void)
{
    if (unshare(CLONE_NEWPID) != 0) {
        fprintf(stderr, "fw_end: unshare(CLONE_NEWPID): %s\n", strerror(errno));
        return 77;
    }
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        report_dispositions();
        return burn_until_killed(2);
    }
    fprintf(stderr, "pid1: %ld\n", (long)pid);
    return wait_child(pid);
}

static int do_fork(void)
{
    fw_burn_cpu(0.15, parent_burn);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        fw_burn_cpu(0.2, child_burn);
        _exit(0); /* as forked children usually end: no atexit, no destructors */
    }
    fw_burn_cpu(0.15, parent_burn);
    int rc = wait_child(pid);
    FW_SAY("child status %d\n", rc);
    return rc;
}

static int do_spawn(const char *how)
{
    char self[4096];
    self_path(self, sizeof self);
    char *argv[] = { self, "spawned", NULL };
    fw_burn_cpu(0.15, parent_burn);
    pid_t pid;
    if (strcmp(how, "spawn") == 0) {
        int e = posix_spawn(&pid, self, NULL, NULL, argv, environ);
        if (e != 0) {
            fprintf(stderr, "posix_spawn: %s\n", strerror(e));
            return 2;
        }
    } else {
        volatile bool own_term = strcmp(how, "vfork-signal") == 0;
        if (own_term)
            signal(SIGTERM, on_term_flag);
        pid = vfork();
        if (pid < 0)
            return 2;
        if (pid == 0) {
            if (own_term) /* a shell's child puts back the default before exec */
                signal(SIGTERM, SIG_DFL);
            execv(self, argv);
            _exit(127);
        }
        if (own_term) { /* the parent's own handler is still the one it has and runs */
            struct sigaction now;
            sigaction(SIGTERM, NULL, &now);
            FW_SAY("parent's SIGTERM handler %s\n",
                   now.sa_handler == on_term_flag ? "kept" : "lost");
            raise(SIGTERM);
            FW_SAY("parent's SIGTERM handler %s\n", got_term ? "ran" : "did not run");
        }
    }
    fw_burn_cpu(0.15, parent_burn);
    int rc = wait_child(pid);
    FW_SAY("child status %d\n", rc);
    return rc;
}

static int do_daemon(const char *dir)
{
    char log[4096], err[4096];
    snprintf(log, sizeof log, "%s/daemon.log", dir);
    snprintf(err, sizeof err, "%s/daemon.err", dir);
    fw_burn_cpu(0.15, parent_burn);
    pid_t pid = fork();
    if (pid < 0)
        return 2;
    if (pid == 0) {
        setsid();
        pid_t g = fork();
        if (g != 0)
            _exit(g < 0 ? 1 : 0);
        /* The grandchild: a daemon. It closes everything it inherited (the profiler's files
         * included) and opens its own, which then get the lowest free numbers. */
        for (int fd = 0; fd < 1024; fd++)
            close(fd);
        int in = open("/dev/null", O_RDONLY);            /* 0 */
        int out = open("/dev/null", O_WRONLY);           /* 1 */
        int er = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* 2 */
        int lg = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644); /* 3 */
        if (in != 0 || out != 1 || er != 2 || lg < 0)
            _exit(3);
        dprintf(lg, "daemon: started\n");
        for (int i = 0; i < 5; i++) {
            fw_burn_cpu(0.06, daemon_burn);
            dprintf(lg, "daemon: tick %d\n", i);
        }
        dprintf(lg, "daemon: done\n");
        exit(0);
    }
    int rc = wait_child(pid);
    fw_burn_cpu(0.15, parent_burn);
    FW_SAY("daemonized, first child status %d\n", rc);
    return rc;
}

/* The second thread of _exit-two: its _exit comes while the first one's write runs (the
 * write begins ~0.3 ms after the first _exit and lasts a few ms). */
static void *exit_later(void *arg)
{
    (void)arg;
    struct timespec half_ms = { 0, 500000 };
    nanosleep(&half_ms, NULL);
    _exit(5);
}

int main(int argc, char **argv)
{
    const char *mode = fw_mode(argc, argv, "MODE [ARG] (see the source)");
    const char *arg = argc > 2 ? argv[2] : NULL;
    if (strcmp(mode, "wait-signal") == 0 || strcmp(mode, "reset-default") == 0) {
        if (strcmp(mode, "reset-default") == 0)
            for (size_t i = 0; i < sizeof endings / sizeof *endings; i++)
                signal(endings[i], SIG_DFL);
        report_dispositions();
        return burn_until_killed(2);
    }
    if (strcmp(mode, "pid1") == 0)
        return as_pid1();
    if (strcmp(mode, "burn-forever") == 0)
        return burn_until_killed(arg ? atoi(arg) : 2);
    if (strcmp(mode, "handler-exit") == 0)
        return own_term_handler(on_term_flag, 3);
    if (strcmp(mode, "handler-_exit") == 0)
        return own_term_handler(on_term_exit, 3);
    if (strcmp(mode, "resethand") == 0 || strcmp(mode, "reraise") == 0 ||
        strcmp(mode, "sysv") == 0)
        return own_ending_handlers(mode);
    if ((strcmp(mode, "segv") == 0 || strcmp(mode, "abort") == 0) && arg) {
        fw_burn_cpu(atof(arg), end_burn);
        FW_SAY("crashing\n");
        if (mode[0] == 'a')
            abort();
        *null_ptr = 1;
        return 1;
    }
    if (strcmp(mode, "_exit-two") == 0) {
        fw_burn_cpu(0.3, exit_burn);
        FW_SAY("calling _exit(5) from two threads\n");
        pthread_t t;
        if (pthread_create(&t, NULL, exit_later, NULL) != 0)
            return 2;
        _exit(5);
    }
    if (strcmp(mode, "_exit") == 0 || strcmp(mode, "_Exit") == 0) {
        fw_burn_cpu(0.3, exit_burn);
        FW_SAY("calling %s(5)\n", mode);
        if (mode[1] == 'e')
            _exit(5);
        _Exit(5);
    }
    if (strcmp(mode, "segv-handler") == 0) {
        signal(SIGSEGV, on_segv);
        fw_burn_cpu(0.3, end_burn);
        FW_SAY("crashing\n");
        *null_ptr = 1;
        return 1;
    }
    if (strcmp(mode, "exec") == 0 && arg)
        return do_exec(arg);
    if (strcmp(mode, "after-exec") == 0) {
        fw_burn_cpu(0.2, post_exec_burn);
        FW_SAY("after exec\n");
        return 0;
    }
    if (strcmp(mode, "exec-fail") == 0)
        return do_exec_fail();
    if (strcmp(mode, "fork") == 0)
        return do_fork();
    if (strcmp(mode, "spawn") == 0 || strcmp(mode, "vfork") == 0
        || strcmp(mode, "vfork-signal") == 0)
        return do_spawn(mode);
    if (strcmp(mode, "spawned") == 0) {
        fw_burn_cpu(0.2, spawned_burn);
        FW_SAY("spawned child done\n");
        return 0;
    }
    if (strcmp(mode, "daemon") == 0 && arg)
        return do_daemon(arg);
    if (strcmp(mode, "plain") == 0) {
        fw_burn_cpu(arg ? atof(arg) : 0.2, plain_burn);
        FW_SAY("plain: done\n");
        return 7;
    }
    fprintf(stderr, "fw_end: unknown mode %s\n", mode);
    return 2;
}
