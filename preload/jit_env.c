/* jit_env.c - JIT runtimes' flags in, their leftovers out (see jit_env.h). */
#include "jit_env.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "jit_perfmap.h"

/* FLAMEPROF_NODE / FLAMEPROF_PYTHON: on unless set to a false value. */
static bool env_enabled(const char *var)
{
    bool on;
    char why[96];
    const char *v = getenv(var);
    if (!v || !*v)
        return true;
    if (!config_parse_bool(v, &on, why, sizeof why)) {
        fprintf(stderr, "flameprof: %s='%.32s' %s; using 1\n", var, v, why);
        return true;
    }
    return on;
}

/* Set in the environment when the perf map is there because we asked for it, so that
 * this process and its children (which inherit NODE_OPTIONS) clean up after themselves. */
#define OWNED_ENV "FLAMEPROF_PERFMAP_OWNED"

static char g_cwd[4096]; /* where V8 writes its isolate logs */

/* Returns true if the flag was added (it was not there already). */
static bool append_flag(const char *var, const char *flag)
{
    const char *old = getenv(var);
    if (old && strstr(old, flag))
        return false;
    size_t n = (old ? strlen(old) + 1 : 0) + strlen(flag) + 1;
    char *v = malloc(n);
    if (!v)
        return false;
    snprintf(v, n, "%s%s%s", old ? old : "", old && *old ? " " : "", flag);
    setenv(var, v, 1);
    free(v);
    return true;
}

/* CPython's -X perf trampolines name Python frames where the frame reader cannot (a
 * version past its tables: 3.14+), or where FLAMEPROF_PYTHON=perf asks for them; on 3.12
 * and 3.13 the reader is the default (README: it cost less and names more, measured). */
static bool python_wants_perf_support(const char *base)
{
    int minor;
    const char *v = getenv("FLAMEPROF_PYTHON");
    if (sscanf(base, "python3.%d", &minor) != 1)
        return false;
    bool perf = v && strcmp(v, "perf") == 0;
    /* Read here in every CPython, so that a bad value gets its one line (the reader in
     * python.c takes it as "on" silently). */
    bool on = perf || env_enabled("FLAMEPROF_PYTHON");
    return minor >= 12 && (perf || (minor >= 14 && on));
}

void jit_setup_env(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
    if ((strcmp(base, "node") == 0 || strcmp(base, "nodejs") == 0) &&
        env_enabled("FLAMEPROF_NODE")) {
        if (append_flag("NODE_OPTIONS", "--perf-basic-prof"))
            setenv(OWNED_ENV, "1", 1);
        append_flag("NODE_OPTIONS", "--interpreted-frames-native-stack");
    }
    if (python_wants_perf_support(base) && !getenv("PYTHONPERFSUPPORT")) {
        setenv("PYTHONPERFSUPPORT", "1", 1);
        setenv(OWNED_ENV, "1", 1);
    }
    if (!getcwd(g_cwd, sizeof g_cwd))
        g_cwd[0] = 0;
}

/* --perf-basic-prof turns on V8's logger, which leaves isolate-0x...-PID-v8.log in the
 * working directory; NODE_OPTIONS accepts no flag to send it elsewhere. */
static void remove_v8_logs(void)
{
    DIR *d = g_cwd[0] ? opendir(g_cwd) : NULL;
    if (!d)
        return;
    char tail[48];
    snprintf(tail, sizeof tail, "-%ld-v8.log", (long)getpid());
    size_t tl = strlen(tail);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "isolate-0x", 10) == 0 && n > tl &&
            strcmp(e->d_name + n - tl, tail) == 0)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

void jit_cleanup(void)
{
    const char *owned = getenv(OWNED_ENV);
    int fd = jit_perfmap_fd();
    if (!owned || strcmp(owned, "1") != 0 || fd < 0)
        return;
    /* Only the very file we read: not one that replaced it since. */
    char path[64];
    struct stat ours, now;
    jit_perfmap_path((long)getpid(), path, sizeof path);
    if (fstat(fd, &ours) == 0 && lstat(path, &now) == 0 && ours.st_ino == now.st_ino &&
        ours.st_dev == now.st_dev)
        unlink(path);
    remove_v8_logs();
}
