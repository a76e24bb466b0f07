/* test_clone.c - children the atfork handlers never see: a raw clone/fork system call, a raw
 * vfork, clone(CLONE_VM), and a zygote that raw-forks hundreds of children.
 *
 * Run as `test_clone LIBFLAMEPROF`: the driver runs each workload (this program again, with
 * a mode) in a fresh directory under LD_PRELOAD, with a deadline, and checks that it ends
 * with the status it ends with without the library, that no child is left behind, and that
 * no file is left but the workload's own profile (no raw spill, nothing written by a child
 * in the parent's name). Then the raw-clone-and-exec loop, 1,000 times, with and without
 * the library: the ratio is printed as a benchmark figure, not asserted (2 shared vCPUs). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { DEADLINE_S = 60, CHILD_DEADLINE_MS = 10000 };

static const char *self_path;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile double sink;

static void burn_ms(int ms)
{
    double end = now_s() + ms / 1000.0, s = 0;
    while (now_s() < end)
        for (int i = 0; i < 10000; i++)
            s += (double)i * 0.5;
    sink = s;
}

static pid_t raw_fork(void)
{
    return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

/* A hung process's threads' stacks on stderr, where gdb is installed: what a CI log needs
 * to tell which lock a raw-cloned copy waits on. */
static void show_stacks(pid_t pid)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "command -v gdb >/dev/null && env -u LD_PRELOAD gdb -batch -p %d "
             "-ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)' | head -60 >&2",
             (int)pid);
    if (system(cmd) == -1)
        return;
}

/* Wait for pid with a deadline; a child still there after it is a hang: its stacks shown,
 * it is killed, and the caller fails. */
static int wait_deadline(pid_t pid, int ms)
{
    int status;
    for (int i = 0; i < ms; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        struct timespec t = { 0, 1000000 };
        nanosleep(&t, NULL);
    }
    fprintf(stderr, "child %d still running after %d ms: killed\n", (int)pid, ms);
    show_stacks(pid);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -2;
}

static void *thread_fn(void *arg)
{
    burn_ms(*(int *)arg);
    return NULL;
}

/* ---- workloads (the child side) ---- */

/* raw fork, exec at once, n times; bare: the exec'd program without LD_PRELOAD (what the
 * library costs the forking process alone, not the new image's own start-up) */
static int wl_exec(int n, bool bare)
{
    char *bare_env[] = { NULL };
    for (int i = 0; i < n; i++) {
        pid_t pid = raw_fork();
        if (pid == 0) {
            char *argv[] = { (char *)"true", NULL };
            execve("/bin/true", argv, bare ? bare_env : environ);
            _exit(127);
        }
        int st = wait_deadline(pid, CHILD_DEADLINE_MS);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
    }
    return 0;
}

static int wl_work(bool use_exit) /* raw fork, work, then _exit or exit */
{
    burn_ms(100);
    pid_t pid = raw_fork();
    if (pid == 0) {
        burn_ms(150);
        if (use_exit)
            exit(7); /* destructors run in the child */
        _exit(7);
    }
    int st = wait_deadline(pid, CHILD_DEADLINE_MS);
    return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 1;
}

static int wl_signal(void) /* a raw child killed by SIGTERM dies at once, of SIGTERM */
{
    pid_t pid = raw_fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    struct timespec t = { 0, 50000000 };
    nanosleep(&t, NULL);
    double t0 = now_s();
    kill(pid, SIGTERM);
    int st = wait_deadline(pid, CHILD_DEADLINE_MS);
    double took = now_s() - t0;
    if (took > 1.0)
        fprintf(stderr, "SIGTERM took %.2f s to end the raw child\n", took);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && took < 1.0 ? 0 : 1;
}

static int vm_child_exec(void *arg)
{
    (void)arg;
    char *argv[] = { (char *)"true", NULL };
    execv("/bin/true", argv);
    _exit(127);
}

static int vm_child_exit(void *arg)
{
    (void)arg;
    burn_ms(20);
    _exit(5);
}

/* clone(CLONE_VM | CLONE_VFORK) that execs (posix_spawn's way) and clone(CLONE_VM) that
 * _exits: they share our memory, and must run none of our exit work. */
static int wl_vm(void)
{
    burn_ms(100);
    size_t size = 256 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return 1;
    pid_t a = clone(vm_child_exec, stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    int sa = wait_deadline(a, CHILD_DEADLINE_MS);
    pid_t b = clone(vm_child_exit, stack + size, CLONE_VM | SIGCHLD, NULL);
    int sb = wait_deadline(b, CHILD_DEADLINE_MS);
    burn_ms(100); /* the parent still samples after its children went */
    return WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 5 ? 0 : 1;
}

/* A zygote: raw-forks n children that each start a thread (where a copy adopts the
 * profiler), work a little and _exit; all at once, then reaped. */
static int wl_zygote(int n)
{
    pid_t *kids = calloc((size_t)n, sizeof *kids);
    int bad = 0;
    for (int i = 0; i < n && kids; i++) {
        kids[i] = raw_fork();
        if (kids[i] == 0) {
            pthread_t t;
            int ms = 2;
            if (pthread_create(&t, NULL, thread_fn, &ms) != 0 || pthread_join(t, NULL) != 0)
                _exit(3);
            _exit(0);
        }
        if (kids[i] < 0)
            bad++;
    }
    for (int i = 0; i < n && kids; i++) {
        int st = kids[i] > 0 ? wait_deadline(kids[i], CHILD_DEADLINE_MS) : -1;
        bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    free(kids);
    return bad == 0 && kids ? 0 : 1;
}

/* At main, the library's thread has done its first look: its malloc arena is made (and
 * the runtimes looked for under the loader's lock), so a zygote that raw-forks at once
 * cannot copy malloc's list_lock or the loader's lock held by it (the zygote workload hung
 * one run in several hundred so: a child's first thread waiting forever for list_lock). Counted
 * by malloc_info's heaps: the main arena and one a thread of ours (two in wall mode). */
static int wl_firstlook(int want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f || malloc_info(0, f) != 0)
        return 4;
    fclose(f);
    int heaps = 0;
    for (const char *p = buf; (p = strstr(p, "<heap nr=")); p++)
        heaps++;
    free(buf);
    if (heaps < want)
        fprintf(stderr, "firstlook: %d malloc arena(s) at main, %d wanted\n", heaps, want);
    return heaps >= want ? 0 : 5;
}

/* A raw copy made while another thread of the parent is inside dl_iterate_phdr: the copy
 * inherits the loader's lock held for good. The program's copy never asks for it (it
 * works, starts a thread and exits); a profiler whose thread waits on that lock must not
 * keep it from exiting: it exits in 0.3 s without the library; with it, within the
 * second an ending waits for a writer that never ran (endings.h), by _exit or by exit. */
static int g_ghost[2];

static int hold_loader(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)info, (void)size, (void)data;
    char c;
    return read(g_ghost[0], &c, 1) >= 0 ? 1 : 1; /* until the parent has forked */
}

static void *loader_holder(void *arg)
{
    (void)arg;
    dl_iterate_phdr(hold_loader, NULL);
    return NULL;
}

static int wl_ghostlock(bool by_exit)
{
    pthread_t holder;
    if (pipe(g_ghost) != 0 || pthread_create(&holder, NULL, loader_holder, NULL) != 0)
        return 4;
    struct timespec settle = { 0, 50000000 }; /* the holder is inside its callback by then */
    nanosleep(&settle, NULL);
    pid_t kid = raw_fork();
    if (kid == 0) {
        pthread_t t;
        int ms = 300; /* enough samples that the profile is not dropped as too small */
        if (pthread_create(&t, NULL, thread_fn, &ms) != 0 || pthread_join(t, NULL) != 0)
            _exit(3);
        if (by_exit)
            exit(0); /* destructors and atexit handlers run: the library's too */
        _exit(0);
    }
    if (write(g_ghost[1], "x", 1) != 1 || pthread_join(holder, NULL) != 0)
        return 5;
    double t0 = now_s();
    int st = wait_deadline(kid, 8000);
    double took = now_s() - t0;
    if (took >= 4)
        fprintf(stderr, "ghostlock: the copy took %.2f s to exit\n", took);
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 && took < 4 ? 0 : 1;
}

/* unshare(CLONE_NEWUSER) wants a single-threaded caller: the library's thread must not make
 * it fail. The status says how it went (compared with a run without the library). */
static int wl_unshare(void)
{
    burn_ms(100);
    if (unshare(CLONE_NEWUSER) == 0)
        return 0;
    return errno == EINVAL ? 3 : 4;
}

/* A process that seals a seccomp sandbox killing on the calls the library would make later
 * (files, timers): the profile is written before the filter is in force, and the process
 * lives on and ends as it would have. */
static int wl_seal(void)
{
    burn_ms(200);
    static const int denied[] = { SYS_open, SYS_openat, SYS_timer_create, SYS_timer_delete,
                                  SYS_timer_settime, SYS_unlink, SYS_unlinkat, SYS_link,
                                  SYS_linkat, SYS_rename, SYS_renameat };
    enum { N = sizeof denied / sizeof *denied };
    struct sock_filter f[2 + 2 * N + 1];
    size_t k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < N; i++) {
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
        f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    }
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = { (unsigned short)k, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        return 9; /* no seccomp here: the driver skips the check */
    burn_ms(150);
    pthread_t t; /* a thread after the seal: no timer may be asked for it */
    int ms = 20;
    if (pthread_create(&t, NULL, thread_fn, &ms) != 0 || pthread_join(t, NULL) != 0)
        return 3;
    return 0;
}

/* ---- the driver ---- */

/* Run `self mode [arg]` in dir, LD_PRELOAD=lib when lib; its exit status (-2: hung). */
static int run_mode(const char *dir, const char *lib, const char *mode, const char *arg,
                    pid_t *pid_out)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        if (lib)
            setenv("LD_PRELOAD", lib, 1);
        else
            unsetenv("LD_PRELOAD");
        setenv("FLAMEPROF_OUT", "prof.%p", 1);
        setenv("FLAMEPROF_QUIET", "1", 1);
        execl(self_path, self_path, mode, arg, (char *)NULL);
        _exit(127);
    }
    *pid_out = pid;
    return wait_deadline(pid, DEADLINE_S * 1000);
}

/* Every file in dir must be the workload's own profile (prof.PID.*, no raw spill); with
 * want_own, its folded profile must be there. */
static int want_own;

static void check_files(const char *dir, pid_t pid, const char *mode)
{
    char folded[600];
    snprintf(folded, sizeof folded, "%s/prof.%d.folded", dir, (int)pid);
    struct stat st;
    CHECKF(!want_own || stat(folded, &st) == 0, "%s: the profile is written (%s)", mode,
           folded);
    DIR *d = opendir(dir);
    if (!d)
        return;
    char own[64];
    snprintf(own, sizeof own, "prof.%d.", (int)pid);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        bool is_own = strncmp(e->d_name, own, strlen(own)) == 0;
        bool raw = strstr(e->d_name, ".raw") != NULL;
        CHECKF(is_own && !raw, "%s: stray file %s (workload pid %d)", mode, e->d_name,
               (int)pid);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void run_checked(const char *lib, const char *mode, const char *arg, int want)
{
    char dir[] = "/tmp/fp_clone_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    pid_t pid;
    double t0 = now_s();
    int st = run_mode(dir, lib, mode, arg, &pid);
    CHECKF(st != -2, "%s: hung (killed after %d s)", mode, DEADLINE_S);
    CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == want,
           "%s: status 0x%x, want exit %d", mode, st, want);
    check_files(dir, pid, mode);
    rmdir(dir);
    printf("%-8s %s: %.2f s\n", mode, lib ? "with library" : "without", now_s() - t0);
}

static double timed_loop(const char *lib, const char *mode, int n)
{
    char dir[] = "/tmp/fp_clone_XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    pid_t pid;
    double t0 = now_s();
    int st = run_mode(dir, lib, mode, count, &pid);
    double took = now_s() - t0;
    CHECKF(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec loop: status 0x%x", st);
    if (lib)
        check_files(dir, pid, "exec loop");
    rmdir(dir);
    return took;
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc >= 2 && strcmp(argv[1], "exec") == 0)
        return wl_exec(argc > 2 ? atoi(argv[2]) : 1, false);
    if (argc >= 2 && strcmp(argv[1], "execbare") == 0)
        return wl_exec(argc > 2 ? atoi(argv[2]) : 1, true);
    if (argc >= 2 && strcmp(argv[1], "work") == 0)
        return wl_work(false);
    if (argc >= 2 && strcmp(argv[1], "exit") == 0)
        return wl_work(true);
    if (argc >= 2 && strcmp(argv[1], "signal") == 0)
        return wl_signal();
    if (argc >= 2 && strcmp(argv[1], "vm") == 0)
        return wl_vm();
    if (argc >= 2 && strcmp(argv[1], "seal") == 0)
        return wl_seal();
    if (argc >= 2 && strcmp(argv[1], "unshare") == 0)
        return wl_unshare();
    if (argc >= 2 && strcmp(argv[1], "ghostlock") == 0)
        return wl_ghostlock(argc > 2 && strcmp(argv[2], "exit") == 0);
    if (argc >= 2 && strcmp(argv[1], "firstlook") == 0)
        return wl_firstlook(argc > 2 ? atoi(argv[2]) : 2);
    if (argc >= 2 && strcmp(argv[1], "zygote") == 0)
        return wl_zygote(argc > 2 ? atoi(argv[2]) : 300);
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBFLAMEPROF\n", argv[0]);
        return 2;
    }
    static char lib[4096];
    if (!realpath(argv[1], lib)) { /* the workloads run in other directories */
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    run_checked(lib, "exec", "20", 0);
    run_checked(lib, "work", NULL, 0);
    run_checked(lib, "exit", NULL, 0);
    run_checked(lib, "signal", NULL, 0);
    run_checked(lib, "vm", NULL, 0);
    run_checked(lib, "firstlook", "2", 0);
    setenv("FLAMEPROF_MODE", "wall", 1); /* and the ticker thread's (ticker.h) */
    run_checked(lib, "firstlook", "3", 0);
    unsetenv("FLAMEPROF_MODE");
    run_checked(lib, "zygote", "300", 0);
    run_checked(lib, "ghostlock", "_exit", 0);
    run_checked(lib, "ghostlock", "exit", 0);
    /* As without the library, whatever this system allows (0, or 4 without user ns). */
    char dir[] = "/tmp/fp_clone_XXXXXX";
    pid_t pid;
    int st0 = mkdtemp(dir) ? run_mode(dir, NULL, "unshare", NULL, &pid) : -1;
    rmdir(dir);
    run_checked(lib, "unshare", NULL, WIFEXITED(st0) ? WEXITSTATUS(st0) : 0);
    char sdir[] = "/tmp/fp_clone_XXXXXX";
    int st1 = mkdtemp(sdir) ? run_mode(sdir, NULL, "seal", NULL, &pid) : -1;
    rmdir(sdir);
    if (WIFEXITED(st1) && WEXITSTATUS(st1) == 0) {
        want_own = 1;
        run_checked(lib, "seal", NULL, 0);
        want_own = 0;
    } else {
        printf("seal: no seccomp filter can be installed here (status 0x%x): not tested\n", st1);
    }
    /* Benchmark figures: interleaved pairs, the best of each side. What the library costs
     * the raw-cloning parent (1,000 children exec'ing a program without it), and what a
     * child pays that loads the library itself (100: its start-up dominates). */
    const char *modes[] = { "execbare", "exec" };
    const int counts[] = { 1000, 100 }, rounds[] = { 3, 1 };
    for (int m = 0; m < 2; m++) {
        double best_off = 1e9, best_on = 1e9;
        for (int r = 0; r < rounds[m]; r++) {
            double off = timed_loop(NULL, modes[m], counts[m]);
            double on = timed_loop(lib, modes[m], counts[m]);
            if (off > 0 && off < best_off)
                best_off = off;
            if (on > 0 && on < best_on)
                best_on = on;
        }
        printf("bench: %d raw clone+exec %s: %.3f s without, %.3f s with the library "
               "(x%.2f, %+.2f ms per child)\n", counts[m],
               m ? "(the library in /bin/true too)" : "(/bin/true without it)", best_off,
               best_on, best_on / best_off, (best_on - best_off) * 1000 / counts[m]);
    }
    return check_status("test_clone");
}
