/* jit.c - perf map following, executable-memory snapshots, CPython trampolines, runtime
 * flags. All of it runs on the aggregator thread or at exit, except the two handler
 * accessors, which only load an atomic and call fstat. */
#include "jit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "modules.h"

enum { READ_CHUNK = 4 << 20, PAGE = 4096 };

typedef struct exec_map {
    uint64_t lo, hi, offset;
    char *path; /* NULL for anonymous memory */
} exec_map;

static atomic_int g_fd = -1;
static dev_t g_dev; /* the perf map we opened: to recognise our descriptor */
static ino_t g_ino;
static jitmap *g_pm;
static uint64_t g_consumed;
static jitmap_stats g_st;
static const char *g_problem;
static bool g_seen;
static bool g_foreign; /* reading a dead process's map (flameprof report) */
static char *g_buf;

static exec_map *g_maps; /* every executable mapping seen in any snapshot */
static size_t g_maps_len, g_maps_cap;
static bool g_refreshed_this_poll;

static uint64_t *g_tramp_pages; /* sorted page numbers of CPython trampolines */
static size_t g_tramp_len, g_tramp_cap;
static bool g_tramp_dirty;
static _Atomic(const unwind_ranges *) g_tramp;
static _Atomic(jitmap *) g_jvm;

/* ---- environment ---- */

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

static bool python_with_perf_support(const char *base)
{
    int minor;
    return sscanf(base, "python3.%d", &minor) == 1 && minor >= 12;
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
    if (python_with_perf_support(base) && env_enabled("FLAMEPROF_PYTHON") &&
        !getenv("PYTHONPERFSUPPORT")) {
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
    int fd = atomic_load(&g_fd);
    if (!owned || strcmp(owned, "1") != 0 || fd < 0 || g_foreign)
        return;
    /* Only the very file we read: not one that replaced it since. */
    char path[64];
    struct stat ours, now;
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
    if (fstat(fd, &ours) == 0 && lstat(path, &now) == 0 && ours.st_ino == now.st_ino &&
        ours.st_dev == now.st_dev)
        unlink(path);
    remove_v8_logs();
}

/* ---- executable memory ---- */

/* Make room for one more element in a growable array. */
static bool room_for_one(void **v, size_t len, size_t *cap, size_t elem)
{
    if (len < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, n * elem);
    if (!p)
        return false;
    *v = p;
    *cap = n;
    return true;
}

static void maps_add(uint64_t lo, uint64_t hi, uint64_t offset, const char *path)
{
    for (size_t i = 0; i < g_maps_len; i++) {
        exec_map *m = &g_maps[i];
        if (m->lo == lo && m->hi == hi && m->offset == offset &&
            ((!m->path && !path) || (m->path && path && strcmp(m->path, path) == 0)))
            return;
    }
    if (!room_for_one((void **)&g_maps, g_maps_len, &g_maps_cap, sizeof *g_maps))
        return;
    g_maps[g_maps_len++] = (exec_map){ lo, hi, offset, path ? strdup(path) : NULL };
}

static void refresh_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return;
    char line[4096 + 128];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off;
        char perms[8];
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &lo, &hi, perms, &off, &path_at) < 4 ||
            perms[2] != 'x')
            continue;
        char *path = path_at ? line + path_at : NULL;
        if (path) {
            path[strcspn(path, "\n")] = 0;
            if (*path != '/')
                path = NULL; /* [anon:...], [vdso]: not a file */
        }
        maps_add(lo, hi, off, path);
    }
    fclose(f);
}

static bool in_exec_memory(uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < g_maps_len; i++)
        if (g_maps[i].lo <= start && end <= g_maps[i].hi)
            return true;
    return false;
}

/* ---- CPython trampolines ---- */

static void tramp_add_pages(uint64_t start, uint64_t end)
{
    for (uint64_t p = start / PAGE; p <= (end - 1) / PAGE; p++) {
        size_t i = 0;
        while (i < g_tramp_len && g_tramp_pages[i] < p)
            i++;
        if (i < g_tramp_len && g_tramp_pages[i] == p)
            continue;
        if (!room_for_one((void **)&g_tramp_pages, g_tramp_len, &g_tramp_cap,
                          sizeof *g_tramp_pages))
            return;
        memmove(g_tramp_pages + i + 1, g_tramp_pages + i,
                (g_tramp_len - i) * sizeof *g_tramp_pages);
        g_tramp_pages[i] = p;
        g_tramp_len++;
        g_tramp_dirty = true;
    }
}

/* Publish the trampoline pages as merged ranges. The old array is left alive: a handler
 * may be reading it, and publications are rare (a new page of trampolines). */
static void tramp_publish(void)
{
    if (!g_tramp_dirty)
        return;
    unwind_ranges *r = malloc(sizeof *r + g_tramp_len * sizeof r->r[0]);
    if (!r)
        return;
    r->len = 0;
    for (size_t i = 0; i < g_tramp_len; i++) {
        uint64_t lo = g_tramp_pages[i] * PAGE;
        if (r->len && r->r[r->len - 1].hi == lo)
            r->r[r->len - 1].hi = lo + PAGE;
        else
            r->r[r->len++] = (struct unwind_range){ lo, lo + PAGE };
    }
    atomic_store_explicit(&g_tramp, r, memory_order_release);
    g_tramp_dirty = false;
}

const unwind_ranges *jit_trampolines(void)
{
    return atomic_load_explicit(&g_tramp, memory_order_acquire);
}

/* ---- the perf map ---- */

/* jitmap callback: code only in executable memory (a fresh snapshot once per poll if the
 * entry is in memory we have not seen yet); notes CPython trampolines on the way. */
static bool accept_entry(void *ctx, uint64_t start, uint64_t end, const char *name, size_t len)
{
    (void)ctx;
    if (g_foreign)
        return true; /* another (dead) process's map: its memory cannot be checked */
    if (!in_exec_memory(start, end)) {
        if (g_refreshed_this_poll)
            return false;
        refresh_maps();
        g_refreshed_this_poll = true;
        if (!in_exec_memory(start, end))
            return false;
    }
    if (len > 4 && memcmp(name, "py::", 4) == 0)
        tramp_add_pages(start, end);
    return true;
}

/* The perf map is trusted only if it is a regular file of ours (or root's), opened
 * without following a symlink, as perf itself insists. */
static void try_open(long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%ld.map", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP && !g_problem) {
            g_problem = "it is a symlink";
            fprintf(stderr, "flameprof: ignoring %s: %s\n", path, g_problem);
        }
        return;
    }
    struct stat st;
    const char *problem = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        problem = "not a regular file";
    else if (st.st_uid != getuid() && st.st_uid != 0)
        problem = "owned by another user";
    if (problem) {
        close(fd);
        if (!g_problem)
            fprintf(stderr, "flameprof: ignoring %s: %s\n", path, problem);
        g_problem = problem;
        return;
    }
    if (!g_pm && !(g_pm = jitmap_new())) {
        close(fd);
        return;
    }
    g_seen = true;
    g_consumed = 0;
    g_dev = st.st_dev;
    g_ino = st.st_ino;
    atomic_store(&g_fd, fd);
}

static void read_new_lines(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return;
    if (st.st_dev != g_dev || st.st_ino != g_ino) {
        /* The program closed our descriptor (a daemon closing everything) and the number
         * may now be its own file: never read it, never close it. */
        atomic_store(&g_fd, -1);
        return;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < g_consumed)
        g_consumed = 0; /* truncated: V8 truncates the map when an isolate starts */
    if (!g_buf && size > g_consumed && !(g_buf = malloc(READ_CHUNK)))
        return;
    while (g_consumed < size) {
        size_t want = size - g_consumed < READ_CHUNK ? (size_t)(size - g_consumed) : READ_CHUNK;
        ssize_t n = pread(fd, g_buf, want, (off_t)g_consumed);
        if (n <= 0)
            return;
        size_t used = jitmap_parse_perfmap(g_pm, g_buf, (size_t)n, g_consumed, accept_entry,
                                           NULL, &g_st);
        if (used == 0) {
            if ((size_t)n < READ_CHUNK)
                return; /* a line still being written */
            g_st.malformed++; /* a line longer than a chunk: skip it */
            used = (size_t)n;
        }
        g_consumed += used;
    }
}

void jit_poll(void)
{
    int fd = atomic_load(&g_fd);
    if (fd < 0) {
        try_open((long)getpid());
        fd = atomic_load(&g_fd);
        if (fd < 0)
            return;
    }
    g_refreshed_this_poll = false;
    read_new_lines(fd);
    tramp_publish();
}

void jit_load_perfmap_of(long pid)
{
    g_foreign = true;
    try_open(pid);
    int fd = atomic_load(&g_fd);
    if (fd >= 0)
        read_new_lines(fd);
}

uint64_t jit_perfmap_stamp(void)
{
    int fd = atomic_load_explicit(&g_fd, memory_order_relaxed);
    struct stat st; /* fstat is async-signal-safe; the caller preserves errno */
    if (fd < 0 || fstat(fd, &st) != 0)
        return 0;
    return (uint64_t)st.st_size;
}

uint32_t jit_perfmap_gen(uint64_t stamp)
{
    return g_pm ? jitmap_gen_at(g_pm, stamp) : 0;
}

/* ---- names at exit ---- */

/* Code a runtime mapped from a file at an address the loader did not (V8 remaps its
 * embedded builtins): find where the loader mapped the same file offset, and name the
 * equivalent address there. */
static bool name_remapped(symbolizer *sym, uint64_t pc, char *buf, size_t cap)
{
    for (size_t i = 0; i < g_maps_len; i++) {
        const exec_map *r = &g_maps[i];
        if (!r->path || pc < r->lo || pc >= r->hi)
            continue;
        uint64_t off = r->offset + (pc - r->lo);
        for (size_t j = 0; j < g_maps_len; j++) {
            const exec_map *o = &g_maps[j];
            if (j == i || !o->path || strcmp(o->path, r->path) != 0 || off < o->offset ||
                off >= o->offset + (o->hi - o->lo))
                continue;
            uint64_t twin = o->lo + (off - o->offset);
            const unwind_module *mod = module_map_find(modules_current(), twin);
            symbolize_frame fr;
            if (!mod || symbolize_pc(sym, mod->id, twin, false, &fr, 1) != 1)
                continue;
            snprintf(buf, cap, "%s", fr.name);
            return true;
        }
    }
    return false;
}

void jit_set_jvm(jitmap *m)
{
    atomic_store_explicit(&g_jvm, m, memory_order_release);
}

uint32_t jit_jvm_gen(void)
{
    jitmap *m = atomic_load_explicit(&g_jvm, memory_order_acquire);
    return m ? jitmap_current_gen(m) : 0;
}

bool jit_name(symbolizer *sym, uint64_t pc, uint32_t pm_gen, uint32_t jvm_gen, char *buf,
              size_t cap, bool *is_jit)
{
    *is_jit = true;
    /* Copies under the lock: a JVM still running (exit() from native code) may add code
     * while we name. */
    jitmap *jvm = atomic_load(&g_jvm);
    if (jvm && jitmap_lookup_copy(jvm, pc, jvm_gen, buf, cap))
        return true;
    if (g_pm && jitmap_lookup_copy(g_pm, pc, pm_gen, buf, cap))
        return true;
    if (g_foreign)
        return false; /* our own mappings say nothing about a dead process's */
    if (!g_maps_len)
        refresh_maps();
    *is_jit = false; /* code from a file, however it was mapped */
    return name_remapped(sym, pc, buf, cap);
}

void jit_get_stats(jit_stats *o)
{
    o->entries = g_st.entries;
    o->malformed = g_st.malformed;
    o->outside = g_st.outside;
    o->perfmap_seen = g_seen;
    o->perfmap_problem = g_problem;
}

void jit_after_fork_child(void)
{
    int fd = atomic_exchange(&g_fd, -1);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino)
        close(fd);
    /* The parent's map and tables stay allocated (copy-on-write, possibly mid-update in the
     * parent's aggregator): start afresh rather than walk them. */
    g_pm = NULL;
    g_consumed = 0;
    g_seen = false;
    g_problem = NULL;
    memset(&g_st, 0, sizeof g_st);
}
