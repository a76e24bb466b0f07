/* fw_fork - forks in every hazardous way at once (issue: a daemon under the library ended
 * without a profile in loaded CI runs). While helper threads keep the loader lock (dlopen,
 * dlclose of a library already loaded), malloc and stdio busy, and the profiler's threads
 * sample, drain and walk the module list, the program forks:
 *   threads   from 4 non-main threads at once; each child mallocs, dlopens, walks the
 *             modules, writes through stdio, burns a little and exits
 *   tight     40 times back to back from main; children exit() or _exit() at once
 *   nested    a child that forks at once, whose child forks at once (3 levels)
 *   exec      children that exec this program (mode nop) at once
 *   fds       children that close every descriptor, then open /dev/null and count on
 *             getting 0 (the lowest free number, as daemons and shells do), and close and
 *             open it again and again for 0.15 s of CPU (past the profiler's threads'
 *             first ticks)
 * Every child must end by itself with status 0; the parent says what went wrong and exits
 * 1 if anything did. A hang is the harness's to catch (faults_endings.py test_fork_storm:
 * it prints every stuck process's stacks).
 *
 * usage: fw_fork storm LIBRARY    (LIBRARY: a shared object to dlopen, e.g. libfw_fixture.so)
 *        fw_fork nop              (returns 0: what exec'd children run) */
#include "fw_common.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

BURNER(storm_burn, 1)
BURNER(fork_child_burn, 2)

static const char *g_lib;
static atomic_bool g_stop;
static atomic_int g_bad;
static FILE *g_null; /* stdio with a lock of its own, shared by the threads */

static void bad(const char *scenario, pid_t pid, int status)
{
    atomic_fetch_add(&g_bad, 1);
    FW_SAY("%s: child %ld ended with status 0x%x\n", scenario, (long)pid, status);
}

static void reap(const char *scenario, pid_t pid)
{
    int st;
    if (pid < 0) {
        bad(scenario, pid, -1);
        return;
    }
    while (waitpid(pid, &st, 0) < 0)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        bad(scenario, pid, st);
}

/* ---- the churners: the locks a fork can catch held ----
 * Only locks glibc makes safe across fork: the library stays loaded, so dlopen and dlclose
 * only count references under the loader's lock (reset in a fork child). Loading and
 * unloading for real would take locks glibc leaves held in the child (dl_iterate_phdr's,
 * and atexit's in dlclose's __cxa_finalize): such a program deadlocks its own fork
 * children, profiler or not. */

static void *dl_churn(void *arg)
{
    (void)arg;
    void *keep = dlopen(g_lib, RTLD_NOW | RTLD_LOCAL);
    while (keep && !atomic_load(&g_stop)) {
        void *h = dlopen(g_lib, RTLD_NOW | RTLD_LOCAL);
        if (h)
            dlclose(h);
    }
    if (keep)
        dlclose(keep);
    return NULL;
}

static void *malloc_churn(void *arg)
{
    (void)arg;
    void *keep[64] = { 0 };
    for (unsigned i = 0; !atomic_load(&g_stop); i++) {
        free(keep[i % 64]);
        keep[i % 64] = malloc(16 + (i * 7919) % 65536);
        fprintf(g_null, "%u\n", i);
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return NULL;
}

/* ---- what children do ---- */

static int count_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info, (void)size;
    ++*(int *)arg;
    return 0;
}

/* Everything a fork child may find locked: malloc, the loader, stdio. */
static void child_work(void)
{
    void *p = malloc(1000);
    free(p);
    void *h = dlopen(g_lib, RTLD_NOW | RTLD_LOCAL);
    if (h)
        dlclose(h);
    int n = 0;
    dl_iterate_phdr(count_module, &n);
    FILE *f = fopen("/dev/null", "w"); /* not g_null: its lock may be the parent's */
    if (f) {
        fprintf(f, "%d modules\n", n);
        fclose(f);
    }
    fork_child_burn(FW_CHUNK);
}

static void *thread_forks(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            child_work();
            exit(0);
        }
        reap("threads", pid);
    }
    return NULL;
}

static void tight(void)
{
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (i % 2)
                _exit(0);
            exit(0);
        }
        reap("tight", pid);
    }
}

static void nested(int level)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (level < 3)
            nested(level + 1);
        child_work();
        exit(0);
    }
    reap("nested", pid);
}

static void exec_after_fork(void)
{
    for (int i = 0; i < 5; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execl("/proc/self/exe", "fw_fork", "nop", (char *)NULL);
            _exit(127);
        }
        reap("exec", pid);
    }
}

/* A daemon's start: every descriptor closed, then /dev/null, expected as 0; then for
 * seconds of CPU, 0 closed and opened again (as a shell redirects), each time expected
 * back as 0. A descriptor the profiler's threads open meanwhile would take it. */
static void fds_child(double seconds)
{
    for (int fd = 0; fd < 1024; fd++)
        close(fd);
    bool ok = open("/dev/null", O_RDONLY) == 0;
    double end = burn_thread_cpu() + seconds;
    while (ok && burn_thread_cpu() < end) {
        close(0);
        ok = open("/dev/null", O_RDONLY) == 0;
    }
    ok = ok && open("/dev/null", O_WRONLY) == 1;
    _exit(ok ? 0 : 3);
}

static void fds(void)
{
    const double waits[] = { 0, 0.15 };
    for (size_t i = 0; i < sizeof waits / sizeof *waits; i++) {
        pid_t pid = fork();
        if (pid == 0)
            fds_child(waits[i]);
        reap("fds", pid);
    }
}

static int storm(void)
{
    g_null = fopen("/dev/null", "w");
    if (!g_null)
        return 2;
    pthread_t churn[2], forkers[4];
    if (pthread_create(&churn[0], NULL, dl_churn, NULL) != 0 ||
        pthread_create(&churn[1], NULL, malloc_churn, NULL) != 0)
        return 2;
    fw_burn_cpu(0.05, storm_burn);
    for (int i = 0; i < 4; i++)
        if (pthread_create(&forkers[i], NULL, thread_forks, NULL) != 0)
            return 2;
    tight();
    nested(1);
    exec_after_fork();
    fds();
    for (int i = 0; i < 4; i++)
        pthread_join(forkers[i], NULL);
    atomic_store(&g_stop, true);
    pthread_join(churn[0], NULL);
    pthread_join(churn[1], NULL);
    fw_burn_cpu(0.05, storm_burn);
    FW_SAY("storm: done, %d bad\n", atomic_load(&g_bad));
    return atomic_load(&g_bad) ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *mode = fw_mode(argc, argv, "storm LIBRARY | nop");
    if (strcmp(mode, "nop") == 0)
        return 0;
    if (strcmp(mode, "storm") == 0 && argc > 2) {
        g_lib = argv[2];
        return storm();
    }
    fprintf(stderr, "fw_fork: unknown mode %s\n", mode);
    return 2;
}
