/* threads.c - thread names by tid (threads.h): an open-addressing table, grown by
 * doubling; tids are never removed (a thread's name outlives it, for the report). */
#include "threads.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame_name.h"

typedef struct thread_entry {
    uint32_t tid;  /* 0: empty slot */
    bool seen;     /* sampled since the last refresh */
    bool changed;  /* name not yet in the raw spill */
    bool runtime;  /* named by the language runtime (threads_set_runtime): comm not read */
    char name[THREADS_NAME_MAX];
} thread_entry;

static thread_entry *g_tab;
static size_t g_cap, g_len;

static size_t slot_of(uint32_t tid, size_t cap)
{
    return (tid * 0x9e3779b1u) & (cap - 1);
}

static bool grow(void)
{
    size_t cap = g_cap ? g_cap * 2 : 64;
    thread_entry *t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < g_cap; i++) {
        if (!g_tab[i].tid)
            continue;
        size_t j = slot_of(g_tab[i].tid, cap);
        while (t[j].tid)
            j = (j + 1) & (cap - 1);
        t[j] = g_tab[i];
    }
    free(g_tab);
    g_tab = t;
    g_cap = cap;
    return true;
}

/* The entry of tid, created if add; NULL if absent (or memory is short). */
static thread_entry *lookup(uint32_t tid, bool add)
{
    if (!tid)
        return NULL;
    if (add && (g_len + 1) * 2 > g_cap && !grow())
        return NULL;
    if (!g_cap)
        return NULL;
    size_t j = slot_of(tid, g_cap);
    for (; g_tab[j].tid; j = (j + 1) & (g_cap - 1))
        if (g_tab[j].tid == tid)
            return &g_tab[j];
    if (!add)
        return NULL;
    g_tab[j] = (thread_entry){ .tid = tid };
    g_len++;
    return &g_tab[j];
}

static void set_name(thread_entry *e, const char *name, size_t n)
{
    char clean[THREADS_NAME_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof clean - 1; i++)
        clean[k++] = util_frame_char(name[i]);
    clean[k] = 0;
    if (strcmp(clean, e->name) != 0) {
        memcpy(e->name, clean, k + 1);
        e->changed = true;
    }
}

static void read_name(thread_entry *e)
{
    if (e->runtime)
        return;
    char path[64], buf[THREADS_NAME_MAX];
    snprintf(path, sizeof path, "/proc/self/task/%u/comm", e->tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* gone: keep the last name read */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == 0))
        n--;
    if (n > 0)
        set_name(e, buf, (size_t)n);
}

void threads_seen(uint32_t tid)
{
    thread_entry *e = lookup(tid, false);
    if (e) {
        e->seen = true;
        return;
    }
    if ((e = lookup(tid, true)))
        read_name(e);
}

void threads_refresh(void)
{
    for (size_t i = 0; i < g_cap; i++) {
        if (g_tab[i].tid && g_tab[i].seen) {
            g_tab[i].seen = false;
            read_name(&g_tab[i]);
        }
    }
}

size_t threads_count(void)
{
    return g_len;
}

const char *threads_name(uint32_t tid)
{
    thread_entry *e = lookup(tid, false);
    return e && e->name[0] ? e->name : NULL;
}

int threads_set(uint32_t tid, const char *name)
{
    thread_entry *e = lookup(tid, true);
    if (!e)
        return -1;
    set_name(e, name, strlen(name));
    return 0;
}

void threads_set_runtime(uint32_t tid, const char *name)
{
    thread_entry *e = lookup(tid, true);
    if (!e)
        return;
    e->runtime = true;
    set_name(e, name, strlen(name));
}

void threads_foreach_changed(bool all, void (*fn)(uint32_t tid, const char *name, void *ctx),
                             void *ctx)
{
    for (size_t i = 0; i < g_cap; i++) {
        thread_entry *e = &g_tab[i];
        if (e->tid && e->name[0] && (all || e->changed)) {
            e->changed = false;
            fn(e->tid, e->name, ctx);
        }
    }
}

/* The table may have been mid-grow in the parent's aggregator: abandon the copy (as the
 * stack table is), never free it. */
void threads_reset(void)
{
    g_tab = NULL;
    g_cap = g_len = 0;
}

void threads_free(void)
{
    free(g_tab);
    threads_reset();
}
