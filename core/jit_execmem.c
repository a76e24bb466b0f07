/* jit_execmem.c - executable-memory snapshots (see jit_execmem.h). */
#include "jit_execmem.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "procmaps.h"

typedef struct exec_map {
    uint64_t lo, hi, offset;
    char *path; /* NULL for anonymous memory */
} exec_map;

static exec_map *g_maps; /* every executable mapping seen in any snapshot */
static size_t g_maps_len, g_maps_cap;

static void maps_add(uint64_t lo, uint64_t hi, uint64_t offset, const char *path)
{
    for (size_t i = 0; i < g_maps_len; i++) {
        exec_map *m = &g_maps[i];
        if (m->lo == lo && m->hi == hi && m->offset == offset &&
            ((!m->path && !path) || (m->path && path && strcmp(m->path, path) == 0)))
            return;
    }
    if (!UTIL_RESERVE(g_maps, g_maps_cap, g_maps_len + 1))
        return;
    g_maps[g_maps_len++] = (exec_map){ lo, hi, offset, path ? strdup(path) : NULL };
}

static bool add_if_exec(void *ctx, const util_mapping *m)
{
    (void)ctx;
    if (m->perms[2] == 'x') /* [anon:...], [vdso]: not a file */
        maps_add(m->lo, m->hi, m->offset, m->path[0] == '/' ? m->path : NULL);
    return true;
}

void jit_execmem_refresh(void)
{
    util_procmaps_each(add_if_exec, NULL);
}

bool jit_execmem_contains(uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < g_maps_len; i++)
        if (g_maps[i].lo <= start && end <= g_maps[i].hi)
            return true;
    return false;
}

bool jit_execmem_empty(void)
{
    return g_maps_len == 0;
}

bool jit_execmem_twins(uint64_t pc, bool (*try_twin)(void *ctx, uint64_t twin), void *ctx)
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
            if (try_twin(ctx, o->lo + (off - o->offset)))
                return true;
        }
    }
    return false;
}
